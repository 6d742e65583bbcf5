// Package explain answers the questions of a person on call about one node's BGP
// configuration: why is this prefix advertised (which advertisement rule, which Service,
// CiliumNode or pool, to which peers with which attributes), why is it not (which rule stopped
// it), and where does each setting of a peer come from.
//
// Whether a prefix is advertised is always translate's answer, never a second opinion: explain
// runs translate.Translate and reads its provenance. Only for a prefix that is not advertised
// does it go through the rules itself, to name the one that stopped it; should it find none,
// it says so instead of guessing. Like translate it does no I/O, and it never reveals a
// password (it names the Secret).
package explain

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// Input is what a node's configuration is computed from.
type Input struct {
	Snapshot *model.Snapshot
	Host     model.HostFacts
	Options  translate.Options
}

// PrefixAnswer explains one prefix (or address) on one node.
type PrefixAnswer struct {
	Node  string `json:"node"`
	Query string `json:"query"`
	// Advertised lists the node's advertised prefixes that overlap the query, per instance.
	Advertised []Advertised `json:"advertised,omitempty"`
	// NotAdvertised says, for each instance that advertises nothing overlapping the query, why.
	NotAdvertised []Reason `json:"notAdvertised,omitempty"`
}

// Advertised is one prefix an instance originates.
type Advertised struct {
	Instance string         `json:"instance"`
	Prefix   string         `json:"prefix"`
	Family   string         `json:"family"`
	Origins  []model.Origin `json:"origins"`
	// Exports are the peer groups (CiliumBGPPeerConfigs) that receive it, with what they get.
	Exports []Export `json:"exports"`
}

// Export is what the peers of one CiliumBGPPeerConfig receive.
type Export struct {
	PeerConfig       string   `json:"peerConfig"`
	Peers            []string `json:"peers"`
	Communities      []string `json:"communities,omitempty"`
	LargeCommunities []string `json:"largeCommunities,omitempty"`
	LocalPreference  *uint32  `json:"localPreference,omitempty"`
	// LocalPreferenceNote says which peers do not receive it: LOCAL_PREF goes to iBGP peers only.
	LocalPreferenceNote string `json:"localPreferenceNote,omitempty"`
}

// Reason is one thing that stops a prefix.
type Reason struct {
	// Code names the kind of reason, for programs (the Code constants).
	Code     string `json:"code"`
	Instance string `json:"instance,omitempty"`
	// Object is the object that holds the address (Service, CiliumNode, pool, interface).
	Object string `json:"object,omitempty"`
	// Rule is the advertisement rule, PeerConfig the peer group, concerned.
	Rule       string `json:"rule,omitempty"`
	PeerConfig string `json:"peerConfig,omitempty"`
	Family     string `json:"family,omitempty"`
	Message    string `json:"message"`
}

// Reason codes: every way a prefix can fail to be advertised.
const (
	CodeNoClusterConfig    = "no-cluster-config" // no CiliumBGPClusterConfig selects the node
	CodeInstanceFailed     = "instance-failed"   // an error stops the BGP instance
	CodeNoObject           = "no-object"         // nothing on the node has the address
	CodeNoPeerConfig       = "no-peer-config"    // peers without peerConfigRef advertise nothing
	CodeFamily             = "family"            // the PeerConfig does not negotiate the family
	CodeAdvertNotSelected  = "advertisement-not-selected"
	CodeNoRule             = "no-rule"              // no advertisement rule of the address's type
	CodeRuleInvalid        = "rule-invalid"         // the rule is ignored (a diagnostic says why)
	CodeSelector           = "selector"             // the rule's selector does not select the object
	CodeNoFrontend         = "no-frontend"          // Cilium's agent has no frontend for the Service on the node
	CodeAddressType        = "address-type"         // the rule advertises other Service addresses
	CodeServiceType        = "service-type"         // a LoadBalancer IP of a Service of another type
	CodeLoadBalancerClass  = "load-balancer-class"  // a loadBalancerClass Cilium does not announce
	CodeTrafficPolicyLocal = "traffic-policy-local" // Local traffic policy, no local endpoint
	CodeNoEndpoints        = "no-endpoints"         // no endpoint anywhere, and they are not routable
	CodePoolMask           = "pool-mask"            // a pool allocation that does not fit the pool
	CodeInterface          = "interface"            // the interface is down, or the address unusable
	CodeUnroutable         = "unroutable-address"   // an address no one should advertise (0.0.0.0, loopback, link-local, multicast, broadcast)
	CodeUnexplained        = "unexplained"          // nothing explain knows of stops it
)

// Prefix explains the query (an address is its host prefix) on in.Options.Node.
func Prefix(in Input, query netip.Prefix) (PrefixAnswer, error) {
	query = query.Masked()
	res, err := translate.Translate(in.Snapshot, in.Host, in.Options)
	if err != nil {
		return PrefixAnswer{}, err
	}
	ans := PrefixAnswer{Node: in.Options.Node, Query: query.String()}
	c := newChecker(in, res)
	if res.Config.ClusterConfig == "" {
		ans.NotAdvertised = append(ans.NotAdvertised, Reason{Code: CodeNoClusterConfig,
			Message: fmt.Sprintf("no CiliumBGPClusterConfig selects node %s (spec.nodeSelector against the labels of %s)", model.QuoteUnlessPlain(in.Options.Node), model.ObjectRef{Kind: model.KindCiliumNode, Name: in.Options.Node})})
		return ans, nil
	}
	for _, name := range res.FailedInstances {
		ans.NotAdvertised = append(ans.NotAdvertised, Reason{Code: CodeInstanceFailed, Instance: name,
			Message: fmt.Sprintf("instance %q is not configured: %s", name, c.errorsAbout(model.KindCiliumBGPClusterConfig, res.Config.ClusterConfig))})
	}
	for i := range res.Config.Instances {
		inst := &res.Config.Instances[i]
		found := false
		for _, p := range inst.Prefixes {
			if p.Prefix.Overlaps(query) {
				found = true
				ans.Advertised = append(ans.Advertised, advertised(inst, p))
			}
		}
		if !found {
			ans.NotAdvertised = append(ans.NotAdvertised, c.whyNot(inst, query)...)
		}
	}
	return ans, nil
}

// advertised describes prefix p of inst.
func advertised(inst *model.Instance, p model.AdvertisedPrefix) Advertised {
	a := Advertised{Instance: inst.Name, Prefix: p.Prefix.String(), Family: model.FamilyOf(p.Prefix.Addr()).String(), Origins: p.Origins}
	i := slices.IndexFunc(inst.Policies, func(pol model.ExportPolicy) bool { return pol.ID == p.Policy })
	if i < 0 {
		return a
	}
	for _, ex := range inst.Policies[i].Exports {
		e := Export{PeerConfig: ex.PeerGroup, Peers: []string{}, LocalPreference: ex.LocalPreference}
		var ebgp []string
		for _, peer := range inst.Peers {
			if peer.Group != ex.PeerGroup {
				continue
			}
			e.Peers = append(e.Peers, fmt.Sprintf("%s (%s)", model.QuoteUnlessPlain(peer.Name), peer.Address))
			if peer.ASN != inst.LocalASN {
				ebgp = append(ebgp, peer.Name)
			}
		}
		for _, c := range ex.Communities {
			e.Communities = append(e.Communities, c.String())
		}
		for _, c := range ex.LargeCommunities {
			e.LargeCommunities = append(e.LargeCommunities, c.String())
		}
		if e.LocalPreference != nil && len(ebgp) > 0 {
			e.LocalPreferenceNote = "not sent to the eBGP peers " + strings.Join(ebgp, ", ") + ": LOCAL_PREF goes to iBGP peers only"
		}
		a.Exports = append(a.Exports, e)
	}
	return a
}
