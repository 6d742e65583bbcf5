package explain

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// PeerAnswer explains where each setting of a peer comes from.
type PeerAnswer struct {
	Node     string    `json:"node"`
	Query    string    `json:"query"`
	Instance string    `json:"instance"`
	Peer     string    `json:"peer"`
	Settings []Setting `json:"settings"`
	// Families lists, per family the peer negotiates, which CiliumBGPAdvertisements its
	// PeerConfig selects.
	Families []FamilyAdverts `json:"families,omitempty"`
}

// Setting is one value of the peer's session and the object and field that set it, or the
// Cilium default that applied.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// From is "Kind/name field", or "Cilium default" / "frr-renderer" for values no object set.
	From string `json:"from"`
}

type FamilyAdverts struct {
	Family         string   `json:"family"`
	Advertisements []string `json:"advertisements"`
	Selector       string   `json:"selector"`
}

// Peer explains the peer whose address or name is query.
func Peer(in Input, query string) (PeerAnswer, error) {
	res, err := translate.Translate(in.Snapshot, in.Host, in.Options)
	if err != nil {
		return PeerAnswer{}, err
	}
	addr, addrErr := netip.ParseAddr(query)
	for i := range res.Config.Instances {
		inst := &res.Config.Instances[i]
		for j := range inst.Peers {
			p := &inst.Peers[j]
			if p.Name == query || addrErr == nil && p.Address == addr {
				return peerAnswer(in, res, inst, p), nil
			}
		}
	}
	if res.Config.ClusterConfig == "" {
		return PeerAnswer{}, fmt.Errorf("node %s has no BGP peers: no CiliumBGPClusterConfig selects it", model.QuoteUnlessPlain(in.Options.Node))
	}
	var known []string
	for _, inst := range res.Config.Instances {
		for _, p := range inst.Peers {
			known = append(known, fmt.Sprintf("%s (%s)", model.QuoteUnlessPlain(p.Name), p.Address))
		}
	}
	return PeerAnswer{}, fmt.Errorf("node %s has no peer named or addressed %q (its peers: %s)", model.QuoteUnlessPlain(in.Options.Node), query, strings.Join(known, ", "))
}

func peerAnswer(in Input, res translate.Result, inst *model.Instance, p *model.Peer) PeerAnswer {
	ans := PeerAnswer{Node: in.Options.Node, Query: p.Address.String(), Instance: inst.Name, Peer: p.Name}
	add := func(name, value string, src model.Source, ok bool, fallback string) {
		from := fallback
		if ok {
			from = src.Object.String()
			if src.Field != "" {
				from += " " + src.Field
			}
		}
		ans.Settings = append(ans.Settings, Setting{Name: name, Value: value, From: from})
	}
	ccRef := model.Source{Object: model.ObjectRef{Kind: model.KindCiliumBGPClusterConfig, Name: res.Config.ClusterConfig}}
	add("instance", inst.Name, ccRef, true, "")
	if inst != &res.Config.Instances[0] {
		// Every instance but the first is an FRR view; a name FRR cannot take is mapped.
		add("FRR view", model.ViewName(inst.Name), model.Source{}, false, "frr-renderer")
	}
	src, ok := inst.Sources["localASN"]
	add("local ASN", fmt.Sprint(inst.LocalASN), src, ok, "")
	src, ok = inst.Sources["routerID"]
	add("router ID", inst.RouterID.String(), src, ok, "")
	src, ok = inst.Sources["listenPort"]
	add("listen port", portString(inst.ListenPort), src, ok, "Cilium default (no localPort: the instance does not listen)")

	src, ok = p.Sources["address"]
	add("peer address", p.Address.String(), src, ok, "")
	src, ok = p.Sources["asn"]
	asn := fmt.Sprint(p.ASN)
	if p.ASN == 0 {
		asn = "0 (whatever the peer announces)"
	}
	add("peer ASN", asn, src, ok, "Cilium default")
	local := "chosen by the kernel"
	if p.LocalAddress.IsValid() {
		local = p.LocalAddress.String()
	}
	src, ok = p.Sources["localAddress"]
	add("local address", local, src, ok, "Cilium default")
	src, ok = p.Sources["group"]
	group := p.Group
	if group == model.DefaultsGroup {
		group = "none (no peerConfigRef: Cilium's default settings, no advertisement)"
	}
	add("peer config", group, src, ok, "Cilium default")

	gi := slices.IndexFunc(inst.PeerGroups, func(g model.PeerGroup) bool { return g.Name == p.Group })
	if gi < 0 {
		return ans
	}
	g := &inst.PeerGroups[gi]
	def := "Cilium default"
	s := func(key string) (model.Source, bool) { src, ok := g.Sources[key]; return src, ok }
	src, ok = s("peerPort")
	add("peer port", fmt.Sprint(g.PeerPort), src, ok, def)
	src, ok = s("timers.connectRetry")
	add("connect retry", fmt.Sprintf("%ds", g.Timers.ConnectRetry), src, ok, def)
	src, ok = s("timers.hold")
	add("hold time", fmt.Sprintf("%ds", g.Timers.Hold), src, ok, def)
	src, ok = s("timers.keepalive")
	add("keepalive", fmt.Sprintf("%ds", g.Timers.Keepalive), src, ok, def)
	password := "none"
	if g.Password.IsSet() {
		password = "set (the value is never shown)"
	}
	src, ok = s("password")
	add("TCP-MD5 password", password, src, ok, "none (no authSecretRef)")
	hop := "1 (directly connected)"
	if g.EBGPMultihop > 1 {
		hop = fmt.Sprint(g.EBGPMultihop)
	}
	src, ok = s("ebgpMultihop")
	add("eBGP multihop", hop, src, ok, def)
	src, ok = s("gracefulRestart.enabled")
	add("graceful restart", fmt.Sprint(g.GracefulRestart.Enabled), src, ok, def)
	src, ok = s("gracefulRestart.restartTime")
	add("restart time", fmt.Sprintf("%ds", g.GracefulRestart.RestartTime), src, ok, def)
	var fams []string
	for _, f := range g.Families {
		fams = append(fams, f.String())
	}
	add("families", strings.Join(fams, ", "), model.Source{Object: model.ObjectRef{Kind: model.KindCiliumBGPPeerConfig, Name: g.Name}, Field: "spec.families"},
		g.Name != model.DefaultsGroup, "Cilium default")

	c := newChecker(in, res)
	if pc := c.peerConfig(g.Name); pc != nil {
		for i, f := range pc.Spec.Families {
			fa := FamilyAdverts{Family: f.AFI + "/" + f.SAFI, Advertisements: []string{},
				Selector: fmt.Sprintf("%s spec.families[%d].advertisements: %s", model.ObjectRef{Kind: model.KindCiliumBGPPeerConfig, Name: pc.Name}, i, selectorString(f.Advertisements, false))}
			for _, adv := range c.adverts {
				if selectorMatches(f.Advertisements, false, labelsOf(adv.Labels)) {
					fa.Advertisements = append(fa.Advertisements, model.KindCiliumBGPAdvertisement+"/"+adv.Name)
				}
			}
			ans.Families = append(ans.Families, fa)
		}
	}
	return ans
}

func portString(p uint16) string {
	if p == 0 {
		return "none"
	}
	return fmt.Sprint(p)
}

func labelsOf(m map[string]string) labels.Set { return labels.Set(m) }
