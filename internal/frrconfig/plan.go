package frrconfig

// This file previews an apply without sending anything, for `frr-renderer diff`.

import (
	"slices"
	"strings"
)

// Plan is what applying a desired configuration would change, passwords masked throughout.
type Plan struct {
	// Running and Desired are the part of each configuration that frr-renderer owns (its BGP
	// instances and route-maps), printed the same way (FRR's, instances first), for a diff.
	Running, Desired string
	// Commands are the lines an apply would send (Delta, new peers held: HoldNewPeers); empty
	// when nothing would change.
	Commands []string
	// Conflicts are the desired instances that cannot be applied (see Conflicts).
	Conflicts []string
}

// Changes reports whether applying would send anything or fail on a conflict.
func (p Plan) Changes() bool { return len(p.Commands) > 0 || len(p.Conflicts) > 0 }

// NewPlan previews turning running into desired; owns is what frr-renderer owned before (the
// state file's), united here with what desired holds, as Apply does.
func NewPlan(running, desired *Config, owns Ownership) Plan {
	owns = owns.Union(OwnershipOf(desired))
	// A password that changes must show as a change, though both sides are masked.
	runningSecrets := map[string]bool{}
	running.eachLine(func(instance, l string) {
		if MaskSecrets(l) != l {
			runningSecrets[instance+"\x00"+l] = true
		}
	})
	p := Plan{
		Running: running.ownedText(owns, nil),
		Desired: desired.ownedText(owns, func(instance, l string) bool {
			return !runningSecrets[instance+"\x00"+l]
		}),
		Conflicts: Conflicts(running, desired, owns),
	}
	for _, l := range HoldNewPeers(running, Delta(running, desired, owns)) {
		p.Commands = append(p.Commands, MaskSecrets(l))
	}
	return p
}

// eachLine calls fn with every instance-level line and the instance's `router bgp` line.
func (c *Config) eachLine(fn func(instance, line string)) {
	for _, in := range c.instances {
		for _, p := range in.peers {
			for _, l := range p.lines {
				fn(in.id.String(), l)
			}
		}
	}
}

// ownedText prints what c holds that owns covers: instances, then route-map entries by name and
// sequence, each block closed as FRR closes it. Passwords are masked; a neighbor line with a
// password for which changed(instance, line) holds says so after the mask.
func (c *Config) ownedText(owns Ownership, changed func(instance, line string) bool) string {
	var b strings.Builder
	line := func(indent, s string) {
		b.WriteString(indent)
		b.WriteString(MaskSecrets(s))
		b.WriteByte('\n')
	}
	// MaskSecrets masks the rest of the line: the mark goes after it.
	changedLine := func(indent, s string) {
		b.WriteString(indent)
		b.WriteString(MaskSecrets(s))
		b.WriteString(" (changed)\n")
	}
	for _, in := range c.instances {
		if !owns.OwnsInstance(in.id) {
			continue
		}
		line("", in.id.String())
		for _, g := range in.globals {
			line(" ", g)
		}
		for _, p := range in.peers {
			for _, l := range p.lines {
				if MaskSecrets(l) != l && changed != nil && changed(in.id.String(), l) {
					changedLine(" ", l)
					continue
				}
				line(" ", l)
			}
		}
		for _, o := range in.opaque {
			for _, l := range o {
				line("", l)
			}
		}
		for _, af := range in.afs {
			line(" ", "!")
			line(" ", af.header)
			for _, l := range af.lines {
				line("  ", l)
			}
			line(" ", "exit-address-family")
		}
		line("", "exit")
		line("", "!")
	}
	entries := slices.Clone(c.routeMaps)
	slices.SortFunc(entries, func(x, y *parsedRouteMapEntry) int {
		if c := strings.Compare(x.name, y.name); c != 0 {
			return c
		}
		return x.seq - y.seq
	})
	for _, e := range entries {
		if !owns.OwnsRouteMap(e.name) {
			continue
		}
		line("", e.header())
		for _, l := range e.lines {
			line(" ", l)
		}
		line("", "exit")
		line("", "!")
	}
	return b.String()
}
