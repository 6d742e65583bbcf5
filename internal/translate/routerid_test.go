package translate

import (
	"net/netip"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// TestRouterID follows Cilium's getRouterID: override, then (1.18) the virtual-router
// annotation, then per allocation mode the node's IPv4 address in Cilium's order or
// cilium_host's link-layer address (default), or the operator's allocation (ip-pool).
func TestRouterID(t *testing.T) {
	cnRef := model.ObjectRef{Kind: "CiliumNode", Name: testNode}
	addrs := func(kv ...string) func(*model.Snapshot) {
		return func(s *model.Snapshot) {
			s.CiliumNodes[0].Spec.Addresses = nil
			for i := 0; i+1 < len(kv); i += 2 {
				s.CiliumNodes[0].Spec.Addresses = append(s.CiliumNodes[0].Spec.Addresses, model.CiliumNodeAddress{Type: kv[i], IP: kv[i+1]})
			}
		}
	}
	ciliumHost := model.HostFacts{Interfaces: []model.Interface{
		{Name: "eth0", HardwareAddr: "52:54:00:00:00:01"},
		{Name: "cilium_host", HardwareAddr: "0a:1b:2c:3d:4e:5f"},
	}}
	annotate := func(kv ...string) func(*model.Snapshot) {
		return func(s *model.Snapshot) {
			s.CiliumNodes[0].Annotations = map[string]string{}
			for i := 0; i+1 < len(kv); i += 2 {
				s.CiliumNodes[0].Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	nodeConfig := func(routerID string) func(*model.Snapshot) {
		return func(s *model.Snapshot) {
			nc := &model.CiliumBGPNodeConfig{ObjectMeta: meta(testNode, nil)}
			nc.Spec.BGPInstances = []model.CiliumBGPNodeInstance{{Name: "other", RouterID: ptr("10.9.9.9")}, {Name: "inst", RouterID: ptr(routerID)}}
			s.NodeConfigs = []*model.CiliumBGPNodeConfig{nc}
		}
	}
	annotationWarning := wantDiag{sev: model.Warning, kind: "CiliumNode", field: "metadata.annotations", msg: "1.19 and later ignore it"}
	tests := []struct {
		name   string
		modify []func(*model.Snapshot)
		host   model.HostFacts
		mode   string
		want   string
		source model.Source
		diags  []wantDiag
	}{
		{
			name:   "the first IPv4 InternalIP",
			modify: []func(*model.Snapshot){addrs("ExternalIP", "203.0.113.1", "InternalIP", "fd00::12", "InternalIP", "192.168.10.50", "InternalIP", "192.168.10.51")},
			want:   "192.168.10.50", source: model.Source{Object: cnRef, Field: "spec.addresses[2].ip"},
		},
		{
			name:   "no InternalIP: the last ExternalIP",
			modify: []func(*model.Snapshot){addrs("Hostname", "192.0.2.7", "ExternalIP", "203.0.113.1", "InternalIP", "fd00::12", "ExternalIP", "203.0.113.2")},
			want:   "203.0.113.2", source: model.Source{Object: cnRef, Field: "spec.addresses[3].ip"},
		},
		{
			name:   "no InternalIP or ExternalIP: the first other, never a CiliumInternalIP",
			modify: []func(*model.Snapshot){addrs("CiliumInternalIP", "10.0.0.77", "Hostname", "192.0.2.7", "Other", "192.0.2.8")},
			want:   "192.0.2.7", source: model.Source{Object: cnRef, Field: "spec.addresses[1].ip"},
		},
		{
			name:   "the CiliumNode decides, not the Node",
			modify: []func(*model.Snapshot){addrs("InternalIP", "fd00::12", "ExternalIP", "203.0.113.9")},
			want:   "203.0.113.9", source: model.Source{Object: cnRef, Field: "spec.addresses[1].ip"},
		},
		{
			name: "no CiliumNode: the Node's addresses",
			modify: []func(*model.Snapshot){func(s *model.Snapshot) {
				s.CiliumNodes = nil
				s.Nodes[0].Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "worker-1"}, {Type: corev1.NodeInternalIP, Address: "192.168.10.77"}}
			}},
			want:   "192.168.10.77",
			source: model.Source{Object: model.ObjectRef{Kind: "Node", Name: testNode}, Field: "status.addresses[1].address"},
			diags:  []wantDiag{{sev: model.Warning, kind: "Node", msg: "no CiliumNode of that name"}},
		},
		{
			name:   "IPv6 only: the last four bytes of cilium_host's link-layer address",
			modify: []func(*model.Snapshot){addrs("InternalIP", "fd00::12")},
			host:   ciliumHost,
			want:   "44.61.78.95", source: model.Source{Object: model.ObjectRef{Kind: "Interface", Name: "cilium_host"}, Field: "hardwareAddr"},
		},
		{
			name:   "IPv6 only and no cilium_host: an error that names the way out",
			modify: []func(*model.Snapshot){addrs("InternalIP", "fd00::12")},
			diags:  []wantDiag{{sev: model.Error, kind: "CiliumNode", field: "spec.addresses", msg: "no IPv4 address to use as router ID for instance \"inst\", and no cilium_host device"}},
		},
		{
			name:   "the annotation of the instance's ASN comes before the address (Cilium 1.18)",
			modify: []func(*model.Snapshot){annotate("cilium.io/bgp-virtual-router.65001", "router-id=10.1.1.1,local-port=1790", "cilium.io/bgp-virtual-router.65099", "router-id=10.2.2.2")},
			want:   "10.1.1.1", source: model.Source{Object: cnRef, Field: "metadata.annotations[cilium.io/bgp-virtual-router.65001]"},
			diags: []wantDiag{annotationWarning},
		},
		{
			name:   "an annotation of another ASN changes nothing",
			modify: []func(*model.Snapshot){annotate("cilium.io/bgp-virtual-router.65099", "router-id=10.2.2.2", "unrelated", "x")},
			want:   testNodeIP, source: model.Source{Object: cnRef, Field: "spec.addresses[0].ip"},
		},
		{
			name:   "a malformed annotation fails the instance, as in Cilium 1.18",
			modify: []func(*model.Snapshot){annotate("cilium.io/bgp-virtual-router.65099", "router-id=fd00::1")},
			diags:  []wantDiag{{sev: model.Error, kind: "CiliumNode", field: "metadata.annotations", msg: `router-id "fd00::1" is not an IPv4 address`}},
		},
		{
			name: "the override wins over everything",
			modify: []func(*model.Snapshot){
				annotate("cilium.io/bgp-virtual-router.65001", "router-id=10.1.1.1"),
				func(s *model.Snapshot) {
					s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{override(model.CiliumBGPNodeConfigInstanceOverride{Name: "inst", RouterID: ptr("10.3.3.3")})}
				},
			},
			mode: RouterIDAllocationIPPool,
			want: "10.3.3.3", source: model.Source{Object: model.ObjectRef{Kind: "CiliumBGPNodeConfigOverride", Name: testNode}, Field: "spec.bgpInstances[0].routerID"},
			// Read still for the listening port.
			diags: []wantDiag{annotationWarning},
		},
		{
			name:   "ip-pool: what the operator wrote into the node's CiliumBGPNodeConfig",
			modify: []func(*model.Snapshot){nodeConfig("172.16.0.5")},
			mode:   RouterIDAllocationIPPool,
			want:   "172.16.0.5", source: model.Source{Object: model.ObjectRef{Kind: "CiliumBGPNodeConfig", Name: testNode}, Field: "spec.bgpInstances[1].routerID"},
		},
		{
			name:  "ip-pool without an allocation is an error, not the node's address",
			mode:  RouterIDAllocationIPPool,
			diags: []wantDiag{{sev: model.Error, kind: "CiliumBGPNodeConfig", field: "spec.bgpInstances", msg: `ip-pool: no routerID for instance "inst"`}},
		},
		{
			name:   "ip-pool with an IPv6 allocation",
			modify: []func(*model.Snapshot){nodeConfig("fd00::5")},
			mode:   RouterIDAllocationIPPool,
			diags:  []wantDiag{{sev: model.Error, kind: "CiliumBGPNodeConfig", field: "spec.bgpInstances[1].routerID", msg: "not a valid IPv4 address"}},
		},
		{
			name:  "an unknown mode",
			mode:  "random",
			diags: []wantDiag{{sev: model.Error, msg: `allocation mode "random" is not default or ip-pool`}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			for _, m := range tc.modify {
				m(snap)
			}
			res := translateOK(t, snap, tc.host, Options{RouterIDAllocation: tc.mode})
			expectDiags(t, res.Diagnostics, tc.diags...)
			if tc.want == "" {
				if len(res.Config.Instances) != 0 || !reflect.DeepEqual(res.FailedInstances, []string{"inst"}) {
					t.Errorf("want instance inst failed, got %d instances, failed %v", len(res.Config.Instances), res.FailedInstances)
				}
				return
			}
			inst := onlyInstance(t, res)
			if inst.RouterID != netip.MustParseAddr(tc.want) || inst.Sources["routerID"] != tc.source {
				t.Errorf("router ID %s from %+v, want %s from %+v", inst.RouterID, inst.Sources["routerID"], tc.want, tc.source)
			}
		})
	}
}

// TestAnnotatedLocalPort: Cilium 1.18 listens on the annotation's local-port when the instance
// sets no localPort; a localPort set wins.
func TestAnnotatedLocalPort(t *testing.T) {
	for _, tc := range []struct {
		name      string
		localPort *int32
		want      uint16
	}{
		{name: "annotation", want: 1790},
		{name: "localPort wins", localPort: ptr(int32(179)), want: 179},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.CiliumNodes[0].Annotations = map[string]string{"cilium.io/bgp-virtual-router.65001": "local-port=1790"}
			snap.ClusterConfigs[0].Spec.BGPInstances[0].LocalPort = tc.localPort
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			if inst := onlyInstance(t, res); inst.ListenPort != tc.want {
				t.Errorf("listen port %d, want %d", inst.ListenPort, tc.want)
			}
		})
	}
}
