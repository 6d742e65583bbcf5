package translate

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// The cases start from baseSnapshot (ClusterConfig "cc": instance "inst" AS 65001, peer
// "peer1" 10.0.0.1 AS 65000 with PeerConfig "pc") and say what they change.

func nodeOverride(insts ...model.CiliumBGPNodeConfigInstanceOverride) *model.CiliumBGPNodeConfigOverride {
	return &model.CiliumBGPNodeConfigOverride{ObjectMeta: meta(testNode, nil), Spec: model.CiliumBGPNodeConfigOverrideSpec{BGPInstances: insts}}
}

func nodePeer(name, addr string, asn int64, pc string) model.CiliumBGPNodePeer {
	p := model.CiliumBGPNodePeer{Name: name, PeerASN: ptr(asn)}
	if addr != "" {
		p.PeerAddress = ptr(addr)
	}
	if pc != "" {
		p.PeerConfigRef = &model.PeerConfigReference{Name: pc}
	}
	return p
}

func TestDeriveNodeConfig(t *testing.T) {
	basePeer := nodePeer("peer1", "10.0.0.1", 65000, "pc")
	withLocal := func(p model.CiliumBGPNodePeer, a string) model.CiliumBGPNodePeer {
		p.LocalAddress = ptr(a)
		return p
	}
	tests := []struct {
		name   string
		mutate func(*model.Snapshot)
		node   string // default testNode
		ok     bool
		owner  string
		want   []model.CiliumBGPNodeInstance
	}{
		{
			name:  "no override: the ClusterConfig's instance as is",
			ok:    true,
			owner: "cc",
			want:  []model.CiliumBGPNodeInstance{{Name: "inst", LocalASN: ptr(int64(65001)), Peers: []model.CiliumBGPNodePeer{basePeer}}},
		},
		{
			name: "instances and peers keep their order; localPort, autoDiscovery and peerASN 0 copied",
			mutate: func(s *model.Snapshot) {
				b := bgpInstance("b", 65002, bgpPeer("z", "10.0.0.9", 0, ""), gatewayPeer("gw", "ipv6", 65100, "pc"))
				b.LocalPort = ptr(int32(1790))
				s.ClusterConfigs[0].Spec.BGPInstances = append(s.ClusterConfigs[0].Spec.BGPInstances, b)
			},
			ok:    true,
			owner: "cc",
			want: []model.CiliumBGPNodeInstance{
				{Name: "inst", LocalASN: ptr(int64(65001)), Peers: []model.CiliumBGPNodePeer{basePeer}},
				{Name: "b", LocalASN: ptr(int64(65002)), LocalPort: ptr(int32(1790)), Peers: []model.CiliumBGPNodePeer{
					nodePeer("z", "10.0.0.9", 0, ""),
					{Name: "gw", PeerASN: ptr(int64(65100)), PeerConfigRef: &model.PeerConfigReference{Name: "pc"},
						AutoDiscovery: &model.BGPAutoDiscovery{Mode: model.AutoDiscoveryDefaultGateway, DefaultGateway: &model.DefaultGatewayDiscovery{AddressFamily: "ipv6"}}},
				}},
			},
		},
		{
			name: "invalid instances are copied: the operator does not validate",
			mutate: func(s *model.Snapshot) {
				s.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{
					bgpInstance("no-asn", 0, bgpPeer("no-addr", "", -1, "missing-pc")),
				}
			},
			ok:    true,
			owner: "cc",
			want: []model.CiliumBGPNodeInstance{{Name: "no-asn", Peers: []model.CiliumBGPNodePeer{
				{Name: "no-addr", PeerConfigRef: &model.PeerConfigReference{Name: "missing-pc"}},
			}}},
		},
		{
			name: "v2alpha1 peerConfigRef group and kind are dropped",
			mutate: func(s *model.Snapshot) {
				ref := s.ClusterConfigs[0].Spec.BGPInstances[0].Peers[0].PeerConfigRef
				ref.Group, ref.Kind = "cilium.io", "CiliumBGPPeerConfig"
			},
			ok:    true,
			owner: "cc",
			want:  []model.CiliumBGPNodeInstance{{Name: "inst", LocalASN: ptr(int64(65001)), Peers: []model.CiliumBGPNodePeer{basePeer}}},
		},
		{
			name: "override sets routerID, localPort and localASN",
			mutate: func(s *model.Snapshot) {
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{nodeOverride(model.CiliumBGPNodeConfigInstanceOverride{
					Name: "inst", RouterID: ptr("10.10.10.10"), LocalPort: ptr(int32(179)), LocalASN: ptr(int64(65111)),
				})}
			},
			ok:    true,
			owner: "cc",
			want: []model.CiliumBGPNodeInstance{{Name: "inst", LocalASN: ptr(int64(65111)), RouterID: ptr("10.10.10.10"), LocalPort: ptr(int32(179)),
				Peers: []model.CiliumBGPNodePeer{basePeer}}},
		},
		{
			name: "override replaces only what it sets",
			mutate: func(s *model.Snapshot) {
				s.ClusterConfigs[0].Spec.BGPInstances[0].LocalPort = ptr(int32(1179))
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{nodeOverride(model.CiliumBGPNodeConfigInstanceOverride{
					Name: "inst", RouterID: ptr("10.10.10.10"),
				})}
			},
			ok:    true,
			owner: "cc",
			want: []model.CiliumBGPNodeInstance{{Name: "inst", LocalASN: ptr(int64(65001)), RouterID: ptr("10.10.10.10"), LocalPort: ptr(int32(1179)),
				Peers: []model.CiliumBGPNodePeer{basePeer}}},
		},
		{
			name: "override peers: localAddress only, localPort dropped, unknown names ignored",
			mutate: func(s *model.Snapshot) {
				s.ClusterConfigs[0].Spec.BGPInstances[0].Peers = append(s.ClusterConfigs[0].Spec.BGPInstances[0].Peers, bgpPeer("peer2", "10.0.0.2", 65000, "pc"))
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{nodeOverride(
					model.CiliumBGPNodeConfigInstanceOverride{Name: "inst", Peers: []model.CiliumBGPNodeConfigPeerOverride{
						{Name: "peer2", LocalAddress: ptr("192.168.10.12"), LocalPort: ptr(int32(2000))},
						{Name: "ghost", LocalAddress: ptr("192.168.10.13")},
					}},
					model.CiliumBGPNodeConfigInstanceOverride{Name: "no-such-instance", LocalASN: ptr(int64(1))},
				)}
			},
			ok:    true,
			owner: "cc",
			want: []model.CiliumBGPNodeInstance{{Name: "inst", LocalASN: ptr(int64(65001)), Peers: []model.CiliumBGPNodePeer{
				basePeer, withLocal(nodePeer("peer2", "10.0.0.2", 65000, "pc"), "192.168.10.12"),
			}}},
		},
		{
			name: "an override of another node does not apply",
			mutate: func(s *model.Snapshot) {
				o := nodeOverride(model.CiliumBGPNodeConfigInstanceOverride{Name: "inst", LocalASN: ptr(int64(65111))})
				o.Name = "worker-2"
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{o}
			},
			ok:    true,
			owner: "cc",
			want:  []model.CiliumBGPNodeInstance{{Name: "inst", LocalASN: ptr(int64(65001)), Peers: []model.CiliumBGPNodePeer{basePeer}}},
		},
		{
			name: "override routerID that is not an IP: the operator writes nothing",
			mutate: func(s *model.Snapshot) {
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{nodeOverride(model.CiliumBGPNodeConfigInstanceOverride{Name: "inst", RouterID: ptr("not-an-ip")})}
			},
			ok: false,
		},
		{
			name:   "no ClusterConfig selects the node",
			mutate: func(s *model.Snapshot) { s.ClusterConfigs[0].Spec.NodeSelector = matchLabels("rack", "r9") },
			ok:     false,
		},
		{
			name: "no ClusterConfig at all",
			mutate: func(s *model.Snapshot) {
				s.ClusterConfigs = nil
			},
			ok: false,
		},
		{
			name: "unknown node",
			node: "nope",
			ok:   false,
		},
		{
			name: "conflict: the owner Translate uses, not the other",
			mutate: func(s *model.Snapshot) {
				older := clusterConfig("z-older", nil, bgpInstance("old", 65009))
				older.CreationTimestamp = metav1.NewTime(epoch.Add(-time.Hour))
				s.ClusterConfigs = append(s.ClusterConfigs, older)
			},
			ok:    true,
			owner: "z-older",
			want:  []model.CiliumBGPNodeInstance{{Name: "old", LocalASN: ptr(int64(65009))}},
		},
		{
			name: "Node without CiliumNode: selected on the Node's labels, as Translate does",
			mutate: func(s *model.Snapshot) {
				s.CiliumNodes = nil
				s.Nodes[0].Labels = map[string]string{"bgp": "on"}
				s.ClusterConfigs[0].Spec.NodeSelector = matchLabels("bgp", "on")
			},
			ok:    true,
			owner: "cc",
			want:  []model.CiliumBGPNodeInstance{{Name: "inst", LocalASN: ptr(int64(65001)), Peers: []model.CiliumBGPNodePeer{basePeer}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			if tc.mutate != nil {
				tc.mutate(snap)
			}
			node := tc.node
			if node == "" {
				node = testNode
			}
			spec, owner, ok := DeriveNodeConfig(snap, node)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				if owner != nil || spec.BGPInstances != nil {
					t.Errorf("not ok, yet owner %v and spec %+v", owner, spec)
				}
				return
			}
			if owner == nil || owner.Name != tc.owner {
				t.Fatalf("owner = %v, want %s", owner, tc.owner)
			}
			diffJSON(t, model.CiliumBGPNodeConfigSpec{BGPInstances: tc.want}, spec)
			// One selection rule: Translate picks the same owner.
			if res, err := Translate(snap, model.HostFacts{}, Options{Node: node}); err != nil || res.Config.ClusterConfig != owner.Name {
				t.Errorf("Translate owner = %q (err %v), DeriveNodeConfig owner = %q", res.Config.ClusterConfig, err, owner.Name)
			}
		})
	}
}

// The spec shares nothing with the snapshot: a caller may keep or mutate it.
func TestDeriveNodeConfigCopies(t *testing.T) {
	snap := baseSnapshot()
	snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = append(snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers, gatewayPeer("gw", "ipv4", 65000, ""))
	snap.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{nodeOverride(model.CiliumBGPNodeConfigInstanceOverride{
		Name: "inst", RouterID: ptr("10.10.10.10"), Peers: []model.CiliumBGPNodeConfigPeerOverride{{Name: "peer1", LocalAddress: ptr("192.168.10.12")}},
	})}
	spec, _, ok := DeriveNodeConfig(snap, testNode)
	if !ok {
		t.Fatal("not ok")
	}
	inst := &spec.BGPInstances[0]
	*inst.LocalASN = 1
	*inst.RouterID = "1.1.1.1"
	*inst.Peers[0].PeerAddress = "1.1.1.1"
	*inst.Peers[0].PeerASN = 1
	*inst.Peers[0].LocalAddress = "1.1.1.1"
	inst.Peers[0].PeerConfigRef.Name = "x"
	inst.Peers[1].AutoDiscovery.DefaultGateway.AddressFamily = "x"

	again, _, _ := DeriveNodeConfig(snap, testNode)
	a := again.BGPInstances[0]
	if *a.LocalASN != 65001 || *a.RouterID != "10.10.10.10" || *a.Peers[0].PeerAddress != "10.0.0.1" || *a.Peers[0].PeerASN != 65000 ||
		*a.Peers[0].LocalAddress != "192.168.10.12" || a.Peers[0].PeerConfigRef.Name != "pc" || a.Peers[1].AutoDiscovery.DefaultGateway.AddressFamily != "ipv4" {
		t.Errorf("mutating a derived spec changed the snapshot: %+v", a)
	}
}
