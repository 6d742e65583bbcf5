// Package snapshot keeps a model.Snapshot up to date object by object, for the sources that
// learn of changes one object at a time (an informer's event, a manifest file read again), and
// says what changed since the last Take (model.Changes).
//
// A kind is a field of model.Snapshot (Services, Nodes, ...), named by its index
// (model.Kind.Field): every field is a slice of pointers to an object type, and a new field
// needs nothing here. Adding, replacing or removing an object costs O(1). Take hands out a Snapshot whose slices are never
// modified afterwards: the slice of a kind that changed is made anew (a pointer per object),
// the others are shared with the previous Take.
//
// It must never copy or modify an object: objects belong to the source and are shared with
// every Snapshot handed out.
package snapshot

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// Kinds are the fields of model.Snapshot, by index.
var kinds = func() []reflect.StructField {
	t := reflect.TypeFor[model.Snapshot]()
	object := reflect.TypeFor[metav1.Object]()
	out := make([]reflect.StructField, t.NumField())
	for i := range out {
		f := t.Field(i)
		if f.Type.Kind() != reflect.Slice || !f.Type.Elem().Implements(object) {
			panic(fmt.Sprintf("snapshot: model.Snapshot.%s is not a slice of objects", f.Name))
		}
		out[i] = f
	}
	return out
}()

// The kinds model.Changes names one by one.
var (
	services       = kindNamed("Services")
	endpointSlices = kindNamed("EndpointSlices")
)

func kindNamed(name string) int {
	for i, f := range kinds {
		if f.Name == name {
			return i
		}
	}
	panic("snapshot: model.Snapshot has no field " + name)
}

// KindName is the name of kind's field in model.Snapshot.
func KindName(kind int) string { return kinds[kind].Name }

// KindOf returns the kind of the objects in the only non-empty field of s, for a source that
// learns a kind by putting an object into an empty Snapshot; false when not exactly one field
// holds objects.
func KindOf(s *model.Snapshot) (int, bool) {
	v := reflect.ValueOf(s).Elem()
	kind := -1
	for i := range kinds {
		if v.Field(i).Len() == 0 {
			continue
		}
		if kind >= 0 {
			return -1, false
		}
		kind = i
	}
	return kind, kind >= 0
}

// Each calls fn for every object of s, kind by kind in field order, each kind's objects in
// their order.
func Each(s *model.Snapshot, fn func(kind int, o metav1.Object)) {
	v := reflect.ValueOf(s).Elem()
	for i := range kinds {
		f := v.Field(i)
		for j := range f.Len() {
			fn(i, f.Index(j).Interface().(metav1.Object))
		}
	}
}

// Key is an object's namespace and name.
func Key(o metav1.Object) types.NamespacedName {
	return types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}
}

// Store holds the objects of a Snapshot by kind and key. It is not safe for concurrent use.
type Store struct {
	kinds   []objects
	last    model.Snapshot // the last Take's
	taken   bool           // Take was called
	changes model.Changes  // since the last Take
}

// objects are one kind's, in no particular order (the translator sorts what it emits).
type objects struct {
	items []metav1.Object
	index map[types.NamespacedName]int // into items
	dirty bool                         // changed since the last Take
}

// New returns an empty Store.
func New() *Store {
	s := &Store{kinds: make([]objects, len(kinds))}
	for i := range s.kinds {
		s.kinds[i].index = map[types.NamespacedName]int{}
	}
	return s
}

// Set adds o to its kind, or replaces the object of the same namespace and name.
func (s *Store) Set(kind int, o metav1.Object) {
	k := &s.kinds[kind]
	key := Key(o)
	if i, ok := k.index[key]; ok {
		k.items[i] = o
	} else {
		k.index[key] = len(k.items)
		k.items = append(k.items, o)
	}
	s.changed(kind, key, o)
}

// Delete removes the object of that kind, namespace and name, if there is one.
func (s *Store) Delete(kind int, key types.NamespacedName) {
	k := &s.kinds[kind]
	i, ok := k.index[key]
	if !ok {
		return
	}
	last := len(k.items) - 1
	if i != last {
		k.items[i] = k.items[last]
		k.index[Key(k.items[i])] = i
	}
	k.items[last] = nil
	k.items = k.items[:last]
	delete(k.index, key)
	s.changed(kind, key, nil)
}

// Get returns the object of that kind, namespace and name, or nil.
func (s *Store) Get(kind int, key types.NamespacedName) metav1.Object {
	k := &s.kinds[kind]
	if i, ok := k.index[key]; ok {
		return k.items[i]
	}
	return nil
}

// Len is the number of objects of a kind.
func (s *Store) Len(kind int) int { return len(s.kinds[kind].items) }

func (s *Store) changed(kind int, key types.NamespacedName, o metav1.Object) {
	s.kinds[kind].dirty = true
	c := &s.changes
	if c.All {
		return
	}
	switch kind {
	case services:
		if c.Services == nil {
			c.Services = map[types.NamespacedName]*corev1.Service{}
		}
		svc, _ := o.(*corev1.Service)
		c.Services[key] = svc
	case endpointSlices:
		if c.EndpointSlices == nil {
			c.EndpointSlices = map[types.NamespacedName]*discoveryv1.EndpointSlice{}
		}
		es, _ := o.(*discoveryv1.EndpointSlice)
		c.EndpointSlices[key] = es
	default:
		c.Other = true
	}
}

// Take returns the Snapshot of the objects held now and what changed since the last Take (the
// first: everything). The Snapshot is never modified afterwards.
func (s *Store) Take() (*model.Snapshot, model.Changes) {
	ch := s.changes
	if !s.taken {
		ch = model.AllChanged
		s.taken = true
	}
	s.changes = model.Changes{}
	v := reflect.ValueOf(&s.last).Elem()
	for i := range s.kinds {
		k := &s.kinds[i]
		if !k.dirty {
			continue
		}
		k.dirty = false
		v.Field(i).Set(typedSlice(kinds[i].Type, k.items))
	}
	snap := s.last
	return &snap, ch
}

// typedSlice copies items into a new slice of type t ([]*T).
func typedSlice(t reflect.Type, items []metav1.Object) reflect.Value {
	// The two kinds that count in thousands, without reflection per object.
	switch t {
	case reflect.TypeFor[[]*corev1.Service]():
		out := make([]*corev1.Service, len(items))
		for i, o := range items {
			out[i] = o.(*corev1.Service)
		}
		return reflect.ValueOf(out)
	case reflect.TypeFor[[]*discoveryv1.EndpointSlice]():
		out := make([]*discoveryv1.EndpointSlice, len(items))
		for i, o := range items {
			out[i] = o.(*discoveryv1.EndpointSlice)
		}
		return reflect.ValueOf(out)
	}
	out := reflect.MakeSlice(t, len(items), len(items))
	for i, o := range items {
		out.Index(i).Set(reflect.ValueOf(o))
	}
	return out
}
