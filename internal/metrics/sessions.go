package metrics

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// sessionCollector exposes the last set of sessions as constant metrics. One set replaces the
// other whole, under a lock Collect takes too: a peer gone from bgpd is gone from the next
// scrape, and no scrape sees a set half replaced (as resetting vectors and filling them again
// would let it).
type sessionCollector struct {
	state, advertised, received *prometheus.Desc

	mu      sync.RWMutex
	metrics []prometheus.Metric
}

func newSessionCollector() *sessionCollector {
	peer := []string{"instance", "peer"}
	family := []string{"instance", "peer", "afi", "safi"}
	return &sessionCollector{
		state: prometheus.NewDesc(namespace+"_bgp_session_state",
			"BGP session state per peer as bgpd reports it: 1 for the current state, 0 for the other RFC 4271 states (Idle, Connect, Active, OpenSent, OpenConfirm, Established).",
			append(peer, "state"), nil),
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
func (c *sessionCollector) set(instanceNames map[string]string, sessions []vtysh.Session) {
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
	for _, s := range sessions {
		k := peerKey{instanceName(instanceNames, s.View), s.Peer.String()}
		if seen[k] {
			continue
		}
		seen[k] = true
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
