package translate

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// fuzzSecret is the password of the fuzzed snapshot; it must never appear in a diagnostic.
const fuzzSecret = "Fuzz-Secret-Password-0x5eed"

// fuzzSnapshot builds a snapshot in which every free-form value comes from the fuzzer.
func fuzzSnapshot(name, labelValue, addr, community, large, cidr string, asn, peerASN, localPref int64, aggLen, mask int16, timer int32, flags uint8) (*model.Snapshot, model.HostFacts) {
	lbls := map[string]string{"k": labelValue}
	var nodeSel *metav1.LabelSelector
	if flags&1 != 0 {
		nodeSel = matchLabels("k", labelValue)
	}
	peer := bgpPeer(name, addr, peerASN, "pc")
	peers := []model.CiliumBGPPeer{peer, bgpPeer("fixed", "10.0.0.1", 65000, name), gatewayPeer("gw", labelValue, peerASN, "pc")}
	inst := bgpInstance(name, asn, peers...)
	if flags&2 != 0 {
		inst.LocalPort = ptr(timer)
	}
	snap := &model.Snapshot{
		ClusterConfigs: []*model.CiliumBGPClusterConfig{
			clusterConfig(name, nodeSel, inst, bgpInstance(labelValue, 65001, bgpPeer("x", addr, 0, ""))),
			clusterConfig("z"+name, nil, bgpInstance("other", 1)),
		},
		CiliumNodes: []*model.CiliumNode{ciliumNode(testNode, lbls, addr)},
		Nodes:       []*corev1.Node{k8sNode(testNode, lbls, addr)},
	}
	snap.CiliumNodes[0].Spec.IPAM.PodCIDRs = []string{cidr, "10.0.1.0/24"}
	snap.CiliumNodes[0].Spec.IPAM.Pools.Allocated = []model.CiliumNodeIPPoolAllocation{{Pool: name, CIDRs: []string{cidr}}}
	snap.PodIPPools = []*model.CiliumPodIPPool{podPool(name, lbls, int(mask), int(mask))}

	pcSpec := func(s *model.CiliumBGPPeerConfigSpec) {
		s.Timers = &model.CiliumBGPTimers{ConnectRetryTimeSeconds: ptr(timer), HoldTimeSeconds: ptr(timer), KeepAliveTimeSeconds: ptr(int32(mask))}
		s.EBGPMultihop = ptr(int32(aggLen))
		s.GracefulRestart = &model.CiliumBGPGracefulRestart{Enabled: flags&4 != 0, RestartTimeSeconds: ptr(timer)}
		s.Transport = &model.CiliumBGPTransport{PeerPort: ptr(timer)}
		if flags&8 != 0 {
			s.Transport.SourceInterface = ptr(name)
		}
		s.AuthSecretRef = ptr("auth")
		s.Families = []model.CiliumBGPFamilyWithAdverts{
			{AFI: "ipv4", SAFI: "unicast", Advertisements: &metav1.LabelSelector{}},
			{AFI: "ipv6", SAFI: "unicast", Advertisements: matchLabels("k", labelValue)},
			{AFI: labelValue, SAFI: name},
		}
	}
	snap.PeerConfigs = []*model.CiliumBGPPeerConfig{
		peerConfig("pc", pcSpec),
		peerConfig(name, withFamilies(&metav1.LabelSelector{}, model.IPv4Unicast, model.IPv6Unicast)),
	}
	password := fuzzSecret
	if flags&16 != 0 {
		password += name // may hold spaces or control characters
	}
	snap.Secrets = []*corev1.Secret{secret("kube-system", "auth", map[string]string{"password": password})}

	svcRule := serviceRule(matchLabels("k", labelValue), model.ServiceLoadBalancerIP, model.ServiceClusterIP, model.ServiceExternalIP, name)
	svcRule.Service.AggregationLengthIPv4 = ptr(aggLen)
	svcRule.Service.AggregationLengthIPv6 = ptr(aggLen)
	svcRule.Attributes = &model.BGPAttributes{
		Communities:     &model.BGPCommunities{Standard: []string{community}, WellKnown: []string{community}, Large: []string{large}},
		LocalPreference: ptr(localPref),
	}
	allRule := serviceRule(&metav1.LabelSelector{}, model.ServiceLoadBalancerIP)
	snap.Advertisements = []*model.CiliumBGPAdvertisement{
		advertisement(name, lbls, svcRule, podCIDRRule(), poolRule(matchLabels("io.cilium.podippool.name", name)), interfaceRule(name),
			model.BGPAdvertisement{AdvertisementType: labelValue, Selector: matchLabels(labelValue, name)}),
		advertisement("all", nil, allRule),
	}
	svc := lbService(labelValue, name, lbls, addr, "172.20.0.1")
	svc.Spec.ExternalIPs = []string{addr, cidr}
	svc.Spec.ClusterIPs = []string{addr, "None"}
	if flags&32 != 0 {
		svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		svc.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal)
	}
	if flags&64 != 0 {
		svc.Spec.LoadBalancerClass = ptr(name)
	}
	snap.Services = []*corev1.Service{svc}
	snap.EndpointSlices = []*discoveryv1.EndpointSlice{endpointSlice(labelValue, name, endpoint(name, nil, nil), endpoint(testNode, ptr(flags&128 != 0), nil))}
	snap.NodeOverrides = []*model.CiliumBGPNodeConfigOverride{override(model.CiliumBGPNodeConfigInstanceOverride{
		Name: name, RouterID: ptr(addr), LocalASN: ptr(peerASN),
		Peers: []model.CiliumBGPNodeConfigPeerOverride{{Name: name, LocalAddress: ptr(cidr)}},
	})}
	if flags&128 != 0 {
		snap.NodeOverrides[0].Spec.BGPInstances[0].RouterID = nil
	}

	var host model.HostFacts
	var ifAddrs []netip.Prefix
	if p, err := netip.ParsePrefix(cidr); err == nil {
		ifAddrs = append(ifAddrs, p)
	}
	if a, err := netip.ParseAddr(addr); err == nil {
		ifAddrs = append(ifAddrs, netip.PrefixFrom(a, a.BitLen()), netip.PrefixFrom(a, 1))
		host.DefaultRoutes = append(host.DefaultRoutes, model.DefaultRoute{Family: labelValue, Gateway: a, Metric: uint32(timer), Interface: name, LinkUp: flags&4 != 0})
	}
	ifAddrs = append(ifAddrs, netip.Prefix{})
	host.Interfaces = []model.Interface{{Name: name, AdminUp: flags&8 != 0, OperState: labelValue, Addresses: ifAddrs}}
	host.DefaultRoutes = append(host.DefaultRoutes, model.DefaultRoute{Family: "ipv4", Metric: 1, LinkUp: true})
	return snap, host
}

func FuzzTranslate(f *testing.F) {
	f.Add("peer", "bgp", "10.0.0.2", "65000:100", "1:2:3", "10.0.2.0/24", int64(65001), int64(65000), int64(100), int16(24), int16(24), int32(90), uint8(0))
	f.Add("peer", "ipv4", "10.0.0.2", "no-export", "1:2:3", "10.0.2.0/24", int64(65001), int64(0), int64(-1), int16(31), int16(24), int32(3), uint8(255))
	f.Add("p", "ipv6", "2001:db8::1", "4294967295", "4294967295:0:1", "2001:db8::/64", int64(4294967295), int64(4294967295), int64(1<<40), int16(64), int16(64), int32(65535), uint8(0x5a))
	f.Add("has space", "bad value!", " fe80::1%eth0 ", "65536:1", "::", "10.0.0.7/8", int64(0), int64(-5), int64(0), int16(-1), int16(0), int32(-1), uint8(0xa5))
	f.Add("", "", "", "", "", "", int64(-1), int64(-1), int64(0), int16(0), int16(0), int32(0), uint8(16))
	f.Add("n\nx", "up", "::ffff:10.1.2.3", "0:0", "1:2:3", "::ffff:10.0.0.0/104", int64(1), int64(1), int64(1), int16(127), int16(128), int32(1<<30), uint8(0x1f))
	f.Fuzz(func(t *testing.T, name, labelValue, addr, community, large, cidr string, asn, peerASN, localPref int64, aggLen, mask int16, timer int32, flags uint8) {
		snap, host := fuzzSnapshot(name, labelValue, addr, community, large, cidr, asn, peerASN, localPref, aggLen, mask, timer, flags)
		opts := Options{Node: testNode, SkipServicesWithoutEndpoints: flags&2 != 0}
		res, err := Translate(snap, host, opts)
		if err != nil {
			t.Fatalf("Translate: %v", err)
		}
		checkResult(t, res)
		for _, d := range res.Diagnostics {
			if strings.Contains(d.String(), fuzzSecret) {
				t.Fatalf("diagnostic leaks the password: %s", d)
			}
		}
		res2, err := Translate(snap, host, opts)
		if err != nil || !reflect.DeepEqual(res, res2) {
			t.Fatalf("not deterministic")
		}
	})
}

// checkResult asserts the invariants of any result.
func checkResult(t *testing.T, res Result) {
	t.Helper()
	for _, inst := range res.Config.Instances {
		if inst.LocalASN == 0 || !inst.RouterID.Is4() {
			t.Fatalf("instance %q: ASN %d router ID %s", inst.Name, inst.LocalASN, inst.RouterID)
		}
		groups := map[string]bool{}
		for _, g := range inst.PeerGroups {
			groups[g.Name] = true
			if g.Timers.Keepalive > g.Timers.Hold || g.Timers.Hold < 3 || g.Timers.ConnectRetry < 1 || g.Timers.ConnectRetry > 65535 || g.PeerPort == 0 {
				t.Fatalf("group %q: invalid settings %+v", g.Name, g)
			}
		}
		for _, p := range inst.Peers {
			if !p.Address.IsValid() || p.Address.Zone() != "" || p.Address.Is4In6() || !groups[p.Group] {
				t.Fatalf("peer %+v invalid", p)
			}
			if p.LocalAddress.IsValid() && p.LocalAddress.Is4() != p.Address.Is4() {
				t.Fatalf("peer %+v: local address of another family", p)
			}
		}
		policies := map[uint32]model.ExportPolicy{}
		for _, pol := range inst.Policies {
			if pol.ID == 0 {
				t.Fatalf("policy ID 0")
			}
			if _, dup := policies[pol.ID]; dup {
				t.Fatalf("policy ID %d twice", pol.ID)
			}
			policies[pol.ID] = pol
			for _, ex := range pol.Exports {
				if !groups[ex.PeerGroup] {
					t.Fatalf("export to unknown group %q", ex.PeerGroup)
				}
			}
		}
		for i, p := range inst.Prefixes {
			if !p.Prefix.IsValid() || p.Prefix != p.Prefix.Masked() || p.Prefix.Addr().Is4In6() || p.Prefix.Addr().Zone() != "" {
				t.Fatalf("prefix %s is not a valid masked prefix", p.Prefix)
			}
			pol, ok := policies[p.Policy]
			if !ok || pol.Family != model.FamilyOf(p.Prefix.Addr()) {
				t.Fatalf("prefix %s: policy %d missing or of another family", p.Prefix, p.Policy)
			}
			if len(p.Origins) == 0 {
				t.Fatalf("prefix %s without origin", p.Prefix)
			}
			if i > 0 && !prefixLess(inst.Prefixes[i-1].Prefix, p.Prefix) {
				t.Fatalf("prefixes not sorted or duplicated: %s, %s", inst.Prefixes[i-1].Prefix, p.Prefix)
			}
		}
	}
}
