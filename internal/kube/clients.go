package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Clients are the API clients a Source watches through.
type Clients struct {
	// Dynamic watches Cilium's kinds: custom resources, which the API server serves in JSON
	// only.
	Dynamic dynamic.Interface
	// Builtin, when set, watches the built-in kinds (Services, EndpointSlices, Nodes, Secrets)
	// in protobuf; when nil, Dynamic watches them too (the unit tests' fakes).
	//
	// Why: at 10,000 Services the informers' first list, in JSON decoded to unstructured maps
	// and converted, was most of the sidecar's start. Protobuf decodes straight into the
	// k8s.io/api types the translator reads.
	Builtin *BuiltinClient
}

// NewClients makes the dynamic client and the protobuf client of cfg.
func NewClients(cfg *rest.Config) (Clients, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return Clients{}, fmt.Errorf("dynamic client: %w", err)
	}
	builtin, err := NewBuiltinClient(cfg)
	if err != nil {
		return Clients{}, err
	}
	return Clients{Dynamic: dyn, Builtin: builtin}, nil
}

// BuiltinClient lists and watches the built-in kinds the translator reads, in protobuf. It is
// one REST client per API group version over a scheme of just those groups: the typed clientset
// would bring every API group of Kubernetes into the binary (see Start).
type BuiltinClient struct {
	clients map[schema.GroupVersion]rest.Interface
	params  runtime.ParameterCodec
}

// builtinScheme knows the groups of the built-in kinds the translator reads.
func builtinScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, discoveryv1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// NewBuiltinClient makes the protobuf clients of cfg.
func NewBuiltinClient(cfg *rest.Config) (*BuiltinClient, error) {
	scheme, err := builtinScheme()
	if err != nil {
		return nil, fmt.Errorf("kube: the built-in kinds' scheme: %w", err)
	}
	codecs := serializer.NewCodecFactory(scheme)
	b := &BuiltinClient{clients: map[schema.GroupVersion]rest.Interface{}, params: runtime.NewParameterCodec(scheme)}
	for _, gv := range []schema.GroupVersion{corev1.SchemeGroupVersion, discoveryv1.SchemeGroupVersion} {
		c := rest.CopyConfig(cfg)
		c.GroupVersion = &gv
		c.APIPath = "/apis"
		if gv.Group == "" {
			c.APIPath = "/api"
		}
		c.ContentType = runtime.ContentTypeProtobuf
		c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
		c.NegotiatedSerializer = codecs.WithoutConversion()
		rc, err := rest.RESTClientFor(c)
		if err != nil {
			return nil, fmt.Errorf("kube: %s client: %w", gv, err)
		}
		b.clients[gv] = rc
	}
	return b, nil
}

// serves reports whether b lists and watches gvr.
func (b *BuiltinClient) serves(gvr schema.GroupVersionResource) bool {
	return b != nil && b.clients[gvr.GroupVersion()] != nil
}

// lister lists and watches gvr in namespace ns ("" all).
func (b *BuiltinClient) lister(gvr schema.GroupVersionResource, ns string) lister {
	c := b.clients[gvr.GroupVersion()]
	return lister{
		list: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return c.Get().Namespace(ns).Resource(gvr.Resource).VersionedParams(&o, b.params).Do(ctx).Get()
		},
		watch: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.Watch = true
			return c.Get().Namespace(ns).Resource(gvr.Resource).VersionedParams(&o, b.params).Watch(ctx)
		},
	}
}
