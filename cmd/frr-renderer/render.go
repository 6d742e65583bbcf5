package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/frr-renderer/frr-renderer/examples"
	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/hostfacts"
	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/nodeconfig"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

func newRenderCommand(s *streams) *cobra.Command {
	var in inputFlags
	cmd := &cobra.Command{
		Use:   "render [--node NAME] [-f PATH ...]",
		Short: "print a node's frr.conf (with no -f: the embedded seed scenario, every node)",
		Long: `render prints the frr.conf of a node: what frr-renderer would make the FRR beside it run.
stdout is the configuration; stderr has one line per problem found in the input, naming the
object and the field. Passwords are written for FRR, and never to stderr.`,
		Example: `  frr-renderer render                                  # the embedded seed, every node
  frr-renderer render --node worker-1 -f manifests/ --host-facts facts.yaml
  kubectl get ciliumbgpclusterconfigs,... -o yaml | frr-renderer render --node worker-1 -f -`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRender(s, &in) },
	}
	in.register(cmd.Flags(), "manifest file, folder (recursive) or - for stdin; repeatable (default: the embedded seed)")
	return cmd
}

func runRender(s *streams, in *inputFlags) error {
	dialect, err := in.dialect()
	if err != nil {
		return err
	}
	node := in.nodeName()
	hostFacts := in.hostFacts
	if len(in.paths) == 0 && node != "" && hostFacts == "" {
		// Without input there is nothing host-specific to read: the seed needs no facts.
		hostFacts = "-"
	}
	if node == "" && len(in.paths) > 0 {
		return usageErrorf("--node is required with -f")
	}

	snap, diags, err := loadSnapshot(in.paths, s.in)
	if err != nil {
		return failure(err)
	}
	printDiagnostics(s.err, diags)
	facts, err := loadHostFacts(hostFacts, len(in.paths) == 0)
	if err != nil {
		return failure(err)
	}

	nodes := []string{node}
	if node == "" {
		nodes = nodeNames(snap)
	}
	opts := in.options("")
	var failed []error
	for i, n := range nodes {
		if len(nodes) > 1 {
			if i > 0 {
				fmt.Fprintln(s.out)
			}
			fmt.Fprintf(s.out, "! ===== node %s =====\n", model.QuoteUnlessPlain(n))
		}
		opts.Node = n
		text, err := renderConfig(snap, facts, opts, dialect, s.err)
		var lost *instancesFailedError
		switch {
		case errors.As(err, &lost):
			// Printed all the same: the file names what it lacks, and the rest is worth seeing.
			failed = append(failed, err)
		case err != nil:
			return failure(err)
		}
		if _, err := s.out.Write(text); err != nil {
			return failure(err)
		}
	}
	if len(failed) > 0 {
		return failure(errors.Join(failed...))
	}
	return nil
}

// instancesFailedError is a rendering that leaves out BGP instances of the node's
// ClusterConfig for errors in their input: the text is complete otherwise, but FRR given it
// would run without them (and withdraw their routes), so the command fails.
type instancesFailedError struct {
	node      string
	instances []string
}

func (e *instancesFailedError) Error() string {
	quoted := make([]string, len(e.instances))
	for i, name := range e.instances {
		quoted[i] = strconv.Quote(name)
	}
	return fmt.Sprintf("node %q: BGP instances not configured for errors in their input (above): %s", e.node, strings.Join(quoted, ", "))
}

// renderConfig translates and renders one node's frr.conf; diagnostics go to stderr. When
// instances fail, the text comes with an *instancesFailedError.
func renderConfig(snap *model.Snapshot, facts model.HostFacts, opts translate.Options, d frrconfig.Dialect, stderr io.Writer) ([]byte, error) {
	out, err := nodeconfig.Render(snap, facts, opts, d)
	printDiagnostics(stderr, out.Diagnostics)
	if err != nil {
		return nil, err
	}
	if len(out.FailedInstances) > 0 {
		return out.Text, &instancesFailedError{node: opts.Node, instances: out.FailedInstances}
	}
	return out.Text, nil
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
