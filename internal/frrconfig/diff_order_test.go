package frrconfig

import (
	"fmt"
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
)

// checkOrder replays a delta against a model of what FRR holds and fails the test when a line
// references a route-map or peer-group that does not exist at that point, when a neighbor
// joins a group before it has a remote-as, or when something is deleted while still in use.
func checkOrder(t *testing.T, running *Config, delta []string) {
	t.Helper()
	for _, e := range orderErrors(running, delta) {
		t.Errorf("%s\n%s", e, strings.Join(delta, "\n"))
	}
}

func orderErrors(running *Config, delta []string) []string {
	var errs []string
	maps := map[string]bool{}
	for _, e := range running.routeMaps {
		maps[e.name] = true
	}
	type inst struct {
		groups  map[string]bool
		members map[string]string // neighbor -> group
		hasAS   map[string]bool
		refs    map[string]string // "family|neighbor G route-map dir" or "family|network P" -> route-map
	}
	insts := map[string]*inst{}
	load := func(in *bgpInstance) *inst {
		s := &inst{groups: map[string]bool{}, members: map[string]string{}, hasAS: map[string]bool{}, refs: map[string]string{}}
		for _, p := range in.peers {
			s.groups[p.name] = p.group
			if g := valueOf(p, "peer-group"); g != "" {
				s.members[p.name] = g
			}
			s.hasAS[p.name] = valueOf(p, "remote-as") != ""
		}
		for _, f := range in.afs {
			for _, l := range f.lines {
				if rm := refOf(l); rm != "" {
					s.refs[f.header+"|"+keyOf(FamilyScope, l)] = rm
				}
			}
		}
		return s
	}
	for _, in := range running.instances {
		insts[in.id.String()] = load(in)
	}
	var cur *inst
	var fam string
	fail := func(i int, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("delta line %d %q: ", i+1, delta[i])+fmt.Sprintf(format, args...))
	}
	for i, raw := range delta {
		l := strings.TrimSpace(raw)
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(raw, "router bgp "):
			if insts[l] == nil {
				for k := range insts {
					if id, _ := parseRouterBGP(k); id.slot() == mustID(l).slot() {
						fail(i, "%q still holds its place", k)
					}
				}
				insts[l] = load(&bgpInstance{})
			}
			cur = insts[l]
		case strings.HasPrefix(raw, "no router bgp "):
			id := mustID(strings.Replace(strings.TrimPrefix(l, "no "), " vrf ", " view ", 1))
			delete(insts, id.String())
			delete(insts, strings.TrimPrefix(l, "no "))
		case strings.HasPrefix(raw, "route-map "):
			maps[f[1]] = true
			cur = nil
		case strings.HasPrefix(raw, "no route-map "):
			if len(f) == 3 {
				for _, s := range insts {
					for k, rm := range s.refs {
						if rm == f[2] {
							fail(i, "route-map still bound by %q", k)
						}
					}
				}
				delete(maps, f[2])
			}
		case raw == "exit" || l == "exit-address-family":
			fam = ""
		case strings.HasPrefix(l, "address-family "):
			fam = l
		case cur == nil:
			// a route-map entry's line
		case fam != "":
			no := f[0] == "no"
			body := strings.TrimPrefix(l, "no ")
			k := fam + "|" + keyOf(FamilyScope, body)
			if rm := refOf(body); rm != "" && !no {
				if !maps[rm] {
					fail(i, "route-map %s does not exist yet", rm)
				}
				cur.refs[k] = rm
			} else if no {
				delete(cur.refs, k)
			}
			if p := peerOf(body); p != "" && !no {
				if _, ok := cur.groups[p]; !ok {
					fail(i, "peer %s does not exist", p)
				}
			}
		case len(f) == 3 && f[0] == "no" && f[1] == "neighbor":
			delete(cur.members, f[2])
			delete(cur.groups, f[2])
		case len(f) == 4 && f[0] == "no" && f[3] == "peer-group":
			for n, g := range cur.members {
				if g == f[2] {
					fail(i, "group still has member %s", n)
				}
			}
			delete(cur.groups, f[2])
			for k := range cur.refs {
				if strings.Contains(k, "|neighbor "+f[2]+" ") {
					delete(cur.refs, k)
				}
			}
		case len(f) == 3 && f[0] == "neighbor" && f[2] == "peer-group":
			cur.groups[f[1]] = true
		case len(f) == 4 && f[0] == "neighbor" && f[2] == "remote-as":
			cur.groups[f[1]] = false
			cur.hasAS[f[1]] = true
		case len(f) == 4 && f[0] == "neighbor" && f[2] == "peer-group":
			if !cur.groups[f[3]] {
				fail(i, "peer-group %s does not exist yet", f[3])
			}
			if !cur.hasAS[f[1]] {
				fail(i, "neighbor %s has no remote-as yet", f[1])
			}
			cur.members[f[1]] = f[3]
		}
	}
	return errs
}

// TestCheckOrder: the checker catches each kind of mistake.
func TestCheckOrder(t *testing.T) {
	run := mustParse(t, frrconfigtest.Seed)
	for _, bad := range [][]string{
		{"router bgp 65001", " address-family ipv4 unicast", "  network 10.0.0.0/8 route-map CILIUM-ORIGIN-9", " exit-address-family", "exit", "route-map CILIUM-ORIGIN-9 permit 10", "exit"},
		{"no route-map cilium-peer-ipv4-out", "router bgp 65001", " address-family ipv4 unicast", "  neighbor cilium-peer route-map CILIUM-REJECT out", " exit-address-family", "exit"},
		{"router bgp 65001", " neighbor 10.0.0.9 remote-as 1", " neighbor 10.0.0.9 peer-group gold", " neighbor gold peer-group", "exit"},
		{"router bgp 65001", " neighbor 10.0.0.9 peer-group cilium-peer", " neighbor 10.0.0.9 remote-as 1", "exit"},
		{"router bgp 65001", " no neighbor cilium-peer peer-group", " no neighbor 192.168.10.1", "exit"},
		{"router bgp 65002", "exit", "no router bgp 65001"},
	} {
		if errs := orderErrors(run, bad); len(errs) == 0 {
			t.Errorf("no error for %q", bad)
		}
	}
}

// refOf returns the route-map a family line binds, or "".
func refOf(l string) string {
	f := strings.Fields(l)
	switch {
	case len(f) == 4 && f[0] == "network" && f[2] == "route-map":
		return f[3]
	case len(f) == 5 && f[0] == "neighbor" && f[2] == "route-map":
		return f[3]
	}
	return ""
}

func mustID(line string) InstanceID {
	id, err := parseRouterBGP(line)
	if err != nil {
		panic(err)
	}
	return id
}

// TestOrderBetweenGoldens: the delta between any two golden renderings of one dialect is in a
// safe order.
func TestOrderBetweenGoldens(t *testing.T) {
	gs := goldens(t)
	n := 0
	for _, a := range gs {
		for _, b := range gs {
			if a.dialect != b.dialect || a.name == b.name {
				continue
			}
			ra := mustParse(t, a.text)
			d := Delta(ra, mustParse(t, b.text), ra.Rendered().Union(Ownership{PeerGroups: []string{"DEFAULTS"}}))
			checkOrder(t, ra, d)
			// Minimal: nothing is removed from a neighbor or group deleted as a whole.
			deleted := map[string]bool{}
			for _, l := range d {
				if f := strings.Fields(l); f[0] == "no" && f[1] == "neighbor" && (len(f) == 3 || len(f) == 4 && f[3] == "peer-group") {
					deleted[f[2]] = true
				}
			}
			for _, l := range d {
				if f := strings.Fields(l); len(f) > 3 && f[0] == "no" && f[1] == "neighbor" && deleted[f[2]] && f[3] != "peer-group" {
					t.Errorf("%s -> %s: redundant %q", a.name, b.name, l)
				}
			}
			n++
		}
	}
	t.Logf("%d pairs", n)
}
