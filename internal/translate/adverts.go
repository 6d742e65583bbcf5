package translate

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// Advertisement in Cilium: each peer group selects CiliumBGPAdvertisements per family by
// their labels; every rule (spec.advertisements[i]) of a selected object yields prefixes of
// that family; a peer receives a prefix when its group selected a rule that yields it, with
// the union of the communities and the highest local preference of those rules.

// ruleKey names a rule's output for one family.
type ruleKey struct {
	advert string
	index  int
	family model.Family
}

func (k ruleKey) less(o ruleKey) bool {
	if k.advert != o.advert {
		return k.advert < o.advert
	}
	return k.index < o.index
}

// ruleOutput is what one rule yields for one family on this node, computed once per
// translation whatever the number of instances and groups that select it.
type ruleOutput struct {
	ref      model.RuleRef
	prefixes []prefixOrigins // sorted by prefix
	attrs    ruleAttributes
}

type prefixOrigins struct {
	prefix  netip.Prefix
	origins []model.Origin
}

type ruleAttributes struct {
	communities []model.Community
	large       []model.LargeCommunity
	localPref   *uint32
}

// advertisements fills the instance's prefixes and export policies.
func (t *translation) advertisements(inst *model.Instance) {
	// selected[group] holds the rules the group exports, per family.
	selected := map[string]map[ruleKey]bool{}
	all := map[ruleKey]*ruleOutput{}
	for _, pg := range inst.PeerGroups {
		rpc := t.resolved[pg.Name]
		if rpc == nil {
			continue // DefaultsGroup: no advertisement.
		}
		for _, fs := range rpc.selectors {
			for _, adv := range t.adverts {
				if !fs.selector.Matches(labels.Set(adv.Labels)) {
					continue
				}
				for i := range adv.Spec.Advertisements {
					out := t.rule(adv, i, fs.family)
					if out == nil {
						continue
					}
					key := ruleKey{advert: adv.Name, index: i, family: fs.family}
					if selected[pg.Name] == nil {
						selected[pg.Name] = map[ruleKey]bool{}
					}
					selected[pg.Name][key] = true
					all[key] = out
				}
			}
		}
	}

	type prefixState struct {
		rules   []ruleKey
		origins []model.Origin
		sig     string
	}
	byPrefix := map[netip.Prefix]*prefixState{}
	keys := make([]ruleKey, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	for _, k := range keys {
		for _, po := range all[k].prefixes {
			st := byPrefix[po.prefix]
			if st == nil {
				st = &prefixState{}
				byPrefix[po.prefix] = st
			}
			st.rules = append(st.rules, k)
			st.origins = append(st.origins, po.origins...)
		}
	}

	policies := map[string]*model.ExportPolicy{}
	// One signature per distinct rule set, looked up by the rules' indexes in keys.
	keyIndex := make(map[ruleKey]int, len(keys))
	for i, k := range keys {
		keyIndex[k] = i
	}
	sigOf := map[string]string{}
	var buf []byte
	for _, st := range byPrefix {
		buf = buf[:0]
		for _, k := range st.rules {
			buf = strconv.AppendInt(buf, int64(keyIndex[k]), 10)
			buf = append(buf, ',')
		}
		sig, ok := sigOf[string(buf)]
		if !ok {
			sig = signature(st.rules)
			sigOf[string(buf)] = sig
		}
		st.sig = sig
		if _, ok := policies[sig]; ok {
			continue
		}
		pol := &model.ExportPolicy{Family: st.rules[0].family}
		for _, k := range st.rules {
			pol.Rules = append(pol.Rules, all[k].ref)
		}
		for _, pg := range inst.PeerGroups {
			if ex, ok := export(pg.Name, st.rules, selected[pg.Name], all); ok {
				pol.Exports = append(pol.Exports, ex)
			}
		}
		policies[sig] = pol
	}
	ids := assignPolicyIDs(policies)

	inst.Prefixes = make([]model.AdvertisedPrefix, 0, len(byPrefix))
	for p, st := range byPrefix {
		inst.Prefixes = append(inst.Prefixes, model.AdvertisedPrefix{Prefix: p, Policy: ids[st.sig], Origins: st.origins,
			OriginIncomplete: t.opts.LegacyOriginAttribute && slices.ContainsFunc(st.origins, isLoadBalancerIP)})
	}
	slices.SortFunc(inst.Prefixes, func(a, b model.AdvertisedPrefix) int { return prefixCmp(a.Prefix, b.Prefix) })
	for _, pol := range policies {
		inst.Policies = append(inst.Policies, *pol)
	}
	sort.Slice(inst.Policies, func(i, j int) bool { return inst.Policies[i].ID < inst.Policies[j].ID })
}

// export merges, for one group, the attributes of the policy's rules the group selected.
func export(group string, rules []ruleKey, selected map[ruleKey]bool, all map[ruleKey]*ruleOutput) (model.Export, bool) {
	ex := model.Export{PeerGroup: group}
	found := false
	comms := map[model.Community]bool{}
	large := map[model.LargeCommunity]bool{}
	for _, k := range rules {
		if !selected[k] {
			continue
		}
		found = true
		a := all[k].attrs
		for _, c := range a.communities {
			if !comms[c] {
				comms[c] = true
				ex.Communities = append(ex.Communities, c)
			}
		}
		for _, c := range a.large {
			if !large[c] {
				large[c] = true
				ex.LargeCommunities = append(ex.LargeCommunities, c)
			}
		}
		if a.localPref != nil && (ex.LocalPreference == nil || *a.localPref > *ex.LocalPreference) {
			lp := *a.localPref
			ex.LocalPreference = &lp
		}
	}
	sort.Slice(ex.Communities, func(i, j int) bool { return ex.Communities[i] < ex.Communities[j] })
	sort.Slice(ex.LargeCommunities, func(i, j int) bool { return ex.LargeCommunities[i].Less(ex.LargeCommunities[j]) })
	return ex, found
}

// signature identifies a policy by its family and its rules (already sorted).
func signature(rules []ruleKey) string {
	var b strings.Builder
	b.WriteString(rules[0].family.String())
	for _, k := range rules {
		fmt.Fprintf(&b, "|%s#%d", k.advert, k.index)
	}
	return b.String()
}

// assignPolicyIDs derives each policy's ID from its signature, so that IDs do not move when
// other policies come and go. IDs are FRR route tags: never 0. The rare collision is settled
// by probing upwards in signature order.
func assignPolicyIDs(policies map[string]*model.ExportPolicy) map[string]uint32 {
	sigs := make([]string, 0, len(policies))
	for s := range policies {
		sigs = append(sigs, s)
	}
	sort.Strings(sigs)
	ids := map[string]uint32{}
	taken := map[uint32]bool{}
	for _, s := range sigs {
		h := fnv.New32a()
		h.Write([]byte(s))
		id := h.Sum32()
		for id == 0 || taken[id] {
			id++
		}
		taken[id] = true
		ids[s] = id
		policies[s].ID = id
	}
	return ids
}

// prefixCmp orders IPv4 before IPv6, then by address, then by length: the order of FRR's
// table walk, in which it prints network statements back.
func prefixCmp(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// ruleInfo is a rule checked once: its reference, compiled selector and attributes.
type ruleInfo struct {
	ref       model.RuleRef
	spec      *model.BGPAdvertisement
	selector  labels.Selector
	addresses []string
	attrs     ruleAttributes
}

// ruleSpec checks rule i of adv once, reporting its problems; nil when it is unusable.
func (t *translation) ruleSpec(adv *model.CiliumBGPAdvertisement, i int) *ruleInfo {
	key := ruleRefKey{adv.Name, i}
	if info, ok := t.ruleInfos[key]; ok {
		return info
	}
	info := t.checkRule(adv, i)
	t.ruleInfos[key] = info
	return info
}

type ruleRefKey struct {
	advert string
	index  int
}

func (t *translation) checkRule(adv *model.CiliumBGPAdvertisement, i int) *ruleInfo {
	a := &adv.Spec.Advertisements[i]
	obj := model.ObjectRef{Kind: model.KindCiliumBGPAdvertisement, Name: adv.Name}
	field := fmt.Sprintf("spec.advertisements[%d]", i)
	info := &ruleInfo{ref: model.RuleRef{Advertisement: adv.Name, Index: i, Type: a.AdvertisementType}, spec: a, selector: labels.Nothing()}
	switch a.AdvertisementType {
	case model.AdvertPodCIDR:
		if a.Selector != nil {
			t.warn(obj, field+".selector", "not allowed for PodCIDR: ignored")
		}
	case model.AdvertCiliumPodIPPool, model.AdvertService:
		sel, err := selectorOrNothing(a.Selector)
		if err != nil {
			t.error(obj, field+".selector", "invalid selector: %v: rule ignored", err)
			return nil
		}
		info.selector = sel
		if a.AdvertisementType == model.AdvertService {
			if a.Service == nil || len(a.Service.Addresses) == 0 {
				t.error(obj, field+".service.addresses", "required for advertisementType Service: rule ignored")
				return nil
			}
			if !t.checkServiceOptions(info, obj, field+".service") {
				return nil
			}
		}
	case model.AdvertInterface:
		if a.Interface == nil || a.Interface.Name == nil || *a.Interface.Name == "" {
			t.error(obj, field+".interface.name", "required for advertisementType Interface: rule ignored")
			return nil
		}
	default:
		t.error(obj, field+".advertisementType", "%q is not one of PodCIDR, CiliumPodIPPool, Service, Interface: rule ignored", a.AdvertisementType)
		return nil
	}
	info.attrs = t.attributes(a.Attributes, obj, field+".attributes")
	return info
}

// rule computes (once) what rule i of adv yields for a family; nil when the rule is unusable.
func (t *translation) rule(adv *model.CiliumBGPAdvertisement, i int, fam model.Family) *ruleOutput {
	key := ruleKey{advert: adv.Name, index: i, family: fam}
	if out, ok := t.rules[key]; ok {
		return out
	}
	var out *ruleOutput
	if info := t.ruleSpec(adv, i); info != nil {
		out = &ruleOutput{ref: info.ref, attrs: info.attrs}
		var prefixes map[netip.Prefix][]model.Origin
		switch info.ref.Type {
		case model.AdvertPodCIDR:
			prefixes = t.podCIDRs(info.ref, fam)
		case model.AdvertCiliumPodIPPool:
			prefixes = t.podIPPools(info, fam)
		case model.AdvertService:
			prefixes = t.servicePrefixes(info, fam)
		case model.AdvertInterface:
			prefixes = t.interfacePrefixes(*info.spec.Interface.Name, info.ref, fam)
		}
		out.prefixes = make([]prefixOrigins, 0, len(prefixes))
		for p, origins := range prefixes {
			out.prefixes = append(out.prefixes, prefixOrigins{prefix: p, origins: origins})
		}
		slices.SortFunc(out.prefixes, func(a, b prefixOrigins) int { return prefixCmp(a.prefix, b.prefix) })
	}
	t.rules[key] = out
	return out
}

// isLoadBalancerIP tells an origin that is a Service's LoadBalancer IP.
func isLoadBalancerIP(o model.Origin) bool {
	return o.Object.Kind == model.KindService && o.Detail == model.ServiceLoadBalancerIP
}

// parseCIDR reads a CIDR of a CiliumNode's status or spec. An IPv4-mapped IPv6 one
// (::ffff:10.0.0.0/104) is refused: no family says it, and FRR would announce it as IPv6.
func parseCIDR(c string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(c))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR", c)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q is an IPv4-mapped IPv6 CIDR", c)
	}
	return p, nil
}

func (t *translation) podCIDRs(ref model.RuleRef, fam model.Family) map[netip.Prefix][]model.Origin {
	out := map[netip.Prefix][]model.Origin{}
	if t.ciliumNode == nil {
		return out
	}
	// Cilium's PodCIDR reconciler runs only where the node owns its pod CIDRs.
	if mode := cmp.Or(t.opts.IPAMMode, IPAMClusterPool); mode != IPAMClusterPool && mode != IPAMKubernetes {
		t.warn(model.ObjectRef{Kind: model.KindCiliumBGPAdvertisement, Name: ref.Advertisement}, fmt.Sprintf("spec.advertisements[%d]", ref.Index),
			"PodCIDR advertisements need IPAM mode %s or %s; this cluster's is %q: nothing advertised", IPAMClusterPool, IPAMKubernetes, mode)
		return out
	}
	obj := model.ObjectRef{Kind: model.KindCiliumNode, Name: t.ciliumNode.Name}
	for k, c := range t.ciliumNode.Spec.IPAM.PodCIDRs {
		p, err := parseCIDR(c)
		if err != nil {
			t.warn(obj, fmt.Sprintf("spec.ipam.podCIDRs[%d]", k), "%v: ignored", err)
			continue
		}
		if model.FamilyOf(p.Addr()) != fam {
			continue
		}
		p = p.Masked()
		out[p] = append(out[p], model.Origin{Rule: ref, Object: obj, Detail: "spec.ipam.podCIDRs"})
	}
	return out
}

func (t *translation) podIPPools(info *ruleInfo, fam model.Family) map[netip.Prefix][]model.Origin {
	out := map[netip.Prefix][]model.Origin{}
	sel, ref := info.selector, info.ref
	if t.ciliumNode == nil {
		return out
	}
	pools := map[string]*model.CiliumPodIPPool{}
	for _, pool := range t.snap.PodIPPools {
		set := labels.Set{}
		for k, v := range pool.Labels {
			set[k] = v
		}
		set["io.cilium.podippool.name"] = pool.Name
		set["io.cilium.podippool.namespace"] = pool.Namespace
		if sel.Matches(set) {
			pools[pool.Name] = pool
		}
	}
	cn := model.ObjectRef{Kind: model.KindCiliumNode, Name: t.ciliumNode.Name}
	for k, alloc := range t.ciliumNode.Spec.IPAM.Pools.Allocated {
		pool, ok := pools[alloc.Pool]
		if !ok {
			continue
		}
		mask := 0
		if fam == model.IPv4Unicast && pool.Spec.IPv4 != nil {
			mask = pool.Spec.IPv4.MaskSize
		}
		if fam == model.IPv6Unicast && pool.Spec.IPv6 != nil {
			mask = pool.Spec.IPv6.MaskSize
		}
		for m, c := range alloc.CIDRs {
			cfield := fmt.Sprintf("spec.ipam.pools.allocated[%d].cidrs[%d]", k, m)
			p, err := parseCIDR(c)
			if err != nil {
				t.warn(cn, cfield, "%v: ignored", err)
				continue
			}
			if model.FamilyOf(p.Addr()) != fam {
				continue
			}
			// Cilium's export policy matches the pool's mask size exactly; a pool without
			// the family's section has no policy for it.
			if mask == 0 {
				t.warn(cn, cfield, "pool %q has no %s maskSize (spec.%s unset): not advertised", pool.Name, fam.AFI, fam.AFI)
				continue
			}
			if p.Bits() != mask {
				t.warn(cn, cfield, "%s does not have the mask size of pool %q, /%d: not advertised", p, pool.Name, mask)
				continue
			}
			p = p.Masked()
			out[p] = append(out[p], model.Origin{Rule: ref, Object: model.ObjectRef{Kind: model.KindCiliumPodIPPool, Name: pool.Name}, Detail: cfield})
		}
	}
	return out
}

func (t *translation) interfacePrefixes(name string, ref model.RuleRef, fam model.Family) map[netip.Prefix][]model.Origin {
	out := map[netip.Prefix][]model.Origin{}
	found := false
	for _, ifc := range t.host.Interfaces {
		if ifc.Name != name {
			continue
		}
		found = true
		if !ifc.Up() {
			return out
		}
		for _, p := range ifc.Addresses {
			a := p.Addr()
			if !UsableAddress(a) || model.FamilyOf(a) != fam {
				continue
			}
			host := netip.PrefixFrom(a, a.BitLen())
			if len(out[host]) == 0 {
				out[host] = append(out[host], model.Origin{Rule: ref, Object: model.ObjectRef{Kind: "Interface", Name: name}, Detail: p.String()})
			}
		}
	}
	if !found {
		// Cilium finds no device and announces nothing, without a word.
		t.warn(model.ObjectRef{Kind: model.KindCiliumBGPAdvertisement, Name: ref.Advertisement}, fmt.Sprintf("spec.advertisements[%d].interface.name", ref.Index),
			"no interface %q on the host of node %q: nothing advertised", name, t.opts.Node)
	}
	return out
}
