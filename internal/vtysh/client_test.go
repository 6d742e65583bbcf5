package vtysh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// frrRoot is the file system root the daemons of version v run in, as frrtest computes it.
func frrRoot(v frrtest.Version) string {
	if v == frrtest.FRR8 {
		return "/"
	}
	cache := os.Getenv("FRR_RENDERER_CACHE")
	if cache == "" {
		cache = "/var/cache/frr-renderer"
	}
	return filepath.Join(cache, "trixie-frr")
}

// runDir is the router's FRR run directory seen from the host. The 10.3 chroot's /var/run is an
// absolute link to /run, so it is ROOT/run/frr/NS there.
func runDir(r *frrtest.Router) string {
	return filepath.Join(frrRoot(r.Version), "run/frr", r.Netns)
}

// confDir is the router's pathspace configuration folder seen from the host; inside the 10.3
// chroot it is /etc/frr/NS.
func confDir(r *frrtest.Router) string {
	return filepath.Join(frrRoot(r.Version), "etc/frr", r.Netns)
}

func daemonPID(t testing.TB, r *frrtest.Router, daemon string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runDir(r), daemon+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func dial(t testing.TB, r *frrtest.Router, daemon string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, SocketPath(runDir(r), daemon))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func timeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// smallConfig is in the order and form FRR prints it back.
const smallConfig = `route-map ORIGIN permit 10
 set community 65001:100
 set tag 77
exit
!
route-map OUT permit 10
 match tag 77
exit
!
router bgp 65001
 bgp router-id 10.255.0.1
 no bgp network import-check
 neighbor 10.255.0.2 remote-as 65000
 neighbor 10.255.0.2 password s3cr3t-pw
 !
 address-family ipv4 unicast
  network 10.98.0.0/24
  network 10.99.0.0/24 route-map ORIGIN
  neighbor 10.255.0.2 route-map OUT out
 exit-address-family
exit
`

func configLines(config string) []string {
	return strings.Split(strings.TrimRight(config, "\n"), "\n")
}

func TestClient(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) { testClient(t, v) })
	}
}

func testClient(t *testing.T, v frrtest.Version) {
	r := frrtest.Start(t, v, "client")
	c := dial(t, r, "bgpd")
	ctx := timeout(t, 60*time.Second)

	t.Run("show version", func(t *testing.T) {
		out, err := c.Exec(ctx, "show version")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out, "FRRouting "+string(v)) {
			t.Errorf("show version: %q", out)
		}
	})

	t.Run("configure and read back", func(t *testing.T) {
		notices, err := c.ConfigureNotices(ctx, configLines(smallConfig))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("notices: %+v", notices)
		viaSocket, err := c.Exec(ctx, "show running-config")
		if err != nil {
			t.Fatal(err)
		}
		viaVtysh, err := r.RunningConfig()
		if err != nil {
			t.Fatal(err)
		}
		if d := frrtest.DiffBlocks(smallConfig, viaSocket); d != "" {
			t.Errorf("show running-config on the socket differs from what was configured:\n%s\n%s", d, viaSocket)
		}
		if d := frrtest.DiffBlocks(viaSocket, viaVtysh); d != "" {
			t.Errorf("vtysh -d bgpd show running-config differs from the socket's:\n%s", d)
		}
		// The session is back in ENABLE_NODE: `configure terminal` is only valid there.
		if _, err := c.Exec(ctx, "configure terminal"); err != nil {
			t.Errorf("after Configure: %v", err)
		}
		if _, err := c.Exec(ctx, "end"); err != nil {
			t.Error(err)
		}
	})

	t.Run("rejected line", func(t *testing.T) {
		lines := []string{
			"router bgp 65001",
			" neighbor 10.255.0.2 description first",
			" neighbor 10.255.0.2 bogus-option 3",
			" neighbor 10.255.0.2 description never",
			"exit",
		}
		err := c.Configure(ctx, lines)
		var cerr *ConfigError
		if !errors.As(err, &cerr) {
			t.Fatalf("got %v, want a *ConfigError", err)
		}
		t.Logf("error: %v", err)
		if cerr.Line != 2 || cerr.Text != lines[2] || cerr.Status != StatusNoMatch || !strings.Contains(cerr.Output, "Unknown command") {
			t.Errorf("got %+v, want line 2, %q, status %v, \"Unknown command\"", *cerr, lines[2], StatusNoMatch)
		}
		// Still usable, and back in ENABLE_NODE.
		if _, err := c.Exec(ctx, "show version"); err != nil {
			t.Fatalf("Exec after the rejected line: %v", err)
		}
		if _, err := c.Exec(ctx, "configure terminal"); err != nil {
			t.Errorf("not in ENABLE_NODE after a rejected line: %v", err)
		}
		if _, err := c.Exec(ctx, "end"); err != nil {
			t.Error(err)
		}
		got, err := c.Exec(ctx, "show running-config")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, "description first\n") || strings.Contains(got, "description never") {
			t.Errorf("want the line before applied and the one after not:\n%s", got)
		}
	})

	t.Run("network lines in one write", func(t *testing.T) {
		// 200 network lines go in runs of pipelineMax; one refused line (the network does not
		// exist) stops the apply after the rest of its run.
		network := func(i int) string { return fmt.Sprintf("  network 10.50.%d.0/24 route-map ORIGIN", i) }
		lines := []string{"router bgp 65001", " address-family ipv4 unicast"}
		for i := range 100 {
			lines = append(lines, network(i))
		}
		refused := len(lines)
		lines = append(lines, "  no network 10.51.0.0/24")
		for i := 100; i < 200; i++ {
			lines = append(lines, network(i))
		}
		lines = append(lines, " exit-address-family", "exit")
		runEnd := 2 + (refused-2)/pipelineMax*pipelineMax + pipelineMax // where the refused line's run ends
		err := c.Configure(ctx, lines)
		var cerr *ConfigError
		if !errors.As(err, &cerr) {
			t.Fatalf("got %v, want a *ConfigError", err)
		}
		t.Logf("error: %v", err)
		if cerr.Line != refused || cerr.Status != StatusWarningConfigFailed || cerr.Applied != runEnd {
			t.Errorf("got line %d, status %v, applied %d; want %d, %v, %d", cerr.Line, cerr.Status, cerr.Applied, refused, StatusWarningConfigFailed, runEnd)
		}
		got, err := c.Exec(ctx, "show running-config")
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range lines {
			if !strings.HasPrefix(l, "  network ") {
				continue
			}
			if in, want := strings.Contains(got, l+"\n"), i < runEnd; in != want {
				t.Errorf("line %d %q: in bgpd %v, want %v", i, l, in, want)
			}
		}
		// The session is in step and back in ENABLE_NODE.
		if _, err := c.Exec(ctx, "configure terminal"); err != nil {
			t.Errorf("not in ENABLE_NODE after a refused line: %v", err)
		}
		if _, err := c.Exec(ctx, "end"); err != nil {
			t.Error(err)
		}

		// All of them, then none.
		lines = slices.Delete(lines, refused, refused+1)
		if err := c.Configure(ctx, lines); err != nil {
			t.Fatal(err)
		}
		if got, err = c.Exec(ctx, "show running-config"); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(got, "network 10.50."); n != 200 {
			t.Errorf("%d of 200 networks in bgpd after the apply", n)
		}
		for i, l := range lines {
			if strings.HasPrefix(l, "  network ") {
				lines[i] = "  no " + strings.TrimSpace(l)
			}
		}
		if err := c.Configure(ctx, lines); err != nil {
			t.Fatal(err)
		}
		if got, err = c.Exec(ctx, "show running-config"); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(got, "network 10.50."); n != 0 {
			t.Errorf("%d networks left in bgpd after removing all 200", n)
		}
	})

	t.Run("password masked", func(t *testing.T) {
		// No such neighbor: refused with CMD_WARNING_CONFIG_FAILED.
		lines := []string{"router bgp 65001", " neighbor 10.255.9.9 password Very-Secret-1", "exit"}
		err := c.Configure(ctx, lines)
		var cerr *ConfigError
		if !errors.As(err, &cerr) {
			t.Fatalf("got %v, want a *ConfigError", err)
		}
		t.Logf("error: %v", err)
		if cerr.Line != 1 || cerr.Status != StatusWarningConfigFailed {
			t.Errorf("got line %d status %v, want 1 and %v", cerr.Line, cerr.Status, StatusWarningConfigFailed)
		}
		if s := fmt.Sprintf("%v %+v %#v", err, *cerr, *cerr); strings.Contains(s, "Very-Secret-1") {
			t.Errorf("the error shows the password: %s", s)
		}
		if cerr.Text != " neighbor 10.255.9.9 password <redacted>" {
			t.Errorf("Text = %q", cerr.Text)
		}
		// An unknown command echoes the line in the output: masked too.
		err = c.Configure(ctx, []string{"router bgp 65001", " neighbor 10.255.0.2 password Other-Secret bogus", "exit"})
		if !errors.As(err, &cerr) || cerr.Status != StatusNoMatch {
			t.Fatalf("got %v, want an unknown command", err)
		}
		if s := fmt.Sprintf("%v %+v", err, *cerr); strings.Contains(s, "Other-Secret") {
			t.Errorf("the error shows the password: %s", s)
		}
	})

	t.Run("exit and end never leave the session", func(t *testing.T) {
		// A top-level exit leaves configuration mode and, in ENABLE_NODE, a second one would
		// close the session. Configure re-enters configuration mode instead.
		lines := []string{
			"exit", "exit", "quit",
			"router bgp 65001", " neighbor 10.255.0.2 description after-exits", "exit",
			"end",
			"router bgp 65001", " address-family ipv4 unicast", "  network 10.97.0.0/24", " exit", "end",
			"", "! a comment",
		}
		if err := c.Configure(ctx, lines); err != nil {
			t.Fatal(err)
		}
		got, err := c.Exec(ctx, "show running-config")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, "description after-exits\n") || !strings.Contains(got, "network 10.97.0.0/24\n") {
			t.Errorf("lines after exit/end were not applied:\n%s", got)
		}
	})

	t.Run("invalid command", func(t *testing.T) {
		err := c.Configure(ctx, []string{"router bgp 65001", " neighbor 10.255.0.2 description a\nb"})
		var cerr *ConfigError
		if !errors.As(err, &cerr) || cerr.Line != 1 || !errors.Is(err, ErrInvalidCommand) {
			t.Errorf("got %v, want ConfigError line 1 wrapping ErrInvalidCommand", err)
		}
		if _, err := c.Exec(ctx, strings.Repeat("x", MaxCommandLen+1)); !errors.Is(err, ErrInvalidCommand) {
			t.Errorf("too long: got %v", err)
		}
		// The longest command the client sends is still understood as one command.
		_, err = c.Exec(ctx, "show version "+strings.Repeat("x", MaxCommandLen-len("show version ")))
		var xerr *CommandError
		if !errors.As(err, &xerr) || xerr.Status != StatusNoMatch || strings.Contains(xerr.Output, "too long") {
			t.Errorf("longest command: got %v", err)
		}
		if _, err := c.Exec(ctx, "show version"); err != nil {
			t.Errorf("after: %v", err)
		}
	})

	t.Run("batch", func(t *testing.T) {
		var lines []string
		for i := range 50 {
			lines = append(lines, fmt.Sprintf("route-map BATCH permit %d", i+1), fmt.Sprintf(" set tag %d", i+1), "exit")
		}
		if _, err := c.configure(ctx, lines, true); err != nil {
			t.Fatal(err)
		}
		got, err := c.Exec(ctx, "show running-config")
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(got, "route-map BATCH permit"); n != 50 {
			t.Errorf("%d entries after the batch, want 50", n)
		}
		// A failing batch still sends the end marker: a peer added afterwards is not held Idle.
		_, err = c.configure(ctx, []string{"route-map BATCH permit 100", " set tag nonsense"}, true)
		if !errors.As(err, new(*ConfigError)) {
			t.Fatalf("got %v, want a *ConfigError", err)
		}
		if err := c.Configure(ctx, []string{"router bgp 65001", " neighbor 10.255.8.1 remote-as 65008", "exit", "no route-map BATCH"}); err != nil {
			t.Fatal(err)
		}
		frrtest.WaitFor(t, 5*time.Second, func() error {
			out, err := c.Exec(ctx, "show bgp neighbors 10.255.8.1 json")
			if err != nil {
				return err
			}
			var nbrs map[string]struct {
				BgpState string `json:"bgpState"`
			}
			if err := json.Unmarshal([]byte(out), &nbrs); err != nil {
				return err
			}
			if s := nbrs["10.255.8.1"].BgpState; s == "" || s == "Idle" {
				return fmt.Errorf("new peer is %q", s)
			}
			return nil
		})
	})

	t.Run("context", func(t *testing.T) {
		c1, c2, c3 := dial(t, r, "bgpd"), dial(t, r, "bgpd"), dial(t, r, "bgpd")
		// A daemon that does not answer: stopped.
		pid := daemonPID(t, r, "bgpd")
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer syscall.Kill(pid, syscall.SIGCONT)

		within := func(what string, d time.Duration, fn func()) {
			t0 := time.Now()
			fn()
			if took := time.Since(t0); took > d+500*time.Millisecond {
				t.Errorf("%s returned after %v, want about %v", what, took, d)
			}
		}
		var err error
		within("Exec with a deadline", 200*time.Millisecond, func() {
			_, err = c1.Exec(timeout(t, 200*time.Millisecond), "show version")
		})
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrDisconnected) {
			t.Errorf("got %v, want DeadlineExceeded and ErrDisconnected", err)
		}
		if _, err := c1.Exec(ctx, "show version"); !errors.Is(err, ErrDisconnected) {
			t.Errorf("after a timeout: got %v, want ErrDisconnected", err)
		}

		within("Exec cancelled", 100*time.Millisecond, func() {
			cctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(100*time.Millisecond, cancel)
			_, err = c2.Exec(cctx, "show version")
		})
		if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrDisconnected) {
			t.Errorf("got %v, want Canceled and ErrDisconnected", err)
		}

		within("Alive", 200*time.Millisecond, func() {
			if c3.Alive(timeout(t, 200*time.Millisecond)) {
				t.Error("a stopped bgpd is alive")
			}
		})
		// The kernel accepts the connection (listen backlog); `enable` gets no answer.
		within("Dial", 200*time.Millisecond, func() {
			_, err = Dial(timeout(t, 200*time.Millisecond), SocketPath(runDir(r), "bgpd"))
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Dial of a stopped bgpd: got %v, want DeadlineExceeded", err)
		}

		// A context that has ended before the call: nothing is sent, the session stays usable.
		c4 := dial(t, r, "zebra")
		done, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c4.Exec(done, "show version"); !errors.Is(err, context.Canceled) || errors.Is(err, ErrDisconnected) {
			t.Errorf("ended context: got %v, want Canceled only", err)
		}
		if !c4.Alive(ctx) {
			t.Error("not alive after a call with an ended context")
		}

		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		if !dial(t, r, "bgpd").Alive(timeout(t, 5*time.Second)) {
			t.Error("bgpd not alive after SIGCONT")
		}
	})

	// Last: it kills bgpd, then starts it again.
	t.Run("bgpd killed", func(t *testing.T) {
		if err := syscall.Kill(daemonPID(t, r, "bgpd"), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		frrtest.WaitFor(t, 5*time.Second, func() error {
			if c.Alive(ctx) {
				return errors.New("still alive")
			}
			return nil
		})
		_, err := c.Exec(ctx, "show version")
		if !errors.Is(err, ErrDisconnected) {
			t.Errorf("Exec: got %v, want ErrDisconnected", err)
		}
		err = c.Configure(ctx, []string{"router bgp 65001"})
		if !errors.Is(err, ErrDisconnected) {
			t.Errorf("Configure: got %v, want ErrDisconnected", err)
		}
		_, err = Dial(ctx, SocketPath(runDir(r), "bgpd"))
		if !errors.Is(err, ErrDisconnected) {
			t.Errorf("Dial: got %v, want ErrDisconnected", err)
		}
		t.Logf("Dial error: %v", err)

		// What the applier does next: restart, dial again, and re-apply everything: a restarted
		// bgpd comes up empty.
		startBgpd(t, r)
		var c2 *Client
		frrtest.WaitFor(t, 10*time.Second, func() error {
			var err error
			c2, err = Dial(ctx, SocketPath(runDir(r), "bgpd"))
			return err
		})
		defer c2.Close()
		got, err := c2.Exec(ctx, "show running-config")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(got, "router bgp") {
			t.Errorf("a restarted bgpd has configuration:\n%s", got)
		}
		if err := c2.Configure(ctx, configLines(smallConfig)); err != nil {
			t.Fatal(err)
		}
		got, err = c2.Exec(ctx, "show running-config")
		if err != nil {
			t.Fatal(err)
		}
		if d := frrtest.DiffBlocks(smallConfig, got); d != "" {
			t.Errorf("after re-applying:\n%s", d)
		}
	})
}

// startBgpd starts bgpd again in r's namespace the way frrtest does (chrooted for 10.3).
// frrtest's cleanup stops it with the rest of the namespace.
func startBgpd(t *testing.T, r *frrtest.Router) {
	t.Helper()
	args := []string{"netns", "exec", r.Netns}
	if root := frrRoot(r.Version); root != "/" {
		args = append(args, "sh", "-c", `[ -e "$1/proc/self" ] || mount -t proc proc "$1/proc" || exit; exec chroot "$@"`, "sh", root)
	}
	args = append(args, "/usr/lib/frr/bgpd", "-d", "-N", r.Netns, "-P", "0",
		"--log", "file:"+filepath.Join("/var/run/frr", r.Netns, "bgpd.log"))
	// A file, not a pipe: FRR 10's daemons keep stdout open after they detach.
	out, err := os.Create(filepath.Join(runDir(r), "bgpd.restart.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("restart bgpd: %v\n%s", err, b)
	}
}

// TestClientRouteMapOnlyInBgpd: route-maps configured on bgpd's socket alone (zebra, and mgmtd
// on 10.3, never see them) act for bgpd both on `network ... route-map` and on
// `neighbor ... route-map ... out`.
func TestClientRouteMapOnlyInBgpd(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			node := frrtest.Start(t, v, "node")
			tor := frrtest.Start(t, v, "tor")
			frrtest.Link(t, node, tor, netip.MustParsePrefix("10.255.0.1/30"), netip.MustParsePrefix("10.255.0.2/30"))
			if err := tor.Load("router bgp 65000\n bgp router-id 10.255.0.2\n no bgp ebgp-requires-policy\n neighbor 10.255.0.1 remote-as 65001\n neighbor 10.255.0.1 password s3cr3t-pw\n neighbor 10.255.0.1 timers 3 9\nexit\n"); err != nil {
				t.Fatal(err)
			}
			c := dial(t, node, "bgpd")
			ctx := timeout(t, 30*time.Second)
			if err := c.Configure(ctx, configLines(smallConfig)); err != nil {
				t.Fatal(err)
			}
			frrtest.WaitFor(t, 30*time.Second, func() error {
				out, err := tor.Vtysh("-c", "show bgp ipv4 unicast 10.99.0.0/24 json")
				if err == nil && !strings.Contains(out, "65001:100") {
					err = fmt.Errorf("ToR's 10.99.0.0/24: %.400s", out)
				}
				return err
			})
			// ORIGIN set the community (network ... route-map); OUT let through only what
			// ORIGIN tagged (neighbor ... route-map out).
			out, err := tor.Vtysh("-c", "show bgp ipv4 unicast json")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "10.99.0.0/24") || strings.Contains(out, "10.98.0.0/24") {
				t.Errorf("ToR's table, want 10.99.0.0/24 and not 10.98.0.0/24:\n%s", out)
			}
			for _, d := range []string{"zebra", "mgmtd"} {
				if d == "mgmtd" && v == frrtest.FRR8 {
					continue
				}
				rc, err := dial(t, node, d).Exec(ctx, "show running-config")
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(rc, "route-map ORIGIN") {
					t.Errorf("%s has the route-map:\n%s", d, rc)
				}
			}
			// vtysh's merged view shows bgpd's route-maps anyway.
			merged, err := node.Vtysh("-c", "show running-config")
			if err != nil {
				t.Fatal(err)
			}
			if d := frrtest.DiffBlocks(smallConfig, merged); d != "" {
				t.Errorf("merged show running-config:\n%s", d)
			}
		})
	}
}

// TestClientMgmtdLock: on 10.3, mgmtd's configuration lock does not concern bgpd's socket, while
// vtysh's route-map commands, which go through mgmtd too, fail on it.
func TestClientMgmtdLock(t *testing.T) {
	r := frrtest.Start(t, frrtest.FRR10, "lock")
	ctx := timeout(t, 30*time.Second)
	m := dial(t, r, "mgmtd")
	// What `vtysh -f` does: lock mgmtd's candidate and running datastores.
	if _, err := m.Exec(ctx, "configure terminal file-lock"); err != nil {
		t.Fatal(err)
	}
	c := dial(t, r, "bgpd")
	if err := c.Configure(ctx, configLines(smallConfig)); err != nil {
		t.Fatalf("bgpd while mgmtd is locked: %v", err)
	}
	out, err := r.Vtysh("-c", "configure terminal", "-c", "route-map VIA-VTYSH permit 10")
	t.Logf("vtysh route-map while mgmtd is locked: %v %s", err, out)
	if err == nil || !strings.Contains(out, "lock") {
		t.Errorf("vtysh route-map while mgmtd is locked: got %v %q, want a lock error", err, out)
	}
	if _, err := r.Vtysh("-c", "configure terminal", "-c", "router bgp 65001", "-c", "neighbor 10.255.0.2 description via-vtysh"); err != nil {
		t.Errorf("vtysh BGP line while mgmtd is locked: %v", err)
	}
	if _, err := m.Exec(ctx, "end"); err != nil {
		t.Fatal(err)
	}
	merged, err := r.Vtysh("-c", "show running-config")
	if err != nil {
		t.Fatal(err)
	}
	if d := frrtest.DiffBlocks(smallConfig, strings.ReplaceAll(merged, " neighbor 10.255.0.2 description via-vtysh\n", "")); d != "" {
		t.Errorf("merged show running-config:\n%s\n%s", d, merged)
	}
}

// TestClientFake covers the reply framing against a fake daemon: markers split across reads,
// the output limit, a daemon that closes half-way.
func TestClientFake(t *testing.T) {
	dir := t.TempDir()
	path := SocketPath(dir, "fake")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go fakeDaemon(conn, big)
		}
	}()
	ctx := timeout(t, 10*time.Second)
	c, err := Dial(ctx, path, WithMaxOutput(len(big)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		cmd, out string
		st       Status
	}{
		{"show split", "split output\n", StatusSuccess},
		{"show big", big, StatusSuccess},
		{"bad", "% Unknown command\n", StatusNoMatch},
		{"show empty", "", StatusSuccess},
	} {
		out, err := c.Exec(ctx, tc.cmd)
		var cerr *CommandError
		switch {
		case tc.st == StatusSuccess && err != nil:
			t.Errorf("%s: %v", tc.cmd, err)
		case tc.st != StatusSuccess && (!errors.As(err, &cerr) || cerr.Status != tc.st || cerr.Command != tc.cmd):
			t.Errorf("%s: got %v, want status %v", tc.cmd, err, tc.st)
		}
		if out != tc.out {
			t.Errorf("%s: got %d bytes %.40q, want %d bytes %.40q", tc.cmd, len(out), out, len(tc.out), tc.out)
		}
	}
	if _, err := c.Exec(ctx, "show bigger"); !errors.Is(err, ErrOutputTooLarge) {
		t.Errorf("show bigger: got %v, want ErrOutputTooLarge", err)
	}
	if out, err := c.Exec(ctx, "show split"); err != nil || out != "split output\n" {
		t.Errorf("after the dropped output: %q %v", out, err)
	}
	// Several commands in one write, their replies in one: each reply is its own, an output
	// over the limit is dropped alone.
	cmds := []string{"show empty", "show split", "bad", "show bigger", "show big", "show empty"}
	want := []reply{{"", StatusSuccess, nil}, {"split output\n", StatusSuccess, nil}, {"% Unknown command\n", StatusNoMatch, nil},
		{"", StatusSuccess, ErrOutputTooLarge}, {big, StatusSuccess, nil}, {"", StatusSuccess, nil}}
	var got []reply
	if err := c.exchange(ctx, cmds, func(i int, r reply) { got = append(got, r) }); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	for i, w := range want {
		if i >= len(got) {
			t.Errorf("%s: no reply", cmds[i])
			continue
		}
		if g := got[i]; g.out != w.out || g.st != w.st || !errors.Is(g.err, w.err) {
			t.Errorf("%s: got %d bytes %.40q, %v, %v; want %d bytes %.40q, %v, %v", cmds[i], len(g.out), g.out, g.st, g.err, len(w.out), w.out, w.st, w.err)
		}
	}
	if _, err := c.Exec(ctx, "show hangup"); !errors.Is(err, ErrDisconnected) {
		t.Errorf("show hangup: got %v, want ErrDisconnected", err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if _, err := Dial(ctx, filepath.Join(dir, "missing.vty")); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Dial of a missing socket: got %v, want ErrDisconnected", err)
	}
}

// fakeDaemon answers like a vty: output, three NULs, status. The replies to the commands of one
// read go out in one write, as a daemon's do when they fit its socket; some replies are split
// into small writes instead.
func fakeDaemon(conn net.Conn, big string) {
	defer conn.Close()
	buf := make([]byte, 8192)
	var pending, replies []byte
	flush := func() {
		conn.Write(replies)
		replies = nil
	}
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return
		}
		pending = append(pending, buf[:n]...)
		for {
			i := strings.IndexByte(string(pending), 0)
			if i < 0 {
				break
			}
			cmd := string(pending[:i])
			pending = pending[i+1:]
			reply := func(out string, st byte) { replies = append(append(replies, out...), 0, 0, 0, st) }
			switch cmd {
			case "enable", "show empty":
				reply("", 0)
			case "show split":
				flush()
				reply("split output\n", 0)
				for _, b := range replies {
					conn.Write([]byte{b})
					time.Sleep(time.Millisecond)
				}
				replies = nil
			case "show big":
				reply(big, 0)
			case "show bigger":
				reply(big+"x", 0)
			case "show hangup":
				flush()
				conn.Write([]byte("partial"))
				return
			default:
				reply("% Unknown command\n", 2)
			}
		}
		flush()
	}
}

// vtyshCommand runs vtysh against r like frrtest does: chrooted for 10.3.
func vtyshCommand(r *frrtest.Router, args ...string) *exec.Cmd {
	args = append([]string{"-N", r.Netns}, args...)
	if root := frrRoot(r.Version); root != "/" {
		return exec.Command("chroot", append([]string{root, "vtysh"}, args...)...)
	}
	return exec.Command("vtysh", args...)
}

func BenchmarkExec(b *testing.B) {
	for _, v := range frrtest.Supported() {
		b.Run(string(v), func(b *testing.B) {
			r := frrtest.Start(b, v, "bench")
			b.Run("socket", func(b *testing.B) {
				c := dial(b, r, "bgpd")
				ctx := context.Background()
				for b.Loop() {
					if _, err := c.Exec(ctx, "show version"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("vtysh", func(b *testing.B) {
				for b.Loop() {
					if out, err := vtyshCommand(r, "-d", "bgpd", "-c", "show version").CombinedOutput(); err != nil {
						b.Fatalf("%v: %s", err, out)
					}
				}
			})
		})
	}
}

func BenchmarkConfigure1Line(b *testing.B) {
	for _, v := range frrtest.Supported() {
		b.Run(string(v), func(b *testing.B) {
			r := frrtest.Start(b, v, "bench")
			c := dial(b, r, "bgpd")
			ctx := context.Background()
			if err := c.Configure(ctx, configLines(smallConfig)); err != nil {
				b.Fatal(err)
			}
			line := func(i int) string {
				if i%2 == 0 {
					return "network 10.1.0.0/24 route-map ORIGIN"
				}
				return "no network 10.1.0.0/24 route-map ORIGIN"
			}
			b.Run("socket", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if err := c.Configure(ctx, []string{"router bgp 65001", " address-family ipv4 unicast", "  " + line(i)}); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("vtysh", func(b *testing.B) {
				i := 0
				for b.Loop() {
					cmd := vtyshCommand(r, "-c", "configure terminal", "-c", "router bgp 65001", "-c", "address-family ipv4 unicast", "-c", line(i))
					if out, err := cmd.CombinedOutput(); err != nil {
						b.Fatalf("%v: %s", err, out)
					}
					i++
				}
			})
		})
	}
}

// BenchmarkConfigure1000 applies 1,000 lines of one kind in one go and removes them again
// (untimed): through the socket, through the socket batched, and with `vtysh -f`.
// The route-map cases take seconds per operation: run with -benchtime=1x.
func BenchmarkConfigure1000(b *testing.B) {
	const n = 1000
	kinds := []struct {
		name        string
		add, remove []string
	}{
		{name: "network"}, {name: "prefix-list"}, {name: "route-map"},
	}
	for i := range n {
		kinds[0].add = append(kinds[0].add, fmt.Sprintf("  network 10.%d.%d.0/24 route-map ORIGIN", i/256, i%256))
		kinds[0].remove = append(kinds[0].remove, fmt.Sprintf("  no network 10.%d.%d.0/24 route-map ORIGIN", i/256, i%256))
		kinds[1].add = append(kinds[1].add, fmt.Sprintf("ip prefix-list BENCH seq %d permit 10.%d.%d.0/24", i+1, i/256, i%256))
		kinds[2].add = append(kinds[2].add, fmt.Sprintf("route-map BENCH permit %d", i+1), fmt.Sprintf(" set tag %d", i+1), "exit")
	}
	wrap := []string{"router bgp 65001", " address-family ipv4 unicast"}
	kinds[0].add = append(append(wrap, kinds[0].add...), " exit-address-family", "exit")
	kinds[0].remove = append(append(wrap, kinds[0].remove...), " exit-address-family", "exit")
	kinds[1].remove = []string{"no ip prefix-list BENCH"}
	kinds[2].remove = []string{"no route-map BENCH"}

	for _, v := range frrtest.Supported() {
		b.Run(string(v), func(b *testing.B) {
			r := frrtest.Start(b, v, "bench")
			c := dial(b, r, "bgpd")
			ctx := context.Background()
			if err := c.Configure(ctx, configLines(smallConfig)); err != nil {
				b.Fatal(err)
			}
			for _, k := range kinds {
				file := filepath.Join(confDir(r), "bench-"+k.name+".conf")
				if err := os.WriteFile(file, []byte(strings.Join(k.add, "\n")+"\n"), 0o644); err != nil {
					b.Fatal(err)
				}
				fileIn := filepath.Join("/etc/frr", r.Netns, filepath.Base(file))
				for _, m := range []string{"socket", "socket-batch", "vtysh-f"} {
					b.Run(k.name+"/"+m, func(b *testing.B) {
						for b.Loop() {
							var err error
							switch m {
							case "socket":
								err = c.Configure(ctx, k.add)
							case "socket-batch":
								_, err = c.configure(ctx, k.add, true)
							case "vtysh-f":
								out, ferr := vtyshCommand(r, "-f", fileIn).CombinedOutput()
								if ferr != nil {
									err = fmt.Errorf("%w: %s", ferr, out)
								}
							}
							if err != nil {
								b.Fatal(err)
							}
							b.StopTimer()
							if err := c.Configure(ctx, k.remove); err != nil {
								b.Fatal(err)
							}
							b.StartTimer()
						}
					})
				}
			}
		})
	}
}
