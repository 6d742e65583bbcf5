package model

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CiliumBGPNodeConfig mirrors cilium.io/v2 CiliumBGPNodeConfig (crds/ciliumbgpnodeconfigs.yaml):
// the per-node configuration Cilium's operator derives from the CiliumBGPClusterConfig that
// selects the node (named after the node, owned by that ClusterConfig), and whose status the
// BGP speaker of the node reports through the status subresource. Users read it; only the
// operator writes its spec.
//
// The PR-only fields of the copied CRD (peers[].peerInterface, autoDiscovery.unnumbered) are
// left out, as in the ClusterConfig types.
type CiliumBGPNodeConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              CiliumBGPNodeConfigSpec `json:"spec"`
	// Status is optional: omitzero leaves it out of a create, which the API server would
	// ignore anyway (status is a subresource).
	Status CiliumBGPNodeConfigStatus `json:"status,omitzero"`
}

// Names of the resource, for clients that address it.
const (
	CiliumGroup                  = "cilium.io"
	CiliumVersion                = "v2"
	ResourceCiliumBGPNodeConfigs = "ciliumbgpnodeconfigs"
)

// CiliumBGPNodeConfigSpec is Cilium's CiliumBGPNodeSpec.
type CiliumBGPNodeConfigSpec struct {
	// BGPInstances has 1..16 entries, a list-map keyed by name.
	BGPInstances []CiliumBGPNodeInstance `json:"bgpInstances"`
}

// CiliumBGPNodeInstance is a ClusterConfig instance with the node's override merged in.
type CiliumBGPNodeInstance struct {
	Name     string `json:"name"`
	LocalASN *int64 `json:"localASN,omitempty"`
	// RouterID comes from a CiliumBGPNodeConfigOverride (or Cilium's ip-pool allocation);
	// nil lets the speaker derive it from the node.
	RouterID *string `json:"routerID,omitempty"`
	// LocalPort nil means the instance does not listen for incoming connections.
	LocalPort *int32              `json:"localPort,omitempty"`
	Peers     []CiliumBGPNodePeer `json:"peers,omitempty"`
}

// CiliumBGPNodePeer is a CiliumBGPPeer plus the local address an override may set.
type CiliumBGPNodePeer struct {
	Name          string               `json:"name"`
	PeerAddress   *string              `json:"peerAddress,omitempty"`
	PeerASN       *int64               `json:"peerASN,omitempty"`
	AutoDiscovery *BGPAutoDiscovery    `json:"autoDiscovery,omitempty"`
	LocalAddress  *string              `json:"localAddress,omitempty"`
	PeerConfigRef *PeerConfigReference `json:"peerConfigRef,omitempty"`
}

// BGPReconcileErrorCondition is the one condition of a CiliumBGPNodeConfig: True while the
// node's BGP configuration has errors, its message one line per error.
const (
	BGPReconcileErrorCondition = "cilium.io/BGPReconcileError"
	BGPReconcileErrorReason    = "BGPReconcileError"
)

// CiliumBGPNodeConfigStatus is Cilium's CiliumBGPNodeStatus.
type CiliumBGPNodeConfigStatus struct {
	BGPInstances []CiliumBGPNodeInstanceStatus `json:"bgpInstances,omitempty"`
	Conditions   []metav1.Condition            `json:"conditions,omitempty"`
}

type CiliumBGPNodeInstanceStatus struct {
	Name     string `json:"name"`
	LocalASN *int64 `json:"localASN,omitempty"`
	// PeerStatuses is "peers" in JSON, as in Cilium.
	PeerStatuses []CiliumBGPNodePeerStatus `json:"peers,omitempty"`
}

// Peering states as Cilium writes them (GoBGP's FSM states through Cilium's SessionState).
const (
	PeeringStateUnknown     = "unknown"
	PeeringStateIdle        = "idle"
	PeeringStateConnect     = "connect"
	PeeringStateActive      = "active"
	PeeringStateOpenSent    = "open_sent"
	PeeringStateOpenConfirm = "open_confirm"
	PeeringStateEstablished = "established"
)

type CiliumBGPNodePeerStatus struct {
	Name        string `json:"name"`
	PeerAddress string `json:"peerAddress"`
	// PeerASN is the configured ASN, or the one the peer announced when configured 0.
	PeerASN *int64 `json:"peerASN,omitempty"`
	// PeeringState is one of the PeeringState constants; nil when the speaker does not know
	// the peer.
	PeeringState *string               `json:"peeringState,omitempty"`
	Timers       *CiliumBGPTimersState `json:"timers,omitempty"`
	// EstablishedTime is RFC 3339 in UTC, set only while established.
	EstablishedTime *string               `json:"establishedTime,omitempty"`
	RouteCount      []BGPFamilyRouteCount `json:"routeCount,omitempty"`
}

type CiliumBGPTimersState struct {
	AppliedHoldTimeSeconds  *int32 `json:"appliedHoldTimeSeconds,omitempty"`
	AppliedKeepaliveSeconds *int32 `json:"appliedKeepaliveSeconds,omitempty"`
}

// BGPFamilyRouteCount counts the routes exchanged with a peer in one address family.
type BGPFamilyRouteCount struct {
	AFI        string `json:"afi"`
	SAFI       string `json:"safi"`
	Received   *int32 `json:"received,omitempty"`
	Advertised *int32 `json:"advertised,omitempty"`
}
