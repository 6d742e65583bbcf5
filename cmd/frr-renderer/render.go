package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/frr-renderer/frr-renderer/examples"
	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/hostfacts"
	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("render", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var paths stringList
	node := fl.String("node", "", "node to render for (default with no -f: every node of the seed)")
	fl.Var(&paths, "f", "manifest file, folder (recursive) or - for stdin; repeatable")
	hostFacts := fl.String("host-facts", "", "YAML file with the host's interfaces and default routes (default: read this host through netlink)")
	secretsNS := fl.String("secrets-namespace", translate.DefaultSecretsNamespace, "namespace of the Secrets that authSecretRef names")
	frrVersion := fl.String("frr-version", "10", "FRR version to write for: 10 (the deploy image) or 8 (Debian 12)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "render: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	dialect, err := frrconfig.ParseDialect(*frrVersion)
	if err != nil {
		fmt.Fprintf(stderr, "render: %v\n", err)
		return 2
	}
	if len(paths) == 0 && *node != "" && *hostFacts == "" {
		// Without input there is nothing host-specific to read: the seed needs no facts.
		*hostFacts = "-"
	}

	snap, diags, err := loadSnapshot(paths, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "render: %v\n", err)
		return 1
	}
	printDiagnostics(stderr, diags)

	facts, err := loadHostFacts(*hostFacts, len(paths) == 0)
	if err != nil {
		fmt.Fprintf(stderr, "render: %v\n", err)
		return 1
	}

	nodes := []string{*node}
	if *node == "" {
		if len(paths) > 0 {
			fmt.Fprintln(stderr, "render: --node is required with -f")
			return 2
		}
		nodes = nodeNames(snap)
	}
	opts := translate.Options{SecretsNamespace: *secretsNS}
	for i, n := range nodes {
		if len(nodes) > 1 {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "! ===== node %s =====\n", n)
		}
		opts.Node = n
		if err := renderNode(snap, facts, opts, dialect, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "render: %v\n", err)
			return 1
		}
	}
	return 0
}

func renderNode(snap *model.Snapshot, facts model.HostFacts, opts translate.Options, d frrconfig.Dialect, stdout, stderr io.Writer) error {
	text, err := renderConfig(snap, facts, opts, d, stderr)
	if err != nil {
		return err
	}
	_, err = stdout.Write(text)
	return err
}

// renderConfig translates and renders one node's frr.conf; diagnostics go to stderr.
func renderConfig(snap *model.Snapshot, facts model.HostFacts, opts translate.Options, d frrconfig.Dialect, stderr io.Writer) ([]byte, error) {
	res, err := translate.Translate(snap, facts, opts)
	if err != nil {
		return nil, err
	}
	printDiagnostics(stderr, res.Diagnostics)
	text, diags, err := frrconfig.Render(res.Config, d)
	printDiagnostics(stderr, diags)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", opts.Node, err)
	}
	return text, nil
}

// loadSnapshot reads the manifests, or the embedded seed when there are none.
func loadSnapshot(paths []string, stdin io.Reader) (*model.Snapshot, []model.Diagnostic, error) {
	if len(paths) > 0 {
		return manifest.Load(paths, stdin)
	}
	snap := &model.Snapshot{}
	var diags []model.Diagnostic
	err := fs.WalkDir(examples.Seed, examples.SeedDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.Seed, path)
		if err != nil {
			return err
		}
		d, err := manifest.Decode(path, data, snap)
		diags = append(diags, d...)
		return err
	})
	return snap, diags, err
}

// loadHostFacts reads the facts file, or this host through netlink. The embedded seed
// needs none, so that its rendering is the same on every machine.
func loadHostFacts(path string, seed bool) (model.HostFacts, error) {
	switch {
	case path == "-" || (path == "" && seed):
		return model.HostFacts{}, nil
	case path != "":
		return hostfacts.FromFile(path)
	}
	facts, err := hostfacts.FromNetlink()
	if err != nil {
		return facts, fmt.Errorf("reading host facts through netlink (use --host-facts FILE elsewhere): %w", err)
	}
	return facts, nil
}

func nodeNames(snap *model.Snapshot) []string {
	seen := map[string]bool{}
	var names []string
	for _, cn := range snap.CiliumNodes {
		if !seen[cn.Name] {
			seen[cn.Name] = true
			names = append(names, cn.Name)
		}
	}
	sort.Strings(names)
	return names
}

func printDiagnostics(w io.Writer, diags []model.Diagnostic) {
	for _, d := range diags {
		fmt.Fprintln(w, d.String())
	}
}
