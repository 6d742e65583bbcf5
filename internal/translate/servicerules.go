package translate

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// Which Services and backends Cilium's agent knows on a node: its Service watcher
// (pkg/k8s/resource_ctors.go, the service-proxy-name label selector), its load-balancer
// reflector (pkg/loadbalancer/reflectors/conversions.go: frontends and backend states) and
// the Envoy redirects (pkg/ciliumenvoyconfig). BGP advertises frontends only.

const (
	// serviceProxyNameLabel names the proxy that implements a Service (KEP-2447); Cilium
	// watches only the Services of its k8s-service-proxy-name ("" = those without the label).
	serviceProxyNameLabel = "service.kubernetes.io/service-proxy-name"
	// Cilium's Service annotations.
	serviceNodeAnnotation         = "service.cilium.io/node"
	serviceNodeSelectorAnnotation = "service.cilium.io/node-selector"
	serviceTypeAnnotation         = "service.cilium.io/type"
	// endpointSliceWeightAnnotation 0 puts a slice's backends in maintenance.
	endpointSliceWeightAnnotation = "service.cilium.io/weight"
)

// hasFrontends reports whether Cilium's agent on this node has frontends for the Service:
// watched (service-proxy-name), not headless, and exposed on this node.
func (t *translation) hasFrontends(svc *corev1.Service) bool {
	why, parseErr := NoFrontends(svc, t.opts.ServiceProxyName, t.nodeLabels)
	if parseErr != nil {
		ref := model.ObjectRef{Kind: model.KindService, Namespace: svc.Namespace, Name: svc.Name}
		t.warn(ref, "metadata.annotations["+serviceNodeSelectorAnnotation+"]", "not a label selector (%v): ignored, as Cilium ignores it", parseErr)
	}
	return why == ""
}

// NoFrontends says why Cilium's agent on a node of nodeLabels has no frontend for the Service,
// "" when it has: not one of proxyName's Services (Cilium's k8s-service-proxy-name), headless,
// or not exposed on the node (service.cilium.io/node-selector, which wins, and
// service.cilium.io/node). A node-selector Cilium cannot parse is ignored, as Cilium ignores
// it; its error is returned for a warning.
func NoFrontends(svc *corev1.Service, proxyName string, nodeLabels labels.Labels) (why string, selectorErr error) {
	name, labelled := svc.Labels[serviceProxyNameLabel]
	switch {
	case proxyName == "" && labelled:
		return fmt.Sprintf("it is labelled %s=%q: Cilium handles only Services without that label (k8s-service-proxy-name is empty)", serviceProxyNameLabel, name), nil
	case proxyName != "" && name != proxyName:
		return fmt.Sprintf("Cilium handles only Services labelled %s=%q (k8s-service-proxy-name)", serviceProxyNameLabel, proxyName), nil
	}
	if _, ok := svc.Labels[corev1.IsHeadlessService]; ok || strings.EqualFold(svc.Spec.ClusterIP, corev1.ClusterIPNone) {
		return "it is headless: Cilium gives it no frontend", nil
	}
	if v, ok := svc.Annotations[serviceNodeSelectorAnnotation]; ok {
		sel, err := labels.Parse(v)
		if err != nil {
			return "", err
		}
		if !sel.Matches(nodeLabels) {
			return fmt.Sprintf("its %s %q does not select the node", serviceNodeSelectorAnnotation, v), nil
		}
		return "", nil
	}
	if v, ok := svc.Annotations[serviceNodeAnnotation]; ok && (!nodeLabels.Has(serviceNodeAnnotation) || nodeLabels.Get(serviceNodeAnnotation) != v) {
		return fmt.Sprintf("its %s %q is not the node's label of that name", serviceNodeAnnotation, v), nil
	}
	return "", nil
}

// exposedTypes reads service.cilium.io/type: with it set (ClusterIP, NodePort or
// LoadBalancer), only that type's frontends exist. Cilium ignores any other value.
func exposedTypes(svc *corev1.Service) func(corev1.ServiceType) bool {
	return func(typ corev1.ServiceType) bool { return ExposesType(svc, typ) }
}

// ExposesType reports whether Cilium gives the Service frontends of a type, as its
// service.cilium.io/type annotation allows.
func ExposesType(svc *corev1.Service, typ corev1.ServiceType) bool {
	v, ok := svc.Annotations[serviceTypeAnnotation]
	switch only := corev1.ServiceType(v); {
	case !ok:
	case only == corev1.ServiceTypeClusterIP, only == corev1.ServiceTypeNodePort, only == corev1.ServiceTypeLoadBalancer:
		return only == typ
	}
	return true
}

// Maintenance reports whether a slice's backends are in maintenance (weight 0): never active.
func Maintenance(es *discoveryv1.EndpointSlice) bool {
	v, ok := es.Annotations[endpointSliceWeightAnnotation]
	if !ok {
		return false
	}
	w, err := strconv.ParseUint(v, 10, 16)
	return err == nil && w == 0
}

// ActiveBackend: Cilium counts a ready endpoint (ready unset means ready) as active whether
// or not it is terminating (a ready terminating endpoint is published by
// publishNotReadyAddresses; kube-proxy does the same).
func ActiveBackend(ep discoveryv1.Endpoint) bool {
	return ep.Conditions.Ready == nil || *ep.Conditions.Ready
}

// EndpointNode is the node an endpoint runs on: nodeName, else the deprecated topology's
// hostname.
func EndpointNode(ep discoveryv1.Endpoint) string {
	if ep.NodeName != nil {
		return *ep.NodeName
	}
	return ep.DeprecatedTopology[corev1.LabelHostname]
}

// proxiedServices returns the Services ("namespace/name") that a CiliumEnvoyConfig or
// CiliumClusterwideEnvoyConfig applying to this node redirects to its Envoy.
func (t *translation) proxiedServices() map[string]bool {
	out, bad := ProxiedServices(t.snap, t.nodeLabels)
	for _, d := range bad {
		t.warn(d.Object, "spec.nodeSelector", "invalid selector: %v: ignored", d.Err)
	}
	return out
}

// BadSelector is an Envoy configuration whose node selector is invalid: it is ignored.
type BadSelector struct {
	Object model.ObjectRef
	Err    error
}

// ProxiedServices returns the Services ("namespace/name") that a CiliumEnvoyConfig or
// CiliumClusterwideEnvoyConfig applying to a node of nodeLabels redirects to its Envoy: their
// LoadBalancer IPs are served by the proxy, whatever their backends.
func ProxiedServices(snap *model.Snapshot, nodeLabels labels.Labels) (map[string]bool, []BadSelector) {
	out := map[string]bool{}
	var bad []BadSelector
	add := func(cec *model.CiliumEnvoyConfig, kind string, namespace func(model.EnvoyServiceListener) string) {
		sel, err := selectorOrEverything(cec.Spec.NodeSelector)
		if err != nil {
			bad = append(bad, BadSelector{Object: model.ObjectRef{Kind: kind, Namespace: cec.Namespace, Name: cec.Name}, Err: err})
			return
		}
		if !sel.Matches(nodeLabels) {
			return
		}
		for _, l := range cec.Spec.Services {
			out[namespace(l)+"/"+l.Name] = true
		}
	}
	for _, cec := range snap.EnvoyConfigs {
		// The namespaced kind redirects Services of its own namespace only.
		add(cec, model.KindCiliumEnvoyConfig, func(model.EnvoyServiceListener) string { return cec.Namespace })
	}
	for _, cec := range snap.ClusterwideEnvoyConfigs {
		add(cec, model.KindCiliumClusterwideEnvoyConfig, func(l model.EnvoyServiceListener) string {
			if l.Namespace == "" {
				return "default"
			}
			return l.Namespace
		})
	}
	return out, bad
}

// IsVIP reports whether Cilium has a frontend for a load balancer address: not one the load
// balancer proxies to the nodes (ipMode Proxy, KEP-1860).
func IsVIP(in corev1.LoadBalancerIngress) bool {
	return in.IPMode == nil || *in.IPMode == corev1.LoadBalancerIPModeVIP
}
