package nodestatus

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// MaxConditionMessage is the CRD's limit on a condition message (Cilium's
// MaxConditionsMessageLen).
const MaxConditionMessage = 32 * 1024

// Build computes the status of the node's CiliumBGPNodeConfig, as Cilium's agent does
// (pkg/bgp/manager/reconciler/crd_status.go):
//
//   - one entry per instance of cfg, in order, with its name and local ASN. The first instance
//     is bgpd's default instance (View ""), the others are views named after the instance
//     (model.ViewName), as internal/frrconfig renders them;
//   - one entry per peer that has an address: name, address and ASN. A peer bgpd runs (same
//     view, local AS and address) adds its state, the ASN it announced when configured 0
//     ("auto"), the time it was established (only while established), its timers and its
//     route counts per family. A peer bgpd does not run has no state, as in Cilium;
//   - the condition cilium.io/BGPReconcileError: True with one problem per line (at most
//     MaxConditionMessage bytes), False with an empty message when there are none.
//
// prev is the status written or read last (nil when unknown): a condition keeps its
// lastTransitionTime while its status stays the same, and a peer's establishedTime stays put
// while it is the same session, so that an unchanged node yields an unchanged status.
// ObservedGeneration is left for the Writer, which knows the object.
func Build(cfg *model.NodeConfig, sessions []vtysh.Session, problems []string, prev *model.CiliumBGPNodeConfigStatus, now time.Time) model.CiliumBGPNodeConfigStatus {
	running := map[sessionKey]*vtysh.Session{}
	for i := range sessions {
		s := &sessions[i]
		running[sessionKey{view: s.View, localAS: s.LocalAS, peer: s.Peer.Unmap()}] = s
	}
	var out model.CiliumBGPNodeConfigStatus
	if cfg != nil {
		for i := range cfg.Instances {
			inst := &cfg.Instances[i]
			view := ""
			if i > 0 {
				view = model.ViewName(inst.Name)
			}
			is := model.CiliumBGPNodeInstanceStatus{Name: inst.Name, LocalASN: ptr(int64(inst.LocalASN))}
			for j := range inst.Peers {
				p := &inst.Peers[j]
				if !p.Address.IsValid() {
					continue // Cilium reports peers with an address only (peerAddress is required)
				}
				s := running[sessionKey{view: view, localAS: inst.LocalASN, peer: p.Address.Unmap()}]
				is.PeerStatuses = append(is.PeerStatuses, peerStatus(p, s, prevPeer(prev, inst.Name, p.Name), now))
			}
			out.BGPInstances = append(out.BGPInstances, is)
		}
	}
	out.Conditions = []metav1.Condition{reconcileErrorCondition(problems, prev, now)}
	return out
}

type sessionKey struct {
	view    string
	localAS uint32
	peer    netip.Addr
}

func peerStatus(p *model.Peer, s *vtysh.Session, prev *model.CiliumBGPNodePeerStatus, now time.Time) model.CiliumBGPNodePeerStatus {
	ps := model.CiliumBGPNodePeerStatus{
		Name:        p.Name,
		PeerAddress: p.Address.String(),
		PeerASN:     ptr(int64(p.ASN)),
	}
	if s == nil {
		return ps
	}
	if p.ASN == 0 && s.RemoteAS != 0 {
		ps.PeerASN = ptr(int64(s.RemoteAS))
	}
	state := PeeringState(s.State)
	ps.PeeringState = ptr(state)
	if state == model.PeeringStateEstablished {
		ps.EstablishedTime = ptr(establishedTime(now.Add(-s.Uptime), prev))
	}
	ps.Timers = &model.CiliumBGPTimersState{
		AppliedHoldTimeSeconds:  ptr(seconds(s.HoldTime)),
		AppliedKeepaliveSeconds: ptr(seconds(s.Keepalive)),
	}
	for _, f := range s.Families {
		ps.RouteCount = append(ps.RouteCount, model.BGPFamilyRouteCount{
			AFI:        f.AFI,
			SAFI:       f.SAFI,
			Received:   ptr(count(f.Received)),
			Advertised: ptr(count(f.Advertised)),
		})
	}
	return ps
}

// establishedTime is the time in RFC 3339, UTC, to the second. now-uptime moves by the time
// between bgpd's answer and now, and its rounding with it: the time written before stays
// while it is within a second of the new one, so that a refresh does not rewrite it.
func establishedTime(at time.Time, prev *model.CiliumBGPNodePeerStatus) string {
	at = at.UTC().Round(time.Second)
	if prev != nil && prev.EstablishedTime != nil && prev.PeeringState != nil && *prev.PeeringState == model.PeeringStateEstablished {
		if was, err := time.Parse(time.RFC3339, *prev.EstablishedTime); err == nil {
			if d := at.Sub(was); d >= -time.Second && d <= time.Second {
				return *prev.EstablishedTime
			}
		}
	}
	return at.Format(time.RFC3339)
}

// PeeringState spells an FRR neighbor state as Cilium writes GoBGP's (types.SessionState):
// idle, connect, active, open_sent, open_confirm, established. FRR's Clearing (a session
// going down, which GoBGP takes straight to Idle) is idle; Deleted and anything else is
// unknown, as Cilium spells a state it cannot name. A suffix such as "Idle (Admin)" is ignored.
func PeeringState(frr string) string {
	word, _, _ := strings.Cut(strings.TrimSpace(frr), " ")
	switch strings.ToLower(word) {
	case "idle", "clearing":
		return model.PeeringStateIdle
	case "connect":
		return model.PeeringStateConnect
	case "active":
		return model.PeeringStateActive
	case "opensent":
		return model.PeeringStateOpenSent
	case "openconfirm":
		return model.PeeringStateOpenConfirm
	case "established":
		return model.PeeringStateEstablished
	default:
		return model.PeeringStateUnknown
	}
}

// reconcileErrorCondition is Cilium's cilium.io/BGPReconcileError: each problem on a line of
// its own ("\n"-terminated, as Cilium writes "<instance>: <error>\n"), as many whole lines as
// fit, then a line saying how many were left out.
func reconcileErrorCondition(problems []string, prev *model.CiliumBGPNodeConfigStatus, now time.Time) metav1.Condition {
	c := metav1.Condition{
		Type:   model.BGPReconcileErrorCondition,
		Status: metav1.ConditionFalse,
		Reason: model.BGPReconcileErrorReason,
	}
	if len(problems) > 0 {
		c.Status = metav1.ConditionTrue
		c.Message = problemLines(problems)
	}
	c.LastTransitionTime = metav1.NewTime(now.UTC().Truncate(time.Second))
	if prev != nil {
		for _, pc := range prev.Conditions {
			if pc.Type == c.Type && pc.Status == c.Status && !pc.LastTransitionTime.IsZero() {
				c.LastTransitionTime = pc.LastTransitionTime
			}
		}
	}
	return c
}

// omittedNoteRoom is kept free for the "(N more)" line.
const omittedNoteRoom = 32

func problemLines(problems []string) string {
	var b strings.Builder
	for i, p := range problems {
		// A problem that quotes a value with a line break stays one line of the message.
		line := model.OneLine(p) + "\n"
		if b.Len()+len(line) > MaxConditionMessage-omittedNoteRoom {
			fmt.Fprintf(&b, "(%d more)\n", len(problems)-i)
			break
		}
		b.WriteString(line)
	}
	return b.String()
}

func prevPeer(prev *model.CiliumBGPNodeConfigStatus, instance, peer string) *model.CiliumBGPNodePeerStatus {
	if prev == nil {
		return nil
	}
	for i := range prev.BGPInstances {
		if prev.BGPInstances[i].Name != instance {
			continue
		}
		for j := range prev.BGPInstances[i].PeerStatuses {
			if ps := &prev.BGPInstances[i].PeerStatuses[j]; ps.Name == peer {
				return ps
			}
		}
	}
	return nil
}

func seconds(d time.Duration) int32 {
	return count(uint32(min(max(d/time.Second, 0), math.MaxUint32)))
}

func count(n uint32) int32 {
	return int32(min(n, math.MaxInt32))
}

func ptr[T any](v T) *T { return &v }
