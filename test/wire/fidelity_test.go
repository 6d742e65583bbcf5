package wire

// The cases of issue 10 that show on the wire, on FRR 8.4 and 10.3, each through the real
// pipeline (manifests -> translate -> render -> the applier on bgpd's and zebra's vty sockets)
// and checked at a real FRR ToR: what the ToR negotiated, which sessions it saw drop, whether
// a session came up at all.

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/nodeconfig"
	"github.com/frr-renderer/frr-renderer/internal/translate"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// fidelityNode is the node of these tests: CiliumNode "node" at 10.0.0.2.
const fidelityNode = `apiVersion: cilium.io/v2
kind: CiliumNode
metadata: {name: node}
spec:
  addresses: [{type: InternalIP, ip: 10.0.0.2}]
`

// pipeline renders manifests for the node and applies them through one applier, as the
// sidecar does.
type pipeline struct {
	t       *testing.T
	dialect frrconfig.Dialect
	app     *vtysh.Applier
}

func newPipeline(t *testing.T, v frrtest.Version, node *frrtest.Router) *pipeline {
	app := vtysh.NewApplier(vtysh.ApplierOptions{RunDir: node.RunDir(), StateFile: t.TempDir() + "/state"})
	t.Cleanup(func() { app.Close() })
	return &pipeline{t: t, dialect: dialectFor[v], app: app}
}

// apply renders the manifests (YAML documents) and applies them; it returns what was applied.
func (p *pipeline) apply(manifests ...string) vtysh.ApplyResult {
	p.t.Helper()
	snap := &model.Snapshot{}
	if _, err := manifest.Decode("test.yaml", []byte(strings.Join(append([]string{fidelityNode}, manifests...), "---\n")), snap); err != nil {
		p.t.Fatal(err)
	}
	r, err := nodeconfig.Render(snap, model.HostFacts{}, translate.Options{Node: "node"}, p.dialect)
	for _, d := range r.Diagnostics {
		p.t.Logf("diagnostic: %v", d)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	text := r.Text
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := p.app.Apply(ctx, text)
	if err != nil {
		p.t.Fatalf("apply: %v\n%s", err, text)
	}
	p.t.Logf("applied %d lines, reset %v", len(out.Lines), out.SessionResets)
	return out
}

// torSession is the ToR's view of its session with one node address.
type torSession struct {
	State      string
	HoldMsecs  int
	Dropped    int
	GRCap      string // neighborCapabilities.gracefulRestart: "advertisedAndReceived" when the node sends one
	RemoteMode string
	FBit       bool
	raw        string
}

func torView(t *testing.T, tor *frrtest.Router, addr string) torSession {
	t.Helper()
	var nbrs map[string]struct {
		State   string `json:"bgpState"`
		Hold    int    `json:"bgpTimerHoldTimeMsecs"`
		Dropped int    `json:"connectionsDropped"`
		Caps    struct {
			GracefulRestart string `json:"gracefulRestart"`
		} `json:"neighborCapabilities"`
		GR struct {
			RemoteGrMode string `json:"remoteGrMode"`
			IPv4         struct {
				FBit bool `json:"fBit"`
			} `json:"ipv4Unicast"`
		} `json:"gracefulRestartInfo"`
	}
	raw, err := show(tor, "show bgp neighbors "+addr+" json", &nbrs)
	if err != nil {
		t.Fatal(err)
	}
	n := nbrs[addr]
	return torSession{n.State, n.Hold, n.Dropped, n.Caps.GracefulRestart, n.GR.RemoteGrMode, n.GR.IPv4.FBit, raw}
}

// waitTorSession waits until the ToR's session with addr is Established and ok accepts it.
func waitTorSession(t *testing.T, tor *frrtest.Router, addr string, ok func(torSession) error) torSession {
	t.Helper()
	var s torSession
	frrtest.WaitFor(t, waitLong, func() error {
		s = torView(t, tor, addr)
		if s.State != "Established" {
			return fmt.Errorf("the ToR's session with %s is %s", addr, s.State)
		}
		if ok != nil {
			if err := ok(s); err != nil {
				return fmt.Errorf("%w:\n%s", err, s.raw)
			}
		}
		return nil
	})
	return s
}

// TestNegotiatedChangesReachTheToR: a node peers with two ToR addresses through two
// PeerConfigs. Graceful restart disabled sends no capability at all (helper mode would);
// changing one PeerConfig's timers or graceful restart resets exactly its session, once, and
// the ToR negotiates the new values; the other session stays up.
func TestNegotiatedChangesReachTheToR(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) { testNegotiated(t, v) })
	}
}

func testNegotiated(t *testing.T, v frrtest.Version) {
	tor := frrtest.Start(t, v, "tor")
	node := frrtest.Start(t, v, "node")
	frrtest.Link(t, node, tor, netip.MustParsePrefix("10.0.0.2/24"), netip.MustParsePrefix("10.0.0.1/24"))
	frrtest.Link(t, node, tor, netip.MustParsePrefix("10.0.1.2/24"), netip.MustParsePrefix("10.0.1.1/24"))
	// The ToR waits for the node's connections: no collision of two connections, whose loser
	// would count as a drop.
	if err := tor.Load(`frr defaults traditional
router bgp 65000
 bgp router-id 10.0.0.1
 no bgp ebgp-requires-policy
 neighbor 10.0.0.2 remote-as 65001
 neighbor 10.0.0.2 passive
 neighbor 10.0.1.2 remote-as 65001
 neighbor 10.0.1.2 passive
exit
`); err != nil {
		t.Fatal(err)
	}
	const cluster = `apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata: {name: cc}
spec:
  bgpInstances:
  - name: main
    localASN: 65001
    peers:
    - {name: a, peerASN: 65000, peerAddress: 10.0.0.1, peerConfigRef: {name: pa}}
    - {name: b, peerASN: 65000, peerAddress: 10.0.1.1, peerConfigRef: {name: pb}}
`
	peerConfig := func(name, spec string) string {
		return "apiVersion: cilium.io/v2\nkind: CiliumBGPPeerConfig\nmetadata: {name: " + name + "}\nspec:\n" +
			"  timers: {connectRetryTimeSeconds: 1" + spec + "\n"
	}
	grOn := "  gracefulRestart: {enabled: true, restartTimeSeconds: 120}\n"
	p := newPipeline(t, v, node)

	p.apply(cluster, peerConfig("pa", "}"), peerConfig("pb", "}\n"+grOn))
	a := waitTorSession(t, tor, "10.0.0.2", func(s torSession) error {
		// GR disabled: the node sends no capability; FRR's default helper mode would.
		if s.GRCap == "advertisedAndReceived" || s.RemoteMode != "Disable" {
			return fmt.Errorf("GR capability %q, remote mode %q; want none from the node", s.GRCap, s.RemoteMode)
		}
		return nil
	})
	b := waitTorSession(t, tor, "10.0.1.2", func(s torSession) error {
		if s.GRCap != "advertisedAndReceived" || s.RemoteMode != "Restart" || !s.FBit {
			return fmt.Errorf("GR capability %q, remote mode %q, F bit %v; want the node's, restarting, F", s.GRCap, s.RemoteMode, s.FBit)
		}
		return nil
	})
	if a.HoldMsecs != 90_000 || b.HoldMsecs != 90_000 {
		t.Fatalf("hold times %d and %d ms, want 90000", a.HoldMsecs, b.HoldMsecs)
	}

	steps := []struct {
		name      string
		pa, pb    string
		wantReset []string
		check     func(a torSession) error
	}{
		{
			name: "pa's timers", pa: ", holdTimeSeconds: 30, keepAliveTimeSeconds: 10}", pb: "}\n" + grOn,
			wantReset: []string{"10.0.0.1 (timers)"},
			check: func(s torSession) error {
				if s.HoldMsecs != 30_000 {
					return fmt.Errorf("hold time %d ms, want 30000", s.HoldMsecs)
				}
				return nil
			},
		},
		{
			name: "pa's graceful restart on", pa: ", holdTimeSeconds: 30, keepAliveTimeSeconds: 10}\n" + grOn, pb: "}\n" + grOn,
			wantReset: nil, // FRR 10.3 resets it itself; 8.4 leaves it to the applier
			check: func(s torSession) error {
				if s.GRCap != "advertisedAndReceived" || s.RemoteMode != "Restart" || !s.FBit {
					return fmt.Errorf("GR capability %q, remote mode %q, F bit %v; want the node's, restarting, F", s.GRCap, s.RemoteMode, s.FBit)
				}
				return nil
			},
		},
		{
			name: "pa's graceful restart off again", pa: ", holdTimeSeconds: 30, keepAliveTimeSeconds: 10}", pb: "}\n" + grOn,
			check: func(s torSession) error {
				if s.GRCap == "advertisedAndReceived" || s.RemoteMode != "Disable" {
					return fmt.Errorf("GR capability %q, remote mode %q; want none from the node", s.GRCap, s.RemoteMode)
				}
				return nil
			},
		},
	}
	for _, st := range steps {
		before, other := torView(t, tor, "10.0.0.2"), torView(t, tor, "10.0.1.2")
		res := p.apply(cluster, peerConfig("pa", st.pa), peerConfig("pb", st.pb))
		if st.wantReset != nil && !slices.Equal(res.SessionResets, st.wantReset) {
			t.Errorf("%s: the applier reset %q, want %q", st.name, res.SessionResets, st.wantReset)
		}
		after := waitTorSession(t, tor, "10.0.0.2", st.check)
		// Exactly one reset of the changed session: by FRR or by the applier, never both.
		if after.Dropped != before.Dropped+1 {
			t.Errorf("%s: the ToR saw the changed session drop %d times, want once; the ToR's view:\n%s", st.name, after.Dropped-before.Dropped, after.raw)
		}
		if o := torView(t, tor, "10.0.1.2"); o.Dropped != other.Dropped || o.State != "Established" {
			t.Errorf("%s: the other session dropped %d times (now %s), want never", st.name, o.Dropped-other.Dropped, o.State)
		}
		// Nothing left to do: applying the same again sends nothing and resets nothing.
		if again := p.apply(cluster, peerConfig("pa", st.pa), peerConfig("pb", st.pb)); len(again.Lines) != 0 || len(again.SessionResets) != 0 {
			t.Errorf("%s: applying again sent %q and reset %q", st.name, again.Lines, again.SessionResets)
		}
		t.Logf("FRR %s, %s: the ToR negotiated hold %d ms, GR %q/%s, F %v; applier resets %q", v, st.name, after.HoldMsecs, after.GRCap, after.RemoteMode, after.FBit, res.SessionResets)
	}
}

// TestPeerBeyondConnectedSubnet: GoBGP connects through the kernel, so a peer on the ToR's
// loopback, reached through the default route, comes up with Cilium; FRR waits for the
// address to be on a connected subnet (single hop) or for its next-hop tracking to resolve it
// (multihop, which FRR 8.4 does not over a default route). The node must start both sessions
// itself: the ToR is passive.
func TestPeerBeyondConnectedSubnet(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) { testBeyondConnected(t, v) })
	}
}

func testBeyondConnected(t *testing.T, v frrtest.Version) {
	// node -- tor -- far: the node's only route out is its default route through the ToR; the
	// ToR has its loopback 10.255.0.1 (one hop from the node: TTL 1 reaches it) and forwards to
	// far, whose loopback 10.255.0.2 is two hops away.
	tor := frrtest.Start(t, v, "tor")
	node := frrtest.Start(t, v, "node")
	far := frrtest.Start(t, v, "far")
	frrtest.Link(t, node, tor, netip.MustParsePrefix("10.0.0.2/24"), netip.MustParsePrefix("10.0.0.1/24"))
	frrtest.Link(t, tor, far, netip.MustParsePrefix("10.1.0.1/24"), netip.MustParsePrefix("10.1.0.2/24"))
	for _, c := range []struct {
		r   *frrtest.Router
		cmd []string
	}{
		{tor, []string{"ip", "addr", "add", "10.255.0.1/32", "dev", "lo"}},
		{tor, []string{"sysctl", "-qw", "net.ipv4.ip_forward=1"}},
		{tor, []string{"ip", "route", "add", "10.255.0.2/32", "via", "10.1.0.2"}},
		{far, []string{"ip", "addr", "add", "10.255.0.2/32", "dev", "lo"}},
		{far, []string{"ip", "route", "add", "default", "via", "10.1.0.1"}},
		{node, []string{"ip", "route", "add", "default", "via", "10.0.0.1"}},
	} {
		if _, err := c.r.Exec(c.cmd...); err != nil {
			t.Fatal(err)
		}
	}
	// Both passive: the node must start the sessions.
	if err := tor.Load(`frr defaults traditional
router bgp 65000
 bgp router-id 10.255.0.1
 no bgp ebgp-requires-policy
 neighbor 10.0.0.2 remote-as 65001
 neighbor 10.0.0.2 update-source 10.255.0.1
 neighbor 10.0.0.2 disable-connected-check
 neighbor 10.0.0.2 passive
exit
`); err != nil {
		t.Fatal(err)
	}
	if err := far.Load(`frr defaults traditional
router bgp 65100
 bgp router-id 10.255.0.2
 no bgp ebgp-requires-policy
 neighbor 10.0.0.2 remote-as 65002
 neighbor 10.0.0.2 update-source 10.255.0.2
 neighbor 10.0.0.2 ebgp-multihop 3
 neighbor 10.0.0.2 passive
exit
`); err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t, v, node)
	res := p.apply(`apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata: {name: cc}
spec:
  bgpInstances:
  - name: near
    localASN: 65001
    peers:
    - {name: loopback, peerASN: 65000, peerAddress: 10.255.0.1, peerConfigRef: {name: single}}
  - name: far
    localASN: 65002
    peers:
    - {name: multihop, peerASN: 65100, peerAddress: 10.255.0.2, peerConfigRef: {name: multi}}
`, `apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: single}
spec:
  timers: {connectRetryTimeSeconds: 1}
`, `apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: multi}
spec:
  timers: {connectRetryTimeSeconds: 1}
  ebgpMultihop: 2
`)
	if v == frrtest.FRR8 {
		// zebra's part: next hops resolve over the default route.
		if !slices.Contains(res.Lines, "ip nht resolve-via-default") {
			t.Errorf("no zebra line among the applied lines %q", res.Lines)
		}
		out, err := node.Vtysh("-d", "zebra", "-c", "show running-config")
		if err != nil || !strings.Contains(out, "\nip nht resolve-via-default\n") {
			t.Errorf("zebra does not run ip nht resolve-via-default (%v):\n%s", err, out)
		}
	}
	start := time.Now()
	frrtest.WaitFor(t, waitLong, func() error {
		for _, r := range []*frrtest.Router{tor, far} {
			var n map[string]struct {
				State string `json:"bgpState"`
			}
			if _, err := show(r, "show bgp neighbors 10.0.0.2 json", &n); err != nil {
				return err
			}
			if state := n["10.0.0.2"].State; state != "Established" {
				return fmt.Errorf("%s's session with the node: %s", r.Name, state)
			}
		}
		return nil
	})
	t.Logf("FRR %s: both sessions Established %v after the apply", v, time.Since(start).Round(time.Millisecond))
	// Applying again changes nothing (the zebra lines included).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.app.Verify(ctx); err != nil {
		t.Errorf("verify: %v", err)
	}
}
