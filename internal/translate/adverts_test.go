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

// familyPrefixes returns the prefixes per family of their policy.
func familyPrefixes(t testing.TB, inst model.Instance) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range inst.Prefixes {
		pol := policyByID(t, inst, p.Policy)
		if pol.Family != model.FamilyOf(p.Prefix.Addr()) {
			t.Errorf("prefix %s in policy of family %s", p.Prefix, pol.Family)
		}
		out[pol.Family.String()] = append(out[pol.Family.String()], p.Prefix.String())
	}
	return out
}

func TestPodCIDR(t *testing.T) {
	tests := []struct {
		name     string
		podCIDRs []string
		rule     model.BGPAdvertisement
		fams     []model.Family
		want     map[string][]string
		diags    []wantDiag
	}{
		{
			name:     "per family",
			podCIDRs: []string{"10.0.1.0/24", "fd00:1::/64"},
			rule:     podCIDRRule(),
			fams:     []model.Family{model.IPv4Unicast, model.IPv6Unicast},
			want:     map[string][]string{"ipv4/unicast": {"10.0.1.0/24"}, "ipv6/unicast": {"fd00:1::/64"}},
		},
		{
			name:     "only the families of the PeerConfig",
			podCIDRs: []string{"10.0.1.0/24", "fd00:1::/64"},
			rule:     podCIDRRule(),
			fams:     []model.Family{model.IPv6Unicast},
			want:     map[string][]string{"ipv6/unicast": {"fd00:1::/64"}},
		},
		{
			name:     "selector on a PodCIDR rule is ignored",
			podCIDRs: []string{"10.0.1.0/24"},
			rule:     model.BGPAdvertisement{AdvertisementType: model.AdvertPodCIDR, Selector: matchLabels("x", "y")},
			fams:     []model.Family{model.IPv4Unicast},
			want:     map[string][]string{"ipv4/unicast": {"10.0.1.0/24"}},
			diags:    []wantDiag{{sev: model.Warning, kind: "CiliumBGPAdvertisement", name: "pods", field: "spec.advertisements[0].selector", msg: "not allowed for PodCIDR"}},
		},
		{
			name:     "unmasked CIDR is masked, bad CIDR reported",
			podCIDRs: []string{"10.0.1.7/24", "nonsense"},
			rule:     podCIDRRule(),
			fams:     []model.Family{model.IPv4Unicast},
			want:     map[string][]string{"ipv4/unicast": {"10.0.1.0/24"}},
			diags:    []wantDiag{{sev: model.Warning, kind: "CiliumNode", name: testNode, field: "spec.ipam.podCIDRs[1]", msg: "not a CIDR"}},
		},
		{
			name:     "bad CIDR reported once although two families read it",
			podCIDRs: []string{"10.0.1.0/24", "10.0.2.0/33"},
			rule:     podCIDRRule(),
			fams:     []model.Family{model.IPv4Unicast, model.IPv6Unicast},
			want:     map[string][]string{"ipv4/unicast": {"10.0.1.0/24"}},
			diags:    []wantDiag{{sev: model.Warning, kind: "CiliumNode", name: testNode, field: "spec.ipam.podCIDRs[1]", msg: "not a CIDR"}},
		},
		{
			name:     "an IPv4-mapped IPv6 CIDR is refused in both families",
			podCIDRs: []string{"10.0.1.0/24", "::ffff:10.0.2.0/120"},
			rule:     podCIDRRule(),
			fams:     []model.Family{model.IPv4Unicast, model.IPv6Unicast},
			want:     map[string][]string{"ipv4/unicast": {"10.0.1.0/24"}},
			diags:    []wantDiag{{sev: model.Warning, kind: "CiliumNode", name: testNode, field: "spec.ipam.podCIDRs[1]", msg: "IPv4-mapped IPv6 CIDR"}},
		},
		{
			name: "no pod CIDR",
			rule: podCIDRRule(),
			fams: []model.Family{model.IPv4Unicast},
			want: map[string][]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.CiliumNodes[0].Spec.IPAM.PodCIDRs = tc.podCIDRs
			snap.PeerConfigs[0].Spec.Families = nil
			withFamilies(matchLabels("advertise", "bgp"), tc.fams...)(&snap.PeerConfigs[0].Spec)
			snap.Advertisements = []*model.CiliumBGPAdvertisement{advertisement("pods", bgpLabels, tc.rule)}
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			inst := onlyInstance(t, res)
			diffJSON(t, tc.want, familyPrefixes(t, inst))
			for _, p := range inst.Prefixes {
				want := []model.Origin{{Rule: model.RuleRef{Advertisement: "pods", Index: 0, Type: model.AdvertPodCIDR}, Object: model.ObjectRef{Kind: "CiliumNode", Name: testNode}, Detail: "spec.ipam.podCIDRs"}}
				if !reflect.DeepEqual(p.Origins, want) {
					diffJSON(t, want, p.Origins)
				}
			}
		})
	}
}

func TestPodIPPool(t *testing.T) {
	allocs := []model.CiliumNodeIPPoolAllocation{
		{Pool: "blue", CIDRs: []string{"10.20.1.0/24", "fd00:20:1::/64"}},
		{Pool: "red", CIDRs: []string{"10.30.1.0/24"}},
		{Pool: "ghost", CIDRs: []string{"10.99.1.0/24"}}, // no such pool object
	}
	pools := []*model.CiliumPodIPPool{
		podPool("blue", map[string]string{"pool": "blue"}, 24, 64),
		podPool("red", map[string]string{"pool": "red"}, 24, 0),
		podPool("green", map[string]string{"pool": "green"}, 24, 0), // not allocated here
	}
	tests := []struct {
		name   string
		sel    *metav1.LabelSelector
		allocs []model.CiliumNodeIPPoolAllocation
		want   map[string][]string
		diags  []wantDiag
	}{
		{
			name: "selector on pool labels",
			sel:  matchLabels("pool", "blue"),
			want: map[string][]string{"ipv4/unicast": {"10.20.1.0/24"}, "ipv6/unicast": {"fd00:20:1::/64"}},
		},
		{
			name: "virtual label io.cilium.podippool.name",
			sel:  matchLabels("io.cilium.podippool.name", "red"),
			want: map[string][]string{"ipv4/unicast": {"10.30.1.0/24"}},
		},
		{
			name: "virtual label io.cilium.podippool.namespace is empty",
			sel: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "io.cilium.podippool.namespace", Operator: metav1.LabelSelectorOpIn, Values: []string{""}},
				{Key: "pool", Operator: metav1.LabelSelectorOpIn, Values: []string{"red"}},
			}},
			want: map[string][]string{"ipv4/unicast": {"10.30.1.0/24"}},
		},
		{
			name: "pool not allocated on this node",
			sel:  matchLabels("pool", "green"),
			want: map[string][]string{},
		},
		{
			name: "nil selector selects nothing",
			sel:  nil,
			want: map[string][]string{},
		},
		{
			name: "NotIn selector of the seed selects every allocated pool",
			sel:  allSelector(),
			want: map[string][]string{"ipv4/unicast": {"10.20.1.0/24", "10.30.1.0/24"}, "ipv6/unicast": {"fd00:20:1::/64"}},
		},
		{
			name:   "mask size must equal the pool's",
			sel:    matchLabels("pool", "blue"),
			allocs: []model.CiliumNodeIPPoolAllocation{{Pool: "blue", CIDRs: []string{"10.20.2.0/25", "10.20.3.0/24", "fd00:20:1::/80"}}},
			want:   map[string][]string{"ipv4/unicast": {"10.20.3.0/24"}},
			diags: []wantDiag{
				{sev: model.Warning, kind: "CiliumNode", name: testNode, field: "spec.ipam.pools.allocated[0].cidrs[0]", msg: `mask size of pool "blue", /24`},
				{sev: model.Warning, kind: "CiliumNode", name: testNode, field: "spec.ipam.pools.allocated[0].cidrs[2]", msg: `mask size of pool "blue", /64`},
			},
		},
		{
			name:   "pool without the family's section: not advertised",
			sel:    matchLabels("pool", "red"),
			allocs: []model.CiliumNodeIPPoolAllocation{{Pool: "red", CIDRs: []string{"10.30.1.0/24", "fd00:30:1::/64"}}},
			want:   map[string][]string{"ipv4/unicast": {"10.30.1.0/24"}},
			diags:  []wantDiag{{sev: model.Warning, kind: "CiliumNode", field: "spec.ipam.pools.allocated[0].cidrs[1]", msg: "no ipv6 maskSize"}},
		},
		{
			name:   "bad allocation CIDR",
			sel:    matchLabels("pool", "red"),
			allocs: []model.CiliumNodeIPPoolAllocation{{Pool: "red", CIDRs: []string{"10.30.1.0", "10.30.2.0/24"}}},
			want:   map[string][]string{"ipv4/unicast": {"10.30.2.0/24"}},
			diags:  []wantDiag{{sev: model.Warning, kind: "CiliumNode", field: "spec.ipam.pools.allocated[0].cidrs[0]", msg: "not a CIDR"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.PodIPPools = pools
			snap.CiliumNodes[0].Spec.IPAM.Pools.Allocated = allocs
			if tc.allocs != nil {
				snap.CiliumNodes[0].Spec.IPAM.Pools.Allocated = tc.allocs
			}
			snap.Advertisements = []*model.CiliumBGPAdvertisement{advertisement("pools", bgpLabels, poolRule(tc.sel))}
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			inst := onlyInstance(t, res)
			diffJSON(t, tc.want, familyPrefixes(t, inst))
			for _, p := range inst.Prefixes {
				o := p.Origins
				if len(o) != 1 || o[0].Object.Kind != "CiliumPodIPPool" || !strings.HasPrefix(o[0].Detail, "spec.ipam.pools.allocated[") {
					t.Errorf("origins of %s = %+v", p.Prefix, o)
				}
			}
		})
	}
}

// svcSnapshot is the base snapshot with one advertisement "svc" of one Service rule.
func svcSnapshot(rule model.BGPAdvertisement, svcs ...*corev1.Service) *model.Snapshot {
	snap := baseSnapshot()
	snap.Services = svcs
	snap.Advertisements = []*model.CiliumBGPAdvertisement{advertisement("svc", bgpLabels, rule)}
	return snap
}

func TestServiceAddresses(t *testing.T) {
	web := map[string]string{"app": "web"}
	sel := matchLabels("app", "web")
	withClass := func(s *corev1.Service, c string) *corev1.Service {
		s.Spec.LoadBalancerClass = ptr(c)
		return s
	}
	withExternal := func(s *corev1.Service, ips ...string) *corev1.Service {
		s.Spec.ExternalIPs = ips
		return s
	}
	nodePort := func(s *corev1.Service) *corev1.Service {
		s.Spec.Type = corev1.ServiceTypeNodePort
		return s
	}
	tests := []struct {
		name  string
		rule  model.BGPAdvertisement
		svcs  []*corev1.Service
		want  []string
		diags []wantDiag
	}{
		{
			name: "LoadBalancerIP from status ingress",
			rule: serviceRule(sel, model.ServiceLoadBalancerIP),
			svcs: []*corev1.Service{lbService("default", "a", web, "172.20.0.1", "172.20.0.2")},
			want: []string{"172.20.0.1/32", "172.20.0.2/32"},
		},
		{
			name: "LoadBalancerIP only for type LoadBalancer",
			rule: serviceRule(sel, model.ServiceLoadBalancerIP),
			svcs: []*corev1.Service{nodePort(lbService("default", "a", web, "172.20.0.1"))},
			want: []string{},
		},
		{
			name: "ingress hostname without ip ignored",
			rule: serviceRule(sel, model.ServiceLoadBalancerIP),
			svcs: []*corev1.Service{func() *corev1.Service {
				s := lbService("default", "a", web)
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}
				return s
			}()},
			want: []string{},
		},
		{
			name: "loadBalancerClass unset or Cilium's accepted, another skipped",
			rule: serviceRule(sel, model.ServiceLoadBalancerIP),
			svcs: []*corev1.Service{
				lbService("default", "unset", web, "172.20.0.1"),
				withClass(lbService("default", "cilium", web, "172.20.0.2"), "io.cilium/bgp-control-plane"),
				withClass(lbService("default", "metallb", web, "172.20.0.3"), "metallb.io/metallb"),
			},
			want: []string{"172.20.0.1/32", "172.20.0.2/32"},
		},
		{
			name: "ExternalIP from spec.externalIPs, whatever the type and class",
			rule: serviceRule(sel, model.ServiceExternalIP),
			svcs: []*corev1.Service{
				withExternal(clusterIPService("default", "a", web, "10.96.0.10"), "198.51.100.1", "198.51.100.1"),
				withExternal(withClass(lbService("default", "b", web, "172.20.0.9"), "other"), "198.51.100.2"),
			},
			want: []string{"198.51.100.1/32", "198.51.100.2/32"},
		},
		{
			name: "ClusterIP from clusterIPs, None skipped",
			rule: serviceRule(sel, model.ServiceClusterIP),
			svcs: []*corev1.Service{
				clusterIPService("default", "dual", web, "10.96.0.10", "fd00:96::10"),
				clusterIPService("default", "headless", web, "None"),
			},
			want: []string{"10.96.0.10/32", "fd00:96::10/128"},
		},
		{
			name: "ClusterIP from clusterIP when clusterIPs is empty",
			rule: serviceRule(sel, model.ServiceClusterIP),
			svcs: []*corev1.Service{func() *corev1.Service {
				s := clusterIPService("default", "old", web)
				s.Spec.ClusterIP = "10.96.0.11"
				return s
			}()},
			want: []string{"10.96.0.11/32"},
		},
		{
			name: "several kinds in one rule",
			rule: serviceRule(sel, model.ServiceLoadBalancerIP, model.ServiceClusterIP, model.ServiceExternalIP),
			svcs: []*corev1.Service{func() *corev1.Service {
				s := withExternal(lbService("default", "a", web, "172.20.0.1"), "198.51.100.1")
				s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
				return s
			}()},
			want: []string{"10.96.0.10/32", "172.20.0.1/32", "198.51.100.1/32"},
		},
		{
			name: "virtual label io.kubernetes.service.name",
			rule: serviceRule(matchLabels("io.kubernetes.service.name", "b"), model.ServiceLoadBalancerIP),
			svcs: []*corev1.Service{lbService("default", "a", nil, "172.20.0.1"), lbService("default", "b", nil, "172.20.0.2")},
			want: []string{"172.20.0.2/32"},
		},
		{
			name: "virtual label io.kubernetes.service.namespace",
			rule: serviceRule(matchLabels("io.kubernetes.service.namespace", "prod"), model.ServiceLoadBalancerIP),
			svcs: []*corev1.Service{lbService("default", "a", nil, "172.20.0.1"), lbService("prod", "a", nil, "172.20.0.2")},
			want: []string{"172.20.0.2/32"},
		},
		{
			name: "nil selector selects nothing",
			rule: serviceRule(nil, model.ServiceLoadBalancerIP),
			svcs: []*corev1.Service{lbService("default", "a", web, "172.20.0.1")},
			want: []string{},
		},
		{
			name: "empty selector selects every Service",
			rule: serviceRule(&metav1.LabelSelector{}, model.ServiceLoadBalancerIP),
			svcs: []*corev1.Service{lbService("default", "a", web, "172.20.0.1"), lbService("x", "b", nil, "172.20.0.2")},
			want: []string{"172.20.0.1/32", "172.20.0.2/32"},
		},
		{
			name:  "unknown address kind ignored, the rest kept",
			rule:  serviceRule(sel, "NodeIP", model.ServiceLoadBalancerIP),
			svcs:  []*corev1.Service{lbService("default", "a", web, "172.20.0.1")},
			want:  []string{"172.20.0.1/32"},
			diags: []wantDiag{{sev: model.Warning, kind: "CiliumBGPAdvertisement", name: "svc", field: "spec.advertisements[0].service.addresses[0]", msg: `"NodeIP"`}},
		},
		{
			name:  "no service options",
			rule:  model.BGPAdvertisement{AdvertisementType: model.AdvertService, Selector: sel},
			svcs:  []*corev1.Service{lbService("default", "a", web, "172.20.0.1")},
			want:  []string{},
			diags: []wantDiag{{sev: model.Error, kind: "CiliumBGPAdvertisement", field: "spec.advertisements[0].service.addresses", msg: "required"}},
		},
		{
			name:  "invalid selector",
			rule:  serviceRule(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Like"}}}, model.ServiceLoadBalancerIP),
			svcs:  []*corev1.Service{lbService("default", "a", web, "172.20.0.1")},
			want:  []string{},
			diags: []wantDiag{{sev: model.Error, kind: "CiliumBGPAdvertisement", field: "spec.advertisements[0].selector", msg: "invalid selector"}},
		},
		{
			name: "IPv6 addresses",
			rule: serviceRule(sel, model.ServiceLoadBalancerIP),
			svcs: []*corev1.Service{lbService("default", "a", web, "2001:db8:20::1", "172.20.0.1")},
			want: []string{"172.20.0.1/32", "2001:db8:20::1/128"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := translateOK(t, svcSnapshot(tc.rule, tc.svcs...), model.HostFacts{}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			diffJSON(t, tc.want, prefixStrings(onlyInstance(t, res)))
		})
	}
}

func TestServiceFamilies(t *testing.T) {
	snap := svcSnapshot(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP),
		lbService("default", "a", map[string]string{"app": "web"}, "2001:db8:20::1", "172.20.0.1"))
	for _, tc := range []struct {
		fams []model.Family
		want map[string][]string
	}{
		{fams: []model.Family{model.IPv4Unicast}, want: map[string][]string{"ipv4/unicast": {"172.20.0.1/32"}}},
		{fams: []model.Family{model.IPv6Unicast}, want: map[string][]string{"ipv6/unicast": {"2001:db8:20::1/128"}}},
		{fams: []model.Family{model.IPv4Unicast, model.IPv6Unicast}, want: map[string][]string{"ipv4/unicast": {"172.20.0.1/32"}, "ipv6/unicast": {"2001:db8:20::1/128"}}},
	} {
		snap.PeerConfigs[0].Spec.Families = nil
		withFamilies(matchLabels("advertise", "bgp"), tc.fams...)(&snap.PeerConfigs[0].Spec)
		res := translateOK(t, snap, model.HostFacts{}, Options{})
		diffJSON(t, tc.want, familyPrefixes(t, onlyInstance(t, res)))
	}
}

func TestServiceLocality(t *testing.T) {
	web := map[string]string{"app": "web"}
	yes, no := ptr(true), ptr(false)
	local := func(s *corev1.Service) *corev1.Service {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		return s
	}
	iLocal := func(s *corev1.Service) *corev1.Service {
		s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal)
		return s
	}
	// svc has an LB IP, an external IP and a cluster IP.
	svc := func() *corev1.Service {
		s := lbService("default", "web", web, "172.20.0.1")
		s.Spec.ExternalIPs = []string{"198.51.100.1"}
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
		return s
	}
	all := []string{"10.96.0.10/32", "172.20.0.1/32", "198.51.100.1/32"}
	tests := []struct {
		name   string
		svc    *corev1.Service
		slices []*discoveryv1.EndpointSlice
		skip   bool // Options.SkipServicesWithoutEndpoints
		want   []string
	}{
		{
			name:   "eTP=Local: local ready endpoint (ready unset counts as ready)",
			svc:    local(svc()),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("default", "web", endpoint(testNode, nil, nil))},
			want:   all,
		},
		{
			name:   "eTP=Local: local endpoint ready=true",
			svc:    local(svc()),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("default", "web", endpoint(testNode, yes, no))},
			want:   all,
		},
		{
			name:   "eTP=Local: local endpoint not ready",
			svc:    local(svc()),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("default", "web", endpoint(testNode, no, nil))},
			want:   []string{"10.96.0.10/32"},
		},
		{
			name:   "eTP=Local: a local endpoint ready and terminating is active (publishNotReadyAddresses)",
			svc:    local(svc()),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("default", "web", endpoint(testNode, yes, yes))},
			want:   all,
		},
		{
			name:   "eTP=Local: a local endpoint terminating and serving, not ready, is not active",
			svc:    local(svc()),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("default", "web", serving(endpoint(testNode, no, yes)))},
			want:   []string{"10.96.0.10/32"},
		},
		{
			name: "eTP=Local: a slice of weight 0 is in maintenance",
			svc:  local(svc()),
			slices: []*discoveryv1.EndpointSlice{func() *discoveryv1.EndpointSlice {
				s := endpointSlice("default", "web", endpoint(testNode, yes, nil))
				s.Annotations = map[string]string{"service.cilium.io/weight": "0"}
				return s
			}()},
			want: []string{"10.96.0.10/32"},
		},
		{
			name: "eTP=Local: a slice of weight 10 is not",
			svc:  local(svc()),
			slices: []*discoveryv1.EndpointSlice{func() *discoveryv1.EndpointSlice {
				s := endpointSlice("default", "web", endpoint(testNode, yes, nil))
				s.Annotations = map[string]string{"service.cilium.io/weight": "10"}
				return s
			}()},
			want: all,
		},
		{
			name: "eTP=Local: without nodeName, the deprecated topology's hostname places the endpoint",
			svc:  local(svc()),
			slices: []*discoveryv1.EndpointSlice{func() *discoveryv1.EndpointSlice {
				ep := endpoint("", yes, nil)
				ep.DeprecatedTopology = map[string]string{corev1.LabelHostname: testNode}
				return endpointSlice("default", "web", ep)
			}()},
			want: all,
		},
		{
			name:   "eTP=Local: endpoint on another node only",
			svc:    local(svc()),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("default", "web", endpoint("worker-2", yes, nil), endpoint("", yes, nil))},
			want:   []string{"10.96.0.10/32"},
		},
		{
			name:   "eTP=Local: a second slice holds the local endpoint",
			svc:    local(svc()),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("default", "web", endpoint("worker-2", yes, nil)), endpointSlice("default", "web", endpoint(testNode, yes, nil))},
			want:   all,
		},
		{
			name:   "eTP=Local: a local endpoint of a same-named Service in another namespace does not count",
			svc:    local(svc()),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("other", "web", endpoint(testNode, yes, nil))},
			want:   []string{"10.96.0.10/32"},
		},
		{
			name: "iTP=Local governs the ClusterIP only",
			svc:  iLocal(svc()),
			slices: []*discoveryv1.EndpointSlice{
				endpointSlice("default", "web", endpoint("worker-2", yes, nil)),
			},
			want: []string{"172.20.0.1/32", "198.51.100.1/32"},
		},
		{
			name:   "iTP=Local with a local endpoint",
			svc:    iLocal(svc()),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("default", "web", endpoint(testNode, yes, nil))},
			want:   all,
		},
		{
			name: "Cluster policies without any endpoint are advertised by default",
			svc:  svc(),
			want: all,
		},
		{
			name: "an EndpointSlice without the service-name label is not a backend",
			svc:  local(svc()),
			slices: []*discoveryv1.EndpointSlice{func() *discoveryv1.EndpointSlice {
				s := endpointSlice("default", "web", endpoint(testNode, nil, nil))
				s.Labels = nil
				return s
			}()},
			want: []string{"10.96.0.10/32"},
		},
		{
			name: "SkipServicesWithoutEndpoints withdraws them",
			svc:  svc(),
			skip: true,
			want: []string{},
		},
		{
			name:   "SkipServicesWithoutEndpoints: terminating endpoints that are not ready are not active",
			svc:    svc(),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("default", "web", serving(endpoint("worker-2", no, yes)))},
			skip:   true,
			want:   []string{},
		},
		{
			name:   "SkipServicesWithoutEndpoints keeps a Service with a remote endpoint",
			svc:    svc(),
			slices: []*discoveryv1.EndpointSlice{endpointSlice("default", "web", endpoint("worker-2", nil, nil))},
			skip:   true,
			want:   all,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := svcSnapshot(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP, model.ServiceExternalIP, model.ServiceClusterIP), tc.svc)
			snap.EndpointSlices = tc.slices
			res := translateOK(t, snap, model.HostFacts{}, Options{SkipServicesWithoutEndpoints: tc.skip})
			expectDiags(t, res.Diagnostics)
			diffJSON(t, tc.want, prefixStrings(onlyInstance(t, res)))
		})
	}
}

// serving marks an endpoint serving (a terminating endpoint that still takes connections).
func serving(ep discoveryv1.Endpoint) discoveryv1.Endpoint {
	ep.Conditions.Serving = ptr(true)
	return ep
}

// TestServiceFrontends: the frontends Cilium's agent has for a Service on this node decide
// what is advertised: the Services it watches (service-proxy-name), not headless ones, those
// exposed on this node (service.cilium.io/node, node-selector), the types the
// service.cilium.io/type annotation exposes, load balancer addresses of ipMode VIP; and a
// LoadBalancer IP that a CiliumEnvoyConfig redirects to this node's Envoy needs no local
// backend.
func TestServiceFrontends(t *testing.T) {
	with := func(s *corev1.Service, f func(*corev1.Service)) *corev1.Service { f(s); return s }
	annotate := func(kv ...string) func(*corev1.Service) {
		return func(s *corev1.Service) {
			s.Annotations = map[string]string{}
			for i := 0; i+1 < len(kv); i += 2 {
				s.Annotations[kv[i]] = kv[i+1]
			}
		}
	}
	label := func(k, v string) func(*corev1.Service) {
		return func(s *corev1.Service) { s.Labels[k] = v }
	}
	// svc has an LB IP, an external IP and a cluster IP; its labels are its own copy.
	svc := func() *corev1.Service {
		s := lbService("default", "web", map[string]string{"app": "web"}, "172.20.0.1")
		s.Spec.ExternalIPs = []string{"198.51.100.1"}
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
		return s
	}
	local := func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal }
	envoy := func(kind, ns, name string, sel *metav1.LabelSelector, services ...model.EnvoyServiceListener) *model.CiliumEnvoyConfig {
		return &model.CiliumEnvoyConfig{TypeMeta: metav1.TypeMeta{Kind: kind}, ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: model.CiliumEnvoyConfigSpec{NodeSelector: sel, Services: services}}
	}
	all := []string{"10.96.0.10/32", "172.20.0.1/32", "198.51.100.1/32"}
	tests := []struct {
		name      string
		svc       *corev1.Service
		proxyName string
		envoy     []*model.CiliumEnvoyConfig
		want      []string
		diags     []wantDiag
	}{
		{name: "a plain Service", svc: svc(), want: all},
		{name: "labelled for another proxy: not Cilium's", svc: with(svc(), label("service.kubernetes.io/service-proxy-name", "other")), want: []string{}},
		{name: "k8s-service-proxy-name: only its own", svc: with(svc(), label("service.kubernetes.io/service-proxy-name", "cilium")), proxyName: "cilium", want: all},
		{name: "k8s-service-proxy-name: not the unlabelled ones", svc: svc(), proxyName: "cilium", want: []string{}},
		{name: "labelled headless: no frontends", svc: with(svc(), label("service.kubernetes.io/headless", "")), want: []string{}},
		{name: "clusterIP None: no frontends", svc: with(clusterIPService("default", "web", map[string]string{"app": "web"}, "None"), func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"198.51.100.1"} }), want: []string{}},
		{name: "service.cilium.io/node matches the node's label", svc: with(svc(), annotate("service.cilium.io/node", "edge")), want: all},
		{name: "service.cilium.io/node does not", svc: with(svc(), annotate("service.cilium.io/node", "core")), want: []string{}},
		{name: "node-selector wins over node", svc: with(svc(), annotate("service.cilium.io/node-selector", "rack in (r1, r2)", "service.cilium.io/node", "core")), want: all},
		{name: "node-selector that does not match", svc: with(svc(), annotate("service.cilium.io/node-selector", "rack=r9")), want: []string{}},
		{
			name: "a node-selector Cilium cannot parse is ignored", svc: with(svc(), annotate("service.cilium.io/node-selector", "rack in r1")), want: all,
			diags: []wantDiag{{sev: model.Warning, kind: "Service", field: "metadata.annotations[service.cilium.io/node-selector]", msg: "not a label selector"}},
		},
		{name: "type LoadBalancer: no ClusterIP frontend", svc: with(svc(), annotate("service.cilium.io/type", "LoadBalancer")), want: []string{"172.20.0.1/32", "198.51.100.1/32"}},
		{name: "type ClusterIP: no LoadBalancer frontend", svc: with(svc(), annotate("service.cilium.io/type", "ClusterIP")), want: []string{"10.96.0.10/32", "198.51.100.1/32"}},
		{name: "type NodePort: external IPs only", svc: with(svc(), annotate("service.cilium.io/type", "NodePort")), want: []string{"198.51.100.1/32"}},
		{name: "an unknown type is ignored", svc: with(svc(), annotate("service.cilium.io/type", "Ingress")), want: all},
		{
			name: "ipMode Proxy: not a VIP", want: []string{"10.96.0.10/32", "172.20.0.2/32", "198.51.100.1/32"},
			svc: with(svc(), func(s *corev1.Service) {
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{
					{IP: "172.20.0.1", IPMode: ptr(corev1.LoadBalancerIPModeProxy)},
					{IP: "172.20.0.2", IPMode: ptr(corev1.LoadBalancerIPModeVIP)},
				}
			}),
		},
		{name: "eTP=Local without a local backend", svc: with(svc(), local), want: []string{"10.96.0.10/32"}},
		{
			name: "eTP=Local redirected to this node's Envoy: the LoadBalancer IP is advertised",
			svc:  with(svc(), local), want: []string{"10.96.0.10/32", "172.20.0.1/32"},
			envoy: []*model.CiliumEnvoyConfig{envoy(model.KindCiliumEnvoyConfig, "default", "cilium-ingress-web", nil, model.EnvoyServiceListener{Name: "web", Namespace: "ignored"})},
		},
		{
			name: "a clusterwide one defaults to the namespace default",
			svc:  with(svc(), local), want: []string{"10.96.0.10/32", "172.20.0.1/32"},
			envoy: []*model.CiliumEnvoyConfig{envoy(model.KindCiliumClusterwideEnvoyConfig, "", "gw", matchLabels("rack", "r1"), model.EnvoyServiceListener{Name: "web"})},
		},
		{
			name: "an Envoy config for other nodes changes nothing",
			svc:  with(svc(), local), want: []string{"10.96.0.10/32"},
			envoy: []*model.CiliumEnvoyConfig{envoy(model.KindCiliumClusterwideEnvoyConfig, "", "gw", matchLabels("rack", "r9"), model.EnvoyServiceListener{Name: "web"})},
		},
		{
			name: "an Envoy config of another namespace changes nothing",
			svc:  with(svc(), local), want: []string{"10.96.0.10/32"},
			envoy: []*model.CiliumEnvoyConfig{envoy(model.KindCiliumEnvoyConfig, "other", "cec", nil, model.EnvoyServiceListener{Name: "web", Namespace: "default"})},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := svcSnapshot(serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP, model.ServiceExternalIP, model.ServiceClusterIP), tc.svc)
			snap.CiliumNodes[0].Labels["service.cilium.io/node"] = "edge"
			for _, cec := range tc.envoy {
				if cec.Kind == model.KindCiliumClusterwideEnvoyConfig {
					snap.ClusterwideEnvoyConfigs = append(snap.ClusterwideEnvoyConfigs, cec)
				} else {
					snap.EnvoyConfigs = append(snap.EnvoyConfigs, cec)
				}
			}
			res := translateOK(t, snap, model.HostFacts{}, Options{ServiceProxyName: tc.proxyName})
			expectDiags(t, res.Diagnostics, tc.diags...)
			diffJSON(t, tc.want, prefixStrings(onlyInstance(t, res)))
		})
	}
}

func TestServiceAggregation(t *testing.T) {
	web := map[string]string{"app": "web"}
	rule := func(v4, v6 int16) model.BGPAdvertisement {
		r := serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP, model.ServiceClusterIP)
		r.Service.AggregationLengthIPv4 = ptr(v4)
		r.Service.AggregationLengthIPv6 = ptr(v6)
		return r
	}
	eLocal := func(s *corev1.Service) *corev1.Service {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		return s
	}
	withCIP := func(s *corev1.Service, ip string) *corev1.Service {
		s.Spec.ClusterIP, s.Spec.ClusterIPs = ip, []string{ip}
		return s
	}
	localSlice := func(name string) *discoveryv1.EndpointSlice {
		return endpointSlice("default", name, endpoint(testNode, nil, nil))
	}
	tests := []struct {
		name   string
		rule   model.BGPAdvertisement
		svcs   []*corev1.Service
		slices []*discoveryv1.EndpointSlice
		want   []string
		// origins of the first prefix, as "namespace/name kind".
		origins []string
		diags   []wantDiag
	}{
		{
			name:    "masked covering prefix",
			rule:    rule(24, 64),
			svcs:    []*corev1.Service{lbService("default", "a", web, "172.20.0.77", "2001:db8:20::5")},
			want:    []string{"172.20.0.0/24", "2001:db8:20::/64"},
			origins: []string{"default/a LoadBalancerIP"},
		},
		{
			name:    "several services aggregate to one prefix with several origins",
			rule:    rule(16, 64),
			svcs:    []*corev1.Service{lbService("default", "b", web, "172.20.1.1"), lbService("default", "a", web, "172.20.0.1")},
			want:    []string{"172.20.0.0/16"},
			origins: []string{"default/a LoadBalancerIP", "default/b LoadBalancerIP"},
		},
		{
			name:    "never for eTP=Local",
			rule:    rule(24, 64),
			svcs:    []*corev1.Service{eLocal(lbService("default", "a", web, "172.20.0.77")), lbService("default", "b", web, "172.20.0.1")},
			slices:  []*discoveryv1.EndpointSlice{localSlice("a")},
			want:    []string{"172.20.0.0/24", "172.20.0.77/32"},
			origins: []string{"default/b LoadBalancerIP"},
		},
		{
			name:    "eTP=Local does not stop aggregating the ClusterIP",
			rule:    rule(24, 64),
			svcs:    []*corev1.Service{withCIP(eLocal(lbService("default", "a", web, "172.20.0.77")), "10.96.0.10")},
			slices:  []*discoveryv1.EndpointSlice{localSlice("a")},
			want:    []string{"10.96.0.0/24", "172.20.0.77/32"},
			origins: []string{"default/a ClusterIP"},
		},
		{
			name: "never for iTP=Local ClusterIP",
			rule: rule(24, 64),
			svcs: []*corev1.Service{func() *corev1.Service {
				s := withCIP(lbService("default", "a", web, "172.20.0.77"), "10.96.0.10")
				s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal)
				return s
			}()},
			slices:  []*discoveryv1.EndpointSlice{localSlice("a")},
			want:    []string{"10.96.0.10/32", "172.20.0.0/24"},
			origins: []string{"default/a ClusterIP"},
		},
		{
			name:    "length 0 is the default route",
			rule:    rule(0, 0),
			svcs:    []*corev1.Service{lbService("default", "a", web, "172.20.0.77")},
			want:    []string{"0.0.0.0/0"},
			origins: []string{"default/a LoadBalancerIP"},
		},
		{
			name:  "IPv4 length 32 is invalid",
			rule:  rule(32, 64),
			svcs:  []*corev1.Service{lbService("default", "a", web, "172.20.0.77")},
			want:  []string{},
			diags: []wantDiag{{sev: model.Error, kind: "CiliumBGPAdvertisement", field: "spec.advertisements[0].service.aggregationLengthIPv4", msg: "not in 0..31"}},
		},
		{
			name:  "IPv6 length 128 is invalid",
			rule:  rule(24, 128),
			svcs:  []*corev1.Service{lbService("default", "a", web, "172.20.0.77")},
			want:  []string{},
			diags: []wantDiag{{sev: model.Error, kind: "CiliumBGPAdvertisement", field: "spec.advertisements[0].service.aggregationLengthIPv6", msg: "not in 0..127"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := svcSnapshot(tc.rule, tc.svcs...)
			snap.EndpointSlices = tc.slices
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			inst := onlyInstance(t, res)
			diffJSON(t, tc.want, prefixStrings(inst))
			if len(tc.origins) > 0 && len(inst.Prefixes) > 0 {
				var got []string
				for _, o := range inst.Prefixes[0].Origins {
					got = append(got, o.Object.Namespace+"/"+o.Object.Name+" "+o.Detail)
					if o.Object.Kind != "Service" || o.Rule != (model.RuleRef{Advertisement: "svc", Index: 0, Type: model.AdvertService}) {
						t.Errorf("origin %+v", o)
					}
				}
				diffJSON(t, tc.origins, got)
			}
		})
	}
}

func TestInterfaceAdvertisement(t *testing.T) {
	pfx := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	tests := []struct {
		name  string
		iface model.Interface
		want  []string
		diags []wantDiag
	}{
		{
			name:  "up: /32 and /128",
			iface: model.Interface{Name: "lo-bgp", AdminUp: true, OperState: "up", Addresses: pfx("10.255.0.1/24", "2001:db8:ff::1/64")},
			want:  []string{"10.255.0.1/32", "2001:db8:ff::1/128"},
		},
		{
			name:  "oper unknown allowed",
			iface: model.Interface{Name: "lo-bgp", AdminUp: true, OperState: "unknown", Addresses: pfx("10.255.0.1/32")},
			want:  []string{"10.255.0.1/32"},
		},
		{
			name:  "oper down",
			iface: model.Interface{Name: "lo-bgp", AdminUp: true, OperState: "down", Addresses: pfx("10.255.0.1/32")},
			want:  []string{},
		},
		{
			name:  "oper lowerlayerdown",
			iface: model.Interface{Name: "lo-bgp", AdminUp: true, OperState: "lowerlayerdown", Addresses: pfx("10.255.0.1/32")},
			want:  []string{},
		},
		{
			name:  "admin down",
			iface: model.Interface{Name: "lo-bgp", AdminUp: false, OperState: "unknown", Addresses: pfx("10.255.0.1/32")},
			want:  []string{},
		},
		{
			name: "excluded addresses",
			iface: model.Interface{Name: "lo-bgp", AdminUp: true, OperState: "unknown", Addresses: pfx(
				"127.0.0.1/8", "127.1.2.3/8", "224.0.0.5/32", "0.0.0.0/32", "255.255.255.255/32", "fe80::1/64", "::1/128", "ff02::1/128", "::/128", "::ffff:10.0.0.1/128",
				"169.254.10.1/16", "fd00::1/128", "10.0.0.9/32",
			)},
			want: []string{"10.0.0.9/32", "169.254.10.1/32", "fd00::1/128"},
		},
		{
			name:  "same address with two masks deduplicated",
			iface: model.Interface{Name: "lo-bgp", AdminUp: true, OperState: "up", Addresses: pfx("10.255.0.1/24", "10.255.0.1/32")},
			want:  []string{"10.255.0.1/32"},
		},
		{
			name:  "missing interface",
			iface: model.Interface{Name: "eth0", AdminUp: true, OperState: "up", Addresses: pfx("10.255.0.1/24")},
			want:  []string{},
			diags: []wantDiag{{sev: model.Warning, kind: "CiliumBGPAdvertisement", field: "spec.advertisements[0].interface.name", msg: `no interface "lo-bgp" on the host of node "worker-1": nothing advertised`}},
		},
		{
			name:  "invalid address in host facts ignored",
			iface: model.Interface{Name: "lo-bgp", AdminUp: true, OperState: "up", Addresses: []netip.Prefix{{}, netip.MustParsePrefix("10.255.0.1/32")}},
			want:  []string{"10.255.0.1/32"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.Advertisements = []*model.CiliumBGPAdvertisement{advertisement("ifc", bgpLabels, interfaceRule("lo-bgp"))}
			res := translateOK(t, snap, model.HostFacts{Interfaces: []model.Interface{tc.iface}}, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			inst := onlyInstance(t, res)
			diffJSON(t, tc.want, prefixStrings(inst))
			for _, p := range inst.Prefixes {
				if len(p.Origins) != 1 || p.Origins[0].Object != (model.ObjectRef{Kind: "Interface", Name: "lo-bgp"}) {
					t.Errorf("origins of %s = %+v", p.Prefix, p.Origins)
				}
			}
		})
	}
	t.Run("interface name required", func(t *testing.T) {
		snap := baseSnapshot()
		snap.Advertisements = []*model.CiliumBGPAdvertisement{advertisement("ifc", bgpLabels, model.BGPAdvertisement{AdvertisementType: model.AdvertInterface})}
		res := translateOK(t, snap, model.HostFacts{}, Options{})
		expectDiags(t, res.Diagnostics, wantDiag{sev: model.Error, kind: "CiliumBGPAdvertisement", field: "spec.advertisements[0].interface.name", msg: "required"})
	})
	t.Run("unknown advertisement type", func(t *testing.T) {
		snap := baseSnapshot()
		snap.Advertisements = []*model.CiliumBGPAdvertisement{advertisement("x", bgpLabels, model.BGPAdvertisement{AdvertisementType: "NodeIP"}, podCIDRRule())}
		snap.CiliumNodes[0].Spec.IPAM.PodCIDRs = []string{"10.0.1.0/24"}
		res := translateOK(t, snap, model.HostFacts{}, Options{})
		// Reported once although two families select the advertisement.
		expectDiags(t, res.Diagnostics, wantDiag{sev: model.Error, kind: "CiliumBGPAdvertisement", field: "spec.advertisements[0].advertisementType", msg: `"NodeIP"`})
		diffJSON(t, []string{"10.0.1.0/24"}, prefixStrings(onlyInstance(t, res)))
	})
}

func TestFamilySelectors(t *testing.T) {
	pods := advertisement("pods", map[string]string{"advertise": "bgp"}, podCIDRRule())
	other := advertisement("other", map[string]string{"team": "x"}, interfaceRule("lo-bgp"))
	host := model.HostFacts{Interfaces: []model.Interface{{Name: "lo-bgp", AdminUp: true, OperState: "up", Addresses: []netip.Prefix{netip.MustParsePrefix("10.255.0.1/32")}}}}
	tests := []struct {
		name     string
		families []model.CiliumBGPFamilyWithAdverts
		want     []string
		fams     []model.Family
		diags    []wantDiag
	}{
		{
			name: "no families: both negotiated, nothing advertised",
			want: []string{},
			fams: []model.Family{model.IPv4Unicast, model.IPv6Unicast},
		},
		{
			name:     "nil advertisements selector: nothing",
			families: []model.CiliumBGPFamilyWithAdverts{{AFI: "ipv4", SAFI: "unicast"}},
			want:     []string{},
			fams:     []model.Family{model.IPv4Unicast},
		},
		{
			name:     "{} selects every advertisement",
			families: []model.CiliumBGPFamilyWithAdverts{{AFI: "ipv4", SAFI: "unicast", Advertisements: &metav1.LabelSelector{}}},
			want:     []string{"10.0.1.0/24", "10.255.0.1/32"},
			fams:     []model.Family{model.IPv4Unicast},
		},
		{
			name:     "matchLabels selects by advertisement labels",
			families: []model.CiliumBGPFamilyWithAdverts{{AFI: "ipv4", SAFI: "unicast", Advertisements: matchLabels("team", "x")}},
			want:     []string{"10.255.0.1/32"},
			fams:     []model.Family{model.IPv4Unicast},
		},
		{
			name: "unsupported family ignored, the others kept",
			families: []model.CiliumBGPFamilyWithAdverts{
				{AFI: "l2vpn", SAFI: "evpn", Advertisements: &metav1.LabelSelector{}},
				{AFI: "ipv4", SAFI: "unicast", Advertisements: matchLabels("advertise", "bgp")},
			},
			want:  []string{"10.0.1.0/24"},
			fams:  []model.Family{model.IPv4Unicast},
			diags: []wantDiag{{sev: model.Warning, kind: "CiliumBGPPeerConfig", field: "spec.families[0]", msg: "not supported"}},
		},
		{
			name: "only unsupported families",
			families: []model.CiliumBGPFamilyWithAdverts{
				{AFI: "ipv4", SAFI: "multicast", Advertisements: &metav1.LabelSelector{}},
			},
			want: []string{},
			fams: nil,
			diags: []wantDiag{
				{sev: model.Warning, kind: "CiliumBGPPeerConfig", field: "spec.families[0]", msg: `"ipv4/multicast" is not supported`},
				{sev: model.Warning, kind: "CiliumBGPPeerConfig", field: "spec.families", msg: "no supported family"},
			},
		},
		{
			name: "invalid advertisements selector",
			families: []model.CiliumBGPFamilyWithAdverts{
				{AFI: "ipv4", SAFI: "unicast", Advertisements: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bad"}}}},
			},
			want:  []string{},
			fams:  []model.Family{model.IPv4Unicast},
			diags: []wantDiag{{sev: model.Error, kind: "CiliumBGPPeerConfig", field: "spec.families[0].advertisements", msg: "invalid selector"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseSnapshot()
			snap.CiliumNodes[0].Spec.IPAM.PodCIDRs = []string{"10.0.1.0/24", "fd00:1::/64"}
			snap.PeerConfigs[0].Spec.Families = tc.families
			snap.Advertisements = []*model.CiliumBGPAdvertisement{pods, other}
			res := translateOK(t, snap, host, Options{})
			expectDiags(t, res.Diagnostics, tc.diags...)
			inst := onlyInstance(t, res)
			diffJSON(t, tc.want, prefixStrings(inst))
			if len(inst.PeerGroups) != 1 {
				t.Fatalf("groups = %d", len(inst.PeerGroups))
			}
			if !reflect.DeepEqual(inst.PeerGroups[0].Families, tc.fams) {
				t.Errorf("families = %v, want %v", inst.PeerGroups[0].Families, tc.fams)
			}
		})
	}
}

func TestAttributes(t *testing.T) {
	obj := "CiliumBGPAdvertisement"
	lp := func(v uint32) *uint32 { return &v }
	tests := []struct {
		name      string
		attrs     *model.BGPAttributes
		want      model.Export
		wantDiags []wantDiag
	}{
		{
			name: "no attributes",
			want: model.Export{PeerGroup: "pc"},
		},
		{
			name:  "standard AS:NN and decimal",
			attrs: &model.BGPAttributes{Communities: &model.BGPCommunities{Standard: []string{"65000:100", "42", "4294967295", "0:0"}}},
			want:  model.Export{PeerGroup: "pc", Communities: []model.Community{0, 42, 65000<<16 | 100, 0xffffffff}},
		},
		{
			name:  "well-known aliases",
			attrs: &model.BGPAttributes{Communities: &model.BGPCommunities{WellKnown: []string{"no-export", "internet", "blackhole", "no-advertise"}}},
			want:  model.Export{PeerGroup: "pc", Communities: comms("0:0", "65535:666", "65535:65281", "65535:65282")},
		},
		{
			name:  "large",
			attrs: &model.BGPAttributes{Communities: &model.BGPCommunities{Large: []string{"4294967295:2:3", "1:2:3", "1:2:3"}}},
			want:  model.Export{PeerGroup: "pc", LargeCommunities: []model.LargeCommunity{{GlobalAdmin: 1, Local1: 2, Local2: 3}, {GlobalAdmin: 4294967295, Local1: 2, Local2: 3}}},
		},
		{
			name:  "dedup by value across standard and well-known",
			attrs: &model.BGPAttributes{Communities: &model.BGPCommunities{Standard: []string{"65535:65281", "4294967041", "65000:1"}, WellKnown: []string{"no-export"}}},
			want:  model.Export{PeerGroup: "pc", Communities: comms("65000:1", "65535:65281")},
		},
		{
			name: "invalid communities skipped with the exact field, rest kept",
			attrs: &model.BGPAttributes{Communities: &model.BGPCommunities{
				Standard:  []string{"65000:1", "65536:1", "4294967296", "-1", "1:2:3", " 65000:2"},
				WellKnown: []string{"no-such", "no-peer"},
				Large:     []string{"1:2", "1:2:4294967296", "7:8:9"},
			}},
			want: model.Export{PeerGroup: "pc", Communities: comms("65000:1", "65535:65284"), LargeCommunities: []model.LargeCommunity{{GlobalAdmin: 7, Local1: 8, Local2: 9}}},
			wantDiags: []wantDiag{
				{sev: model.Warning, kind: obj, name: "svc", field: "spec.advertisements[0].attributes.communities.standard[1]", msg: `"65536:1"`},
				{sev: model.Warning, kind: obj, name: "svc", field: "spec.advertisements[0].attributes.communities.standard[2]", msg: `"4294967296"`},
				{sev: model.Warning, kind: obj, name: "svc", field: "spec.advertisements[0].attributes.communities.standard[3]", msg: `"-1"`},
				{sev: model.Warning, kind: obj, name: "svc", field: "spec.advertisements[0].attributes.communities.standard[4]", msg: `"1:2:3"`},
				{sev: model.Warning, kind: obj, name: "svc", field: "spec.advertisements[0].attributes.communities.standard[5]", msg: `" 65000:2"`},
				{sev: model.Warning, kind: obj, name: "svc", field: "spec.advertisements[0].attributes.communities.wellKnown[0]", msg: `"no-such"`},
				{sev: model.Warning, kind: obj, name: "svc", field: "spec.advertisements[0].attributes.communities.large[0]", msg: `"1:2"`},
				{sev: model.Warning, kind: obj, name: "svc", field: "spec.advertisements[0].attributes.communities.large[1]", msg: `"1:2:4294967296"`},
			},
		},
		{
			name:  "local preference",
			attrs: &model.BGPAttributes{LocalPreference: ptr(int64(150))},
			want:  model.Export{PeerGroup: "pc", LocalPreference: lp(150)},
		},
		{
			name:  "local preference 0",
			attrs: &model.BGPAttributes{LocalPreference: ptr(int64(0))},
			want:  model.Export{PeerGroup: "pc", LocalPreference: lp(0)},
		},
		{
			name:      "negative local preference ignored",
			attrs:     &model.BGPAttributes{LocalPreference: ptr(int64(-1)), Communities: &model.BGPCommunities{Standard: []string{"65000:1"}}},
			want:      model.Export{PeerGroup: "pc", Communities: comms("65000:1")},
			wantDiags: []wantDiag{{sev: model.Warning, kind: obj, field: "spec.advertisements[0].attributes.localPreference", msg: "-1"}},
		},
		{
			name:      "local preference above 32 bits ignored",
			attrs:     &model.BGPAttributes{LocalPreference: ptr(int64(1) << 32)},
			want:      model.Export{PeerGroup: "pc"},
			wantDiags: []wantDiag{{sev: model.Warning, kind: obj, field: "spec.advertisements[0].attributes.localPreference", msg: "not in 0..4294967295"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rule := serviceRule(matchLabels("app", "web"), model.ServiceLoadBalancerIP)
			rule.Attributes = tc.attrs
			snap := svcSnapshot(rule, lbService("default", "web", map[string]string{"app": "web"}, "172.20.0.1", "2001:db8::1"))
			res := translateOK(t, snap, model.HostFacts{}, Options{})
			// Checked once per rule although two families select it.
			expectDiags(t, res.Diagnostics, tc.wantDiags...)
			inst := onlyInstance(t, res)
			for _, p := range []string{"172.20.0.1/32", "2001:db8::1/128"} {
				diffJSON(t, []model.Export{tc.want}, exportsOf(t, inst, p))
			}
		})
	}
}

func TestWellKnownCommunityTable(t *testing.T) {
	want := map[string]string{
		"internet": "0:0", "planned-shut": "65535:0", "accept-own": "65535:1",
		"route-filter-translated-v4": "65535:2", "route-filter-v4": "65535:3",
		"route-filter-translated-v6": "65535:4", "route-filter-v6": "65535:5",
		"llgr-stale": "65535:6", "no-llgr": "65535:7", "blackhole": "65535:666",
		"no-export": "65535:65281", "no-advertise": "65535:65282",
		"no-export-subconfed": "65535:65283", "no-peer": "65535:65284",
	}
	if len(wellKnownCommunities) != len(want) {
		t.Errorf("table has %d entries, want %d", len(wellKnownCommunities), len(want))
	}
	for name, pair := range want {
		got, ok := wellKnownCommunities[name]
		if !ok || got.String() != pair {
			t.Errorf("%s = %v (present %v), want %s", name, got, ok, pair)
		}
	}
}

func TestParseCommunities(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" means invalid
	}{
		{"0", "0:0"}, {"65536", "1:0"}, {"4294967295", "65535:65535"}, {"4294967296", ""},
		{"65000:100", "65000:100"}, {"0:65535", "0:65535"}, {"65535:65536", ""}, {"65536:0", ""},
		{"", ""}, {":", ""}, {"1:", ""}, {":1", ""}, {"+1", ""}, {"0x10", ""}, {"1:2:3", ""},
		{"00000000001", ""}, {"0000000001", "0:1"}, {"１", ""},
	} {
		got, err := parseStandardCommunity(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("parseStandardCommunity(%q) = %v, want error", tc.in, got)
		case tc.want != "" && (err != nil || got.String() != tc.want):
			t.Errorf("parseStandardCommunity(%q) = %v, %v, want %s", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"1:2:3", "1:2:3"}, {"4294967295:4294967295:4294967295", "4294967295:4294967295:4294967295"},
		{"4294967296:0:0", ""}, {"1:2", ""}, {"1:2:3:4", ""}, {"a:b:c", ""}, {"1::3", ""}, {"", ""},
	} {
		got, err := parseLargeCommunity(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("parseLargeCommunity(%q) = %v, want error", tc.in, got)
		case tc.want != "" && (err != nil || got.String() != tc.want):
			t.Errorf("parseLargeCommunity(%q) = %v, %v, want %s", tc.in, got, err, tc.want)
		}
	}
}
