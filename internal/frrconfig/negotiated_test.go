package frrconfig

import (
	"fmt"
	"strings"
	"testing"
)

// negotiatedBase has two groups and a view: gold (GR restarting) with 10.0.0.1 and 10.0.0.2,
// silver (GR disabled) with 10.0.0.3, and a view with 10.0.1.1.
const negotiatedBase = `router bgp 65001
 bgp router-id 10.0.0.9
 bgp graceful-restart preserve-fw-state
 neighbor gold peer-group
 neighbor gold timers 30 90
 neighbor gold timers connect 120
 neighbor silver peer-group
 neighbor silver timers 30 90
 neighbor 10.0.0.1 remote-as 65000
 neighbor 10.0.0.1 peer-group gold
 neighbor 10.0.0.1 graceful-restart
 neighbor 10.0.0.2 remote-as 65000
 neighbor 10.0.0.2 peer-group gold
 neighbor 10.0.0.2 graceful-restart
 neighbor 10.0.0.3 remote-as 65000
 neighbor 10.0.0.3 peer-group silver
 neighbor 10.0.0.3 graceful-restart-disable
exit
!
router bgp 65001 view blue
 bgp router-id 10.0.0.9
 neighbor blue peer-group
 neighbor blue timers 30 90
 neighbor 10.0.1.1 remote-as 65100
 neighbor 10.0.1.1 peer-group blue
exit
!
route-map gold-ipv4-out permit 1
 set community 65000:1
exit
`

// TestNegotiatedResets: the neighbors whose timers or graceful-restart capability a delta
// changes, and none other.
func TestNegotiatedResets(t *testing.T) {
	tests := []struct {
		name    string
		from    string // "" is negotiatedBase
		to      func(string) string
		want    []string
		wantWhy string
	}{
		{name: "a group's timers: its members", to: replace(" neighbor gold timers 30 90", " neighbor gold timers 10 30"), want: []string{"10.0.0.1", "10.0.0.2"}, wantWhy: "timers"},
		{name: "the connect timer is not negotiated", to: replace(" neighbor gold timers connect 120", " neighbor gold timers connect 5")},
		{name: "a community is not negotiated", to: replace(" set community 65000:1", " set community 65000:2")},
		{name: "the restart time: the neighbors that send a capability", to: replace(" bgp graceful-restart preserve-fw-state", " bgp graceful-restart restart-time 60\n bgp graceful-restart preserve-fw-state"),
			want: []string{"10.0.0.1", "10.0.0.2"}, wantWhy: "bgp graceful-restart restart-time"},
		{name: "the F bit", to: replace(" bgp graceful-restart preserve-fw-state\n", ""), want: []string{"10.0.0.1", "10.0.0.2"}, wantWhy: "bgp graceful-restart preserve-fw-state"},
		{name: "one neighbor's GR mode", to: replace(" neighbor 10.0.0.2 graceful-restart\n", " neighbor 10.0.0.2 graceful-restart-disable\n"), want: []string{"10.0.0.2"}, wantWhy: "graceful-restart mode"},
		{name: "a view's group", to: replace(" neighbor blue timers 30 90", " neighbor blue timers 3 9"), want: []string{"view blue 10.0.1.1"}},
		{name: "a new neighbor has no session", to: replace(" neighbor 10.0.0.3 graceful-restart-disable\n", " neighbor 10.0.0.3 graceful-restart-disable\n neighbor 10.0.0.4 remote-as 65000\n neighbor 10.0.0.4 peer-group silver\n neighbor 10.0.0.4 timers 5 15\n")},
		{name: "a re-created neighbor has no session", to: replace(" neighbor 10.0.0.3 peer-group silver", " neighbor 10.0.0.3 peer-group gold")},
		{name: "a group's timers and a member that moves to it", to: func(s string) string {
			return replace(" neighbor 10.0.0.3 peer-group silver", " neighbor 10.0.0.3 peer-group gold")(replace(" neighbor gold timers 30 90", " neighbor gold timers 10 30")(s))
		}, want: []string{"10.0.0.1", "10.0.0.2"}},
		{name: "a new instance has no sessions", from: "!\n", to: func(string) string { return negotiatedBase }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := tc.from
			if from == "" {
				from = negotiatedBase
			}
			running, desired := mustParse(t, from), mustParse(t, tc.to(negotiatedBase))
			delta := Delta(running, desired, running.Rendered().Union(desired.Rendered()))
			var got []string
			for _, p := range NegotiatedResets(running, desired, delta) {
				name := p.Peer
				if v := p.View(); v != "" {
					name = "view " + v + " " + p.Peer
				}
				got = append(got, name)
				if tc.wantWhy != "" && strings.Join(p.Why, ",") != tc.wantWhy {
					t.Errorf("%s: why %q, want %q", name, p.Why, tc.wantWhy)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("resets %v, want %v; delta:\n%s", got, tc.want, strings.Join(delta, "\n"))
			}
		})
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("no " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}
