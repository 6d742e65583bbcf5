package model

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Every field of Snapshot is one kind's, in order, and a kind's objects go to its field.
func TestKindsAreSnapshotFields(t *testing.T) {
	fields := reflect.TypeFor[Snapshot]().NumField()
	if len(Kinds) != fields {
		t.Fatalf("%d kinds for the %d fields of Snapshot", len(Kinds), fields)
	}
	for i, k := range Kinds {
		if k.Field != i {
			t.Errorf("kind %s: field %d (%s), want %d (%s): Kinds are in the order of Snapshot's fields",
				k.Name, k.Field, reflect.TypeFor[Snapshot]().Field(k.Field).Name, i, reflect.TypeFor[Snapshot]().Field(i).Name)
		}
		if KindNamed(k.Name) != k {
			t.Errorf("KindNamed(%q) is not the kind of that name", k.Name)
		}
		var s Snapshot
		o := k.New()
		o.SetName("x")
		k.SetObjects(&s, []metav1.Object{o})
		got := k.Objects(&s)
		if len(got) != 1 || got[0] != o {
			t.Errorf("kind %s: Objects after SetObjects of one object: %v", k.Name, got)
		}
		if n := reflect.ValueOf(s).Field(i).Len(); n != 1 {
			t.Errorf("kind %s: field %s holds %d objects, want the one set", k.Name, reflect.TypeFor[Snapshot]().Field(i).Name, n)
		}
	}
	if KindNamed("Interface") != nil {
		t.Error("KindNamed(\"Interface\") is a kind: it is no resource")
	}
}
