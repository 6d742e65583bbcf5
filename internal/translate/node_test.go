package translate

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

func TestNodeSelector(t *testing.T) {
	tests := []struct {
		name     string
		selector *metav1.LabelSelector
		// nodeLabels are the Node's labels; the CiliumNode has ciliumLabels.
		ciliumLabels, nodeLabels map[string]string
		selected                 bool
		diags                    []wantDiag
	}{
		{name: "nil selects every node", selected: true},
		{name: "empty selector selects every node", selector: &metav1.LabelSelector{}, selected: true},
		{
			name:         "matchLabels on CiliumNode labels",
			selector:     matchLabels("bgp", "on"),
			ciliumLabels: map[string]string{"bgp": "on"},
			selected:     true,
		},
		{
			name:         "matchLabels ignores Node labels when a CiliumNode exists",
			selector:     matchLabels("bgp", "on"),
			ciliumLabels: map[string]string{"bgp": "off"},
			nodeLabels:   map[string]string{"bgp": "on"},
			selected:     false,
		},
		{
			name: "matchExpressions In",
			selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "rack", Operator: metav1.LabelSelectorOpIn, Values: []string{"r1", "r2"}},
			}},
			ciliumLabels: map[string]string{"rack": "r2"},
			selected:     true,
		},
		{
			name: "matchExpressions DoesNotExist excludes",
			selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "no-bgp", Operator: metav1.LabelSelectorOpDoesNotExist},
			}},
			ciliumLabels: map[string]string{"no-bgp": ""},
			selected:     false,
		},
		{
			name: "matchExpressions NotIn on an absent key matches",
			selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "somekey", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"x"}},
			}},
			selected: true,
		},
		{
			name: "invalid operator",
			selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "rack", Operator: "Near", Values: []string{"r1"}},
			}},
			selected: false,
			diags:    []wantDiag{{sev: model.Error, kind: "CiliumBGPClusterConfig", name: "cc", field: "spec.nodeSelector", msg: "invalid selector"}},
		},
		{
			name:     "invalid label value",
			selector: matchLabels("rack", "not a valid value!"),
			selected: false,
			diags:    []wantDiag{{sev: model.Error, kind: "CiliumBGPClusterConfig", name: "cc", field: "spec.nodeSelector", msg: "invalid selector"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.CiliumNodes[0].Labels = tc.ciliumLabels
			snap.Nodes[0].Labels = tc.nodeLabels
			snap.ClusterConfigs[0].Spec.NodeSelector = tc.selector
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			if tc.selected {
				if res.Config.ClusterConfig != "cc" || len(res.Config.Instances) != 1 {
					t.Errorf("want node selected by cc with 1 instance, got %+v", res.Config)
				}
				return
			}
			want := model.NodeConfig{Node: testNode}
			if !reflect.DeepEqual(res.Config, want) {
				diffJSON(t, want, res.Config)
			}
			if len(res.FailedInstances) != 0 {
				t.Errorf("FailedInstances = %v, want none", res.FailedInstances)
			}
		})
	}
}

func TestNoClusterConfig(t *testing.T) {
	snap := baseSnapshot()
	snap.ClusterConfigs = nil
	res := translateOK(t, snap, model.HostFacts{}, Options{})
	expectDiags(t, res.Diagnostics)
	diffJSON(t, model.NodeConfig{Node: testNode}, res.Config)
}

func TestConflictingClusterConfigs(t *testing.T) {
	at := func(cc *model.CiliumBGPClusterConfig, d time.Duration) *model.CiliumBGPClusterConfig {
		cc.CreationTimestamp = metav1.NewTime(epoch.Add(d))
		return cc
	}
	inst := func(asn int64) model.CiliumBGPInstance {
		return bgpInstance("inst", asn, bgpPeer("peer1", "10.0.0.1", 65000, ""))
	}
	withUID := func(cc *model.CiliumBGPClusterConfig, uid string) *model.CiliumBGPClusterConfig {
		cc.UID = types.UID(uid)
		return cc
	}
	// ownedBy is the node's CiliumBGPNodeConfig, controlled by the ClusterConfig name/uid.
	ownedBy := func(name, uid string) *model.CiliumBGPNodeConfig {
		nc := &model.CiliumBGPNodeConfig{ObjectMeta: meta(testNode, nil)}
		nc.OwnerReferences = []metav1.OwnerReference{{APIVersion: "cilium.io/v2", Kind: "CiliumBGPClusterConfig", Name: name, UID: types.UID(uid), Controller: ptr(true)}}
		return nc
	}
	tests := []struct {
		name       string
		ccs        []*model.CiliumBGPClusterConfig
		nodeConfig *model.CiliumBGPNodeConfig
		owner      string
		asn        uint32
		conflicted []string
	}{
		{
			name:       "the owner of the node's NodeConfig keeps the node, though younger",
			ccs:        []*model.CiliumBGPClusterConfig{withUID(at(clusterConfig("new", nil, inst(65002)), time.Hour), "u-new"), withUID(at(clusterConfig("old", nil, inst(65001)), 0), "u-old")},
			nodeConfig: ownedBy("new", "u-new"),
			owner:      "new",
			asn:        65002,
			conflicted: []string{"old"},
		},
		{
			name:       "an owner reference matches by UID, not by name",
			ccs:        []*model.CiliumBGPClusterConfig{withUID(at(clusterConfig("new", nil, inst(65002)), time.Hour), "u-new2"), withUID(at(clusterConfig("old", nil, inst(65001)), 0), "u-old")},
			nodeConfig: ownedBy("new", "u-new"),
			owner:      "old",
			asn:        65001,
			conflicted: []string{"new"},
		},
		{
			name:       "manifests without UIDs match by name",
			ccs:        []*model.CiliumBGPClusterConfig{at(clusterConfig("new", nil, inst(65002)), time.Hour), at(clusterConfig("old", nil, inst(65001)), 0)},
			nodeConfig: ownedBy("new", ""),
			owner:      "new",
			asn:        65002,
			conflicted: []string{"old"},
		},
		{
			name: "an owner that no longer selects the node loses it to the oldest",
			ccs: []*model.CiliumBGPClusterConfig{
				at(clusterConfig("new", matchLabels("rack", "r9"), inst(65002)), time.Hour),
				at(clusterConfig("old", nil, inst(65001)), 0),
				at(clusterConfig("mid", nil, inst(65003)), time.Minute),
			},
			nodeConfig: ownedBy("new", ""),
			owner:      "old",
			asn:        65001,
			conflicted: []string{"mid"},
		},
		{
			name:       "oldest keeps the node",
			ccs:        []*model.CiliumBGPClusterConfig{at(clusterConfig("a-new", nil, inst(65002)), time.Hour), at(clusterConfig("z-old", nil, inst(65001)), 0)},
			owner:      "z-old",
			asn:        65001,
			conflicted: []string{"a-new"},
		},
		{
			name:       "same age: name order",
			ccs:        []*model.CiliumBGPClusterConfig{clusterConfig("b", nil, inst(65002)), clusterConfig("a", nil, inst(65001)), clusterConfig("c", nil, inst(65003))},
			owner:      "a",
			asn:        65001,
			conflicted: []string{"b", "c"},
		},
		{
			name: "a ClusterConfig that does not select the node does not conflict",
			ccs: []*model.CiliumBGPClusterConfig{
				at(clusterConfig("old-other", matchLabels("rack", "r9"), inst(65009)), 0),
				at(clusterConfig("new", nil, inst(65001)), time.Hour),
			},
			owner: "new",
			asn:   65001,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.ClusterConfigs = tc.ccs
			if tc.nodeConfig != nil {
				snap.NodeConfigs = []*model.CiliumBGPNodeConfig{tc.nodeConfig}
			}
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			var want []wantDiag
			for _, c := range tc.conflicted {
				want = append(want, wantDiag{sev: model.Warning, kind: "CiliumBGPClusterConfig", name: c, field: "spec.nodeSelector", msg: "CiliumBGPClusterConfig/" + tc.owner + " already owns"})
			}
			expectDiags(t, res.Diagnostics, want...)
			if res.Config.ClusterConfig != tc.owner {
				t.Errorf("owner = %q, want %q", res.Config.ClusterConfig, tc.owner)
			}
			if got := onlyInstance(t, res).LocalASN; got != tc.asn {
				t.Errorf("localASN = %d, want %d (from the owner)", got, tc.asn)
			}
		})
	}
}

func TestNodeLookup(t *testing.T) {
	t.Run("unknown node is an error", func(t *testing.T) {
		snap := baseSnapshot()
		_, err := Translate(snap, model.HostFacts{}, Options{Node: "nope"})
		if err == nil || !strings.Contains(err.Error(), `"nope"`) {
			t.Fatalf("err = %v, want a not-found error naming the node", err)
		}
	})
	t.Run("Node without CiliumNode: warning, Node labels and address", func(t *testing.T) {
		snap := baseSnapshot()
		snap.CiliumNodes = nil
		snap.Nodes[0].Labels = map[string]string{"bgp": "on"}
		snap.Nodes[0].Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.10.99"}}
		snap.ClusterConfigs[0].Spec.NodeSelector = matchLabels("bgp", "on")
		snap.Advertisements = []*model.CiliumBGPAdvertisement{advertisement("pods", bgpLabels, podCIDRRule(), poolRule(allSelector()))}
		snap.PodIPPools = []*model.CiliumPodIPPool{podPool("default", nil, 24, 0)}
		res := translateOK(t, snap, model.HostFacts{}, Options{})
		expectDiags(t, res.Diagnostics, wantDiag{sev: model.Warning, kind: "Node", name: testNode, msg: "no CiliumNode"})
		inst := onlyInstance(t, res)
		if inst.RouterID != netip.MustParseAddr("192.168.10.99") {
			t.Errorf("routerID = %s, want the Node's InternalIP", inst.RouterID)
		}
		if len(inst.Prefixes) != 0 {
			t.Errorf("prefixes = %v, want none (no CiliumNode, no PodCIDR)", prefixStrings(inst))
		}
	})
	t.Run("CiliumNode without Node", func(t *testing.T) {
		snap := baseSnapshot()
		snap.Nodes = nil
		res := translateOK(t, snap, model.HostFacts{}, Options{})
		expectDiags(t, res.Diagnostics)
		onlyInstance(t, res)
	})
}

func TestInstances(t *testing.T) {
	t.Run("spec order kept", func(t *testing.T) {
		snap := baseSnapshot()
		snap.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{
			bgpInstance("zeta", 65010), bgpInstance("alpha", 65011), bgpInstance("mid", 65012),
		}
		res := translateOK(t, snap, model.HostFacts{}, Options{})
		expectDiags(t, res.Diagnostics)
		var names []string
		for _, i := range res.Config.Instances {
			names = append(names, i.Name)
		}
		if want := []string{"zeta", "alpha", "mid"}; !reflect.DeepEqual(names, want) {
			t.Errorf("instances = %v, want %v", names, want)
		}
	})
	t.Run("name required", func(t *testing.T) {
		snap := baseSnapshot()
		snap.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{bgpInstance("", 65010), bgpInstance("b", 65011)}
		res := translateOK(t, snap, model.HostFacts{}, Options{})
		expectDiags(t, res.Diagnostics, wantDiag{sev: model.Error, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[0].name", msg: "required"})
		if inst := onlyInstance(t, res); inst.Name != "b" || len(res.FailedInstances) != 0 {
			t.Errorf("instance %q, failed %q: want b alone", inst.Name, res.FailedInstances)
		}
	})
	t.Run("instance names FRR cannot take are mapped, never refused", func(t *testing.T) {
		snap := baseSnapshot()
		snap.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{
			bgpInstance("first one", 65010), bgpInstance("blue team", 65011), bgpInstance("red", 65012),
			bgpInstance("default", 65013), bgpInstance(strings.Repeat("long.", 51), 65014),
			// A name chosen to be blue team's view: the only name left out.
			bgpInstance(model.MappedName("blue team"), 65015),
		}
		res := translateOK(t, snap, model.HostFacts{}, Options{})
		expectDiags(t, res.Diagnostics, wantDiag{sev: model.Error, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[5].name",
			msg: `the name instance "blue team" maps to: instance not configured`})
		var names []string
		for _, in := range res.Config.Instances {
			names = append(names, in.Name)
		}
		if want := []string{"first one", "blue team", "red", "default", strings.Repeat("long.", 51)}; !reflect.DeepEqual(names, want) ||
			!reflect.DeepEqual(res.FailedInstances, []string{model.MappedName("blue team")}) {
			t.Errorf("instances %q, failed %q: want %q, blue team's mapped name failed", names, res.FailedInstances, want)
		}
	})
	t.Run("one listening port for every instance", func(t *testing.T) {
		snap := baseSnapshot()
		a, b, c := bgpInstance("a", 65010), bgpInstance("b", 65011), bgpInstance("c", 65012)
		b.LocalPort, c.LocalPort = ptr(int32(1790)), ptr(int32(179))
		snap.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{a, b, c}
		res := translateOK(t, snap, model.HostFacts{}, Options{})
		expectDiags(t, res.Diagnostics, wantDiag{sev: model.Warning, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[2].localPort", msg: "1790 is used"})
		if got := res.Config.ListenPort(); got != 1790 {
			t.Errorf("ListenPort() = %d, want 1790 (the first listening instance's)", got)
		}
	})
	t.Run("duplicate name: first wins", func(t *testing.T) {
		snap := baseSnapshot()
		snap.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{
			bgpInstance("a", 65010), bgpInstance("a", 65011),
		}
		res := translateOK(t, snap, model.HostFacts{}, Options{})
		expectDiags(t, res.Diagnostics, wantDiag{sev: model.Warning, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[1].name", msg: "appears twice"})
		if inst := onlyInstance(t, res); inst.LocalASN != 65010 {
			t.Errorf("localASN = %d, want 65010 (the first)", inst.LocalASN)
		}
	})
}

// override returns a CiliumBGPNodeConfigOverride for testNode.
func override(insts ...model.CiliumBGPNodeConfigInstanceOverride) *model.CiliumBGPNodeConfigOverride {
	return &model.CiliumBGPNodeConfigOverride{ObjectMeta: meta(testNode, nil), Spec: model.CiliumBGPNodeConfigOverrideSpec{BGPInstances: insts}}
}

func TestInstanceSettings(t *testing.T) {
	ovRef := model.ObjectRef{Kind: "CiliumBGPNodeConfigOverride", Name: testNode}
	ccRef := model.ObjectRef{Kind: "CiliumBGPClusterConfig", Name: "cc"}
	tests := []struct {
		name   string
		modify func(*model.Snapshot)
		// want is compared without peers, groups, prefixes and policies.
		want   model.Instance
		failed bool
		diags  []wantDiag
	}{
		{
			name: "defaults: router ID from CiliumNode, no listen port",
			want: model.Instance{Name: "inst", LocalASN: 65001, RouterID: netip.MustParseAddr(testNodeIP), Sources: model.Provenance{
				"localASN": {Object: ccRef, Field: "spec.bgpInstances[0].localASN"},
				"routerID": {Object: model.ObjectRef{Kind: "CiliumNode", Name: testNode}, Field: "spec.addresses[0].ip"},
			}},
		},
		{
			name:   "listen port set",
			modify: func(s *model.Snapshot) { s.ClusterConfigs[0].Spec.BGPInstances[0].LocalPort = ptr(int32(179)) },
			want: model.Instance{Name: "inst", LocalASN: 65001, RouterID: netip.MustParseAddr(testNodeIP), ListenPort: 179, Sources: model.Provenance{
				"localASN":   {Object: ccRef, Field: "spec.bgpInstances[0].localASN"},
				"routerID":   {Object: model.ObjectRef{Kind: "CiliumNode", Name: testNode}, Field: "spec.addresses[0].ip"},
				"listenPort": {Object: ccRef, Field: "spec.bgpInstances[0].localPort"},
			}},
		},
		{
			name:   "listen port 0 out of range",
			modify: func(s *model.Snapshot) { s.ClusterConfigs[0].Spec.BGPInstances[0].LocalPort = ptr(int32(0)) },
			failed: true,
			diags:  []wantDiag{{sev: model.Error, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[0].localPort", msg: "not a port"}},
		},
		{
			name:   "listen port 65536 out of range",
			modify: func(s *model.Snapshot) { s.ClusterConfigs[0].Spec.BGPInstances[0].LocalPort = ptr(int32(65536)) },
			failed: true,
			diags:  []wantDiag{{sev: model.Error, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[0].localPort", msg: "not a port"}},
		},
		{
			name:   "localASN missing",
			modify: func(s *model.Snapshot) { s.ClusterConfigs[0].Spec.BGPInstances[0].LocalASN = nil },
			failed: true,
			diags:  []wantDiag{{sev: model.Error, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[0].localASN", msg: "no localASN"}},
		},
		{
			name:   "localASN 0",
			modify: func(s *model.Snapshot) { s.ClusterConfigs[0].Spec.BGPInstances[0].LocalASN = ptr(int64(0)) },
			failed: true,
			diags:  []wantDiag{{sev: model.Error, kind: "CiliumBGPClusterConfig", field: "spec.bgpInstances[0].localASN", msg: "not an ASN"}},
		},
		{
			name:   "4-byte localASN",
			modify: func(s *model.Snapshot) { s.ClusterConfigs[0].Spec.BGPInstances[0].LocalASN = ptr(int64(4200000001)) },
			want: model.Instance{Name: "inst", LocalASN: 4200000001, RouterID: netip.MustParseAddr(testNodeIP), Sources: model.Provenance{
				"localASN": {Object: ccRef, Field: "spec.bgpInstances[0].localASN"},
				"routerID": {Object: model.ObjectRef{Kind: "CiliumNode", Name: testNode}, Field: "spec.addresses[0].ip"},
			}},
		},
		{
			name: "override replaces localASN, localPort and routerID",
			modify: func(s *model.Snapshot) {
				s.ClusterConfigs[0].Spec.BGPInstances[0].LocalASN = nil
				s.ClusterConfigs[0].Spec.BGPInstances[0].LocalPort = ptr(int32(179))
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{override(
					model.CiliumBGPNodeConfigInstanceOverride{Name: "other"},
					model.CiliumBGPNodeConfigInstanceOverride{Name: "inst", LocalASN: ptr(int64(65100)), LocalPort: ptr(int32(1790)), RouterID: ptr("10.255.0.1")},
				)}
			},
			want: model.Instance{Name: "inst", LocalASN: 65100, RouterID: netip.MustParseAddr("10.255.0.1"), ListenPort: 1790, Sources: model.Provenance{
				"localASN":   {Object: ovRef, Field: "spec.bgpInstances[1].localASN"},
				"routerID":   {Object: ovRef, Field: "spec.bgpInstances[1].routerID"},
				"listenPort": {Object: ovRef, Field: "spec.bgpInstances[1].localPort"},
			}},
			diags: []wantDiag{{sev: model.Warning, kind: "CiliumBGPNodeConfigOverride", name: testNode, field: "spec.bgpInstances[0].name", msg: `no instance "other"`}},
		},
		{
			name: "override of another node has no effect",
			modify: func(s *model.Snapshot) {
				o := override(model.CiliumBGPNodeConfigInstanceOverride{Name: "inst", LocalASN: ptr(int64(65100))})
				o.Name = "worker-2"
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{o}
			},
			want: model.Instance{Name: "inst", LocalASN: 65001, RouterID: netip.MustParseAddr(testNodeIP), Sources: model.Provenance{
				"localASN": {Object: ccRef, Field: "spec.bgpInstances[0].localASN"},
				"routerID": {Object: model.ObjectRef{Kind: "CiliumNode", Name: testNode}, Field: "spec.addresses[0].ip"},
			}},
		},
		{
			name: "override with unknown peer and peer localPort",
			modify: func(s *model.Snapshot) {
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{override(model.CiliumBGPNodeConfigInstanceOverride{Name: "inst", Peers: []model.CiliumBGPNodeConfigPeerOverride{
					{Name: "ghost"},
					{Name: "peer1", LocalPort: ptr(int32(1790))},
				}})}
			},
			want: model.Instance{Name: "inst", LocalASN: 65001, RouterID: netip.MustParseAddr(testNodeIP), Sources: model.Provenance{
				"localASN": {Object: ccRef, Field: "spec.bgpInstances[0].localASN"},
				"routerID": {Object: model.ObjectRef{Kind: "CiliumNode", Name: testNode}, Field: "spec.addresses[0].ip"},
			}},
			diags: []wantDiag{
				{sev: model.Warning, kind: "CiliumBGPNodeConfigOverride", field: "spec.bgpInstances[0].peers[0].name", msg: `no peer "ghost"`},
				{sev: model.Warning, kind: "CiliumBGPNodeConfigOverride", field: "spec.bgpInstances[0].peers[1].localPort", msg: "no effect"},
			},
		},
		{
			name: "router ID: CiliumNode IPv4 InternalIP, skipping IPv6 and ExternalIP",
			modify: func(s *model.Snapshot) {
				s.CiliumNodes[0].Spec.Addresses = []model.CiliumNodeAddress{
					{Type: "ExternalIP", IP: "203.0.113.1"}, {Type: "InternalIP", IP: "fd00::12"}, {Type: "InternalIP", IP: "192.168.10.50"},
				}
			},
			want: model.Instance{Name: "inst", LocalASN: 65001, RouterID: netip.MustParseAddr("192.168.10.50"), Sources: model.Provenance{
				"localASN": {Object: ccRef, Field: "spec.bgpInstances[0].localASN"},
				"routerID": {Object: model.ObjectRef{Kind: "CiliumNode", Name: testNode}, Field: "spec.addresses[2].ip"},
			}},
		},
		{
			name: "router ID: override not IPv4",
			modify: func(s *model.Snapshot) {
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{override(model.CiliumBGPNodeConfigInstanceOverride{Name: "inst", RouterID: ptr("fd00::1")})}
			},
			failed: true,
			diags:  []wantDiag{{sev: model.Error, kind: "CiliumBGPNodeConfigOverride", field: "spec.bgpInstances[0].routerID", msg: "not an IPv4 address"}},
		},
		{
			name: "router ID: override not an address",
			modify: func(s *model.Snapshot) {
				s.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{override(model.CiliumBGPNodeConfigInstanceOverride{Name: "inst", RouterID: ptr("router-1")})}
			},
			failed: true,
			diags:  []wantDiag{{sev: model.Error, kind: "CiliumBGPNodeConfigOverride", field: "spec.bgpInstances[0].routerID", msg: "not an IPv4 address"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			if tc.modify != nil {
				tc.modify(snap)
			}
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			if tc.failed {
				if len(res.Config.Instances) != 0 || !reflect.DeepEqual(res.FailedInstances, []string{"inst"}) {
					t.Errorf("want instance failed, got instances %d, failed %v", len(res.Config.Instances), res.FailedInstances)
				}
				return
			}
			if len(res.FailedInstances) != 0 {
				t.Errorf("FailedInstances = %v", res.FailedInstances)
			}
			got := onlyInstance(t, res)
			got.Peers, got.PeerGroups, got.Prefixes, got.Policies = nil, nil, nil, nil
			diffJSON(t, tc.want, got)
		})
	}
}

func TestFailedInstanceDoesNotStopOthers(t *testing.T) {
	snap := baseSnapshot()
	snap.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{
		bgpInstance("broken", 0, bgpPeer("p", "10.0.0.9", 65000, "")),
		bgpInstance("fine", 65001, bgpPeer("p", "10.0.0.9", 65000, "")),
	}
	res := translateOK(t, snap, model.HostFacts{}, Options{})
	expectDiags(t, res.Diagnostics, wantDiag{sev: model.Error, field: "spec.bgpInstances[0].localASN", msg: `instance "broken" has no localASN`})
	if !reflect.DeepEqual(res.FailedInstances, []string{"broken"}) {
		t.Errorf("FailedInstances = %v, want [broken]", res.FailedInstances)
	}
	if inst := onlyInstance(t, res); inst.Name != "fine" || len(inst.Peers) != 1 {
		t.Errorf("want instance fine with its peer, got %+v", inst)
	}
}
