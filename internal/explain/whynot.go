package explain

// This file finds why a prefix is not advertised: it looks for the objects of the node that
// hold the address (Services, the CiliumNode's pod CIDRs and pool allocations, host interfaces)
// and walks the way from each to the peers, with Cilium's rules (as internal/translate applies
// them), until it meets the one that stops it.

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// ciliumLBClass is the loadBalancerClass Cilium's BGP control plane announces, besides none.
const ciliumLBClass = "io.cilium/bgp-control-plane"

type checker struct {
	in      Input
	res     translate.Result
	adverts []*model.CiliumBGPAdvertisement // sorted by name
	// nodeLabels are the labels Cilium matches against: the CiliumNode's, else the Node's.
	nodeLabels labels.Set
	// proxied are the Services an Envoy configuration redirects to the node's Envoy.
	proxied map[string]bool
}

func newChecker(in Input, res translate.Result) *checker {
	c := &checker{in: in, res: res, adverts: slices.Clone(in.Snapshot.Advertisements)}
	sort.Slice(c.adverts, func(i, j int) bool { return c.adverts[i].Name < c.adverts[j].Name })
	for _, n := range in.Snapshot.Nodes {
		if n.Name == in.Options.Node {
			c.nodeLabels = labels.Set(n.Labels)
		}
	}
	for _, n := range in.Snapshot.CiliumNodes {
		if n.Name == in.Options.Node {
			c.nodeLabels = labels.Set(n.Labels)
		}
	}
	c.proxied, _ = translate.ProxiedServices(in.Snapshot, c.nodeLabels)
	return c
}

// candidate is an object of the node that holds an address overlapping the query.
type candidate struct {
	object model.ObjectRef
	// advertType is the advertisement type that could announce it.
	advertType string
	addr       netip.Addr
	// Service: the address kind and the Service; pools: the pool; interfaces: the interface.
	kind  string
	svc   *corev1.Service
	pool  *model.CiliumPodIPPool
	ifc   *model.Interface
	cidr  netip.Prefix
	field string
}

// whyNot explains why inst advertises nothing overlapping query.
func (c *checker) whyNot(inst *model.Instance, query netip.Prefix) []Reason {
	cands := c.candidates(query)
	if len(cands) == 0 {
		return []Reason{{Code: CodeNoObject, Instance: inst.Name, Message: fmt.Sprintf(
			"no object of node %s has an address in %s: no Service's LoadBalancer, external or cluster IP, no pod CIDR or pool allocation of %s, no address of a host interface",
			model.QuoteUnlessPlain(c.in.Options.Node), query, model.ObjectRef{Kind: model.KindCiliumNode, Name: c.in.Options.Node})}}
	}
	var out []Reason
	for _, cand := range cands {
		out = append(out, c.candidateReasons(inst, cand)...)
	}
	return out
}

func (c *checker) candidates(query netip.Prefix) []candidate {
	var out []candidate
	for _, svc := range sortedServices(c.in.Snapshot.Services) {
		obj := model.ObjectRef{Kind: model.KindService, Namespace: svc.Namespace, Name: svc.Name}
		for _, kind := range []string{model.ServiceLoadBalancerIP, model.ServiceExternalIP, model.ServiceClusterIP} {
			for _, a := range rawServiceAddresses(svc, kind) {
				if query.Contains(a) {
					out = append(out, candidate{object: obj, advertType: model.AdvertService, addr: a, kind: kind, svc: svc})
				}
			}
		}
	}
	var cn *model.CiliumNode
	for _, n := range c.in.Snapshot.CiliumNodes {
		if n.Name == c.in.Options.Node {
			cn = n
		}
	}
	if cn != nil {
		obj := model.ObjectRef{Kind: model.KindCiliumNode, Name: cn.Name}
		for i, s := range cn.Spec.IPAM.PodCIDRs {
			if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil && p.Overlaps(query) {
				out = append(out, candidate{object: obj, advertType: model.AdvertPodCIDR, addr: p.Addr(), cidr: p.Masked(), field: fmt.Sprintf("spec.ipam.podCIDRs[%d]", i)})
			}
		}
		for i, alloc := range cn.Spec.IPAM.Pools.Allocated {
			var pool *model.CiliumPodIPPool
			for _, p := range c.in.Snapshot.PodIPPools {
				if p.Name == alloc.Pool {
					pool = p
				}
			}
			for j, s := range alloc.CIDRs {
				p, err := netip.ParsePrefix(strings.TrimSpace(s))
				if err != nil || !p.Overlaps(query) {
					continue
				}
				ref := model.ObjectRef{Kind: model.KindCiliumPodIPPool, Name: alloc.Pool}
				out = append(out, candidate{object: ref, advertType: model.AdvertCiliumPodIPPool, addr: p.Addr(), cidr: p, pool: pool,
					field: fmt.Sprintf("%s spec.ipam.pools.allocated[%d].cidrs[%d]", obj, i, j)})
			}
		}
	}
	for i := range c.in.Host.Interfaces {
		ifc := &c.in.Host.Interfaces[i]
		for _, p := range ifc.Addresses {
			if query.Contains(p.Addr()) {
				out = append(out, candidate{object: model.ObjectRef{Kind: "Interface", Name: ifc.Name}, advertType: model.AdvertInterface, addr: p.Addr(), ifc: ifc})
			}
		}
	}
	return out
}

// candidateReasons walks from cand to inst's peer groups.
func (c *checker) candidateReasons(inst *model.Instance, cand candidate) []Reason {
	fam := model.FamilyOf(cand.addr)
	base := Reason{Instance: inst.Name, Object: cand.object.String(), Family: fam.String()}
	if cand.kind != "" {
		base.Object += " " + cand.kind + " " + cand.addr.String()
	}
	reason := func(code, peerConfig, rule, format string, args ...any) Reason {
		r := base
		r.Code, r.PeerConfig, r.Rule, r.Message = code, peerConfig, rule, fmt.Sprintf(format, args...)
		return r
	}
	var out []Reason
	for _, pg := range inst.PeerGroups {
		if pg.Name == model.DefaultsGroup {
			var names []string
			for _, p := range inst.Peers {
				if p.Group == model.DefaultsGroup {
					names = append(names, model.QuoteUnlessPlain(p.Name))
				}
			}
			out = append(out, reason(CodeNoPeerConfig, "", "", "peers %s have no peerConfigRef: they advertise nothing", strings.Join(names, ", ")))
			continue
		}
		pc := c.peerConfig(pg.Name)
		pcRef := model.ObjectRef{Kind: model.KindCiliumBGPPeerConfig, Name: pg.Name}.String()
		fi := -1
		if pc != nil {
			fi = slices.IndexFunc(pc.Spec.Families, func(f model.CiliumBGPFamilyWithAdverts) bool {
				return f.AFI == fam.AFI && f.SAFI == fam.SAFI
			})
		}
		if !slices.Contains(pg.Families, fam) || fi < 0 {
			out = append(out, reason(CodeFamily, pcRef, "", "%s spec.families has no %s: its peers do not negotiate the family", pcRef, fam))
			continue
		}
		famSel := pc.Spec.Families[fi].Advertisements
		famField := fmt.Sprintf("%s spec.families[%d].advertisements", pcRef, fi)
		rules, selectedAny := 0, false
		var groupReasons []Reason
		for _, adv := range c.adverts {
			selected := selectorMatches(famSel, false, labels.Set(adv.Labels))
			selectedAny = selectedAny || selected
			for i := range adv.Spec.Advertisements {
				rule := &adv.Spec.Advertisements[i]
				if rule.AdvertisementType != cand.advertType {
					continue
				}
				rules++
				advRef := model.ObjectRef{Kind: model.KindCiliumBGPAdvertisement, Name: adv.Name}
				ruleRef := fmt.Sprintf("%s spec.advertisements[%d]", advRef, i)
				code, msg := c.ruleStops(adv, i, cand)
				if code != "" && !selected {
					continue // what stops the rule does not matter: the peers never get it
				}
				if code == "" && !selected {
					code, msg = CodeAdvertNotSelected, fmt.Sprintf("the rule would announce it, but %s (%s) does not select %s (labels %s)",
						famField, selectorString(famSel, false), advRef, labels.Set(adv.Labels))
				}
				if code == "" {
					code, msg = CodeUnexplained, "the rule would announce it to this PeerConfig's peers and explain knows nothing that stops it; see the diagnostics of render"
				}
				groupReasons = append(groupReasons, reason(code, pcRef, ruleRef, "%s", msg))
			}
		}
		switch {
		case rules == 0:
			out = append(out, reason(CodeNoRule, pcRef, "", "no CiliumBGPAdvertisement has a rule of advertisementType %s", cand.advertType))
		case !selectedAny && famSel == nil:
			out = append(out, reason(CodeAdvertNotSelected, pcRef, "", "%s is not set: it selects no CiliumBGPAdvertisement", famField))
		default:
			out = append(out, groupReasons...)
		}
	}
	if len(inst.PeerGroups) == 0 {
		out = append(out, reason(CodeNoPeerConfig, "", "", "instance %q has no peers", inst.Name))
	}
	return out
}

// ruleStops says what in rule i of adv stops cand, if anything: a reason code and message.
func (c *checker) ruleStops(adv *model.CiliumBGPAdvertisement, i int, cand candidate) (string, string) {
	rule := &adv.Spec.Advertisements[i]
	field := fmt.Sprintf("spec.advertisements[%d]", i)
	if d := c.ruleError(adv.Name, field); d != "" {
		return CodeRuleInvalid, "the rule is ignored: " + d
	}
	switch cand.advertType {
	case model.AdvertService:
		return c.serviceStops(rule, field, cand)
	case model.AdvertCiliumPodIPPool:
		if cand.pool == nil {
			return CodeSelector, fmt.Sprintf("the CiliumPodIPPool %q of %s does not exist", cand.object.Name, cand.field)
		}
		set := labels.Set{}
		for k, v := range cand.pool.Labels {
			set[k] = v
		}
		set["io.cilium.podippool.name"] = cand.pool.Name
		set["io.cilium.podippool.namespace"] = cand.pool.Namespace
		if !selectorMatches(rule.Selector, false, set) {
			return CodeSelector, fmt.Sprintf("%s.selector (%s) does not select %s (labels %s)", field, selectorString(rule.Selector, false), cand.object, set)
		}
		fam := model.FamilyOf(cand.addr)
		mask := 0
		if pf := cand.pool.Spec.IPv4; fam == model.IPv4Unicast && pf != nil {
			mask = pf.MaskSize
		}
		if pf := cand.pool.Spec.IPv6; fam == model.IPv6Unicast && pf != nil {
			mask = pf.MaskSize
		}
		if mask == 0 {
			return CodePoolMask, fmt.Sprintf("%s has no spec.%s.maskSize: Cilium has no export policy for %s", cand.object, fam.AFI, cand.cidr)
		}
		if cand.cidr.Bits() != mask {
			return CodePoolMask, fmt.Sprintf("%s %s is not a /%d, the mask size of %s: Cilium announces only allocations of that size", cand.field, cand.cidr, mask, cand.object)
		}
	case model.AdvertInterface:
		if rule.Interface == nil || rule.Interface.Name == nil || *rule.Interface.Name != cand.ifc.Name {
			name := ""
			if rule.Interface != nil && rule.Interface.Name != nil {
				name = *rule.Interface.Name
			}
			return CodeSelector, fmt.Sprintf("%s.interface.name is %q: the address is on interface %q", field, name, cand.ifc.Name)
		}
		if !cand.ifc.Up() {
			return CodeInterface, fmt.Sprintf("interface %q is not up (admin up %v, operational state %q)", cand.ifc.Name, cand.ifc.AdminUp, cand.ifc.OperState)
		}
		if a := cand.addr; !translate.UsableAddress(a) {
			return CodeInterface, fmt.Sprintf("%s is not a global unicast address (nor an IPv4 link-local one): Cilium does not announce it", a)
		}
	}
	return "", ""
}

// serviceStops checks a Service rule against one of a Service's addresses.
func (c *checker) serviceStops(rule *model.BGPAdvertisement, field string, cand candidate) (string, string) {
	svc := cand.svc
	svcRef := cand.object.String()
	if why, _ := translate.NoFrontends(svc, c.in.Options.ServiceProxyName, c.nodeLabels); why != "" {
		return CodeNoFrontend, fmt.Sprintf("Cilium's agent on node %s has no frontend for %s: %s", model.QuoteUnlessPlain(c.in.Options.Node), svcRef, why)
	}
	if !selectorMatches(rule.Selector, false, serviceLabels(svc)) {
		return CodeSelector, fmt.Sprintf("%s.selector (%s) does not select %s (labels %s)", field, selectorString(rule.Selector, false), svcRef, serviceLabels(svc))
	}
	if rule.Service == nil || !slices.Contains(rule.Service.Addresses, cand.kind) {
		var kinds []string
		if rule.Service != nil {
			kinds = rule.Service.Addresses
		}
		return CodeAddressType, fmt.Sprintf("%s.service.addresses is [%s]: not %s", field, strings.Join(kinds, ", "), cand.kind)
	}
	if cand.kind == model.ServiceLoadBalancerIP {
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			return CodeServiceType, fmt.Sprintf("%s is of type %q, not LoadBalancer: its status.loadBalancer IPs are not announced", svcRef, svc.Spec.Type)
		}
		if cl := svc.Spec.LoadBalancerClass; cl != nil && *cl != ciliumLBClass {
			return CodeLoadBalancerClass, fmt.Sprintf("%s has spec.loadBalancerClass %q: Cilium announces only Services without one or with %q", svcRef, *cl, ciliumLBClass)
		}
		if !translate.ExposesType(svc, corev1.ServiceTypeLoadBalancer) {
			return CodeServiceType, fmt.Sprintf("%s's service.cilium.io/type %q leaves it no LoadBalancer frontend", svcRef, svc.Annotations["service.cilium.io/type"])
		}
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if a, err := netip.ParseAddr(strings.TrimSpace(in.IP)); err == nil && a.Unmap() == cand.addr && !translate.IsVIP(in) {
				return CodeServiceType, fmt.Sprintf("%s's load balancer address %s has ipMode %q: the load balancer proxies it to the nodes, it is no VIP Cilium announces", svcRef, cand.addr, *in.IPMode)
			}
		}
	}
	if cand.kind == model.ServiceClusterIP && !translate.ExposesType(svc, corev1.ServiceTypeClusterIP) {
		return CodeServiceType, fmt.Sprintf("%s's service.cilium.io/type %q leaves it no ClusterIP frontend", svcRef, svc.Annotations["service.cilium.io/type"])
	}
	local, policyField := svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal, "spec.externalTrafficPolicy"
	if cand.kind == model.ServiceClusterIP {
		local = svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
		policyField = "spec.internalTrafficPolicy"
	}
	anyActive, localActive := c.endpoints(svc)
	// A LoadBalancer IP redirected to the node's Envoy is served by the proxy.
	proxied := cand.kind == model.ServiceLoadBalancerIP && c.proxied[svc.Namespace+"/"+svc.Name]
	if local && !localActive && !proxied {
		return CodeTrafficPolicyLocal, fmt.Sprintf("%s %s is Local and no ready endpoint of it is on node %s", svcRef, policyField, model.QuoteUnlessPlain(c.in.Options.Node))
	}
	if !anyActive && c.in.Options.SkipServicesWithoutEndpoints && !proxied {
		return CodeNoEndpoints, fmt.Sprintf("%s has no ready endpoint on any node, and Services without endpoints are not announced (--enable-no-service-endpoints-routable=false)", svcRef)
	}
	if why := translate.UnroutableAddress(cand.addr); why != "" {
		return CodeUnroutable, fmt.Sprintf("%s %s %s: %s addresses are no one's to advertise, frr-renderer leaves it out (a warning names the field)", svcRef, cand.kind, cand.addr, why)
	}
	return "", ""
}

// endpoints tells whether a Service has a serving endpoint anywhere, and on this node.
func (c *checker) endpoints(svc *corev1.Service) (anyActive, localActive bool) {
	for _, es := range c.in.Snapshot.EndpointSlices {
		if es.Namespace != svc.Namespace || es.Labels[discoveryv1.LabelServiceName] != svc.Name {
			continue
		}
		if translate.Maintenance(es) {
			continue
		}
		for _, ep := range es.Endpoints {
			if !translate.ActiveBackend(ep) {
				continue
			}
			anyActive = true
			if translate.EndpointNode(ep) == c.in.Options.Node {
				localActive = true
			}
		}
	}
	return anyActive, localActive
}

// ruleError is the error diagnostic translate reported on the rule, if any.
func (c *checker) ruleError(advert, field string) string {
	for _, d := range c.res.Diagnostics {
		if d.Severity == model.Error && d.Object.Kind == model.KindCiliumBGPAdvertisement && d.Object.Name == advert &&
			(d.Field == field || strings.HasPrefix(d.Field, field+".")) {
			return d.String()
		}
	}
	return ""
}

// errorsAbout joins the error diagnostics of translate, for a failed instance.
func (c *checker) errorsAbout(kind, name string) string {
	var msgs []string
	for _, d := range c.res.Diagnostics {
		if d.Severity == model.Error {
			msgs = append(msgs, d.String())
		}
	}
	if len(msgs) == 0 {
		return "see the diagnostics of " + kind + "/" + name
	}
	return strings.Join(msgs, "; ")
}

func (c *checker) peerConfig(name string) *model.CiliumBGPPeerConfig {
	for _, pc := range c.in.Snapshot.PeerConfigs {
		if pc.Name == name {
			return pc
		}
	}
	return nil
}

// selectorMatches applies a label selector; nil selects everything when nilAll, else nothing.
// An invalid selector selects nothing (translate reports it).
func selectorMatches(sel *metav1.LabelSelector, nilAll bool, set labels.Labels) bool {
	if sel == nil {
		return nilAll
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(set)
}

func selectorString(sel *metav1.LabelSelector, nilAll bool) string {
	if sel == nil {
		if nilAll {
			return "not set: everything"
		}
		return "not set: nothing"
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "invalid"
	}
	if s.Empty() {
		return "{}: everything"
	}
	return s.String()
}

// serviceLabels are a Service's labels plus the two Cilium adds.
func serviceLabels(svc *corev1.Service) labels.Set {
	set := labels.Set{"io.kubernetes.service.name": svc.Name, "io.kubernetes.service.namespace": svc.Namespace}
	for k, v := range svc.Labels {
		set[k] = v
	}
	return set
}

func sortedServices(in []*corev1.Service) []*corev1.Service {
	out := slices.Clone(in)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// rawServiceAddresses lists a Service's addresses of one kind, whatever its type and class
// (the rules that refuse them are what explain names).
func rawServiceAddresses(svc *corev1.Service, kind string) []netip.Addr {
	var raw []string
	switch kind {
	case model.ServiceLoadBalancerIP:
		for _, in := range svc.Status.LoadBalancer.Ingress {
			raw = append(raw, in.IP)
		}
	case model.ServiceExternalIP:
		raw = svc.Spec.ExternalIPs
	case model.ServiceClusterIP:
		raw = svc.Spec.ClusterIPs
		if len(raw) == 0 {
			raw = []string{svc.Spec.ClusterIP}
		}
	}
	var out []netip.Addr
	for _, r := range raw {
		if a, err := netip.ParseAddr(strings.TrimSpace(r)); err == nil && a.Zone() == "" && !slices.Contains(out, a.Unmap()) {
			out = append(out, a.Unmap())
		}
	}
	return out
}
