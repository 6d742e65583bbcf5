package frrconfig

import (
	"fmt"
	"slices"
	"strings"
)

// frrModel is a small model of what bgpd holds of the configuration Delta converges, and of how
// it takes `configure terminal` lines: a line overwrites the setting of its key (Rules), a no
// form removes the setting it negates, `no neighbor X` deletes X with its lines in every
// family, `no neighbor G peer-group` deletes G and its members, a Recreate setting refuses
// another value. FuzzDelta replays a delta on the running configuration's model and compares
// the result with the desired configuration's: Delta's order of blocks, its deletions of dead
// neighbors and its overwrites are then checked on every input, not only on the transitions
// TestDeltaTransitions pins.
type frrModel struct {
	instances map[string]*modelInstance // by InstanceID.slot()
	routeMaps map[string]*modelRouteMap // by "NAME SEQ"
}

type modelInstance struct {
	id       InstanceID
	lines    map[string]string            // instance-level lines (globals and peers) by key
	families map[string]map[string]string // family header -> lines by key
}

type modelRouteMap struct {
	action string
	lines  map[string]string
}

// modelOf loads a parsed configuration, one setting per key (see canonical).
func modelOf(c *Config) *frrModel {
	m := &frrModel{instances: map[string]*modelInstance{}, routeMaps: map[string]*modelRouteMap{}}
	for _, in := range c.instances {
		mi := &modelInstance{id: in.id, lines: map[string]string{}, families: map[string]map[string]string{}}
		for _, l := range in.globals {
			mi.lines[modelKey(InstanceScope, l)] = l
		}
		for _, p := range in.peers {
			for _, l := range p.lines {
				mi.lines[modelKey(InstanceScope, l)] = l
			}
		}
		for _, f := range in.afs {
			lines := map[string]string{}
			for _, l := range f.lines {
				lines[modelKey(FamilyScope, l)] = l
			}
			mi.families[f.header] = lines
		}
		m.instances[in.id.slot()] = mi
	}
	for _, e := range c.routeMaps {
		rm := &modelRouteMap{action: e.action, lines: map[string]string{}}
		for _, l := range e.lines {
			rm.lines[modelKey(RouteMapScope, l)] = l
		}
		m.routeMaps[e.key()] = rm
	}
	return m
}

// modelKey is the model's key of a line: classify's, never the fast path under test.
func modelKey(s Scope, line string) string {
	_, k, _ := classify(s, line)
	return k
}

// apply replays delta lines as vtysh sends them in `configure terminal` mode, and returns the
// first line FRR would refuse.
func (m *frrModel) apply(delta []string) error {
	var (
		inst *modelInstance
		fam  map[string]string
		rm   *modelRouteMap
	)
	for i, raw := range delta {
		body := strings.TrimLeft(raw, " ")
		depth := len(raw) - len(body)
		f := strings.Fields(body)
		fail := func(format string, args ...any) error {
			return fmt.Errorf("delta line %d %q: %s", i+1, raw, fmt.Sprintf(format, args...))
		}
		switch {
		case depth == 0 && body == "exit":
			inst, fam, rm = nil, nil, nil
		case depth == 0 && strings.HasPrefix(body, "router bgp "):
			id, err := parseRouterBGP(body)
			if err != nil {
				return fail("%v", err)
			}
			inst = m.instances[id.slot()]
			if inst != nil && inst.id != id {
				return fail("FRR runs %q in its place", inst.id)
			}
			if inst == nil {
				inst = &modelInstance{id: id, lines: map[string]string{}, families: map[string]map[string]string{}}
				m.instances[id.slot()] = inst
			}
		case depth == 0 && strings.HasPrefix(body, "no router bgp "):
			slot := ""
			if len(f) == 6 && f[4] == "vrf" {
				slot = f[5]
			} else if len(f) != 4 {
				return fail("not a form that deletes an instance")
			}
			if in := m.instances[slot]; in == nil || in.id.ASN != f[3] {
				return fail("no such instance")
			}
			delete(m.instances, slot)
		case depth == 0 && strings.HasPrefix(body, "route-map "):
			e, err := parseRouteMapHeader(body)
			if err != nil {
				return fail("%v", err)
			}
			rm = m.routeMaps[e.key()]
			if rm == nil {
				rm = &modelRouteMap{lines: map[string]string{}}
				m.routeMaps[e.key()] = rm
			}
			rm.action = e.action // in place, lines kept
		case depth == 0 && strings.HasPrefix(body, "no route-map "):
			switch len(f) {
			case 3:
				n := 0
				for k := range m.routeMaps {
					if strings.HasPrefix(k, f[2]+" ") {
						delete(m.routeMaps, k)
						n++
					}
				}
				if n == 0 {
					return fail("no such route-map")
				}
			case 5:
				if m.routeMaps[f[2]+" "+f[4]] == nil {
					return fail("no such entry")
				}
				delete(m.routeMaps, f[2]+" "+f[4])
			default:
				return fail("not a form that deletes a route-map")
			}
		case depth == 1 && rm != nil:
			if err := setLine(RouteMapScope, rm.lines, body, nil); err != nil {
				return fail("%v", err)
			}
		case depth == 1 && inst != nil && strings.HasPrefix(body, "address-family "):
			fam = inst.families[body]
			if fam == nil {
				fam = map[string]string{}
				inst.families[body] = fam
			}
		case depth == 1 && inst != nil && body == "exit-address-family":
			fam = nil
		case depth == 1 && inst != nil && fam == nil:
			if err := inst.set(body); err != nil {
				return fail("%v", err)
			}
		case depth == 2 && fam != nil:
			if err := setLine(FamilyScope, fam, body, nil); err != nil {
				return fail("%v", err)
			}
		default:
			return fail("not valid here (indentation %d)", depth)
		}
	}
	return nil
}

// set takes an instance-level line: the deletions of neighbors and peer-groups, or a setting.
func (in *modelInstance) set(line string) error {
	f := strings.Fields(line)
	switch {
	case len(f) == 3 && f[0] == "no" && f[1] == "neighbor":
		if in.lines[modelKey(InstanceScope, "neighbor "+f[2]+" peer-group")] != "" {
			return fmt.Errorf("%s is a peer-group", f[2])
		}
		return in.deletePeer(f[2])
	case len(f) == 4 && f[0] == "no" && f[1] == "neighbor" && f[3] == "peer-group":
		if in.lines[modelKey(InstanceScope, "neighbor "+f[2]+" peer-group")] == "" {
			return fmt.Errorf("no peer-group %s", f[2])
		}
		for _, l := range in.lines {
			if g := strings.Fields(l); len(g) == 4 && g[2] == "peer-group" && g[3] == f[2] {
				if err := in.deletePeer(g[1]); err != nil {
					return err
				}
			}
		}
		return in.deletePeer(f[2])
	}
	return setLine(InstanceScope, in.lines, line, in)
}

// deletePeer removes every line of a neighbor or peer-group, its families' lines included.
func (in *modelInstance) deletePeer(name string) error {
	n := 0
	for _, lines := range append([]map[string]string{in.lines}, mapsOf(in.families)...) {
		for k, l := range lines {
			if strings.HasPrefix(l, "neighbor "+name+" ") {
				delete(lines, k)
				n++
			}
		}
	}
	if n == 0 {
		return fmt.Errorf("no neighbor %s", name)
	}
	return nil
}

func mapsOf(m map[string]map[string]string) []map[string]string {
	var out []map[string]string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// setLine applies one line to a scope's settings: the no form of a setting removes it,
// anything else overwrites its key. in is the instance of an instance-level line (nil in other
// scopes), for the remote-as rule.
func setLine(s Scope, lines map[string]string, line string, in *modelInstance) error {
	for k, l := range lines {
		if _, _, no := classify(s, l); no == line {
			delete(lines, k)
			return nil
		}
	}
	r, k, _ := classify(s, line)
	if old, ok := lines[k]; ok && old != line && r != nil && r.Recreate && !overwrites(in, old, line) {
		return fmt.Errorf("FRR refuses to change %q in place", old)
	}
	lines[k] = line
	return nil
}

// overwrites reports whether FRR takes a new remote-as over an old one in place: for a
// peer-group, or from one external ASN to another (see Rules); never another peer-group.
func overwrites(in *modelInstance, old, line string) bool {
	o, n := strings.Fields(old), strings.Fields(line)
	if len(o) != 4 || len(n) != 4 || o[2] != "remote-as" || n[2] != "remote-as" || in == nil {
		return false
	}
	if in.lines[modelKey(InstanceScope, "neighbor "+o[1]+" peer-group")] != "" {
		return true
	}
	external := func(as string) bool {
		return as == "external" || as != in.id.ASN && as != "" && as[0] >= '0' && as[0] <= '9'
	}
	return external(o[3]) && external(n[3])
}

// String prints the model sorted, empty families left out (FRR prints none), for comparison.
func (m *frrModel) String() string {
	var b strings.Builder
	sorted := func(lines map[string]string) []string {
		var out []string
		for _, l := range lines {
			out = append(out, l)
		}
		slices.Sort(out)
		return out
	}
	for _, slot := range sortedKeys(m.instances) {
		in := m.instances[slot]
		fmt.Fprintf(&b, "%s\n", in.id)
		for _, l := range sorted(in.lines) {
			fmt.Fprintf(&b, " %s\n", l)
		}
		for _, h := range sortedKeys(in.families) {
			if len(in.families[h]) == 0 {
				continue
			}
			fmt.Fprintf(&b, " %s\n", h)
			for _, l := range sorted(in.families[h]) {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		}
	}
	for _, k := range sortedKeys(m.routeMaps) {
		rm := m.routeMaps[k]
		fmt.Fprintf(&b, "route-map %s %s\n", k, rm.action)
		for _, l := range sorted(rm.lines) {
			fmt.Fprintf(&b, " %s\n", l)
		}
	}
	return b.String()
}

// canonical says why c is not a configuration FRR prints and Delta converges in one step, or
// "". FuzzDelta checks the delta's result only between canonical configurations.
func canonical(c *Config) string {
	seen := func(s Scope, what string, lines []string, keys map[string]bool) string {
		for _, l := range lines {
			if !printed(l) {
				return fmt.Sprintf("%s: %q is not a line FRR prints (printable ASCII words, one space apart)", what, l)
			}
			k := modelKey(s, l)
			if keys[k] {
				return fmt.Sprintf("%s: two lines set %q (FRR keeps one)", what, k)
			}
			keys[k] = true
		}
		return ""
	}
	for _, in := range c.instances {
		keys := map[string]bool{}
		if why := seen(InstanceScope, in.id.String(), in.globals, keys); why != "" {
			return why
		}
		empty := len(in.globals) == 0 && len(in.peers) == 0
		for _, l := range in.globals {
			if strings.HasPrefix(l, "no neighbor ") || strings.HasPrefix(l, "exit") {
				return fmt.Sprintf("%s: %q deletes a neighbor or leaves a node (FRR prints no such setting)", in.id, l)
			}
		}
		for _, p := range in.peers {
			if why := seen(InstanceScope, in.id.String(), p.lines, keys); why != "" {
				return why
			}
			if g := valueOf(p, "peer-group"); g != "" && (in.peerIdx[g] == nil || !in.peerIdx[g].group) {
				return fmt.Sprintf("%s: %s joins %s, which is no peer-group", in.id, p.name, g)
			}
		}
		for _, f := range in.afs {
			if f.opaque {
				return fmt.Sprintf("%s: %s nests blocks (Delta leaves it alone)", in.id, f.header)
			}
			if why := seen(FamilyScope, f.header, f.lines, map[string]bool{}); why != "" {
				return why
			}
			for _, l := range f.lines {
				if w := strings.Fields(l); len(w) > 1 && w[0] == "neighbor" && in.peerIdx[w[1]] == nil {
					return fmt.Sprintf("%s: %q names no neighbor of the instance (FRR refuses it)", f.header, l)
				}
			}
			empty = empty && len(f.lines) == 0
		}
		if empty {
			return fmt.Sprintf("%s is empty (Delta creates no empty instance)", in.id)
		}
	}
	for _, e := range c.routeMaps {
		if why := seen(RouteMapScope, e.header(), e.lines, map[string]bool{}); why != "" {
			return why
		}
	}
	return ""
}

// printed reports whether a line has the form FRR prints and frr-renderer renders: printable
// ASCII words one space apart. Other white space splits a line into other words for FRR than
// for a reader that splits on spaces (FuzzDelta found a neighbor named "192.168.10.\t\xbd1").
func printed(l string) bool {
	for i := 0; i < len(l); i++ {
		if l[i] < ' ' || l[i] > '~' {
			return false
		}
	}
	return l == strings.Join(strings.Fields(l), " ")
}

// convertible says why Delta cannot turn running into desired in one step by design, or "".
func convertible(running, desired *Config) string {
	for _, d := range desired.instances {
		r := running.instIdx[d.id.slot()]
		if r == nil || r.id != d.id {
			continue
		}
		for _, dp := range d.peers {
			if rp := r.peerIdx[dp.name]; rp != nil && rp.group != dp.group {
				return fmt.Sprintf("%s: %s turns from a neighbor into a peer-group or back (deleted now, created next time)", d.id, dp.name)
			}
		}
	}
	return ""
}
