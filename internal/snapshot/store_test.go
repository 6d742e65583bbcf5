package snapshot

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

func svc(ns, name, ip string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{ClusterIP: ip}}
}

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

func kindOf(t *testing.T, put func(*model.Snapshot)) int {
	t.Helper()
	var s model.Snapshot
	put(&s)
	k, ok := KindOf(&s)
	if !ok {
		t.Fatal("KindOf: no single kind")
	}
	return k
}

func TestStore(t *testing.T) {
	services := kindOf(t, func(s *model.Snapshot) { s.Services = []*corev1.Service{svc("a", "b", "")} })
	slicesKind := kindOf(t, func(s *model.Snapshot) { s.EndpointSlices = []*discoveryv1.EndpointSlice{{}} })
	nodes := kindOf(t, func(s *model.Snapshot) { s.Nodes = []*corev1.Node{{}} })
	if KindName(services) != "Services" || KindName(nodes) != "Nodes" {
		t.Fatalf("kind names %q %q", KindName(services), KindName(nodes))
	}

	st := New()
	a, b, c := svc("ns", "a", "1"), svc("ns", "b", "2"), svc("ns", "c", "3")
	st.Set(services, a)
	st.Set(services, b)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	st.Set(nodes, node)
	snap, ch := st.Take()
	if !ch.All {
		t.Errorf("first Take: %+v, want All", ch)
	}
	assertServices(t, snap, a, b)
	if len(snap.Nodes) != 1 || snap.Nodes[0] != node {
		t.Errorf("nodes %v", snap.Nodes)
	}

	// Nothing changed: nothing said, slices shared.
	snap2, ch := st.Take()
	if !ch.Empty() {
		t.Errorf("no change: %+v", ch)
	}
	if &snap2.Services[0] != &snap.Services[0] {
		t.Error("an unchanged kind's slice was made anew")
	}

	// Replace a, add c, remove b: only Services named, the earlier snapshot untouched.
	a2 := svc("ns", "a", "9")
	st.Set(services, a2)
	st.Set(services, c)
	st.Delete(services, key("ns", "b"))
	st.Delete(services, key("ns", "nope"))
	snap3, ch := st.Take()
	if ch.All || ch.Other || len(ch.EndpointSlices) != 0 {
		t.Errorf("changes %+v", ch)
	}
	want := map[types.NamespacedName]*corev1.Service{key("ns", "a"): a2, key("ns", "c"): c, key("ns", "b"): nil}
	if !reflect.DeepEqual(ch.Services, want) {
		t.Errorf("changed Services %v, want %v", ch.Services, want)
	}
	assertServices(t, snap3, a2, c)
	assertServices(t, snap, a, b)
	if st.Get(services, key("ns", "c")) != c || st.Get(services, key("ns", "b")) != nil || st.Len(services) != 2 {
		t.Error("Get or Len disagree with the snapshot")
	}

	// An EndpointSlice is named; another kind is Other.
	es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a-1"}}
	st.Set(slicesKind, es)
	st.Delete(nodes, key("", "n1"))
	snap4, ch := st.Take()
	if !ch.Other || ch.EndpointSlices[key("ns", "a-1")] != es || len(ch.Services) != 0 {
		t.Errorf("changes %+v", ch)
	}
	if len(snap4.Nodes) != 0 || len(snap4.EndpointSlices) != 1 {
		t.Errorf("snapshot %+v", snap4)
	}
}

func assertServices(t *testing.T, snap *model.Snapshot, want ...*corev1.Service) {
	t.Helper()
	got := slices.Clone(snap.Services)
	less := func(a, b *corev1.Service) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	}
	slices.SortFunc(got, less)
	want = slices.Clone(want)
	slices.SortFunc(want, less)
	if !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}
}

// Every field of model.Snapshot is a kind: Each visits them all.
func TestEachKind(t *testing.T) {
	var s model.Snapshot
	v := reflect.ValueOf(&s).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		elem := reflect.New(f.Type().Elem().Elem())
		f.Set(reflect.Append(f, elem))
	}
	seen := map[int]bool{}
	Each(&s, func(kind int, o metav1.Object) { seen[kind] = true })
	if len(seen) != v.NumField() {
		t.Errorf("Each visited %d kinds of %d", len(seen), v.NumField())
	}
	if _, ok := KindOf(&s); ok {
		t.Error("KindOf found a single kind in a snapshot with all of them")
	}
}

func TestChangesAdd(t *testing.T) {
	var c model.Changes
	c.Add(model.Changes{Services: map[types.NamespacedName]*corev1.Service{key("a", "b"): nil}})
	c.Add(model.Changes{Other: true})
	if !c.Other || len(c.Services) != 1 {
		t.Errorf("%+v", c)
	}
	c.Add(model.AllChanged)
	if !c.All || c.Services != nil {
		t.Errorf("%+v", c)
	}
	c.Add(model.Changes{Other: true})
	if !c.All {
		t.Errorf("%+v", c)
	}
}
