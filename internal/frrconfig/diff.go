package frrconfig

import (
	"fmt"
	"slices"
	"strings"
)

// Ownership says which running route-maps and BGP instances frr-renderer may change or delete.
// Whatever the desired configuration holds is frr-renderer's anyway. Everything else (an
// operator's route-map, a BGP instance in a VRF, static routes, logging, BFD, lists) is never
// changed nor deleted.
//
// An applier keeps what it rendered: after applying a configuration D, it remembers
// D.Rendered() and passes it, united with the current peer group names, the next time. Keep it
// across restarts of frr-renderer (a state file): an instance rendered before a restart and
// no longer desired after it is otherwise left running as foreign.
type Ownership struct {
	// Instances are the running instances frr-renderer rendered before: one no longer desired is
	// deleted, one whose place a desired instance takes (another ASN) is deleted and re-created.
	Instances []InstanceID
	// PeerGroups are the FRR names of the model's peer groups (PeerGroupName of the
	// CiliumBGPPeerConfig names): route-maps NAME-ipv4-out and NAME-ipv6-out are frr-renderer's.
	PeerGroups []string
	// RouteMaps are further route-map names frr-renderer rendered before.
	RouteMaps []string
}

// Rendered returns the ownership of everything c holds: c's instances and route-maps.
func (c *Config) Rendered() Ownership {
	return Ownership{Instances: c.Instances(), RouteMaps: c.RouteMaps()}
}

// OwnershipOf is what frr-renderer owns once c runs: c's instances and route-maps, and c's
// peer-groups (named after the model's PeerConfigs, whose outbound route-maps are frr-renderer's).
func OwnershipOf(c *Config) Ownership {
	o := c.Rendered()
	for _, in := range c.instances {
		for _, p := range in.peers {
			if p.group && !slices.Contains(o.PeerGroups, p.name) {
				o.PeerGroups = append(o.PeerGroups, p.name)
			}
		}
	}
	slices.Sort(o.PeerGroups)
	return o
}

// Union returns the ownership of both o and p.
func (o Ownership) Union(p Ownership) Ownership {
	merge := func(a, b []string) []string {
		out := slices.Concat(a, b)
		slices.Sort(out)
		return slices.Compact(out)
	}
	ids := slices.Concat(o.Instances, p.Instances)
	slices.SortFunc(ids, func(a, b InstanceID) int { return strings.Compare(a.String(), b.String()) })
	return Ownership{
		Instances:  slices.Compact(ids),
		PeerGroups: merge(o.PeerGroups, p.PeerGroups),
		RouteMaps:  merge(o.RouteMaps, p.RouteMaps),
	}
}

// OwnsRouteMap reports whether a route-map name is frr-renderer's by its name alone:
// RejectRouteMap, OriginRouteMapPrefix + anything, a peer group's outbound
// maps, or a name rendered before.
func (o Ownership) OwnsRouteMap(name string) bool {
	if name == RejectRouteMap || strings.HasPrefix(name, OriginRouteMapPrefix) || slices.Contains(o.RouteMaps, name) {
		return true
	}
	for _, g := range o.PeerGroups {
		if name == g+"-ipv4-out" || name == g+"-ipv6-out" {
			return true
		}
	}
	return false
}

// OwnsInstance reports whether a running instance was rendered by frr-renderer before.
func (o Ownership) OwnsInstance(id InstanceID) bool { return slices.Contains(o.Instances, id) }

// Conflicts lists the desired instances that cannot be applied because a foreign instance
// holds their place (the default instance, or the view's name, with another ASN or kind):
// Delta leaves those alone, and frr-renderer must not delete an instance it did not render.
func Conflicts(running, desired *Config, owns Ownership) []string {
	var out []string
	for _, d := range desired.instances {
		r := running.instIdx[d.id.slot()]
		if r != nil && r.id != d.id && !owns.OwnsInstance(r.id) {
			out = append(out, fmt.Sprintf("%q cannot be configured: FRR runs %q, which frr-renderer did not render", d.id, r.id))
		}
	}
	return out
}

// Delta returns the configuration lines that turn running into desired, to be sent in
// `configure terminal` mode, each line as typed, with the lines that enter and leave nodes
// ("router bgp 65001", " address-family ipv4 unicast", "  network 10.0.0.0/24 route-map X",
// " exit-address-family", "exit"). It is empty when nothing differs.
//
// Order: new and changed route-map entries first (defined before referenced); then owned
// instances that go away; then each desired instance: globals, peer-groups (before the
// neighbors that join them), deleted neighbors, changed and new neighbors (remote-as before
// peer-group), address families, deleted peer-groups (after their members); route-map entries
// no longer desired last (references are gone by then). Within a block, removals come before
// additions. A setting is overwritten in place where FRR allows it (see Rules) and sent only
// when it changes.
//
// Lines carry passwords in clear text: see SessionResetting for which lines reset sessions,
// and never log the delta unmasked.
func Delta(running, desired *Config, owns Ownership) []string {
	var out []string
	// 1. Route-map entries, new or changed.
	for _, d := range desired.routeMaps {
		r := running.rmIdx[d.key()]
		if r == nil {
			out = append(out, d.header())
			out = appendIndented(out, " ", d.lines)
			out = append(out, "exit")
			continue
		}
		ch := diffLines(RouteMapScope, r.lines, d.lines)
		if r.action != d.action || len(ch) > 0 {
			out = append(out, d.header())
			out = appendIndented(out, " ", ch)
			out = append(out, "exit")
		}
	}
	// 2. Owned instances that go away, or give their place to another ASN.
	replaced := map[string]bool{}
	for _, r := range running.instances {
		d := desired.instIdx[r.id.slot()]
		if d != nil && d.id == r.id {
			continue
		}
		if !owns.OwnsInstance(r.id) {
			continue // foreign; Conflicts reports a clash
		}
		out = append(out, deleteInstance(r.id))
		replaced[r.id.slot()] = true
	}
	// 3. Desired instances.
	for _, d := range desired.instances {
		r := running.instIdx[d.id.slot()]
		switch {
		case r == nil || replaced[d.id.slot()]:
			r = &bgpInstance{id: d.id, peerIdx: map[string]*peer{}, afIdx: map[string]*family{}}
		case r.id != d.id:
			continue // a foreign instance holds the place
		}
		if body := diffInstance(r, d); len(body) > 0 {
			out = append(out, d.id.String())
			out = append(out, body...)
			out = append(out, "exit")
		}
	}
	// 4. Route-map entries no longer desired, once nothing refers to them.
	gone := map[string]bool{}
	for _, r := range running.routeMaps {
		if desired.rmIdx[r.key()] != nil || gone[r.name] || !(desired.rmNames[r.name] || owns.OwnsRouteMap(r.name)) {
			continue
		}
		if !desired.rmNames[r.name] {
			out = append(out, "no route-map "+r.name)
			gone[r.name] = true
			continue
		}
		out = append(out, "no "+r.header())
	}
	return out
}

// ZebraDelta returns zebra's lines desired has and running lacks, to be sent to zebra in
// `configure terminal` mode. Lines running has and desired does not are left: frr-renderer
// renders them for every configuration of an FRR that needs them, and they harm nothing.
func ZebraDelta(running, desired *Config) []string {
	var out []string
	for _, l := range desired.zebra {
		if !slices.Contains(running.zebra, l) {
			out = append(out, l)
		}
	}
	return out
}

// deleteInstance is the line that deletes an instance. FRR 10.3 refuses the view form
// ("Can't find BGP instance"); the vrf form deletes a view on 8.4 and 10.3.
func deleteInstance(id InstanceID) string {
	if id.Kind == "" {
		return "no router bgp " + id.ASN
	}
	return "no router bgp " + id.ASN + " vrf " + id.Name
}

// diffInstance returns the lines inside `router bgp` that turn r into d (same instance).
func diffInstance(r, d *bgpInstance) []string {
	var out []string
	out = appendIndented(out, " ", diffLines(InstanceScope, r.globals, d.globals))

	// Neighbors that must be deleted: gone, or changed in a way FRR cannot overwrite.
	dead := map[string]bool{}
	for _, rp := range r.peers {
		dp := d.peerIdx[rp.name]
		switch {
		case dp == nil:
			dead[rp.name] = true
		case rp.group != dp.group:
			// A name is an address (neighbor) or a word (peer-group): this cannot happen with
			// frr-renderer's names. The old one is deleted; the new one is created next time.
			dead[rp.name] = true
		case !rp.group && mustRecreate(d.id.ASN, rp, dp):
			dead[rp.name] = true
		}
	}
	// New peer-groups and changes to existing ones, before the neighbors that join them.
	for _, dp := range d.peers {
		if !dp.group {
			continue
		}
		if rp := r.peerIdx[dp.name]; rp != nil && !dead[dp.name] {
			out = appendIndented(out, " ", diffLines(InstanceScope, rp.lines, dp.lines))
		} else if rp == nil {
			out = appendIndented(out, " ", orderedPeerLines(dp))
		}
	}
	// Neighbors deleted, then neighbors changed or created.
	for _, rp := range r.peers {
		if dead[rp.name] && !rp.group {
			out = append(out, " no neighbor "+rp.name)
		}
	}
	for _, dp := range d.peers {
		if dp.group {
			continue
		}
		switch rp := r.peerIdx[dp.name]; {
		case rp == nil || dead[dp.name] && !rp.group:
			out = appendIndented(out, " ", orderedPeerLines(dp))
		case !dead[dp.name]:
			out = appendIndented(out, " ", diffLines(InstanceScope, rp.lines, dp.lines))
		}
	}
	// Address families: desired ones in order, then those only running has. Lines of deleted
	// neighbors and peer-groups went (or go) with them.
	fams := slices.Clone(d.afs)
	for _, ra := range r.afs {
		if d.afIdx[ra.header] == nil {
			fams = append(fams, ra)
		}
	}
	for _, f := range fams {
		ra, da := r.afIdx[f.header], d.afIdx[f.header]
		var rl, dl []string
		if ra != nil {
			if ra.opaque {
				continue
			}
			rl = ra.lines
			if len(dead) > 0 {
				rl = slices.DeleteFunc(slices.Clone(rl), func(l string) bool { return dead[peerOf(l)] })
			}
		}
		if da != nil {
			if da.opaque {
				continue
			}
			dl = da.lines
		}
		if ch := diffLines(FamilyScope, rl, dl); len(ch) > 0 {
			out = append(out, " "+f.header)
			out = appendIndented(out, "  ", ch)
			out = append(out, " exit-address-family")
		}
	}
	// Peer-groups last: their members are gone by now.
	for _, rp := range r.peers {
		if dead[rp.name] && rp.group {
			out = append(out, " no neighbor "+rp.name+" peer-group")
		}
	}
	return out
}

// mustRecreate tells whether a neighbor's change needs delete and re-create: another
// peer-group, or a remote-as change FRR refuses in place (see Rules).
func mustRecreate(localASN string, r, d *peer) bool {
	if valueOf(r, "peer-group") != valueOf(d, "peer-group") {
		return true
	}
	ra, da := valueOf(r, "remote-as"), valueOf(d, "remote-as")
	if ra == da {
		return false
	}
	external := func(as string) bool {
		if as == "external" {
			return true
		}
		return as != "" && as != localASN && as != "internal" && as != "auto" && as[0] >= '0' && as[0] <= '9'
	}
	return !(external(ra) && external(da))
}

// valueOf returns the value of `neighbor NAME attr VALUE`, or "".
func valueOf(p *peer, attr string) string {
	prefix := "neighbor " + p.name + " " + attr + " "
	for _, l := range p.lines {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			return v
		}
	}
	return ""
}

// orderedPeerLines returns a new peer's lines in an order FRR accepts: a group's definition,
// or a neighbor's remote-as then its peer-group, before anything else.
func orderedPeerLines(p *peer) []string {
	rank := func(l string) int {
		attr := strings.TrimPrefix(l, "neighbor "+p.name+" ")
		switch {
		case attr == "peer-group":
			return 0
		case strings.HasPrefix(attr, "remote-as "):
			return 1
		case strings.HasPrefix(attr, "peer-group "):
			return 2
		}
		return 3
	}
	lines := slices.Clone(p.lines)
	slices.SortStableFunc(lines, func(a, b string) int { return rank(a) - rank(b) })
	return lines
}

// peerOf returns the peer a family line configures, or "".
func peerOf(line string) string {
	rest, ok := strings.CutPrefix(line, "neighbor ")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, " ")
	return name
}

// diffLines returns the lines that turn one scope's lines into another's: removals (the no
// form of settings desired does not have, last first), then every desired line whose setting
// is missing or has another value.
func diffLines(s Scope, running, desired []string) []string {
	if slices.Equal(running, desired) {
		return nil
	}
	have := make(map[string]string, len(running))
	for _, l := range running {
		have[keyOf(s, l)] = l
	}
	want := make(map[string]bool, len(desired))
	var sets []string
	for _, l := range desired {
		k := keyOf(s, l)
		want[k] = true
		if have[k] != l {
			sets = append(sets, l)
		}
	}
	var out []string
	for i := len(running) - 1; i >= 0; i-- {
		l := running[i]
		if k := keyOf(s, l); !want[k] {
			_, _, no := classify(s, l)
			out = append(out, no)
			want[k] = true // once
		}
	}
	return append(out, sets...)
}

func appendIndented(out []string, indent string, lines []string) []string {
	for _, l := range lines {
		out = append(out, indent+l)
	}
	return out
}
