// Package wire runs rendered configurations in real FRR, peered with a real FRR top-of-rack
// router, and checks what crosses the wire: sessions, negotiated parameters, routes and the
// kernel's forwarding table.
package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
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
)

const (
	handsOn = "../../examples/seed/hands-on"
	torConf = "../../examples/seed/tor-frr.conf"

	torAddr = "192.168.10.1"  // the ToR's address on the segment, as tor-frr.conf and the PeerConfig say
	vip     = "172.20.0.1/32" // the LoadBalancer IP of Service http-test
	// waitLong bounds waits that include session set-up; everything observed takes a few seconds.
	waitLong = 30 * time.Second
)

// seedNodes are the Hands-On's nodes with their InternalIPs (examples/seed/hands-on/06-nodes.yaml).
var seedNodes = []struct{ name, addr string }{
	{"cp-1", "192.168.10.11"},
	{"worker-1", "192.168.10.12"},
	{"worker-2", "192.168.10.13"},
}

// dialectFor is the dialect the renderer writes for each FRR version the harness runs.
var dialectFor = map[frrtest.Version]frrconfig.Dialect{
	frrtest.FRR8:  frrconfig.FRR8,
	frrtest.FRR10: frrconfig.FRR10,
}

// TestSeedOnTheWire is the seed's Hands-On on the wire: the ToR of tor-frr.conf and the three
// nodes, each running what the real pipeline renders for it, on one L2 segment. Every node
// must peer with the ToR, the ToR must reach the Service's LoadBalancer IP through all three
// (ECMP, in BGP and in its kernel) and learn nothing else, and no node may take anything from
// the ToR.
func TestSeedOnTheWire(t *testing.T) {
	snap, diags, err := manifest.Load([]string{handsOn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diags {
		t.Logf("manifest: %v", d)
	}
	tor, err := os.ReadFile(torConf)
	if err != nil {
		t.Fatal(err)
	}
	// Not parallel: the timings this test logs mean more on an otherwise idle machine, and
	// one version at a time takes well under a minute.
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) { testSeed(t, v, snap, string(tor)) })
	}
}

func testSeed(t *testing.T, v frrtest.Version, snap *model.Snapshot, torConfig string) {
	configs := make([]string, len(seedNodes))
	for i, n := range seedNodes {
		configs[i] = render(t, snap, n.name, dialectFor[v])
	}

	// One L2 segment, 192.168.10.0/24: a veth pair per node, the ToR's ends in one bridge.
	tor := frrtest.Start(t, v, "tor")
	nodes := make([]*frrtest.Router, len(seedNodes))
	var ports []string
	for i, n := range seedNodes {
		nodes[i] = frrtest.Start(t, v, n.name)
		torIf, _ := frrtest.Link(t, tor, nodes[i], netip.Prefix{}, netip.MustParsePrefix(n.addr+"/24"))
		ports = append(ports, torIf)
	}
	frrtest.Bridge(t, tor, "br0", netip.MustParsePrefix(torAddr+"/24"), ports...)

	// The ToR first: a node starts its session as soon as its configuration is in, and a first
	// connection refused by a ToR without `router bgp` would wait out the connect-retry timer
	// (120 s on 8.4, 30 s on 10.3).
	if err := tor.Load(torConfig); err != nil {
		t.Fatalf("the ToR rejected tor-frr.conf: %v", err)
	}
	for i, n := range seedNodes {
		if err := nodes[i].Load(configs[i]); err != nil {
			t.Fatalf("%s: FRR %s rejected the rendered config: %v\n%s", n.name, v, err, configs[i])
		}
	}
	loaded := time.Now()
	// Expect ~5 s on both versions, most of it before the sessions even start: after a
	// `vtysh -f` bgpd keeps its peers in a "config-pending hold" until the route-map update
	// timer (`bgp route-map delay-timer`, 5 s by default, started by the first route-map line)
	// has run; bgpd.log says "released from config-pending hold". Sessions come up 4-5 s after
	// the load, the routes right after (coalesce-time 0: without it, up to ~1 s later).

	frrtest.WaitFor(t, waitLong, func() error { return torPeersUp(tor) })
	established := time.Since(loaded)
	var paths string
	frrtest.WaitFor(t, waitLong, func() (err error) {
		paths, err = torECMPPaths(tor)
		return err
	})
	inBGP := time.Since(loaded)
	frrtest.WaitFor(t, 10*time.Second, func() error { return torKernelECMP(tor) })
	inKernel := time.Since(loaded)
	t.Logf("FRR %s: after the last node's Load: 3 sessions Established in %v, 3 multipath paths on the ToR in %v, ECMP route in the ToR's kernel in %v",
		v, established.Round(time.Millisecond), inBGP.Round(time.Millisecond), inKernel.Round(time.Millisecond))

	checkTorView(t, tor)
	checkTorLearnedOnlyVIP(t, tor, paths)
	offerSegment(t, tor, nodes)
	for i, n := range seedNodes {
		checkNode(t, n.name, nodes[i])
	}
}

// render runs the pipeline of `frr-renderer render` for one node of the snapshot.
func render(t *testing.T, snap *model.Snapshot, node string, d frrconfig.Dialect) string {
	t.Helper()
	r, err := nodeconfig.Render(snap, model.HostFacts{}, translate.Options{Node: node}, d)
	if err != nil {
		t.Fatalf("render %s for FRR %s: %v", node, d, err)
	}
	for _, dg := range r.Diagnostics {
		t.Logf("%s: %v", node, dg)
	}
	return string(r.Text)
}

// show runs a bgpd JSON command on r and decodes its output into out. It returns the raw
// output for messages.
func show(r *frrtest.Router, cmd string, out any) (string, error) {
	raw, err := r.Vtysh("-d", "bgpd", "-c", cmd)
	if err != nil {
		return raw, err
	}
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		return raw, fmt.Errorf("%s: %q: %w\n%s", r.Name, cmd, err, raw)
	}
	return raw, nil
}

// torPeersUp succeeds once the ToR has exactly the three nodes as Established dynamic peers.
// How many prefixes each sent is checkTorLearnedOnlyVIP's business, once they all sent
// End-of-RIB: a leak must fail fast, not time out here.
func torPeersUp(tor *frrtest.Router) error {
	var sum struct {
		IPv4Unicast struct {
			Peers map[string]struct {
				State       string `json:"state"`
				DynamicPeer bool   `json:"dynamicPeer"`
			} `json:"peers"`
		} `json:"ipv4Unicast"`
	}
	raw, err := show(tor, "show bgp summary json", &sum)
	if err != nil {
		return err
	}
	peers := sum.IPv4Unicast.Peers
	if got, want := slices.Sorted(maps.Keys(peers)), nodeAddrs(); !slices.Equal(got, want) {
		return fmt.Errorf("ToR peers %v, want %v:\n%s", got, want, raw)
	}
	for addr, p := range peers {
		if p.State != "Established" || !p.DynamicPeer {
			return fmt.Errorf("ToR peer %s: state %q, dynamic %v; want Established, dynamic:\n%s", addr, p.State, p.DynamicPeer, raw)
		}
	}
	return nil
}

// prefixPath is a path of `show bgp ipv4 unicast PREFIX json` (both 8.4 and 10.3).
type prefixPath struct {
	Multipath bool `json:"multipath"`
	Bestpath  *struct {
		Overall bool `json:"overall"`
	} `json:"bestpath"`
	Nexthops []struct {
		IP string `json:"ip"`
	} `json:"nexthops"`
	Peer struct {
		PeerID string `json:"peerId"`
	} `json:"peer"`
}

// torECMPPaths succeeds once the ToR has three paths to the VIP, one from each node with the
// node as next hop, all multipath and one of them best; it returns the JSON.
func torECMPPaths(tor *frrtest.Router) (string, error) {
	var route struct {
		Prefix string       `json:"prefix"`
		Paths  []prefixPath `json:"paths"`
	}
	raw, err := show(tor, "show bgp ipv4 unicast "+vip+" json", &route)
	if err != nil {
		return raw, err
	}
	var nexthops []string
	best := 0
	for _, p := range route.Paths {
		if len(p.Nexthops) != 1 || p.Nexthops[0].IP != p.Peer.PeerID {
			return raw, fmt.Errorf("ToR path from %q has next hops %+v, want the node itself:\n%s", p.Peer.PeerID, p.Nexthops, raw)
		}
		nexthops = append(nexthops, p.Nexthops[0].IP)
		if !p.Multipath {
			return raw, fmt.Errorf("ToR path via %s is not multipath:\n%s", p.Nexthops[0].IP, raw)
		}
		if p.Bestpath != nil && p.Bestpath.Overall {
			best++
		}
	}
	slices.Sort(nexthops)
	if route.Prefix != vip || !slices.Equal(nexthops, nodeAddrs()) || best != 1 {
		return raw, fmt.Errorf("ToR route %q: next hops %v with %d best paths, want %s via %v with 1 best path:\n%s",
			route.Prefix, nexthops, best, vip, nodeAddrs(), raw)
	}
	return raw, nil
}

// torKernelECMP succeeds once the ToR's kernel has one route to the VIP with the three nodes
// as next hops.
func torKernelECMP(tor *frrtest.Router) error {
	out, err := tor.Exec("ip", "-j", "route", "show", strings.TrimSuffix(vip, "/32"))
	if err != nil {
		return err
	}
	var routes []struct {
		Protocol string `json:"protocol"`
		Nexthops []struct {
			Gateway string `json:"gateway"`
			Dev     string `json:"dev"`
		} `json:"nexthops"`
	}
	if err := json.Unmarshal([]byte(out), &routes); err != nil {
		return fmt.Errorf("ip -j route: %w\n%s", err, out)
	}
	if len(routes) != 1 || routes[0].Protocol != "bgp" {
		return fmt.Errorf("ToR kernel routes to %s: want one from bgp:\n%s", vip, out)
	}
	var gws []string
	for _, nh := range routes[0].Nexthops {
		if nh.Dev != "br0" {
			return fmt.Errorf("ToR kernel next hop %s on %q, want br0:\n%s", nh.Gateway, nh.Dev, out)
		}
		gws = append(gws, nh.Gateway)
	}
	slices.Sort(gws)
	if !slices.Equal(gws, nodeAddrs()) {
		return fmt.Errorf("ToR kernel next hops %v, want %v:\n%s", gws, nodeAddrs(), out)
	}
	return nil
}

// checkTorLearnedOnlyVIP: the VIP is the only route in the ToR's table (the ToR originates
// none of its own until offerSegment), and it carries no community of any kind: the Hands-On sets none, and the
// tag that marks the node's exports must never turn into an attribute.
func checkTorLearnedOnlyVIP(t *testing.T, tor *frrtest.Router, pathsJSON string) {
	t.Helper()
	var table struct {
		Routes map[string]json.RawMessage `json:"routes"`
	}
	raw, err := show(tor, "show bgp ipv4 unicast json", &table)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(table.Routes)); !slices.Equal(got, []string{vip}) {
		t.Errorf("ToR's IPv4 unicast table has %v, want only %s:\n%s", got, vip, raw)
	}
	var route struct {
		Paths []map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(pathsJSON), &route); err != nil {
		t.Fatal(err)
	}
	for _, p := range route.Paths {
		var peer struct {
			PeerID string `json:"peerId"`
		}
		_ = json.Unmarshal(p["peer"], &peer)
		for _, attr := range []string{"community", "largeCommunity", "extendedCommunity"} {
			if v, ok := p[attr]; ok {
				t.Errorf("ToR's path from %s carries %s %s:\n%s", peer.PeerID, attr, compact(v), pathsJSON)
			}
		}
	}
}

// neighbor is the part of `show bgp neighbors IP json` this test reads (same in 8.4 and 10.3).
type neighbor struct {
	BgpState          string `json:"bgpState"`
	HoldTimeMsecs     int    `json:"bgpTimerHoldTimeMsecs"`
	KeepaliveMsecs    int    `json:"bgpTimerKeepAliveIntervalMsecs"`
	ConnectRetryTimer int    `json:"connectRetryTimer"`
	Capabilities      struct {
		GracefulRestart string `json:"gracefulRestart"`
	} `json:"neighborCapabilities"`
	GracefulRestartInfo struct {
		EndOfRibRecv struct {
			IPv4Unicast bool `json:"ipv4Unicast"`
		} `json:"endOfRibRecv"`
		LocalGrMode  string `json:"localGrMode"`
		RemoteGrMode string `json:"remoteGrMode"`
		Timers       struct {
			ReceivedRestartTimer int `json:"receivedRestartTimer"`
		} `json:"timers"`
		IPv4Unicast struct {
			FBit bool `json:"fBit"`
		} `json:"ipv4Unicast"`
	} `json:"gracefulRestartInfo"`
	MessageStats struct {
		DepthOutq   int `json:"depthOutq"`
		UpdatesSent int `json:"updatesSent"`
		UpdatesRecv int `json:"updatesRecv"`
	} `json:"messageStats"`
	AddressFamilyInfo struct {
		IPv4Unicast struct {
			AcceptedPrefixCounter int `json:"acceptedPrefixCounter"`
		} `json:"ipv4Unicast"`
	} `json:"addressFamilyInfo"`
	// PrefixStats exists in 10.3 only.
	PrefixStats *struct {
		InboundFiltered int `json:"inboundFiltered"`
	} `json:"prefixStats"`
}

// showNeighbor returns r's view of its neighbor addr and the raw JSON.
func showNeighbor(r *frrtest.Router, addr string) (neighbor, string, error) {
	var nbrs map[string]neighbor
	raw, err := show(r, "show bgp neighbors "+addr+" json", &nbrs)
	if err != nil {
		return neighbor{}, raw, err
	}
	n, ok := nbrs[addr]
	if !ok {
		return n, raw, fmt.Errorf("%s has no neighbor %s:\n%s", r.Name, addr, raw)
	}
	return n, raw, nil
}

// checkTorView waits until the ToR has every node's End-of-RIB (the node's whole initial
// table is in), and checks that it sees every node's graceful-restart capability as the
// PeerConfig sets it: restarting mode, 120 s, and the F bit of `bgp graceful-restart
// preserve-fw-state`.
func checkTorView(t *testing.T, tor *frrtest.Router) {
	t.Helper()
	for _, n := range seedNodes {
		var nb neighbor
		var raw string
		frrtest.WaitFor(t, waitLong, func() (err error) {
			if nb, raw, err = showNeighbor(tor, n.addr); err == nil && !nb.GracefulRestartInfo.EndOfRibRecv.IPv4Unicast {
				err = fmt.Errorf("no End-of-RIB from %s on the ToR yet:\n%s", n.name, raw)
			}
			return err
		})
		gr := nb.GracefulRestartInfo
		if nb.Capabilities.GracefulRestart != "advertisedAndReceived" || gr.RemoteGrMode != "Restart" ||
			gr.Timers.ReceivedRestartTimer != 120 || !gr.IPv4Unicast.FBit {
			t.Errorf("ToR's view of %s: GR capability %q, remote mode %q, restart time %d, F bit %v; want advertisedAndReceived, Restart, 120, true:\n%s",
				n.name, nb.Capabilities.GracefulRestart, gr.RemoteGrMode, gr.Timers.ReceivedRestartTimer, gr.IPv4Unicast.FBit, raw)
		}
	}
}

// offerSegment makes the ToR offer the nodes a route they would accept but for their policy.
// The VIP that the ToR re-advertises to the nodes never tests the inbound policy: its AS path
// has the nodes' own AS, so bgpd drops it for the loop before any route-map runs (10.3 counts
// these in prefixStats.aspathLoop). The ToR's connected segment, originated here, has AS path
// 65000 only: only CILIUM-REJECT stands between it and the node's table. Returns once every
// node has processed every UPDATE the ToR sent it.
func offerSegment(t *testing.T, tor *frrtest.Router, nodes []*frrtest.Router) {
	t.Helper()
	const segment = "192.168.10.0/24" // connected on the ToR, so it passes the import check
	if _, err := tor.Vtysh("-c", "configure terminal", "-c", "router bgp 65000",
		"-c", "address-family ipv4 unicast", "-c", "network "+segment); err != nil {
		t.Fatal(err)
	}
	for i, n := range seedNodes {
		var sent int
		frrtest.WaitFor(t, waitLong, func() error {
			var route struct {
				AdvertisedTo map[string]json.RawMessage `json:"advertisedTo"`
			}
			raw, err := show(tor, "show bgp ipv4 unicast "+segment+" json", &route)
			if err != nil {
				return err
			}
			if _, ok := route.AdvertisedTo[n.addr]; !ok {
				return fmt.Errorf("ToR has not advertised %s to %s yet:\n%s", segment, n.name, raw)
			}
			// And the UPDATE is out of the ToR's queue.
			nb, raw, err := showNeighbor(tor, n.addr)
			if err != nil {
				return err
			}
			if nb.MessageStats.DepthOutq != 0 {
				return fmt.Errorf("ToR's output queue to %s is not empty:\n%s", n.name, raw)
			}
			sent = nb.MessageStats.UpdatesSent
			return nil
		})
		frrtest.WaitFor(t, waitLong, func() error {
			nb, raw, err := showNeighbor(nodes[i], torAddr)
			if err != nil {
				return err
			}
			if nb.MessageStats.UpdatesRecv < sent {
				return fmt.Errorf("%s processed %d of the ToR's %d UPDATEs:\n%s", n.name, nb.MessageStats.UpdatesRecv, sent, raw)
			}
			return nil
		})
	}
}

// checkNode checks a node's side of its session and that it took nothing from the ToR.
func checkNode(t *testing.T, name string, node *frrtest.Router) {
	t.Helper()
	nb, raw, err := showNeighbor(node, torAddr)
	if err != nil {
		t.Fatal(err)
	}
	// The PeerConfig's timers win: the negotiated hold time is the smaller of the two offers
	// (the ToR offers FRR's 180 s), and the keepalive follows the local configuration.
	if nb.BgpState != "Established" || nb.HoldTimeMsecs != 90_000 || nb.KeepaliveMsecs != 30_000 {
		t.Errorf("%s: session %q, hold time %d ms, keepalive %d ms; want Established, 90000, 30000:\n%s",
			name, nb.BgpState, nb.HoldTimeMsecs, nb.KeepaliveMsecs, raw)
	}
	gr := nb.GracefulRestartInfo
	if nb.Capabilities.GracefulRestart != "advertisedAndReceived" || gr.LocalGrMode != "Restart" || gr.RemoteGrMode != "Helper" {
		t.Errorf("%s: GR capability %q, local mode %q, remote mode %q; want advertisedAndReceived, Restart, Helper:\n%s",
			name, nb.Capabilities.GracefulRestart, gr.LocalGrMode, gr.RemoteGrMode, raw)
	}
	if nb.AddressFamilyInfo.IPv4Unicast.AcceptedPrefixCounter != 0 {
		t.Errorf("%s accepted %d prefixes from the ToR, want 0:\n%s", name, nb.AddressFamilyInfo.IPv4Unicast.AcceptedPrefixCounter, raw)
	}
	// 10.3 tells why: the ToR's segment was filtered by policy (CILIUM-REJECT), the VIP
	// reflected back by the ToR dropped for the AS loop.
	if ps := nb.PrefixStats; ps != nil && ps.InboundFiltered < 1 {
		t.Errorf("%s: prefixStats.inboundFiltered is %d: CILIUM-REJECT filtered nothing:\n%s", name, ps.InboundFiltered, raw)
	}
	var all map[string]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &all); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: gracefulRestartInfo %s; connectRetryTimer %d; prefixStats %s", name,
		compact(all[torAddr]["gracefulRestartInfo"]), nb.ConnectRetryTimer, compact(all[torAddr]["prefixStats"]))

	// Only its own path: a network statement, so no AS path and next hop 0.0.0.0.
	var table struct {
		Routes map[string][]struct {
			Path     string `json:"path"`
			Nexthops []struct {
				IP string `json:"ip"`
			} `json:"nexthops"`
		} `json:"routes"`
	}
	tableRaw, err := show(node, "show bgp ipv4 unicast json", &table)
	if err != nil {
		t.Fatal(err)
	}
	paths := table.Routes[vip]
	if got := slices.Sorted(maps.Keys(table.Routes)); !slices.Equal(got, []string{vip}) ||
		len(paths) != 1 || paths[0].Path != "" || len(paths[0].Nexthops) != 1 || paths[0].Nexthops[0].IP != "0.0.0.0" {
		t.Errorf("%s: IPv4 unicast table should hold only its own %s:\n%s", name, vip, tableRaw)
	}

	// Nothing from BGP in the kernel: bgpd does not install network-statement routes, and the
	// node accepted nothing.
	for _, args := range [][]string{
		{"ip", "route", "show", strings.TrimSuffix(vip, "/32")},
		{"ip", "route", "show", "proto", "bgp"},
	} {
		out, err := node.Exec(args...)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out) != "" {
			t.Errorf("%s: `%s` in the node's namespace: %q, want nothing", name, strings.Join(args, " "), out)
		}
	}
}

func compact(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "(absent)"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

func nodeAddrs() []string {
	var addrs []string
	for _, n := range seedNodes {
		addrs = append(addrs, n.addr)
	}
	return addrs
}
