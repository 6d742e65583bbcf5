package frrconfig

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
)

// A neighbor the delta creates is shut down from the line that creates it to the end of its
// instance's block, or without graceful restart, to the block's first family; neighbors that
// exist, peer-groups and other blocks are left as they are.
func TestHoldNewPeers(t *testing.T) {
	seed := frrconfigtest.Seed
	withSecond := frrconfigtest.Edit(t, seed, " neighbor 192.168.10.1 graceful-restart\n",
		" neighbor 192.168.10.1 graceful-restart\n neighbor 192.168.10.2 remote-as 65000\n neighbor 192.168.10.2 peer-group cilium-peer\n")
	noGR := frrconfigtest.Edit(t, seed, " neighbor 192.168.10.1 graceful-restart\n", " neighbor 192.168.10.1 graceful-restart-disable\n")
	secondNoGR := frrconfigtest.Edit(t, withSecond, " neighbor 192.168.10.2 peer-group cilium-peer\n",
		" neighbor 192.168.10.2 peer-group cilium-peer\n neighbor 192.168.10.2 graceful-restart-disable\n")
	for _, tc := range []struct {
		name             string
		running, desired string
		want             []string // the delta's lines with a hold, in order
		early            bool     // a neighbor is released before the families
	}{
		{
			name:    "into an empty bgpd",
			running: "",
			desired: seed,
			want: []string{
				" neighbor 192.168.10.1 remote-as 65000",
				" neighbor 192.168.10.1 shutdown",
				" no neighbor 192.168.10.1 shutdown",
				"exit",
			},
		},
		{
			name:    "a second neighbor",
			running: seed,
			desired: withSecond,
			want: []string{
				" neighbor 192.168.10.2 remote-as 65000",
				" neighbor 192.168.10.2 shutdown",
				" no neighbor 192.168.10.2 shutdown",
				"exit",
			},
		},
		{
			name:    "without graceful restart: released before the families",
			running: "",
			desired: noGR,
			want: []string{
				" neighbor 192.168.10.1 remote-as 65000",
				" neighbor 192.168.10.1 shutdown",
				" no neighbor 192.168.10.1 shutdown",
				" address-family ipv4 unicast",
			},
			early: true,
		},
		{
			name:    "two new neighbors, the one with graceful restart held to the end",
			running: "",
			desired: secondNoGR,
			want: []string{
				" neighbor 192.168.10.1 remote-as 65000",
				" neighbor 192.168.10.1 shutdown",
				" neighbor 192.168.10.2 remote-as 65000",
				" neighbor 192.168.10.2 shutdown",
				" no neighbor 192.168.10.2 shutdown",
				" address-family ipv4 unicast",
				" no neighbor 192.168.10.1 shutdown",
				"exit",
			},
			early: true,
		},
		{
			name:    "a second neighbor without graceful restart",
			running: seed,
			desired: secondNoGR,
			want: []string{
				" neighbor 192.168.10.2 remote-as 65000",
				" neighbor 192.168.10.2 shutdown",
				" no neighbor 192.168.10.2 shutdown",
				"exit",
			},
		},
		{
			name:    "a neighbor that exists is not held",
			running: withSecond,
			desired: strings.ReplaceAll(withSecond, "timers 30 90", "timers 10 30"),
		},
		{
			name:    "a neighbor deleted is not held",
			running: withSecond,
			desired: seed,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			running, desired := mustParse(t, tc.running), mustParse(t, tc.desired)
			delta := Delta(running, desired, running.Rendered().Union(desired.Rendered()))
			held := HoldNewPeers(running, delta)
			// What the hold added, and the lines around each: the creation before the
			// shutdown, the block's exit after the release.
			var got []string
			for i, l := range held {
				if strings.HasSuffix(l, " shutdown") {
					if !strings.HasPrefix(l, " no ") {
						got = append(got, held[i-1])
					}
					got = append(got, l)
					if strings.HasPrefix(l, " no ") && i+1 < len(held) && !strings.HasSuffix(held[i+1], " shutdown") {
						got = append(got, held[i+1])
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("held lines (-want +got):\n%s\nheld delta:\n%s", diff, strings.Join(held, "\n"))
			}
			// Without the hold lines, the delta itself; released early, with each family's
			// neighbor lines first.
			var rest []string
			for _, l := range held {
				if !strings.HasSuffix(l, " shutdown") {
					rest = append(rest, l)
				}
			}
			want := delta
			if tc.early {
				want = familiesNeighborsFirst(delta)
			}
			if diff := cmp.Diff(want, rest); diff != "" {
				t.Errorf("the delta changed (-want +got):\n%s", diff)
			}
			// The first release comes after the family's activate, an early one before it.
			text := strings.Join(held, "\n")
			if activate, release := strings.Index(text, "activate"), strings.Index(text, " no neighbor"); len(tc.want) > 0 && activate >= 0 && (release < activate) != tc.early {
				t.Errorf("released before the family's lines: %v, want %v:\n%s", release < activate, tc.early, text)
			}
		})
	}
}

// familiesNeighborsFirst is delta with the neighbor lines of each address family moved before
// its other lines, written out for the test the long way.
func familiesNeighborsFirst(delta []string) []string {
	var out, neighbors, others []string
	inFamily := false
	for _, l := range delta {
		switch {
		case strings.HasPrefix(l, " address-family "):
			inFamily = true
			out = append(out, l)
		case inFamily && strings.HasPrefix(l, "  neighbor "), inFamily && strings.HasPrefix(l, "  no neighbor "):
			neighbors = append(neighbors, l)
		case inFamily && strings.HasPrefix(l, "  "):
			others = append(others, l)
		default:
			out = append(append(append(out, neighbors...), others...), l)
			neighbors, others, inFamily = nil, nil, false
		}
	}
	return out
}
