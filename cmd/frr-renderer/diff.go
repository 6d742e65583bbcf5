package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/textdiff"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// diffContext is the number of unchanged lines shown around a change, as diff -u.
const diffContext = 3

func newDiffCommand(s *streams) *cobra.Command {
	var (
		in        inputFlags
		target    frrFlags
		against   string
		stateFile string
	)
	cmd := &cobra.Command{
		Use:   "diff --node NAME -f PATH... [--against FILE | --pathspace NS | --vty-socket DIR]",
		Short: "what apply would change, as a unified diff and the exact command lines",
		Long: `diff renders the node's frr.conf and shows what "frr-renderer apply" would change in the FRR
beside it, sending nothing: a unified diff of the configuration frr-renderer owns (its BGP
instances and route-maps; nothing else is ever touched), then the exact configuration lines
apply would send. Passwords are masked everywhere.

With --against FILE it compares with that file instead of a running FRR: a configuration that
"frr-renderer render" wrote, so that two renderings can be compared without FRR or a cluster
(a GitOps preview in a pull request).

Exit status, like diff(1): 0 no change, 1 changes, 2 trouble.`,
		Example: `  frr-renderer diff --node worker-1 -f manifests/
  # a pull request's preview: the base branch's rendering against the branch's
  frr-renderer render --node worker-1 -f base/manifests/ --host-facts facts.yaml > before.conf
  frr-renderer diff --node worker-1 -f manifests/ --host-facts facts.yaml --against before.conf`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			changed, err := runDiff(s, &in, &target, against, stateFile)
			switch {
			case err != nil:
				return &exitError{code: exitDiffTrouble, err: err}
			case changed:
				return silentExit(exitDiffChanges)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	in.register(fs, "manifest file, folder (recursive) or - for stdin; repeatable (required)")
	target.register(fs)
	fs.StringVar(&against, "against", "", "compare with this frr.conf (a rendering) instead of the running FRR")
	fs.StringVar(&stateFile, "state-file", "", "file remembering what frr-renderer rendered (default: frr-renderer.state in the socket directory)")
	return cmd
}

// runDiff prints the plan and reports whether it changes anything.
func runDiff(s *streams, in *inputFlags, target *frrFlags, against, stateFile string) (changed bool, retErr error) {
	node := in.nodeName()
	switch {
	case node == "":
		return false, fmt.Errorf("--node is required")
	case len(in.paths) == 0:
		return false, fmt.Errorf("-f is required: name the manifests to compare")
	case against != "" && (target.pathspace != "" || target.vtySocket != ""):
		return false, fmt.Errorf("--against excludes --pathspace and --vty-socket: it compares with a file, not an FRR")
	}
	dialect, err := in.dialect()
	if err != nil {
		return false, err
	}
	runDir, err := target.runDir()
	if err != nil {
		return false, err
	}
	snap, diags, err := loadSnapshot(in.paths, s.in)
	if err != nil {
		return false, err
	}
	printDiagnostics(s.err, diags)
	facts, err := loadHostFacts(in.hostFacts, false)
	if err != nil {
		return false, err
	}
	text, err := renderConfig(snap, facts, in.options(node), dialect, s.err)
	// A failed instance is trouble (apply would refuse), but the diff is still shown.
	var lost *instancesFailedError
	if errors.As(err, &lost) {
		defer func() {
			if retErr == nil {
				retErr = fmt.Errorf("%w: apply would refuse it", lost)
			}
		}()
	} else if err != nil {
		return false, err
	}

	var plan frrconfig.Plan
	var runningName string
	if against != "" {
		plan, err = planAgainstFile(against, text)
		runningName = against
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		a := vtysh.NewApplier(vtysh.ApplierOptions{RunDir: runDir, StateFile: stateFile})
		defer a.Close()
		plan, err = a.Plan(ctx, text)
		runningName = "running (bgpd, " + vtysh.SocketPath(runDir, "bgpd") + ")"
	}
	if err != nil {
		return false, err
	}
	desiredName := fmt.Sprintf("desired (node %s)", node)
	if !plan.Changes() {
		fmt.Fprintln(s.out, "no change")
		return false, nil
	}
	fmt.Fprint(s.out, textdiff.Unified(runningName, desiredName, plan.Running, plan.Desired, diffContext))
	for _, c := range plan.Conflicts {
		fmt.Fprintf(s.out, "# conflict: %s\n", c)
	}
	if len(plan.Commands) > 0 {
		fmt.Fprintf(s.out, "# apply would send these %d lines (configure terminal):\n", len(plan.Commands))
		for _, l := range plan.Commands {
			fmt.Fprintln(s.out, l)
		}
	}
	return true, nil
}

// planAgainstFile previews replacing the rendering in file with desired: everything the file
// holds is taken to be frr-renderer's.
func planAgainstFile(file string, desired []byte) (frrconfig.Plan, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return frrconfig.Plan{}, err
	}
	running, err := frrconfig.Parse(string(b))
	if err != nil {
		return frrconfig.Plan{}, fmt.Errorf("%s: %w", file, err)
	}
	d, err := frrconfig.Parse(string(desired))
	if err != nil {
		return frrconfig.Plan{}, fmt.Errorf("rendered configuration: %w", err)
	}
	return frrconfig.NewPlan(running, d, frrconfig.OwnershipOf(running)), nil
}
