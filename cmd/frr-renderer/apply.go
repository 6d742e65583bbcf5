package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/go-logr/logr/funcr"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/translate"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// frrRunDir is FRR's run directory without a pathspace.
const frrRunDir = "/var/run/frr"

// runApply renders a node's frr.conf and makes the FRR beside it run it, once: it prints the
// lines it sent (passwords masked) or "no change", then reads bgpd back to verify.
func runApply(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("apply", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var paths stringList
	node := fl.String("node", "", "node to render for and apply (required)")
	fl.Var(&paths, "f", "manifest file, folder (recursive) or - for stdin; repeatable (default: the embedded seed)")
	hostFacts := fl.String("host-facts", "", "YAML file with the host's interfaces and default routes (default: read this host through netlink)")
	secretsNS := fl.String("secrets-namespace", translate.DefaultSecretsNamespace, "namespace of the Secrets that authSecretRef names")
	frrVersion := fl.String("frr-version", "10", "FRR version to write for: 10 (the deploy image) or 8 (Debian 12)")
	pathspace := fl.String("pathspace", "", "FRR pathspace (-N NAME): its sockets are in "+frrRunDir+"/NAME")
	vtySocket := fl.String("vty-socket", "", "directory of FRR's vty sockets and pid files (overrides --pathspace)")
	stateFile := fl.String("state-file", "", "file remembering what frr-renderer rendered (default: frr-renderer.state in the socket directory)")
	timeout := fl.Duration("timeout", 2*time.Minute, "give up after this long")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "apply: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if *node == "" {
		fmt.Fprintln(stderr, "apply: --node is required")
		return 2
	}
	dialect, err := frrconfig.ParseDialect(*frrVersion)
	if err != nil {
		fmt.Fprintf(stderr, "apply: %v\n", err)
		return 2
	}
	runDir := *vtySocket
	if runDir == "" {
		runDir = filepath.Join(frrRunDir, *pathspace)
	}
	if len(paths) == 0 && *hostFacts == "" {
		*hostFacts = "-" // the seed needs no facts
	}

	snap, diags, err := loadSnapshot(paths, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "apply: %v\n", err)
		return 1
	}
	printDiagnostics(stderr, diags)
	facts, err := loadHostFacts(*hostFacts, len(paths) == 0)
	if err != nil {
		fmt.Fprintf(stderr, "apply: %v\n", err)
		return 1
	}
	desired, err := renderConfig(snap, facts, translate.Options{Node: *node, SecretsNamespace: *secretsNS}, dialect, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "apply: %v\n", err)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	log := funcr.New(func(prefix, args string) { fmt.Fprintln(stderr, "apply:", args) }, funcr.Options{})
	a := vtysh.NewApplier(vtysh.ApplierOptions{RunDir: runDir, StateFile: *stateFile, Log: log})
	defer a.Close()
	res, err := a.Apply(ctx, desired)
	for _, l := range res.Lines {
		fmt.Fprintln(stdout, l)
	}
	if err != nil {
		fmt.Fprintf(stderr, "apply: %v\n", err)
		return 1
	}
	if len(res.Lines) == 0 {
		fmt.Fprintln(stdout, "no change")
	}
	if len(res.Resets) > 0 {
		fmt.Fprintf(stderr, "apply: %d lines reset BGP sessions: %q\n", len(res.Resets), res.Resets)
	}
	if err := a.Verify(ctx); err != nil {
		fmt.Fprintf(stderr, "apply: verifying: %v\n", err)
		return 1
	}
	return 0
}
