package kube

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
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

// The informers of the built-in kinds list them, then watch from the list's version: they do
// not ask the API server to stream every object as a watch event first (watch-list, slower to
// start at 10,000 Services; see listThenWatch). The list asks for the latest version, whole:
// not whatever the API server's cache has (resourceVersion 0), nor in pages.
func TestBuiltinKindsListedThenWatched(t *testing.T) {
	lists := map[string]string{"services": "ServiceList", "endpointslices": "EndpointSliceList", "nodes": "NodeList", "secrets": "SecretList"}
	var mu sync.Mutex
	requests := map[string][]string{} // resource: the queries asked, in order
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resource := path.Base(r.URL.Path)
		q := r.URL.Query()
		mu.Lock()
		requests[resource] = append(requests[resource], q.Encode())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if q.Get("watch") == "true" {
			// No event, ever: an informer that waits for its initial events here never syncs.
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		apiVersion := "v1"
		if resource == "endpointslices" {
			apiVersion = "discovery.k8s.io/v1"
		}
		fmt.Fprintf(w, `{"kind":%q,"apiVersion":%q,"metadata":{"resourceVersion":"7"},"items":[]}`, lists[resource], apiVersion)
	}))
	// Closed after the Source has stopped, which ends the watches the handler holds.
	t.Cleanup(srv.Close)
	builtin, err := NewBuiltinClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	listKinds := map[schema.GroupVersionResource]string{}
	for _, r := range resources {
		listKinds[r.GVR] = r.Name + "List"
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds)
	ctx, cancel := context.WithCancel(context.Background())
	src, err := Start(ctx, Clients{Dynamic: dyn, Builtin: builtin}, Options{Node: "node-1", SecretsNamespace: "kube-system", Log: testr.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-src.Done()
	})
	synced := true
	select {
	case <-src.Changes():
	case <-time.After(10 * time.Second):
		synced = false
	}
	// Each kind's watch follows its list: wait for them, so that every kind shows both.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		watching := 0
		for resource := range lists {
			if slices.ContainsFunc(requests[resource], func(q string) bool { return strings.Contains(q, "watch=true") }) {
				watching++
			}
		}
		mu.Unlock()
		if watching == len(lists) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for resource := range lists {
		asked := requests[resource]
		if len(asked) < 2 || strings.Contains(asked[0], "watch=") || strings.Contains(asked[0], "resourceVersion=") ||
			strings.Contains(asked[0], "limit=") || !strings.Contains(asked[1], "watch=true") ||
			!strings.Contains(asked[1], "resourceVersion=7") || strings.Contains(asked[1], "sendInitialEvents") {
			t.Errorf("%s: asked %q, want a list of the latest version, whole, then a watch from its version 7 without initial events", resource, asked)
		}
	}
	if !synced {
		t.Error("the informers did not sync")
	}
}
