package frrconfig

import (
	"slices"
	"strings"
)

// This file finds the sessions a delta leaves with stale negotiated parameters. Timers and the
// graceful-restart capability are exchanged in OPEN: FRR takes the new values for the next
// session and keeps the established one as it is (8.4 and 10.3 for timers and the instance's
// restart time and F bit, 8.4 for a neighbor's graceful-restart mode). Cilium resets a session
// whose negotiated parameters change (GoBGP's UpdatePeer and Cilium's needsHardReset): the
// applier resets exactly those, and no other.

// PeerReset is a neighbor whose negotiated parameters a delta changed.
type PeerReset struct {
	Instance InstanceID
	Peer     string // the neighbor's address
	// Why names the settings that changed ("timers", "graceful-restart restart-time"...).
	Why []string
}

// View is the name show and clear commands take for the instance: "" for the default one.
func (p PeerReset) View() string {
	if p.Instance.Kind == "view" {
		return p.Instance.Name
	}
	return ""
}

// NegotiatedResets returns the neighbors of running that the delta (from running to desired)
// changes a negotiated parameter of, sorted by instance and address: a neighbor's own line, its
// peer-group's, or the instance's graceful-restart settings (for its neighbors that send the
// capability with them: those not in graceful-restart-disable mode). Neighbors that are new,
// deleted or re-created have no session to keep, and instances that are created or deleted
// neither; those are left out.
func NegotiatedResets(running, desired *Config, delta []string) []PeerReset {
	// The instances the delta changes (running and desired), and the neighbors it deletes in
	// each, found first: a neighbor is deleted after its group's lines are sent.
	type block struct {
		r, d    *bgpInstance
		deleted map[string]bool
	}
	blocks := map[string]*block{}
	var cur *block
	each := func(f func(b *block, body string)) {
		cur = nil
		for _, l := range delta {
			body := strings.TrimSpace(l)
			if l == body { // top level: an instance, a route-map entry, exit
				cur = nil
				if id, err := parseRouterBGP(body); err == nil && strings.HasPrefix(body, "router bgp ") {
					cur = blocks[id.String()]
					if cur == nil {
						r, d := running.instIdx[id.slot()], desired.instIdx[id.slot()]
						if r == nil || r.id != id || d == nil || d.id != id {
							continue // created, replaced or foreign
						}
						cur = &block{r: r, d: d, deleted: map[string]bool{}}
						blocks[id.String()] = cur
					}
				}
				continue
			}
			if cur != nil {
				f(cur, body)
			}
		}
	}
	each(func(b *block, body string) {
		if f := strings.Fields(body); f[0] == "no" && f[1] == "neighbor" && (len(f) == 3 || len(f) == 4 && f[3] == "peer-group") {
			b.deleted[f[2]] = true
		}
	})

	type key struct{ inst, peer string }
	found := map[key]*PeerReset{}
	add := func(b *block, peer, why string) {
		if b.deleted[peer] || b.r.peerIdx[peer] == nil || b.d.peerIdx[peer] == nil {
			return // no session to keep, or none after the delta
		}
		k := key{b.r.id.String(), peer}
		p := found[k]
		if p == nil {
			p = &PeerReset{Instance: b.r.id, Peer: peer}
			found[k] = p
		}
		if !slices.Contains(p.Why, why) {
			p.Why = append(p.Why, why)
		}
	}
	each(func(b *block, body string) {
		rule := lineRule(body)
		if rule == nil || !rule.Negotiated {
			return
		}
		f := strings.Fields(body)
		if f[0] == "no" {
			f = f[1:]
		}
		if f[0] == "bgp" {
			// The restart time and the F bit are in the capability of every neighbor that sends
			// one.
			why := strings.Join(f, " ")
			if rule.Key == "bgp graceful-restart restart-time" {
				why = rule.Key
			}
			for _, p := range b.d.peers {
				if !p.group && !hasLine(p, "graceful-restart-disable") {
					add(b, p.name, why)
				}
			}
			return
		}
		name, why := f[1], strings.TrimPrefix(rule.Key, "neighbor PEER ")
		if dp := b.d.peerIdx[name]; dp != nil && dp.group {
			for _, p := range b.d.peers {
				if !p.group && valueOf(p, "peer-group") == name {
					add(b, p.name, why)
				}
			}
			return
		}
		add(b, name, why)
	})

	out := make([]PeerReset, 0, len(found))
	for _, p := range found {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b PeerReset) int {
		if c := strings.Compare(a.Instance.String(), b.Instance.String()); c != 0 {
			return c
		}
		return strings.Compare(a.Peer, b.Peer)
	})
	return out
}

// hasLine reports whether the peer has the line `neighbor NAME attr`.
func hasLine(p *peer, attr string) bool {
	return slices.Contains(p.lines, "neighbor "+p.name+" "+attr)
}
