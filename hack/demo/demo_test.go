package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// TestDemo runs the demo's program as `make demo` does, under a name of its own (so that it
// never meets a demo someone runs by hand): killed with SIGKILL half-way, which leaves
// everything behind; then non-interactively to the end, which must remove those leftovers and
// show the seed's walkthrough working; interactively, handing the lab over until Enter;
// interrupted with SIGINT; and failing. Each time nothing may be left afterwards.
func TestDemo(t *testing.T) {
	frrtest.Require(t, frrtest.FRR8)
	root, err := testbin.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	renderer := testbin.FrrRenderer(t, "DEMO_FRR_RENDERER")
	bin := filepath.Join(t.TempDir(), "demo")
	build := exec.Command("go", "build", "-o", bin, "./hack/demo")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./hack/demo: %v\n%s", err, out)
	}
	name := fmt.Sprintf("dt%d", os.Getpid())
	t.Cleanup(func() {
		// After a failure, what a run may have left; otherwise nothing is there.
		for _, ns := range (&demo{name: name}).namespaces() {
			if err := frrtest.RemoveNetns(ns); err != nil {
				t.Error(err)
			}
		}
		os.RemoveAll("/run/frr-renderer-" + name)
		os.Remove("/run/lock/frr-renderer-" + name + ".lock")
	})
	// extra comes last: a flag given twice takes its last value.
	start := func(t *testing.T, extra ...string) *demoRun {
		args := append([]string{"-name", name, "-interactive=false", "-frr-renderer", renderer}, extra...)
		return startDemo(t, root, bin, args...)
	}

	// Killed with SIGKILL once its renderers have started, a run leaves everything behind; the
	// next one removes it first.
	t.Run("killed, then to the end", func(t *testing.T) {
		killed := start(t)
		killed.waitOutput("==> 8/11")
		if err := killed.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed.wait()
		if left := leftovers(name); len(left) == 0 {
			t.Fatalf("a demo killed after its renderers started left nothing behind: the next run's clean-up goes untested\n%s", killed.output())
		}

		d := start(t)
		if code := d.wait(); code != 0 {
			t.Fatalf("exit status %d, want 0\n%s", code, d.output())
		}
		nothingLeft(t, name)
		out := d.output()
		for _, want := range []struct{ what, re string }{
			{"the last run's leftovers removed", `removing ` + name + `-tor, left over from an earlier run`},
			{"the sessions' timings", `3 sessions Established in \d+\.\d{3} s, 3 BGP paths in \d+\.\d{3} s, ECMP route in the ToR's kernel in \d+\.\d{3} s`},
			{"the ToR's three next hops", `# ip -n ` + name + `-tor route show 172\.20\.0\.1\n172\.20\.0\.1 .*proto bgp.*\n(\s+nexthop via 192\.168\.10\.1[123] dev br0.*\n){3}`},
			{"cp-1's peer", `# vtysh -N ` + name + `-cp-1 -c 'show bgp summary'\n(.*\n)+?192\.168\.10\.1 +4 +65000 `},
			{"worker-1's peer", `# vtysh -N ` + name + `-worker-1 -c 'show bgp summary'\n(.*\n)+?192\.168\.10\.1 +4 +65000 `},
			{"worker-2's peer", `# vtysh -N ` + name + `-worker-2 -c 'show bgp summary'\n(.*\n)+?192\.168\.10\.1 +4 +65000 `},
			{"curl from the client answered by a node", `# ip netns exec ` + name + `-client curl http://172\.20\.0\.1/\n(cp-1|worker-1|worker-2)\n`},
			{"connections spread over the nodes", `12 more connections, each from a new source port, answered by: \S+ \d+, \S+ \d+`},
			{"each node's apply timed", `(\+\d+  frr-renderer on \S+ applied the change \(time from its log\)\n\s*){3}`},
			{"the ToR's kernel timed", `\+\d+  the ToR's kernel routes 172\.20\.0\.2 via the 3 nodes`},
			{"the new IP answered", `# ip netns exec ` + name + `-client curl http://172\.20\.0\.2/\n(cp-1|worker-1|worker-2)\n`},
			{"the old IP gone from the client's path", `curl http://172\.20\.0\.1/ from ` + name + `-client fails now`},
			{"the renderers ending on SIGTERM", `(frr-renderer run --node \S+: exit status 0 \(\d+\.\d{3} s after SIGTERM\)\n\s*){3}`},
			{"the end", `Demo complete in \d+\.\d{3} s\.`},
		} {
			if !regexp.MustCompile(want.re).MatchString(out) {
				t.Errorf("no %s in the output (want /%s/)", want.what, want.re)
			}
		}
		if t.Failed() {
			t.Logf("the demo's output:\n%s", out)
		}
	})

	// As a user runs it from a terminal: the lab stays up until Enter, and works for commands
	// of the user's own.
	t.Run("interactive", func(t *testing.T) {
		d := start(t, "-interactive")
		d.waitOutput("The lab is yours")
		curl := exec.Command("ip", "netns", "exec", name+"-client", "curl", "-sS", "--max-time", "2", "http://172.20.0.2/")
		if out, err := curl.CombinedOutput(); err != nil || !regexp.MustCompile(`^(cp-1|worker-1|worker-2)\n$`).Match(out) {
			t.Errorf("%s while the lab is handed over: %v, %q; want a node's name", curl, err, out)
		}
		if _, err := io.WriteString(d.stdin, "\n"); err != nil {
			t.Fatal(err)
		}
		if code := d.wait(); code != 0 {
			t.Errorf("exit status %d after Enter, want 0", code)
		}
		nothingLeft(t, name)
		if t.Failed() {
			t.Logf("the demo's output:\n%s", d.output())
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		d := start(t)
		d.waitOutput("==> 8/11")
		if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if code := d.wait(); code != 130 {
			t.Errorf("exit status %d after SIGINT, want 130", code)
		}
		nothingLeft(t, name)
		for _, want := range []string{"Interrupted.", "==> Tearing down", "stopped FRR, deleted the namespaces"} {
			if !strings.Contains(d.output(), want) {
				t.Errorf("no %q in the output", want)
			}
		}
		if t.Failed() {
			t.Logf("the demo's output:\n%s", d.output())
		}
	})

	t.Run("failing", func(t *testing.T) {
		d := start(t, "-timeout", "1ms")
		if code := d.wait(); code != 1 {
			t.Errorf("exit status %d with a timeout of 1 ms, want 1", code)
		}
		nothingLeft(t, name)
		out := d.output()
		m := regexp.MustCompile(`FAILED: timed out after 1ms waiting for 3 Established sessions on the ToR: .*\(all logs kept in (\S+)\)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no FAILED line naming the step and the logs' folder:\n%s", out)
		}
		t.Cleanup(func() { os.RemoveAll(m[1]) })
		if _, err := os.Stat(filepath.Join(m[1], name+"-cp-1", "frr-renderer.log")); err != nil {
			t.Errorf("cp-1's frr-renderer log not kept: %v", err)
		}
		if !strings.Contains(out, "--- tail of /run/frr/"+name+"-cp-1/bgpd.log") {
			t.Errorf("no tail of cp-1's bgpd log in the output:\n%s", out)
		}
	})
}

// demoRun is one run of the demo's binary.
type demoRun struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   testbin.SyncBuffer
	done  chan struct{}
}

func startDemo(t *testing.T, dir, bin string, args ...string) *demoRun {
	d := &demoRun{t: t, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	d.cmd.Dir = dir
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	stdin, err := d.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.stdin = stdin
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		// A test that failed half-way: the demo tears down on SIGTERM.
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		<-d.done
	})
	return d
}

// waitOutput waits until the demo has printed s.
func (d *demoRun) waitOutput(s string) {
	d.t.Helper()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(d.output(), s) {
		select {
		case <-d.done:
			d.t.Fatalf("the demo ended before printing %q:\n%s", s, d.output())
		case <-deadline:
			d.t.Fatalf("the demo did not print %q within 2 minutes:\n%s", s, d.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// wait waits for the demo to end and returns its exit status.
func (d *demoRun) wait() int {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(5 * time.Minute):
		d.t.Fatalf("the demo did not end within 5 minutes:\n%s", d.output())
	}
	if ws, ok := d.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return d.cmd.ProcessState.ExitCode()
}

func (d *demoRun) output() string { return d.out.String() }

func nothingLeft(t *testing.T, name string) {
	t.Helper()
	if left := leftovers(name); len(left) > 0 {
		t.Errorf("the demo left behind: %s", strings.Join(left, ", "))
	}
}

// leftovers lists what a demo named name can leave: namespaces, FRR pathspace folders, its
// manifests folder, and processes (FRR daemons, frr-renderer) naming its pathspaces.
func leftovers(name string) []string {
	var left []string
	for _, pattern := range []string{"/var/run/netns/" + name + "-*", "/run/frr/" + name + "-*", "/etc/frr/" + name + "-*", "/run/frr-renderer-" + name} {
		found, _ := filepath.Glob(pattern)
		left = append(left, found...)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		for i := 0; i+1 < len(args); i++ {
			if (args[i] == "-N" || args[i] == "--pathspace") && strings.HasPrefix(args[i+1], name+"-") {
				left = append(left, fmt.Sprintf("pid %s (%s)", filepath.Base(filepath.Dir(p)), strings.Join(args, " ")))
				break
			}
		}
	}
	return left
}
