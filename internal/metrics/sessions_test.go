package metrics

import (
	"net/netip"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

const (
	stateHeader = `
# HELP frr_renderer_bgp_session_state BGP session state per peer as bgpd reports it: 1 for the current state, 0 for the other RFC 4271 states (Idle, Connect, Active, OpenSent, OpenConfirm, Established).
# TYPE frr_renderer_bgp_session_state gauge
`
	advertisedHeader = `
# HELP frr_renderer_bgp_prefixes_advertised Prefixes advertised to the peer in the address family.
# TYPE frr_renderer_bgp_prefixes_advertised gauge
`
	receivedHeader = `
# HELP frr_renderer_bgp_prefixes_received Prefixes received from the peer in the address family and accepted by the inbound policy.
# TYPE frr_renderer_bgp_prefixes_received gauge
`
)

var sessionMetrics = []string{
	"frr_renderer_bgp_session_state",
	"frr_renderer_bgp_prefixes_advertised",
	"frr_renderer_bgp_prefixes_received",
}

// instances maps the seed's FRR views to Cilium instance names: the default instance is
// Cilium's "tor-a".
var instances = Peers{Instances: map[string]string{"": "tor-a", "tor-b": "tor-b"}}

func TestSessions(t *testing.T) {
	m := New()
	m.SetSessions(instances, []vtysh.Session{
		session("", "192.168.10.1", "Established", family("ipv4", "unicast", 3, 0), family("ipv6", "unicast", 1, 2)),
		session("tor-b", "fd00::1", "Active", family("ipv6", "unicast", 0, 0)),
	})
	compare(t, m, stateHeader+`
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.1",state="Active"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.1",state="Connect"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.1",state="Established"} 1
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.1",state="Idle"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.1",state="OpenConfirm"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.1",state="OpenSent"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-b",peer="fd00::1",state="Active"} 1
frr_renderer_bgp_session_state{bgp_instance="tor-b",peer="fd00::1",state="Connect"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-b",peer="fd00::1",state="Established"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-b",peer="fd00::1",state="Idle"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-b",peer="fd00::1",state="OpenConfirm"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-b",peer="fd00::1",state="OpenSent"} 0
`+advertisedHeader+`
frr_renderer_bgp_prefixes_advertised{afi="ipv4",bgp_instance="tor-a",peer="192.168.10.1",safi="unicast"} 3
frr_renderer_bgp_prefixes_advertised{afi="ipv6",bgp_instance="tor-a",peer="192.168.10.1",safi="unicast"} 1
frr_renderer_bgp_prefixes_advertised{afi="ipv6",bgp_instance="tor-b",peer="fd00::1",safi="unicast"} 0
`+receivedHeader+`
frr_renderer_bgp_prefixes_received{afi="ipv4",bgp_instance="tor-a",peer="192.168.10.1",safi="unicast"} 0
frr_renderer_bgp_prefixes_received{afi="ipv6",bgp_instance="tor-a",peer="192.168.10.1",safi="unicast"} 2
frr_renderer_bgp_prefixes_received{afi="ipv6",bgp_instance="tor-b",peer="fd00::1",safi="unicast"} 0
`, sessionMetrics...)
}

func TestSessionRemovedDisappears(t *testing.T) {
	m := New()
	m.SetSessions(instances, []vtysh.Session{
		session("", "192.168.10.1", "Established", family("ipv4", "unicast", 3, 0)),
		session("", "192.168.10.2", "Established", family("ipv4", "unicast", 3, 0)),
	})
	m.SetSessions(instances, []vtysh.Session{
		session("", "192.168.10.2", "Idle", family("ipv4", "unicast", 0, 0)),
	})
	compare(t, m, stateHeader+`
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.2",state="Active"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.2",state="Connect"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.2",state="Established"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.2",state="Idle"} 1
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.2",state="OpenConfirm"} 0
frr_renderer_bgp_session_state{bgp_instance="tor-a",peer="192.168.10.2",state="OpenSent"} 0
`+advertisedHeader+`
frr_renderer_bgp_prefixes_advertised{afi="ipv4",bgp_instance="tor-a",peer="192.168.10.2",safi="unicast"} 0
`+receivedHeader+`
frr_renderer_bgp_prefixes_received{afi="ipv4",bgp_instance="tor-a",peer="192.168.10.2",safi="unicast"} 0
`, sessionMetrics...)

	m.SetSessions(instances, nil) // bgpd could not be read
	if n, err := testutil.GatherAndCount(m.Registry(), sessionMetrics...); err != nil || n != 0 {
		t.Errorf("after SetSessions(nil): %d session series (err %v), want none", n, err)
	}
}

func TestSessionEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name     string
		names    Peers
		sessions []vtysh.Session
		want     string // the expected frr_renderer_bgp_session_state series
	}{
		{
			name:     "a state outside RFC 4271 gets its own series",
			sessions: []vtysh.Session{session("", "10.0.0.1", "Clearing")},
			want: `
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="Active"} 0
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="Clearing"} 1
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="Connect"} 0
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="Established"} 0
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="Idle"} 0
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="OpenConfirm"} 0
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="OpenSent"} 0
`,
		},
		{
			name:     "views the caller does not name keep their FRR names",
			names:    Peers{Instances: map[string]string{"": "tor-a"}},
			sessions: []vtysh.Session{session("other", "10.0.0.1", "Established")},
			want: `
frr_renderer_bgp_session_state{bgp_instance="other",peer="10.0.0.1",state="Active"} 0
frr_renderer_bgp_session_state{bgp_instance="other",peer="10.0.0.1",state="Connect"} 0
frr_renderer_bgp_session_state{bgp_instance="other",peer="10.0.0.1",state="Established"} 1
frr_renderer_bgp_session_state{bgp_instance="other",peer="10.0.0.1",state="Idle"} 0
frr_renderer_bgp_session_state{bgp_instance="other",peer="10.0.0.1",state="OpenConfirm"} 0
frr_renderer_bgp_session_state{bgp_instance="other",peer="10.0.0.1",state="OpenSent"} 0
`,
		},
		{
			name: "a repeated session is counted once, the first one",
			sessions: []vtysh.Session{
				session("", "10.0.0.1", "Established"),
				session("", "10.0.0.1", "Idle"),
			},
			want: `
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="Active"} 0
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="Connect"} 0
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="Established"} 1
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="Idle"} 0
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="OpenConfirm"} 0
frr_renderer_bgp_session_state{bgp_instance="default",peer="10.0.0.1",state="OpenSent"} 0
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			m.SetSessions(tc.names, tc.sessions)
			compare(t, m, stateHeader+tc.want, "frr_renderer_bgp_session_state")
		})
	}
}

func TestSessionRepeatedFamily(t *testing.T) {
	m := New()
	m.SetSessions(Peers{}, []vtysh.Session{
		session("", "10.0.0.1", "Established", family("ipv4", "unicast", 3, 1), family("ipv4", "unicast", 9, 9)),
	})
	compare(t, m, advertisedHeader+`
frr_renderer_bgp_prefixes_advertised{afi="ipv4",bgp_instance="default",peer="10.0.0.1",safi="unicast"} 3
`, "frr_renderer_bgp_prefixes_advertised")
}

// TestCiliumSessions: Cilium's metrics, with Cilium's names and labels (pkg/bgpv1/metrics):
// vrouter the local ASN, neighbor address:port, state 1 when established.
func TestCiliumSessions(t *testing.T) {
	m := New()
	up := session("", "192.168.10.1", "Established", family("ipv4", "unicast", 3, 0))
	up.LocalAS = 65001
	down := session("tor-b", "fd00::1", "Active", family("ipv6", "unicast", 0, 0))
	down.LocalAS = 65002
	// Another view of ASN 65001 with the same neighbor: Cilium's labels cannot tell it apart.
	twin := session("twin", "192.168.10.1", "Idle")
	twin.LocalAS = 65001
	m.SetSessions(Peers{Ports: map[PeerKey]uint16{{"tor-b", netip.MustParseAddr("fd00::1")}: 1790}}, []vtysh.Session{up, down, twin})
	compare(t, m, `
# HELP cilium_bgp_control_plane_session_state Current state of the BGP session with the peer, Up = 1 or Down = 0 (Cilium's metric, from bgpd's sessions).
# TYPE cilium_bgp_control_plane_session_state gauge
cilium_bgp_control_plane_session_state{neighbor="192.168.10.1:179",vrouter="65001"} 1
cilium_bgp_control_plane_session_state{neighbor="[fd00::1]:1790",vrouter="65002"} 0
# HELP cilium_bgp_control_plane_advertised_routes Number of routes advertised to the peer (Cilium's metric, from bgpd's sessions).
# TYPE cilium_bgp_control_plane_advertised_routes gauge
cilium_bgp_control_plane_advertised_routes{afi="ipv4",neighbor="192.168.10.1:179",safi="unicast",vrouter="65001"} 3
cilium_bgp_control_plane_advertised_routes{afi="ipv6",neighbor="[fd00::1]:1790",safi="unicast",vrouter="65002"} 0
# HELP cilium_bgp_control_plane_received_routes Number of routes received from the peer and accepted by the inbound policy (Cilium's metric, from bgpd's sessions; Cilium counts before its policy).
# TYPE cilium_bgp_control_plane_received_routes gauge
cilium_bgp_control_plane_received_routes{afi="ipv4",neighbor="192.168.10.1:179",safi="unicast",vrouter="65001"} 0
cilium_bgp_control_plane_received_routes{afi="ipv6",neighbor="[fd00::1]:1790",safi="unicast",vrouter="65002"} 0
`, "cilium_bgp_control_plane_session_state", "cilium_bgp_control_plane_advertised_routes", "cilium_bgp_control_plane_received_routes")
}
