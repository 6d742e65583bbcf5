package nodestatus

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

func TestBuildPeers(t *testing.T) {
	unknownPeer := func(name, addr string, asn int64) model.CiliumBGPNodePeerStatus {
		return model.CiliumBGPNodePeerStatus{Name: name, PeerAddress: addr, PeerASN: ptrTo(asn)}
	}
	notEstablished := func(name, addr string, asn int64, st string) model.CiliumBGPNodePeerStatus {
		ps := establishedPeer(name, addr, asn, "")
		ps.PeeringState, ps.EstablishedTime = ptrTo(st), nil
		return ps
	}
	tests := []struct {
		name     string
		cfg      *model.NodeConfig
		sessions []vtysh.Session
		want     []model.CiliumBGPNodeInstanceStatus
	}{
		{
			name:     "established: state, time, timers and route counts",
			cfg:      baseConfig(),
			sessions: []vtysh.Session{session("10.0.0.1", state("Established", 90*time.Second+400*time.Millisecond))},
			// 12:00:00 - 90.4 s = 11:58:29.6, to the second.
			want: []model.CiliumBGPNodeInstanceStatus{{Name: "inst", LocalASN: ptrTo(int64(65001)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
				establishedPeer("tor", "10.0.0.1", 65000, "2026-05-01T11:58:30Z"),
			}}},
		},
		{
			name:     "idle peer: no establishedTime",
			cfg:      baseConfig(),
			sessions: []vtysh.Session{session("10.0.0.1", state("Idle", 0))},
			want: []model.CiliumBGPNodeInstanceStatus{{Name: "inst", LocalASN: ptrTo(int64(65001)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
				notEstablished("tor", "10.0.0.1", 65000, "idle"),
			}}},
		},
		{
			name:     "auto ASN: the ASN the peer announced; configured 0 without a session",
			cfg:      nodeConfig(instance("inst", 65001, peer("tor", "10.0.0.1", 0), peer("down", "10.0.0.2", 0))),
			sessions: []vtysh.Session{session("10.0.0.1", func(s *vtysh.Session) { s.RemoteAS = 65123 })},
			want: []model.CiliumBGPNodeInstanceStatus{{Name: "inst", LocalASN: ptrTo(int64(65001)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
				establishedPeer("tor", "10.0.0.1", 65123, "2026-05-01T11:58:30Z"),
				unknownPeer("down", "10.0.0.2", 0),
			}}},
		},
		{
			name:     "a configured ASN is kept whatever bgpd reports",
			cfg:      baseConfig(),
			sessions: []vtysh.Session{session("10.0.0.1", func(s *vtysh.Session) { s.RemoteAS = 65999 })},
			want: []model.CiliumBGPNodeInstanceStatus{{Name: "inst", LocalASN: ptrTo(int64(65001)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
				establishedPeer("tor", "10.0.0.1", 65000, "2026-05-01T11:58:30Z"),
			}}},
		},
		{
			name: "missing session: no state, as Cilium writes a peer its speaker does not know",
			cfg:  baseConfig(),
			want: []model.CiliumBGPNodeInstanceStatus{{Name: "inst", LocalASN: ptrTo(int64(65001)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
				unknownPeer("tor", "10.0.0.1", 65000),
			}}},
		},
		{
			name:     "a session of another local AS is not this instance's (bgpd still runs the old one)",
			cfg:      baseConfig(),
			sessions: []vtysh.Session{session("10.0.0.1", inView("", 65009))},
			want: []model.CiliumBGPNodeInstanceStatus{{Name: "inst", LocalASN: ptrTo(int64(65001)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
				unknownPeer("tor", "10.0.0.1", 65000),
			}}},
		},
		{
			name: "two instances: the first is the default instance, the second the view of its name",
			cfg: nodeConfig(
				instance("a", 65001, peer("tor", "10.0.0.1", 65000)),
				instance("b", 65002, peer("tor", "10.0.0.1", 65000), peer("other", "fd00::1", 65000)),
			),
			sessions: []vtysh.Session{
				session("10.0.0.1"),
				session("10.0.0.1", inView("b", 65002), state("Active", 0)),
				session("fd00::1", inView("b", 65002), state("OpenSent", 0)),
				// A view named like the first instance is not the first instance.
				session("10.0.0.1", inView("a", 65001), state("Connect", 0)),
			},
			want: []model.CiliumBGPNodeInstanceStatus{
				{Name: "a", LocalASN: ptrTo(int64(65001)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
					establishedPeer("tor", "10.0.0.1", 65000, "2026-05-01T11:58:30Z"),
				}},
				{Name: "b", LocalASN: ptrTo(int64(65002)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
					notEstablished("tor", "10.0.0.1", 65000, "active"),
					notEstablished("other", "fd00::1", 65000, "open_sent"),
				}},
			},
		},
		{
			name: "a second instance whose name FRR cannot take: its sessions are in the view it maps to",
			cfg: nodeConfig(
				instance("a", 65001, peer("tor", "10.0.0.1", 65000)),
				instance("blue team", 65002, peer("tor", "10.0.0.1", 65000)),
			),
			sessions: []vtysh.Session{
				session("10.0.0.1", inView(model.MappedName("blue team"), 65002), state("Active", 0)),
			},
			want: []model.CiliumBGPNodeInstanceStatus{
				{Name: "a", LocalASN: ptrTo(int64(65001)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
					unknownPeer("tor", "10.0.0.1", 65000),
				}},
				{Name: "blue team", LocalASN: ptrTo(int64(65002)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
					notEstablished("tor", "10.0.0.1", 65000, "active"),
				}},
			},
		},
		{
			name: "a peer without an address (auto-discovery found none) is left out",
			cfg:  nodeConfig(instance("inst", 65001, peer("gw", "", 65000), peer("tor", "10.0.0.1", 65000))),
			want: []model.CiliumBGPNodeInstanceStatus{{Name: "inst", LocalASN: ptrTo(int64(65001)), PeerStatuses: []model.CiliumBGPNodePeerStatus{
				unknownPeer("tor", "10.0.0.1", 65000),
			}}},
		},
		{
			name: "an instance without peers is listed",
			cfg:  nodeConfig(instance("inst", 65001)),
			want: []model.CiliumBGPNodeInstanceStatus{{Name: "inst", LocalASN: ptrTo(int64(65001))}},
		},
		{
			name: "no configuration: no instances",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Build(tc.cfg, tc.sessions, nil, nil, testNow)
			diffJSON(t, tc.want, got.BGPInstances)
			b, _ := json.Marshal(got)
			noPassword(t, "status", string(b))
		})
	}
}

func TestPeeringState(t *testing.T) {
	for frr, want := range map[string]string{
		"Idle": "idle", "Idle (Admin)": "idle", "Idle (PfxCt)": "idle", "Connect": "connect", "Active": "active",
		"OpenSent": "open_sent", "OpenConfirm": "open_confirm", "Established": "established",
		"Clearing": "idle", "Deleted": "unknown", "": "unknown", "Bogus": "unknown", " established ": "established",
	} {
		if got := PeeringState(frr); got != want {
			t.Errorf("PeeringState(%q) = %q, want %q", frr, got, want)
		}
	}
}

func TestBuildCondition(t *testing.T) {
	earlier := metav1.NewTime(testNow.Add(-time.Hour))
	prevWith := func(status metav1.ConditionStatus, msg string) *model.CiliumBGPNodeConfigStatus {
		return &model.CiliumBGPNodeConfigStatus{Conditions: []metav1.Condition{{
			Type: "cilium.io/BGPReconcileError", Status: status, Reason: "BGPReconcileError", Message: msg, LastTransitionTime: earlier,
		}}}
	}
	tests := []struct {
		name     string
		problems []string
		prev     *model.CiliumBGPNodeConfigStatus
		status   metav1.ConditionStatus
		message  string
		since    metav1.Time
	}{
		{name: "no problem: False, empty message", status: "False", message: "", since: metav1.NewTime(testNow)},
		{
			name:     "problems: True, one per line",
			problems: []string{"inst: no localASN", "CiliumBGPPeerConfig/pc: spec.timers: bad"},
			status:   "True", message: "inst: no localASN\nCiliumBGPPeerConfig/pc: spec.timers: bad\n", since: metav1.NewTime(testNow),
		},
		{
			name:     "a problem quoting a line break stays one line",
			problems: []string{"manifests.yaml: bad\nerror: forged"},
			status:   "True", message: "manifests.yaml: bad\\nerror: forged\n", since: metav1.NewTime(testNow),
		},
		{name: "unchanged status keeps its transition time", prev: prevWith("False", ""), status: "False", since: earlier},
		{
			name: "a new message alone keeps the transition time", prev: prevWith("True", "old\n"),
			problems: []string{"new"}, status: "True", message: "new\n", since: earlier,
		},
		{name: "a flip is a transition", prev: prevWith("True", "old\n"), status: "False", since: metav1.NewTime(testNow)},
		{name: "another condition type does not count", prev: &model.CiliumBGPNodeConfigStatus{Conditions: []metav1.Condition{{
			Type: "other", Status: "False", LastTransitionTime: earlier,
		}}}, status: "False", since: metav1.NewTime(testNow)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Build(baseConfig(), nil, tc.problems, tc.prev, testNow.Add(300*time.Millisecond))
			if len(got.Conditions) != 1 {
				t.Fatalf("conditions = %+v, want exactly one", got.Conditions)
			}
			c := got.Conditions[0]
			if c.Type != "cilium.io/BGPReconcileError" || c.Reason != "BGPReconcileError" || c.Status != tc.status || c.Message != tc.message {
				t.Errorf("condition = %s/%s/%s %q, want cilium.io/BGPReconcileError/%s/BGPReconcileError %q", c.Type, c.Status, c.Reason, c.Message, tc.status, tc.message)
			}
			if !c.LastTransitionTime.Equal(&tc.since) {
				t.Errorf("lastTransitionTime = %v, want %v", c.LastTransitionTime, tc.since)
			}
		})
	}
}

func TestBuildConditionMessageCap(t *testing.T) {
	tests := []struct {
		name     string
		problems []string
		kept     int
	}{
		{name: "all fit", problems: repeatLines(100, 100), kept: 100},
		{name: "whole lines up to 32 KiB, then a count", problems: repeatLines(5000, 40), kept: -1},
		{name: "one huge line", problems: []string{strings.Repeat("x", 40000), "short"}, kept: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := Build(nil, nil, tc.problems, nil, testNow).Conditions[0].Message
			if len(msg) > MaxConditionMessage {
				t.Fatalf("message is %d bytes, above %d", len(msg), MaxConditionMessage)
			}
			lines := strings.Split(strings.TrimSuffix(msg, "\n"), "\n")
			kept := len(lines)
			if tc.kept != len(tc.problems) {
				last := lines[len(lines)-1]
				kept--
				if want := fmt.Sprintf("(%d more)", len(tc.problems)-kept); last != want {
					t.Fatalf("last line = %q, want %q", last, want)
				}
				if body := len(msg) - len(last) - 1; len(tc.problems[kept])+1+body <= MaxConditionMessage-omittedNoteRoom {
					t.Errorf("line %d was left out although it fits", kept)
				}
			}
			if tc.kept >= 0 && kept != tc.kept {
				t.Errorf("kept %d lines, want %d", kept, tc.kept)
			}
			for i := range kept {
				if lines[i] != tc.problems[i] {
					t.Fatalf("line %d = %q, want %q (whole lines, in order)", i, lines[i], tc.problems[i])
				}
			}
		})
	}
}

func repeatLines(n, width int) []string {
	out := make([]string, n)
	for i := range out {
		s := fmt.Sprintf("problem %d: ", i)
		out[i] = s + strings.Repeat("x", max(width-len(s), 0))
	}
	return out
}

// A refresh of an unchanged node gives an unchanged status: the established time computed
// anew moves with the moment of the refresh, the one written before stays.
func TestBuildEstablishedTimeIsStable(t *testing.T) {
	cfg := baseConfig()
	first := Build(cfg, []vtysh.Session{session("10.0.0.1", state("Established", 90*time.Second))}, nil, nil, testNow)
	want := *first.BGPInstances[0].PeerStatuses[0].EstablishedTime
	if want != "2026-05-01T11:58:30Z" {
		t.Fatalf("establishedTime = %s", want)
	}
	tests := []struct {
		name   string
		now    time.Time
		uptime time.Duration
		state  string
		want   string
	}{
		{name: "5 s later, uptime read 0.6 s before now", now: testNow.Add(5 * time.Second), uptime: 94*time.Second + 400*time.Millisecond, state: "Established", want: want},
		{name: "uptime read just after a second boundary", now: testNow.Add(10 * time.Second), uptime: 99*time.Second + 499*time.Millisecond, state: "Established", want: want},
		{name: "a new session", now: testNow.Add(10 * time.Second), uptime: 3 * time.Second, state: "Established", want: "2026-05-01T12:00:07Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Build(cfg, []vtysh.Session{session("10.0.0.1", state(tc.state, tc.uptime))}, nil, &first, tc.now)
			if e := got.BGPInstances[0].PeerStatuses[0].EstablishedTime; e == nil || *e != tc.want {
				t.Errorf("establishedTime = %v, want %s", e, tc.want)
			}
		})
	}
	t.Run("after a drop, the next establishment is new", func(t *testing.T) {
		down := Build(cfg, []vtysh.Session{session("10.0.0.1", state("Active", 0))}, nil, &first, testNow.Add(time.Second))
		if e := down.BGPInstances[0].PeerStatuses[0].EstablishedTime; e != nil {
			t.Fatalf("establishedTime = %s while active", *e)
		}
		up := Build(cfg, []vtysh.Session{session("10.0.0.1", state("Established", 0))}, nil, &down, testNow.Add(1500*time.Millisecond))
		if e := up.BGPInstances[0].PeerStatuses[0].EstablishedTime; e == nil || *e != "2026-05-01T12:00:02Z" {
			t.Errorf("establishedTime = %v, want 2026-05-01T12:00:02Z", e)
		}
	})
}

// Timers and counts beyond int32 are clamped, not wrapped.
func TestBuildClamps(t *testing.T) {
	s := session("10.0.0.1", func(s *vtysh.Session) {
		s.HoldTime = -time.Second
		s.Families = []vtysh.FamilyCount{{AFI: "ipv4", SAFI: "unicast", Advertised: 1 << 31, Received: 7}}
	})
	ps := Build(baseConfig(), []vtysh.Session{s}, nil, nil, testNow).BGPInstances[0].PeerStatuses[0]
	if *ps.Timers.AppliedHoldTimeSeconds != 0 {
		t.Errorf("hold = %d, want 0", *ps.Timers.AppliedHoldTimeSeconds)
	}
	if rc := ps.RouteCount[0]; *rc.Advertised != 1<<31-1 || *rc.Received != 7 {
		t.Errorf("routeCount = %d/%d, want %d/7", *rc.Advertised, *rc.Received, 1<<31-1)
	}
}
