package vtysh

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// captureSessions makes the FRR tests of Sessions rewrite the captures that TestParseSessions
// reads; TestParseSessions then needs the new uptimes and states:
//
//	go test -run 'TestSessions.*OnFRR' -capture-sessions ./internal/vtysh/
var captureSessions = flag.Bool("capture-sessions", false, "rewrite testdata/sessions/*.json from real FRR")

const sessionsTestdata = "testdata/sessions"

// captureSessionsReply writes bgpd's reply to sessionsCommand to testdata/sessions/NAME.json.
func captureSessionsReply(t *testing.T, c *Client, name string) {
	t.Helper()
	out, err := c.Exec(timeout(t, 5*time.Second), sessionsCommand)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(sessionsTestdata, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sessionsTestdata, name+".json"), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("captured %s.json", name)
}

// sessionsNode is a node with a default instance and a view (FRR 8 spells remote-as auto
// "external": the renderer's dialects), peering with sessionsTor from NODEIF (the link to it):
//   - 10.0.0.2 (ToR): Established, prefixes both ways in IPv4 and IPv6, timers 3/9 both sides.
//   - 2001:db8:ff::99: in the same group, never comes up (no route to it).
//   - 10.0.0.77: in a peer-group activated in no address family: no family, still listed.
//   - NODEIF: unnumbered, left out by Sessions.
//   - view blue, 10.0.1.2 (ToR): remote-as auto, Established, timers 30/90 here and 3/9 on
//     the ToR, so that negotiated and configured differ.
//
// The ToR sends only its own prefixes (tag 2), the node only its own (tag 1): nothing learned
// from one instance goes back to the other.
const sessionsNode = `frr defaults traditional
!
route-map CILIUM-ORIGIN-1 permit 10
 set tag 1
exit
!
route-map ACCEPT permit 10
exit
!
route-map OWN-OUT permit 10
 match tag 1
exit
!
router bgp 65001
 bgp router-id 10.0.0.1
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor tor peer-group
 neighbor tor timers 3 9
 neighbor tor timers connect 1
 neighbor none peer-group
 neighbor none timers 30 90
 neighbor 10.0.0.2 remote-as 65000
 neighbor 10.0.0.2 peer-group tor
 neighbor 2001:db8:ff::99 remote-as 65099
 neighbor 2001:db8:ff::99 peer-group tor
 neighbor 10.0.0.77 remote-as 65077
 neighbor 10.0.0.77 peer-group none
 neighbor NODEIF interface remote-as external
 !
 address-family ipv4 unicast
  network 172.20.0.1/32 route-map CILIUM-ORIGIN-1
  network 172.20.0.3/32 route-map CILIUM-ORIGIN-1
  neighbor tor activate
  neighbor tor route-map ACCEPT in
  neighbor tor route-map OWN-OUT out
 exit-address-family
 !
 address-family ipv6 unicast
  network 2001:db8:20::1/128 route-map CILIUM-ORIGIN-1
  neighbor tor activate
  neighbor tor route-map ACCEPT in
  neighbor tor route-map OWN-OUT out
 exit-address-family
exit
!
router bgp 64520 view blue
 bgp router-id 10.0.1.1
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor 10.0.1.2 remote-as AUTO
 neighbor 10.0.1.2 timers 30 90
 neighbor 10.0.1.2 timers connect 1
 !
 address-family ipv4 unicast
  network 172.20.0.2/32 route-map CILIUM-ORIGIN-1
  neighbor 10.0.1.2 activate
  neighbor 10.0.1.2 route-map ACCEPT in
  neighbor 10.0.1.2 route-map OWN-OUT out
 exit-address-family
exit
`

const sessionsTor = `frr defaults traditional
!
route-map TOR-ORIGIN permit 10
 set tag 2
exit
!
route-map TOR-OUT permit 10
 match tag 2
exit
!
router bgp 65000
 bgp router-id 10.0.0.2
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor 10.0.0.1 remote-as 65001
 neighbor 10.0.0.1 timers 3 9
 neighbor 10.0.0.1 timers connect 1
 neighbor 10.0.1.1 remote-as 64520
 neighbor 10.0.1.1 timers 3 9
 neighbor 10.0.1.1 timers connect 1
 !
 address-family ipv4 unicast
  network 192.0.2.0/24 route-map TOR-ORIGIN
  network 198.51.100.0/24 route-map TOR-ORIGIN
  network 203.0.113.0/24 route-map TOR-ORIGIN
  neighbor 10.0.0.1 activate
  neighbor 10.0.0.1 route-map TOR-OUT out
  neighbor 10.0.1.1 activate
  neighbor 10.0.1.1 route-map TOR-OUT out
 exit-address-family
 !
 address-family ipv6 unicast
  network 2001:db8:99::/48 route-map TOR-ORIGIN
  neighbor 10.0.0.1 activate
  neighbor 10.0.0.1 route-map TOR-OUT out
 exit-address-family
exit
`

// wantNodeSessions is what sessionsNode reports once its sessions carry their prefixes. Only
// the uptimes of the two Established sessions and the state of the one that never comes up
// vary from run to run: they are the arguments.
func wantNodeSessions(torUp, blueUp time.Duration, neverUpState string) []Session {
	v4 := func(adv, rcv uint32) FamilyCount { return FamilyCount{"ipv4", "unicast", adv, rcv} }
	v6 := func(adv, rcv uint32) FamilyCount { return FamilyCount{"ipv6", "unicast", adv, rcv} }
	return []Session{
		{View: "", LocalAS: 65001, Peer: netip.MustParseAddr("10.0.0.2"), RemoteAS: 65000, State: "Established",
			Uptime: torUp, HoldTime: 9 * time.Second, Keepalive: 3 * time.Second, Families: []FamilyCount{v4(2, 3), v6(1, 1)}},
		{View: "", LocalAS: 65001, Peer: netip.MustParseAddr("10.0.0.77"), RemoteAS: 65077, State: "Idle",
			HoldTime: 90 * time.Second, Keepalive: 30 * time.Second},
		{View: "", LocalAS: 65001, Peer: netip.MustParseAddr("2001:db8:ff::99"), RemoteAS: 65099, State: neverUpState,
			HoldTime: 9 * time.Second, Keepalive: 3 * time.Second, Families: []FamilyCount{v4(0, 0), v6(0, 0)}},
		{View: "blue", LocalAS: 64520, Peer: netip.MustParseAddr("10.0.1.2"), RemoteAS: 65000, State: "Established",
			Uptime: blueUp, HoldTime: 9 * time.Second, Keepalive: 3 * time.Second, Families: []FamilyCount{v4(1, 3)}},
	}
}

// instancesNode has no peer that can come up: in the default instance an iBGP neighbor (its
// remote AS is the local one; its timers, set after it was created, show only in bgpd's
// configured fields) and an eBGP one with remote-as external (0 until its OPEN); an IPv6
// neighbor in a view; a VRF instance, whose neighbor Sessions leaves out. On FRR 10 a second
// view (EXTRA) prints its AS numbers in asdot and has a remote-as auto neighbor.
const instancesNode = `router bgp 65001
 no bgp default ipv4-unicast
 neighbor 10.0.0.5 remote-as internal
 neighbor 10.0.0.5 timers 5 15
 neighbor 10.0.0.8 remote-as external
exit
!
router bgp 65002 view v1
 neighbor 2001:db8::1 remote-as 1
exit
!
router bgp 65010 vrf red
 neighbor 10.9.9.1 remote-as 65011
exit
!
EXTRA`

const instancesNodeDot = `router bgp 4200000001 view dotted as-notation dot
 neighbor 10.0.0.6 remote-as 4200000000
 neighbor 10.0.0.9 remote-as auto
exit
`

// wantInstancesSessions is what instancesNode reports, with FRR 10's view if v10; states[i] is
// the state of the i-th session (Idle, or Connect/Active while bgpd tries).
func wantInstancesSessions(v10 bool, states ...string) []Session {
	// Timers as configured, or bgpd's defaults (180/60).
	v4 := []FamilyCount{{AFI: "ipv4", SAFI: "unicast"}}
	want := []Session{
		{View: "", LocalAS: 65001, Peer: netip.MustParseAddr("10.0.0.5"), RemoteAS: 65001, HoldTime: 15 * time.Second, Keepalive: 5 * time.Second},
		{View: "", LocalAS: 65001, Peer: netip.MustParseAddr("10.0.0.8"), RemoteAS: 0, HoldTime: 180 * time.Second, Keepalive: 60 * time.Second},
		{View: "dotted", LocalAS: 4200000001, Peer: netip.MustParseAddr("10.0.0.6"), RemoteAS: 4200000000, HoldTime: 180 * time.Second, Keepalive: 60 * time.Second, Families: v4},
		{View: "dotted", LocalAS: 4200000001, Peer: netip.MustParseAddr("10.0.0.9"), RemoteAS: 0, HoldTime: 180 * time.Second, Keepalive: 60 * time.Second, Families: v4},
		{View: "v1", LocalAS: 65002, Peer: netip.MustParseAddr("2001:db8::1"), RemoteAS: 1, HoldTime: 180 * time.Second, Keepalive: 60 * time.Second, Families: v4},
	}
	if !v10 {
		want = slices.DeleteFunc(want, func(s Session) bool { return s.View == "dotted" })
	}
	for i := range want {
		if i < len(states) {
			want[i].State = states[i]
		}
	}
	return want
}

func formatSessions(ss []Session) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "  %+v\n", s)
	}
	return b.String()
}

// downStates are the states of a session that tries and fails.
var downStates = []string{"Idle", "Connect", "Active"}

// checkNodeSessions compares got with wantNodeSessions, after checking on their own what varies:
// an Established session's uptime (more than 0, at most what has passed since the configuration
// was loaded, give or take bgpd's whole seconds) and the never-up session's state.
func checkNodeSessions(got []Session, sinceLoad time.Duration) error {
	if len(got) != 4 {
		return fmt.Errorf("%d sessions, want 4:\n%s", len(got), formatSessions(got))
	}
	for _, i := range []int{0, 3} {
		if up := got[i].Uptime; up <= 0 || up > sinceLoad+time.Second {
			return fmt.Errorf("%s %s: uptime %v, want more than 0 and at most %v", got[i].View, got[i].Peer, up, sinceLoad+time.Second)
		}
	}
	if !slices.Contains(downStates, got[2].State) {
		return fmt.Errorf("%s: state %q, want one of %q", got[2].Peer, got[2].State, downStates)
	}
	if want := wantNodeSessions(got[0].Uptime, got[3].Uptime, got[2].State); !reflect.DeepEqual(got, want) {
		return fmt.Errorf("sessions:\n%swant:\n%s", formatSessions(got), formatSessions(want))
	}
	return nil
}

// TestSessionsOnFRR: the sessions of a node with a default instance and a view, peering with a
// ToR, as Sessions reads them from bgpd's socket.
func TestSessionsOnFRR(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			node := frrtest.Start(t, v, "node")
			tor := frrtest.Start(t, v, "tor")
			nodeIf, _ := frrtest.Link(t, node, tor, netip.MustParsePrefix("10.0.0.1/24"), netip.MustParsePrefix("10.0.0.2/24"))
			frrtest.Link(t, node, tor, netip.MustParsePrefix("10.0.1.1/24"), netip.MustParsePrefix("10.0.1.2/24"))
			if err := tor.Load(sessionsTor); err != nil {
				t.Fatal(err)
			}
			auto := "auto"
			if v == frrtest.FRR8 {
				auto = "external"
			}
			loaded := time.Now()
			if err := node.Load(frrconfigtest.Edit(t, sessionsNode, "NODEIF", nodeIf, "AUTO", auto)); err != nil {
				t.Fatal(err)
			}
			c := dial(t, node, "bgpd")
			ctx := timeout(t, 90*time.Second)
			var got []Session
			frrtest.WaitFor(t, 60*time.Second, func() error {
				var err error
				if got, err = c.Sessions(ctx); err != nil {
					return err
				}
				return checkNodeSessions(got, time.Since(loaded))
			})
			t.Logf("FRR %s, %v after the load:\n%s", v, time.Since(loaded).Round(time.Millisecond), formatSessions(got))
			if *captureSessions {
				captureSessionsReply(t, c, "frr"+string(v))
			}
			// The connection stays usable for whatever comes next.
			if !c.Alive(ctx) {
				t.Error("the client is not alive after Sessions")
			}
		})
	}
}

// TestSessionsInstancesOnFRR: VRF instances and unusable neighbors, and on FRR 10 the AS
// numbers of a view under `as-notation dot`.
func TestSessionsInstancesOnFRR(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			node := frrtest.Start(t, v, "node")
			c := dial(t, node, "bgpd")
			if got, err := c.Sessions(timeout(t, 5*time.Second)); err != nil || len(got) != 0 {
				t.Fatalf("without any instance: %v, %v; want none", got, err)
			}
			extra := ""
			if v == frrtest.FRR10 {
				extra = instancesNodeDot
			}
			if err := node.Load(frrconfigtest.Edit(t, instancesNode, "EXTRA", extra)); err != nil {
				t.Fatal(err)
			}
			got, err := c.Sessions(timeout(t, 5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			var states []string
			for _, s := range got {
				if !slices.Contains(downStates, s.State) {
					t.Errorf("%s %s: state %q, want one of %q", s.View, s.Peer, s.State, downStates)
				}
				states = append(states, s.State)
			}
			if want := wantInstancesSessions(v == frrtest.FRR10, states...); !reflect.DeepEqual(got, want) {
				t.Errorf("sessions:\n%swant:\n%s", formatSessions(got), formatSessions(want))
			}
			if *captureSessions {
				captureSessionsReply(t, c, "frr"+string(v)+"-instances")
			}
		})
	}
}

// TestSessionsFake: a reply that is not JSON (an empty one, from a fake bgpd) is an error that
// names the command, not a lost connection: the session goes on.
func TestSessionsFake(t *testing.T) {
	path := SocketPath(t.TempDir(), "bgpd")
	fakeBgpd(t, path)
	ctx := timeout(t, 5*time.Second)
	c, err := Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Sessions(ctx)
	if err == nil || !strings.Contains(err.Error(), sessionsCommand) || Disconnected(err) {
		t.Errorf("Sessions = %v, %v; want an error naming the command", got, err)
	}
	if !c.Alive(ctx) {
		t.Error("the client is not alive after Sessions")
	}
}

func readSessionsCapture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sessionsTestdata, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseSessions parses replies captured from FRR 8.4 and 10.3 (TestSessions*OnFRR) and
// replies seen there that are small enough to write down.
func TestParseSessions(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reply []byte
		want  []Session
	}{
		{"FRR 8.4", readSessionsCapture(t, "frr8.4"), wantNodeSessions(time.Second, time.Second, "Active")},
		{"FRR 10.3", readSessionsCapture(t, "frr10.3"), wantNodeSessions(time.Second, time.Second, "Active")},
		{"FRR 8.4 instances", readSessionsCapture(t, "frr8.4-instances"), wantInstancesSessions(false, "Idle", "Idle", "Idle")},
		{"FRR 10.3 instances, asdot", readSessionsCapture(t, "frr10.3-instances"), wantInstancesSessions(true, "Idle", "Idle", "Idle", "Idle", "Idle")},
		// What both versions print without any instance, and with instances without neighbors.
		{"no instance", []byte("{\n}\n"), nil},
		{"no neighbor", []byte("{\n\"default\":{\n  \"vrfId\":0,\n  \"vrfName\":\"default\"\n}\n,\n\"v1\":{\n  \"vrfId\":0,\n  \"vrfName\":\"v1\"\n}\n}\n"), nil},
		// A later FRR may drop or add fields: what is missing is zero, what is unknown ignored.
		{"missing and unknown fields", []byte(`{"default": {"futureScalar": 1, "10.0.0.1": {"bgpState": "Established", "futureObject": {"x": [1]}},
			"10.0.0.2": {"addressFamilyInfo": {"ipv4Unicast": {}, "ipv6Multicast": {"sentPrefixCounter": 4}, "l2VpnEvpn": {"acceptedPrefixCounter": 5}, "someNewFamily": {}}}},
			"blue": {"10.0.0.3": {"bgpState": "Active", "bgpTimerUpMsec": 5000, "bgpTimerHoldTimeMsecs": 9000, "localAs": null}}}`),
			[]Session{
				{Peer: netip.MustParseAddr("10.0.0.1"), State: "Established"},
				{Peer: netip.MustParseAddr("10.0.0.2"), Families: []FamilyCount{{"ipv4", "unicast", 0, 0}, {"ipv6", "multicast", 4, 0},
					{"l2vpn", "evpn", 0, 5}, {"somenewfamily", "", 0, 0}}},
				// Not Established: no uptime, whatever bgpd says.
				{View: "blue", Peer: netip.MustParseAddr("10.0.0.3"), State: "Active", HoldTime: 9 * time.Second},
			}},
		{"AS numbers as strings, negative counters", []byte(`{"default": {"10.0.0.1": {"localAs": "65001", "remoteAs": "1.10",
			"addressFamilyInfo": {"ipv4Unicast": {"acceptedPrefixCounter": -1}}}}}`),
			[]Session{{LocalAS: 65001, RemoteAS: 1<<16 | 10, Peer: netip.MustParseAddr("10.0.0.1"), Families: []FamilyCount{{"ipv4", "unicast", 0, 0}}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSessions(string(tt.reply))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("sessions:\n%swant:\n%s", formatSessions(got), formatSessions(tt.want))
			}
		})
	}
}

// TestParseSessionsMalformed: a reply that is not what bgpd prints is an error.
func TestParseSessionsMalformed(t *testing.T) {
	whole := readSessionsCapture(t, "frr10.3")
	for name, reply := range map[string]string{
		"empty":                     "",
		"an error message":          "% Unknown command: show bgp vrf all neighbors json\n",
		"cut short":                 string(whole[:len(whole)/2]),
		"two replies":               "{}\n{}\n",
		"null":                      "null",
		"an array":                  "[]",
		"an instance that is null":  `{"default": null}`,
		"an instance that is not":   `{"default": [1, 2]}`,
		"state not a string":        `{"default": {"10.0.0.1": {"bgpState": 6}}}`,
		"a counter not an integer":  `{"default": {"10.0.0.1": {"bgpTimerUpMsec": "00:01:02"}}}`,
		"a fractional counter":      `{"default": {"10.0.0.1": {"bgpTimerUpMsec": 1.5}}}`,
		"an AS number out of range": `{"default": {"10.0.0.1": {"remoteAs": 4294967296}}}`,
		"an AS number in bad asdot": `{"default": {"10.0.0.1": {"remoteAs": "65536.1"}}}`,
		"families not an object":    `{"default": {"10.0.0.1": {"addressFamilyInfo": []}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseSessions(reply)
			if err == nil {
				t.Errorf("no error; sessions:\n%s", formatSessions(got))
			}
		})
	}
}

// TestParseSessionsSkips: neighbors of VRF instances and unnumbered neighbors are left out.
func TestParseSessionsSkips(t *testing.T) {
	got, err := parseSessions(`{
		"default": {"vrfId": 0, "vrfName": "default", "eth0": {"bgpNeighborAddr": "fe80::1", "bgpState": "Established"},
			"10.0.0.1": {"bgpState": "Idle"}},
		"red": {"vrfId": -1, "vrfName": "red", "10.9.9.1": {"bgpState": "Idle"}},
		"green": {"vrfId": 12, "vrfName": "green", "10.9.9.2": {"bgpState": "Idle"}},
		"blue": {"vrfId": 0, "vrfName": "blue", "fe80::2%eth1": {"bgpState": "Idle"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Session{
		{Peer: netip.MustParseAddr("10.0.0.1"), State: "Idle"},
		{View: "blue", Peer: netip.MustParseAddr("fe80::2%eth1"), State: "Idle"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sessions:\n%swant:\n%s", formatSessions(got), formatSessions(want))
	}
}

// FuzzParseSessions: no reply makes parseSessions panic, and what it returns is sorted, has
// valid addresses and no uptime outside Established.
func FuzzParseSessions(f *testing.F) {
	for _, name := range []string{"frr8.4", "frr10.3", "frr8.4-instances", "frr10.3-instances"} {
		f.Add(readSessionsCapture(f, name))
	}
	f.Add([]byte(`{"default": {"10.0.0.1": {"remoteAs": "1.1", "addressFamilyInfo": {"ipv4Unicast": {}}}}}`))
	f.Fuzz(func(t *testing.T, reply []byte) {
		got, err := parseSessions(string(reply))
		if err != nil {
			return
		}
		for i, s := range got {
			if !s.Peer.IsValid() {
				t.Errorf("session %d: invalid peer", i)
			}
			if s.Uptime != 0 && s.State != StateEstablished {
				t.Errorf("session %d: uptime %v in state %q", i, s.Uptime, s.State)
			}
			if i > 0 && (got[i-1].View > s.View || got[i-1].View == s.View && got[i-1].Peer.Compare(s.Peer) > 0) {
				t.Errorf("sessions %d and %d are out of order", i-1, i)
			}
		}
	})
}

// sessionsScaleTor accepts any number of nodes in 192.168.10.0/24 (dynamic neighbors) and
// drops what they send, so that its memory does not grow with peers x prefixes.
const sessionsScaleTor = `frr defaults traditional
!
route-map DROP deny 10
exit
!
router bgp 65000
 bgp router-id 192.168.10.1
 no bgp ebgp-requires-policy
 neighbor NODES peer-group
 neighbor NODES remote-as 65001
 bgp listen range 192.168.10.0/24 peer-group NODES
 !
 address-family ipv4 unicast
  neighbor NODES activate
  neighbor NODES route-map DROP in
 exit-address-family
exit
`

// cpuTicks returns the CPU time, in clock ticks (1/100 s), that process pid has used.
func cpuTicks(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command, which is in parentheses: state is the first, utime and
	// stime the 12th and 13th.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, b)
	}
	user, err1 := strconv.Atoi(f[11])
	system, err2 := strconv.Atoi(f[12])
	return user + system, errors.Join(err1, err2)
}

// sessionsScaleNode starts a node with `peers` Established eBGP sessions, all in the seed's
// peer-group, each advertised the same `prefixes` /32s (bigConfig). Peer i is the ToR's
// 192.168.10.i, reached from the node's 192.168.10.(100+i): one session per address pair.
func sessionsScaleNode(b *testing.B, v frrtest.Version, peers, prefixes int) (c *Client, bgpdPID int) {
	node := frrtest.Start(b, v, "node")
	torR := frrtest.Start(b, v, "tor")
	nodeIf, torIf := frrtest.Link(b, node, torR, netip.MustParsePrefix("192.168.10.101/24"), netip.MustParsePrefix("192.168.10.1/24"))
	var neighbors strings.Builder
	for i := 1; i <= peers; i++ {
		if i > 1 {
			if _, err := node.Exec("ip", "addr", "add", fmt.Sprintf("192.168.10.%d/24", 100+i), "dev", nodeIf); err != nil {
				b.Fatal(err)
			}
			if _, err := torR.Exec("ip", "addr", "add", fmt.Sprintf("192.168.10.%d/24", i), "dev", torIf); err != nil {
				b.Fatal(err)
			}
		}
		fmt.Fprintf(&neighbors, " neighbor 192.168.10.%d remote-as 65000\n neighbor 192.168.10.%[1]d peer-group cilium-peer\n neighbor 192.168.10.%[1]d update-source 192.168.10.%d\n", i, 100+i)
	}
	if err := torR.Load(sessionsScaleTor); err != nil {
		b.Fatal(err)
	}
	if err := node.Load(frrconfigtest.Edit(b, frrconfigtest.SeedWithPrefixes(prefixes, ""), frrconfigtest.SeedToR, neighbors.String(), "timers connect 120", "timers connect 1")); err != nil {
		b.Fatal(err)
	}
	c = dial(b, node, "bgpd")
	frrtest.WaitFor(b, 120*time.Second, func() error {
		got, err := c.Sessions(context.Background())
		if err != nil {
			return err
		}
		up := 0
		for _, s := range got {
			if s.State == StateEstablished && len(s.Families) == 1 && s.Families[0].Advertised == uint32(prefixes) {
				up++
			}
		}
		if up != peers || len(got) != peers {
			return fmt.Errorf("%d sessions, %d of them Established with %d prefixes advertised, want %d", len(got), up, prefixes, peers)
		}
		return nil
	})
	// The ToR goes on for seconds reading and dropping what the node sent (64 x 10,000
	// prefixes), and the node's bgpd sending it: wait until both are idle, or they compete with
	// what is measured (on a 2-CPU machine, Sessions measured 6.8 ms instead of 4.1).
	base, since := -1, time.Now() // the two bgpds' CPU ticks at time since
	frrtest.WaitFor(b, 120*time.Second, func() error {
		ticks := 0
		for _, r := range []*frrtest.Router{node, torR} {
			n, err := cpuTicks(daemonPID(b, r, "bgpd"))
			if err != nil {
				return err
			}
			ticks += n
		}
		switch {
		case base < 0 || ticks-base > 2:
			base, since = ticks, time.Now()
		case time.Since(since) >= time.Second:
			return nil // less than 2% of a CPU over a second
		}
		return errors.New("bgpd is busy")
	})
	return c, daemonPID(b, node, "bgpd")
}

// BenchmarkSessions: Sessions on nodes with 3 and 64 Established peers that are advertised
// 10,000 prefixes each (and 64 with none: the cost does not depend on the prefixes); beside it,
// the Exec of its command alone (bgpd's part), and that of `show bgp vrf all summary json`,
// the cheaper command that lacks timers and neighbors without families. bytes/reply is the
// size of bgpd's reply; bgpd-ms/op the CPU time bgpd spent per operation, which, unlike ns/op,
// other processes on the machine do not inflate.
//
//	go test -run '^$' -bench BenchmarkSessions -benchtime 500x ./internal/vtysh/
func BenchmarkSessions(b *testing.B) {
	for _, v := range frrtest.Supported() {
		for _, size := range []struct{ peers, prefixes int }{{3, benchPrefixes}, {64, benchPrefixes}, {64, 0}} {
			b.Run(fmt.Sprintf("%s/peers=%d/prefixes=%d", v, size.peers, size.prefixes), func(b *testing.B) {
				c, bgpd := sessionsScaleNode(b, v, size.peers, size.prefixes)
				ctx := context.Background()
				// loop runs op in the benchmark loop and reports bgpd-ms/op.
				loop := func(b *testing.B, op func() error) {
					before, err := cpuTicks(bgpd)
					if err != nil {
						b.Fatal(err)
					}
					for b.Loop() {
						if err := op(); err != nil {
							b.Fatal(err)
						}
					}
					after, err := cpuTicks(bgpd)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(after-before)*10/float64(b.N), "bgpd-ms/op")
				}
				b.Run("Sessions", func(b *testing.B) {
					loop(b, func() error {
						got, err := c.Sessions(ctx)
						if err == nil && len(got) != size.peers {
							err = fmt.Errorf("%d sessions, want %d", len(got), size.peers)
						}
						return err
					})
				})
				for _, m := range []struct{ name, cmd string }{{"exec-neighbors", sessionsCommand}, {"exec-summary", "show bgp vrf all summary json"}} {
					b.Run(m.name, func(b *testing.B) {
						var out string
						loop(b, func() (err error) {
							out, err = c.Exec(ctx, m.cmd)
							return err
						})
						b.ReportMetric(float64(len(out)), "bytes/reply")
					})
				}
			})
		}
	}
}

// BenchmarkParseSessions: parseSessions alone on a reply of 64 Established neighbors, the
// captured FRR 10.3 ToR neighbor's JSON repeated under other addresses.
func BenchmarkParseSessions(b *testing.B) {
	var whole map[string]map[string]json.RawMessage
	if err := json.Unmarshal(readSessionsCapture(b, "frr10.3"), &whole); err != nil {
		b.Fatal(err)
	}
	var reply strings.Builder
	reply.WriteString(`{"default": {"vrfId": 0, "vrfName": "default"`)
	for i := range 64 {
		fmt.Fprintf(&reply, ",\n\"192.168.10.%d\": %s", i+1, whole["default"]["10.0.0.2"])
	}
	reply.WriteString("}}\n")
	out := reply.String()
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		if got, err := parseSessions(out); err != nil || len(got) != 64 {
			b.Fatalf("%d sessions, %v", len(got), err)
		}
	}
}
