package manifest

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// kinds are the kinds the translator reads. Any other type is skipped.
var kinds = []*kind{
	// v2alpha1 objects decode into the v2 types: the model keeps their extra fields, and
	// nothing else the model reads differs between the two versions.
	kindOf("CiliumBGPClusterConfig", cilium, scope{strict: true}, func(s *model.Snapshot) *[]*model.CiliumBGPClusterConfig { return &s.ClusterConfigs }),
	kindOf("CiliumBGPPeerConfig", cilium, scope{strict: true}, func(s *model.Snapshot) *[]*model.CiliumBGPPeerConfig { return &s.PeerConfigs }),
	kindOf("CiliumBGPAdvertisement", cilium, scope{strict: true}, func(s *model.Snapshot) *[]*model.CiliumBGPAdvertisement { return &s.Advertisements }),
	kindOf("CiliumBGPNodeConfigOverride", cilium, scope{strict: true}, func(s *model.Snapshot) *[]*model.CiliumBGPNodeConfigOverride { return &s.NodeOverrides }),
	kindOf("CiliumNode", cilium, scope{}, func(s *model.Snapshot) *[]*model.CiliumNode { return &s.CiliumNodes }),
	kindOf("CiliumBGPNodeConfig", cilium, scope{}, func(s *model.Snapshot) *[]*model.CiliumBGPNodeConfig { return &s.NodeConfigs }),
	kindOf("CiliumEnvoyConfig", cilium, scope{namespaced: true}, func(s *model.Snapshot) *[]*model.CiliumEnvoyConfig { return &s.EnvoyConfigs }),
	kindOf("CiliumClusterwideEnvoyConfig", cilium, scope{}, func(s *model.Snapshot) *[]*model.CiliumEnvoyConfig { return &s.ClusterwideEnvoyConfigs }),
	kindOf("CiliumPodIPPool", cilium, scope{}, func(s *model.Snapshot) *[]*model.CiliumPodIPPool { return &s.PodIPPools }),
	kindOf("Node", core, scope{strict: true}, func(s *model.Snapshot) *[]*corev1.Node { return &s.Nodes }),
	kindOf("Service", core, scope{namespaced: true, strict: true}, func(s *model.Snapshot) *[]*corev1.Service { return &s.Services }),
	kindOf("EndpointSlice", discovery, scope{namespaced: true, strict: true}, func(s *model.Snapshot) *[]*discoveryv1.EndpointSlice { return &s.EndpointSlices }),
	secretKind,
}

// kindsByType finds a kind by the apiVersion and kind of a manifest; kindsByName by its kind
// only, to tell a kept kind of another version from a kind that is not read.
var kindsByType, kindsByName = indexKinds(kinds)

var secretKind = kindOf("Secret", core, scope{namespaced: true, strict: true, normalize: mergeStringData}, func(s *model.Snapshot) *[]*corev1.Secret { return &s.Secrets })

var (
	cilium    = []string{"cilium.io/v2", "cilium.io/v2alpha1"}
	core      = []string{"v1"}
	discovery = []string{"discovery.k8s.io/v1"}
)

// object is what every kept kind is: Kubernetes metadata and a type.
type object interface {
	metav1.Object
	GetObjectKind() schema.ObjectKind
}

// kind is one kind the translator reads: where it goes in the Snapshot and what the API
// server would have done to it before it reached a cache.
type kind struct {
	name        string
	apiVersions []string
	scope
	newObject func() object
	// get and set move the kind's objects out of and into a Snapshot.
	get func(*model.Snapshot) []object
	set func(*model.Snapshot, []object)
}

// scope holds the rules that differ between kinds.
type scope struct {
	// namespaced kinds default to the namespace "default"; the others are cluster-scoped and
	// their names must be DNS-1123 subdomains, which the translator relies on (node names,
	// peer config references, the DEFAULTS peer group).
	namespaced bool
	// normalize applies what the API server does on create, if anything.
	normalize func(object)
	// strict kinds have every field of their API in the model (but status, which no manifest
	// needs): a field the model lacks is one the API server would refuse, and is warned about.
	// The model holds only what the translator reads of the others (CiliumNode...), which
	// Cilium writes, not users.
	strict bool
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
		byName[k.name] = k
		for _, v := range k.apiVersions {
			byType[typeKey{v, k.name}] = k
		}
	}
	return byType, byName
}

// kindOf builds a kind whose objects are *T, kept in the Snapshot field that field returns.
func kindOf[T any, P interface {
	*T
	object
}](name string, apiVersions []string, sc scope, field func(*model.Snapshot) *[]P) *kind {
	return &kind{
		name:        name,
		apiVersions: apiVersions,
		scope:       sc,
		newObject:   func() object { return P(new(T)) },
		get: func(s *model.Snapshot) []object {
			objs := make([]object, len(*field(s)))
			for i, o := range *field(s) {
				objs[i] = o
			}
			return objs
		},
		set: func(s *model.Snapshot, objs []object) {
			var typed []P
			for _, o := range objs {
				typed = append(typed, o.(P))
			}
			*field(s) = typed
		},
	}
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
