package metrics

import (
	"net/netip"
	"slices"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// Labels of the session metrics. The instance is "bgp_instance", not "instance": Prometheus
// sets "instance" on every target it scrapes, and renames a metric's own to "exported_instance".
const (
	labelInstance = "bgp_instance"
	labelPeer     = "peer"
	labelState    = "state"
	labelAFI      = "afi"
	labelSAFI     = "safi"
)

// Cilium's names of the same metrics (pkg/bgpv1/metrics), so that dashboards and alerts made for
// Cilium's BGP control plane work unchanged: vrouter is the local ASN, neighbor the peer's
// address and port ("192.168.10.1:179", "[fd00::1]:179"), the session state 1 when established,
// else 0.
const (
	ciliumSubsystem     = "cilium_bgp_control_plane"
	ciliumLabelVRouter  = "vrouter"
	ciliumLabelNeighbor = "neighbor"
)

// defaultPeerPort is the port of a peer that Peers does not name.
const defaultPeerPort = 179

// Peers is what the session metrics need to know that bgpd's sessions do not say.
type Peers struct {
	// Instances maps each FRR view (vtysh.Session.View; "" is the default instance) to the name
	// of its Cilium BGP instance; a view it lacks keeps its FRR name ("default" for the default
	// instance).
	Instances map[string]string
	// Ports are the peers' TCP ports (Cilium's neighbor label has it); a peer it lacks has 179.
	Ports map[PeerKey]uint16
}

// PeerKey names a peer of a view.
type PeerKey struct {
	View string
	Peer netip.Addr
}

// sessionCollector exposes the last set of sessions as constant metrics. One set replaces the
// other whole, under a lock Collect takes too: a peer gone from bgpd is gone from the next
// scrape, and no scrape sees a set half replaced (as resetting vectors and filling them again
// would let it).
type sessionCollector struct {
	state, advertised, received                   *prometheus.Desc
	ciliumState, ciliumAdvertised, ciliumReceived *prometheus.Desc

	mu      sync.RWMutex
	metrics []prometheus.Metric
}

func newSessionCollector() *sessionCollector {
	peer := []string{labelInstance, labelPeer}
	family := []string{labelInstance, labelPeer, labelAFI, labelSAFI}
	ciliumPeer := []string{ciliumLabelVRouter, ciliumLabelNeighbor}
	ciliumFamily := []string{ciliumLabelVRouter, ciliumLabelNeighbor, labelAFI, labelSAFI}
	return &sessionCollector{
		ciliumState: prometheus.NewDesc(ciliumSubsystem+"_session_state",
			"Current state of the BGP session with the peer, Up = 1 or Down = 0 (Cilium's metric, from bgpd's sessions).",
			ciliumPeer, nil),
		ciliumAdvertised: prometheus.NewDesc(ciliumSubsystem+"_advertised_routes",
			"Number of routes advertised to the peer (Cilium's metric, from bgpd's sessions).",
			ciliumFamily, nil),
		ciliumReceived: prometheus.NewDesc(ciliumSubsystem+"_received_routes",
			"Number of routes received from the peer and accepted by the inbound policy (Cilium's metric, from bgpd's sessions; Cilium counts before its policy).",
			ciliumFamily, nil),
		state: prometheus.NewDesc(namespace+"_bgp_session_state",
			"BGP session state per peer as bgpd reports it: 1 for the current state, 0 for the other RFC 4271 states (Idle, Connect, Active, OpenSent, OpenConfirm, Established).",
			append(peer, labelState), nil),
		advertised: prometheus.NewDesc(namespace+"_bgp_prefixes_advertised",
			"Prefixes advertised to the peer in the address family.",
			family, nil),
		received: prometheus.NewDesc(namespace+"_bgp_prefixes_received",
			"Prefixes received from the peer in the address family and accepted by the inbound policy.",
			family, nil),
	}
}

func (c *sessionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.state
	ch <- c.advertised
	ch <- c.received
	ch <- c.ciliumState
	ch <- c.ciliumAdvertised
	ch <- c.ciliumReceived
}

func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, m := range c.metrics {
		ch <- m
	}
}

// set builds the metrics of sessions and replaces the current ones. A session or family that
// repeats one already seen (the same instance and peer, the same family) is skipped: a
// registry refuses duplicate series, and would fail the whole scrape.
func (c *sessionCollector) set(peers Peers, sessions []vtysh.Session) {
	type peerKey struct{ instance, peer string }
	type familyKey struct{ afi, safi string }
	var metrics []prometheus.Metric
	add := func(desc *prometheus.Desc, v float64, labels ...string) {
		// Labels that are not valid UTF-8 are the only error: such a series is left out.
		if m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, v, labels...); err == nil {
			metrics = append(metrics, m)
		}
	}
	seen := make(map[peerKey]bool, len(sessions))
	seenCilium := make(map[peerKey]bool, len(sessions))
	for _, s := range sessions {
		k := peerKey{instanceName(peers.Instances, s.View), s.Peer.String()}
		if seen[k] {
			continue
		}
		seen[k] = true
		// Cilium's labels: two views of one ASN peering with one address would collide; the
		// first one is kept.
		port := peers.Ports[PeerKey{s.View, s.Peer}]
		if port == 0 {
			port = defaultPeerPort
		}
		ck := peerKey{strconv.FormatUint(uint64(s.LocalAS), 10), netip.AddrPortFrom(s.Peer, port).String()}
		cilium := !seenCilium[ck]
		seenCilium[ck] = true
		if cilium {
			add(c.ciliumState, boolValue(s.State == vtysh.StateEstablished), ck.instance, ck.peer)
		}
		for _, st := range sessionStates {
			add(c.state, boolValue(st == s.State), k.instance, k.peer, st)
		}
		if s.State != "" && !slices.Contains(sessionStates, s.State) {
			add(c.state, 1, k.instance, k.peer, s.State)
		}
		families := make(map[familyKey]bool, len(s.Families))
		for _, f := range s.Families {
			fk := familyKey{f.AFI, f.SAFI}
			if families[fk] {
				continue
			}
			families[fk] = true
			add(c.advertised, float64(f.Advertised), k.instance, k.peer, f.AFI, f.SAFI)
			add(c.received, float64(f.Received), k.instance, k.peer, f.AFI, f.SAFI)
			if cilium {
				add(c.ciliumAdvertised, float64(f.Advertised), ck.instance, ck.peer, f.AFI, f.SAFI)
				add(c.ciliumReceived, float64(f.Received), ck.instance, ck.peer, f.AFI, f.SAFI)
			}
		}
	}
	c.mu.Lock()
	c.metrics = metrics
	c.mu.Unlock()
}

// instanceName is the Cilium instance name of an FRR view, or the view's own name when the
// caller does not know it ("default" for the default instance).
func instanceName(names map[string]string, view string) string {
	if n := names[view]; n != "" {
		return n
	}
	if view == "" {
		return "default"
	}
	return view
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
