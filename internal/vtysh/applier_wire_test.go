package vtysh

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/nodeconfig"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

const (
	seedHandsOn = "../../examples/seed/hands-on"
	seedTorConf = "../../examples/seed/tor-frr.conf"
	nodeAddr    = "192.168.10.11" // cp-1
)

// handsOn is a copy of the seed's Hands-On manifests that a test may edit.
type handsOn struct {
	t   *testing.T
	dir string
}

func newHandsOn(t *testing.T) *handsOn {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(seedHandsOn, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed manifests: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &handsOn{t: t, dir: dir}
}

// edit replaces old with new in one manifest file.
func (h *handsOn) edit(file, old, new string) {
	h.t.Helper()
	p := filepath.Join(h.dir, file)
	b, err := os.ReadFile(p)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(frrconfigtest.Edit(h.t, string(b), old, new)), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *handsOn) remove(file string) {
	h.t.Helper()
	if err := os.Remove(filepath.Join(h.dir, file)); err != nil {
		h.t.Fatal(err)
	}
}

// render runs the pipeline of `frr-renderer render --node cp-1` on the manifests.
func (h *handsOn) render(v frrtest.Version) string {
	h.t.Helper()
	snap, _, err := manifest.Load([]string{h.dir}, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	d := frrconfig.FRR10
	if v == frrtest.FRR8 {
		d = frrconfig.FRR8
	}
	r, err := nodeconfig.Render(snap, model.HostFacts{}, translate.Options{Node: "cp-1"}, d)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(r.Text)
}

// torRoute is the ToR's view of one prefix: BGP paths and whether its kernel has the route.
type torRoute struct {
	paths  int
	stale  bool
	comms  string
	kernel bool
}

func showTorRoute(tor *frrtest.Router, prefix string) (torRoute, error) {
	var route struct {
		Paths []struct {
			Stale     bool `json:"stale"`
			Community *struct {
				String string `json:"string"`
			} `json:"community"`
		} `json:"paths"`
	}
	var r torRoute
	if err := tor.ShowJSON("show bgp ipv4 unicast "+prefix+" json", &route); err != nil {
		return r, err
	}
	r.paths = len(route.Paths)
	for _, p := range route.Paths {
		r.stale = r.stale || p.Stale
		if p.Community != nil {
			r.comms = p.Community.String
		}
	}
	out, err := tor.Exec("ip", "-j", "route", "show", prefix)
	if err != nil {
		return r, err
	}
	var routes []json.RawMessage
	if err := json.Unmarshal([]byte(out), &routes); err != nil {
		return r, fmt.Errorf("ip -j route: %w: %s", err, out)
	}
	r.kernel = len(routes) > 0
	return r, nil
}

// hasRoute: the ToR has a fresh path to prefix in BGP and in its kernel.
func hasRoute(tor *frrtest.Router, prefix string) error {
	r, err := showTorRoute(tor, prefix)
	if err == nil && (r.paths != 1 || r.stale || !r.kernel) {
		err = fmt.Errorf("ToR's %s: %+v; want 1 fresh path, in the kernel", prefix, r)
	}
	return err
}

func hasNoRoute(tor *frrtest.Router, prefix string) error {
	r, err := showTorRoute(tor, prefix)
	if err == nil && (r.paths != 0 || r.kernel) {
		err = fmt.Errorf("ToR's %s: %+v; want none", prefix, r)
	}
	return err
}

// session is what tells that a BGP session flapped, on both sides: the ToR's counters and
// session uptime for its dynamic peer (a dynamic peer is deleted when its session ends, and its
// counters start over: the uptime tells), the node's counters.
type session struct {
	TorEstablished, TorDropped   int
	TorUpMsec                    int64
	NodeEstablished, NodeDropped int
}

// flapped tells whether the session went down between s and later.
func (s session) flapped(later session) bool {
	return later.TorUpMsec < s.TorUpMsec || later.TorEstablished != s.TorEstablished || later.TorDropped != s.TorDropped ||
		later.NodeEstablished != s.NodeEstablished || later.NodeDropped != s.NodeDropped
}

func sessionOf(tor, node *frrtest.Router) (session, error) {
	type nbr struct {
		State       string `json:"bgpState"`
		Established int    `json:"connectionsEstablished"`
		Dropped     int    `json:"connectionsDropped"`
		UpMsec      int64  `json:"bgpTimerUpMsec"`
	}
	var t, n map[string]nbr
	if err := tor.ShowJSON("show bgp neighbors "+nodeAddr+" json", &t); err != nil {
		return session{}, err
	}
	if err := node.ShowJSON("show bgp neighbors 192.168.10.1 json", &n); err != nil {
		return session{}, err
	}
	ts, ns := t[nodeAddr], n["192.168.10.1"]
	if ts.State != "Established" || ns.State != "Established" {
		return session{}, fmt.Errorf("session: ToR %q, node %q", ts.State, ns.State)
	}
	if ts.UpMsec == 0 {
		return session{}, errors.New("no bgpTimerUpMsec in the ToR's show bgp neighbors json")
	}
	return session{ts.Established, ts.Dropped, ts.UpMsec, ns.Established, ns.Dropped}, nil
}

// TestApplierOnTheWire: an Applier (Apply, and Run behind it) drives a node that peers with
// the seed's ToR. Changes reach the ToR without a session flap; a bgpd killed and restarted
// gets its configuration back within a second or two while the ToR, thanks to graceful restart
// with preserve-fw-state, never loses the route.
func TestApplierOnTheWire(t *testing.T) {
	if testing.Short() {
		t.Skip("~15 s per FRR version")
	}
	torConf, err := os.ReadFile(seedTorConf)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range frrtest.Supported() {
		// Not parallel: the restart's timings mean more on a quieter machine.
		t.Run(string(v), func(t *testing.T) { testOnTheWire(t, v, string(torConf)) })
	}
}

func testOnTheWire(t *testing.T, v frrtest.Version, torConf string) {
	node := frrtest.Start(t, v, "node")
	tor := frrtest.Start(t, v, "tor")
	frrtest.Link(t, node, tor, netip.MustParsePrefix(nodeAddr+"/24"), netip.MustParsePrefix("192.168.10.1/24"))
	if err := tor.Load(torConf); err != nil {
		t.Fatal(err)
	}
	h := newHandsOn(t)
	a := newApplier(t, node, ApplierOptions{})
	runApplier(t, a)
	// step applies desired and hands it to Run, which keeps it applied.
	step := func(name, desired string) ApplyResult {
		t.Helper()
		res := mustApply(t, a, desired)
		a.Submit([]byte(desired))
		t.Logf("%s: %d lines in %v, resets %q", name, len(res.Lines), res.Duration, res.Resets)
		return res
	}
	noFlap := func(name string, before session) {
		t.Helper()
		// Long enough for a reset session to show as dropped.
		time.Sleep(500 * time.Millisecond)
		after, err := sessionOf(tor, node)
		if err != nil || before.flapped(after) {
			t.Errorf("%s: session %+v, then %+v (%v); want no change", name, before, after, err)
		}
	}
	established := func() session {
		t.Helper()
		var s session
		frrtest.WaitFor(t, 30*time.Second, func() (err error) {
			s, err = sessionOf(tor, node)
			return err
		})
		return s
	}

	desired := h.render(v)
	start := time.Now()
	step("first apply", desired)
	frrtest.WaitFor(t, 30*time.Second, func() error { return hasRoute(tor, "172.20.0.1/32") })
	t.Logf("ToR has 172.20.0.1/32 %v after the first apply", time.Since(start).Round(time.Millisecond))
	s := established()

	t.Run("bgpd restart", func(t *testing.T) {
		testRestart(t, a, node, tor, desired, "172.20.0.1/32")
		s = established()
	})

	h.edit("05-http-test.yaml", "ip: 172.20.0.1", "ip: 172.20.0.2")
	desired = h.render(v)
	if res := step("LoadBalancer IP", desired); len(res.Resets) > 0 || res.ReadBack {
		t.Errorf("resets %q, read back %v", res.Resets, res.ReadBack)
	}
	frrtest.WaitFor(t, 10*time.Second, func() error {
		return errors.Join(hasRoute(tor, "172.20.0.2/32"), hasNoRoute(tor, "172.20.0.1/32"))
	})
	noFlap("LoadBalancer IP", s)

	if res := step("same again", desired); len(res.Lines) > 0 || res.ReadBack {
		t.Errorf("same configuration again: lines %q, read back %v", res.Lines, res.ReadBack)
	}
	noFlap("same again", s)

	h.edit("03-advertisement.yaml", "      - LoadBalancerIP\n", "      - LoadBalancerIP\n    attributes:\n      communities:\n        standard: [\"65000:100\"]\n")
	desired = h.render(v)
	if res := step("communities", desired); len(res.Resets) > 0 || len(res.Lines) == 0 {
		t.Errorf("communities: lines %q, resets %q", res.Lines, res.Resets)
	}
	frrtest.WaitFor(t, 10*time.Second, func() error {
		r, err := showTorRoute(tor, "172.20.0.2/32")
		if err == nil && r.comms != "65000:100" {
			err = fmt.Errorf("ToR's 172.20.0.2/32: %+v, want community 65000:100", r)
		}
		return err
	})
	noFlap("communities", s)

	h.remove("03-advertisement.yaml")
	desired = h.render(v)
	if res := step("advertisement removed", desired); len(res.Resets) > 0 {
		t.Errorf("resets %q", res.Resets)
	}
	frrtest.WaitFor(t, 10*time.Second, func() error { return hasNoRoute(tor, "172.20.0.2/32") })
	noFlap("advertisement removed", s)
	if err := runs(node, desired); err != nil {
		t.Error(err)
	}
	if st := a.Status(); st.Err != nil {
		t.Errorf("Run's last apply: %v", st.Err)
	}
}

// testRestart kills the node's bgpd and starts it again while Run runs: Run must re-apply
// within ~2 s, and the ToR must keep prefix all along. Then the same for zebra, which leaves
// bgpd's configuration alone: Run reads it back and sends nothing.
func testRestart(t *testing.T, a *Applier, node, tor *frrtest.Router, desired, prefix string) {
	// Poll the ToR every 100 ms: BGP table and kernel.
	var polls, misses atomic.Int32
	var firstMiss atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			r, err := showTorRoute(tor, prefix)
			polls.Add(1)
			if err != nil || r.paths != 1 || !r.kernel {
				misses.Add(1)
				firstMiss.CompareAndSwap(nil, fmt.Sprintf("%+v %v", r, err))
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	before := a.Status()
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
	time.Sleep(time.Second) // bgpd down for a while: the ToR holds the stale route
	if err := node.StartDaemon("bgpd"); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	frrtest.WaitFor(t, 10*time.Second, func() error { return runs(node, desired) })
	reapplied := time.Since(started)
	t.Logf("bgpd restarted: its configuration is back %v after the start", reapplied.Round(time.Millisecond))
	if reapplied > 2*time.Second {
		t.Errorf("Run re-applied %v after bgpd started; want within ~2 s", reapplied)
	}
	frrtest.WaitFor(t, 30*time.Second, func() error { return hasRoute(tor, prefix) })
	t.Logf("the ToR's path is fresh again %v after the start", time.Since(started).Round(time.Millisecond))
	after := a.Status()
	t.Logf("Run: %d applies (failing while bgpd was down), %d reads since the kill", after.Applies-before.Applies, after.Reads-before.Reads)

	before = after
	pid = daemonPID(t, node, "zebra")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := node.StartDaemon("zebra"); err != nil {
		t.Fatal(err)
	}
	// bgpd's configuration is untouched; zebra's own lines (FRR 8) went with it and come back.
	zebraLines := len(mustParse(t, desired).Zebra())
	frrtest.WaitFor(t, 5*time.Second, func() error {
		if st := a.Status(); st.Reads == before.Reads || st.Err != nil || st.Lines != zebraLines {
			return fmt.Errorf("after zebra's restart, Run's status: %+v; want %d lines sent (zebra's)", st, zebraLines)
		}
		return nil
	})
	if err := runs(node, desired); err != nil {
		t.Error(err)
	}
	if zebraLines > 0 {
		out, err := node.Vtysh("-d", "zebra", "-c", "show running-config")
		if err != nil || !strings.Contains(out, "\nip nht resolve-via-default\n") {
			t.Errorf("zebra after its restart (%v):\n%s", err, out)
		}
	}
	if n := misses.Load(); n > 0 {
		t.Errorf("the ToR was without %s in %d of %d polls (first: %v)", prefix, n, polls.Load(), firstMiss.Load())
	}
	t.Logf("the ToR had %s in each of %d polls", prefix, polls.Load())
}

// TestApplierZebraAndBgpdKilled: zebra and bgpd SIGKILLed together on a node, then started
// again, zebra first, as watchfrr restarts them, while Run runs. Without graceful restart the
// ToR must lose every route the node advertised (nothing preserves them: that is what graceful
// restart is for) and get each back once Run has re-applied the configuration. With graceful
// restart (and preserve-fw-state) the ToR must keep every route, stale, in its table and kernel
// all along, and have each fresh again. The log has the times to re-apply and to the ToR's last
// route.
func TestApplierZebraAndBgpdKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("~10 s per FRR version and case")
	}
	torConf, err := os.ReadFile(seedTorConf)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Run("graceful restart", func(t *testing.T) { testBothKilled(t, v, string(torConf), true) })
			t.Run("no graceful restart", func(t *testing.T) { testBothKilled(t, v, string(torConf), false) })
		})
	}
}

func testBothKilled(t *testing.T, v frrtest.Version, torConf string, gr bool) {
	node := frrtest.Start(t, v, "node")
	tor := frrtest.Start(t, v, "tor")
	frrtest.Link(t, node, tor, netip.MustParsePrefix(nodeAddr+"/24"), netip.MustParsePrefix("192.168.10.1/24"))
	if err := tor.Load(torConf); err != nil {
		t.Fatal(err)
	}
	h := newHandsOn(t)
	if !gr {
		h.edit("02-peer-config.yaml", "  gracefulRestart:\n    enabled: true\n", "  gracefulRestart:\n    enabled: false\n")
	}
	// A second Service: "every route" is more than one.
	service, err := os.ReadFile(filepath.Join(seedHandsOn, "05-http-test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	second := frrconfigtest.Edit(t, string(service), "ip: 172.20.0.1", "ip: 172.20.0.7", "name: http-test\n", "name: http-test-2\n")
	if err := os.WriteFile(filepath.Join(h.dir, "07-http-test-2.yaml"), []byte(second), 0o644); err != nil {
		t.Fatal(err)
	}
	desired := h.render(v)
	if disabled := strings.Contains(desired, " graceful-restart-disable\n"); disabled == gr || strings.Contains(desired, "bgp graceful-restart preserve-fw-state") != gr {
		t.Fatalf("graceful restart %v, rendered:\n%s", gr, desired)
	}
	prefixes := []string{"172.20.0.1/32", "172.20.0.7/32"}
	everyRoute := func() error {
		var errs []error
		for _, p := range prefixes {
			errs = append(errs, hasRoute(tor, p))
		}
		return errors.Join(errs...)
	}
	noRoute := func() error {
		var errs []error
		for _, p := range prefixes {
			errs = append(errs, hasNoRoute(tor, p))
		}
		return errors.Join(errs...)
	}
	// kept: a path to every prefix, stale or not, in the ToR's table and kernel.
	kept := func() error {
		var errs []error
		for _, p := range prefixes {
			r, err := showTorRoute(tor, p)
			if err == nil && (r.paths != 1 || !r.kernel) {
				err = fmt.Errorf("ToR's %s: %+v; want a path, in the kernel", p, r)
			}
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}

	a := newApplier(t, node, ApplierOptions{})
	runApplier(t, a)
	mustApply(t, a, desired)
	a.Submit([]byte(desired))
	frrtest.WaitFor(t, 30*time.Second, everyRoute)
	if gr {
		// The session the kill ends must have negotiated graceful restart.
		frrtest.WaitFor(t, 30*time.Second, func() error { return gracefulRestartNegotiated(tor) })
		frrtest.WaitFor(t, 30*time.Second, everyRoute)
	}

	// With graceful restart, poll the ToR from the kill until every route is fresh again.
	var polls, misses atomic.Int32
	var firstMiss atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if gr {
		wg.Go(func() {
			for {
				polls.Add(1)
				if err := kept(); err != nil {
					misses.Add(1)
					firstMiss.CompareAndSwap(nil, err.Error())
				}
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()

	zebra, bgpd := daemonPID(t, node, "zebra"), daemonPID(t, node, "bgpd")
	killed := time.Now()
	for _, pid := range []int{zebra, bgpd} {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	frrtest.WaitFor(t, 5*time.Second, func() error {
		if syscall.Kill(zebra, 0) == nil || syscall.Kill(bgpd, 0) == nil {
			return errors.New("zebra or bgpd still running")
		}
		return nil
	})
	if gr {
		time.Sleep(time.Second) // down for a while: the ToR holds the routes stale
	} else {
		// Without graceful restart the ToR withdraws as soon as the session's TCP connection
		// closes (the kernel closes it for the dead bgpd), well before the hold time.
		frrtest.WaitFor(t, 10*time.Second, noRoute)
		t.Logf("the ToR lost every route %v after the kill", time.Since(killed).Round(time.Millisecond))
	}

	for _, d := range []string{"zebra", "bgpd"} {
		if err := node.StartDaemon(d); err != nil {
			t.Fatal(err)
		}
	}
	started := time.Now()
	frrtest.WaitFor(t, 10*time.Second, func() error { return runs(node, desired) })
	reapplied := time.Since(started)
	frrtest.WaitFor(t, 60*time.Second, everyRoute)
	back := time.Since(started)
	t.Logf("zebra and bgpd started again: configuration re-applied after %v, every route fresh at the ToR after %v (%v after the kill)",
		reapplied.Round(time.Millisecond), back.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	if reapplied > 2*time.Second {
		t.Errorf("Run re-applied %v after the daemons started; want within ~2 s", reapplied)
	}
	if st := a.Status(); st.Err != nil {
		t.Errorf("Run's last apply: %v", st.Err)
	}
	if gr {
		if n := misses.Load(); n > 0 {
			t.Errorf("graceful restart: the ToR was without a route in %d of %d polls (first: %v)", n, polls.Load(), firstMiss.Load())
		}
		t.Logf("graceful restart: the ToR had every route in each of %d polls", polls.Load())
	}
}

// gracefulRestartNegotiated: the ToR's session with the node is established with graceful
// restart advertised and received (a session started before the node's graceful-restart line
// is reset to take it).
func gracefulRestartNegotiated(tor *frrtest.Router) error {
	out, err := tor.Vtysh("-c", "show bgp neighbors "+nodeAddr)
	if err == nil && (!strings.Contains(out, "BGP state = Established") || !strings.Contains(out, "Graceful Restart Capability: advertised and received")) {
		err = errors.New("the ToR's session with the node has not negotiated graceful restart")
	}
	return err
}
