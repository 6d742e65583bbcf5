package translate

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/google/go-cmp/cmp"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// The helpers below build snapshots in Go. The base scenario is one node (testNode) with a
// CiliumNode and a Node, one ClusterConfig "cc" selecting every node with one instance
// "inst" (ASN 65001) and one peer "peer1" 10.0.0.1 AS 65000 referencing PeerConfig "pc",
// which selects adverts labelled advertise=bgp for ipv4 and ipv6 unicast.

const (
	testNode   = "worker-1"
	testNodeIP = "192.168.10.12"
)

func ptr[T any](v T) *T { return &v }

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func meta(name string, lbls map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: lbls}
}

func clusterConfig(name string, sel *metav1.LabelSelector, insts ...model.CiliumBGPInstance) *model.CiliumBGPClusterConfig {
	m := meta(name, nil)
	m.CreationTimestamp = metav1.NewTime(epoch)
	return &model.CiliumBGPClusterConfig{ObjectMeta: m, Spec: model.CiliumBGPClusterConfigSpec{NodeSelector: sel, BGPInstances: insts}}
}

func bgpInstance(name string, asn int64, peers ...model.CiliumBGPPeer) model.CiliumBGPInstance {
	inst := model.CiliumBGPInstance{Name: name, Peers: peers}
	if asn != 0 {
		inst.LocalASN = ptr(asn)
	}
	return inst
}

// bgpPeer builds a peer; an empty addr or pc leaves peerAddress or peerConfigRef unset, and
// asn < 0 leaves peerASN unset.
func bgpPeer(name, addr string, asn int64, pc string) model.CiliumBGPPeer {
	p := model.CiliumBGPPeer{Name: name}
	if addr != "" {
		p.PeerAddress = ptr(addr)
	}
	if asn >= 0 {
		p.PeerASN = ptr(asn)
	}
	if pc != "" {
		p.PeerConfigRef = &model.PeerConfigReference{Name: pc}
	}
	return p
}

func gatewayPeer(name, family string, asn int64, pc string) model.CiliumBGPPeer {
	p := bgpPeer(name, "", asn, pc)
	p.AutoDiscovery = &model.BGPAutoDiscovery{Mode: model.AutoDiscoveryDefaultGateway, DefaultGateway: &model.DefaultGatewayDiscovery{AddressFamily: family}}
	return p
}

func peerConfig(name string, mutate ...func(*model.CiliumBGPPeerConfigSpec)) *model.CiliumBGPPeerConfig {
	pc := &model.CiliumBGPPeerConfig{ObjectMeta: meta(name, nil)}
	for _, m := range mutate {
		m(&pc.Spec)
	}
	return pc
}

// withFamilies sets spec.families; each family selects adverts with sel.
func withFamilies(sel *metav1.LabelSelector, fams ...model.Family) func(*model.CiliumBGPPeerConfigSpec) {
	return func(s *model.CiliumBGPPeerConfigSpec) {
		for _, f := range fams {
			s.Families = append(s.Families, model.CiliumBGPFamilyWithAdverts{AFI: f.AFI, SAFI: f.SAFI, Advertisements: sel})
		}
	}
}

func matchLabels(kv ...string) *metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &metav1.LabelSelector{MatchLabels: m}
}

// allSelector is the documented "select everything" selector of the seed.
func allSelector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "somekey", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"never-used-value"}},
	}}
}

func advertisement(name string, lbls map[string]string, rules ...model.BGPAdvertisement) *model.CiliumBGPAdvertisement {
	return &model.CiliumBGPAdvertisement{ObjectMeta: meta(name, lbls), Spec: model.CiliumBGPAdvertisementSpec{Advertisements: rules}}
}

var bgpLabels = map[string]string{"advertise": "bgp"}

func serviceRule(sel *metav1.LabelSelector, addrs ...string) model.BGPAdvertisement {
	return model.BGPAdvertisement{AdvertisementType: model.AdvertService, Selector: sel, Service: &model.BGPServiceOptions{Addresses: addrs}}
}

func podCIDRRule() model.BGPAdvertisement {
	return model.BGPAdvertisement{AdvertisementType: model.AdvertPodCIDR}
}

func poolRule(sel *metav1.LabelSelector) model.BGPAdvertisement {
	return model.BGPAdvertisement{AdvertisementType: model.AdvertCiliumPodIPPool, Selector: sel}
}

func interfaceRule(name string) model.BGPAdvertisement {
	return model.BGPAdvertisement{AdvertisementType: model.AdvertInterface, Interface: &model.BGPInterfaceOptions{Name: ptr(name)}}
}

func withCommunities(r model.BGPAdvertisement, standard ...string) model.BGPAdvertisement {
	if r.Attributes == nil {
		r.Attributes = &model.BGPAttributes{}
	}
	r.Attributes.Communities = &model.BGPCommunities{Standard: standard}
	return r
}

func withLocalPref(r model.BGPAdvertisement, lp int64) model.BGPAdvertisement {
	if r.Attributes == nil {
		r.Attributes = &model.BGPAttributes{}
	}
	r.Attributes.LocalPreference = ptr(lp)
	return r
}

func ciliumNode(name string, lbls map[string]string, internalIP string) *model.CiliumNode {
	cn := &model.CiliumNode{ObjectMeta: meta(name, lbls)}
	if internalIP != "" {
		cn.Spec.Addresses = []model.CiliumNodeAddress{{Type: "InternalIP", IP: internalIP}}
	}
	return cn
}

func k8sNode(name string, lbls map[string]string, internalIP string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: meta(name, lbls)}
	if internalIP != "" {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: internalIP}}
	}
	return n
}

func podPool(name string, lbls map[string]string, mask4, mask6 int) *model.CiliumPodIPPool {
	p := &model.CiliumPodIPPool{ObjectMeta: meta(name, lbls)}
	if mask4 != 0 {
		p.Spec.IPv4 = &model.PodIPPoolFamily{MaskSize: mask4}
	}
	if mask6 != 0 {
		p.Spec.IPv6 = &model.PodIPPoolFamily{MaskSize: mask6}
	}
	return p
}

// lbService is a type LoadBalancer Service with the given ingress IPs.
func lbService(ns, name string, lbls map[string]string, ips ...string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls}}
	s.Spec.Type = corev1.ServiceTypeLoadBalancer
	s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	for _, ip := range ips {
		s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	return s
}

func clusterIPService(ns, name string, lbls map[string]string, ips ...string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls}}
	s.Spec.Type = corev1.ServiceTypeClusterIP
	if len(ips) > 0 {
		s.Spec.ClusterIP = ips[0]
	}
	s.Spec.ClusterIPs = ips
	return s
}

func endpointSlice(ns, svc string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc + "-abcde", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		Endpoints:  eps,
	}
}

// endpoint on node; nil ready/terminating leave the condition unset.
func endpoint(node string, ready, terminating *bool) discoveryv1.Endpoint {
	ep := discoveryv1.Endpoint{Addresses: []string{"10.0.1.10"}, Conditions: discoveryv1.EndpointConditions{Ready: ready, Terminating: terminating}}
	if node != "" {
		ep.NodeName = ptr(node)
	}
	return ep
}

// baseSnapshot is the scenario described at the top of this file, without advertisements.
func baseSnapshot() *model.Snapshot {
	lbls := map[string]string{"kubernetes.io/os": "linux", "rack": "r1"}
	return &model.Snapshot{
		ClusterConfigs: []*model.CiliumBGPClusterConfig{
			clusterConfig("cc", nil, bgpInstance("inst", 65001, bgpPeer("peer1", "10.0.0.1", 65000, "pc"))),
		},
		PeerConfigs: []*model.CiliumBGPPeerConfig{
			peerConfig("pc", withFamilies(matchLabels("advertise", "bgp"), model.IPv4Unicast, model.IPv6Unicast)),
		},
		CiliumNodes: []*model.CiliumNode{ciliumNode(testNode, lbls, testNodeIP)},
		Nodes:       []*corev1.Node{k8sNode(testNode, lbls, testNodeIP)},
	}
}

func translateOK(t testing.TB, snap *model.Snapshot, host model.HostFacts, opts Options) Result {
	t.Helper()
	if opts.Node == "" {
		opts.Node = testNode
	}
	res, err := Translate(snap, host, opts)
	if err != nil {
		t.Fatalf("Translate: unexpected error: %v", err)
	}
	return res
}

// onlyInstance returns the single instance of the result.
func onlyInstance(t testing.TB, res Result) model.Instance {
	t.Helper()
	if len(res.Config.Instances) != 1 {
		t.Fatalf("want exactly 1 instance, got %d (failed %v, diagnostics:\n%s)", len(res.Config.Instances), res.FailedInstances, diagText(res.Diagnostics))
	}
	return res.Config.Instances[0]
}

func diagText(ds []model.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "  %s\n", d)
	}
	return b.String()
}

// prefixes returns the instance's prefixes as strings, in order.
func prefixStrings(inst model.Instance) []string {
	out := []string{}
	for _, p := range inst.Prefixes {
		out = append(out, p.Prefix.String())
	}
	return out
}

func policyByID(t testing.TB, inst model.Instance, id uint32) model.ExportPolicy {
	t.Helper()
	for _, p := range inst.Policies {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("no policy %d in instance %s", id, inst.Name)
	return model.ExportPolicy{}
}

// exportsOf returns the exports a prefix's policy makes.
func exportsOf(t testing.TB, inst model.Instance, prefix string) []model.Export {
	t.Helper()
	want := netip.MustParsePrefix(prefix)
	for _, p := range inst.Prefixes {
		if p.Prefix == want {
			return policyByID(t, inst, p.Policy).Exports
		}
	}
	t.Fatalf("prefix %s not advertised; have %v", prefix, prefixStrings(inst))
	return nil
}

func comms(ss ...string) []model.Community {
	var out []model.Community
	for _, s := range ss {
		c, err := parseStandardCommunity(s)
		if err != nil {
			panic(err)
		}
		out = append(out, c)
	}
	return out
}

// wantDiag describes an expected diagnostic: every non-empty field must match, Message by
// substring.
type wantDiag struct {
	sev   model.Severity
	kind  string
	name  string
	field string
	msg   string
}

func (w wantDiag) matches(d model.Diagnostic) bool {
	return d.Severity == w.sev &&
		(w.kind == "" || d.Object.Kind == w.kind) &&
		(w.name == "" || d.Object.Name == w.name) &&
		(w.field == "" || d.Field == w.field) &&
		strings.Contains(d.Message, w.msg)
}

func (w wantDiag) String() string {
	return fmt.Sprintf("%s: %s/%s: %s: ...%s...", w.sev, w.kind, w.name, w.field, w.msg)
}

// expectDiags asserts that the diagnostics are exactly the wanted ones (in any order).
func expectDiags(t testing.TB, got []model.Diagnostic, want ...wantDiag) {
	t.Helper()
	used := make([]bool, len(got))
	ok := true
	for _, w := range want {
		found := false
		for i, d := range got {
			if !used[i] && w.matches(d) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			ok = false
			t.Errorf("missing diagnostic %s", w)
		}
	}
	for i, d := range got {
		if !used[i] {
			ok = false
			t.Errorf("unexpected diagnostic %s", d)
		}
	}
	if !ok {
		t.Logf("all diagnostics:\n%s", diagText(got))
	}
}

// diffJSON compares want and got as indented JSON and reports the lines that differ.
func diffJSON(t testing.TB, want, got any) bool {
	t.Helper()
	w, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatalf("marshal want: %v", err)
	}
	g, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatalf("marshal got: %v", err)
	}
	if d := cmp.Diff(string(w), string(g)); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
		return false
	}
	return true
}

// stripSources clears provenance so that a structural comparison can focus on values.
func stripSources(inst model.Instance) model.Instance {
	inst.Sources = nil
	inst.PeerGroups = append([]model.PeerGroup(nil), inst.PeerGroups...)
	for i := range inst.PeerGroups {
		inst.PeerGroups[i].Sources = nil
	}
	inst.Peers = append([]model.Peer(nil), inst.Peers...)
	for i := range inst.Peers {
		inst.Peers[i].Sources = nil
	}
	return inst
}

var defaultTimers = model.Timers{ConnectRetry: 120, Hold: 90, Keepalive: 30}

func prefixLess(a, b netip.Prefix) bool { return prefixCmp(a, b) < 0 }
