package frrconfig

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// foreign is configuration frr-renderer did not render: an operator's route-map and
// community-list, logging, and a BGP instance in a VRF. No delta may touch it.
const foreign = `log syslog informational
bgp community-list standard OPS seq 5 permit 65000:666
!
route-map OPERATOR permit 10
 set local-preference 50
exit
!
router bgp 65010 vrf red
 bgp router-id 10.9.9.9
 neighbor 10.9.9.1 remote-as 65011
exit
!
`

func dialectOf(v frrtest.Version) string {
	if v == frrtest.FRR8 {
		return "8"
	}
	return "10"
}

// apply sends a delta in one vtysh call, as an applier would, and returns what vtysh printed.
func apply(t *testing.T, r *frrtest.Router, delta []string) string {
	t.Helper()
	if len(delta) == 0 {
		return ""
	}
	args := []string{"-c", "configure terminal"}
	for _, l := range delta {
		args = append(args, "-c", l)
	}
	out, err := r.Vtysh(args...)
	if err != nil {
		t.Fatalf("applying the delta:\n%s\n%v", hideSecrets(delta), err)
	}
	return strings.TrimSpace(out)
}

func hideSecrets(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(MaskSecrets(l) + "\n")
	}
	return b.String()
}

func running(t *testing.T, r *frrtest.Router) (string, *Config) {
	t.Helper()
	text, err := r.RunningConfig()
	if err != nil {
		t.Fatal(err)
	}
	return text, mustParse(t, text)
}

// TestGoldenReadBackOnFRR: each golden rendering loaded into the FRR of its dialect reads back
// with an empty delta; the delta to an empty configuration then deletes every
// instance and route-map it rendered and nothing else.
func TestGoldenReadBackOnFRR(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			r := frrtest.Start(t, v, "readback")
			if err := r.Load(foreign); err != nil {
				t.Fatal(err)
			}
			for _, g := range goldens(t) {
				if g.dialect != dialectOf(v) {
					continue
				}
				if err := r.Load(g.text); err != nil {
					t.Fatalf("%s: %v", g.name, err)
				}
				text, run := running(t, r)
				desired := mustParse(t, g.text)
				owns := desired.Rendered()
				if d := Delta(run, desired, owns); len(d) != 0 {
					t.Errorf("%s: Delta(read back, rendering) = %q", g.name, d)
				}
				del := Delta(run, mustParse(t, ""), owns)
				out := apply(t, r, del)
				t.Logf("%s: %d lines read back, delete in %d lines: %q, FRR printed %q", g.name, strings.Count(text, "\n"), len(del), del, out)
				if text, _ := running(t, r); frrtest.DiffBlocks(foreign, text) != "" {
					t.Fatalf("%s: after deleting everything:\n%s", g.name, frrtest.DiffBlocks(foreign, text))
				}
			}
		})
	}
}

// transition is a change from one configuration to another.
type transition struct {
	name     string
	from, to string
}

func transitions(t *testing.T, v frrtest.Version) []transition {
	b := frrconfigtest.Seed
	withPolicy5 := frrconfigtest.Edit(t, b,
		"route-map CILIUM-REJECT", "route-map CILIUM-ORIGIN-5 permit 10\n set tag 5\nexit\n!\nroute-map CILIUM-REJECT",
		outMap, outMap+"route-map cilium-peer-ipv4-out permit 6\n match tag 5\n set community 65000:5\nexit\n!\n",
		network1, "  network 10.5.0.0/24 route-map CILIUM-ORIGIN-5\n"+network1)
	rejectOut := frrconfigtest.Edit(t, b, outMap, "", outBind, "  neighbor cilium-peer route-map CILIUM-REJECT out\n")
	secondPeer := frrconfigtest.Edit(t, b, " neighbor 192.168.10.1 graceful-restart\n", " neighbor 192.168.10.1 graceful-restart\n neighbor 192.168.10.2 remote-as 65000\n neighbor 192.168.10.2 peer-group cilium-peer\n neighbor 192.168.10.2 description tor-2\n neighbor 192.168.10.2 graceful-restart\n")
	noGR := frrconfigtest.Edit(t, b, " bgp graceful-restart preserve-fw-state\n", "", " neighbor 192.168.10.1 graceful-restart\n", "")
	password := frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer password s3cr3t\n"+timers)
	allOptions := frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer password s3cr3t\n neighbor cilium-peer port 1790\n neighbor cilium-peer ebgp-multihop 4\n neighbor cilium-peer timers 3 9\n neighbor cilium-peer timers connect 5\n",
		" neighbor 192.168.10.1 description FRRouter\n", " neighbor 192.168.10.1 description tor 1\n neighbor 192.168.10.1 update-source 192.168.10.11\n",
		" bgp graceful-restart preserve-fw-state\n", " bgp graceful-restart restart-time 300\n bgp graceful-restart preserve-fw-state\n")
	view := b + "router bgp 64520 view blue\n bgp router-id 192.168.10.11\n no bgp default ipv4-unicast\n no bgp network import-check\n neighbor cilium-peer peer-group\n neighbor 192.168.10.3 remote-as 65000\n neighbor 192.168.10.3 peer-group cilium-peer\n !\n address-family ipv4 unicast\n" + network1 + "  neighbor cilium-peer activate\n  neighbor cilium-peer route-map CILIUM-REJECT in\n" + outBind + routerEnd
	ts := []transition{
		{"add a prefix", b, frrconfigtest.Edit(t, b, network1, network1+"  network 172.20.0.2/32 route-map CILIUM-ORIGIN-2722987788\n")},
		{"remove a prefix", frrconfigtest.Edit(t, b, network1, network1+"  network 172.20.0.2/32 route-map CILIUM-ORIGIN-2722987788\n"), b},
		{"add a prefix with a new policy", b, withPolicy5},
		{"remove a prefix and its policy", withPolicy5, b},
		{"move a prefix to another policy", withPolicy5, frrconfigtest.Edit(t, withPolicy5, "  network 10.5.0.0/24 route-map CILIUM-ORIGIN-5\n", "  network 10.5.0.0/24 route-map CILIUM-ORIGIN-2722987788\n")},
		{"change communities", withPolicy5, frrconfigtest.Edit(t, withPolicy5, " set community 65000:5\n", " set community 65000:6 no-export\n set large-community 64512:1:1\n set local-preference 200\n")},
		{"remove communities", frrconfigtest.Edit(t, withPolicy5, " set community 65000:5\n", " set community 65000:6 no-export\n set large-community 64512:1:1\n set local-preference 200\n"), withPolicy5},
		{"add a peer", b, secondPeer},
		{"remove a peer", secondPeer, b},
		{"change timers", b, frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer timers 3 9\n neighbor cilium-peer timers connect 5\n")},
		{"set a password", b, password},
		{"change the password", password, frrconfigtest.Edit(t, password, "s3cr3t", "n3w-s3cr3t")},
		{"remove the password", password, b},
		{"every option", b, allOptions},
		{"no option", allOptions, b},
		{"enable graceful restart", noGR, b},
		{"disable graceful restart", b, noGR},
		{"out route-map to CILIUM-REJECT", b, rejectOut},
		{"out route-map back", rejectOut, b},
		{"change the remote AS", b, frrconfigtest.Edit(t, b, "remote-as 65000", "remote-as 65002")},
		{"external to internal", b, frrconfigtest.Edit(t, b, "remote-as 65000", "remote-as 65001")},
		{"move a neighbor to another group", b, strings.ReplaceAll(b, "cilium-peer", "gold")},
		{"change the router ID", b, frrconfigtest.Edit(t, b, "bgp router-id 192.168.10.11", "bgp router-id 192.168.10.99")},
		{"route-map entry action", b, frrconfigtest.Edit(t, b, "route-map cilium-peer-ipv4-out permit 8539", "route-map cilium-peer-ipv4-out deny 8539")},
		{"add a view", b, view},
		{"remove a view", view, b},
		{"change the ASN of a view", view, strings.Replace(view, "router bgp 64520 view blue", "router bgp 64521 view blue", 1)},
		{"change the ASN", b, strings.Replace(b, "router bgp 65001", "router bgp 65002", 1)},
	}
	multi := goldenNamed(t, "multi-instance/edge-1.frr"+dialectOf(v))
	tors := goldenNamed(t, "ref-two-tors-ipv6/rack0-node1.frr"+dialectOf(v))
	// Views of mapped instance names, "default"'s among them: added, and deleted again.
	names := goldenNamed(t, "instance-names/node-1.frr"+dialectOf(v))
	ts = append(ts,
		transition{"seed to multi-instance", b, multi},
		transition{"multi-instance to two ToRs", multi, tors},
		transition{"two ToRs to seed", tors, b},
		transition{"seed to mapped instance names", b, names},
		transition{"mapped instance names to seed", names, b},
	)
	return ts
}

// TestDeltaOnFRR applies each transition's delta to real FRR in one vtysh call: FRR then
// prints the desired configuration back, the delta computed again is empty, and the foreign
// configuration is untouched.
func TestDeltaOnFRR(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			frrtest.Require(t, v)
			var report []string
			for _, tr := range transitions(t, v) {
				ok := t.Run(tr.name, func(t *testing.T) {
					r := frrtest.Start(t, v, "delta")
					if err := r.Load(foreign + tr.from); err != nil {
						t.Fatal(err)
					}
					_, run := running(t, r)
					desired := mustParse(t, tr.to)
					// What the applier passes: what it rendered before, and the model's groups.
					owns := mustParse(t, tr.from).Rendered().Union(Ownership{PeerGroups: []string{"cilium-peer", "gold", "silver", "DEFAULTS"}})
					if c := Conflicts(run, desired, owns); len(c) > 0 {
						t.Fatalf("conflicts: %q", c)
					}
					delta := Delta(run, desired, owns)
					if len(delta) == 0 {
						t.Fatal("empty delta")
					}
					out := apply(t, r, delta)
					text, after := running(t, r)
					if d := frrtest.DiffBlocks(foreign+tr.to, text); d != "" {
						t.Errorf("after the delta\n%s\nFRR runs (-want +got):\n%s", hideSecrets(delta), d)
					}
					if again := Delta(after, desired, owns); len(again) != 0 {
						t.Errorf("delta after applying is %q", again)
					}
					if !strings.Contains(text, "log syslog informational") {
						t.Errorf("logging went away:\n%s", text)
					}
					resets := 0
					for _, l := range delta {
						if SessionResetting(l) {
							resets++
						}
					}
					warn := "none"
					if out != "" {
						warn = strings.ReplaceAll(out, "\n", " | ")
					}
					report = append(report, fmt.Sprintf("%-34s %3d lines, %d resetting; FRR printed: %s", tr.name, len(delta), resets, warn))
					t.Logf("delta:\n%s", hideSecrets(delta))
				})
				if !ok {
					report = append(report, fmt.Sprintf("%-34s FAILED", tr.name))
				}
			}
			t.Logf("FRR %s transitions:\n%s", v, strings.Join(report, "\n"))
		})
	}
}

// torConf is the ToR of the seed scenario, peering with node cp-1 (192.168.10.11).
const torConf = `frr defaults traditional
!
router bgp 65000
 bgp router-id 192.168.10.1
 no bgp ebgp-requires-policy
 neighbor 192.168.10.11 remote-as 65001
 neighbor 192.168.10.11 timers 3 9
 neighbor 192.168.10.11 timers connect 1
 !
 address-family ipv6 unicast
  neighbor 192.168.10.11 activate
 exit-address-family
exit
!
`

// TestSessionResetsOnFRR checks Rules' Effect column on an established session: each change is
// applied as a delta to the node, and the ToR's count of dropped connections tells whether
// the session was reset. The change is then reverted and the session re-established.
func TestSessionResetsOnFRR(t *testing.T) {
	if testing.Short() {
		t.Skip("about a minute per FRR version")
	}
	// A fast base: short timers so that a reset session comes back within seconds.
	b := frrconfigtest.Edit(t, frrconfigtest.Seed, timers, " neighbor cilium-peer timers 3 9\n neighbor cilium-peer timers connect 1\n")
	// resets: whether the change resets the session, and whether reverting it does.
	type change struct {
		name         string
		to           string
		resets, back bool
		// oneWay: the change leaves the session down (a password only the node has): its
		// revert is applied, not measured.
		oneWay bool
	}
	// v10: what only FRR 10.3 resets.
	changes := func(v10 bool) []change {
		return []change{
			{"add a prefix", frrconfigtest.Edit(t, b, network1, network1+"  network 172.20.0.2/32 route-map CILIUM-ORIGIN-2722987788\n"), false, false, false},
			{"change communities", frrconfigtest.Edit(t, b, " match tag 2722987788\n", " match tag 2722987788\n set community 65000:7\n"), false, false, false},
			{"out route-map to CILIUM-REJECT", frrconfigtest.Edit(t, b, outBind, "  neighbor cilium-peer route-map CILIUM-REJECT out\n"), false, false, false},
			{"timers", frrconfigtest.Edit(t, b, "timers 3 9", "timers 4 12"), false, false, false},
			{"connect timer", frrconfigtest.Edit(t, b, "timers connect 1", "timers connect 2"), false, false, false},
			{"description", frrconfigtest.Edit(t, b, "description FRRouter", "description ToR"), false, false, false},
			{"graceful restart off", frrconfigtest.Edit(t, b, " neighbor 192.168.10.1 graceful-restart\n", " neighbor 192.168.10.1 graceful-restart-disable\n"), v10, v10, false},
			{"graceful restart helper", frrconfigtest.Edit(t, b, " neighbor 192.168.10.1 graceful-restart\n", ""), v10, v10, false},
			{"connected check off", frrconfigtest.Edit(t, b, " neighbor cilium-peer timers 3 9\n", " neighbor cilium-peer disable-connected-check\n neighbor cilium-peer timers 3 9\n"), true, true, false},
			{"preserve-fw-state off", frrconfigtest.Edit(t, b, " bgp graceful-restart preserve-fw-state\n", ""), false, false, false},
			{"restart time", frrconfigtest.Edit(t, b, " bgp graceful-restart preserve-fw-state\n", " bgp graceful-restart restart-time 30\n bgp graceful-restart preserve-fw-state\n"), false, false, false},
			{"router ID", frrconfigtest.Edit(t, b, "bgp router-id 192.168.10.11", "bgp router-id 192.168.10.99"), true, true, false},
			{"update-source", frrconfigtest.Edit(t, b, " neighbor 192.168.10.1 description FRRouter\n", " neighbor 192.168.10.1 description FRRouter\n neighbor 192.168.10.1 update-source 192.168.10.11\n"), true, true, false},
			{"ebgp-multihop", frrconfigtest.Edit(t, b, " neighbor cilium-peer timers 3 9\n", " neighbor cilium-peer ebgp-multihop 2\n neighbor cilium-peer timers 3 9\n"), true, true, false},
			{"password", frrconfigtest.Edit(t, b, " neighbor cilium-peer timers 3 9\n", " neighbor cilium-peer password s3cr3t\n neighbor cilium-peer timers 3 9\n"), true, false, true},
			{"activate a family", frrconfigtest.Edit(t, b, routerEnd, routerEnd[:len(" exit-address-family\n")]+" !\n address-family ipv6 unicast\n  neighbor cilium-peer activate\n"+routerEnd), true, true, false},
		}
	}
	for _, v := range frrtest.Supported() {
		changes := changes(v == frrtest.FRR10)
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			node := frrtest.Start(t, v, "node")
			tor := frrtest.Start(t, v, "tor")
			frrtest.Link(t, node, tor, netip.MustParsePrefix("192.168.10.11/24"), netip.MustParsePrefix("192.168.10.1/24"))
			if err := tor.Load(torConf); err != nil {
				t.Fatal(err)
			}
			if err := node.Load(b); err != nil {
				t.Fatal(err)
			}
			owns := mustParse(t, b).Rendered().Union(Ownership{PeerGroups: []string{"cilium-peer"}})
			var report []string
			for _, c := range changes {
				for _, step := range []struct {
					name, to string
					want     bool
				}{{c.name, c.to, c.resets}, {c.name + ", back", b, c.back}} {
					if c.oneWay && step.to == b {
						_, run := running(t, node)
						apply(t, node, Delta(run, mustParse(t, b), owns))
						continue
					}
					established(t, tor)
					before := dropped(t, tor)
					_, run := running(t, node)
					delta := Delta(run, mustParse(t, step.to), owns)
					apply(t, node, delta)
					time.Sleep(2 * time.Second)
					reset := dropped(t, tor) > before
					predicted := false
					for _, l := range delta {
						predicted = predicted || SessionResetting(l)
					}
					report = append(report, fmt.Sprintf("%-36s reset=%-5v predicted=%-5v %q", step.name, reset, predicted, hideSecrets(delta)))
					t.Log(report[len(report)-1])
					// SessionResetting may err on the safe side (graceful-restart on 8.4).
					if reset != step.want || reset && !predicted {
						t.Errorf("%s: session reset %v, SessionResetting says %v, want %v; delta %q", step.name, reset, predicted, step.want, hideSecrets(delta))
					}
				}
			}
			t.Logf("FRR %s:\n%s", v, strings.Join(report, "\n"))
		})
	}
}

func established(t *testing.T, tor *frrtest.Router) {
	t.Helper()
	frrtest.WaitFor(t, 30*time.Second, func() error {
		var n map[string]struct {
			BgpState string `json:"bgpState"`
		}
		if err := tor.ShowJSON("show bgp neighbors 192.168.10.11 json", &n); err != nil {
			return err
		}
		if s := n["192.168.10.11"].BgpState; s != "Established" {
			return fmt.Errorf("session is %q", s)
		}
		return nil
	})
}

func dropped(t *testing.T, tor *frrtest.Router) int {
	t.Helper()
	var n map[string]struct {
		Dropped *int `json:"connectionsDropped"`
	}
	if err := tor.ShowJSON("show bgp neighbors 192.168.10.11 json", &n); err != nil {
		t.Fatal(err)
	}
	if n["192.168.10.11"].Dropped == nil {
		t.Fatal("no connectionsDropped in show bgp neighbors json")
	}
	return *n["192.168.10.11"].Dropped
}
