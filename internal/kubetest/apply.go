package kubetest

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// Apply applies the YAML documents of data (named name in messages) server-side, as
// fieldManager, with strict field validation: an unknown or duplicate field, a kind the server
// does not serve or an object its schema refuses fails the test, naming the object. An object's
// status is applied too, through the status subresource. Namespaced objects without a
// namespace go to "default". It returns the objects as the server has them.
func (s *Server) Apply(t testing.TB, name string, data []byte, fieldManager string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := s.ApplyObjects(t.Context(), name, data, fieldManager)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return objs
}

// ApplyObjects is Apply returning its error, for tests of what the server refuses. It stops at
// the first object refused.
func (s *Server) ApplyObjects(ctx context.Context, name string, data []byte, fieldManager string) ([]*unstructured.Unstructured, error) {
	objs, err := decodeObjects(name, data)
	if err != nil {
		return nil, err
	}
	disco, err := discovery.NewDiscoveryClientForConfig(s.admin)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disco))
	client, err := dynamic.NewForConfig(s.admin)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, o := range objs {
		got, err := apply(ctx, mapper, client, o, fieldManager)
		if err != nil {
			return out, fmt.Errorf("%s: %s %s/%s: %w", name, o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		out = append(out, got)
	}
	return out, nil
}

func apply(ctx context.Context, mapper meta.RESTMapper, client dynamic.Interface, o *unstructured.Unstructured, fieldManager string) (*unstructured.Unstructured, error) {
	gvk := o.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("not served: %w", err)
	}
	var r dynamic.ResourceInterface = client.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if o.GetNamespace() == "" {
			o.SetNamespace(metav1.NamespaceDefault)
		}
		r = client.Resource(m.Resource).Namespace(o.GetNamespace())
	}
	data, err := o.MarshalJSON()
	if err != nil {
		return nil, err
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: fieldManager, Force: &force, FieldValidation: metav1.FieldValidationStrict}
	got, err := r.Patch(ctx, o.GetName(), types.ApplyPatchType, data, opts)
	if err != nil {
		return nil, err
	}
	// A status (a Service's load-balancer ingress, say) is written through its subresource: what
	// a controller would have set.
	if _, ok := o.Object["status"]; ok {
		if got, err = r.Patch(ctx, o.GetName(), types.ApplyPatchType, data, opts, "status"); err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
	}
	return got, nil
}
