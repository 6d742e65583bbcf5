package frrconfig

import (
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// everyLine has every kind of line frr-renderer renders (Rules), in FRR's canonical order and
// form for both 8.4 and 10.3.
const everyLine = `frr defaults traditional
!
route-map CILIUM-ORIGIN-1 permit 10
 set tag 1
exit
!
route-map CILIUM-ORIGIN-2-INCOMPLETE permit 10
 set origin incomplete
 set tag 2
exit
!
route-map CILIUM-REJECT deny 10
exit
!
route-map gold-ipv4-out permit 2
 match tag 1
 set community 64512:100 no-export
 set large-community 64512:1:1
 set local-preference 200
exit
!
router bgp 65001
 bgp router-id 10.0.0.1
 no bgp default ipv4-unicast
 coalesce-time 0
 bgp graceful-restart restart-time 300
 bgp graceful-restart preserve-fw-state
 no bgp network import-check
 neighbor gold peer-group
 neighbor gold password s3cr3t
 neighbor gold port 1790
 neighbor gold ebgp-multihop 4
 neighbor gold timers 30 90
 neighbor gold timers connect 5
 neighbor silver peer-group
 neighbor silver disable-connected-check
 neighbor 10.0.0.254 remote-as 65000
 neighbor 10.0.0.254 peer-group gold
 neighbor 10.0.0.254 description tor a
 neighbor 10.0.0.254 update-source 10.0.0.1
 neighbor 10.0.0.254 graceful-restart
 neighbor 10.0.0.253 remote-as 65000
 neighbor 10.0.0.253 peer-group silver
 neighbor 10.0.0.253 graceful-restart-disable
 !
 address-family ipv4 unicast
  network 192.0.2.1/32 route-map CILIUM-ORIGIN-1
  network 192.0.2.2/32
  neighbor gold activate
  neighbor gold route-map CILIUM-REJECT in
  neighbor gold route-map gold-ipv4-out out
 exit-address-family
exit
!
router bgp 64520 view blue
 bgp router-id 10.0.0.1
 no bgp default ipv4-unicast
 coalesce-time 0
 neighbor 10.0.1.254 remote-as 64700
exit
!
`

// TestRulesOnFRR removes each line of everyLine with the delta Delta computes, then puts it
// back with another delta: FRR must accept each No form and each line re-sent on its own (the
// graceful-restart line included), and print back exactly the desired configuration.
func TestRulesOnFRR(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			r := frrtest.Start(t, v, "rules")
			if err := r.Load(foreign + everyLine); err != nil {
				t.Fatal(err)
			}
			base := mustParse(t, everyLine)
			owns := base.Rendered()
			used := map[*Rule]bool{}
			lines := strings.Split(everyLine, "\n")
			for i, line := range lines {
				body := strings.TrimSpace(line)
				if body == "" || body == "!" || body == "exit" || strings.HasPrefix(body, "exit-") || line[0] != ' ' || strings.HasPrefix(body, "address-family ") ||
					strings.Contains(body, " remote-as ") || strings.Contains(body, " peer-group") {
					continue // not a setting of its own
				}
				if strings.HasPrefix(body, "no bgp ") {
					// Always rendered; turning "no bgp default ipv4-unicast" off changes how FRR
					// prints the families' activate lines.
					continue
				}
				scope := InstanceScope
				switch {
				case strings.HasPrefix(line, "  "):
					scope = FamilyScope
				case strings.HasPrefix(body, "set ") || strings.HasPrefix(body, "match "):
					scope = RouteMapScope
				}
				rule, _, _ := classify(scope, body)
				if rule == nil {
					t.Errorf("%q matches no rule", body)
					continue
				}
				used[rule] = true
				without := strings.Join(append(append([]string{}, lines[:i]...), lines[i+1:]...), "\n")
				for _, step := range []struct{ name, want string }{{"remove", without}, {"restore", everyLine}} {
					_, run := running(t, r)
					delta := Delta(run, mustParse(t, step.want), owns)
					if len(delta) == 0 {
						t.Errorf("%s %q: empty delta", step.name, body)
						continue
					}
					out := apply(t, r, delta)
					text, after := running(t, r)
					if d := frrtest.DiffBlocks(foreign+step.want, text); d != "" {
						t.Fatalf("%s %q with %q: FRR runs (-want +got):\n%s", step.name, body, hideSecrets(delta), d)
					}
					if again := Delta(after, mustParse(t, step.want), owns); len(again) != 0 {
						t.Errorf("%s %q: delta after applying is %q", step.name, body, again)
					}
					if step.name == "remove" {
						var payload []string
						for _, l := range delta {
							if !isNodeLine(l) {
								payload = append(payload, strings.TrimSpace(l))
							}
						}
						t.Logf("%-48q removed by %q; FRR printed %q", MaskSecrets(body), payload, out)
					}
				}
			}
			for i := range Rules {
				if rl := &Rules[i]; rl.Scope != TopScope && !used[rl] && !rl.Recreate && !strings.HasSuffix(rl.Line, "peer-group") && !strings.HasPrefix(rl.Line, "no ") {
					t.Errorf("rule %q is not exercised", rl.Line)
				}
			}
		})
	}
}
