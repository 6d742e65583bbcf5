package model

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The kinds frr-renderer reads, as the API and manifests spell them.
const (
	KindCiliumBGPClusterConfig       = "CiliumBGPClusterConfig"
	KindCiliumBGPPeerConfig          = "CiliumBGPPeerConfig"
	KindCiliumBGPAdvertisement       = "CiliumBGPAdvertisement"
	KindCiliumBGPNodeConfigOverride  = "CiliumBGPNodeConfigOverride"
	KindCiliumBGPNodeConfig          = "CiliumBGPNodeConfig"
	KindCiliumNode                   = "CiliumNode"
	KindCiliumPodIPPool              = "CiliumPodIPPool"
	KindCiliumEnvoyConfig            = "CiliumEnvoyConfig"
	KindCiliumClusterwideEnvoyConfig = "CiliumClusterwideEnvoyConfig"
	KindNode                         = "Node"
	KindService                      = "Service"
	KindEndpointSlice                = "EndpointSlice"
	KindSecret                       = "Secret"
)

// Kind is one kind frr-renderer reads: its API resource and its field of Snapshot. The
// sources (manifest, kube) add what only they need to know of it.
type Kind struct {
	Name string
	// GVR is the resource the sidecar watches. Cilium's kinds are watched as cilium.io/v2,
	// the storage version (the API server serves v2alpha1 objects as v2), but
	// CiliumPodIPPool: every Cilium release (1.14 to 1.20) serves it as cilium.io/v2alpha1
	// only, and watching v2 would never sync and would hold FRR's configuration back forever.
	GVR        schema.GroupVersionResource
	Namespaced bool
	// Field is the index in Snapshot of the field that holds the kind's objects, the kind's
	// number in package snapshot.
	Field int

	newObject  func() metav1.Object
	objects    func(*Snapshot) []metav1.Object
	setObjects func(*Snapshot, []metav1.Object)
}

// New returns an empty object of the kind's type.
func (k *Kind) New() metav1.Object { return k.newObject() }

// Objects returns the kind's objects in s.
func (k *Kind) Objects(s *Snapshot) []metav1.Object { return k.objects(s) }

// SetObjects replaces the kind's objects in s; every object must be of the kind's type.
func (k *Kind) SetObjects(s *Snapshot, objs []metav1.Object) { k.setObjects(s, objs) }

var (
	ciliumV2       = schema.GroupVersion{Group: CiliumGroup, Version: CiliumVersion}
	ciliumV2alpha1 = schema.GroupVersion{Group: CiliumGroup, Version: "v2alpha1"}
	coreV1         = schema.GroupVersion{Version: "v1"}
	discoveryV1    = schema.GroupVersion{Group: "discovery.k8s.io", Version: "v1"}
)

// Kinds are the kinds frr-renderer reads, in the order of Snapshot's fields: one per field.
var Kinds = []*Kind{
	kindOf(KindCiliumBGPClusterConfig, ciliumV2.WithResource("ciliumbgpclusterconfigs"), false, func(s *Snapshot) *[]*CiliumBGPClusterConfig { return &s.ClusterConfigs }),
	kindOf(KindCiliumBGPPeerConfig, ciliumV2.WithResource("ciliumbgppeerconfigs"), false, func(s *Snapshot) *[]*CiliumBGPPeerConfig { return &s.PeerConfigs }),
	kindOf(KindCiliumBGPAdvertisement, ciliumV2.WithResource("ciliumbgpadvertisements"), false, func(s *Snapshot) *[]*CiliumBGPAdvertisement { return &s.Advertisements }),
	kindOf(KindCiliumBGPNodeConfigOverride, ciliumV2.WithResource("ciliumbgpnodeconfigoverrides"), false, func(s *Snapshot) *[]*CiliumBGPNodeConfigOverride { return &s.NodeOverrides }),
	kindOf(KindCiliumNode, ciliumV2.WithResource("ciliumnodes"), false, func(s *Snapshot) *[]*CiliumNode { return &s.CiliumNodes }),
	kindOf(KindCiliumPodIPPool, ciliumV2alpha1.WithResource("ciliumpodippools"), false, func(s *Snapshot) *[]*CiliumPodIPPool { return &s.PodIPPools }),
	kindOf(KindNode, coreV1.WithResource("nodes"), false, func(s *Snapshot) *[]*corev1.Node { return &s.Nodes }),
	kindOf(KindService, coreV1.WithResource("services"), true, func(s *Snapshot) *[]*corev1.Service { return &s.Services }),
	kindOf(KindEndpointSlice, discoveryV1.WithResource("endpointslices"), true, func(s *Snapshot) *[]*discoveryv1.EndpointSlice { return &s.EndpointSlices }),
	kindOf(KindSecret, coreV1.WithResource("secrets"), true, func(s *Snapshot) *[]*corev1.Secret { return &s.Secrets }),
	kindOf(KindCiliumBGPNodeConfig, ciliumV2.WithResource(ResourceCiliumBGPNodeConfigs), false, func(s *Snapshot) *[]*CiliumBGPNodeConfig { return &s.NodeConfigs }),
	kindOf(KindCiliumEnvoyConfig, ciliumV2.WithResource("ciliumenvoyconfigs"), true, func(s *Snapshot) *[]*CiliumEnvoyConfig { return &s.EnvoyConfigs }),
	kindOf(KindCiliumClusterwideEnvoyConfig, ciliumV2.WithResource("ciliumclusterwideenvoyconfigs"), false, func(s *Snapshot) *[]*CiliumEnvoyConfig { return &s.ClusterwideEnvoyConfigs }),
}

var kindsByName = func() map[string]*Kind {
	m := make(map[string]*Kind, len(Kinds))
	for _, k := range Kinds {
		m[k.Name] = k
	}
	return m
}()

// KindNamed returns the kind of that name; nil when frr-renderer does not read it.
func KindNamed(name string) *Kind { return kindsByName[name] }

// kindOf builds the kind whose objects are *T, kept in the Snapshot field that field returns.
func kindOf[T any, P interface {
	*T
	metav1.Object
}](name string, gvr schema.GroupVersionResource, namespaced bool, field func(*Snapshot) *[]P) *Kind {
	return &Kind{
		Name:       name,
		GVR:        gvr,
		Namespaced: namespaced,
		Field:      fieldIndex(name, func(s *Snapshot) any { return field(s) }),
		newObject:  func() metav1.Object { return P(new(T)) },
		objects: func(s *Snapshot) []metav1.Object {
			objs := make([]metav1.Object, len(*field(s)))
			for i, o := range *field(s) {
				objs[i] = o
			}
			return objs
		},
		setObjects: func(s *Snapshot, objs []metav1.Object) {
			var typed []P
			for _, o := range objs {
				typed = append(typed, o.(P))
			}
			*field(s) = typed
		},
	}
}

// fieldIndex is the index of the Snapshot field whose address field returns.
func fieldIndex(name string, field func(*Snapshot) any) int {
	var s Snapshot
	v := reflect.ValueOf(&s).Elem()
	addr := reflect.ValueOf(field(&s)).Pointer()
	for i := range v.NumField() {
		if v.Field(i).Addr().Pointer() == addr {
			return i
		}
	}
	panic(fmt.Sprintf("model: the field of kind %s is not one of Snapshot", name))
}
