package model

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Snapshot is everything the translator reads from the cluster, taken at one moment: from
// informer caches in the sidecar, from manifest files offline. Order within a slice does not
// matter; the translator sorts what it emits.
type Snapshot struct {
	ClusterConfigs []*CiliumBGPClusterConfig
	PeerConfigs    []*CiliumBGPPeerConfig
	Advertisements []*CiliumBGPAdvertisement
	NodeOverrides  []*CiliumBGPNodeConfigOverride
	CiliumNodes    []*CiliumNode
	PodIPPools     []*CiliumPodIPPool
	Nodes          []*corev1.Node
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	// Secrets may hold Secrets of any namespace: the translator reads only the BGP secrets
	// namespace.
	Secrets []*corev1.Secret
	// NodeConfigs are CiliumBGPNodeConfigs as Cilium's operator (or a sidecar) wrote them: the
	// translator reads the node's own, for the ClusterConfig that owns the node and for the
	// router IDs of the ip-pool allocation mode.
	NodeConfigs []*CiliumBGPNodeConfig
	// EnvoyConfigs (namespaced) and ClusterwideEnvoyConfigs are CiliumEnvoyConfigs and
	// CiliumClusterwideEnvoyConfigs: a Service they redirect to the node's Envoy is advertised
	// without a local backend.
	EnvoyConfigs, ClusterwideEnvoyConfigs []*CiliumEnvoyConfig
}

// HostFacts is what the translator needs to know about the host it renders for: interfaces
// (for Interface advertisements and transport.sourceInterface) and default routes (for
// DefaultGateway auto-discovery).
type HostFacts struct {
	Interfaces    []Interface    `json:"interfaces,omitempty"`
	DefaultRoutes []DefaultRoute `json:"defaultRoutes,omitempty"`
}

// Interface is one network device of the host.
type Interface struct {
	Name    string `json:"name"`
	AdminUp bool   `json:"adminUp"`
	// OperState is the kernel's operational state in lower case: "up", "down", "unknown"...
	OperState string         `json:"operState"`
	Addresses []netip.Prefix `json:"addresses,omitempty"`
	// HardwareAddr is the link-layer address as `ip link` prints it (aa:bb:cc:dd:ee:ff); ""
	// for a device without one. Cilium derives an IPv6-only node's router ID from
	// cilium_host's.
	HardwareAddr string `json:"hardwareAddr,omitempty"`
}

// Up reports whether the interface's addresses may be announced, as Cilium decides: it is
// administratively up and its operational state is up or unknown (loopback and dummy devices).
func (i Interface) Up() bool {
	return i.AdminUp && (i.OperState == "up" || i.OperState == "unknown")
}

// DefaultRoute is a route to 0.0.0.0/0 or ::/0 in the host's main table.
type DefaultRoute struct {
	// Family is "ipv4" or "ipv6".
	Family    string     `json:"family"`
	Gateway   netip.Addr `json:"gateway"`
	Metric    uint32     `json:"metric"`
	Interface string     `json:"interface"`
	// LinkUp is the operational state of the egress link.
	LinkUp bool `json:"linkUp"`
}
