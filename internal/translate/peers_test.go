package translate

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// peerSummary is the part of a peer most tests compare.
type peerSummary struct {
	Name, Address, Group, LocalAddress string
	ASN                                uint32
}

func summarize(peers []model.Peer) []peerSummary {
	out := []peerSummary{}
	for _, p := range peers {
		s := peerSummary{Name: p.Name, Address: p.Address.String(), Group: p.Group, ASN: p.ASN}
		if p.LocalAddress.IsValid() {
			s.LocalAddress = p.LocalAddress.String()
		}
		out = append(out, s)
	}
	return out
}

func TestPeers(t *testing.T) {
	ccRef := "CiliumBGPClusterConfig"
	tests := []struct {
		name  string
		peers []model.CiliumBGPPeer
		want  []peerSummary
		diags []wantDiag
	}{
		{
			name:  "peerASN unset means 0",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "10.0.0.1", -1, "pc")},
			want:  []peerSummary{{Name: "p", Address: "10.0.0.1", Group: "pc", ASN: 0}},
		},
		{
			name:  "4-byte peer ASN",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "10.0.0.1", 4200000000, "pc")},
			want:  []peerSummary{{Name: "p", Address: "10.0.0.1", Group: "pc", ASN: 4200000000}},
		},
		{
			name:  "peer ASN out of range",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "10.0.0.1", 4294967296, "pc")},
			want:  []peerSummary{},
			diags: []wantDiag{{sev: model.Error, kind: ccRef, field: "spec.bgpInstances[0].peers[0].peerASN", msg: "not an ASN"}},
		},
		{
			name:  "no peerAddress and no autoDiscovery: skipped",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "", 65000, "pc"), bgpPeer("q", "10.0.0.2", 65000, "pc")},
			want:  []peerSummary{{Name: "q", Address: "10.0.0.2", Group: "pc", ASN: 65000}},
			diags: []wantDiag{{sev: model.Warning, kind: ccRef, field: "spec.bgpInstances[0].peers[0].peerAddress", msg: "no peerAddress and no autoDiscovery"}},
		},
		{
			name:  "surrounding whitespace accepted",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "  10.0.0.1\t", 65000, "pc"), bgpPeer("q", " 2001:db8::1 ", 65000, "pc")},
			want:  []peerSummary{{Name: "p", Address: "10.0.0.1", Group: "pc", ASN: 65000}, {Name: "q", Address: "2001:db8::1", Group: "pc", ASN: 65000}},
		},
		{
			name:  "IPv4-mapped IPv6 is unmapped",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "::ffff:10.0.0.1", 65000, "pc")},
			want:  []peerSummary{{Name: "p", Address: "10.0.0.1", Group: "pc", ASN: 65000}},
		},
		{
			name:  "invalid address",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "10.0.0.256", 65000, "pc"), bgpPeer("q", "10.0.0.2", 65000, "pc")},
			want:  []peerSummary{{Name: "q", Address: "10.0.0.2", Group: "pc", ASN: 65000}},
			diags: []wantDiag{{sev: model.Error, kind: ccRef, field: "spec.bgpInstances[0].peers[0].peerAddress", msg: `"10.0.0.256" is not an IP address`}},
		},
		{
			name:  "zoned address skipped",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "fe80::1%eth0", 65000, "pc")},
			want:  []peerSummary{},
			diags: []wantDiag{{sev: model.Warning, kind: ccRef, field: "spec.bgpInstances[0].peers[0].peerAddress", msg: "zoned address"}},
		},
		{
			name:  "duplicate address: second skipped",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "10.0.0.1", 65000, "pc"), bgpPeer("q", "10.0.0.1", 65001, "pc")},
			want:  []peerSummary{{Name: "p", Address: "10.0.0.1", Group: "pc", ASN: 65000}},
			diags: []wantDiag{{sev: model.Warning, kind: ccRef, field: "spec.bgpInstances[0].peers[1].peerAddress", msg: `already used by peer "p"`}},
		},
		{
			name:  "duplicate name: second skipped",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "10.0.0.1", 65000, "pc"), bgpPeer("p", "10.0.0.2", 65000, "pc")},
			want:  []peerSummary{{Name: "p", Address: "10.0.0.1", Group: "pc", ASN: 65000}},
			diags: []wantDiag{{sev: model.Warning, kind: ccRef, field: "spec.bgpInstances[0].peers[1].name", msg: "appears twice"}},
		},
		{
			name:  "missing PeerConfig: peer not configured",
			peers: []model.CiliumBGPPeer{bgpPeer("p", "10.0.0.1", 65000, "nope"), bgpPeer("q", "10.0.0.2", 65000, "pc")},
			want:  []peerSummary{{Name: "q", Address: "10.0.0.2", Group: "pc", ASN: 65000}},
			diags: []wantDiag{{sev: model.Warning, kind: ccRef, field: "spec.bgpInstances[0].peers[0].peerConfigRef.name", msg: "MissingPeerConfigs"}},
		},
		{
			name: "v2alpha1 peerConfigRef kind of another resource: skipped",
			peers: []model.CiliumBGPPeer{func() model.CiliumBGPPeer {
				p := bgpPeer("p", "10.0.0.1", 65000, "pc")
				p.PeerConfigRef.Kind = "ConfigMap"
				return p
			}(), func() model.CiliumBGPPeer {
				p := bgpPeer("q", "10.0.0.2", 65000, "pc")
				p.PeerConfigRef.Group, p.PeerConfigRef.Kind = "cilium.io", "CiliumBGPPeerConfig"
				return p
			}()},
			want:  []peerSummary{{Name: "q", Address: "10.0.0.2", Group: "pc", ASN: 65000}},
			diags: []wantDiag{{sev: model.Warning, kind: ccRef, field: "spec.bgpInstances[0].peers[0].peerConfigRef.kind", msg: `"ConfigMap" is not supported`}},
		},
		{
			name: "unsupported autoDiscovery mode (Unnumbered is PR-only)",
			peers: []model.CiliumBGPPeer{func() model.CiliumBGPPeer {
				p := bgpPeer("p", "", 65000, "pc")
				p.AutoDiscovery = &model.BGPAutoDiscovery{Mode: "Unnumbered"}
				return p
			}()},
			want:  []peerSummary{},
			diags: []wantDiag{{sev: model.Warning, kind: ccRef, field: "spec.bgpInstances[0].peers[0].autoDiscovery.mode", msg: `"Unnumbered" is not supported`}},
		},
		{
			name:  "order of the ClusterConfig kept",
			peers: []model.CiliumBGPPeer{bgpPeer("z", "10.0.0.3", 65000, "pc"), bgpPeer("a", "10.0.0.2", 65000, ""), bgpPeer("m", "10.0.0.1", 65000, "pc")},
			want: []peerSummary{
				{Name: "z", Address: "10.0.0.3", Group: "pc", ASN: 65000},
				{Name: "a", Address: "10.0.0.2", Group: model.DefaultsGroup, ASN: 65000},
				{Name: "m", Address: "10.0.0.1", Group: "pc", ASN: 65000},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = tc.peers
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			diffJSON(t, tc.want, summarize(onlyInstance(t, res).Peers))
		})
	}
}

func TestPeerWithoutPeerConfigRef(t *testing.T) {
	snap := baseSnapshot()
	snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = []model.CiliumBGPPeer{bgpPeer("p", "10.0.0.1", 65000, "")}
	// An advertisement every selector would pick: the DEFAULTS group still gets nothing.
	snap.Advertisements = []*model.CiliumBGPAdvertisement{advertisement("pods", bgpLabels, podCIDRRule())}
	snap.CiliumNodes[0].Spec.IPAM.PodCIDRs = []string{"10.0.1.0/24"}
	res := translateOK(t, snap, model.HostFacts{}, Options{})
	expectDiags(t, res.Diagnostics)
	inst := onlyInstance(t, res)
	want := []model.PeerGroup{{
		Name:            model.DefaultsGroup,
		PeerPort:        179,
		Timers:          defaultTimers,
		GracefulRestart: model.GracefulRestart{Enabled: false, RestartTime: 120},
		Families:        []model.Family{model.IPv4Unicast, model.IPv6Unicast},
	}}
	diffJSON(t, want, inst.PeerGroups)
	if inst.PeerGroups[0].Password.IsSet() || inst.PeerGroups[0].EBGPMultihop != 0 {
		t.Errorf("DEFAULTS group has password or multihop: %+v", inst.PeerGroups[0])
	}
	if len(inst.Prefixes) != 0 || len(inst.Policies) != 0 {
		t.Errorf("prefixes %v, policies %d: want none for a peer without peerConfigRef", prefixStrings(inst), len(inst.Policies))
	}
}

func TestDefaultGatewayDiscovery(t *testing.T) {
	route := func(fam, gw string, metric uint32, dev string, up bool) model.DefaultRoute {
		return model.DefaultRoute{Family: fam, Gateway: netip.MustParseAddr(gw), Metric: metric, Interface: dev, LinkUp: up}
	}
	tests := []struct {
		name   string
		family string
		routes []model.DefaultRoute
		want   string // peer address; "" when skipped
		source string // Sources["address"].Object.Name
		diags  []wantDiag
	}{
		{
			name:   "lowest metric wins",
			family: "ipv4",
			routes: []model.DefaultRoute{route("ipv4", "10.1.0.1", 100, "eth0", true), route("ipv4", "10.2.0.1", 50, "eth1", true), route("ipv4", "10.3.0.1", 200, "eth2", true)},
			want:   "10.2.0.1",
			source: "ipv4 via 10.2.0.1 dev eth1",
		},
		{
			name:   "link down excluded",
			family: "ipv4",
			routes: []model.DefaultRoute{route("ipv4", "10.1.0.1", 100, "eth0", true), route("ipv4", "10.2.0.1", 10, "eth1", false)},
			want:   "10.1.0.1",
			source: "ipv4 via 10.1.0.1 dev eth0",
		},
		{
			name:   "link-local gateway excluded",
			family: "ipv6",
			routes: []model.DefaultRoute{route("ipv6", "fe80::1", 1, "eth0", true), route("ipv6", "2001:db8::1", 1024, "eth1", true)},
			want:   "2001:db8::1",
			source: "ipv6 via 2001:db8::1 dev eth1",
		},
		{
			name:   "family filter",
			family: "ipv6",
			routes: []model.DefaultRoute{route("ipv4", "10.1.0.1", 1, "eth0", true), route("ipv6", "2001:db8::1", 100, "eth0", true)},
			want:   "2001:db8::1",
			source: "ipv6 via 2001:db8::1 dev eth0",
		},
		{
			name:   "only link-local: skipped",
			family: "ipv6",
			routes: []model.DefaultRoute{route("ipv6", "fe80::1", 1, "eth0", true), route("ipv4", "10.1.0.1", 1, "eth0", true)},
			diags:  []wantDiag{{sev: model.Warning, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[0].peers[0].autoDiscovery", msg: "no usable ipv6 default route"}},
		},
		{
			name:   "no route: skipped",
			family: "ipv4",
			diags:  []wantDiag{{sev: model.Warning, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[0].peers[0].autoDiscovery", msg: "no usable ipv4 default route"}},
		},
		{
			name:   "bad family",
			family: "ipx",
			routes: []model.DefaultRoute{route("ipv4", "10.1.0.1", 1, "eth0", true)},
			diags:  []wantDiag{{sev: model.Warning, field: "spec.bgpInstances[0].peers[0].autoDiscovery.defaultGateway.addressFamily", msg: `"ipx"`}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = []model.CiliumBGPPeer{gatewayPeer("tor", tc.family, 65000, "pc")}
			res := translateOK(t, snap, model.HostFacts{DefaultRoutes: tc.routes}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			inst := onlyInstance(t, res)
			if tc.want == "" {
				if len(inst.Peers) != 0 {
					t.Errorf("peers = %+v, want none", summarize(inst.Peers))
				}
				return
			}
			if len(inst.Peers) != 1 || inst.Peers[0].Address != netip.MustParseAddr(tc.want) {
				t.Fatalf("peers = %+v, want one at %s", summarize(inst.Peers), tc.want)
			}
			src := inst.Peers[0].Sources["address"]
			if src.Object.Kind != "DefaultRoute" || src.Object.Name != tc.source || !strings.HasPrefix(src.Field, "metric ") {
				t.Errorf("address source = %+v, want DefaultRoute %q", src, tc.source)
			}
		})
	}

	t.Run("peerAddress wins over autoDiscovery", func(t *testing.T) {
		snap := baseSnapshot()
		p := gatewayPeer("tor", "ipv4", 65000, "pc")
		p.PeerAddress = ptr("10.9.9.9")
		snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = []model.CiliumBGPPeer{p}
		res := translateOK(t, snap, model.HostFacts{DefaultRoutes: []model.DefaultRoute{route("ipv4", "10.1.0.1", 1, "eth0", true)}}, Options{})
		expectDiags(t, res.Diagnostics)
		diffJSON(t, []peerSummary{{Name: "tor", Address: "10.9.9.9", Group: "pc", ASN: 65000}}, summarize(onlyInstance(t, res).Peers))
	})
	t.Run("one session per family", func(t *testing.T) {
		snap := baseSnapshot()
		snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = []model.CiliumBGPPeer{gatewayPeer("tor4", "ipv4", 65000, "pc"), gatewayPeer("tor6", "ipv6", 65000, "pc")}
		host := model.HostFacts{DefaultRoutes: []model.DefaultRoute{route("ipv6", "2001:db8::1", 1, "eth0", true), route("ipv4", "10.1.0.1", 1, "eth0", true)}}
		res := translateOK(t, snap, host, Options{})
		expectDiags(t, res.Diagnostics)
		diffJSON(t, []peerSummary{
			{Name: "tor4", Address: "10.1.0.1", Group: "pc", ASN: 65000},
			{Name: "tor6", Address: "2001:db8::1", Group: "pc", ASN: 65000},
		}, summarize(onlyInstance(t, res).Peers))
	})
}

// groupResult translates the base snapshot with PeerConfig "pc" replaced by spec, and
// returns the result.
func groupResult(t *testing.T, spec model.CiliumBGPPeerConfigSpec, modify func(*model.Snapshot)) Result {
	t.Helper()
	snap := baseSnapshot()
	snap.PeerConfigs[0].Spec = spec
	if modify != nil {
		modify(snap)
	}
	return translateOK(t, snap, model.HostFacts{}, Options{})
}

func TestPeerConfigSettings(t *testing.T) {
	pcRef := "CiliumBGPPeerConfig"
	both := []model.Family{model.IPv4Unicast, model.IPv6Unicast}
	tests := []struct {
		name string
		spec model.CiliumBGPPeerConfigSpec
		// want is compared without Sources; a zero want means the peers are not configured.
		want  model.PeerGroup
		diags []wantDiag
	}{
		{
			name: "all defaults",
			want: model.PeerGroup{Name: "pc", PeerPort: 179, Timers: defaultTimers, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: both},
		},
		{
			name: "explicit timers",
			spec: model.CiliumBGPPeerConfigSpec{Timers: &model.CiliumBGPTimers{ConnectRetryTimeSeconds: ptr(int32(5)), HoldTimeSeconds: ptr(int32(9)), KeepAliveTimeSeconds: ptr(int32(3))}},
			want: model.PeerGroup{Name: "pc", PeerPort: 179, Timers: model.Timers{ConnectRetry: 5, Hold: 9, Keepalive: 3}, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: both},
		},
		{
			name: "partial timers keep the other defaults",
			spec: model.CiliumBGPPeerConfigSpec{Timers: &model.CiliumBGPTimers{HoldTimeSeconds: ptr(int32(30))}},
			want: model.PeerGroup{Name: "pc", PeerPort: 179, Timers: model.Timers{ConnectRetry: 120, Hold: 30, Keepalive: 30}, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: both},
		},
		{
			name:  "keepalive above hold",
			spec:  model.CiliumBGPPeerConfigSpec{Timers: &model.CiliumBGPTimers{HoldTimeSeconds: ptr(int32(30)), KeepAliveTimeSeconds: ptr(int32(31))}},
			diags: []wantDiag{{sev: model.Error, kind: pcRef, name: "pc", field: "spec.timers", msg: "can not be larger than holdTimeSeconds"}},
		},
		{
			name:  "keepalive above the default hold",
			spec:  model.CiliumBGPPeerConfigSpec{Timers: &model.CiliumBGPTimers{KeepAliveTimeSeconds: ptr(int32(91))}},
			diags: []wantDiag{{sev: model.Error, kind: pcRef, name: "pc", field: "spec.timers", msg: "can not be larger than holdTimeSeconds (90)"}},
		},
		{
			name:  "hold below 3",
			spec:  model.CiliumBGPPeerConfigSpec{Timers: &model.CiliumBGPTimers{HoldTimeSeconds: ptr(int32(2)), KeepAliveTimeSeconds: ptr(int32(1))}},
			diags: []wantDiag{{sev: model.Error, kind: pcRef, name: "pc", field: "spec.timers.holdTimeSeconds", msg: "not in 3..65535"}},
		},
		{
			name:  "keepalive 0",
			spec:  model.CiliumBGPPeerConfigSpec{Timers: &model.CiliumBGPTimers{KeepAliveTimeSeconds: ptr(int32(0))}},
			diags: []wantDiag{{sev: model.Error, kind: pcRef, name: "pc", field: "spec.timers.keepAliveTimeSeconds", msg: "not in 1..65535"}},
		},
		{
			name:  "connect retry 0",
			spec:  model.CiliumBGPPeerConfigSpec{Timers: &model.CiliumBGPTimers{ConnectRetryTimeSeconds: ptr(int32(0))}},
			diags: []wantDiag{{sev: model.Error, kind: pcRef, name: "pc", field: "spec.timers.connectRetryTimeSeconds", msg: "below 1"}},
		},
		{
			name:  "connect retry clamped to 65535",
			spec:  model.CiliumBGPPeerConfigSpec{Timers: &model.CiliumBGPTimers{ConnectRetryTimeSeconds: ptr(int32(2147483647))}},
			want:  model.PeerGroup{Name: "pc", PeerPort: 179, Timers: model.Timers{ConnectRetry: 65535, Hold: 90, Keepalive: 30}, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: both},
			diags: []wantDiag{{sev: model.Warning, kind: pcRef, name: "pc", field: "spec.timers.connectRetryTimeSeconds", msg: "using 65535"}},
		},
		{
			name: "ebgpMultihop 1 is off",
			spec: model.CiliumBGPPeerConfigSpec{EBGPMultihop: ptr(int32(1))},
			want: model.PeerGroup{Name: "pc", PeerPort: 179, Timers: defaultTimers, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: both},
		},
		{
			name: "ebgpMultihop 4",
			spec: model.CiliumBGPPeerConfigSpec{EBGPMultihop: ptr(int32(4))},
			want: model.PeerGroup{Name: "pc", PeerPort: 179, Timers: defaultTimers, EBGPMultihop: 4, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: both},
		},
		{
			name: "ebgpMultihop 255",
			spec: model.CiliumBGPPeerConfigSpec{EBGPMultihop: ptr(int32(255))},
			want: model.PeerGroup{Name: "pc", PeerPort: 179, Timers: defaultTimers, EBGPMultihop: 255, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: both},
		},
		{
			name:  "ebgpMultihop 0",
			spec:  model.CiliumBGPPeerConfigSpec{EBGPMultihop: ptr(int32(0))},
			diags: []wantDiag{{sev: model.Error, kind: pcRef, name: "pc", field: "spec.ebgpMultihop", msg: "not in 1..255"}},
		},
		{
			name:  "ebgpMultihop 256",
			spec:  model.CiliumBGPPeerConfigSpec{EBGPMultihop: ptr(int32(256))},
			diags: []wantDiag{{sev: model.Error, kind: pcRef, name: "pc", field: "spec.ebgpMultihop", msg: "not in 1..255"}},
		},
		{
			name: "graceful restart with default restart time",
			spec: model.CiliumBGPPeerConfigSpec{GracefulRestart: &model.CiliumBGPGracefulRestart{Enabled: true}},
			want: model.PeerGroup{Name: "pc", PeerPort: 179, Timers: defaultTimers, GracefulRestart: model.GracefulRestart{Enabled: true, RestartTime: 120}, Families: both},
		},
		{
			name: "graceful restart with explicit restart time",
			spec: model.CiliumBGPPeerConfigSpec{GracefulRestart: &model.CiliumBGPGracefulRestart{Enabled: true, RestartTimeSeconds: ptr(int32(300))}},
			want: model.PeerGroup{Name: "pc", PeerPort: 179, Timers: defaultTimers, GracefulRestart: model.GracefulRestart{Enabled: true, RestartTime: 300}, Families: both},
		},
		{
			name:  "graceful restart time 4096",
			spec:  model.CiliumBGPPeerConfigSpec{GracefulRestart: &model.CiliumBGPGracefulRestart{Enabled: true, RestartTimeSeconds: ptr(int32(4096))}},
			diags: []wantDiag{{sev: model.Error, kind: pcRef, name: "pc", field: "spec.gracefulRestart.restartTimeSeconds", msg: "not in 1..4095"}},
		},
		{
			name: "explicit peer port",
			spec: model.CiliumBGPPeerConfigSpec{Transport: &model.CiliumBGPTransport{PeerPort: ptr(int32(1790))}},
			want: model.PeerGroup{Name: "pc", PeerPort: 1790, Timers: defaultTimers, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: both},
		},
		{
			name:  "peer port 0",
			spec:  model.CiliumBGPPeerConfigSpec{Transport: &model.CiliumBGPTransport{PeerPort: ptr(int32(0))}},
			diags: []wantDiag{{sev: model.Error, kind: pcRef, name: "pc", field: "spec.transport.peerPort", msg: "not a port"}},
		},
		{
			name:  "v2alpha1 transport.localPort ignored",
			spec:  model.CiliumBGPPeerConfigSpec{Transport: &model.CiliumBGPTransport{LocalPort: ptr(int32(179))}},
			want:  model.PeerGroup{Name: "pc", PeerPort: 179, Timers: defaultTimers, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: both},
			diags: []wantDiag{{sev: model.Warning, kind: pcRef, field: "spec.transport.localPort", msg: "without effect"}},
		},
		{
			name: "families sorted ipv4 first",
			spec: model.CiliumBGPPeerConfigSpec{Families: []model.CiliumBGPFamilyWithAdverts{{AFI: "ipv6", SAFI: "unicast"}, {AFI: "ipv4", SAFI: "unicast"}}},
			want: model.PeerGroup{Name: "pc", PeerPort: 179, Timers: defaultTimers, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: both},
		},
		{
			name:  "unsupported family ignored",
			spec:  model.CiliumBGPPeerConfigSpec{Families: []model.CiliumBGPFamilyWithAdverts{{AFI: "l2vpn", SAFI: "evpn"}, {AFI: "ipv4", SAFI: "unicast"}}},
			want:  model.PeerGroup{Name: "pc", PeerPort: 179, Timers: defaultTimers, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: []model.Family{model.IPv4Unicast}},
			diags: []wantDiag{{sev: model.Warning, kind: pcRef, field: "spec.families[0]", msg: `"l2vpn/evpn" is not supported`}},
		},
		{
			name:  "duplicate family",
			spec:  model.CiliumBGPPeerConfigSpec{Families: []model.CiliumBGPFamilyWithAdverts{{AFI: "ipv4", SAFI: "unicast"}, {AFI: "ipv4", SAFI: "unicast"}}},
			want:  model.PeerGroup{Name: "pc", PeerPort: 179, Timers: defaultTimers, GracefulRestart: model.GracefulRestart{RestartTime: 120}, Families: []model.Family{model.IPv4Unicast}},
			diags: []wantDiag{{sev: model.Warning, kind: pcRef, field: "spec.families[1]", msg: "appears twice"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := groupResult(t, tc.spec, nil)
			expectDiags(t, res.Diagnostics, tc.diags...)
			inst := onlyInstance(t, res)
			if tc.want.Name == "" {
				if len(inst.Peers) != 0 || len(inst.PeerGroups) != 0 {
					t.Errorf("want the peers not configured, got peers %+v groups %d", summarize(inst.Peers), len(inst.PeerGroups))
				}
				return
			}
			if len(inst.PeerGroups) != 1 || len(inst.Peers) != 1 {
				t.Fatalf("want one group and one peer, got %d and %d", len(inst.PeerGroups), len(inst.Peers))
			}
			diffJSON(t, []model.PeerGroup{tc.want}, stripSources(inst).PeerGroups)
		})
	}
}

func TestPeerConfigSources(t *testing.T) {
	spec := model.CiliumBGPPeerConfigSpec{
		Transport:       &model.CiliumBGPTransport{PeerPort: ptr(int32(1790))},
		Timers:          &model.CiliumBGPTimers{HoldTimeSeconds: ptr(int32(9)), KeepAliveTimeSeconds: ptr(int32(3))},
		EBGPMultihop:    ptr(int32(2)),
		GracefulRestart: &model.CiliumBGPGracefulRestart{Enabled: true},
	}
	inst := onlyInstance(t, groupResult(t, spec, nil))
	ref := model.ObjectRef{Kind: "CiliumBGPPeerConfig", Name: "pc"}
	want := model.Provenance{
		"peerPort":                {Object: ref, Field: "spec.transport.peerPort"},
		"timers.hold":             {Object: ref, Field: "spec.timers.holdTimeSeconds"},
		"timers.keepalive":        {Object: ref, Field: "spec.timers.keepAliveTimeSeconds"},
		"ebgpMultihop":            {Object: ref, Field: "spec.ebgpMultihop"},
		"gracefulRestart.enabled": {Object: ref, Field: "spec.gracefulRestart.enabled"},
	}
	diffJSON(t, want, inst.PeerGroups[0].Sources)
	if got := inst.Peers[0].Sources["group"]; got.Field != "spec.bgpInstances[0].peers[0].peerConfigRef.name" {
		t.Errorf("peer group source = %+v", got)
	}
}

// A PeerConfig with an error leaves out every peer using it, in every instance, but not
// the others.
func TestInvalidPeerConfigOnlyAffectsItsPeers(t *testing.T) {
	snap := baseSnapshot()
	snap.PeerConfigs = append(snap.PeerConfigs, peerConfig("bad", func(s *model.CiliumBGPPeerConfigSpec) {
		s.Timers = &model.CiliumBGPTimers{HoldTimeSeconds: ptr(int32(1))}
	}))
	snap.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{
		bgpInstance("a", 65001, bgpPeer("good", "10.0.0.1", 65000, "pc"), bgpPeer("bad1", "10.0.0.2", 65000, "bad")),
		bgpInstance("b", 65002, bgpPeer("bad2", "10.0.0.3", 65000, "bad")),
	}
	res := translateOK(t, snap, model.HostFacts{}, Options{})
	// Reported once, however many peers use it.
	expectDiags(t, res.Diagnostics, wantDiag{sev: model.Error, kind: "CiliumBGPPeerConfig", name: "bad", field: "spec.timers.holdTimeSeconds"})
	if len(res.Config.Instances) != 2 || len(res.FailedInstances) != 0 {
		t.Fatalf("want both instances configured, got %d, failed %v", len(res.Config.Instances), res.FailedInstances)
	}
	diffJSON(t, []peerSummary{{Name: "good", Address: "10.0.0.1", Group: "pc", ASN: 65000}}, summarize(res.Config.Instances[0].Peers))
	diffJSON(t, []peerSummary{}, summarize(res.Config.Instances[1].Peers))
}

const testPassword = "s3cr3t-Pa55word"

func secret(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func TestPassword(t *testing.T) {
	pcRef := "CiliumBGPPeerConfig"
	tests := []struct {
		name      string
		secrets   []*corev1.Secret
		secretsNS string
		// wantPassword is the revealed password; failed means the instance is left out.
		wantPassword string
		failed       bool
		diags        []wantDiag
		// absent must not appear in any diagnostic.
		absent string
	}{
		{
			name:         "secret in kube-system",
			secrets:      []*corev1.Secret{secret("kube-system", "bgp-auth", map[string]string{"password": testPassword})},
			wantPassword: testPassword,
		},
		{
			name:    "secret missing: empty password, session kept",
			secrets: nil,
			diags:   []wantDiag{{sev: model.Error, kind: pcRef, name: "pc", field: "spec.authSecretRef", msg: "continuing with an empty password"}},
		},
		{
			name:    "secret in another namespace is not read",
			secrets: []*corev1.Secret{secret("default", "bgp-auth", map[string]string{"password": testPassword})},
			diags:   []wantDiag{{sev: model.Error, kind: pcRef, field: "spec.authSecretRef", msg: `Secret "kube-system/bgp-auth": not found (continuing with an empty password)`}},
			absent:  testPassword,
		},
		{
			name:         "SecretsNamespace option respected",
			secretsNS:    "bgp-secrets",
			secrets:      []*corev1.Secret{secret("kube-system", "bgp-auth", map[string]string{"password": "wrong-one"}), secret("bgp-secrets", "bgp-auth", map[string]string{"password": testPassword})},
			wantPassword: testPassword,
		},
		{
			name:    "key missing: instance failed",
			secrets: []*corev1.Secret{secret("kube-system", "bgp-auth", map[string]string{"passwd": testPassword})},
			failed:  true,
			diags:   []wantDiag{{sev: model.Error, kind: pcRef, field: "spec.authSecretRef", msg: `no "password" key`}},
			absent:  testPassword,
		},
		{
			name:    "key empty: instance failed",
			secrets: []*corev1.Secret{secret("kube-system", "bgp-auth", map[string]string{"password": ""})},
			failed:  true,
			diags:   []wantDiag{{sev: model.Error, kind: pcRef, field: "spec.authSecretRef", msg: `no "password" key`}},
		},
		{
			name:    "newline in password: instance failed",
			secrets: []*corev1.Secret{secret("kube-system", "bgp-auth", map[string]string{"password": "line1\nline2-Secret"})},
			failed:  true,
			diags:   []wantDiag{{sev: model.Error, kind: pcRef, field: "spec.authSecretRef", msg: "printable ASCII without spaces"}},
			absent:  "line2-Secret",
		},
		{
			name:    "trailing newline in password: instance failed",
			secrets: []*corev1.Secret{secret("kube-system", "bgp-auth", map[string]string{"password": testPassword + "\n"})},
			failed:  true,
			diags:   []wantDiag{{sev: model.Error, kind: pcRef, field: "spec.authSecretRef", msg: "printable ASCII without spaces"}},
			absent:  testPassword,
		},
		{
			name:    "space in password: instance failed",
			secrets: []*corev1.Secret{secret("kube-system", "bgp-auth", map[string]string{"password": "two words-Secret"})},
			failed:  true,
			diags:   []wantDiag{{sev: model.Error, kind: pcRef, field: "spec.authSecretRef", msg: "printable ASCII without spaces"}},
			absent:  "words-Secret",
		},
		{
			name:    "password too long: instance failed",
			secrets: []*corev1.Secret{secret("kube-system", "bgp-auth", map[string]string{"password": strings.Repeat("Xy", 41)})},
			failed:  true,
			diags:   []wantDiag{{sev: model.Error, kind: pcRef, field: "spec.authSecretRef", msg: "must be 1 to 80 bytes"}},
			absent:  strings.Repeat("Xy", 41),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.PeerConfigs[0].Spec.AuthSecretRef = ptr("bgp-auth")
			snap.Secrets = tc.secrets
			res := translateOK(t, snap, model.HostFacts{}, Options{SecretsNamespace: tc.secretsNS})
			expectDiags(t, res.Diagnostics, tc.diags...)
			if tc.absent != "" {
				for _, d := range res.Diagnostics {
					if strings.Contains(d.String(), tc.absent) {
						t.Errorf("diagnostic leaks the secret: %s", d)
					}
				}
			}
			if tc.failed {
				if len(res.Config.Instances) != 0 || !reflect.DeepEqual(res.FailedInstances, []string{"inst"}) {
					t.Errorf("want instance failed, got %d instances, failed %v", len(res.Config.Instances), res.FailedInstances)
				}
				return
			}
			inst := onlyInstance(t, res)
			if len(inst.Peers) != 1 || len(inst.PeerGroups) != 1 {
				t.Fatalf("want the peer configured, got %+v", summarize(inst.Peers))
			}
			pg := inst.PeerGroups[0]
			if got := pg.Password.Reveal(); got != tc.wantPassword {
				t.Errorf("password = %q, want %q", got, tc.wantPassword)
			}
			ns := tc.secretsNS
			if ns == "" {
				ns = "kube-system"
			}
			wantSrc := model.Source{Object: model.ObjectRef{Kind: "Secret", Namespace: ns, Name: "bgp-auth"}, Field: "data.password"}
			if pg.Sources["password"] != wantSrc {
				t.Errorf("password source = %+v, want %+v", pg.Sources["password"], wantSrc)
			}
			if tc.wantPassword != "" {
				assertNoLeak(t, res, tc.wantPassword)
			}
		})
	}
}

// assertNoLeak proves that no way of printing or encoding the result shows the secret.
func assertNoLeak(t *testing.T, res Result, value string) {
	t.Helper()
	inst := res.Config.Instances[0]
	printed := fmt.Sprintf("%v %+v %#v %v", res, res, res, inst.PeerGroups) +
		fmt.Sprintf("%v %+v %#v %s %q %x", inst.PeerGroups[0], inst.PeerGroups[0], inst.PeerGroups[0], inst.PeerGroups[0].Password, inst.PeerGroups[0].Password, inst.PeerGroups[0].Password)
	if strings.Contains(printed, value) {
		t.Errorf("fmt output contains the password")
	}
	if !strings.Contains(printed, "<redacted>") {
		t.Errorf("fmt output does not show the redaction marker")
	}
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), value) {
		t.Errorf("JSON output contains the password")
	}
	for _, d := range res.Diagnostics {
		if strings.Contains(d.String(), value) {
			t.Errorf("diagnostic contains the password: %s", d)
		}
	}
}

// A Secret without a usable key fails only the instances that have a peer using it.
func TestPasswordErrorFailsOnlyItsInstances(t *testing.T) {
	snap := baseSnapshot()
	snap.PeerConfigs = append(snap.PeerConfigs, peerConfig("auth", func(s *model.CiliumBGPPeerConfigSpec) { s.AuthSecretRef = ptr("bgp-auth") }))
	snap.Secrets = []*corev1.Secret{secret("kube-system", "bgp-auth", map[string]string{})}
	snap.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{
		bgpInstance("a", 65001, bgpPeer("p", "10.0.0.1", 65000, "pc"), bgpPeer("q", "10.0.0.2", 65000, "auth")),
		bgpInstance("b", 65002, bgpPeer("p", "10.0.0.1", 65000, "pc")),
	}
	res := translateOK(t, snap, model.HostFacts{}, Options{})
	expectDiags(t, res.Diagnostics, wantDiag{sev: model.Error, kind: "CiliumBGPPeerConfig", name: "auth", field: "spec.authSecretRef", msg: "not configured"})
	if !reflect.DeepEqual(res.FailedInstances, []string{"a"}) {
		t.Errorf("FailedInstances = %v, want [a]", res.FailedInstances)
	}
	if inst := onlyInstance(t, res); inst.Name != "b" {
		t.Errorf("instance = %s, want b", inst.Name)
	}
}

// A peer Cilium skips for want of an address (none set, none discovered) is skipped before its
// PeerConfig is read: a Secret without a password key does not fail its instance.
func TestSkippedPeerSecretDoesNotFailInstance(t *testing.T) {
	for _, tc := range []struct {
		name string
		peer model.CiliumBGPPeer
		diag wantDiag
	}{
		{name: "no peerAddress", peer: bgpPeer("q", "", 65000, "auth"),
			diag: wantDiag{sev: model.Warning, field: "spec.bgpInstances[0].peers[1].peerAddress", msg: "no peerAddress and no autoDiscovery"}},
		{name: "nothing discovered", peer: gatewayPeer("q", "ipv6", 65000, "auth"),
			diag: wantDiag{sev: model.Warning, field: "spec.bgpInstances[0].peers[1].autoDiscovery", msg: "no usable ipv6 default route"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.PeerConfigs = append(snap.PeerConfigs, peerConfig("auth", func(s *model.CiliumBGPPeerConfigSpec) { s.AuthSecretRef = ptr("bgp-auth") }))
			snap.Secrets = []*corev1.Secret{secret("kube-system", "bgp-auth", map[string]string{})}
			snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = append(snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers, tc.peer)
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			expectDiags(t, res.Diagnostics, tc.diag)
			if inst := onlyInstance(t, res); len(inst.Peers) != 1 || inst.Peers[0].Name != "peer1" {
				t.Errorf("peers %+v, want peer1 only", inst.Peers)
			}
		})
	}
}

func TestSourceInterface(t *testing.T) {
	pfx := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	iface := func(name string, addrs ...string) model.Interface {
		return model.Interface{Name: name, AdminUp: true, OperState: "up", Addresses: pfx(addrs...)}
	}
	ovRef := "CiliumBGPNodeConfigOverride"
	tests := []struct {
		name     string
		peerAddr string
		srcIface string
		ifaces   []model.Interface
		ovLocal  *string
		want     string // local address; "-" when the peer is skipped; "" when unset
		diags    []wantDiag
	}{
		{
			name:     "IPv4 peer: the one IPv4 address",
			peerAddr: "10.0.0.1", srcIface: "eth1",
			ifaces: []model.Interface{iface("eth0", "10.9.0.5/24"), iface("eth1", "10.0.0.5/24", "2001:db8::5/64", "fe80::5/64")},
			want:   "10.0.0.5",
		},
		{
			name:     "IPv6 peer: the one global IPv6 address, link-local excluded",
			peerAddr: "2001:db8::1", srcIface: "eth1",
			ifaces: []model.Interface{iface("eth1", "10.0.0.5/24", "fe80::5/64", "2001:db8::5/64")},
			want:   "2001:db8::5",
		},
		{
			name:     "loopback, broadcast and multicast excluded, 169.254 allowed",
			peerAddr: "10.0.0.1", srcIface: "lo",
			ifaces: []model.Interface{iface("lo", "127.0.0.1/8", "255.255.255.255/32", "224.0.0.9/32", "169.254.0.7/32", "::1/128")},
			want:   "169.254.0.7",
		},
		{
			name:     "IPv4-mapped excluded",
			peerAddr: "2001:db8::1", srcIface: "eth1",
			ifaces: []model.Interface{iface("eth1", "::ffff:10.0.0.5/128", "2001:db8::5/64")},
			want:   "2001:db8::5",
		},
		{
			name:     "zero usable addresses: skipped",
			peerAddr: "2001:db8::1", srcIface: "eth1",
			ifaces: []model.Interface{iface("eth1", "10.0.0.5/24", "fe80::5/64")},
			want:   "-",
			diags:  []wantDiag{{sev: model.Warning, kind: "CiliumBGPPeerConfig", name: "pc", field: "spec.transport.sourceInterface", msg: "0 usable addresses"}},
		},
		{
			name:     "two usable addresses: skipped",
			peerAddr: "10.0.0.1", srcIface: "eth1",
			ifaces: []model.Interface{iface("eth1", "10.0.0.5/24", "10.0.0.6/24")},
			want:   "-",
			diags:  []wantDiag{{sev: model.Warning, kind: "CiliumBGPPeerConfig", field: "spec.transport.sourceInterface", msg: "2 usable addresses"}},
		},
		{
			name:     "interface missing: skipped",
			peerAddr: "10.0.0.1", srcIface: "eth9",
			ifaces: []model.Interface{iface("eth1", "10.0.0.5/24")},
			want:   "-",
			diags:  []wantDiag{{sev: model.Warning, kind: "CiliumBGPPeerConfig", field: "spec.transport.sourceInterface", msg: `interface "eth9" not found`}},
		},
		{
			name:     "override localAddress wins over sourceInterface",
			peerAddr: "10.0.0.1", srcIface: "eth1",
			ifaces:  []model.Interface{iface("eth1", "10.0.0.5/24")},
			ovLocal: ptr("10.0.0.99"),
			want:    "10.0.0.99",
		},
		{
			name:     "override localAddress wins even when sourceInterface is unusable",
			peerAddr: "10.0.0.1", srcIface: "eth9",
			ovLocal: ptr(" 10.0.0.99 "),
			want:    "10.0.0.99",
		},
		{
			name:     "override localAddress of the wrong family: ignored, sourceInterface used",
			peerAddr: "10.0.0.1", srcIface: "eth1",
			ifaces:  []model.Interface{iface("eth1", "10.0.0.5/24")},
			ovLocal: ptr("2001:db8::99"),
			want:    "10.0.0.5",
			diags:   []wantDiag{{sev: model.Warning, kind: ovRef, field: "spec.bgpInstances[0].peers[0].localAddress", msg: "not of the family"}},
		},
		{
			name:     "override localAddress of the wrong family without sourceInterface: unset",
			peerAddr: "10.0.0.1",
			ovLocal:  ptr("2001:db8::99"),
			want:     "",
			diags:    []wantDiag{{sev: model.Warning, kind: ovRef, field: "spec.bgpInstances[0].peers[0].localAddress", msg: "not of the family"}},
		},
		{
			name:     "override localAddress not an address",
			peerAddr: "10.0.0.1",
			ovLocal:  ptr("eth0"),
			want:     "",
			diags:    []wantDiag{{sev: model.Warning, kind: ovRef, field: "spec.bgpInstances[0].peers[0].localAddress", msg: "not an IP address"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = []model.CiliumBGPPeer{bgpPeer("peer1", tc.peerAddr, 65000, "pc")}
			if tc.srcIface != "" {
				snap.PeerConfigs[0].Spec.Transport = &model.CiliumBGPTransport{SourceInterface: ptr(tc.srcIface)}
			}
			if tc.ovLocal != nil {
				snap.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{override(model.CiliumBGPNodeConfigInstanceOverride{
					Name: "inst", Peers: []model.CiliumBGPNodeConfigPeerOverride{{Name: "peer1", LocalAddress: tc.ovLocal}},
				})}
			}
			res := translateOK(t, snap, model.HostFacts{Interfaces: tc.ifaces}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			inst := onlyInstance(t, res)
			if tc.want == "-" {
				if len(inst.Peers) != 0 {
					t.Errorf("peers = %+v, want none", summarize(inst.Peers))
				}
				return
			}
			if len(inst.Peers) != 1 {
				t.Fatalf("peers = %+v, want one", summarize(inst.Peers))
			}
			p := inst.Peers[0]
			switch {
			case tc.want == "" && p.LocalAddress.IsValid():
				t.Errorf("local address = %s, want unset", p.LocalAddress)
			case tc.want != "" && p.LocalAddress != netip.MustParseAddr(tc.want):
				t.Errorf("local address = %s, want %s", p.LocalAddress, tc.want)
			}
			src := p.Sources["localAddress"]
			switch {
			case tc.want == "":
				if src != (model.Source{}) {
					t.Errorf("localAddress source = %+v, want none", src)
				}
			case tc.ovLocal != nil && !strings.Contains(tc.name, "wrong family"):
				if src.Object.Kind != ovRef || src.Field != "spec.bgpInstances[0].peers[0].localAddress" {
					t.Errorf("localAddress source = %+v, want the override", src)
				}
			default:
				if src.Object.Kind != "CiliumBGPPeerConfig" || src.Field != "spec.transport.sourceInterface" {
					t.Errorf("localAddress source = %+v, want the PeerConfig", src)
				}
			}
		})
	}
}
