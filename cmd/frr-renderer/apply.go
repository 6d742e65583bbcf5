package main

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/spf13/cobra"

	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

func newApplyCommand(s *streams) *cobra.Command {
	var (
		in        inputFlags
		target    frrFlags
		stateFile string
		timeout   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "apply --node NAME -f PATH... [--pathspace NS | --vty-socket DIR]",
		Short: "render a node's frr.conf and apply it, once, to the FRR beside it",
		Long: `apply renders the node's frr.conf and makes the FRR beside it run it, once, through bgpd's
vty socket: it sends only the delta, prints the lines it sent (passwords masked) or "no change",
then reads bgpd back to verify. Configuration frr-renderer did not render is never touched.
Preview what it would send with "frr-renderer diff".`,
		Example: `  frr-renderer apply --node worker-1 -f manifests/
  frr-renderer apply --node worker-1 -f manifests/ --pathspace demo-worker-1 --frr-version 8`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runApply(s, &in, &target, stateFile, timeout)
		},
	}
	fs := cmd.Flags()
	in.register(fs, "manifest file, folder (recursive) or - for stdin; repeatable (required)")
	target.register(fs)
	fs.StringVar(&stateFile, "state-file", "", "file remembering what frr-renderer rendered (default: frr-renderer.state in the socket directory)")
	fs.DurationVar(&timeout, "timeout", 2*time.Minute, "give up after this long")
	return cmd
}

// runApply renders a node's frr.conf and makes the FRR beside it run it, once: it prints the
// lines it sent (passwords masked) or "no change", then reads bgpd back to verify.
func runApply(s *streams, in *inputFlags, target *frrFlags, stateFile string, timeout time.Duration) error {
	node := in.nodeName()
	if node == "" {
		return usageErrorf("--node is required")
	}
	// No default input: applying the embedded demo to a real FRR by mistake would replace its
	// BGP configuration.
	if len(in.paths) == 0 {
		return usageErrorf("-f is required: name the manifests to apply (the embedded seed is for render only)")
	}
	dialect, err := in.dialect()
	if err != nil {
		return err
	}
	runDir, err := target.runDir()
	if err != nil {
		return err
	}

	snap, diags, err := loadSnapshot(in.paths, s.in)
	if err != nil {
		return failure(err)
	}
	printDiagnostics(s.err, diags)
	facts, err := loadHostFacts(in.hostFacts, false)
	if err != nil {
		return failure(err)
	}
	desired, err := renderConfig(snap, facts, in.options(node), dialect, s.err)
	if err != nil {
		// A failed instance too: FRR would drop it and withdraw its routes (the sidecar holds
		// the last configuration instead).
		return failuref("%w: nothing applied", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	log := funcr.New(func(prefix, args string) { fmt.Fprintln(s.err, "apply:", args) }, funcr.Options{})
	a := vtysh.NewApplier(vtysh.ApplierOptions{RunDir: runDir, StateFile: stateFile, Log: log})
	defer a.Close()
	res, err := a.Apply(ctx, desired)
	for _, l := range res.Lines {
		fmt.Fprintln(s.out, l)
	}
	if err != nil {
		return failure(err)
	}
	if len(res.Lines) == 0 {
		fmt.Fprintln(s.out, "no change")
	}
	if len(res.Resets) > 0 {
		fmt.Fprintf(s.err, "apply: %d lines reset BGP sessions: %q\n", len(res.Resets), res.Resets)
	}
	if err := a.Verify(ctx); err != nil {
		return failuref("verifying: %w", err)
	}
	return nil
}
