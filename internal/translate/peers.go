package translate

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// Cilium's defaults for a CiliumBGPPeerConfig (CiliumBGPPeerConfigSpec.SetDefaults).
const (
	defaultPeerPort     = 179
	defaultConnectRetry = 120
	defaultHold         = 90
	defaultKeepalive    = 30
	defaultRestartTime  = 120
	// FRR's "timers connect" stops at 65535; Cilium's schema allows up to 2^31-1.
	maxConnectRetry = 65535
)

// resolvedPeerConfig is a CiliumBGPPeerConfig turned into session settings and selectors,
// computed once per translation however many peers reference it.
type resolvedPeerConfig struct {
	group model.PeerGroup
	// selectors per supported family, in spec.families order; a nil selector selects nothing.
	selectors []familySelector
	// sourceInterface is resolved per peer, whose family it depends on.
	sourceInterface string
	// usable is false when the PeerConfig is invalid: its peers are not configured.
	usable bool
	// instanceError is set when Cilium would fail the whole instance (a Secret without a
	// usable password).
	instanceError bool
}

type familySelector struct {
	family   model.Family
	selector labels.Selector
	field    string
}

// defaultsGroup is the session of a peer without peerConfigRef: defaulted settings and no
// advertisement at all.
func defaultsGroup() *resolvedPeerConfig {
	return &resolvedPeerConfig{
		group: model.PeerGroup{
			Name:            model.DefaultsGroup,
			PeerPort:        defaultPeerPort,
			Timers:          model.Timers{ConnectRetry: defaultConnectRetry, Hold: defaultHold, Keepalive: defaultKeepalive},
			GracefulRestart: model.GracefulRestart{RestartTime: defaultRestartTime},
			Families:        []model.Family{model.IPv4Unicast, model.IPv6Unicast},
		},
		usable: true,
	}
}

func (t *translation) peerConfig(name string) *resolvedPeerConfig {
	if r, ok := t.resolved[name]; ok {
		return r
	}
	pc, ok := t.peerConfigs[name]
	if !ok {
		return nil
	}
	r := t.resolvePeerConfig(pc)
	t.resolved[name] = r
	return r
}

func (t *translation) resolvePeerConfig(pc *model.CiliumBGPPeerConfig) *resolvedPeerConfig {
	ref := model.ObjectRef{Kind: model.KindCiliumBGPPeerConfig, Name: pc.Name}
	r := defaultsGroup()
	r.group.Name = pc.Name
	r.group.Families = nil
	r.group.Sources = model.Provenance{}
	src := func(field string) model.Source { return model.Source{Object: ref, Field: field} }
	s := &pc.Spec
	ok := true
	bad := func(field, format string, args ...any) {
		t.error(ref, field, format+": peers using this CiliumBGPPeerConfig are not configured", args...)
		ok = false
	}

	if s.Transport != nil {
		if p := s.Transport.PeerPort; p != nil {
			if *p < 1 || *p > 65535 {
				bad("spec.transport.peerPort", "%d is not a port in 1..65535", *p)
			} else {
				r.group.PeerPort = uint16(*p)
				r.group.Sources["peerPort"] = src("spec.transport.peerPort")
			}
		}
		if s.Transport.LocalPort != nil {
			t.warn(ref, "spec.transport.localPort", "deprecated in v2alpha1 and without effect: ignored")
		}
		if si := s.Transport.SourceInterface; si != nil && *si != "" {
			r.sourceInterface = *si
		}
	}

	if tm := s.Timers; tm != nil {
		if v := tm.ConnectRetryTimeSeconds; v != nil {
			switch {
			case *v < 1:
				bad("spec.timers.connectRetryTimeSeconds", "%d is below 1", *v)
			case *v > maxConnectRetry:
				t.warn(ref, "spec.timers.connectRetryTimeSeconds", "%d is above FRR's limit: using %d", *v, maxConnectRetry)
				r.group.Timers.ConnectRetry = maxConnectRetry
			default:
				r.group.Timers.ConnectRetry = uint32(*v)
			}
			r.group.Sources["timers.connectRetry"] = src("spec.timers.connectRetryTimeSeconds")
		}
		if v := tm.HoldTimeSeconds; v != nil {
			if *v < 3 || *v > 65535 {
				bad("spec.timers.holdTimeSeconds", "%d is not in 3..65535", *v)
			} else {
				r.group.Timers.Hold = uint32(*v)
				r.group.Sources["timers.hold"] = src("spec.timers.holdTimeSeconds")
			}
		}
		if v := tm.KeepAliveTimeSeconds; v != nil {
			if *v < 1 || *v > 65535 {
				bad("spec.timers.keepAliveTimeSeconds", "%d is not in 1..65535", *v)
			} else {
				r.group.Timers.Keepalive = uint32(*v)
				r.group.Sources["timers.keepalive"] = src("spec.timers.keepAliveTimeSeconds")
			}
		}
	}
	if r.group.Timers.Keepalive > r.group.Timers.Hold {
		bad("spec.timers", "keepAliveTimeSeconds (%d) can not be larger than holdTimeSeconds (%d)", r.group.Timers.Keepalive, r.group.Timers.Hold)
	}

	if m := s.EBGPMultihop; m != nil {
		switch {
		case *m < 1 || *m > 255:
			bad("spec.ebgpMultihop", "%d is not in 1..255", *m)
		case *m > 1:
			r.group.EBGPMultihop = uint8(*m)
			r.group.Sources["ebgpMultihop"] = src("spec.ebgpMultihop")
		}
	}

	if gr := s.GracefulRestart; gr != nil {
		r.group.GracefulRestart.Enabled = gr.Enabled
		r.group.Sources["gracefulRestart.enabled"] = src("spec.gracefulRestart.enabled")
		if v := gr.RestartTimeSeconds; v != nil {
			if *v < 1 || *v > 4095 {
				bad("spec.gracefulRestart.restartTimeSeconds", "%d is not in 1..4095", *v)
			} else {
				r.group.GracefulRestart.RestartTime = uint32(*v)
				r.group.Sources["gracefulRestart.restartTime"] = src("spec.gracefulRestart.restartTimeSeconds")
			}
		}
	}

	t.families(r, pc, ref)
	t.password(r, pc, ref)
	r.usable = ok
	return r
}

// families resolves spec.families. With none, Cilium negotiates both unicast families but
// advertises nothing: advertisement selection walks the families as written.
func (t *translation) families(r *resolvedPeerConfig, pc *model.CiliumBGPPeerConfig, ref model.ObjectRef) {
	if len(pc.Spec.Families) == 0 {
		r.group.Families = []model.Family{model.IPv4Unicast, model.IPv6Unicast}
		return
	}
	seen := map[model.Family]bool{}
	for i, f := range pc.Spec.Families {
		field := fmt.Sprintf("spec.families[%d]", i)
		fam := model.Family{AFI: f.AFI, SAFI: f.SAFI}
		if fam != model.IPv4Unicast && fam != model.IPv6Unicast {
			t.warn(ref, field, "family %q is not supported (only ipv4/unicast and ipv6/unicast): ignored", fam.String())
			continue
		}
		if seen[fam] {
			t.warn(ref, field, "family %q appears twice: the first one is used", fam.String())
			continue
		}
		seen[fam] = true
		r.group.Families = append(r.group.Families, fam)
		sel, err := selectorOrNothing(f.Advertisements)
		if err != nil {
			t.error(ref, field+".advertisements", "invalid selector: %v; nothing is advertised for %s", err, fam)
			sel = labels.Nothing()
		}
		r.selectors = append(r.selectors, familySelector{family: fam, selector: sel, field: field + ".advertisements"})
	}
	sort.Slice(r.group.Families, func(i, j int) bool { return r.group.Families[i].AFI < r.group.Families[j].AFI })
	if len(r.group.Families) == 0 {
		t.warn(ref, "spec.families", "no supported family left: the sessions negotiate none")
	}
}

// password reads the TCP-MD5 password. A missing Secret leaves the password empty (Cilium
// logs and goes on); a Secret without a usable password key fails the instance.
func (t *translation) password(r *resolvedPeerConfig, pc *model.CiliumBGPPeerConfig, ref model.ObjectRef) {
	if pc.Spec.AuthSecretRef == nil || *pc.Spec.AuthSecretRef == "" {
		return
	}
	name := *pc.Spec.AuthSecretRef
	r.group.Sources["password"] = model.Source{Object: model.ObjectRef{Kind: model.KindSecret, Namespace: t.opts.SecretsNamespace, Name: name}, Field: "data." + model.PasswordKey}
	secret, ok := t.secrets[name]
	if !ok {
		t.error(ref, "spec.authSecretRef", "failed to fetch Secret %q: not found (continuing with an empty password)", t.opts.SecretsNamespace+"/"+name)
		return
	}
	value, ok := secret.Data[model.PasswordKey]
	if !ok || len(value) == 0 {
		t.error(ref, "spec.authSecretRef", "Secret %q has no %q key: instances with peers using this CiliumBGPPeerConfig are not configured",
			t.opts.SecretsNamespace+"/"+name, model.PasswordKey)
		r.instanceError = true
		return
	}
	password := model.NewPassword(string(value))
	if why := password.Unusable(); why != "" {
		t.error(ref, "spec.authSecretRef", "Secret %q key %q: %s: instances with peers using this CiliumBGPPeerConfig are not configured",
			t.opts.SecretsNamespace+"/"+name, model.PasswordKey, why)
		r.instanceError = true
		return
	}
	r.group.Password = password
}

// peers configures the instance's peers in the ClusterConfig's order; false when an error
// fails the instance.
func (t *translation) peers(inst *model.Instance, cc *model.CiliumBGPClusterConfig, idx int, o *model.CiliumBGPNodeConfigOverride) bool {
	spec := &cc.Spec.BGPInstances[idx]
	ccRef := clusterConfigRef(cc)
	ov, ovIdx := overrideInstance(o, spec.Name)
	groups := map[string]*resolvedPeerConfig{}
	addresses := map[netip.Addr]string{}
	names := map[string]bool{}
	ok := true
	for j := range spec.Peers {
		p := &spec.Peers[j]
		field := fmt.Sprintf("spec.bgpInstances[%d].peers[%d]", idx, j)
		if names[p.Name] {
			t.warn(ccRef, field+".name", "peer %q appears twice in instance %q: the first one is used", p.Name, spec.Name)
			continue
		}
		names[p.Name] = true

		// Cilium skips a peer without an address (none given, none discovered) before it reads
		// its PeerConfig: such a peer's Secret cannot fail the instance.
		peer := model.Peer{Name: p.Name, Sources: model.Provenance{}}
		if !t.peerAddress(&peer, p, ccRef, field) || !t.peerAddressUsable(&peer) {
			continue
		}
		rpc, ok2 := t.peerGroupFor(p, ccRef, field)
		if !ok2 {
			continue
		}
		if rpc.instanceError {
			ok = false
			continue
		}
		peer.Group = rpc.group.Name
		if p.PeerConfigRef != nil && p.PeerConfigRef.Name != "" {
			peer.Sources["group"] = model.Source{Object: ccRef, Field: field + ".peerConfigRef.name"}
		}
		if other, dup := addresses[peer.Address]; dup {
			t.warn(ccRef, field+".peerAddress", "address %s is already used by peer %q of instance %q: peer not configured", peer.Address, other, spec.Name)
			continue
		}
		if p.PeerASN != nil {
			if *p.PeerASN < 0 || *p.PeerASN > 4294967295 {
				t.error(ccRef, field+".peerASN", "%d is not an ASN in 0..4294967295: peer not configured", *p.PeerASN)
				continue
			}
			peer.ASN = uint32(*p.PeerASN)
			peer.Sources["asn"] = model.Source{Object: ccRef, Field: field + ".peerASN"}
		}
		if !t.localAddress(&peer, rpc, ov, ovIdx, o) {
			continue
		}
		addresses[peer.Address] = p.Name
		groups[rpc.group.Name] = rpc
		inst.Peers = append(inst.Peers, peer)
	}
	if !ok {
		return false
	}
	for _, rpc := range groups {
		inst.PeerGroups = append(inst.PeerGroups, rpc.group)
	}
	sort.Slice(inst.PeerGroups, func(i, j int) bool { return inst.PeerGroups[i].Name < inst.PeerGroups[j].Name })
	return true
}

// peerGroupFor resolves a peer's peerConfigRef. No reference means defaults and no
// advertisements; a reference to a missing PeerConfig leaves the peer out.
func (t *translation) peerGroupFor(p *model.CiliumBGPPeer, ccRef model.ObjectRef, field string) (*resolvedPeerConfig, bool) {
	ref := p.PeerConfigRef
	if ref == nil || ref.Name == "" {
		return defaultsGroup(), true
	}
	if ref.Kind != "" && ref.Kind != model.KindCiliumBGPPeerConfig {
		t.warn(ccRef, field+".peerConfigRef.kind", "kind %q is not supported: peer not configured", ref.Kind)
		return nil, false
	}
	rpc := t.peerConfig(ref.Name)
	if rpc == nil {
		t.warn(ccRef, field+".peerConfigRef.name", "CiliumBGPPeerConfig %q not found (MissingPeerConfigs): peer %q not configured", ref.Name, p.Name)
		return nil, false
	}
	return rpc, rpc.usable
}

// peerAddress sets the address from peerAddress or, without one, from DefaultGateway
// auto-discovery.
func (t *translation) peerAddress(peer *model.Peer, p *model.CiliumBGPPeer, ccRef model.ObjectRef, field string) bool {
	if p.PeerAddress != nil {
		raw := strings.TrimSpace(*p.PeerAddress)
		a, err := netip.ParseAddr(raw)
		if err != nil {
			t.error(ccRef, field+".peerAddress", "%q is not an IP address: peer %q not configured", raw, p.Name)
			return false
		}
		if a.Zone() != "" {
			t.warn(ccRef, field+".peerAddress", "zoned address %q is not supported: peer %q not configured", raw, p.Name)
			return false
		}
		peer.Address = a.Unmap()
		peer.Sources["address"] = model.Source{Object: ccRef, Field: field + ".peerAddress"}
		return true
	}
	ad := p.AutoDiscovery
	if ad == nil {
		t.warn(ccRef, field+".peerAddress", "peer %q has no peerAddress and no autoDiscovery: not configured", p.Name)
		return false
	}
	if ad.Mode != model.AutoDiscoveryDefaultGateway || ad.DefaultGateway == nil {
		t.warn(ccRef, field+".autoDiscovery.mode", "mode %q is not supported: peer %q not configured", ad.Mode, p.Name)
		return false
	}
	family := ad.DefaultGateway.AddressFamily
	if family != "ipv4" && family != "ipv6" {
		t.warn(ccRef, field+".autoDiscovery.defaultGateway.addressFamily", "%q is not ipv4 or ipv6: peer %q not configured", family, p.Name)
		return false
	}
	gw, ok := defaultGateway(t.host.DefaultRoutes, family)
	if !ok {
		t.warn(ccRef, field+".autoDiscovery", "no usable %s default route on the host: peer %q not configured", family, p.Name)
		return false
	}
	peer.Address = gw.Gateway
	peer.Sources["address"] = model.Source{
		Object: model.ObjectRef{Kind: "DefaultRoute", Name: family + " via " + gw.Gateway.String() + " dev " + gw.Interface},
		Field:  fmt.Sprintf("metric %d", gw.Metric),
	}
	return true
}

// peerAddressUsable refuses a peer at an address no BGP speaker can have, or at one of the
// node's own addresses (FRR would try to peer with itself).
func (t *translation) peerAddressUsable(peer *model.Peer) bool {
	src := peer.Sources["address"]
	if why := UnusablePeerAddress(peer.Address); why != "" {
		t.warn(src.Object, src.Field, "%s is %s address, which no BGP speaker has: peer %q not configured", peer.Address, addressKind(why), peer.Name)
		return false
	}
	if where, own := t.ownAddresses()[peer.Address]; own {
		t.warn(src.Object, src.Field, "%s is this node's own address (%s): peer %q not configured", peer.Address, where, peer.Name)
		return false
	}
	return true
}

// ownAddresses are the node's addresses, each with where it was found: its CiliumNode's (or
// Node's) addresses and its host interfaces'.
func (t *translation) ownAddresses() map[netip.Addr]string {
	if t.own != nil {
		return t.own
	}
	t.own = map[netip.Addr]string{}
	add := func(raw, where string) {
		if a, err := netip.ParseAddr(strings.TrimSpace(raw)); err == nil && a.Zone() == "" {
			if _, dup := t.own[a.Unmap()]; !dup {
				t.own[a.Unmap()] = where
			}
		}
	}
	if cn := t.ciliumNode; cn != nil {
		for i, a := range cn.Spec.Addresses {
			add(a.IP, fmt.Sprintf("%s spec.addresses[%d].ip", model.ObjectRef{Kind: model.KindCiliumNode, Name: cn.Name}, i))
		}
	}
	if n := t.node; n != nil {
		for i, a := range n.Status.Addresses {
			add(a.Address, fmt.Sprintf("%s status.addresses[%d].address", model.ObjectRef{Kind: model.KindNode, Name: n.Name}, i))
		}
	}
	for _, ifc := range t.host.Interfaces {
		for _, p := range ifc.Addresses {
			// An IPv4-mapped IPv6 address on an interface does not make the IPv4 address its own.
			if a := p.Addr(); a.IsValid() && !a.Is4In6() {
				add(a.String(), fmt.Sprintf("interface %q", ifc.Name))
			}
		}
	}
	return t.own
}

// defaultGateway picks the gateway Cilium would peer with: among default routes of the
// family whose link is up and whose gateway is not link-local, the lowest metric.
func defaultGateway(routes []model.DefaultRoute, family string) (model.DefaultRoute, bool) {
	var best model.DefaultRoute
	found := false
	for _, r := range routes {
		if r.Family != family || !r.Gateway.IsValid() || !r.LinkUp || r.Gateway.IsLinkLocalUnicast() {
			continue
		}
		if !found || r.Metric < best.Metric || (r.Metric == best.Metric && r.Gateway.Less(best.Gateway)) {
			best, found = r, true
		}
	}
	return best, found
}

// localAddress sets the session's source address: the override's localAddress, else the one
// usable address of the PeerConfig's sourceInterface.
func (t *translation) localAddress(peer *model.Peer, rpc *resolvedPeerConfig, ov *model.CiliumBGPNodeConfigInstanceOverride, ovIdx int, o *model.CiliumBGPNodeConfigOverride) bool {
	if ov != nil {
		for k, op := range ov.Peers {
			if op.Name != peer.Name || op.LocalAddress == nil {
				continue
			}
			ref := model.ObjectRef{Kind: model.KindCiliumBGPNodeConfigOverride, Name: o.Name}
			field := fmt.Sprintf("spec.bgpInstances[%d].peers[%d].localAddress", ovIdx, k)
			a, err := netip.ParseAddr(strings.TrimSpace(*op.LocalAddress))
			if err != nil || a.Zone() != "" {
				t.warn(ref, field, "%q is not an IP address: ignored", *op.LocalAddress)
				break
			}
			a = a.Unmap()
			if a.Is4() != peer.Address.Is4() {
				t.warn(ref, field, "%s is not of the family of peer address %s: ignored", a, peer.Address)
				break
			}
			peer.LocalAddress = a
			peer.Sources["localAddress"] = model.Source{Object: ref, Field: field}
			return true
		}
	}
	if rpc.sourceInterface == "" {
		return true
	}
	ref := model.ObjectRef{Kind: model.KindCiliumBGPPeerConfig, Name: rpc.group.Name}
	a, why := interfaceLocalAddress(t.host.Interfaces, rpc.sourceInterface, peer.Address)
	if why != "" {
		t.warn(ref, "spec.transport.sourceInterface", "%s: peer %q not configured", why, peer.Name)
		return false
	}
	peer.LocalAddress = a
	peer.Sources["localAddress"] = model.Source{Object: ref, Field: "spec.transport.sourceInterface"}
	return true
}

// interfaceLocalAddress returns the one address of the interface usable towards peer.
func interfaceLocalAddress(ifaces []model.Interface, name string, peer netip.Addr) (netip.Addr, string) {
	for _, ifc := range ifaces {
		if ifc.Name != name {
			continue
		}
		var found []netip.Addr
		for _, p := range ifc.Addresses {
			if a := p.Addr(); a.Is4() == peer.Is4() && UsableAddress(a) {
				found = append(found, a)
			}
		}
		if len(found) != 1 {
			return netip.Addr{}, fmt.Sprintf("interface %q has %d usable addresses of the peer's family, not exactly one", name, len(found))
		}
		return found[0], ""
	}
	return netip.Addr{}, fmt.Sprintf("interface %q not found on the host", name)
}

// UsableAddress is Cilium's filter of an interface's addresses, for Interface advertisements
// and transport.sourceInterface: IPv6 global unicast; IPv4 global or link-local unicast (not
// loopback, multicast, unspecified or the broadcast address); never IPv4-mapped IPv6.
func UsableAddress(a netip.Addr) bool {
	switch {
	case !a.IsValid() || a.Is4In6():
		return false
	case a.Is6():
		return a.IsGlobalUnicast()
	}
	return a.IsGlobalUnicast() || a.IsLinkLocalUnicast()
}

// selectorOrNothing follows Cilium for advertisement selectors: nil selects nothing.
func selectorOrNothing(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Nothing(), nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

// selectorOrEverything follows Cilium for node selectors: nil selects every node.
func selectorOrEverything(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(s)
}
