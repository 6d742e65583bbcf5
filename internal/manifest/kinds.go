package manifest

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// kinds are the kinds the translator reads (model.Kinds), with what decoding them from a
// manifest needs. Any other type is skipped.
var kinds = func() []*kind {
	out := make([]*kind, len(model.Kinds))
	for i, mk := range model.Kinds {
		k := &kind{Kind: mk, apiVersions: []string{mk.GVR.GroupVersion().String()}, strict: !writtenByCilium[mk.Name]}
		if mk.GVR.Group == model.CiliumGroup {
			// v2alpha1 objects decode into the v2 types: the model keeps their extra
			// fields, and nothing else the model reads differs between the two versions.
			k.apiVersions = []string{"cilium.io/v2", "cilium.io/v2alpha1"}
		}
		if mk.Name == model.KindSecret {
			k.normalize = mergeStringData
		}
		out[i] = k
	}
	return out
}()

// writtenByCilium are the kinds whose model holds only what the translator reads: Cilium
// writes them, not users (see kind.strict).
var writtenByCilium = map[string]bool{
	model.KindCiliumNode:                   true,
	model.KindCiliumBGPNodeConfig:          true,
	model.KindCiliumEnvoyConfig:            true,
	model.KindCiliumClusterwideEnvoyConfig: true,
	model.KindCiliumPodIPPool:              true,
}

// kindsByType finds a kind by the apiVersion and kind of a manifest; kindsByName by its kind
// only, to tell a kept kind of another version from a kind that is not read.
var kindsByType, kindsByName = indexKinds(kinds)

var secretKind = kindsByName[model.KindSecret]

// object is what every kept kind is: Kubernetes metadata and a type.
type object interface {
	metav1.Object
	GetObjectKind() schema.ObjectKind
}

// kind is one kind the translator reads, with what the API server would have done to it
// before it reached a cache. Namespaced kinds default to the namespace "default"; the others
// are cluster-scoped and their names must be DNS-1123 subdomains, which the translator relies
// on (node names, peer config references, the DEFAULTS peer group).
type kind struct {
	*model.Kind
	apiVersions []string
	// normalize applies what the API server does on create, if anything.
	normalize func(object)
	// strict kinds have every field of their API in the model (but status, which no manifest
	// needs): a field the model lacks is one the API server would refuse, and is warned about.
	// The model holds only what the translator reads of the others (CiliumNode...), which
	// Cilium writes, not users.
	strict bool
}

func (k *kind) newObject() object { return k.New().(object) }

// get and set move the kind's objects out of and into a Snapshot.
func (k *kind) get(s *model.Snapshot) []object {
	objs := k.Objects(s)
	out := make([]object, len(objs))
	for i, o := range objs {
		out[i] = o.(object)
	}
	return out
}

func (k *kind) set(s *model.Snapshot, objs []object) {
	in := make([]metav1.Object, len(objs))
	for i, o := range objs {
		in[i] = o
	}
	k.SetObjects(s, in)
}

// ignoreUnknown reports whether an unknown field is left unsaid: status, which the model of
// Cilium's kinds leaves out and the API server takes from a status update only.
func (k *kind) ignoreUnknown(field string) bool {
	return field == "status" || strings.HasPrefix(field, "status.") || strings.HasPrefix(field, "status[")
}

// quote quotes a value of an object of kind k for a message, unless the object is a Secret.
func (k *kind) quote(s string) string {
	if k == secretKind {
		return "(withheld: the object is a Secret)"
	}
	return strconv.Quote(s)
}

// typeKey is an apiVersion and a kind, as a manifest spells them.
type typeKey struct{ apiVersion, kind string }

func indexKinds(kinds []*kind) (map[typeKey]*kind, map[string]*kind) {
	byType, byName := make(map[typeKey]*kind), make(map[string]*kind)
	for _, k := range kinds {
		byName[k.Name] = k
		for _, v := range k.apiVersions {
			byType[typeKey{v, k.Name}] = k
		}
	}
	return byType, byName
}

// mergeStringData does what the API server does on write: stringData is a write-only
// convenience whose keys override those of data.
func mergeStringData(o object) {
	s := o.(*corev1.Secret)
	if len(s.StringData) > 0 && s.Data == nil {
		s.Data = make(map[string][]byte, len(s.StringData))
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}
