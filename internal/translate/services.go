package translate

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// ciliumLBClass is the loadBalancerClass Cilium's BGP control plane announces besides unset.
const ciliumLBClass = "io.cilium/bgp-control-plane"

// serviceIndex holds the Services Cilium's agent has frontends for on this node, with their
// selector labels and backend state, built once per translation.
type serviceIndex struct {
	services []indexedService // sorted by namespace/name
}

type indexedService struct {
	svc    *corev1.Service
	labels serviceLabels
	// anyActive: an active backend anywhere; localActive: one on this node.
	anyActive, localActive bool
	// proxied: a CiliumEnvoyConfig that applies to this node redirects the Service to the
	// node's Envoy (Ingress, Gateway API): its backends are the proxy's business.
	proxied bool
}

func (t *translation) serviceIndex() *serviceIndex {
	if t.services != nil {
		return t.services
	}
	type backends struct{ any, local bool }
	byService := map[string]*backends{}
	for _, es := range t.snap.EndpointSlices {
		name := es.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		key := es.Namespace + "/" + name
		b := byService[key]
		if b == nil {
			b = &backends{}
			byService[key] = b
		}
		if Maintenance(es) {
			continue
		}
		for _, ep := range es.Endpoints {
			if !ActiveBackend(ep) {
				continue
			}
			b.any = true
			if EndpointNode(ep) == t.opts.Node {
				b.local = true
			}
		}
	}
	proxied := t.proxiedServices()
	idx := &serviceIndex{}
	for _, svc := range t.snap.Services {
		if !t.hasFrontends(svc) {
			continue
		}
		key := svc.Namespace + "/" + svc.Name
		is := indexedService{svc: svc, labels: serviceLabels{svc: svc}, proxied: proxied[key]}
		if b := byService[key]; b != nil {
			is.anyActive, is.localActive = b.any, b.local
		}
		idx.services = append(idx.services, is)
	}
	sort.Slice(idx.services, func(i, j int) bool {
		a, b := idx.services[i].svc, idx.services[j].svc
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	t.services = idx
	return idx
}

// checkServiceOptions validates spec.advertisements[i].service once.
func (t *translation) checkServiceOptions(info *ruleInfo, obj model.ObjectRef, field string) bool {
	opts := info.spec.Service
	seen := map[string]bool{}
	for k, a := range opts.Addresses {
		switch a {
		case model.ServiceLoadBalancerIP, model.ServiceClusterIP, model.ServiceExternalIP:
			if !seen[a] {
				seen[a] = true
				info.addresses = append(info.addresses, a)
			}
		default:
			t.warn(obj, fmt.Sprintf("%s.addresses[%d]", field, k), "%q is not one of LoadBalancerIP, ClusterIP, ExternalIP: ignored", a)
		}
	}
	if v := opts.AggregationLengthIPv4; v != nil && (*v < 0 || *v > 31) {
		t.error(obj, field+".aggregationLengthIPv4", "%d is not in 0..31: rule ignored", *v)
		return false
	}
	if v := opts.AggregationLengthIPv6; v != nil && (*v < 0 || *v > 127) {
		t.error(obj, field+".aggregationLengthIPv6", "%d is not in 0..127: rule ignored", *v)
		return false
	}
	return len(info.addresses) > 0
}

// servicePrefixes yields the addresses of the selected Services, honouring traffic-policy
// locality and aggregation.
func (t *translation) servicePrefixes(info *ruleInfo, fam model.Family) map[netip.Prefix][]model.Origin {
	out := map[netip.Prefix][]model.Origin{}
	opts := info.spec.Service
	aggregate := opts.AggregationLengthIPv4
	if fam == model.IPv6Unicast {
		aggregate = opts.AggregationLengthIPv6
	}
	for _, is := range t.serviceIndex().services {
		if !info.selector.Matches(is.labels) {
			continue
		}
		svc := is.svc
		obj := model.ObjectRef{Kind: model.KindService, Namespace: svc.Namespace, Name: svc.Name}
		for _, kind := range info.addresses {
			// LoadBalancer and external IPs follow externalTrafficPolicy, cluster IPs
			// internalTrafficPolicy.
			local := svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
			if kind == model.ServiceClusterIP {
				local = svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
			}
			// A LoadBalancer IP redirected to the node's Envoy is served by the proxy,
			// whatever its backends (cilium/cilium#36816).
			proxied := kind == model.ServiceLoadBalancerIP && is.proxied
			if local && !is.localActive && !proxied {
				continue
			}
			if !is.anyActive && t.opts.SkipServicesWithoutEndpoints && !proxied {
				continue
			}
			for _, a := range t.serviceAddresses(svc, kind) {
				if model.FamilyOf(a) != fam {
					continue
				}
				p := netip.PrefixFrom(a, a.BitLen())
				if !local && aggregate != nil {
					p = netip.PrefixFrom(a, int(*aggregate)).Masked()
				}
				out[p] = append(out[p], model.Origin{Rule: info.ref, Object: obj, Detail: kind})
			}
		}
	}
	return out
}

// serviceAddresses lists a Service's addresses of one kind that Cilium has frontends for,
// deduplicated. A value that is not an address, or an address no one should advertise, is
// left out with a warning naming the Service's field.
func (t *translation) serviceAddresses(svc *corev1.Service, kind string) []netip.Addr {
	type value struct{ field, raw string }
	var raw []value
	exposes := exposedTypes(svc)
	switch kind {
	case model.ServiceLoadBalancerIP:
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || !exposes(corev1.ServiceTypeLoadBalancer) {
			return nil
		}
		if c := svc.Spec.LoadBalancerClass; c != nil && *c != ciliumLBClass {
			return nil
		}
		for i, in := range svc.Status.LoadBalancer.Ingress {
			// An ingress with a hostname only has no IP: nothing to announce, nothing wrong.
			if !IsVIP(in) || in.IP == "" {
				continue
			}
			raw = append(raw, value{fmt.Sprintf("status.loadBalancer.ingress[%d].ip", i), in.IP})
		}
	case model.ServiceExternalIP:
		for i, ip := range svc.Spec.ExternalIPs {
			raw = append(raw, value{fmt.Sprintf("spec.externalIPs[%d]", i), ip})
		}
	case model.ServiceClusterIP:
		if !exposes(corev1.ServiceTypeClusterIP) {
			return nil
		}
		for i, ip := range svc.Spec.ClusterIPs {
			raw = append(raw, value{fmt.Sprintf("spec.clusterIPs[%d]", i), ip})
		}
		if len(raw) == 0 {
			raw = []value{{"spec.clusterIP", svc.Spec.ClusterIP}}
		}
	}
	obj := model.ObjectRef{Kind: model.KindService, Namespace: svc.Namespace, Name: svc.Name}
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, r := range raw {
		s := strings.TrimSpace(r.raw)
		if kind == model.ServiceClusterIP && (s == "" || s == corev1.ClusterIPNone) {
			continue // headless, or no cluster IP yet
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			t.warn(obj, r.field, "%q is not an IP address: %s not advertised", r.raw, kind)
			continue
		}
		if a.Zone() != "" {
			t.warn(obj, r.field, "%q has a zone index, which a route cannot carry: %s not advertised", r.raw, kind)
			continue
		}
		a = a.Unmap()
		if why := UnroutableAddress(a); why != "" {
			t.warn(obj, r.field, "%s is %s address, which no one should advertise: %s not advertised", a, addressKind(why), kind)
			continue
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// serviceLabels are a Service's labels plus the two Cilium adds, without copying them.
type serviceLabels struct{ svc *corev1.Service }

func (l serviceLabels) Has(k string) bool {
	switch k {
	case "io.kubernetes.service.name", "io.kubernetes.service.namespace":
		return true
	}
	_, ok := l.svc.Labels[k]
	return ok
}

func (l serviceLabels) Get(k string) string {
	switch k {
	case "io.kubernetes.service.name":
		return l.svc.Name
	case "io.kubernetes.service.namespace":
		return l.svc.Namespace
	}
	return l.svc.Labels[k]
}

func (l serviceLabels) Lookup(k string) (string, bool) {
	if !l.Has(k) {
		return "", false
	}
	return l.Get(k), true
}
