package vtysh

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// TestHoldNewPeersOnTheWire: a restarted bgpd gets its configuration back while the ToR, a
// graceful-restart helper, keeps the node's route stale. The apply is cut after the family's
// activate and paused, as a busy node pauses between lines. Held (frrconfig.HoldNewPeers, what
// the applier sends), the neighbor stays down through the pause and the ToR keeps the route
// until the new session refreshes it. Not held, the session starts in the pause before the
// family's out route-map: bgpd sends End-of-RIB with nothing, and the ToR flushes the route it
// kept: what the containerlab lab once saw under load (a next hop gone for seconds).
func TestHoldNewPeersOnTheWire(t *testing.T) {
	if testing.Short() {
		t.Skip("~20 s per FRR version")
	}
	torConf, err := os.ReadFile(seedTorConf)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			for _, hold := range []bool{true, false} {
				name := "held"
				if !hold {
					name = "not held"
				}
				t.Run(name, func(t *testing.T) { testHoldAcrossPause(t, v, string(torConf), hold) })
			}
		})
	}
}

func testHoldAcrossPause(t *testing.T, v frrtest.Version, torConf string, hold bool) {
	const prefix = "172.20.0.1/32"
	node := frrtest.Start(t, v, "node")
	tor := frrtest.Start(t, v, "tor")
	frrtest.Link(t, node, tor, netip.MustParsePrefix(nodeAddr+"/24"), netip.MustParsePrefix("192.168.10.1/24"))
	if err := tor.Load(torConf); err != nil {
		t.Fatal(err)
	}
	desired := newHandsOn(t).render(v)
	if !strings.Contains(desired, " neighbor 192.168.10.1 graceful-restart\n") {
		t.Fatalf("the seed's node has no graceful restart:\n%s", desired)
	}
	if err := node.Load(desired); err != nil {
		t.Fatal(err)
	}
	frrtest.WaitFor(t, 30*time.Second, func() error { return hasRoute(tor, prefix) })
	// The session that ends with the kill must have negotiated graceful restart (a load may
	// start it before the node's graceful-restart line: then it is reset to take it).
	frrtest.WaitFor(t, 30*time.Second, func() error { return gracefulRestartNegotiated(tor) })
	frrtest.WaitFor(t, 30*time.Second, func() error { return hasRoute(tor, prefix) })

	pid := daemonPID(t, node, "bgpd")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	frrtest.WaitFor(t, 5*time.Second, func() error {
		if syscall.Kill(pid, 0) == nil {
			return errors.New("bgpd still running")
		}
		return nil
	})
	if err := node.StartDaemon("bgpd"); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var c *Client
	frrtest.WaitFor(t, 10*time.Second, func() (err error) {
		c, err = Dial(ctx, SocketPath(node.RunDir(), "bgpd"))
		return err
	})
	defer c.Close()

	running, err := frrconfig.Parse("")
	if err != nil {
		t.Fatal(err)
	}
	want, err := frrconfig.Parse(desired)
	if err != nil {
		t.Fatal(err)
	}
	delta := frrconfig.Delta(running, want, want.Rendered())
	if hold {
		delta = frrconfig.HoldNewPeers(running, delta)
	}
	// The cut: right after the family's activate, where bgpd may start the session, before
	// the family's policy (the out route-map: without it FRR's eBGP peers get nothing).
	cut := -1
	for i, l := range delta {
		if strings.HasSuffix(l, " activate") {
			cut = i + 1
			break
		}
	}
	if cut < 0 {
		t.Fatalf("no line activates the family:\n%s", strings.Join(delta, "\n"))
	}
	if err := c.Configure(ctx, delta[:cut]); err != nil {
		t.Fatal(err)
	}
	// The pause: longer than bgpd's start timer and a session's setup.
	flushed := pollFlushed(ctx, tor, prefix, 5*time.Second)
	if out, err := node.Vtysh("-c", "show bgp neighbors 192.168.10.1"); err == nil {
		t.Logf("after the pause, the node's neighbor:\n%s", out)
	}
	if r, err := showTorRoute(tor, prefix); err == nil {
		t.Logf("after the pause, the ToR's route: %+v", r)
	}
	if err := c.Configure(ctx, resume(delta, cut)); err != nil {
		t.Fatal(err)
	}
	frrtest.WaitFor(t, 30*time.Second, func() error { return hasRoute(tor, prefix) })
	switch {
	case hold && flushed != "":
		t.Errorf("held: the ToR lost %s in the pause: %s", prefix, flushed)
	case !hold && flushed == "":
		t.Errorf("not held: the ToR kept %s through the pause; this test no longer shows what the hold prevents", prefix)
	default:
		t.Logf("hold %v: the ToR's %s in the pause: %q (empty: kept all along)", hold, prefix, flushed)
	}
}

// resume returns the lines of delta from cut on, after the lines that enter the node delta is
// in at cut: Configure ends in `end`, so the rest enters the instance and the family again.
func resume(delta []string, cut int) []string {
	var headers []string
	for _, l := range delta[:cut] {
		switch {
		case strings.HasPrefix(l, "router bgp "):
			headers = []string{l}
		case strings.HasPrefix(l, " address-family "):
			headers = append(headers[:1], l)
		case l == " exit-address-family":
			headers = headers[:1]
		}
	}
	return append(headers, delta[cut:]...)
}

// TestEarlyReleaseOnTheWire: a new node's neighbor without graceful restart is released before
// its network lines (frrconfig.HoldNewPeers), so bgpd's start timer runs while they are sent.
// The apply is cut before the first network line and paused: the session comes up in the
// pause, without the capability, and the route follows when the rest is sent.
func TestEarlyReleaseOnTheWire(t *testing.T) {
	torConf, err := os.ReadFile(seedTorConf)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			const prefix = "172.20.0.1/32"
			node := frrtest.Start(t, v, "node")
			tor := frrtest.Start(t, v, "tor")
			frrtest.Link(t, node, tor, netip.MustParsePrefix(nodeAddr+"/24"), netip.MustParsePrefix("192.168.10.1/24"))
			if err := tor.Load(string(torConf)); err != nil {
				t.Fatal(err)
			}
			seed := newHandsOn(t).render(v)
			desired := strings.Replace(seed, " neighbor 192.168.10.1 graceful-restart\n", " neighbor 192.168.10.1 graceful-restart-disable\n", 1)
			if desired == seed {
				t.Fatalf("the seed's neighbor has no graceful-restart line:\n%s", seed)
			}
			empty, want := mustParse(t, ""), mustParse(t, desired)
			delta := frrconfig.HoldNewPeers(empty, frrconfig.Delta(empty, want, want.Rendered()))
			cut := slices.IndexFunc(delta, func(l string) bool { return strings.HasPrefix(l, "  network ") })
			if cut < 0 || !slices.Contains(delta[:cut], " no neighbor 192.168.10.1 shutdown") {
				t.Fatalf("the neighbor is not released before the network lines:\n%s", strings.Join(delta, "\n"))
			}
			ctx := t.Context()
			c, err := Dial(ctx, SocketPath(node.RunDir(), "bgpd"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Configure(ctx, delta[:cut]); err != nil {
				t.Fatal(err)
			}
			frrtest.WaitFor(t, 10*time.Second, func() error {
				out, err := tor.Vtysh("-c", "show bgp neighbors "+nodeAddr)
				if err == nil && !strings.Contains(out, "BGP state = Established") {
					err = errors.New("the ToR's session with the node is not up before the network lines")
				}
				if err == nil && strings.Contains(out, "Graceful Restart Capability: advertised and received") {
					err = errors.New("the session negotiated graceful restart")
				}
				return err
			})
			if err := hasNoRoute(tor, prefix); err != nil {
				t.Fatal(err)
			}
			if err := c.Configure(ctx, resume(delta, cut)); err != nil {
				t.Fatal(err)
			}
			frrtest.WaitFor(t, 30*time.Second, func() error { return hasRoute(tor, prefix) })
		})
	}
}

// pollFlushed polls the ToR's prefix for d, and returns what it saw the first time the prefix
// was gone, or "" when it was there (fresh or stale) all along.
func pollFlushed(ctx context.Context, tor *frrtest.Router, prefix string, d time.Duration) string {
	end := time.Now().Add(d)
	for time.Now().Before(end) && ctx.Err() == nil {
		r, err := showTorRoute(tor, prefix)
		if err != nil || r.paths == 0 {
			return strings.TrimSpace(strings.Join([]string{"paths 0", errString(err)}, " "))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
