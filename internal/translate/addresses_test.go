package translate

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

func TestUnroutableAddress(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"0.0.0.0", AddressUnspecified},
		{"::", AddressUnspecified},
		{"127.0.0.1", AddressLoopback},
		{"127.1.2.3", AddressLoopback},
		{"::1", AddressLoopback},
		{"169.254.0.1", AddressLinkLocal},
		{"fe80::1", AddressLinkLocal},
		{"febf::1", AddressLinkLocal},
		{"224.0.0.5", AddressMulticast},
		{"239.255.255.250", AddressMulticast},
		{"ff02::1", AddressMulticast},
		{"ff0e::1", AddressMulticast},
		{"255.255.255.255", AddressBroadcast},
		{"::ffff:127.0.0.1", AddressLoopback},
		{"172.20.0.1", ""},
		{"10.0.0.1", ""},
		{"100.64.0.1", ""},
		{"255.255.255.254", ""},
		{"2001:db8::1", ""},
		{"fd00::1", ""},
		{"fec0::1", ""},
	}
	for _, tt := range tests {
		if got := UnroutableAddress(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("UnroutableAddress(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// TestServiceAddressesRefused: an address no one should advertise, or a value that is no
// address, is left out with a warning naming the Service and its field; the good ones stay.
func TestServiceAddressesRefused(t *testing.T) {
	web := map[string]string{"app": "web"}
	sel := matchLabels("app", "web")
	lbWarn := func(i, msg string) wantDiag {
		return wantDiag{sev: model.Warning, kind: "Service", name: "a", field: "status.loadBalancer.ingress[" + i + "].ip", msg: msg}
	}
	tests := []struct {
		name  string
		kind  string
		svc   *corev1.Service
		want  []string
		diags []wantDiag
	}{
		{
			name: "IPv4 LoadBalancer IPs",
			kind: model.ServiceLoadBalancerIP,
			svc:  lbService("default", "a", web, "0.0.0.0", "127.0.0.1", "169.254.1.1", "224.0.0.1", "255.255.255.255", "172.20.0.1"),
			want: []string{"172.20.0.1/32"},
			diags: []wantDiag{
				lbWarn("0", "0.0.0.0 is an unspecified address, which no one should advertise: LoadBalancerIP not advertised"),
				lbWarn("1", "127.0.0.1 is a loopback address"),
				lbWarn("2", "169.254.1.1 is a link-local address"),
				lbWarn("3", "224.0.0.1 is a multicast address"),
				lbWarn("4", "255.255.255.255 is the broadcast address"),
			},
		},
		{
			name: "IPv6 LoadBalancer IPs",
			kind: model.ServiceLoadBalancerIP,
			svc:  lbService("default", "a", web, "::", "::1", "fe80::1", "ff02::1", "2001:db8::1"),
			want: []string{"2001:db8::1/128"},
			diags: []wantDiag{
				lbWarn("0", ":: is an unspecified address"),
				lbWarn("1", "::1 is a loopback address"),
				lbWarn("2", "fe80::1 is a link-local address"),
				lbWarn("3", "ff02::1 is a multicast address"),
			},
		},
		{
			name: "malformed LoadBalancer IPs",
			kind: model.ServiceLoadBalancerIP,
			svc:  lbService("default", "a", web, "172.20.0.300", "fe80::1%eth0", "172.20.0.1\nerror: forged", "172.20.0.2"),
			want: []string{"172.20.0.2/32"},
			diags: []wantDiag{
				lbWarn("0", `"172.20.0.300" is not an IP address: LoadBalancerIP not advertised`),
				lbWarn("1", `"fe80::1%eth0" has a zone index`),
				lbWarn("2", `"172.20.0.1\nerror: forged" is not an IP address`),
			},
		},
		{
			name: "external IPs",
			kind: model.ServiceExternalIP,
			svc: func() *corev1.Service {
				s := clusterIPService("default", "a", web, "10.96.0.10")
				s.Spec.ExternalIPs = []string{"198.51.100.1", "0.0.0.0", "not-an-ip", "ff05::2"}
				return s
			}(),
			want: []string{"198.51.100.1/32"},
			diags: []wantDiag{
				{sev: model.Warning, kind: "Service", name: "a", field: "spec.externalIPs[1]", msg: "0.0.0.0 is an unspecified address, which no one should advertise: ExternalIP not advertised"},
				{sev: model.Warning, kind: "Service", name: "a", field: "spec.externalIPs[2]", msg: `"not-an-ip" is not an IP address`},
				{sev: model.Warning, kind: "Service", name: "a", field: "spec.externalIPs[3]", msg: "ff05::2 is a multicast address"},
			},
		},
		{
			name: "cluster IPs: None and empty are silent",
			kind: model.ServiceClusterIP,
			svc:  clusterIPService("default", "a", web, "10.96.0.10", "None", "", "127.0.0.2"),
			want: []string{"10.96.0.10/32"},
			diags: []wantDiag{
				{sev: model.Warning, kind: "Service", name: "a", field: "spec.clusterIPs[3]", msg: "127.0.0.2 is a loopback address"},
			},
		},
		{
			name: "a hostname-only ingress is silent",
			kind: model.ServiceLoadBalancerIP,
			svc: func() *corev1.Service {
				s := lbService("default", "a", web, "172.20.0.1")
				s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{Hostname: "lb.example.com"})
				return s
			}(),
			want: []string{"172.20.0.1/32"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := translateOK(t, svcSnapshot(serviceRule(sel, tc.kind), tc.svc), model.HostFacts{}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			diffJSON(t, tc.want, prefixStrings(onlyInstance(t, res)))
		})
	}
}

// TestPeerAddressesRefused: a peer at an address no BGP speaker has, or at the node's own
// address, is skipped with a warning; the instance and its other peers stay.
func TestPeerAddressesRefused(t *testing.T) {
	tests := []struct {
		name string
		addr string
		host model.HostFacts
		msg  string
	}{
		{name: "unspecified", addr: "0.0.0.0", msg: `0.0.0.0 is an unspecified address, which no BGP speaker has: peer "bad" not configured`},
		{name: "IPv6 unspecified", addr: "::", msg: ":: is an unspecified address"},
		{name: "multicast", addr: "224.0.0.5", msg: "224.0.0.5 is a multicast address"},
		{name: "IPv6 multicast", addr: "ff02::2", msg: "ff02::2 is a multicast address"},
		{name: "broadcast", addr: "255.255.255.255", msg: "255.255.255.255 is the broadcast address"},
		{name: "the CiliumNode's address", addr: testNodeIP, msg: testNodeIP + ` is this node's own address (CiliumNode/` + testNode + ` spec.addresses[0].ip): peer "bad" not configured`},
		{
			name: "a host interface's address",
			addr: "10.9.9.9",
			host: model.HostFacts{Interfaces: []model.Interface{{Name: "eth1", AdminUp: true, OperState: "up", Addresses: []netip.Prefix{netip.MustParsePrefix("10.9.9.9/24")}}}},
			msg:  `10.9.9.9 is this node's own address (interface "eth1")`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = append(snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers, bgpPeer("bad", tc.addr, 65000, "pc"))
			res := translateOK(t, snap, tc.host, Options{})
			expectDiags(t, res.Diagnostics, wantDiag{sev: model.Warning, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[0].peers[1].peerAddress", msg: tc.msg})
			inst := onlyInstance(t, res)
			if len(inst.Peers) != 1 || inst.Peers[0].Name != "peer1" {
				t.Errorf("peers = %+v, want peer1 alone", summarize(inst.Peers))
			}
		})
	}
}

// TestRouterIDZeroRefused: router ID 0.0.0.0 fails the instance, naming where it came from.
func TestRouterIDZeroRefused(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*model.Snapshot)
		kind   string
		field  string
	}{
		{
			name:   "the node's address",
			modify: func(s *model.Snapshot) { s.CiliumNodes[0].Spec.Addresses[0].IP = "0.0.0.0" },
			kind:   "CiliumNode",
			field:  "spec.addresses[0].ip",
		},
		{
			name: "an override",
			modify: func(s *model.Snapshot) {
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{{
					ObjectMeta: meta(testNode, nil),
					Spec: model.CiliumBGPNodeConfigOverrideSpec{BGPInstances: []model.CiliumBGPNodeConfigInstanceOverride{
						{Name: "inst", RouterID: ptr("0.0.0.0")},
					}},
				}}
			},
			kind:  "CiliumBGPNodeConfigOverride",
			field: "spec.bgpInstances[0].routerID",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			tc.modify(snap)
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			expectDiags(t, res.Diagnostics, wantDiag{sev: model.Error, kind: tc.kind, field: tc.field, msg: `router ID 0.0.0.0 is not a BGP identifier (it must be non-zero): instance "inst" not configured`})
			if len(res.Config.Instances) != 0 || len(res.FailedInstances) != 1 {
				t.Errorf("instances %d, failed %v: want the instance failed", len(res.Config.Instances), res.FailedInstances)
			}
		})
	}
}
