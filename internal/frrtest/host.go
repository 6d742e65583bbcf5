package frrtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
)

// Host is a network namespace of the harness: a client or server behind a router, and the
// ground every Router stands on. Close (or RemoveNetns, for one a dead process left) ends every
// process in it and deletes it, which destroys its veths.
type Host struct {
	Name  string // as given, for humans
	Netns string // the network namespace; a Router's FRR pathspace too

	mu     sync.Mutex
	nextIf int // for interface names: eth0, eth1, ... per namespace
}

// Options are what a program using the harness outside a test chooses; Start and tests use the
// zero value.
type Options struct {
	// Netns names the network namespace (and a Router's pathspace). It must not exist yet:
	// RemoveNetns a leftover first. Empty: a fresh name carrying this process's pid, whose
	// leftovers a later test process removes once this one is gone.
	Netns string
	// Logf receives notes that are not errors, such as what vtysh -f printed for a forward
	// reference. Nil drops them.
	Logf func(format string, args ...any)
}

// NewHost creates a network namespace with its loopback up. The caller must Close it.
func NewHost(name string, opts Options) (*Host, error) {
	h := &Host{Name: name, Netns: opts.Netns}
	if err := h.create(); err != nil {
		return nil, err
	}
	return h, nil
}

// create makes the namespace, with its loopback up; on error nothing is left.
func (h *Host) create() error {
	if err := h.addNetns(); err != nil {
		return err
	}
	if _, err := run("ip", "-n", h.Netns, "link", "set", "lo", "up"); err != nil {
		return errors.Join(err, h.Close())
	}
	return nil
}

func (h *Host) host() *Host { return h }

// addNetns creates the namespace Options named, or one with a fresh name, retrying on the
// (unlikely) collision. A fresh name carries our pid so that a later test process can tell a
// leftover (see removeLeftovers) from a namespace in use.
func (h *Host) addNetns() error {
	if h.Netns != "" {
		_, err := run("ip", "netns", "add", h.Netns)
		return err
	}
	leftoversSwept.Do(removeLeftovers)
	var err error
	for range 5 {
		h.Netns = fmt.Sprintf("frrt-%s-%d-%06x", shorten(h.Name), os.Getpid(), rand.Uint32()&0xffffff)
		if _, err = run("ip", "netns", "add", h.Netns); err == nil {
			return nil
		}
	}
	return err
}

// Exec runs a host command inside the namespace (ip route, ss, curl, ...). For a Router on
// 10.3 it is still the host's file system, not the chroot.
func (h *Host) Exec(args ...string) (string, error) {
	return run("ip", append([]string{"netns", "exec", h.Netns}, args...)...)
}

// Close ends every process in the namespace, then deletes it (which destroys its veths).
// SIGTERM first so that daemons exit cleanly, SIGKILL for whatever does not within 5 s.
// The namespace, not pid files, says what to kill: a pid file is missing for a daemon that
// never finished starting and stale for one that crashed (its pid may belong to anyone by now),
// and a test may have left a process of its own there.
func (h *Host) Close() error {
	if _, err := h.kill(syscall.SIGTERM); err != nil {
		return err
	}
	// until sends sig to what is left and succeeds once nothing is; signal 0 only looks.
	until := func(sig syscall.Signal) func() error {
		return func() error {
			pids, err := h.kill(sig)
			if err == nil && len(pids) > 0 {
				err = fmt.Errorf("still running in %s: %v", h.Netns, pids)
			}
			return err
		}
	}
	if poll(5*time.Second, until(0)) != nil {
		if err := poll(5*time.Second, until(syscall.SIGKILL)); err != nil {
			return err
		}
	}
	_, err := run("ip", "netns", "del", h.Netns)
	return err
}

// kill sends sig to every process in the namespace and returns their pids.
func (h *Host) kill(sig syscall.Signal) ([]int, error) {
	out, err := run("ip", "netns", "pids", h.Netns)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
			_ = syscall.Kill(pid, sig)
		}
	}
	return pids, nil
}

// newIfName returns the next free interface name of the namespace.
func (h *Host) newIfName() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	name := fmt.Sprintf("eth%d", h.nextIf)
	h.nextIf++
	return name
}

// RemoveNetns removes what a process that is gone left of namespace name: every process in it
// (FRR daemons included), the namespace, and the FRR pathspace folders of that name, on the
// host and in the 10.3 root file system. Nothing there is an error.
func RemoveNetns(name string) error {
	var errs []error
	if _, err := os.Stat(filepath.Join("/var/run/netns", name)); err == nil {
		errs = append(errs, (&Host{Netns: name}).Close())
	}
	dir, _ := rootfs()
	for _, root := range []string{"/", dir} {
		r := &Router{Host: Host{Netns: name}, root: root}
		errs = append(errs, r.removeDirs())
	}
	return errors.Join(errs...)
}

var (
	leftoverName   = regexp.MustCompile(`^frrt-[A-Za-z0-9]+-([0-9]+)-[0-9a-f]{6}$`)
	leftoversSwept sync.Once
)

// removeLeftovers removes the namespaces of test processes that are gone. A test binary that
// times out or panics never runs its cleanups, and its daemons would otherwise live on.
func removeLeftovers() {
	out, err := run("ip", "netns", "list")
	if err != nil {
		return
	}
	for line := range strings.Lines(out) {
		ns, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		m := leftoverName.FindStringSubmatch(ns)
		if m == nil {
			continue
		}
		// A live pid may be a reused one rather than the owner: leaving it is the safe mistake.
		if pid, _ := strconv.Atoi(m[1]); !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue
		}
		_ = RemoveNetns(ns)
	}
}

var notAlnum = regexp.MustCompile(`[^A-Za-z0-9]+`)

// shorten keeps names readable in `ip netns` while staying far from path length limits
// (unix socket paths in the pathspace).
func shorten(name string) string {
	name = notAlnum.ReplaceAllString(name, "")
	if len(name) > 12 {
		name = name[:12]
	}
	if name == "" {
		name = "r"
	}
	return name
}

// Listen opens a TCP listener in the namespace, for a server there (a node's web server). The
// socket stays in the namespace whichever thread serves it.
func (h *Host) Listen(addr string) (net.Listener, error) {
	type result struct {
		l   net.Listener
		err error
	}
	done := make(chan result, 1)
	// setns(2) moves one thread: a goroutine of its own enters the namespace and comes back
	// before its thread runs anything else. Should it fail to come back, it ends locked, and Go
	// ends its thread with it. No thread may stay: the kernel shows the process's first thread's
	// namespace as the process's, and Close would then kill this process with the namespace.
	go func() {
		runtime.LockOSThread()
		l, err := listenIn(h.Netns, addr)
		if !errors.Is(err, errStuck) {
			runtime.UnlockOSThread()
		}
		done <- result{l, err}
	}()
	r := <-done
	return r.l, r.err
}

var errStuck = errors.New("could not return to the original network namespace")

// listenIn listens on addr in namespace ns from the current, locked thread, and returns it to
// its namespace; errStuck when that fails.
func listenIn(ns, addr string) (net.Listener, error) {
	orig, err := netns.Get()
	if err != nil {
		return nil, err
	}
	defer orig.Close()
	target, err := netns.GetFromName(ns)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if backErr := netns.Set(orig); backErr != nil {
		if l != nil {
			l.Close()
		}
		return nil, fmt.Errorf("listen in %s: %w: %w", ns, errStuck, backErr)
	}
	return l, err
}
