package frrconfig

import "strings"

// HoldNewPeers returns delta with every neighbor it creates held down until its configuration
// is in: `neighbor X shutdown` right after the line that creates X, and `no neighbor X shutdown`
// after the instance block's last line, or, for a neighbor without graceful restart
// (`neighbor X graceful-restart-disable` in the block), before the block's first address
// family. Such a block then sends each family's neighbor lines before its network lines. The
// result turns running into the same configuration as delta does.
//
// Why hold: bgpd starts a neighbor's session as soon as it exists with a family activated, and
// an apply sends its lines one at a time. On a busy node the session came up between the
// family's activate and its out route-map: bgpd sent End-of-RIB with nothing, and a
// graceful-restart ToR flushed the routes it kept for the node (the containerlab lab: a bgpd
// killed under load, one next hop gone; TestHoldNewPeersOnTheWire shows it). Where a family is
// active by default, the password, timers or graceful restart could as well arrive after the
// first OPEN. bgpd's own batch mode (XFRR_start_configuration) would hold new sessions too, but
// for a second or more after the apply (see Client.configure); this holds them only while the
// apply runs.
//
// Why release a neighbor without graceful restart early: bgpd starts a released neighbor's
// session a second later (its start timer), and a new node's 10,000 network lines take about
// half that. Released before them, with its families and policy in place first, the session
// starts while they are sent, and the routes follow it as they come, as GoBGP's do. Without the
// capability the ToR keeps no stale routes to flush at an early End-of-RIB, and the session's
// OPEN has every setting: the neighbor's lines come before any family's. A graceful-restart
// neighbor must not send End-of-RIB before every route is in: it stays held to the end.
//
// A peer-group is not a session and is not held; a neighbor deleted and created again in the
// same delta is new.
func HoldNewPeers(running *Config, delta []string) []string {
	out := make([]string, 0, len(delta))
	var (
		inBlock bool            // inside a `router bgp` block
		exists  map[string]bool // the block's neighbors running has and the delta has not deleted
		groups  map[string]bool // the block's peer-groups, running or created
		held    []string        // neighbors the block created, in order
		noGR    map[string]bool // the block's neighbors set to graceful-restart-disable
		early   bool            // the block released neighbors before its families
		family  []string        // the lines of the family being read, when early
	)
	release := func(onlyNoGR bool) {
		kept := held[:0]
		for _, n := range held {
			if onlyNoGR && !noGR[n] {
				kept = append(kept, n)
				continue
			}
			out = append(out, " no neighbor "+n+" shutdown")
			early = early || onlyNoGR
		}
		held = kept
	}
	for _, l := range delta {
		body := strings.TrimLeft(l, " ")
		depth := len(l) - len(body)
		if family != nil && depth <= 1 {
			out = append(out, neighborsFirst(family)...)
			family = nil
		}
		if family != nil {
			family = append(family, l)
			continue
		}
		if depth == 0 {
			if inBlock {
				release(false) // before the block's exit, or the next block if it has none
			}
			inBlock = strings.HasPrefix(body, "router bgp ")
			early = false
			if inBlock {
				exists, groups, noGR = map[string]bool{}, map[string]bool{}, map[string]bool{}
				if id, err := parseRouterBGP(body); err == nil && running != nil {
					if r := running.instIdx[id.slot()]; r != nil && r.id == id {
						for name, p := range r.peerIdx {
							exists[name] = true
							groups[name] = p.group
						}
					}
				}
			}
			out = append(out, l)
			continue
		}
		if !inBlock {
			out = append(out, l)
			continue
		}
		if depth == 1 && strings.HasPrefix(body, "address-family ") {
			release(true)
			if early {
				family = []string{}
			}
		}
		out = append(out, l)
		if depth != 1 {
			continue
		}
		f := strings.Fields(body)
		switch {
		case len(f) == 3 && f[0] == "neighbor" && f[2] == "peer-group":
			groups[f[1]], exists[f[1]] = true, true
		case len(f) >= 3 && f[0] == "no" && f[1] == "neighbor" && (len(f) == 3 || len(f) == 4 && f[3] == "peer-group"):
			exists[f[2]] = false
		case createsPeer(f) && !exists[f[1]] && !groups[f[1]]:
			out = append(out, " neighbor "+f[1]+" shutdown")
			held = append(held, f[1])
			exists[f[1]] = true
		case len(f) == 3 && f[0] == "neighbor" && f[2] == "graceful-restart-disable":
			noGR[f[1]] = true
		case len(f) == 3 && f[0] == "neighbor" && f[2] == "graceful-restart":
			noGR[f[1]] = false
		}
	}
	if family != nil {
		out = append(out, neighborsFirst(family)...)
	}
	if inBlock {
		release(false)
	}
	return out
}

// neighborsFirst returns the lines of a family with its neighbor lines (activate, route-maps)
// before the others (network lines), each part in its order.
func neighborsFirst(family []string) []string {
	out := make([]string, 0, len(family))
	for _, first := range []bool{true, false} {
		for _, l := range family {
			w := strings.TrimLeft(l, " ")
			if (strings.HasPrefix(w, "neighbor ") || strings.HasPrefix(w, "no neighbor ")) == first {
				out = append(out, l)
			}
		}
	}
	return out
}

// createsPeer reports whether the words of a line are a `neighbor X ...` line that creates X
// when X does not exist: its remote-as, or joining a peer-group (which brings the group's
// remote-as). Other lines about a neighbor that does not exist are refused by bgpd.
func createsPeer(f []string) bool {
	return len(f) >= 4 && f[0] == "neighbor" && (f[2] == "remote-as" || f[2] == "peer-group")
}
