package model

import (
	"net/netip"
)

// NodeConfig is the BGP configuration one node must run: what Cilium's agent would program
// into its BGP speaker on that node.
type NodeConfig struct {
	Node string `json:"node"`
	// ClusterConfig is the CiliumBGPClusterConfig that owns the node; empty when none selects it.
	ClusterConfig string `json:"clusterConfig,omitempty"`
	// Instances keep the order of spec.bgpInstances.
	Instances []Instance `json:"instances,omitempty"`
	// FailedInstances are the ClusterConfig's instances left out because of errors in their
	// input (the diagnostics say which): the node does not run them.
	FailedInstances []string `json:"failedInstances,omitempty"`
}

// ListenPort is the port bgpd must listen on, 0 for none. FRR has one listener per bgpd (its
// -p option), not one per instance: it is the first listening instance's port (translate warns
// about the others).
func (c *NodeConfig) ListenPort() uint16 {
	for _, in := range c.Instances {
		if in.ListenPort != 0 {
			return in.ListenPort
		}
	}
	return 0
}

// Source says which object and field produced a value.
type Source struct {
	Object ObjectRef `json:"object"`
	Field  string    `json:"field,omitempty"`
}

// Provenance maps a setting's name (as in the desired model's JSON) to its source.
type Provenance map[string]Source

// Instance is one BGP speaker (spec.bgpInstances[]).
type Instance struct {
	Name     string     `json:"name"`
	LocalASN uint32     `json:"localASN"`
	RouterID netip.Addr `json:"routerID"`
	// ListenPort is 0 when the instance does not accept incoming connections.
	ListenPort uint16 `json:"listenPort,omitempty"`
	// PeerGroups are sorted by name; Peers keep the ClusterConfig's order.
	PeerGroups []PeerGroup `json:"peerGroups,omitempty"`
	Peers      []Peer      `json:"peers,omitempty"`
	// Prefixes are sorted, IPv4 before IPv6; each names its export policy.
	Prefixes []AdvertisedPrefix `json:"prefixes,omitempty"`
	// Policies are sorted by ID.
	Policies []ExportPolicy `json:"policies,omitempty"`
	Sources  Provenance     `json:"sources,omitempty"`
}

// DefaultsGroup names the peer group of peers without a peerConfigRef: default session
// settings and no advertisements. Kubernetes names are lower case, so it cannot collide
// with a CiliumBGPPeerConfig's name.
const DefaultsGroup = "DEFAULTS"

// PeerGroup holds the session settings that come from one CiliumBGPPeerConfig and are
// shared by every peer of the instance that references it.
type PeerGroup struct {
	// Name is the CiliumBGPPeerConfig's name, or DefaultsGroup.
	Name     string `json:"name"`
	PeerPort uint16 `json:"peerPort"`
	Timers   Timers `json:"timers"`
	// Password is empty when no authSecretRef is set or its Secret does not exist.
	Password Password `json:"password,omitempty"`
	// EBGPMultihop is the TTL for eBGP sessions; 0 or 1 means directly connected only.
	EBGPMultihop    uint8           `json:"ebgpMultihop,omitempty"`
	GracefulRestart GracefulRestart `json:"gracefulRestart"`
	// Families are the address families negotiated with the peers.
	Families []Family   `json:"families"`
	Sources  Provenance `json:"sources,omitempty"`
}

// Timers in seconds.
type Timers struct {
	ConnectRetry uint32 `json:"connectRetry"`
	Hold         uint32 `json:"hold"`
	Keepalive    uint32 `json:"keepalive"`
}

type GracefulRestart struct {
	Enabled     bool   `json:"enabled"`
	RestartTime uint32 `json:"restartTime"`
}

// Family is an AFI/SAFI pair in Cilium's spelling: ipv4/unicast, ipv6/unicast.
type Family struct {
	AFI  string `json:"afi"`
	SAFI string `json:"safi"`
}

func (f Family) String() string { return f.AFI + "/" + f.SAFI }

var (
	IPv4Unicast = Family{AFI: "ipv4", SAFI: "unicast"}
	IPv6Unicast = Family{AFI: "ipv6", SAFI: "unicast"}
)

// FamilyOf returns the unicast family of an address.
func FamilyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4Unicast
	}
	return IPv6Unicast
}

// Peer is one BGP neighbor.
type Peer struct {
	Name    string     `json:"name"`
	Address netip.Addr `json:"address"`
	// ASN 0 accepts whatever ASN the peer announces.
	ASN   uint32 `json:"asn"`
	Group string `json:"group"`
	// LocalAddress is the source address of the session; invalid when the kernel chooses.
	LocalAddress netip.Addr `json:"localAddress,omitzero"`
	Sources      Provenance `json:"sources,omitempty"`
}

// AdvertisedPrefix is one prefix the instance originates.
type AdvertisedPrefix struct {
	Prefix netip.Prefix `json:"prefix"`
	// Policy is the ID of the ExportPolicy that decides who receives the prefix and how.
	Policy  uint32   `json:"policy"`
	Origins []Origin `json:"origins"`
	// OriginIncomplete sets the BGP ORIGIN attribute to INCOMPLETE instead of IGP (Cilium's
	// enable-bgp-legacy-origin-attribute, for LoadBalancer IPs).
	OriginIncomplete bool `json:"originIncomplete,omitempty"`
}

// Origin says why a prefix is advertised: which advertisement rule, and which object gave
// the address (a Service, the CiliumNode, a CiliumPodIPPool, a host interface).
type Origin struct {
	Rule   RuleRef   `json:"rule"`
	Object ObjectRef `json:"object"`
	// Detail is the address kind or field, e.g. LoadBalancerIP or spec.ipam.podCIDRs.
	Detail string `json:"detail,omitempty"`
}

// RuleRef names one entry of a CiliumBGPAdvertisement's spec.advertisements.
type RuleRef struct {
	Advertisement string `json:"advertisement"`
	Index         int    `json:"index"`
	Type          string `json:"type"`
}

// ExportPolicy is shared by every prefix of one family produced by the same set of
// advertisement rules: such prefixes reach the same peer groups with the same attributes.
// Its ID is derived from Family and Rules alone, so it stays put while other prefixes and
// policies come and go.
type ExportPolicy struct {
	ID      uint32    `json:"id"`
	Family  Family    `json:"family"`
	Rules   []RuleRef `json:"rules"`
	Exports []Export  `json:"exports"`
}

// Export is what one peer group receives for the prefixes of a policy: the union of the
// communities of the rules it selects, and the highest local preference among them.
type Export struct {
	PeerGroup        string           `json:"peerGroup"`
	Communities      []Community      `json:"communities,omitempty"`
	LargeCommunities []LargeCommunity `json:"largeCommunities,omitempty"`
	LocalPreference  *uint32          `json:"localPreference,omitempty"`
}
