package main

// This file is `frr-renderer run`: the standalone, long-running mode. It parses the flags,
// makes the logger and the applier, and hands them to reconcile.Run, which follows the
// sources and keeps the applier fed.

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/go-logr/logr"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/reconcile"
	"github.com/frr-renderer/frr-renderer/internal/translate"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// frrRunRoot is FRR's run directory; a pathspace (-N NAME) has a folder of its own in it.
const frrRunRoot = "/var/run/frr"

func runRun(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("run", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var watch stringList
	node := fl.String("node", "", "node to render for (required)")
	fl.Var(&watch, "watch", "manifest file or folder (recursive) to read and follow; repeatable (required)")
	hostFacts := fl.String("host-facts", "", "YAML file with the host's interfaces and default routes, followed (default: this network namespace through netlink, followed)")
	secretsNS := fl.String("secrets-namespace", translate.DefaultSecretsNamespace, "namespace of the Secrets that authSecretRef names")
	frrVersion := fl.String("frr-version", "10", "FRR version to write for: 10 (the deploy image) or 8 (Debian 12)")
	pathspace := fl.String("pathspace", "", "FRR pathspace (watchfrr -N NAME) of the FRR to configure")
	vtyDir := fl.String("vty-socket", "", "FRR's run directory, holding bgpd.vty (default "+frrRunRoot+", or "+frrRunRoot+"/PATHSPACE)")
	stateFile := fl.String("state-file", "", "file remembering what frr-renderer owns in bgpd (default: frr-renderer.state in the --vty-socket directory)")
	verbosity := fl.Int("v", 0, "log verbosity: 0 changes and problems, 1 every render, 2 every signal")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	switch {
	case fl.NArg() > 0:
		fmt.Fprintf(stderr, "run: unexpected argument %q\n", fl.Arg(0))
		return 2
	case *node == "":
		fmt.Fprintln(stderr, "run: --node is required")
		return 2
	case len(watch) == 0:
		fmt.Fprintln(stderr, "run: --watch is required")
		return 2
	case slices.Contains(watch, "-") || *hostFacts == "-":
		fmt.Fprintln(stderr, "run: stdin cannot be followed: name files or folders")
		return 2
	case *pathspace != "" && (strings.ContainsRune(*pathspace, '/') || *pathspace == "." || *pathspace == ".."):
		fmt.Fprintf(stderr, "run: --pathspace %q is not a plain name\n", *pathspace)
		return 2
	}
	dialect, err := frrconfig.ParseDialect(*frrVersion)
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 2
	}

	log := newLogger(stderr, *verbosity)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := vtyRunDir(*vtyDir, *pathspace)
	app := vtysh.NewApplier(vtysh.ApplierOptions{RunDir: dir, StateFile: *stateFile, Log: log.WithName("applier")})
	defer app.Close()
	cfg := reconcile.Config{
		Watch:     watch,
		HostFacts: *hostFacts,
		Options:   translate.Options{Node: *node, SecretsNamespace: *secretsNS},
		Dialect:   dialect,
		Settle:    reconcile.DefaultSettle,
		MaxSettle: reconcile.DefaultMaxSettle,
	}
	log.Info("starting", "node", *node, "watch", []string(watch), "hostFacts", cmp.Or(*hostFacts, "netlink"),
		"frrVersion", dialect.String(), "runDir", dir)
	if err := reconcile.Run(ctx, cfg, app, log); err != nil {
		log.Error(err, "stopped")
		return 1
	}
	// FRR keeps the configuration it runs: stopping frr-renderer withdraws nothing.
	log.Info("stopped")
	return 0
}

// vtyRunDir is the directory of bgpd's vty socket: --vty-socket, else FRR's run directory of the
// pathspace.
func vtyRunDir(vtyDir, pathspace string) string {
	switch {
	case vtyDir != "":
		return vtyDir
	case pathspace != "":
		return filepath.Join(frrRunRoot, pathspace)
	}
	return frrRunRoot
}

// newLogger logs JSON lines to w; verbosity v enables logr's V(0) to V(v). A record of V(n),
// n > 0, has level "V<n>" (slog would say DEBUG+<4-n>).
func newLogger(w io.Writer, v int) logr.Logger {
	return logr.FromSlogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: slog.Level(-v),
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if l, ok := a.Value.Any().(slog.Level); ok && len(groups) == 0 && a.Key == slog.LevelKey && l < slog.LevelInfo && l > slog.LevelDebug {
				a.Value = slog.StringValue(fmt.Sprintf("V%d", -l))
			}
			return a
		},
	}))
}
