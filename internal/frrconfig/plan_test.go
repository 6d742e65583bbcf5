package frrconfig

import (
	"slices"
	"strings"
	"testing"
)

// TestPlanMasksPasswords: a changed password shows as a change in the texts of a plan, masked
// on both sides and in the commands; an unchanged one shows no change.
func TestPlanMasksPasswords(t *testing.T) {
	const base = "router bgp 65001\n neighbor pc peer-group\n neighbor pc password %s\nexit\n" +
		"route-map pc-ipv4-out permit 10\n match tag 7\nexit\n"
	parse := func(pw, extra string) *Config {
		c, err := Parse(strings.ReplaceAll(base, "%s", pw) + extra)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The running side has an operator's route-map too.
	p := NewPlan(parse("Old-Pw-1", "route-map operator permit 10\nexit\n"), parse("New-Pw-2", ""), Ownership{})
	all := p.Running + p.Desired + strings.Join(p.Commands, "\n")
	if strings.Contains(all, "Old-Pw-1") || strings.Contains(all, "New-Pw-2") {
		t.Fatalf("a password shows:\n%s", all)
	}
	if !strings.Contains(p.Running, " neighbor pc password <redacted>\n") || !strings.Contains(p.Desired, " neighbor pc password <redacted> (changed)\n") {
		t.Errorf("running:\n%s\ndesired:\n%s", p.Running, p.Desired)
	}
	if !slices.Equal(p.Commands, []string{"router bgp 65001", " neighbor pc password <redacted>", "exit"}) || !p.Changes() {
		t.Errorf("commands %q", p.Commands)
	}
	if strings.Contains(p.Running, "route-map operator") {
		t.Errorf("a route-map frr-renderer does not own is shown:\n%s", p.Running)
	}
	p = NewPlan(parse("Same-Pw-3", ""), parse("Same-Pw-3", ""), Ownership{})
	if p.Changes() || p.Running != p.Desired || strings.Contains(p.Desired, "changed") {
		t.Errorf("the same password: %+v", p)
	}
}
