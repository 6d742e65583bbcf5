package frrconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// grammar is every line the renderer may emit, value syntax included. A fuzzed or hostile
// model either fails to render or renders only such lines.
var grammar = regexp.MustCompile(`^(` + strings.Join([]string{
	`!( [ -~]*)?`,
	`frr defaults traditional`,
	`ip(v6)? nht resolve-via-default`,
	`route-map [A-Za-z0-9_.-]+ (permit|deny) [0-9]+`,
	` match tag [0-9]+`,
	` set community [a-zA-Z0-9: -]+`,
	` set large-community [0-9: ]+`,
	` set local-preference [0-9]+`,
	` set origin incomplete`,
	` set tag [0-9]+`,
	`exit`,
	`router bgp [0-9]+( view [A-Za-z0-9_.-]+)?`,
	` bgp router-id [0-9.]+`,
	` no bgp default ipv4-unicast`,
	` coalesce-time 0`,
	` no bgp network import-check`,
	` bgp graceful-restart restart-time [0-9]+`,
	` bgp graceful-restart preserve-fw-state`,
	` neighbor [A-Za-z0-9_.-]+ peer-group`,
	` neighbor [A-Za-z0-9_.-]+ password [!-~]+`,
	` neighbor [A-Za-z0-9_.-]+ port [0-9]+`,
	` neighbor [A-Za-z0-9_.-]+ ebgp-multihop( [0-9]+)?`,
	` neighbor [A-Za-z0-9_.-]+ disable-connected-check`,
	` neighbor [A-Za-z0-9_.-]+ timers [0-9]+ [0-9]+`,
	` neighbor [A-Za-z0-9_.-]+ timers connect [0-9]+`,
	` neighbor [0-9a-f.:]+ remote-as ([0-9]+|auto|external)`,
	` neighbor [0-9a-f.:]+ peer-group [A-Za-z0-9_.-]+`,
	` neighbor [0-9a-f.:]+ description [!-~]+`,
	` neighbor [0-9a-f.:]+ update-source [0-9a-f.:]+`,
	` neighbor [0-9a-f.:]+ graceful-restart(-disable)?`,
	` address-family ipv[46] unicast`,
	`  network [0-9a-f.:]+/[0-9]+ route-map CILIUM-ORIGIN-[0-9]+(-INCOMPLETE)?`,
	`  neighbor [A-Za-z0-9_.-]+ activate`,
	`  neighbor [A-Za-z0-9_.-]+ route-map [A-Za-z0-9_.-]+ (in|out)`,
	` exit-address-family`,
	` !`,
}, "|") + `)$`)

func checkGrammar(t testing.TB, text []byte) {
	t.Helper()
	for n, line := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
		if !grammar.MatchString(line) {
			t.Fatalf("line %d is outside the grammar: %q\n%s", n+1, line, text)
		}
	}
}

func u32(v uint32) *uint32 { return &v }

// instance is a small valid instance that tests change.
func instance() model.Instance {
	return model.Instance{
		Name:     "main",
		LocalASN: 65001,
		RouterID: netip.MustParseAddr("10.0.0.1"),
		PeerGroups: []model.PeerGroup{{
			Name:            "tor",
			PeerPort:        179,
			Timers:          model.Timers{ConnectRetry: 120, Hold: 90, Keepalive: 30},
			GracefulRestart: model.GracefulRestart{RestartTime: 120},
			Families:        []model.Family{model.IPv4Unicast},
		}},
		Peers: []model.Peer{{Name: "tor-1", Address: netip.MustParseAddr("10.0.0.254"), ASN: 65000, Group: "tor"}},
		Prefixes: []model.AdvertisedPrefix{
			{Prefix: netip.MustParsePrefix("192.0.2.1/32"), Policy: 7},
		},
		Policies: []model.ExportPolicy{{ID: 7, Family: model.IPv4Unicast, Exports: []model.Export{{PeerGroup: "tor"}}}},
	}
}

func render(t *testing.T, d Dialect, insts ...model.Instance) string {
	t.Helper()
	text, _, err := Render(model.NodeConfig{Node: "n1", Instances: insts}, d)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	checkGrammar(t, text)
	return string(text)
}

func TestRenderMinimal(t *testing.T) {
	want := `! frr.conf for node n1, rendered by frr-renderer.
! frr-renderer owns the BGP instances and route-maps below; edits to them are overwritten.
! No instance sets localPort: bgpd should run with -p 0 (no listener).
frr defaults traditional
!
route-map CILIUM-ORIGIN-7 permit 10
 set tag 7
exit
!
route-map CILIUM-REJECT deny 10
exit
!
route-map tor-ipv4-out permit 8
 match tag 7
exit
!
router bgp 65001
 bgp router-id 10.0.0.1
 no bgp default ipv4-unicast
 coalesce-time 0
 no bgp network import-check
 neighbor tor peer-group
 neighbor tor disable-connected-check
 neighbor tor timers 30 90
 neighbor tor timers connect 120
 neighbor 10.0.0.254 remote-as 65000
 neighbor 10.0.0.254 peer-group tor
 neighbor 10.0.0.254 description tor-1
 neighbor 10.0.0.254 graceful-restart-disable
 !
 address-family ipv4 unicast
  network 192.0.2.1/32 route-map CILIUM-ORIGIN-7
  neighbor tor activate
  neighbor tor route-map CILIUM-REJECT in
  neighbor tor route-map tor-ipv4-out out
 exit-address-family
exit
!
`
	if got := render(t, FRR10, instance()); got != want {
		t.Errorf("minimal rendering differs:\n--- want\n%s--- got\n%s", want, got)
	}
}

// TestRenderLines checks single lines that depend on the model and the dialect.
func TestRenderLines(t *testing.T) {
	tests := []struct {
		name    string
		dialect Dialect
		change  func(*model.Instance)
		want    []string
		notWant []string
	}{
		{
			name: "timers are explicit even at FRR defaults",
			change: func(i *model.Instance) {
				i.PeerGroups[0].Timers = model.Timers{ConnectRetry: 120, Hold: 180, Keepalive: 60}
			},
			want: []string{" neighbor tor timers 60 180", " neighbor tor timers connect 120"},
		},
		{
			name: "non-default connect retry, port, multihop",
			change: func(i *model.Instance) {
				g := &i.PeerGroups[0]
				g.Timers.ConnectRetry = 5
				g.PeerPort = 1179
				g.EBGPMultihop = 4
			},
			want: []string{" neighbor tor timers connect 5", " neighbor tor port 1179", " neighbor tor ebgp-multihop 4"},
		},
		{
			name:    "multihop 255 on FRR 10 is the bare keyword",
			dialect: FRR10,
			change:  func(i *model.Instance) { i.PeerGroups[0].EBGPMultihop = 255 },
			want:    []string{" neighbor tor ebgp-multihop"},
			notWant: []string{"ebgp-multihop 255"},
		},
		{
			name:    "multihop 255 on FRR 8 keeps the number",
			dialect: FRR8,
			change:  func(i *model.Instance) { i.PeerGroups[0].EBGPMultihop = 255 },
			want:    []string{" neighbor tor ebgp-multihop 255"},
		},
		{
			name:    "iBGP peers get their own group and no multihop",
			change:  func(i *model.Instance) { i.Peers[0].ASN = 65001; i.PeerGroups[0].EBGPMultihop = 4 },
			want:    []string{" neighbor tor-IBGP peer-group", " neighbor 10.0.0.254 peer-group tor-IBGP", "  neighbor tor-IBGP route-map tor-ipv4-out out"},
			notWant: []string{"ebgp-multihop", " neighbor tor peer-group", "disable-connected-check"},
		},
		{
			name:    "single-hop eBGP needs no connected subnet, as with GoBGP",
			change:  func(i *model.Instance) { i.PeerGroups[0].EBGPMultihop = 1 },
			want:    []string{" neighbor tor disable-connected-check"},
			notWant: []string{"ebgp-multihop"},
		},
		{
			name:    "multihop eBGP has no connected check anyway",
			change:  func(i *model.Instance) { i.PeerGroups[0].EBGPMultihop = 2 },
			want:    []string{" neighbor tor ebgp-multihop 2"},
			notWant: []string{"disable-connected-check"},
		},
		{
			name:    "FRR 8 resolves next hops over the default route (zebra)",
			dialect: FRR8,
			change:  func(*model.Instance) {},
			want:    []string{"ip nht resolve-via-default", "ipv6 nht resolve-via-default"},
		},
		{
			name:    "FRR 10 does by default",
			dialect: FRR10,
			change:  func(*model.Instance) {},
			notWant: []string{"nht"},
		},
		{
			name:    "graceful restart disabled: no capability at all",
			change:  func(*model.Instance) {},
			want:    []string{" neighbor 10.0.0.254 graceful-restart-disable"},
			notWant: []string{"preserve-fw-state", "restart-time"},
		},
		{
			name:    "peerASN 0 on FRR 10",
			dialect: FRR10,
			change:  func(i *model.Instance) { i.Peers[0].ASN = 0 },
			want:    []string{" neighbor 10.0.0.254 remote-as auto"},
		},
		{
			name:    "peerASN 0 on FRR 8",
			dialect: FRR8,
			change:  func(i *model.Instance) { i.Peers[0].ASN = 0 },
			want:    []string{" neighbor 10.0.0.254 remote-as external"},
		},
		{
			name: "graceful restart per neighbor, restart time per instance",
			change: func(i *model.Instance) {
				i.PeerGroups[0].GracefulRestart = model.GracefulRestart{Enabled: true, RestartTime: 15}
			},
			want: []string{" neighbor 10.0.0.254 graceful-restart", " bgp graceful-restart restart-time 15", " bgp graceful-restart preserve-fw-state"},
		},
		{
			name: "default restart time is not spelled out",
			change: func(i *model.Instance) {
				i.PeerGroups[0].GracefulRestart = model.GracefulRestart{Enabled: true, RestartTime: 120}
			},
			want:    []string{" bgp graceful-restart preserve-fw-state"},
			notWant: []string{"restart-time"},
		},
		{
			name: "password and update-source",
			change: func(i *model.Instance) {
				i.PeerGroups[0].Password = model.NewPassword("s3cr3t")
				i.Peers[0].LocalAddress = netip.MustParseAddr("10.0.0.1")
			},
			want: []string{" neighbor tor password s3cr3t", " neighbor 10.0.0.254 update-source 10.0.0.1"},
		},
		{
			name:    "a group without exports in a family sends nothing",
			change:  func(i *model.Instance) { i.Prefixes = nil; i.Policies = nil },
			want:    []string{"  neighbor tor route-map CILIUM-REJECT out"},
			notWant: []string{"tor-ipv4-out", "  network "},
		},
		{
			name: "communities spelled as FRR 10 prints them",
			change: func(i *model.Instance) {
				i.Policies[0].Exports[0].Communities = []model.Community{0xffffff01, 0, 64512<<16 | 100, 0xffff0000}
				i.Policies[0].Exports[0].LargeCommunities = []model.LargeCommunity{{GlobalAdmin: 4294967295, Local1: 1, Local2: 2}, {GlobalAdmin: 64512, Local1: 100, Local2: 50}}
				i.Policies[0].Exports[0].LocalPreference = u32(0)
			},
			want: []string{" set community 0:0 64512:100 graceful-shutdown no-export", " set large-community 64512:100:50 4294967295:1:2", " set local-preference 0"},
		},
		{
			name:    "FRR 8 prints 0:0 as internet",
			dialect: FRR8,
			change:  func(i *model.Instance) { i.Policies[0].Exports[0].Communities = []model.Community{0, 0xffffff02} },
			want:    []string{" set community internet no-advertise"},
		},
		{
			name:   "a peer name cannot break the line",
			change: func(i *model.Instance) { i.Peers[0].Name = "tor a\n neighbor 1.2.3.4 remote-as 1" },
			want:   []string{" neighbor 10.0.0.254 description tor_a__neighbor_1.2.3.4_remote-as_1"},
		},
		{
			name: "IPv6 neighbor and family",
			change: func(i *model.Instance) {
				i.Peers[0].Address = netip.MustParseAddr("2001:db8::1")
				i.PeerGroups[0].Families = []model.Family{model.IPv6Unicast}
			},
			want:    []string{" neighbor 2001:db8::1 remote-as 65000", " address-family ipv6 unicast", "  neighbor tor route-map CILIUM-REJECT out"},
			notWant: []string{"address-family ipv4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := instance()
			tt.change(&inst)
			got := render(t, tt.dialect, inst)
			lines := map[string]bool{}
			for _, l := range strings.Split(got, "\n") {
				lines[l] = true
			}
			for _, w := range tt.want {
				if !lines[w] {
					t.Errorf("missing line %q in:\n%s", w, got)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(got, nw) {
					t.Errorf("unexpected %q in:\n%s", nw, got)
				}
			}
		})
	}
}

// TestRenderRejects checks that values that could reach FRR unchecked are refused, and
// that the error never quotes a password.
func TestRenderRejects(t *testing.T) {
	const secret = "hunter2\nrouter bgp 1"
	tests := []struct {
		name   string
		change func(*model.Instance)
		want   string
	}{
		{"password with a newline", func(i *model.Instance) { i.PeerGroups[0].Password = model.NewPassword(secret) }, "printable ASCII"},
		{"password with a space", func(i *model.Instance) { i.PeerGroups[0].Password = model.NewPassword("a b") }, "printable ASCII"},
		{"password too long", func(i *model.Instance) { i.PeerGroups[0].Password = model.NewPassword(strings.Repeat("x", 81)) }, "1 to 80"},
		{"router ID that is not IPv4", func(i *model.Instance) { i.RouterID = netip.MustParseAddr("2001:db8::1") }, "not an IPv4"},
		{"peer in an unknown group", func(i *model.Instance) { i.Peers[0].Group = "nope" }, "does not have"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := instance()
			tt.change(&inst)
			_, _, err := Render(model.NodeConfig{Node: "n1", Instances: []model.Instance{inst}}, FRR10)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error quotes the password: %v", err)
			}
		})
	}
}

// TestPeerGroupNames: names FRR takes as they are stay; the others are mapped to stable,
// distinct, readable names that FRR cannot mistake for an address, never refused.
func TestPeerGroupNames(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"tor", "tor"},
		{"cilium-peer", "cilium-peer"},
		{"peers.example.com", "peers.example.com"},
		{model.DefaultsGroup, model.DefaultsGroup},
		{"10.0.0.1", "10.0.0.1_" + hash8("10.0.0.1")},
		{"10.0.0.2", "10.0.0.2_" + hash8("10.0.0.2")},
		// A name no API server checked: capitals, a space, a newline, a long one.
		{"Tor x", "Tor_x_" + hash8("Tor x")},
		{"tor\nrouter bgp 1", "tor_router_bgp_1_" + hash8("tor\nrouter bgp 1")},
		{strings.Repeat("a", 254), strings.Repeat("a", 40) + "_" + hash8(strings.Repeat("a", 254))},
		// Already in the mapped form: a name with '_' is mapped again, never kept.
		{"10.0.0.1_" + hash8("10.0.0.1"), "10.0.0.1_" + hash8("10.0.0.1") + "_" + hash8("10.0.0.1_"+hash8("10.0.0.1"))},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := PeerGroupName(tt.name)
		if got != tt.want {
			t.Errorf("PeerGroupName(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if again := PeerGroupName(tt.name); again != got {
			t.Errorf("PeerGroupName(%q) is not stable: %q then %q", tt.name, got, again)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("PeerGroupName(%q) = PeerGroupName(%q) = %q", tt.name, other, got)
		}
		seen[got] = tt.name
		if _, err := netip.ParseAddr(got); err == nil {
			t.Errorf("PeerGroupName(%q) = %q, an IP address", tt.name, got)
		}
	}
}

func hash8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// TestRenderMapsGroupNames: a group FRR cannot name as it is gets its mapped name on every
// line: peer-group, members, activation and both route-maps, for eBGP and iBGP members.
func TestRenderMapsGroupNames(t *testing.T) {
	inst := instance()
	inst.PeerGroups[0].Name = "10.0.0.9"
	inst.Peers[0].Group = "10.0.0.9"
	inst.Peers = append(inst.Peers, model.Peer{Name: "rr", Address: netip.MustParseAddr("10.0.0.253"), ASN: inst.LocalASN, Group: "10.0.0.9"})
	inst.Policies[0].Exports[0].PeerGroup = "10.0.0.9"
	got := render(t, FRR10, inst)
	name := "10.0.0.9_" + hash8("10.0.0.9")
	for _, line := range []string{
		"route-map " + name + "-ipv4-out permit 8",
		" neighbor " + name + " peer-group",
		" neighbor " + name + "-IBGP peer-group",
		" neighbor 10.0.0.254 peer-group " + name,
		" neighbor 10.0.0.253 peer-group " + name + "-IBGP",
		"  neighbor " + name + " route-map " + name + "-ipv4-out out",
		"  neighbor " + name + "-IBGP route-map " + name + "-ipv4-out out",
	} {
		if !strings.Contains(got, "\n"+line+"\n") {
			t.Errorf("missing line %q in:\n%s", line, got)
		}
	}
	if strings.Contains(got, "neighbor 10.0.0.9 ") {
		t.Errorf("the group's name is used as it is:\n%s", got)
	}
}

func TestRenderSecondInstanceIsAView(t *testing.T) {
	second := instance()
	second.Name = "blue"
	second.LocalASN = 65002
	got := render(t, FRR10, instance(), second)
	if !strings.Contains(got, "\nrouter bgp 65001\n") || !strings.Contains(got, "\nrouter bgp 65002 view blue\n") {
		t.Errorf("want a default instance and a view:\n%s", got)
	}

	// A name FRR cannot take is mapped, never refused.
	second.Name = "blue team"
	got = render(t, FRR10, instance(), second)
	if want := "\nrouter bgp 65002 view blue_team_" + hash8("blue team") + "\n"; !strings.Contains(got, want) {
		t.Errorf("want %q in:\n%s", want[1:], got)
	}

	// Two instances on one view would be one FRR instance: refused, naming both.
	third := second
	third.Name = model.MappedName("blue team")
	third.LocalASN = 65003
	_, _, err := Render(model.NodeConfig{Instances: []model.Instance{instance(), second, third}}, FRR10)
	if err == nil || !strings.Contains(err.Error(), `"blue team"`) || !strings.Contains(err.Error(), `"`+third.Name+`"`) {
		t.Errorf("two instances with one FRR view: %v, want an error naming both", err)
	}
}

// TestSeqsAreStable: an outbound entry keeps its sequence number when policies come and go,
// so that FRR is not asked to renumber what did not change.
func TestSeqsAreStable(t *testing.T) {
	seqOf := func(insts model.Instance, tag string) string {
		for _, block := range strings.Split(render(t, FRR10, insts), "!\n") {
			if strings.Contains(block, " match tag "+tag+"\n") {
				return strings.SplitN(block, "\n", 2)[0]
			}
		}
		t.Fatalf("no entry for tag %s", tag)
		return ""
	}
	inst := instance()
	before := seqOf(inst, "7")
	for _, id := range []uint32{65542, 3, 1 << 31} { // 65542 = 7 + 65535: same starting seq as 7
		inst.Prefixes = append(inst.Prefixes, model.AdvertisedPrefix{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(id)}), 32), Policy: id})
		inst.Policies = append(inst.Policies, model.ExportPolicy{ID: id, Family: model.IPv4Unicast, Exports: []model.Export{{PeerGroup: "tor"}}})
	}
	if after := seqOf(inst, "7"); after != before {
		t.Errorf("entry for tag 7 moved from %q to %q", before, after)
	}
	if seqOf(inst, "65542") == before {
		t.Errorf("colliding tags got the same entry")
	}
}

func TestRestartTimeConflictIsReported(t *testing.T) {
	inst := instance()
	inst.PeerGroups[0].GracefulRestart = model.GracefulRestart{Enabled: true, RestartTime: 30}
	other := inst.PeerGroups[0]
	other.Name = "spine"
	other.GracefulRestart.RestartTime = 300
	inst.PeerGroups = append(inst.PeerGroups, other)
	inst.Peers = append(inst.Peers, model.Peer{Name: "spine-1", Address: netip.MustParseAddr("10.0.1.254"), ASN: 65100, Group: "spine"})
	text, diags, err := Render(model.NodeConfig{ClusterConfig: "cc", Instances: []model.Instance{inst}}, FRR10)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), " bgp graceful-restart restart-time 300\n") {
		t.Errorf("want the larger restart time:\n%s", text)
	}
	if len(diags) != 1 || !strings.Contains(diags[0].Message, `"tor"=30, "spine"=300`) || diags[0].Object.Name != "cc" {
		t.Errorf("want one warning on CiliumBGPClusterConfig/cc naming both times, got %v", diags)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("main", "tor-1", "tor", "s3cr3t", "10.0.0.254", uint32(65000), uint32(100), uint8(4))
	f.Add("x y", "a\nb", "10.0.0.1", "p w", "2001:db8::1", uint32(65001), uint32(0), uint8(255))
	f.Fuzz(func(t *testing.T, instName, peerName, group, password, addr string, asn, community uint32, hops uint8) {
		inst := instance()
		inst.Name = instName
		inst.PeerGroups[0].Name = group
		inst.PeerGroups[0].Password = model.NewPassword(password)
		inst.PeerGroups[0].EBGPMultihop = hops
		inst.Peers[0].Name = peerName
		inst.Peers[0].Group = group
		inst.Peers[0].ASN = asn
		if a, err := netip.ParseAddr(addr); err == nil {
			inst.Peers[0].Address = a
		}
		inst.Policies[0].Exports[0].PeerGroup = group
		inst.Policies[0].Exports[0].Communities = []model.Community{model.Community(community)}
		render := func(inst model.Instance) ([]byte, error) {
			second := inst
			second.LocalASN++
			text, _, err := Render(model.NodeConfig{Node: peerName, ClusterConfig: instName, Instances: []model.Instance{inst, second}}, FRR10)
			return text, err
		}
		text, err := render(inst)
		if err != nil {
			return
		}
		checkGrammar(t, text)
		// The password reaches its own lines and nothing else: with another password, every
		// other line is the same.
		inst.PeerGroups[0].Password = model.NewPassword("other-password")
		other, err := render(inst)
		if err != nil {
			t.Fatalf("renders with password %q, not with another: %v", password, err)
		}
		if a, b := withoutPasswordLines(text), withoutPasswordLines(other); a != b {
			t.Fatalf("the password changes other lines than its own:\nwith %q:\n%s\nwith another:\n%s", password, a, b)
		}
	})
}

// withoutPasswordLines is text without its `neighbor X password Y` lines.
func withoutPasswordLines(text []byte) string {
	var keep []string
	for _, l := range strings.Split(string(text), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "neighbor" && f[2] == "password" {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// A failed instance is named in the file, so that a rendering without it is not taken for a
// complete one.
func TestRenderNamesFailedInstances(t *testing.T) {
	text, _, err := Render(model.NodeConfig{Node: "n1", Instances: []model.Instance{instance()}, FailedInstances: []string{"broken"}}, FRR10)
	if err != nil {
		t.Fatal(err)
	}
	checkGrammar(t, text)
	if want := "\n! BGP instance \"broken\" is NOT configured: its input has errors (the diagnostics name them).\n"; !strings.Contains(string(text), want) {
		t.Errorf("no note %q in:\n%s", want, text)
	}
}
