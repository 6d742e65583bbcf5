package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/frr-renderer/frr-renderer/internal/version"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// versionTimeout bounds the question to bgpd: a stopped daemon accepts and never answers.
const versionTimeout = 3 * time.Second

func newVersionCommand(s *streams) *cobra.Command {
	var target frrFlags
	cmd := &cobra.Command{
		Use:   "version",
		Short: "print frr-renderer's version and the version of the FRR it talks to",
		Long: `version prints the version stamped into frr-renderer at build time, and the version of the
bgpd it talks to (through its vty socket), or why it cannot reach it. Not reaching bgpd is not an
error: the exit status is 0 either way.`,
		Example: `  frr-renderer version
  frr-renderer version --pathspace demo-worker-1`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := target.runDir()
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "frr-renderer %s (%s, %s/%s)\n", version.Get(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			sock := vtysh.SocketPath(dir, "bgpd")
			v, err := frrVersion(sock)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				fmt.Fprintf(s.out, "FRR: unknown: bgpd is not running here (no vty socket %s; --pathspace or --vty-socket name another)\n", sock)
				return nil
			case err != nil:
				fmt.Fprintf(s.out, "FRR: unknown: bgpd does not answer on %s: %v\n", sock, err)
				return nil
			}
			fmt.Fprintf(s.out, "FRR: %s (bgpd at %s)\n", v, sock)
			return nil
		},
	}
	target.register(cmd.Flags())
	return cmd
}

// frrVersion asks bgpd for its version: the first line of `show version`, "FRRouting 10.3
// (host) on Linux(...)", cut to "FRRouting 10.3".
func frrVersion(sock string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), versionTimeout)
	defer cancel()
	c, err := vtysh.Dial(ctx, sock)
	if err != nil {
		return "", err
	}
	defer c.Close()
	out, err := c.Exec(ctx, "show version")
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	f := strings.Fields(first)
	if len(f) >= 2 {
		return f[0] + " " + f[1], nil
	}
	return first, nil
}
