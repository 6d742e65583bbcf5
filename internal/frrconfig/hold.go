package frrconfig

import "strings"

// HoldNewPeers returns delta with every neighbor it creates held down until the end of its
// instance's block: `neighbor X shutdown` right after the line that creates X, and `no neighbor
// X shutdown` after the block's last line. The result turns running into the same configuration
// as delta does.
//
// Why: bgpd starts a neighbor's session as soon as it exists with a family activated, and an
// apply sends its lines one at a time. On a busy node the session came up between the family's
// activate and its out route-map: bgpd sent End-of-RIB with nothing, and a graceful-restart
// ToR flushed the routes it kept for the node (the containerlab lab: a bgpd killed under load,
// one next hop gone; TestHoldNewPeersOnTheWire shows it). Where a family is active by default,
// the password, timers or graceful restart could as well arrive after the first OPEN.
// bgpd's own batch mode (XFRR_start_configuration) would hold new sessions too, but for a
// second or more after the apply (see Client.configure); this holds them only while the apply
// runs.
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
	)
	release := func() {
		for _, n := range held {
			out = append(out, " no neighbor "+n+" shutdown")
		}
		held = nil
	}
	for _, l := range delta {
		body := strings.TrimLeft(l, " ")
		depth := len(l) - len(body)
		if depth == 0 {
			if inBlock {
				release() // before the block's exit, or the next block if it has none
			}
			inBlock = strings.HasPrefix(body, "router bgp ")
			if inBlock {
				exists, groups = map[string]bool{}, map[string]bool{}
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
		out = append(out, l)
		if !inBlock || depth != 1 {
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
		}
	}
	if inBlock {
		release()
	}
	return out
}

// createsPeer reports whether the words of a line are a `neighbor X ...` line that creates X
// when X does not exist: its remote-as, or joining a peer-group (which brings the group's
// remote-as). Other lines about a neighbor that does not exist are refused by bgpd.
func createsPeer(f []string) bool {
	return len(f) >= 4 && f[0] == "neighbor" && (f[2] == "remote-as" || f[2] == "peer-group")
}
