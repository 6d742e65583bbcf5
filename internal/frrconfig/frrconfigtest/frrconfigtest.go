// Package frrconfigtest holds the configuration text that the tests of frrconfig's delta and
// of vtysh's applier share: the seed scenario's rendering for one node, and ways to edit it.
package frrconfigtest

import (
	"fmt"
	"strings"
	"testing"
)

// Seed is the seed scenario's rendering for node cp-1 (test/golden), which FRR 8.4 and 10.3
// print back unchanged; kept here so that the tests of the delta and of the applier do not
// move with the renderer.
const Seed = `! frr.conf for node cp-1, rendered by frr-renderer from CiliumBGPClusterConfig cilium-bgp.
frr defaults traditional
!
route-map CILIUM-ORIGIN-2722987788 permit 10
 set tag 2722987788
exit
!
route-map CILIUM-REJECT deny 10
exit
!
route-map cilium-peer-ipv4-out permit 8539
 match tag 2722987788
exit
!
router bgp 65001
 bgp router-id 192.168.10.11
 no bgp default ipv4-unicast
 coalesce-time 0
 bgp graceful-restart preserve-fw-state
 no bgp network import-check
 neighbor cilium-peer peer-group
 neighbor cilium-peer timers 30 90
 neighbor cilium-peer timers connect 120
 neighbor 192.168.10.1 remote-as 65000
 neighbor 192.168.10.1 peer-group cilium-peer
 neighbor 192.168.10.1 description FRRouter
 neighbor 192.168.10.1 graceful-restart
 !
 address-family ipv4 unicast
  network 172.20.0.1/32 route-map CILIUM-ORIGIN-2722987788
  neighbor cilium-peer activate
  neighbor cilium-peer route-map CILIUM-REJECT in
  neighbor cilium-peer route-map cilium-peer-ipv4-out out
 exit-address-family
exit
!
`

// Lines of Seed that tests edit.
const (
	SeedNetwork = "  network 172.20.0.1/32 route-map CILIUM-ORIGIN-2722987788\n"
	SeedToR     = " neighbor 192.168.10.1 remote-as 65000\n neighbor 192.168.10.1 peer-group cilium-peer\n neighbor 192.168.10.1 description FRRouter\n neighbor 192.168.10.1 graceful-restart\n"
)

// SeedWithPrefixes is Seed with n /32 prefixes (10.0.x.y) in place of its own, and extra
// lines after them in the same address family.
func SeedWithPrefixes(n int, extra string) string {
	var nets strings.Builder
	for i := range n {
		fmt.Fprintf(&nets, "  network 10.%d.%d.%d/32 route-map CILIUM-ORIGIN-2722987788\n", i>>16&255, i>>8&255, i&255)
	}
	nets.WriteString(extra)
	return strings.Replace(Seed, SeedNetwork, nets.String(), 1)
}

// Edit applies replacements (old, new, old, new, ...) to text, each of which must apply.
func Edit(t testing.TB, text string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(text, pairs[i]) {
			t.Fatalf("Edit: %q not in text", pairs[i])
		}
		text = strings.Replace(text, pairs[i], pairs[i+1], 1)
	}
	return text
}
