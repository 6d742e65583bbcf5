package translate

import (
	"fmt"
	"hash/fnv"
	"math/rand"
	"net/netip"
	"reflect"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

func TestOverlappingAdvertisementsSameGroup(t *testing.T) {
	web := map[string]string{"app": "web"}
	a := withLocalPref(withCommunities(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP), "65000:3", "65000:2"), 100)
	b := withLocalPref(withCommunities(serviceRule(matchLabels("io.kubernetes.service.name", "web"), model.ServiceLoadBalancerIP), "65000:2", "65000:1"), 200)
	b.Attributes.Communities.Large = []string{"1:2:3"}
	// The highest local preference is neither the first nor the last rule's.
	c := withLocalPref(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP), 300)
	snap := baseSnapshot()
	snap.Services = []*corev1.Service{lbService("default", "web", web, "172.20.0.1")}
	snap.Advertisements = []*model.CiliumBGPAdvertisement{
		advertisement("b-advert", bgpLabels, b),
		advertisement("a-advert", bgpLabels, a, c),
	}
	res := translateOK(t, snap, model.HostFacts{}, Options{})
	expectDiags(t, res.Diagnostics)
	inst := onlyInstance(t, res)
	if len(inst.Prefixes) != 1 {
		t.Fatalf("prefixes = %v", prefixStrings(inst))
	}
	pol := policyByID(t, inst, inst.Prefixes[0].Policy)
	lp := uint32(300)
	want := model.ExportPolicy{
		ID:     pol.ID,
		Family: model.IPv4Unicast,
		Rules: []model.RuleRef{
			{Advertisement: "a-advert", Index: 0, Type: model.AdvertService},
			{Advertisement: "a-advert", Index: 1, Type: model.AdvertService},
			{Advertisement: "b-advert", Index: 0, Type: model.AdvertService},
		},
		Exports: []model.Export{{
			PeerGroup:        "pc",
			Communities:      comms("65000:1", "65000:2", "65000:3"),
			LargeCommunities: []model.LargeCommunity{{GlobalAdmin: 1, Local1: 2, Local2: 3}},
			LocalPreference:  &lp,
		}},
	}
	diffJSON(t, want, pol)
	if got := len(inst.Prefixes[0].Origins); got != 3 {
		t.Errorf("origins = %d, want 3 (one per rule)", got)
	}
}

// Two groups select different advertisements yielding the same prefix: one policy, one
// export per group with its own attributes; a group that selects no rule of a policy gets
// no export for it.
func TestOverlappingAdvertisementsTwoGroups(t *testing.T) {
	web := map[string]string{"app": "web"}
	snap := baseSnapshot()
	snap.CiliumNodes[0].Spec.IPAM.PodCIDRs = []string{"10.0.1.0/24"}
	snap.Services = []*corev1.Service{lbService("default", "web", web, "172.20.0.1")}
	snap.PeerConfigs = []*model.CiliumBGPPeerConfig{
		peerConfig("pc-a", withFamilies(matchLabels("team", "a"), model.IPv4Unicast)),
		peerConfig("pc-b", withFamilies(matchLabels("team", "b"), model.IPv4Unicast)),
		peerConfig("pc-none", withFamilies(matchLabels("team", "none"), model.IPv4Unicast)),
	}
	snap.Advertisements = []*model.CiliumBGPAdvertisement{
		advertisement("adv-a", map[string]string{"team": "a"}, withCommunities(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP), "65000:1")),
		advertisement("adv-b", map[string]string{"team": "b"}, withLocalPref(withCommunities(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP), "65000:2"), 300), podCIDRRule()),
	}
	snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = []model.CiliumBGPPeer{
		bgpPeer("pb", "10.0.0.2", 65000, "pc-b"),
		bgpPeer("pa", "10.0.0.1", 65000, "pc-a"),
		bgpPeer("pn", "10.0.0.3", 65000, "pc-none"),
	}
	res := translateOK(t, snap, model.HostFacts{}, Options{})
	expectDiags(t, res.Diagnostics)
	inst := onlyInstance(t, res)
	var groups []string
	for _, g := range inst.PeerGroups {
		groups = append(groups, g.Name)
	}
	diffJSON(t, []string{"pc-a", "pc-b", "pc-none"}, groups)
	diffJSON(t, []string{"10.0.1.0/24", "172.20.0.1/32"}, prefixStrings(inst))
	lp := uint32(300)
	diffJSON(t, []model.Export{
		{PeerGroup: "pc-a", Communities: comms("65000:1")},
		{PeerGroup: "pc-b", Communities: comms("65000:2"), LocalPreference: &lp},
	}, exportsOf(t, inst, "172.20.0.1/32"))
	diffJSON(t, []model.Export{{PeerGroup: "pc-b"}}, exportsOf(t, inst, "10.0.1.0/24"))
	if len(inst.Policies) != 2 {
		t.Errorf("policies = %d, want 2", len(inst.Policies))
	}
	if inst.Prefixes[0].Policy == inst.Prefixes[1].Policy {
		t.Error("prefixes from different rule sets share a policy")
	}
}

// Prefixes from the same set of rules share one policy.
func TestPolicySharing(t *testing.T) {
	web := map[string]string{"app": "web"}
	snap := svcSnapshot(withCommunities(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP), "65000:1"),
		lbService("default", "a", web, "172.20.0.1"), lbService("default", "b", web, "172.20.0.2"), lbService("default", "c", web, "2001:db8::1"))
	inst := onlyInstance(t, translateOK(t, snap, model.HostFacts{}, Options{}))
	if len(inst.Policies) != 2 {
		t.Fatalf("policies = %d, want one per family", len(inst.Policies))
	}
	if inst.Prefixes[0].Policy != inst.Prefixes[1].Policy || inst.Prefixes[1].Policy == inst.Prefixes[2].Policy {
		t.Errorf("policies of %v: %d %d %d", prefixStrings(inst), inst.Prefixes[0].Policy, inst.Prefixes[1].Policy, inst.Prefixes[2].Policy)
	}
	if !sort.SliceIsSorted(inst.Policies, func(i, j int) bool { return inst.Policies[i].ID < inst.Policies[j].ID }) {
		t.Error("policies not sorted by ID")
	}
}

func TestPolicyIDsStable(t *testing.T) {
	web := map[string]string{"app": "web"}
	build := func(extra bool) *model.Snapshot {
		snap := svcSnapshot(withCommunities(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP), "65000:1"),
			lbService("default", "web", web, "172.20.0.1"))
		if extra {
			snap.Services = append(snap.Services,
				lbService("default", "web2", web, "172.20.0.2"),
				lbService("default", "other", map[string]string{"app": "other"}, "172.20.9.9"))
			snap.Advertisements = append(snap.Advertisements,
				advertisement("aaa-first", bgpLabels, serviceRule(matchLabels("app", "other"), model.ServiceLoadBalancerIP)))
		}
		return snap
	}
	policyOf := func(inst model.Instance, prefix string) uint32 {
		for _, p := range inst.Prefixes {
			if p.Prefix.String() == prefix {
				return p.Policy
			}
		}
		t.Fatalf("no prefix %s in %v", prefix, prefixStrings(inst))
		return 0
	}
	before := onlyInstance(t, translateOK(t, build(false), model.HostFacts{}, Options{}))
	after := onlyInstance(t, translateOK(t, build(true), model.HostFacts{}, Options{}))
	id := policyOf(before, "172.20.0.1/32")
	if id == 0 {
		t.Fatal("policy ID 0")
	}
	if got := policyOf(after, "172.20.0.1/32"); got != id {
		t.Errorf("policy ID moved from %d to %d after adding unrelated objects", id, got)
	}
	if got := policyOf(after, "172.20.0.2/32"); got != id {
		t.Errorf("a new Service of the same rule got policy %d, want the existing %d", got, id)
	}
	if got := policyOf(after, "172.20.9.9/32"); got == id || got == 0 {
		t.Errorf("the unrelated rule got policy %d", got)
	}
	// The ID does not depend on the instance, the node or the peers either.
	snap := build(false)
	snap.ClusterConfigs[0].Spec.BGPInstances[0].Name = "renamed"
	snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = append(snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers, bgpPeer("p2", "10.0.0.2", 65010, "pc"))
	if got := policyOf(onlyInstance(t, translateOK(t, snap, model.HostFacts{}, Options{})), "172.20.0.1/32"); got != id {
		t.Errorf("policy ID moved from %d to %d with other peers", id, got)
	}
}

// fnv32a is the hash assignPolicyIDs starts from.
func fnv32a(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// zeroHashString finds a string whose FNV-1a hash is 0: after a prefix s with hash h, a
// byte b gives (h^b)*p, and a last byte c gives 0 exactly when (h^b)*p == c.
func zeroHashString(t *testing.T) string {
	const prime = 16777619
	for n := 0; n < 1<<22; n++ {
		s := fmt.Sprintf("sig-%d|", n)
		h := fnv32a(s)
		for b := 0; b < 256; b++ {
			h2 := (h ^ uint32(b)) * prime
			if h2 < 256 {
				out := s + string([]byte{byte(b), byte(h2)})
				if fnv32a(out) != 0 {
					t.Fatalf("construction error for %q", out)
				}
				return out
			}
		}
	}
	t.Fatal("no zero-hash string found")
	return ""
}

// collidingStrings finds two strings with the same FNV-1a hash (birthday search).
func collidingStrings(t *testing.T) (string, string) {
	seen := map[uint32]string{}
	for n := 0; n < 1<<20; n++ {
		s := fmt.Sprintf("ipv4/unicast|adv-%d#0", n)
		h := fnv32a(s)
		if o, ok := seen[h]; ok {
			return o, s
		}
		seen[h] = s
	}
	t.Fatal("no collision found")
	return "", ""
}

func TestAssignPolicyIDs(t *testing.T) {
	zero := zeroHashString(t)
	c1, c2 := collidingStrings(t)
	policies := map[string]*model.ExportPolicy{zero: {}, c1: {}, c2: {}, "ipv4/unicast|x#0": {}}
	ids := assignPolicyIDs(policies)
	seen := map[uint32]string{}
	for sig, id := range ids {
		if id == 0 {
			t.Errorf("policy %q got ID 0", sig)
		}
		if o, dup := seen[id]; dup {
			t.Errorf("policies %q and %q share ID %d", o, sig, id)
		}
		seen[id] = sig
		if policies[sig].ID != id {
			t.Errorf("policy %q: ID %d in the map, %d in the policy", sig, id, policies[sig].ID)
		}
	}
	if ids[zero] != 1 {
		t.Errorf("zero hash: ID %d, want 1", ids[zero])
	}
	// The collision is settled by signature order: the smaller keeps the hash.
	lo, hi := min(c1, c2), max(c1, c2)
	if ids[lo] != fnv32a(lo) || ids[hi] != fnv32a(lo)+1 {
		t.Errorf("collision: %q=%d %q=%d, hash %d", lo, ids[lo], hi, ids[hi], fnv32a(lo))
	}
	// Deterministic.
	again := map[string]*model.ExportPolicy{zero: {}, c1: {}, c2: {}, "ipv4/unicast|x#0": {}}
	if ids2 := assignPolicyIDs(again); !reflect.DeepEqual(ids, ids2) {
		t.Errorf("IDs differ between runs: %v vs %v", ids, ids2)
	}
}

func TestPrefixOrder(t *testing.T) {
	web := map[string]string{"app": "web"}
	snap := svcSnapshot(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP, model.ServiceClusterIP),
		lbService("default", "a", web, "2001:db8::1", "10.0.0.2"),
		lbService("default", "b", web, "9.0.0.1", "::ffff:1.1.1.1"),
		clusterIPService("default", "c", web, "fd00::1", "10.0.0.10"),
	)
	inst := onlyInstance(t, translateOK(t, snap, model.HostFacts{}, Options{}))
	diffJSON(t, []string{"1.1.1.1/32", "9.0.0.1/32", "10.0.0.2/32", "10.0.0.10/32", "2001:db8::1/128", "fd00::1/128"}, prefixStrings(inst))

	ps := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("::/0"), netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("9.255.255.255/32"),
	}
	sort.Slice(ps, func(i, j int) bool { return prefixLess(ps[i], ps[j]) })
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	diffJSON(t, []string{"0.0.0.0/0", "9.255.255.255/32", "10.0.0.0/8", "10.0.0.0/24", "::/0"}, got)
}

// Cilium #33076: with two instances, each gets the prefixes of its own peers' PeerConfigs.
func TestMultiInstance(t *testing.T) {
	web := map[string]string{"app": "web"}
	snap := baseSnapshot()
	snap.CiliumNodes[0].Spec.IPAM.PodCIDRs = []string{"10.0.1.0/24"}
	snap.Services = []*corev1.Service{lbService("default", "web", web, "172.20.0.1")}
	snap.PeerConfigs = []*model.CiliumBGPPeerConfig{
		peerConfig("pc-a", withFamilies(matchLabels("to", "a"), model.IPv4Unicast)),
		peerConfig("pc-b", withFamilies(matchLabels("to", "b"), model.IPv4Unicast), func(s *model.CiliumBGPPeerConfigSpec) { s.EBGPMultihop = ptr(int32(3)) }),
	}
	snap.Advertisements = []*model.CiliumBGPAdvertisement{
		advertisement("lb-a", map[string]string{"to": "a"}, withCommunities(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP), "65001:1")),
		advertisement("lb-b", map[string]string{"to": "b"}, withCommunities(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP), "65002:1"), podCIDRRule()),
	}
	snap.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{
		bgpInstance("tor-a", 65001, bgpPeer("a", "10.0.0.1", 65000, "pc-a")),
		bgpInstance("tor-b", 65002, bgpPeer("b", "10.1.0.1", 65100, "pc-b")),
	}
	res := translateOK(t, snap, model.HostFacts{}, Options{})
	expectDiags(t, res.Diagnostics)
	if len(res.Config.Instances) != 2 {
		t.Fatalf("instances = %d", len(res.Config.Instances))
	}
	a, b := res.Config.Instances[0], res.Config.Instances[1]
	diffJSON(t, []string{"172.20.0.1/32"}, prefixStrings(a))
	diffJSON(t, []string{"10.0.1.0/24", "172.20.0.1/32"}, prefixStrings(b))
	diffJSON(t, []model.Export{{PeerGroup: "pc-a", Communities: comms("65001:1")}}, exportsOf(t, a, "172.20.0.1/32"))
	diffJSON(t, []model.Export{{PeerGroup: "pc-b", Communities: comms("65002:1")}}, exportsOf(t, b, "172.20.0.1/32"))
	if len(a.PeerGroups) != 1 || a.PeerGroups[0].Name != "pc-a" || len(b.PeerGroups) != 1 || b.PeerGroups[0].EBGPMultihop != 3 {
		t.Errorf("groups: a %+v, b %+v", a.PeerGroups, b.PeerGroups)
	}

	// The same PeerConfig used by both instances: both advertise.
	snap.ClusterConfigs[0].Spec.BGPInstances[1].Peers[0].PeerConfigRef.Name = "pc-a"
	res = translateOK(t, snap, model.HostFacts{}, Options{})
	for _, inst := range res.Config.Instances {
		diffJSON(t, []string{"172.20.0.1/32"}, prefixStrings(inst))
	}
}

// richSnapshot exercises most features at once, with some errors; the determinism test
// shuffles it.
func richSnapshot() (*model.Snapshot, model.HostFacts) {
	snap := baseSnapshot()
	web := map[string]string{"app": "web"}
	snap.CiliumNodes[0].Spec.IPAM.PodCIDRs = []string{"10.0.1.0/24", "fd00:1::/64", "bad"}
	snap.CiliumNodes[0].Spec.IPAM.Pools.Allocated = []model.CiliumNodeIPPoolAllocation{{Pool: "blue", CIDRs: []string{"10.20.1.0/24", "10.20.2.0/25"}}}
	snap.PodIPPools = []*model.CiliumPodIPPool{podPool("blue", map[string]string{"pool": "blue"}, 24, 64), podPool("red", nil, 24, 0)}
	snap.PeerConfigs = append(snap.PeerConfigs,
		peerConfig("pc2", withFamilies(&metav1.LabelSelector{}, model.IPv4Unicast), func(s *model.CiliumBGPPeerConfigSpec) {
			s.AuthSecretRef = ptr("auth")
			s.Timers = &model.CiliumBGPTimers{ConnectRetryTimeSeconds: ptr(int32(100000))}
		}),
		peerConfig("pc3", func(s *model.CiliumBGPPeerConfigSpec) { s.AuthSecretRef = ptr("missing") }),
		peerConfig("bad", func(s *model.CiliumBGPPeerConfigSpec) { s.EBGPMultihop = ptr(int32(0)) }),
	)
	snap.Secrets = []*corev1.Secret{secret("kube-system", "auth", map[string]string{"password": testPassword}), secret("default", "missing", map[string]string{"password": "x"})}
	snap.ClusterConfigs[0].Spec.BGPInstances = []model.CiliumBGPInstance{
		bgpInstance("one", 65001,
			bgpPeer("p1", "10.0.0.1", 65000, "pc"),
			bgpPeer("p2", "10.0.0.2", 65000, "pc2"),
			bgpPeer("p3", "2001:db8::2", 65000, "pc3"),
			bgpPeer("p4", "10.0.0.4", 65000, "bad"),
			bgpPeer("p5", "10.0.0.5", 65000, "gone"),
			bgpPeer("p6", "10.0.0.6", 65000, ""),
			gatewayPeer("gw", "ipv4", 65000, "pc"),
		),
		bgpInstance("two", 65002, bgpPeer("q1", "10.1.0.1", 0, "pc2")),
		bgpInstance("broken", 0),
	}
	snap.ClusterConfigs = append(snap.ClusterConfigs, clusterConfig("cc-later", nil, bgpInstance("x", 1)), clusterConfig("cc-other", matchLabels("rack", "r9")))
	snap.ClusterConfigs[1].CreationTimestamp = metav1.NewTime(epoch.AddDate(0, 0, 1))
	snap.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{override(model.CiliumBGPNodeConfigInstanceOverride{Name: "two", LocalPort: ptr(int32(1790)), Peers: []model.CiliumBGPNodeConfigPeerOverride{{Name: "q1", LocalAddress: ptr("10.1.0.99")}}})}
	snap.Advertisements = []*model.CiliumBGPAdvertisement{
		advertisement("svc", bgpLabels,
			withLocalPref(withCommunities(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP, model.ServiceClusterIP), "65000:1", "no-such"), 100),
			func() model.BGPAdvertisement {
				r := serviceRule(allSelector(), model.ServiceLoadBalancerIP)
				r.Service.AggregationLengthIPv4 = ptr(int16(16))
				return r
			}()),
		advertisement("pods", bgpLabels, podCIDRRule(), poolRule(allSelector())),
		advertisement("ifc", map[string]string{"other": "x"}, interfaceRule("lo-bgp")),
		advertisement("broken", bgpLabels, model.BGPAdvertisement{AdvertisementType: "Bogus"}),
	}
	snap.Services = []*corev1.Service{
		lbService("default", "web", web, "172.20.0.1", "2001:db8:20::1"),
		lbService("default", "web2", web, "172.20.0.2"),
		lbService("prod", "web", nil, "172.20.5.5"),
		func() *corev1.Service {
			s := lbService("prod", "local", web, "172.20.7.7")
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			return s
		}(),
		clusterIPService("default", "cip", web, "10.96.0.10", "fd00:96::10"),
	}
	snap.EndpointSlices = []*discoveryv1.EndpointSlice{
		endpointSlice("prod", "local", endpoint(testNode, nil, nil)),
		endpointSlice("default", "web", endpoint("worker-2", nil, nil)),
	}
	snap.Nodes = append(snap.Nodes, k8sNode("worker-2", nil, "192.168.10.13"))
	snap.CiliumNodes = append(snap.CiliumNodes, ciliumNode("worker-2", nil, "192.168.10.13"))
	host := model.HostFacts{
		Interfaces: []model.Interface{{Name: "lo-bgp", AdminUp: true, OperState: "unknown", Addresses: []netip.Prefix{netip.MustParsePrefix("10.255.0.1/32")}}},
		DefaultRoutes: []model.DefaultRoute{
			{Family: "ipv4", Gateway: netip.MustParseAddr("10.9.0.1"), Metric: 100, Interface: "eth0", LinkUp: true},
			{Family: "ipv4", Gateway: netip.MustParseAddr("10.9.0.2"), Metric: 100, Interface: "eth1", LinkUp: true},
			{Family: "ipv6", Gateway: netip.MustParseAddr("fe80::1"), Metric: 1, Interface: "eth0", LinkUp: true},
		},
	}
	return snap, host
}

func shuffled[T any](r *rand.Rand, s []T) []T {
	out := append([]T(nil), s...)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func TestDeterminism(t *testing.T) {
	snap, host := richSnapshot()
	want := translateOK(t, snap, host, Options{})
	if len(want.Config.Instances) != 2 || len(want.Diagnostics) < 5 {
		t.Fatalf("rich snapshot does not exercise enough: %d instances, diagnostics:\n%s", len(want.Config.Instances), diagText(want.Diagnostics))
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		s := *snap
		s.ClusterConfigs = shuffled(r, s.ClusterConfigs)
		s.PeerConfigs = shuffled(r, s.PeerConfigs)
		s.Advertisements = shuffled(r, s.Advertisements)
		s.NodeOverrides = shuffled(r, s.NodeOverrides)
		s.CiliumNodes = shuffled(r, s.CiliumNodes)
		s.PodIPPools = shuffled(r, s.PodIPPools)
		s.Nodes = shuffled(r, s.Nodes)
		s.Services = shuffled(r, s.Services)
		s.EndpointSlices = shuffled(r, s.EndpointSlices)
		s.Secrets = shuffled(r, s.Secrets)
		h := host
		h.DefaultRoutes = shuffled(r, h.DefaultRoutes)
		h.Interfaces = shuffled(r, h.Interfaces)
		got := translateOK(t, &s, h, Options{})
		if !reflect.DeepEqual(want, got) {
			t.Errorf("shuffle %d: result differs", i)
			diffJSON(t, want, got)
			if !reflect.DeepEqual(want.Diagnostics, got.Diagnostics) {
				t.Errorf("diagnostics differ:\nwant\n%s\ngot\n%s", diagText(want.Diagnostics), diagText(got.Diagnostics))
			}
			return
		}
	}
	// The password made it through, and only through Reveal.
	for _, g := range want.Config.Instances[0].PeerGroups {
		if g.Name == "pc2" && g.Password.Reveal() != testPassword {
			t.Errorf("pc2 password not set")
		}
	}
	assertNoLeak(t, want, testPassword)
	// Translate does not modify its input.
	snap2, host2 := richSnapshot()
	if !reflect.DeepEqual(snap, snap2) || !reflect.DeepEqual(host, host2) {
		t.Error("Translate modified its input")
	}
}

// seedSnapshot is the Hands-On of the seed scenario (shared/seed/hands-on), built in Go.
func seedSnapshot() *model.Snapshot {
	linux := func(name string) map[string]string {
		return map[string]string{"kubernetes.io/os": "linux", "kubernetes.io/hostname": name}
	}
	snap := &model.Snapshot{
		ClusterConfigs: []*model.CiliumBGPClusterConfig{clusterConfig("cilium-bgp", matchLabels("kubernetes.io/os", "linux"),
			func() model.CiliumBGPInstance {
				i := bgpInstance("K8S-NODES", 65001, bgpPeer("FRRouter", "192.168.10.1", 65000, "cilium-peer"))
				i.LocalPort = ptr(int32(179))
				return i
			}())},
		PeerConfigs: []*model.CiliumBGPPeerConfig{peerConfig("cilium-peer", func(s *model.CiliumBGPPeerConfigSpec) {
			s.Timers = &model.CiliumBGPTimers{HoldTimeSeconds: ptr(int32(90)), KeepAliveTimeSeconds: ptr(int32(30))}
			s.GracefulRestart = &model.CiliumBGPGracefulRestart{Enabled: true, RestartTimeSeconds: ptr(int32(120))}
		}, withFamilies(matchLabels("advertise", "bgp"), model.IPv4Unicast))},
		Advertisements: []*model.CiliumBGPAdvertisement{advertisement("advertise-gateway-lb", map[string]string{"advertise": "bgp", "bgp-advertisement": "true"},
			serviceRule(matchLabels("app", "http-test"), model.ServiceLoadBalancerIP))},
		Services: []*corev1.Service{func() *corev1.Service {
			s := lbService("default", "http-test", map[string]string{"app": "http-test"}, "172.20.0.1")
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.105.166.135", []string{"10.105.166.135"}
			return s
		}()},
	}
	for i, name := range []string{"cp-1", "worker-1", "worker-2"} {
		ip := fmt.Sprintf("192.168.10.%d", 11+i)
		n := k8sNode(name, linux(name), ip)
		cidr := fmt.Sprintf("10.0.%d.0/24", i)
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidr, []string{cidr}
		snap.Nodes = append(snap.Nodes, n)
		cn := ciliumNode(name, linux(name), ip)
		cn.Spec.IPAM.PodCIDRs = []string{cidr}
		snap.CiliumNodes = append(snap.CiliumNodes, cn)
	}
	return snap
}

func TestSeedHandsOn(t *testing.T) {
	for i, node := range []string{"cp-1", "worker-1", "worker-2"} {
		t.Run(node, func(t *testing.T) {
			res := translateOK(t, seedSnapshot(), model.HostFacts{}, Options{Node: node})
			expectDiags(t, res.Diagnostics)
			if len(res.FailedInstances) != 0 || len(res.Config.Instances) != 1 || len(res.Config.Instances[0].Policies) != 1 {
				t.Fatalf("unexpected result: %+v", res)
			}
			id := res.Config.Instances[0].Policies[0].ID
			if id == 0 {
				t.Error("policy ID 0")
			}
			cc := model.ObjectRef{Kind: "CiliumBGPClusterConfig", Name: "cilium-bgp"}
			pc := model.ObjectRef{Kind: "CiliumBGPPeerConfig", Name: "cilium-peer"}
			rule := model.RuleRef{Advertisement: "advertise-gateway-lb", Index: 0, Type: model.AdvertService}
			want := model.NodeConfig{
				Node:          node,
				ClusterConfig: "cilium-bgp",
				Instances: []model.Instance{{
					Name:       "K8S-NODES",
					LocalASN:   65001,
					RouterID:   netip.MustParseAddr(fmt.Sprintf("192.168.10.%d", 11+i)),
					ListenPort: 179,
					PeerGroups: []model.PeerGroup{{
						Name:            "cilium-peer",
						PeerPort:        179,
						Timers:          model.Timers{ConnectRetry: 120, Hold: 90, Keepalive: 30},
						GracefulRestart: model.GracefulRestart{Enabled: true, RestartTime: 120},
						Families:        []model.Family{model.IPv4Unicast},
						Sources: model.Provenance{
							"timers.hold":                 {Object: pc, Field: "spec.timers.holdTimeSeconds"},
							"timers.keepalive":            {Object: pc, Field: "spec.timers.keepAliveTimeSeconds"},
							"gracefulRestart.enabled":     {Object: pc, Field: "spec.gracefulRestart.enabled"},
							"gracefulRestart.restartTime": {Object: pc, Field: "spec.gracefulRestart.restartTimeSeconds"},
						},
					}},
					Peers: []model.Peer{{
						Name:    "FRRouter",
						Address: netip.MustParseAddr("192.168.10.1"),
						ASN:     65000,
						Group:   "cilium-peer",
						Sources: model.Provenance{
							"group":   {Object: cc, Field: "spec.bgpInstances[0].peers[0].peerConfigRef.name"},
							"address": {Object: cc, Field: "spec.bgpInstances[0].peers[0].peerAddress"},
							"asn":     {Object: cc, Field: "spec.bgpInstances[0].peers[0].peerASN"},
						},
					}},
					Prefixes: []model.AdvertisedPrefix{{
						Prefix:  netip.MustParsePrefix("172.20.0.1/32"),
						Policy:  id,
						Origins: []model.Origin{{Rule: rule, Object: model.ObjectRef{Kind: "Service", Namespace: "default", Name: "http-test"}, Detail: "LoadBalancerIP"}},
					}},
					Policies: []model.ExportPolicy{{
						ID:      id,
						Family:  model.IPv4Unicast,
						Rules:   []model.RuleRef{rule},
						Exports: []model.Export{{PeerGroup: "cilium-peer"}},
					}},
					Sources: model.Provenance{
						"localASN":   {Object: cc, Field: "spec.bgpInstances[0].localASN"},
						"routerID":   {Object: model.ObjectRef{Kind: "CiliumNode", Name: node}, Field: "spec.addresses[0].ip"},
						"listenPort": {Object: cc, Field: "spec.bgpInstances[0].localPort"},
					},
				}},
			}
			if !reflect.DeepEqual(want, res.Config) {
				diffJSON(t, want, res.Config)
				t.Errorf("DeepEqual failed")
			}
		})
	}
}

// TestAttributesWhereAdvertisementsMeet pins the result where several rules give one peer
// group the same prefix (issue 10, item 12). Cilium merges the rules of one resource and
// type (several PodCIDR rules; one Service selected by several Service rules): the union of
// the communities and the highest local preference, its documented "overlapping
// advertisements" rule, which frr-renderer follows. Across resources (an aggregate two
// Services fall into; a Service IP that is also an interface address) Cilium's statements are
// separate and GoBGP applies the first that matches (statement priority, then name): one
// resource's attributes, chosen by naming order. frr-renderer gives the union there too, on
// purpose: the result does not depend on the names.
func TestAttributesWhereAdvertisementsMeet(t *testing.T) {
	t.Run("two PodCIDR rules: union and highest local preference, as Cilium", func(t *testing.T) {
		snap := baseSnapshot()
		snap.CiliumNodes[0].Spec.IPAM.PodCIDRs = []string{"10.244.1.0/24"}
		snap.Advertisements = []*model.CiliumBGPAdvertisement{
			advertisement("pods-a", bgpLabels, withLocalPref(withCommunities(podCIDRRule(), "65000:1"), 100)),
			advertisement("pods-b", bgpLabels, withLocalPref(withCommunities(podCIDRRule(), "65000:2"), 200)),
		}
		inst := onlyInstance(t, translateOK(t, snap, model.HostFacts{}, Options{}))
		ex := exportsOf(t, inst, "10.244.1.0/24")
		if len(ex) != 1 || !reflect.DeepEqual(ex[0].Communities, comms("65000:1", "65000:2")) || *ex[0].LocalPreference != 200 {
			t.Errorf("exports %+v", ex)
		}
	})
	t.Run("one aggregate from two Services: the union (Cilium: the first statement's)", func(t *testing.T) {
		agg := func(sel *metav1.LabelSelector, c string) model.BGPAdvertisement {
			r := withCommunities(serviceRule(sel, model.ServiceLoadBalancerIP), c)
			r.Service.AggregationLengthIPv4 = ptr(int16(24))
			return r
		}
		snap := baseSnapshot()
		snap.Services = []*corev1.Service{
			lbService("default", "a", map[string]string{"app": "a"}, "172.20.0.1"),
			lbService("default", "b", map[string]string{"app": "b"}, "172.20.0.2"),
		}
		snap.Advertisements = []*model.CiliumBGPAdvertisement{advertisement("svc", bgpLabels,
			agg(matchLabels("app", "a"), "65000:1"), agg(matchLabels("app", "b"), "65000:2"))}
		inst := onlyInstance(t, translateOK(t, snap, model.HostFacts{}, Options{}))
		if got := prefixStrings(inst); !reflect.DeepEqual(got, []string{"172.20.0.0/24"}) {
			t.Fatalf("prefixes %v", got)
		}
		if ex := exportsOf(t, inst, "172.20.0.0/24"); len(ex) != 1 || !reflect.DeepEqual(ex[0].Communities, comms("65000:1", "65000:2")) {
			t.Errorf("exports %+v", ex)
		}
	})
}
