package frrconfig

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
)

// Lines of the base rendering that the transitions edit.
const (
	network1  = frrconfigtest.SeedNetwork
	outMap    = "route-map cilium-peer-ipv4-out permit 8539\n match tag 2722987788\nexit\n!\n"
	timers    = " neighbor cilium-peer timers 30 90\n neighbor cilium-peer timers connect 120\n"
	tor       = frrconfigtest.SeedToR
	outBind   = "  neighbor cilium-peer route-map cilium-peer-ipv4-out out\n"
	routerEnd = " exit-address-family\nexit\n!\n"
)

func TestDeltaOfItselfIsEmpty(t *testing.T) {
	for _, g := range goldens(t) {
		c := mustParse(t, g.text)
		if d := Delta(c, c, Ownership{}); len(d) != 0 {
			t.Errorf("%s: Delta(x, x) = %q", g.name, d)
		}
		if len(c.instances) == 0 || len(c.routeMaps) == 0 {
			t.Errorf("%s: parsed %d instances and %d route-map entries", g.name, len(c.instances), len(c.routeMaps))
		}
		// FRR 8.4 prints route-maps after the routers, with a header and other daemons' lines.
		readBack := "Building configuration...\n\nCurrent configuration:\n!\nfrr version 8.4.4\nfrr defaults traditional\nhostname vm\nlog syslog informational\nservice integrated-vtysh-config\n!\ninterface eth0\n ip address 10.0.0.1/24\nexit\n!\n" +
			routersOnly(g.text) + "ip prefix-list PL seq 5 permit 10.0.0.0/8\n!\n" + routeMapsOnly(g.text) + "line vty\n!\nend\n"
		if d := Delta(mustParse(t, readBack), c, ownsOf(c)); len(d) != 0 {
			t.Errorf("%s: Delta(8.4 order, rendering) = %q", g.name, d)
		}
	}
}

// routersOnly and routeMapsOnly split a rendering's blocks.
func routersOnly(text string) string   { return blocksStarting(text, "router bgp") }
func routeMapsOnly(text string) string { return blocksStarting(text, "route-map ") }

func blocksStarting(text, prefix string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" && l[0] != ' ' && l[0] != '!' && !strings.HasPrefix(l, "exit") {
			in = strings.HasPrefix(l, prefix)
		}
		if in {
			b.WriteString(l)
		}
	}
	return b.String()
}

func TestParse(t *testing.T) {
	c := mustParse(t, goldenNamed(t, "multi-instance/edge-1.frr10"))
	if got, want := fmt.Sprint(c.Instances()), "[router bgp 64512 router bgp 64520 view blue]"; got != want {
		t.Errorf("Instances = %s, want %s", got, want)
	}
	if got := len(c.RouteMaps()); got != 9 {
		t.Errorf("RouteMaps = %v", c.RouteMaps())
	}
	red := c.instances[0]
	if len(red.peers) != 6 || !red.peerIdx["gold"].group || red.peerIdx["10.1.0.1"].group {
		t.Errorf("peers of red: %+v", red.peers)
	}
	if len(red.afs) != 2 || len(red.afIdx["address-family ipv4 unicast"].lines) != 11 {
		t.Errorf("families of red: %+v", red.afs)
	}

	// Foreign blocks are kept as such; nested sub-blocks are opaque.
	c = mustParse(t, `router bgp 65010 vrf red
 bgp router-id 1.1.1.1
 bmp targets T
  bmp connect 192.0.2.9 port 5000
 exit
 neighbor 10.9.9.9 remote-as 65011
 !
 address-family l2vpn evpn
  advertise-all-vni
  vni 10
   rd 1:1
  exit-vni
 exit-address-family
exit
route-map OPERATOR permit 10
 set local-preference 50
exit
`)
	in := c.instances[0]
	if in.id != (InstanceID{ASN: "65010", Kind: "vrf", Name: "red"}) || len(in.globals) != 1 || len(in.peers) != 1 || len(in.opaque) != 1 || len(in.opaque[0]) != 3 {
		t.Errorf("vrf instance: %+v", in)
	}
	if !in.afs[0].opaque {
		t.Errorf("evpn family with a vni block is not opaque: %+v", in.afs[0])
	}
	if d := Delta(c, c, Ownership{Instances: c.Instances()}); len(d) != 0 {
		t.Errorf("Delta(x, x) = %q", d)
	}
}

// TestParseErrorsHidePasswords: every line Parse refuses is quoted with its password masked.
func TestParseErrorsHidePasswords(t *testing.T) {
	for _, text := range []string{
		"router bgp\n",
		"router bgp 1 view\n",
		"route-map X permit\n",
		"route-map X allow 10\n",
		"router bgp 1\n neighbor\n",
		"router bgp 1\nrouter bgp 2\n",
		"router bgp 1 password hunter2\n",
		"route-map X password hunter2\n",
		"route-map X permit password hunter2\n",
	} {
		_, err := Parse(text)
		switch {
		case err == nil:
			t.Errorf("Parse(%q) succeeded", text)
		case strings.Contains(err.Error(), "hunter2"):
			t.Errorf("Parse(%q): %v shows the password", text, err)
		case strings.Contains(text, "hunter2") && !strings.Contains(err.Error(), "password <redacted>"):
			t.Errorf("Parse(%q): %v does not say where the password was", text, err)
		}
	}
}

func TestMaskSecrets(t *testing.T) {
	for in, want := range map[string]string{
		" neighbor 10.0.0.1 password s3cret":                       " neighbor 10.0.0.1 password <redacted>",
		"neighbor tor password a!b#c":                              "neighbor tor password <redacted>",
		"% [BGP] Unknown command:  neighbor x password abc extra":  "% [BGP] Unknown command:  neighbor x password <redacted>",
		"line 1\n neighbor gold password pw\nline 3":               "line 1\n neighbor gold password <redacted>\nline 3",
		" neighbor 10.0.0.1 remote-as 65000":                       " neighbor 10.0.0.1 remote-as 65000",
		" no neighbor 10.0.0.1 password":                           " no neighbor 10.0.0.1 password",
		" neighbor 10.0.0.1 description password-rotation-pending": " neighbor 10.0.0.1 description password-rotation-pending",
	} {
		if got := MaskSecrets(in); got != want {
			t.Errorf("MaskSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDeltaTransitions pins the exact delta of each kind of change to the seed rendering.
func TestDeltaTransitions(t *testing.T) {
	b := frrconfigtest.Seed
	withPrefix2 := frrconfigtest.Edit(t, b, network1, network1+"  network 172.20.0.2/32 route-map CILIUM-ORIGIN-2722987788\n")
	withPolicy5 := frrconfigtest.Edit(t, b,
		"route-map CILIUM-REJECT", "route-map CILIUM-ORIGIN-5 permit 10\n set tag 5\nexit\n!\nroute-map CILIUM-REJECT",
		outMap, outMap+"route-map cilium-peer-ipv4-out permit 6\n match tag 5\n set community 65000:5\nexit\n!\n",
		network1, "  network 10.5.0.0/24 route-map CILIUM-ORIGIN-5\n"+network1)
	rejectOut := frrconfigtest.Edit(t, b, outMap, "", outBind, "  neighbor cilium-peer route-map CILIUM-REJECT out\n")
	secondPeer := frrconfigtest.Edit(t, b, " neighbor 192.168.10.1 graceful-restart\n", " neighbor 192.168.10.1 graceful-restart\n neighbor 192.168.10.2 remote-as 65000\n neighbor 192.168.10.2 peer-group cilium-peer\n neighbor 192.168.10.2 description tor-2\n")
	noGR := frrconfigtest.Edit(t, b, " bgp graceful-restart preserve-fw-state\n", "", " neighbor 192.168.10.1 graceful-restart\n", "")
	view := b + "router bgp 64520 view blue\n bgp router-id 192.168.10.11\n no bgp default ipv4-unicast\n no bgp network import-check\n neighbor cilium-peer peer-group\n neighbor 192.168.10.3 remote-as 65000\n neighbor 192.168.10.3 peer-group cilium-peer\n !\n address-family ipv4 unicast\n" + network1 + "  neighbor cilium-peer activate\n  neighbor cilium-peer route-map CILIUM-REJECT in\n" + outBind + routerEnd
	gold := strings.ReplaceAll(b, "cilium-peer", "gold")

	tests := []struct {
		name     string
		from, to string
		owns     Ownership
		want     []string
	}{
		{"add a prefix", b, withPrefix2, Ownership{}, []string{
			"router bgp 65001", " address-family ipv4 unicast", "  network 172.20.0.2/32 route-map CILIUM-ORIGIN-2722987788", " exit-address-family", "exit"}},
		{"remove a prefix", withPrefix2, b, Ownership{}, []string{
			"router bgp 65001", " address-family ipv4 unicast", "  no network 172.20.0.2/32", " exit-address-family", "exit"}},
		{"add a prefix with a new policy", b, withPolicy5, Ownership{}, []string{
			"route-map CILIUM-ORIGIN-5 permit 10", " set tag 5", "exit",
			"route-map cilium-peer-ipv4-out permit 6", " match tag 5", " set community 65000:5", "exit",
			"router bgp 65001", " address-family ipv4 unicast", "  network 10.5.0.0/24 route-map CILIUM-ORIGIN-5", " exit-address-family", "exit"}},
		{"remove a prefix and its policy", withPolicy5, b, Ownership{}, []string{
			"router bgp 65001", " address-family ipv4 unicast", "  no network 10.5.0.0/24", " exit-address-family", "exit",
			"no route-map CILIUM-ORIGIN-5", "no route-map cilium-peer-ipv4-out permit 6"}},
		{"change communities", withPolicy5, frrconfigtest.Edit(t, withPolicy5, " set community 65000:5\n", " set community 65000:6 no-export\n set local-preference 200\n"), Ownership{}, []string{
			"route-map cilium-peer-ipv4-out permit 6", " set community 65000:6 no-export", " set local-preference 200", "exit"}},
		{"remove communities", withPolicy5, frrconfigtest.Edit(t, withPolicy5, " set community 65000:5\n", ""), Ownership{}, []string{
			"route-map cilium-peer-ipv4-out permit 6", " no set community", "exit"}},
		{"move a prefix to another policy", withPolicy5, frrconfigtest.Edit(t, withPolicy5, "  network 10.5.0.0/24 route-map CILIUM-ORIGIN-5\n", "  network 10.5.0.0/24 route-map CILIUM-ORIGIN-2722987788\n"), Ownership{}, []string{
			"router bgp 65001", " address-family ipv4 unicast", "  network 10.5.0.0/24 route-map CILIUM-ORIGIN-2722987788", " exit-address-family", "exit"}},
		{"change timers", b, frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer timers 3 9\n neighbor cilium-peer timers connect 5\n"), Ownership{}, []string{
			"router bgp 65001", " neighbor cilium-peer timers 3 9", " neighbor cilium-peer timers connect 5", "exit"}},
		{"default timers", frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer timers 3 9\n neighbor cilium-peer timers connect 5\n"), frrconfigtest.Edit(t, b, timers, ""), Ownership{}, []string{
			"router bgp 65001", " no neighbor cilium-peer timers connect", " no neighbor cilium-peer timers", "exit"}},
		{"set a password", b, frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer password s3cr3t\n"+timers), Ownership{}, []string{
			"router bgp 65001", " neighbor cilium-peer password s3cr3t", "exit"}},
		{"change a password", frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer password s3cr3t\n"+timers), frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer password n3w\n"+timers), Ownership{}, []string{
			"router bgp 65001", " neighbor cilium-peer password n3w", "exit"}},
		{"remove a password", frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer password s3cr3t\n"+timers), b, Ownership{}, []string{
			"router bgp 65001", " no neighbor cilium-peer password", "exit"}},
		{"every group option", b, frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer password s3cr3t\n neighbor cilium-peer port 1790\n neighbor cilium-peer ebgp-multihop 4\n"+timers), Ownership{}, []string{
			"router bgp 65001", " neighbor cilium-peer password s3cr3t", " neighbor cilium-peer port 1790", " neighbor cilium-peer ebgp-multihop 4", "exit"}},
		{"no group option", frrconfigtest.Edit(t, b, timers, " neighbor cilium-peer password s3cr3t\n neighbor cilium-peer port 1790\n neighbor cilium-peer ebgp-multihop\n"+timers), b, Ownership{}, []string{
			"router bgp 65001", " no neighbor cilium-peer ebgp-multihop", " no neighbor cilium-peer port", " no neighbor cilium-peer password", "exit"}},
		{"disable graceful restart", b, noGR, Ownership{}, []string{
			"router bgp 65001", " no bgp graceful-restart preserve-fw-state", " no neighbor 192.168.10.1 graceful-restart", "exit"}},
		{"enable graceful restart", noGR, frrconfigtest.Edit(t, b, " bgp graceful-restart preserve-fw-state\n", " bgp graceful-restart restart-time 300\n bgp graceful-restart preserve-fw-state\n"), Ownership{}, []string{
			"router bgp 65001", " bgp graceful-restart restart-time 300", " bgp graceful-restart preserve-fw-state", " neighbor 192.168.10.1 graceful-restart", "exit"}},
		{"neighbor options", b, frrconfigtest.Edit(t, b, " neighbor 192.168.10.1 description FRRouter\n", " neighbor 192.168.10.1 description tor 1\n neighbor 192.168.10.1 update-source 192.168.10.11\n"), Ownership{}, []string{
			"router bgp 65001", " neighbor 192.168.10.1 description tor 1", " neighbor 192.168.10.1 update-source 192.168.10.11", "exit"}},
		{"no neighbor options", frrconfigtest.Edit(t, b, " neighbor 192.168.10.1 description FRRouter\n", " neighbor 192.168.10.1 update-source 192.168.10.11\n"), frrconfigtest.Edit(t, b, " neighbor 192.168.10.1 description FRRouter\n", ""), Ownership{}, []string{
			"router bgp 65001", " no neighbor 192.168.10.1 update-source", "exit"}},
		{"add a peer", b, secondPeer, Ownership{}, []string{
			"router bgp 65001", " neighbor 192.168.10.2 remote-as 65000", " neighbor 192.168.10.2 peer-group cilium-peer", " neighbor 192.168.10.2 description tor-2", "exit"}},
		{"remove a peer", secondPeer, b, Ownership{}, []string{
			"router bgp 65001", " no neighbor 192.168.10.2", "exit"}},
		{"remove the last peer and its group", b, frrconfigtest.Edit(t, b, " neighbor cilium-peer peer-group\n"+timers+tor, "", "  neighbor cilium-peer activate\n  neighbor cilium-peer route-map CILIUM-REJECT in\n"+outBind, "", outMap, ""), Ownership{}, []string{
			"router bgp 65001", " no neighbor 192.168.10.1", " no neighbor cilium-peer peer-group", "exit", "no route-map cilium-peer-ipv4-out"}},
		{"change the remote AS", b, frrconfigtest.Edit(t, b, "remote-as 65000", "remote-as 65002"), Ownership{}, []string{
			"router bgp 65001", " neighbor 192.168.10.1 remote-as 65002", "exit"}},
		{"external to internal", b, frrconfigtest.Edit(t, b, "remote-as 65000", "remote-as 65001"), Ownership{}, append(append([]string{
			"router bgp 65001", " no neighbor 192.168.10.1"}, indent(strings.Replace(tor, "65000", "65001", 1))...), "exit")},
		{"move a neighbor to a new group", b, gold, Ownership{}, append(append([]string{
			"route-map gold-ipv4-out permit 8539", " match tag 2722987788", "exit",
			"router bgp 65001", " neighbor gold peer-group", " neighbor gold timers 30 90", " neighbor gold timers connect 120", " no neighbor 192.168.10.1"}, indent(strings.ReplaceAll(tor, "peer-group cilium-peer", "peer-group gold"))...),
			" address-family ipv4 unicast", "  neighbor gold activate", "  neighbor gold route-map CILIUM-REJECT in", "  neighbor gold route-map gold-ipv4-out out", " exit-address-family",
			" no neighbor cilium-peer peer-group", "exit", "no route-map cilium-peer-ipv4-out")},
		{"out route-map to CILIUM-REJECT", b, rejectOut, Ownership{}, []string{
			"router bgp 65001", " address-family ipv4 unicast", "  neighbor cilium-peer route-map CILIUM-REJECT out", " exit-address-family", "exit",
			"no route-map cilium-peer-ipv4-out"}},
		{"out route-map back", rejectOut, b, Ownership{}, []string{
			"route-map cilium-peer-ipv4-out permit 8539", " match tag 2722987788", "exit",
			"router bgp 65001", " address-family ipv4 unicast", "  neighbor cilium-peer route-map cilium-peer-ipv4-out out", " exit-address-family", "exit"}},
		{"add a view", b, view, Ownership{}, append(append([]string{"router bgp 64520 view blue"}, indent(strings.TrimPrefix(routersOnly(view)[len(routersOnly(b)):], "router bgp 64520 view blue\n"))...), "exit")},
		{"remove a view rendered before", view, b, ownsOf(mustParse(t, view)), []string{"no router bgp 64520 vrf blue"}},
		{"leave a foreign view", view, b, Ownership{}, nil},
		{"change the ASN", b, strings.Replace(b, "router bgp 65001", "router bgp 65002", 1), ownsOf(mustParse(t, b)), append(append([]string{"no router bgp 65001", "router bgp 65002"}, indent(strings.TrimPrefix(routersOnly(b), "router bgp 65001\n"))...), "exit")},
		{"change the router ID", b, frrconfigtest.Edit(t, b, "bgp router-id 192.168.10.11", "bgp router-id 192.168.10.99"), Ownership{}, []string{
			"router bgp 65001", " bgp router-id 192.168.10.99", "exit"}},
		{"an operator's line in our instance", frrconfigtest.Edit(t, b, timers, timers+" neighbor cilium-peer bfd\n"), b, Ownership{}, []string{
			"router bgp 65001", " no neighbor cilium-peer bfd", "exit"}},
		{"route-map entry action", b, frrconfigtest.Edit(t, b, "route-map cilium-peer-ipv4-out permit 8539", "route-map cilium-peer-ipv4-out deny 8539"), Ownership{}, []string{
			"route-map cilium-peer-ipv4-out deny 8539", "exit"}},
		{"an operator's entry in our route-map", frrconfigtest.Edit(t, b, outMap, outMap+"route-map cilium-peer-ipv4-out permit 9000\nexit\n"), b, Ownership{}, []string{
			"no route-map cilium-peer-ipv4-out permit 9000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// What an applier passes: the model's peer groups, and what it rendered before.
			owns := tt.owns.Union(Ownership{PeerGroups: []string{"cilium-peer", "gold"}})
			got := Delta(mustParse(t, tt.from), mustParse(t, tt.to), owns)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Delta:\n got  %q\n want %q", got, tt.want)
			}
			checkOrder(t, mustParse(t, tt.from), got)
			// Minimal: the delta of the result to itself is empty, and no removal repeats.
			if again := Delta(mustParse(t, tt.to), mustParse(t, tt.to), owns); len(again) != 0 {
				t.Errorf("Delta(to, to) = %q", again)
			}
		})
	}
}

func indent(block string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		if strings.TrimSpace(l) == "!" || strings.TrimSpace(l) == "" || l == "exit" {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestForeignObjectsSurvive: an operator's route-maps, another instance, lists and daemon
// settings are never changed nor deleted, whatever desired holds.
func TestForeignObjectsSurvive(t *testing.T) {
	b := frrconfigtest.Seed
	foreign := "log syslog informational\nbgp community-list standard OPS seq 5 permit 65000:666\n!\nroute-map OPERATOR permit 10\n set local-preference 50\nexit\n!\nroute-map uplink-ipv4-out permit 10\nexit\n!\nrouter bgp 65010 vrf red\n bgp router-id 1.1.1.1\n neighbor 10.9.9.9 remote-as 65011\nexit\n!\nip route 192.0.2.0/24 blackhole\n"
	running := mustParse(t, b+foreign)
	for _, desired := range []string{b, "", frrconfigtest.Edit(t, b, network1, "")} {
		for _, line := range Delta(running, mustParse(t, desired), ownsOf(running.withoutForeign(t), "cilium-peer")) {
			if strings.Contains(line, "OPERATOR") || strings.Contains(line, "uplink") || strings.Contains(line, "65010") || strings.Contains(line, "red") {
				t.Errorf("delta touches a foreign object: %q", line)
			}
		}
	}
	// A peer group named uplink makes uplink-ipv4-out frr-renderer's.
	if got := Delta(running, mustParse(t, b), Ownership{PeerGroups: []string{"uplink"}}); !slices.Equal(got, []string{"no route-map uplink-ipv4-out"}) {
		t.Errorf("Delta with uplink owned = %q", got)
	}
	// Desired takes an instance's place: only an owned one is replaced.
	conflicting := strings.Replace(b, "router bgp 65001", "router bgp 65003", 1)
	if c := Conflicts(running, mustParse(t, conflicting), Ownership{}); len(c) != 1 {
		t.Errorf("Conflicts = %q", c)
	}
	for _, line := range Delta(running, mustParse(t, conflicting), Ownership{}) {
		if strings.Contains(line, "router bgp") {
			t.Errorf("delta touches a foreign default instance: %q", line)
		}
	}
}

// withoutForeign returns the part of a config frr-renderer rendered (for ownsOf): its default
// instance and CILIUM route-maps.
func (c *Config) withoutForeign(t testing.TB) *Config {
	t.Helper()
	out := &Config{instIdx: map[string]*bgpInstance{}, rmIdx: map[string]*parsedRouteMapEntry{}, rmNames: map[string]bool{}}
	for _, in := range c.instances {
		if in.id.Kind == "" {
			out.instances = append(out.instances, in)
		}
	}
	return out
}

// TestOnePrefixOfTenThousand: one prefix more or less is the lines for that prefix only.
func TestOnePrefixOfTenThousand(t *testing.T) {
	big := frrconfigtest.SeedWithPrefixes(10000, "")
	for _, tt := range []struct {
		name string
		to   string
		max  int
	}{
		{"add", frrconfigtest.SeedWithPrefixes(10000, "  network 10.200.0.0/24 route-map CILIUM-ORIGIN-2722987788\n"), 5},
		{"add with a new policy", frrconfigtest.SeedWithPrefixes(10000, "  network 10.200.0.0/24 route-map CILIUM-ORIGIN-7\n") + "route-map CILIUM-ORIGIN-7 permit 10\n set tag 7\nexit\n", 8},
		{"remove", frrconfigtest.SeedWithPrefixes(9999, ""), 5},
		{"change", strings.Replace(big, "network 10.0.39.15/32 route-map CILIUM-ORIGIN-2722987788", "network 10.0.39.15/32 route-map CILIUM-ORIGIN-1", 1) + "route-map CILIUM-ORIGIN-1 permit 10\n set tag 1\nexit\n", 8},
	} {
		d := Delta(mustParse(t, big), mustParse(t, tt.to), Ownership{})
		payload := 0
		for _, l := range d {
			if !isNodeLine(l) {
				payload++
			}
		}
		if len(d) == 0 || len(d) > tt.max || payload > 2 {
			t.Errorf("%s: %d lines (%d payload):\n%s", tt.name, len(d), payload, strings.Join(d, "\n"))
		}
		t.Logf("%s: %q", tt.name, d)
	}
}

func isNodeLine(l string) bool {
	l = strings.TrimSpace(l)
	return l == "exit" || l == "exit-address-family" || strings.HasPrefix(l, "router bgp ") || strings.HasPrefix(l, "address-family ") || strings.HasPrefix(l, "route-map ")
}

func TestLineEffect(t *testing.T) {
	for line, want := range map[string]Effect{
		" bgp router-id 10.0.0.1":                       Resets,
		" neighbor tor password x":                      Resets,
		" no neighbor tor password":                     Resets,
		" neighbor tor timers 3 9":                      NoReset,
		" no neighbor tor timers connect":               NoReset,
		" neighbor 10.0.0.1 graceful-restart":           Resets,
		" no bgp graceful-restart preserve-fw-state":    AfterReset,
		" bgp graceful-restart restart-time 30":         AfterReset,
		"  network 10.0.0.0/24 route-map X":             NoReset,
		"  no network 10.0.0.0/24":                      NoReset,
		"  neighbor tor activate":                       Resets,
		"  neighbor tor route-map X out":                NoReset,
		" no neighbor 10.0.0.1":                         Resets,
		"no router bgp 65001":                           Resets,
		"router bgp 65001":                              NoReset,
		"route-map X permit 10":                         NoReset,
		" set community 65000:1":                        NoReset,
		" neighbor 10.0.0.1 remote-as 65002":            Resets,
		" neighbor 10.0.0.1 update-source 10.0.0.2":     Resets,
		" neighbor tor ebgp-multihop":                   Resets,
		" neighbor tor port 1790":                       Resets,
		" neighbor 10.0.0.1 description some text here": NoReset,
	} {
		if got := lineEffect(line); got != want {
			t.Errorf("lineEffect(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestResettingLines(t *testing.T) {
	running := mustParse(t, frrconfigtest.Seed)
	for _, tc := range []struct {
		name  string
		delta []string
		want  []int // indexes of resetting lines
	}{
		{"router-id", []string{"router bgp 65001", " bgp router-id 1.1.1.1", "exit"}, []int{1}},
		{"new neighbor", []string{"router bgp 65001", " neighbor 10.0.0.9 remote-as 65000", " neighbor 10.0.0.9 peer-group cilium-peer", "exit"}, nil},
		{"recreated neighbor", []string{"router bgp 65001", " no neighbor 192.168.10.1", " neighbor 192.168.10.1 remote-as 65002", " neighbor 192.168.10.1 peer-group cilium-peer", "exit"}, []int{1}},
		{"existing group", []string{"router bgp 65001", " address-family ipv4 unicast", "  neighbor cilium-peer activate", " exit-address-family", "exit"}, []int{2}},
		{"new instance", []string{"router bgp 65002 view blue", " bgp router-id 1.1.1.1", " neighbor 10.0.0.9 remote-as 65000", "exit"}, nil},
		{"replaced instance", []string{"no router bgp 65001", "router bgp 65002", " bgp router-id 1.1.1.1", "exit"}, []int{0}},
		{"route-map", []string{"route-map X permit 10", " set community 65000:1", "exit", "no route-map Y"}, nil},
		{"prefix", []string{"router bgp 65001", " address-family ipv4 unicast", "  network 10.0.0.0/24", " exit-address-family", "exit"}, nil},
	} {
		got := ResettingLines(running, tc.delta)
		var idx []int
		for i, r := range got {
			if r {
				idx = append(idx, i)
			}
		}
		if !slices.Equal(idx, tc.want) {
			t.Errorf("%s: resetting lines %v, want %v", tc.name, idx, tc.want)
		}
	}
}

// FuzzDelta checks on every pair of configurations that the fast path of keys agrees with
// classify on every line, that a configuration's delta to itself is empty, and that the delta,
// replayed on a model of FRR (frrModel), turns the running configuration into the desired one
// wherever both are configurations FRR prints (canonical).
func FuzzDelta(f *testing.F) {
	f.Add("router bgp 1\n neighbor a peer-group\n neighbor 10.0.0.1 remote-as 2\n neighbor 10.0.0.1 peer-group a\n address-family ipv4 unicast\n  network 10.0.0.0/8\n exit-address-family\nexit\nroute-map A permit 10\n set tag 1\nexit\n", "router bgp 1\nexit\n")
	b := frrconfigtest.Seed
	withPolicy5 := frrconfigtest.Edit(f, b,
		"route-map CILIUM-REJECT", "route-map CILIUM-ORIGIN-5 permit 10\n set tag 5\nexit\n!\nroute-map CILIUM-REJECT",
		outMap, outMap+"route-map cilium-peer-ipv4-out permit 6\n match tag 5\n set community 65000:5\nexit\n!\n",
		network1, "  network 10.5.0.0/24 route-map CILIUM-ORIGIN-5\n"+network1)
	for _, to := range []string{
		withPolicy5,
		frrconfigtest.Edit(f, b, timers, " neighbor cilium-peer password s3cr3t\n neighbor cilium-peer port 1790\n neighbor cilium-peer ebgp-multihop 4\n"),
		frrconfigtest.Edit(f, b, " neighbor 192.168.10.1 graceful-restart\n", " neighbor 192.168.10.2 remote-as 65000\n neighbor 192.168.10.2 peer-group cilium-peer\n"),
		frrconfigtest.Edit(f, b, "remote-as 65000", "remote-as 65001"),
		frrconfigtest.Edit(f, b, "route-map cilium-peer-ipv4-out permit 8539", "route-map cilium-peer-ipv4-out deny 8539"),
		strings.ReplaceAll(b, "cilium-peer", "gold"),
		strings.Replace(b, "router bgp 65001", "router bgp 65002", 1),
		b + "router bgp 64520 view blue\n bgp router-id 192.168.10.11\n neighbor 192.168.10.3 remote-as 65000\n address-family ipv4 unicast\n" + network1 + "  neighbor 192.168.10.3 activate\n" + routerEnd,
	} {
		f.Add(b, to)
		f.Add(to, b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, text := range []string{a, b} {
			for _, l := range strings.Split(text, "\n") {
				l = strings.TrimLeft(l, " \t")
				for _, s := range []Scope{InstanceScope, FamilyScope, RouteMapScope} {
					if fast, ok := fastKey(s, l); ok {
						if _, k, _ := classify(s, l); fast != k {
							t.Fatalf("scope %d, line %q: fastKey %q, classify %q", s, l, fast, k)
						}
					}
				}
			}
		}
		ca, err1 := Parse(a)
		cb, err2 := Parse(b)
		if err1 != nil || err2 != nil {
			return
		}
		own := ca.Rendered()
		if d := Delta(ca, ca, own); len(d) != 0 {
			t.Fatalf("Delta(a, a) = %q", d)
		}
		delta := Delta(ca, cb, own)
		if canonical(ca) != "" || canonical(cb) != "" || convertible(ca, cb) != "" {
			return
		}
		m := modelOf(ca)
		if err := m.apply(delta); err != nil {
			t.Fatalf("%v\ndelta:\n%s", err, strings.Join(delta, "\n"))
		}
		if got, want := m.String(), modelOf(cb).String(); got != want {
			t.Fatalf("running + delta != desired\ndelta:\n%s\ngot:\n%swant:\n%s", strings.Join(delta, "\n"), got, want)
		}
		// The new peers held down while the delta runs: the same end.
		held := HoldNewPeers(ca, delta)
		m = modelOf(ca)
		if err := m.apply(held); err != nil {
			t.Fatalf("held: %v\ndelta:\n%s", err, strings.Join(held, "\n"))
		}
		if got, want := m.String(), modelOf(cb).String(); got != want {
			t.Fatalf("running + held delta != desired\ndelta:\n%s\ngot:\n%swant:\n%s", strings.Join(held, "\n"), got, want)
		}
	})
}

// TestFastKeyAgreesWithClassify: lines the fast path used to key differently from classify
// (FuzzDelta found the first): white space other than single spaces.
func TestFastKeyAgreesWithClassify(t *testing.T) {
	for _, l := range []string{
		"network 10.0.0.0/8",
		"network 10.0.0.0/8 route-map A",
		"network  10.0.0.0/8",
		"network 10.0.0.0/8 route-map  A",
		"network 10.0.0.0/8\troute-map\tA",
		"network 10.0.0.0/8 route-map A\u00a0B",
		"network 10.0.0.0/8 ",
		"network  ",
	} {
		_, want, _ := classify(FamilyScope, l)
		if got := keyOf(FamilyScope, l); got != want {
			t.Errorf("keyOf(%q) = %q, classify's key %q", l, got, want)
		}
	}
}
