package kube

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
)

// The built-in kinds, and only they, are watched in protobuf, each as the type the translator
// reads: the scheme's type for the kind.
func TestBuiltinClientWatchesTheBuiltinKinds(t *testing.T) {
	b, err := NewBuiltinClient(&rest.Config{Host: "https://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	scheme, err := builtinScheme()
	if err != nil {
		t.Fatal(err)
	}
	builtin := map[string]bool{}
	for _, r := range resources {
		gvk := r.GVR.GroupVersion().WithKind(r.Name)
		if got, want := b.serves(r.GVR), scheme.Recognizes(gvk); got != want {
			t.Errorf("%s: watched in protobuf %v, want %v (the scheme knows %s: %v)", r.Name, got, want, gvk, want)
		}
		if !b.serves(r.GVR) {
			continue
		}
		builtin[r.Name] = true
		o, err := scheme.New(gvk)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := r.New().(runtime.Object); !ok {
			t.Errorf("%s: %T is not a runtime.Object", r.Name, r.New())
		}
		if got, want := fmt.Sprintf("%T", r.New()), fmt.Sprintf("%T", o); got != want {
			t.Errorf("%s: the translator reads %s, protobuf decodes %s", r.Name, got, want)
		}
	}
	for _, k := range []string{"Service", "EndpointSlice", "Node", "Secret"} {
		if !builtin[k] {
			t.Errorf("%s is not watched in protobuf", k)
		}
	}
	var nilClient *BuiltinClient
	if nilClient.serves(resources[0].GVR) {
		t.Error("a nil BuiltinClient serves a resource")
	}
}

// An object decoded as its type (protobuf) enters the cache as the same object as one that
// arrived unstructured (JSON): the transform strips both alike, and a stripped object again to
// itself.
func TestTransformTypedAsUnstructured(t *testing.T) {
	snap := unstripped()
	n := 0
	for _, r := range resources {
		for _, o := range r.Objects(snap) {
			u := unstructuredOf(t, o)
			transform := r.transform()
			fromJSON, err := transform(u)
			if err != nil {
				t.Fatal(err)
			}
			typed := r.New()
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
				t.Fatal(err)
			}
			fromTyped, err := transform(typed)
			if err != nil {
				t.Fatal(err)
			}
			again, err := transform(fromTyped)
			if err != nil {
				t.Fatal(err)
			}
			want := jsonOf(t, fromJSON)
			if got := jsonOf(t, fromTyped); got != want {
				t.Errorf("%s %s: decoded as its type, cached as\n%s\nunstructured, as\n%s", r.Name, o.GetName(), got, want)
			}
			if got := jsonOf(t, again); got != want {
				t.Errorf("%s %s: transformed twice, cached as\n%s\nonce, as\n%s", r.Name, o.GetName(), got, want)
			}
			n++
		}
	}
	if n < 5 {
		t.Fatalf("only %d objects compared", n)
	}
	// A tombstone passes unchanged.
	tomb := struct{ Key string }{"prod/web"}
	for _, r := range resources {
		if got, _ := r.transform()(tomb); got != any(tomb) {
			t.Errorf("%s: a tombstone became %v", r.Name, got)
		}
	}
}
