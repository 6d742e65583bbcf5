// Command frr-renderer runs FRR as the BGP speaker of a Cilium cluster: it reads Cilium's BGP
// Control Plane v2 resources and renders (and, in time, applies) the node's frr.conf.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `frr-renderer: Cilium BGP Control Plane v2 resources -> FRR

Usage:
  frr-renderer render [--node NAME] [-f PATH ...] [--host-facts FILE] [--secrets-namespace NS] [--frr-version V]

Commands:
  render   print a node's frr.conf (with no -f: the embedded seed scenario, every node)
  apply    render a node's frr.conf and apply it to the FRR beside it (--node NAME, --pathspace NS or --vty-socket DIR)
  run      follow manifests (--watch PATH ...) and the host, and keep the FRR beside it configured (--node NAME)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the exit code: 0 done, 1 failed, 2 bad usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "render":
		return runRender(args[1:], stdin, stdout, stderr)
	case "apply":
		return runApply(args[1:], stdin, stdout, stderr)
	case "run":
		return runRun(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "frr-renderer: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
