package model

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The cilium.io/v2 types below mirror Cilium's BGP Control Plane v2 API (the CRDs under
// pkg/k8s/apis/cilium.io/client/crds/v2). v2alpha1 objects decode into the same types: their
// extra fields (peerConfigRef group and kind, transport.localPort) are kept so that they can be
// reported, and are otherwise ignored, as Cilium's conversion does.

// CiliumBGPClusterConfig selects nodes and gives them BGP instances and peers.
type CiliumBGPClusterConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CiliumBGPClusterConfigSpec `json:"spec"`
}

type CiliumBGPClusterConfigSpec struct {
	// NodeSelector matches CiliumNode labels. nil selects every node.
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`
	BGPInstances []CiliumBGPInstance   `json:"bgpInstances"`
}

type CiliumBGPInstance struct {
	Name     string `json:"name"`
	LocalASN *int64 `json:"localASN,omitempty"`
	// LocalPort nil means the instance does not listen for incoming connections.
	LocalPort *int32          `json:"localPort,omitempty"`
	Peers     []CiliumBGPPeer `json:"peers,omitempty"`
}

type CiliumBGPPeer struct {
	Name        string  `json:"name"`
	PeerAddress *string `json:"peerAddress,omitempty"`
	// PeerASN 0 (the CRD default) accepts whatever ASN the peer announces.
	PeerASN       *int64               `json:"peerASN,omitempty"`
	AutoDiscovery *BGPAutoDiscovery    `json:"autoDiscovery,omitempty"`
	PeerConfigRef *PeerConfigReference `json:"peerConfigRef,omitempty"`
}

const AutoDiscoveryDefaultGateway = "DefaultGateway"

type BGPAutoDiscovery struct {
	Mode           string                   `json:"mode"`
	DefaultGateway *DefaultGatewayDiscovery `json:"defaultGateway,omitempty"`
}

type DefaultGatewayDiscovery struct {
	// AddressFamily is "ipv4" or "ipv6".
	AddressFamily string `json:"addressFamily"`
}

type PeerConfigReference struct {
	Name string `json:"name"`
	// Group and Kind exist in v2alpha1 only.
	Group string `json:"group,omitempty"`
	Kind  string `json:"kind,omitempty"`
}

// CiliumBGPPeerConfig holds the session settings and the advertisement selectors shared by the
// peers that reference it.
type CiliumBGPPeerConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CiliumBGPPeerConfigSpec `json:"spec"`
}

type CiliumBGPPeerConfigSpec struct {
	Transport       *CiliumBGPTransport          `json:"transport,omitempty"`
	Timers          *CiliumBGPTimers             `json:"timers,omitempty"`
	AuthSecretRef   *string                      `json:"authSecretRef,omitempty"`
	GracefulRestart *CiliumBGPGracefulRestart    `json:"gracefulRestart,omitempty"`
	EBGPMultihop    *int32                       `json:"ebgpMultihop,omitempty"`
	Families        []CiliumBGPFamilyWithAdverts `json:"families,omitempty"`
}

type CiliumBGPTransport struct {
	PeerPort        *int32  `json:"peerPort,omitempty"`
	SourceInterface *string `json:"sourceInterface,omitempty"`
	// LocalPort exists in v2alpha1 only, deprecated there, and has no effect.
	LocalPort *int32 `json:"localPort,omitempty"`
}

type CiliumBGPTimers struct {
	ConnectRetryTimeSeconds *int32 `json:"connectRetryTimeSeconds,omitempty"`
	HoldTimeSeconds         *int32 `json:"holdTimeSeconds,omitempty"`
	KeepAliveTimeSeconds    *int32 `json:"keepAliveTimeSeconds,omitempty"`
}

type CiliumBGPGracefulRestart struct {
	Enabled            bool   `json:"enabled"`
	RestartTimeSeconds *int32 `json:"restartTimeSeconds,omitempty"`
}

type CiliumBGPFamilyWithAdverts struct {
	AFI  string `json:"afi"`
	SAFI string `json:"safi"`
	// Advertisements selects CiliumBGPAdvertisements by their labels: nil selects none, {} all.
	Advertisements *metav1.LabelSelector `json:"advertisements,omitempty"`
}

// CiliumBGPAdvertisement says what to announce and with which attributes.
type CiliumBGPAdvertisement struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CiliumBGPAdvertisementSpec `json:"spec"`
}

type CiliumBGPAdvertisementSpec struct {
	Advertisements []BGPAdvertisement `json:"advertisements"`
}

const (
	AdvertPodCIDR         = "PodCIDR"
	AdvertCiliumPodIPPool = "CiliumPodIPPool"
	AdvertService         = "Service"
	AdvertInterface       = "Interface"
)

const (
	ServiceLoadBalancerIP = "LoadBalancerIP"
	ServiceClusterIP      = "ClusterIP"
	ServiceExternalIP     = "ExternalIP"
)

type BGPAdvertisement struct {
	AdvertisementType string                `json:"advertisementType"`
	Service           *BGPServiceOptions    `json:"service,omitempty"`
	Interface         *BGPInterfaceOptions  `json:"interface,omitempty"`
	Selector          *metav1.LabelSelector `json:"selector,omitempty"`
	Attributes        *BGPAttributes        `json:"attributes,omitempty"`
}

type BGPServiceOptions struct {
	Addresses             []string `json:"addresses,omitempty"`
	AggregationLengthIPv4 *int16   `json:"aggregationLengthIPv4,omitempty"`
	AggregationLengthIPv6 *int16   `json:"aggregationLengthIPv6,omitempty"`
}

type BGPInterfaceOptions struct {
	Name *string `json:"name,omitempty"`
}

type BGPAttributes struct {
	Communities     *BGPCommunities `json:"communities,omitempty"`
	LocalPreference *int64          `json:"localPreference,omitempty"`
}

type BGPCommunities struct {
	Standard  []string `json:"standard,omitempty"`
	WellKnown []string `json:"wellKnown,omitempty"`
	Large     []string `json:"large,omitempty"`
}

// CiliumBGPNodeConfigOverride adjusts one node (metadata.name is the node's name).
type CiliumBGPNodeConfigOverride struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CiliumBGPNodeConfigOverrideSpec `json:"spec"`
}

type CiliumBGPNodeConfigOverrideSpec struct {
	BGPInstances []CiliumBGPNodeConfigInstanceOverride `json:"bgpInstances"`
}

type CiliumBGPNodeConfigInstanceOverride struct {
	Name      string                            `json:"name"`
	RouterID  *string                           `json:"routerID,omitempty"`
	LocalPort *int32                            `json:"localPort,omitempty"`
	LocalASN  *int64                            `json:"localASN,omitempty"`
	Peers     []CiliumBGPNodeConfigPeerOverride `json:"peers,omitempty"`
}

type CiliumBGPNodeConfigPeerOverride struct {
	Name         string  `json:"name"`
	LocalAddress *string `json:"localAddress,omitempty"`
	// LocalPort is accepted by the CRD but never used by Cilium.
	LocalPort *int32 `json:"localPort,omitempty"`
}

// CiliumNode is Cilium's view of a node: its labels select BGP configuration and its IPAM
// spec holds the pod CIDRs to advertise.
type CiliumNode struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CiliumNodeSpec `json:"spec"`
}

type CiliumNodeSpec struct {
	Addresses []CiliumNodeAddress `json:"addresses,omitempty"`
	IPAM      CiliumNodeIPAMSpec  `json:"ipam,omitempty"`
}

type CiliumNodeAddress struct {
	Type string `json:"type,omitempty"`
	IP   string `json:"ip,omitempty"`
}

type CiliumNodeIPAMSpec struct {
	PodCIDRs []string          `json:"podCIDRs,omitempty"`
	Pools    CiliumNodeIPPools `json:"pools,omitempty"`
}

type CiliumNodeIPPools struct {
	Allocated []CiliumNodeIPPoolAllocation `json:"allocated,omitempty"`
}

type CiliumNodeIPPoolAllocation struct {
	Pool  string   `json:"pool"`
	CIDRs []string `json:"cidrs,omitempty"`
}

// CiliumPodIPPool is a multi-pool IPAM pool. Only its labels and mask sizes matter to BGP:
// the CIDRs a node advertises come from its CiliumNode.
type CiliumPodIPPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CiliumPodIPPoolSpec `json:"spec"`
}

type CiliumPodIPPoolSpec struct {
	IPv4 *PodIPPoolFamily `json:"ipv4,omitempty"`
	IPv6 *PodIPPoolFamily `json:"ipv6,omitempty"`
}

type PodIPPoolFamily struct {
	MaskSize int `json:"maskSize,omitempty"`
}

// CiliumEnvoyConfig (namespaced) and CiliumClusterwideEnvoyConfig (cluster-scoped) redirect Services' traffic to the node's Envoy (Cilium's Ingress and Gateway API
// controllers make them). Only what decides where a Service is proxy-redirected is kept: its
// Envoy resources never matter to BGP.
type CiliumEnvoyConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              CiliumEnvoyConfigSpec `json:"spec"`
}

type CiliumEnvoyConfigSpec struct {
	// Services are redirected to the node's Envoy.
	Services []EnvoyServiceListener `json:"services,omitempty"`
	// NodeSelector picks the nodes the configuration applies to (by their labels); nil is all.
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`
}

type EnvoyServiceListener struct {
	Name string `json:"name"`
	// Namespace is the CiliumEnvoyConfig's own for the namespaced kind; "default" when empty
	// for the clusterwide one.
	Namespace string `json:"namespace,omitempty"`
	Listener  string `json:"listener,omitempty"`
}
