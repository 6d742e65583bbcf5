package translate

import (
	"strconv"

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
	if name, ok := svc.Labels[serviceProxyNameLabel]; t.opts.ServiceProxyName == "" && ok || t.opts.ServiceProxyName != "" && name != t.opts.ServiceProxyName {
		return false
	}
	if _, ok := svc.Labels[corev1.IsHeadlessService]; ok || svc.Spec.ClusterIP == corev1.ClusterIPNone || svc.Spec.ClusterIP == "none" {
		return false
	}
	return t.exposedOnNode(svc)
}

// exposedOnNode applies service.cilium.io/node-selector (which wins) and service.cilium.io/node
// to the node's labels. A selector Cilium cannot parse is ignored, as Cilium ignores it.
func (t *translation) exposedOnNode(svc *corev1.Service) bool {
	ref := model.ObjectRef{Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}
	if v, ok := svc.Annotations[serviceNodeSelectorAnnotation]; ok {
		sel, err := labels.Parse(v)
		if err != nil {
			t.warn(ref, "metadata.annotations["+serviceNodeSelectorAnnotation+"]", "not a label selector (%v): ignored, as Cilium ignores it", err)
			return true
		}
		return sel.Matches(t.nodeLabels)
	}
	if v, ok := svc.Annotations[serviceNodeAnnotation]; ok {
		return t.nodeLabels.Has(serviceNodeAnnotation) && t.nodeLabels.Get(serviceNodeAnnotation) == v
	}
	return true
}

// exposedTypes reads service.cilium.io/type: with it set (ClusterIP, NodePort or
// LoadBalancer), only that type's frontends exist. Cilium ignores any other value.
func exposedTypes(svc *corev1.Service) func(corev1.ServiceType) bool {
	v, ok := svc.Annotations[serviceTypeAnnotation]
	switch typ := corev1.ServiceType(v); {
	case !ok:
	case typ == corev1.ServiceTypeClusterIP, typ == corev1.ServiceTypeNodePort, typ == corev1.ServiceTypeLoadBalancer:
		return func(t corev1.ServiceType) bool { return t == typ }
	}
	return func(corev1.ServiceType) bool { return true }
}

// maintenance reports whether a slice's backends are in maintenance (weight 0): never active.
func maintenance(es *discoveryv1.EndpointSlice) bool {
	v, ok := es.Annotations[endpointSliceWeightAnnotation]
	if !ok {
		return false
	}
	w, err := strconv.ParseUint(v, 10, 16)
	return err == nil && w == 0
}

// activeBackend: Cilium counts a ready endpoint (ready unset means ready) as active whether
// or not it is terminating (a ready terminating endpoint is published by
// publishNotReadyAddresses; kube-proxy does the same).
func activeBackend(ep discoveryv1.Endpoint) bool {
	return ep.Conditions.Ready == nil || *ep.Conditions.Ready
}

// endpointNode is the node an endpoint runs on: nodeName, else the deprecated topology's
// hostname.
func endpointNode(ep discoveryv1.Endpoint) string {
	if ep.NodeName != nil {
		return *ep.NodeName
	}
	return ep.DeprecatedTopology[corev1.LabelHostname]
}

// proxiedServices returns the Services ("namespace/name") that a CiliumEnvoyConfig or
// CiliumClusterwideEnvoyConfig applying to this node redirects to its Envoy.
func (t *translation) proxiedServices() map[string]bool {
	out := map[string]bool{}
	add := func(cec *model.CiliumEnvoyConfig, kind string, namespace func(model.EnvoyServiceListener) string) {
		sel, err := selectorOrEverything(cec.Spec.NodeSelector)
		if err != nil {
			t.warn(model.ObjectRef{Kind: kind, Namespace: cec.Namespace, Name: cec.Name}, "spec.nodeSelector", "invalid selector: %v: ignored", err)
			return
		}
		if !sel.Matches(t.nodeLabels) {
			return
		}
		for _, l := range cec.Spec.Services {
			out[namespace(l)+"/"+l.Name] = true
		}
	}
	for _, cec := range t.snap.EnvoyConfigs {
		// The namespaced kind redirects Services of its own namespace only.
		add(cec, model.KindCiliumEnvoyConfig, func(model.EnvoyServiceListener) string { return cec.Namespace })
	}
	for _, cec := range t.snap.ClusterwideEnvoyConfigs {
		add(cec, model.KindCiliumClusterwideEnvoyConfig, func(l model.EnvoyServiceListener) string {
			if l.Namespace == "" {
				return "default"
			}
			return l.Namespace
		})
	}
	return out
}
