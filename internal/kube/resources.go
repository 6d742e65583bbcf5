package kube

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// The resources the translator reads, how each is cached and where it goes in the Snapshot.
// Cilium's objects arrive unstructured from the dynamic client and are converted, as they enter
// the cache, to the model's mirrored types; the built-in ones arrive as k8s.io/api types
// (protobuf, see Clients), or unstructured through a fake dynamic client. Both are stripped to
// what the translator reads.

// resource is one kind (model.Kinds) as the sidecar watches it.
type resource struct {
	*model.Kind
	// thisNode: only the object named after the node is watched (field selector). secrets:
	// only the BGP secrets namespace is watched.
	thisNode, secrets bool
	// unchanged, if set, tells an update that changes nothing the translator reads: no signal.
	unchanged func(old, new any) bool
	// optional: the API server may not serve the resource; then it is not watched.
	optional bool
	// strip strips an object of the kind's type of what the translator does not read.
	strip func(metav1.Object) metav1.Object
}

// resources are model.Kinds with how each is watched and stripped.
var resources = func() []resource {
	out := make([]resource, len(model.Kinds))
	for i, k := range model.Kinds {
		r, ok := watchedAs[k.Name]
		if !ok {
			panic("kube: no watch of kind " + k.Name)
		}
		r.Kind = k
		out[i] = r
	}
	return out
}()

// watchedAs says how each kind is watched (its resource is model.Kinds').
var watchedAs = map[string]resource{
	model.KindCiliumBGPClusterConfig:      {strip: stripping(stripMeta[*model.CiliumBGPClusterConfig])},
	model.KindCiliumBGPPeerConfig:         {strip: stripping(stripMeta[*model.CiliumBGPPeerConfig])},
	model.KindCiliumBGPAdvertisement:      {strip: stripping(stripMeta[*model.CiliumBGPAdvertisement])},
	model.KindCiliumBGPNodeConfigOverride: {strip: stripping(stripMeta[*model.CiliumBGPNodeConfigOverride])},
	model.KindCiliumPodIPPool:             {strip: stripping(stripMeta[*model.CiliumPodIPPool])},
	model.KindCiliumNode:                  {strip: stripping(stripCiliumNode), thisNode: true},
	model.KindNode:                        {strip: stripping(stripNode), thisNode: true},
	// The node's own CiliumBGPNodeConfig: whose it is, and the operator's router IDs. Its
	// status (the sidecar's own writes) changes nothing the translator reads.
	model.KindCiliumBGPNodeConfig: {strip: stripping(stripNodeConfig), thisNode: true, unchanged: sameOwnersAndSpec},
	model.KindService:             {strip: stripping(stripService)},
	model.KindEndpointSlice:       {strip: stripping(stripEndpointSlice)},
	model.KindSecret:              {strip: stripping(stripSecret), secrets: true},
	// Envoy redirects (Cilium's Ingress and Gateway API): optional, as a cluster may not
	// serve them.
	model.KindCiliumEnvoyConfig:            {strip: stripping(stripEnvoyConfig), optional: true},
	model.KindCiliumClusterwideEnvoyConfig: {strip: stripping(stripEnvoyConfig), optional: true},
}

// sameOwnersAndSpec signals a CiliumBGPNodeConfig's updates only when its owners or spec
// changed.
func sameOwnersAndSpec(old, new any) bool {
	a, ok1 := old.(*model.CiliumBGPNodeConfig)
	b, ok2 := new.(*model.CiliumBGPNodeConfig)
	return ok1 && ok2 && reflect.DeepEqual(a.OwnerReferences, b.OwnerReferences) && reflect.DeepEqual(a.Spec, b.Spec)
}

// stripping makes strip, a strip of one kind's type, take and return any object of the kind.
func stripping[P metav1.Object](strip func(P) P) func(metav1.Object) metav1.Object {
	return func(o metav1.Object) metav1.Object { return strip(o.(P)) }
}

// convert reads an object as the translator's type, stripped of what it does not read.
func (r resource) convert(u *unstructured.Unstructured) (metav1.Object, error) {
	// Through JSON, as manifests are decoded: the same types, the same rules.
	b, err := u.MarshalJSON()
	if err != nil {
		return nil, err
	}
	o := r.New()
	if err := json.Unmarshal(b, o); err != nil {
		return nil, err
	}
	return r.strip(o), nil
}

// transform is the informer's transform: an unstructured object converted to the translator's
// type, one decoded as that type (protobuf) stripped. It returns anything else (a tombstone, an
// object that could not be converted) unchanged. A transform may see an object twice: a strip
// of a stripped object is the same object.
func (r resource) transform() cache.TransformFunc {
	typ := reflect.TypeOf(r.New())
	return func(obj any) (any, error) {
		if o, ok := obj.(metav1.Object); ok && reflect.TypeOf(o) == typ {
			return r.strip(o), nil
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return obj, nil
		}
		o, err := r.convert(u)
		if err != nil {
			return &invalidObject{
				ObjectMeta: metav1.ObjectMeta{Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(), ResourceVersion: u.GetResourceVersion()},
				kind:       r.Name,
				err:        fmt.Errorf("cannot read it as %s %s: %w", r.GVR.GroupVersion(), r.Name, err),
			}, nil
		}
		return o, nil
	}
}

// invalidObject stands in the cache for an object that could not be converted, so that the
// watch goes on and the snapshot reports it (the API server validated it against the schema,
// so this takes a schema newer than the mirrored types).
type invalidObject struct {
	metav1.ObjectMeta
	kind string
	err  error
}

// stripMeta strips a Cilium kind, whose mirrored type holds only what the translator reads,
// of the metadata nobody reads: managed fields, annotations (kubectl's last-applied copy of
// the whole object among them), owners, finalizers.
func stripMeta[P metav1.Object](o P) P {
	o.SetManagedFields(nil)
	o.SetAnnotations(nil)
	o.SetOwnerReferences(nil)
	o.SetFinalizers(nil)
	return o
}

// stripCiliumNode keeps, of the annotations, Cilium 1.18's cilium.io/bgp-virtual-router ones
// (router ID and listening port per local ASN).
func stripCiliumNode(cn *model.CiliumNode) *model.CiliumNode {
	annotations := virtualRouterAnnotations(cn.Annotations)
	cn = stripMeta(cn)
	cn.Annotations = annotations
	return cn
}

// virtualRouterAnnotations returns the cilium.io/bgp-virtual-router annotations; nil if none.
func virtualRouterAnnotations(all map[string]string) map[string]string {
	var out map[string]string
	for k, v := range all {
		if strings.HasPrefix(k, "cilium.io/bgp-virtual-router") {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// strippedMeta is a copy of the metadata the translator, the cache and Events (the UID) use.
func strippedMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, Labels: m.Labels, ResourceVersion: m.ResourceVersion}
}

// The core kinds' strips. Each keeps exactly what internal/translate reads.

// serviceAnnotations are the Service annotations that decide Cilium's frontends.
var serviceAnnotations = []string{"service.cilium.io/type", "service.cilium.io/node", "service.cilium.io/node-selector"}

func stripService(svc *corev1.Service) *corev1.Service {
	meta := strippedMeta(&svc.ObjectMeta)
	meta.Annotations = keep(svc.Annotations, serviceAnnotations...)
	out := &corev1.Service{
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type:                  svc.Spec.Type,
			ClusterIP:             svc.Spec.ClusterIP,
			ClusterIPs:            svc.Spec.ClusterIPs,
			ExternalIPs:           svc.Spec.ExternalIPs,
			LoadBalancerClass:     svc.Spec.LoadBalancerClass,
			ExternalTrafficPolicy: svc.Spec.ExternalTrafficPolicy,
			InternalTrafficPolicy: svc.Spec.InternalTrafficPolicy,
		},
	}
	if in := svc.Status.LoadBalancer.Ingress; len(in) > 0 {
		ips := make([]corev1.LoadBalancerIngress, 0, len(in))
		for _, i := range in {
			if i.IP != "" {
				ips = append(ips, corev1.LoadBalancerIngress{IP: i.IP, IPMode: i.IPMode})
			}
		}
		out.Status.LoadBalancer.Ingress = ips
	}
	return out
}

// stripEndpointSlice keeps the owning Service's name and, per endpoint, what decides whether it
// is an active backend and where it runs.
func stripEndpointSlice(es *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	meta := strippedMeta(&es.ObjectMeta)
	meta.Labels = nil
	if name, ok := es.Labels[discoveryv1.LabelServiceName]; ok {
		meta.Labels = map[string]string{discoveryv1.LabelServiceName: name}
	}
	meta.Annotations = keep(es.Annotations, "service.cilium.io/weight")
	out := &discoveryv1.EndpointSlice{ObjectMeta: meta, AddressType: es.AddressType}
	if len(es.Endpoints) > 0 {
		out.Endpoints = make([]discoveryv1.Endpoint, len(es.Endpoints))
		for i, ep := range es.Endpoints {
			out.Endpoints[i] = discoveryv1.Endpoint{
				Conditions:         discoveryv1.EndpointConditions{Ready: ep.Conditions.Ready, Terminating: ep.Conditions.Terminating},
				NodeName:           ep.NodeName,
				DeprecatedTopology: keep(ep.DeprecatedTopology, corev1.LabelHostname),
			}
		}
	}
	return out
}

// stripEnvoyConfig keeps which Services it redirects on which nodes, never its Envoy resources.
func stripEnvoyConfig(cec *model.CiliumEnvoyConfig) *model.CiliumEnvoyConfig {
	return &model.CiliumEnvoyConfig{
		TypeMeta:   metav1.TypeMeta{Kind: cec.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: cec.Name, Namespace: cec.Namespace, UID: cec.UID, ResourceVersion: cec.ResourceVersion},
		Spec:       cec.Spec,
	}
}

// keep returns the entries of m under keys; nil if none.
func keep(m map[string]string, keys ...string) map[string]string {
	var out map[string]string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// stripNodeConfig keeps the owners and the spec.
func stripNodeConfig(nc *model.CiliumBGPNodeConfig) *model.CiliumBGPNodeConfig {
	return &model.CiliumBGPNodeConfig{
		ObjectMeta: metav1.ObjectMeta{Name: nc.Name, UID: nc.UID, ResourceVersion: nc.ResourceVersion, OwnerReferences: nc.OwnerReferences},
		Spec:       nc.Spec,
	}
}

func stripNode(n *corev1.Node) *corev1.Node {
	out := &corev1.Node{
		ObjectMeta: strippedMeta(&n.ObjectMeta),
		Status:     corev1.NodeStatus{Addresses: n.Status.Addresses},
	}
	out.Annotations = virtualRouterAnnotations(n.Annotations)
	return out
}

// stripSecret keeps the password key only: the secrets namespace (kube-system by default) holds
// many other Secrets, whose data the sidecar has no business caching.
func stripSecret(s *corev1.Secret) *corev1.Secret {
	out := &corev1.Secret{ObjectMeta: strippedMeta(&s.ObjectMeta), Type: s.Type}
	out.Labels = nil
	if v, ok := s.Data[model.PasswordKey]; ok {
		out.Data = map[string][]byte{model.PasswordKey: v}
	}
	return out
}
