package nodestatus

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// The tests' base node: instance "inst" (AS 65001, bgpd's default instance) with peer "tor"
// 10.0.0.1 AS 65000. Times are around testNow.

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

const testPassword = "s3cr3t-Pa55"

func instance(name string, asn uint32, peers ...model.Peer) model.Instance {
	return model.Instance{
		Name: name, LocalASN: asn, RouterID: netip.MustParseAddr("192.168.10.12"), Peers: peers,
		// A password in the model, to show that nothing here reads or writes it.
		PeerGroups: []model.PeerGroup{{Name: "pc", Password: model.NewPassword(testPassword)}},
	}
}

// peer builds a model peer; an empty addr leaves the address unset (auto-discovery found none).
func peer(name, addr string, asn uint32) model.Peer {
	p := model.Peer{Name: name, ASN: asn, Group: "pc"}
	if addr != "" {
		p.Address = netip.MustParseAddr(addr)
	}
	return p
}

func nodeConfig(insts ...model.Instance) *model.NodeConfig {
	return &model.NodeConfig{Node: "worker-1", ClusterConfig: "cc", Instances: insts}
}

func baseConfig() *model.NodeConfig {
	return nodeConfig(instance("inst", 65001, peer("tor", "10.0.0.1", 65000)))
}

// session is an Established session of the default instance with 65001, 90/30 timers and
// one IPv4 prefix advertised; mutate adjusts it.
func session(peerAddr string, mutate ...func(*vtysh.Session)) vtysh.Session {
	s := vtysh.Session{
		LocalAS: 65001, Peer: netip.MustParseAddr(peerAddr), RemoteAS: 65000,
		State: "Established", Uptime: 90 * time.Second, HoldTime: 90 * time.Second, Keepalive: 30 * time.Second,
		Families: []vtysh.FamilyCount{{AFI: "ipv4", SAFI: "unicast", Advertised: 1}, {AFI: "ipv6", SAFI: "unicast"}},
	}
	for _, m := range mutate {
		m(&s)
	}
	return s
}

func state(st string, uptime time.Duration) func(*vtysh.Session) {
	return func(s *vtysh.Session) { s.State, s.Uptime = st, uptime }
}

func inView(view string, localAS uint32) func(*vtysh.Session) {
	return func(s *vtysh.Session) { s.View, s.LocalAS = view, localAS }
}

func ptrTo[T any](v T) *T { return &v }

// establishedPeer is the expected status of an Established peer as session() describes it.
func establishedPeer(name, addr string, asn int64, since string) model.CiliumBGPNodePeerStatus {
	return model.CiliumBGPNodePeerStatus{
		Name: name, PeerAddress: addr, PeerASN: ptrTo(asn),
		PeeringState:    ptrTo("established"),
		EstablishedTime: ptrTo(since),
		Timers:          &model.CiliumBGPTimersState{AppliedHoldTimeSeconds: ptrTo(int32(90)), AppliedKeepaliveSeconds: ptrTo(int32(30))},
		RouteCount: []model.BGPFamilyRouteCount{
			{AFI: "ipv4", SAFI: "unicast", Received: ptrTo(int32(0)), Advertised: ptrTo(int32(1))},
			{AFI: "ipv6", SAFI: "unicast", Received: ptrTo(int32(0)), Advertised: ptrTo(int32(0))},
		},
	}
}

// diffJSON compares want and got as indented JSON and reports the lines that differ.
func diffJSON(t testing.TB, want, got any) bool {
	t.Helper()
	w, _ := json.MarshalIndent(want, "", "  ")
	g, _ := json.MarshalIndent(got, "", "  ")
	if d := cmp.Diff(string(w), string(g)); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
		return false
	}
	return true
}

// noPassword fails when s holds the model's password.
func noPassword(t testing.TB, what, s string) {
	t.Helper()
	if strings.Contains(s, testPassword) {
		t.Errorf("%s holds the BGP password", what)
	}
}
