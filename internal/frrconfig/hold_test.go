package frrconfig

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
)

// A neighbor the delta creates is shut down from the line that creates it to the end of its
// instance's block; neighbors that exist, peer-groups and other blocks are left as they are.
func TestHoldNewPeers(t *testing.T) {
	seed := frrconfigtest.Seed
	withSecond := frrconfigtest.Edit(t, seed, " neighbor 192.168.10.1 graceful-restart\n",
		" neighbor 192.168.10.1 graceful-restart\n neighbor 192.168.10.2 remote-as 65000\n neighbor 192.168.10.2 peer-group cilium-peer\n")
	for _, tc := range []struct {
		name             string
		running, desired string
		want             []string // the delta's lines with a hold, in order
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
			// Without the hold lines, the delta itself.
			var rest []string
			for _, l := range held {
				if !strings.HasSuffix(l, " shutdown") {
					rest = append(rest, l)
				}
			}
			if diff := cmp.Diff(delta, rest); diff != "" {
				t.Errorf("the delta changed (-want +got):\n%s", diff)
			}
			// The release comes after the family's activate.
			if len(tc.want) > 0 && strings.Index(strings.Join(held, "\n"), "activate") > strings.Index(strings.Join(held, "\n"), " no neighbor") && strings.Contains(strings.Join(held, "\n"), "activate") {
				t.Errorf("released before the family's lines:\n%s", strings.Join(held, "\n"))
			}
		})
	}
}
