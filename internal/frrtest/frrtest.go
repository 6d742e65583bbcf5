// Package frrtest runs real FRR daemons in throw-away network namespaces, so that integration
// tests can load rendered configuration into FRR, read it back and watch BGP sessions and routes.
//
// Two FRR versions are supported: Debian 12's 8.4 installed on the host, and Debian 13's 10.3 in
// the root file system that hack/frr10-rootfs.sh builds (its daemons and vtysh run chrooted).
// Each Router gets its own network namespace and FRR pathspace (-N), both named after the
// namespace, so routers of any number of tests and packages can run side by side. A Host is a
// namespace without FRR (a client behind a router); Connect and AddBridge wire them together.
//
// NewRouter, NewHost, Connect and AddBridge return errors and leave cleaning up (Close,
// RemoveNetns) to the caller, for programs built on the harness (hack/demo). Tests use their test
// forms, Start, Link and Bridge, which fail the test and clean up after it. Everything needs root; Require skips (or, under CI, fails) a test that
// cannot have it.
package frrtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Version is an FRR major.minor version the harness can run.
type Version string

const (
	FRR8  Version = "8.4"
	FRR10 Version = "10.3"
)

// startTimeout bounds how long NewRouter waits for bgpd to answer vtysh.
const startTimeout = 10 * time.Second

// rootfs returns the FRR 10.3 root file system directory and whether it is complete.
// The location follows hack/frr10-rootfs.sh, which writes the marker only once the tree is whole.
func rootfs() (string, bool) {
	cache := os.Getenv("FRR_RENDERER_CACHE")
	if cache == "" {
		cache = "/var/cache/frr-renderer"
	}
	dir := filepath.Join(cache, "trixie-frr")
	_, err := os.Stat(filepath.Join(dir, ".complete"))
	return dir, err == nil
}

// Supported returns the FRR versions frr-renderer supports, oldest first. Tests loop over these
// and Require each, never over Versions(): a loop over what happens to be installed runs zero
// cases on a machine without FRR 10.3 and passes, even in CI.
func Supported() []Version { return []Version{FRR8, FRR10} }

// Versions returns the FRR versions available on this machine. The host's FRR is taken to be
// Debian 12's 8.4. It never builds the 10.3 root file system: that takes minutes and belongs to
// the CI script or a developer (hack/frr10-rootfs.sh).
func Versions() []Version {
	var vs []Version
	if _, err := os.Stat("/usr/lib/frr/bgpd"); err == nil {
		vs = append(vs, FRR8)
	}
	if _, ok := rootfs(); ok {
		vs = append(vs, FRR10)
	}
	return vs
}

// Require skips the test unless it runs as root and FRR v is available. Under CI=true it fails
// instead: a CI run that silently skips the FRR tests proves nothing. FRR_RENDERER_NO_FRR=1
// (`make unit`) skips it in any case.
func Require(t testing.TB, v Version) {
	t.Helper()
	if os.Getenv("FRR_RENDERER_NO_FRR") != "" {
		t.Skip("frrtest: FRR_RENDERER_NO_FRR is set")
	}
	why := unavailable(v)
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("frrtest: %s", why)
	}
	t.Skipf("frrtest: %s", why)
}

// unavailable says why FRR v cannot run here, or "".
func unavailable(v Version) string {
	switch {
	case os.Geteuid() != 0:
		return "needs root (network namespaces, FRR daemons)"
	case !slices.Contains(Versions(), v):
		return fmt.Sprintf("FRR %s is not available (8.4: apt-get install frr; 10.3: hack/frr10-rootfs.sh)", v)
	}
	return ""
}

// Router is one FRR instance (zebra and bgpd; mgmtd too on 10.3) in its own network namespace.
type Router struct {
	Host            // the namespace; its name is also the FRR pathspace's
	Version Version // FRR version the daemons run

	root    string   // file system root the daemons and vtysh see: "/" or the 10.3 chroot
	daemons []string // in start order
	logf    func(format string, args ...any)
}

// Start starts FRR v in a new network namespace and registers a cleanup that stops it and
// removes every trace. name is for humans; the namespace gets a random suffix. Start skips or
// fails the test as Require does when v is not available.
func Start(t testing.TB, v Version, name string) *Router {
	t.Helper()
	Require(t, v)
	r, err := NewRouter(v, name, Options{Logf: t.Logf})
	if err != nil {
		t.Fatalf("frrtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if tails := r.logTails(40); tails != "" {
				t.Log(tails)
			}
		}
		if err := r.Close(); err != nil {
			t.Errorf("frrtest: %v", err)
		}
	})
	return r
}

// NewRouter starts FRR v in a new network namespace and returns once bgpd answers and is
// zebra's client. The caller must Close it. On error nothing is left behind, and the error
// holds the end of the daemons' logs.
func NewRouter(v Version, name string, opts Options) (*Router, error) {
	if why := unavailable(v); why != "" {
		return nil, errors.New(why)
	}
	r := &Router{Version: v, root: "/", daemons: []string{"zebra", "bgpd"}, logf: opts.Logf}
	if v == FRR10 {
		r.root, _ = rootfs()
		// mgmtd owns the configuration datastores in FRR 10 and must be up before the others.
		r.daemons = []string{"mgmtd", "zebra", "bgpd"}
	}
	uid, gid, err := frrIDs(r.root)
	if err != nil {
		return nil, err
	}
	r.Host = Host{Name: name, Netns: opts.Netns}
	if err := r.Host.create(); err != nil {
		return nil, err
	}
	if err := r.start(uid, gid); err != nil {
		err = fmt.Errorf("FRR %s in %s: %w\n%s", v, r.Netns, err, r.logTails(40))
		return nil, errors.Join(err, r.Close())
	}
	return r, nil
}

func (r *Router) start(uid, gid int) error {
	for _, dir := range []string{r.confDir(), r.runDir()} {
		// A leftover of a crashed run with the same name would hand us stale pid files.
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		// The daemons drop to user frr before they write their pid files and sockets.
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	// Without its vtysh.conf, vtysh starts every output with "% Can't open configuration
	// file", which would spoil JSON and look like a rejected line to Load. Integrated
	// configuration is how FRR is deployed.
	vtyshConf := filepath.Join(r.confDir(), "vtysh.conf")
	if err := os.WriteFile(vtyshConf, []byte("service integrated-vtysh-config\n"), 0o644); err != nil {
		return err
	}
	for _, d := range r.daemons {
		if err := r.startDaemon(d); err != nil {
			return fmt.Errorf("start %s: %w", d, err)
		}
	}
	// With -d a daemon's parent returns once the child is set up, but bgpd can still be
	// connecting to zebra; "answers vtysh" is what tests need.
	// Until bgpd's zebra client is connected, graceful-restart commands fail ("% Invalid
	// value": bgpd cannot tell zebra its GR capability), so wait for that too.
	if err := poll(startTimeout, func() error {
		if _, err := r.Vtysh("-d", "bgpd", "-c", "show version"); err != nil {
			return err
		}
		out, err := r.Vtysh("-d", "zebra", "-c", "show zebra client summary")
		if err != nil {
			return err
		}
		if !zebraHasBGP.MatchString(out) {
			return fmt.Errorf("bgpd is not connected to zebra yet:\n%s", out)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("no answer within %v: %w", startTimeout, err)
	}
	return nil
}

// zebraHasBGP matches bgpd's row in `show zebra client summary`.
var zebraHasBGP = regexp.MustCompile(`(?m)^bgp\s`)

// StartDaemon starts one daemon ("bgpd", "zebra", "mgmtd") again the way Start started it,
// for tests that kill one. It returns once the daemon has detached, not once it answers.
func (r *Router) StartDaemon(daemon string) error { return r.startDaemon(daemon) }

// KillDaemon SIGKILLs one daemon and returns once it is gone.
func (r *Router) KillDaemon(daemon string) error {
	b, err := os.ReadFile(filepath.Join(r.runDir(), daemon+".pid"))
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%s.pid: %w", daemon, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s (%d): %w", daemon, pid, err)
	}
	return poll(5*time.Second, func() error {
		if syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("%s (%d) still running", daemon, pid)
		}
		return nil
	})
}

// StartDaemonWithConfig is StartDaemon with config as the daemon's startup configuration file
// (-f): FRR reading its own file at start, with no vty in between.
func (r *Router) StartDaemonWithConfig(daemon, config string) error {
	name := daemon + "-startup.conf"
	if err := os.WriteFile(filepath.Join(r.confDir(), name), []byte(config), 0o644); err != nil {
		return err
	}
	return r.startDaemon(daemon, "-f", filepath.Join(r.confDirIn(), name))
}

func (r *Router) startDaemon(daemon string, extra ...string) error {
	args := []string{"netns", "exec", r.Netns}
	if r.root != "/" {
		// The daemons need /proc. `ip netns exec` runs in a mount namespace of its own that
		// lives as long as the daemon: a proc mount made there neither leaks to the host nor
		// piles up over repeated starts, and it is skipped when the host already has one.
		args = append(args, "sh", "-c", `[ -e "$1/proc/self" ] || mount -t proc proc "$1/proc" || exit; exec chroot "$@"`, "sh", r.root)
	}
	args = append(args, "/usr/lib/frr/"+daemon, "-d", "-N", r.Netns, "-P", "0",
		"--log", "file:"+filepath.Join(r.runDirIn(), daemon+".log"))
	args = append(args, extra...)
	// A file, not a pipe: FRR 10's daemons keep stdout and stderr open after they detach, and
	// a pipe would then never reach EOF.
	out, err := os.Create(filepath.Join(r.runDir(), daemon+".out"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		return fmt.Errorf("ip %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// confDir and runDir are the pathspace folders as seen from the host; runDirIn is the run folder
// as the daemons see it. The chroot's /var/run is an absolute link to /run, so from the host it
// must be reached as ROOT/run, never ROOT/var/run (which would resolve to the host's /run).
func (r *Router) confDir() string   { return filepath.Join(r.root, "etc/frr", r.Netns) }
func (r *Router) runDir() string    { return filepath.Join(r.root, "run/frr", r.Netns) }
func (r *Router) runDirIn() string  { return filepath.Join("/var/run/frr", r.Netns) }
func (r *Router) confDirIn() string { return filepath.Join("/etc/frr", r.Netns) }

// RunDir is the router's FRR run directory as seen from the host: its vty sockets (bgpd.vty),
// pid files and logs. Under 10.3 it lies inside the chroot.
func (r *Router) RunDir() string { return r.runDir() }

// command builds a command that runs in the router's file system root (not its namespace).
func (r *Router) command(name string, args ...string) *exec.Cmd {
	if r.root == "/" {
		return exec.Command(name, args...)
	}
	return exec.Command("chroot", append([]string{r.root, name}, args...)...)
}

// Vtysh runs vtysh against this router's daemons with args, for example
// ("-c", "show bgp summary json"). It returns the combined output; the error includes the
// output when vtysh exits non-zero.
func (r *Router) Vtysh(args ...string) (string, error) {
	cmd := r.command("vtysh", append([]string{"-N", r.Netns}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: vtysh %s: %w\n%s", r.Netns, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// RunningConfig returns bgpd's `show running-config`. bgpd's own view, not the merged one:
// zebra keeps prefix-lists and route-maps that bgpd may no longer have (after a bgpd restart).
func (r *Router) RunningConfig() (string, error) {
	return r.Vtysh("-d", "bgpd", "-c", "show running-config")
}

// ShowJSON runs the bgpd command cmd (which should end in "json") and unmarshals its output
// into out.
func (r *Router) ShowJSON(cmd string, out any) error {
	s, err := r.Vtysh("-d", "bgpd", "-c", cmd)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return fmt.Errorf("%s: %q: %w\n%s", r.Netns, cmd, err, s)
	}
	return nil
}

// pid returns the pid recorded in daemon's pid file, or 0. For tests that kill a daemon.
func (r *Router) pid(daemon string) int {
	b, err := os.ReadFile(filepath.Join(r.runDir(), daemon+".pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// Close stops the daemons and everything else in the namespace, deletes it and removes the
// pathspace folders.
func (r *Router) Close() error {
	err := r.Host.Close()
	if err != nil {
		err = fmt.Errorf("stopping %s: %w", r.Netns, err)
	}
	return errors.Join(err, r.removeDirs())
}

func (r *Router) removeDirs() error {
	return errors.Join(os.RemoveAll(r.confDir()), os.RemoveAll(r.runDir()))
}

// logTails returns the end of each daemon's log, for messages: once a router is closed, its
// pathspace and logs are gone.
func (r *Router) logTails(n int) string {
	var b strings.Builder
	for _, d := range r.daemons {
		// .out has what a daemon printed rather than logged, such as a crash's backtrace.
		for _, name := range []string{d + ".log", d + ".out"} {
			data, err := os.ReadFile(filepath.Join(r.runDir(), name))
			if err != nil || len(bytes.TrimSpace(data)) == 0 {
				continue
			}
			lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
			lines = lines[max(0, len(lines)-n):]
			fmt.Fprintf(&b, "frrtest: %s (%s) %s, last %d lines:\n%s\n", r.Name, r.Netns, name, len(lines), strings.Join(lines, "\n"))
		}
	}
	return b.String()
}

// WaitFor calls fn every 100 ms until it returns nil, and fails the test with fn's last error
// if that has not happened within timeout. Like t.Fatal, it must run on the test's goroutine.
func WaitFor(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	if err := poll(timeout, fn); err != nil {
		t.Fatalf("not done within %v: %v", timeout, err)
	}
}

func poll(timeout time.Duration, fn func() error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		<-tick.C
	}
}

// run runs a command and returns its combined output; the error includes the output.
func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// frrIDs returns user frr's uid and group frr's gid as root's /etc files define them: the
// chroot's numbers differ from the host's.
func frrIDs(root string) (uid, gid int, err error) {
	if uid, err = lookupID(filepath.Join(root, "etc/passwd"), "frr"); err != nil {
		return 0, 0, err
	}
	if gid, err = lookupID(filepath.Join(root, "etc/group"), "frr"); err != nil {
		return 0, 0, err
	}
	return uid, gid, nil
}

// lookupID finds name's numeric id (third field) in a passwd or group file.
func lookupID(file, name string) (int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		f := strings.Split(strings.TrimSpace(string(line)), ":")
		if len(f) >= 3 && f[0] == name {
			return strconv.Atoi(f[2])
		}
	}
	return 0, errors.New(file + ": no entry for " + name)
}
