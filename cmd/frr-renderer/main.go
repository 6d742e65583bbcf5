// Command frr-renderer runs FRR as the BGP speaker of a Cilium cluster: it reads Cilium's BGP
// Control Plane v2 resources, renders the node's frr.conf and applies it to the FRR beside it,
// and shows operators what it did and why (peers, routes, diff, explain).
//
// This file is only the entry point; each subcommand lives in a file of its own, and cli.go
// holds what they share (flags, exit codes, output formats).
package main

import (
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit code: 0 done, 1 failed, 2 bad usage
// (diff: 0 no change, 1 changes, 2 error).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(&streams{in: stdin, out: stdout, err: stderr})
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	return exitCode(cmd, err, stderr)
}
