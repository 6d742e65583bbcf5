// Command demo is `make demo`: the seed's Hands-On, live, on one machine. A ToR and three nodes,
// each in a network namespace of its own with its own FRR 8.4, on one bridged segment, and a
// client behind the ToR on a link of its own; one `frr-renderer run` per node follows a copy of
// examples/seed/hands-on and configures its node's bgpd. Each node serves HTTP on the Service's
// LoadBalancer IP, as Cilium's datapath would. The demo waits until the ToR reaches that IP
// through all three nodes, fetches it from the client, shows each node's peers, then changes
// the IP in the manifests and times how long the ToR takes to follow.
//
// It is built on the tests' harness (internal/frrtest, manifesttest), so that it does what the
// tests do, and demo_test.go runs it end to end. Everything it makes is removed on exit, failure
// and Ctrl-C; the leftovers of a run killed harder are removed by the next one. Addresses exist
// only inside the namespaces it creates. Needs root on Debian 12 and Go; installs Debian's FRR
// 8.4 when missing (hack/install-deps.sh).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	d := &demo{begin: time.Now()}
	fl := flag.NewFlagSet("demo", flag.ExitOnError)
	fl.StringVar(&d.name, "name", "demo", "prefix of the namespaces and FRR pathspaces (NAME-tor, NAME-cp-1, ...)")
	fl.BoolVar(&d.interactive, "interactive", isTerminal(os.Stdin), "keep the lab up at the end until Enter (default: when stdin is a terminal)")
	fl.StringVar(&d.bin, "frr-renderer", "", "frr-renderer binary to run (default: build ./cmd/frr-renderer into bin/frr-renderer)")
	fl.DurationVar(&d.timeout, "timeout", 60*time.Second, "bound of every wait that involves BGP")
	_ = fl.Parse(os.Args[1:])
	d.watch = filepath.Join("/run", "frr-renderer-"+d.name)
	if isTerminal(os.Stdout) {
		d.bold, d.red, d.plain = "\x1b[1m", "\x1b[31m", "\x1b[0m"
	}
	os.Exit(d.main())
}

// validName keeps the namespace and pathspace names short and plain.
var validName = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)

// main runs the demo and the teardown, and returns the exit code: 0, 1 for a failure, 2 for a
// bad flag, 128+n when interrupted by signal n (SIGINT, SIGTERM).
func (d *demo) main() int {
	if !validName.MatchString(d.name) {
		d.failed(fmt.Errorf("-name %q: want a lower-case letter, then up to 11 letters or digits", d.name))
		return 2
	}
	if os.Geteuid() != 0 {
		d.failed(errors.New("run me as root: the demo creates network namespaces and runs FRR"))
		return 1
	}
	unlock, err := lock(d.name)
	if err != nil {
		d.failed(err)
		return 1
	}
	defer unlock()

	// The first SIGINT or SIGTERM cancels the run; signals stay caught until the process ends,
	// so that the teardown finishes.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() { cancel(interrupted{(<-sigs).(syscall.Signal)}) }()

	err = d.run(ctx)
	var intr interrupted
	switch {
	case errors.As(context.Cause(ctx), &intr):
		fmt.Printf("\n%sInterrupted.%s\n", d.bold, d.plain)
		d.teardown()
		return 128 + int(intr.sig)
	case err != nil:
		d.failed(err)
		err = fmt.Errorf("%w (all logs kept in %s)", err, d.keepLogs())
		d.teardown()
		d.failed(err)
		return 1
	}
	d.teardown()
	fmt.Printf("\n%sDemo complete in %s.%s\n", d.bold, seconds(time.Since(d.begin)), d.plain)
	return 0
}

type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string { return "interrupted by " + i.sig.String() }

// lock makes sure that one demo of this name runs at a time: a second one would take the
// first one's namespaces for leftovers. The kernel releases the lock however the process ends;
// the empty file stays in /run/lock, as lock files do.
func lock(name string) (unlock func(), err error) {
	path := "/run/lock/frr-renderer-" + name + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another demo named %q is running (it holds %s); wait for it to end", name, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// step starts a numbered part of the demo; say reports within it; shell prints a command as a
// user would type it, then what it printed.
func (d *demo) step(format string, args ...any) {
	fmt.Printf("\n%s==> %s%s\n", d.bold, fmt.Sprintf(format, args...), d.plain)
}

func (d *demo) say(format string, args ...any) { fmt.Printf("    "+format+"\n", args...) }

func (d *demo) shell(cmd, out string) {
	if out != "" && out[len(out)-1] != '\n' {
		out += "\n"
	}
	fmt.Printf("# %s\n%s", cmd, out)
}

func (d *demo) failed(err error) { fmt.Fprintf(os.Stderr, "\n%sFAILED: %v%s\n", d.red, err, d.plain) }

// isTerminal tells a terminal from other character devices (/dev/null, a CI runner's stdin).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// seconds prints a duration as the demo always has: seconds with milliseconds, "4.213 s".
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }
