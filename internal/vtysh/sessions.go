package vtysh

// This file reads the state of bgpd's BGP sessions through the vty socket, for the status of a
// CiliumBGPNodeConfig, the metrics and `frr-renderer peers`. It runs every few seconds: it sends
// one show command and never one per instance or per peer.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Session is the state of one BGP neighbor as bgpd reports it: what the status of a
// CiliumBGPNodeConfig, the metrics and `frr-renderer peers` show.
type Session struct {
	// View is the BGP instance: "" for the default instance (`router bgp ASN`), the view's
	// name for `router bgp ASN view NAME`.
	View     string
	LocalAS  uint32
	Peer     netip.Addr
	RemoteAS uint32 // the configured AS, or the one the peer sent when configured auto/external
	// State is bgpd's FSM state: Idle, Connect, Active, OpenSent, OpenConfirm, Established
	// (as FRR spells them; Clearing and Deleted may appear briefly).
	State string
	// Uptime is how long the session has been Established; 0 in any other state.
	Uptime time.Duration
	// HoldTime and Keepalive are the negotiated timers while Established, the configured ones
	// otherwise.
	HoldTime, Keepalive time.Duration
	// Families are the address families enabled on the neighbor, sorted by AFI then SAFI.
	Families []FamilyCount
}

// FamilyCount is the number of prefixes exchanged with a neighbor in one address family.
type FamilyCount struct {
	AFI  string // "ipv4", "ipv6"
	SAFI string // "unicast"
	// Advertised is the number of prefixes sent to the peer; Received the number accepted
	// from it, after the inbound policy: bgpd keeps no count of what the policy refused
	// without soft-reconfiguration inbound (a copy of everything received). GoBGP, and so
	// Cilium's routeCount.received, counts before it; with frr-renderer's reject-all inbound
	// policy Received is 0.
	Advertised, Received uint32
}

// StateEstablished is the FSM state of a session that is up.
const StateEstablished = "Established"

// sessionsCommand is the one command Sessions sends. What it prints, as measured against FRR 8.4
// and 10.3 (the captures in testdata/sessions):
//
//   - One object per BGP instance, keyed by its name ("default" for the default instance), views
//     and VRF instances alike. Each holds "vrfId" (0 for the default instance and for views; a
//     VRF instance has its kernel VRF's id, or -1 while that does not exist), "vrfName", and one
//     object per neighbor keyed by its address, or by its interface for an unnumbered one.
//     Peer-groups are not listed. No instance at all prints "{}".
//   - Per neighbor, the same fields on both versions: "localAs" and "remoteAs" (numbers; strings
//     in asdot, "64086.59904", under `as-notation dot` on 10.3; remoteAs is 0 until the peer's
//     OPEN for `remote-as external`, `auto` and `internal`, the last flagged by
//     "nbrInternalLink"), "bgpState", "bgpTimerUpMsec" (Established only; whole seconds),
//     "bgpTimerHoldTimeMsecs" and "bgpTimerKeepAliveIntervalMsecs" (negotiated while
//     Established; otherwise they may lag behind the configuration: timers set on a neighbor
//     that is down show only in "bgpTimerConfiguredHoldTimeMsecs" and
//     "bgpTimerConfiguredKeepAliveIntervalMsecs"), and "addressFamilyInfo" with one object per
//     family the neighbor is activated in (none: empty): "acceptedPrefixCounter" (after the
//     inbound policy) and, while Established, "sentPrefixCounter".
//
// Its cost (BenchmarkSessions, 2 CPUs): at 64 Established peers, 240 KB (8.4) to 280 KB (10.3)
// of JSON for 2-2.4 ms of bgpd's CPU, and 1.5-2 ms here to parse it; at 3 peers, 0.3 ms in all.
// The counters it prints are bgpd's own (a neighbor's accepted count, its update
// subgroup's sent count), no table is walked: with 10,000 prefixes advertised to each of the 64
// peers it costs bgpd within 0.4 ms of what it costs with none. `show bgp vrf all summary json`
// is cheaper (an eighth of the bytes, 0.3 ms of bgpd's CPU) and covers views too, but it has no
// timers, and it lists a neighbor only under the families it is activated in: one activated in
// none (its peer-group has no family) is missing.
const sessionsCommand = "show bgp vrf all neighbors json"

// defaultInstance is the key of the default instance in sessionsCommand's output.
const defaultInstance = "default"

// Sessions reads the state of every BGP neighbor of bgpd's default instance and views, sorted by
// View, then Peer. Neighbors of VRF instances (which frr-renderer never renders) and unnumbered
// neighbors (`neighbor IFNAME interface`, which have no address) are left out.
func (c *Client) Sessions(ctx context.Context) ([]Session, error) {
	out, err := c.Exec(ctx, sessionsCommand)
	if err != nil {
		return nil, err
	}
	sessions, err := parseSessions(out)
	if err != nil {
		// Not wrapped: a reply cut short fails with io.EOF, which would read as a lost
		// connection (Disconnected) while the session is in step and usable.
		return nil, fmt.Errorf("vty %s: %q: malformed reply: %v", c.path, sessionsCommand, err)
	}
	return sessions, nil
}

// neighborJSON is what Sessions reads of one neighbor. Missing fields stay zero.
type neighborJSON struct {
	LocalAS                 asNumber              `json:"localAs"`
	RemoteAS                asNumber              `json:"remoteAs"`
	Internal                bool                  `json:"nbrInternalLink"`
	State                   string                `json:"bgpState"`
	UpMsec                  counter               `json:"bgpTimerUpMsec"`
	HoldMsec                counter               `json:"bgpTimerHoldTimeMsecs"`
	KeepaliveMsec           counter               `json:"bgpTimerKeepAliveIntervalMsecs"`
	ConfiguredHoldMsec      *counter              `json:"bgpTimerConfiguredHoldTimeMsecs"`
	ConfiguredKeepaliveMsec *counter              `json:"bgpTimerConfiguredKeepAliveIntervalMsecs"`
	Families                map[string]familyJSON `json:"addressFamilyInfo"`
}

type familyJSON struct {
	Accepted counter `json:"acceptedPrefixCounter"`
	Sent     counter `json:"sentPrefixCounter"`
}

// parseSessions turns sessionsCommand's output into sessions, sorted by View, then Peer.
//
// It reads the reply in one go (json.Decoder, a neighbor at a time): unmarshalling it level by
// level (instances, then neighbors) took 5 ms at 64 neighbors instead of 1.5-2, twice what bgpd
// takes to print it.
func parseSessions(out string) ([]Session, error) {
	dec := json.NewDecoder(strings.NewReader(out))
	if err := openObject(dec); err != nil {
		return nil, err
	}
	var sessions []Session
	for dec.More() {
		name, err := objectKey(dec)
		if err != nil {
			return nil, err
		}
		inst, vrf, err := parseInstance(dec, name)
		if err != nil {
			return nil, fmt.Errorf("instance %q: %w", name, err)
		}
		if !vrf {
			sessions = append(sessions, inst...)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	slices.SortFunc(sessions, func(a, b Session) int {
		if c := strings.Compare(a.View, b.View); c != 0 {
			return c
		}
		return a.Peer.Compare(b.Peer)
	})
	return sessions, nil
}

// parseInstance reads one instance's object: its neighbors' sessions, and whether it is a VRF
// instance (its vrfId is not 0; the default instance and views have 0).
func parseInstance(dec *json.Decoder, name string) (sessions []Session, vrf bool, err error) {
	if err := openObject(dec); err != nil {
		return nil, false, err
	}
	view := name
	if name == defaultInstance {
		view = ""
	}
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return nil, false, err
		}
		peer, err := netip.ParseAddr(key)
		if err != nil {
			// vrfId, vrfName, an unnumbered neighbor (keyed by its interface), whatever a later
			// FRR adds.
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, false, err
			}
			if key == "vrfId" {
				var id int64
				vrf = json.Unmarshal(v, &id) != nil || id != 0
			}
			continue
		}
		var n neighborJSON
		if err := dec.Decode(&n); err != nil {
			return nil, false, fmt.Errorf("neighbor %s: %w", key, err)
		}
		sessions = append(sessions, n.session(view, peer))
	}
	_, err = dec.Token() // the closing brace
	return sessions, vrf, err
}

// openObject reads the opening brace of an object.
func openObject(dec *json.Decoder) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t != json.Delim('{') {
		return fmt.Errorf("%v where a JSON object should start", t)
	}
	return nil
}

// objectKey reads the next key of an object (Token has checked that it is a string).
func objectKey(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, _ := t.(string)
	return key, nil
}

func (n *neighborJSON) session(view string, peer netip.Addr) Session {
	s := Session{
		View:      view,
		LocalAS:   uint32(n.LocalAS),
		Peer:      peer,
		RemoteAS:  uint32(n.RemoteAS),
		State:     n.State,
		HoldTime:  n.HoldMsec.millis(),
		Keepalive: n.KeepaliveMsec.millis(),
	}
	if s.RemoteAS == 0 && n.Internal {
		// `remote-as internal` before the peer's OPEN: the configured AS is the local one.
		s.RemoteAS = s.LocalAS
	}
	if n.State == StateEstablished {
		s.Uptime = n.UpMsec.millis()
	} else {
		// The non-configured fields of a session that is down may not follow the configuration.
		if n.ConfiguredHoldMsec != nil {
			s.HoldTime = n.ConfiguredHoldMsec.millis()
		}
		if n.ConfiguredKeepaliveMsec != nil {
			s.Keepalive = n.ConfiguredKeepaliveMsec.millis()
		}
	}
	for key, f := range n.Families {
		afi, safi := familyOf(key)
		s.Families = append(s.Families, FamilyCount{AFI: afi, SAFI: safi,
			Advertised: f.Sent.uint32(), Received: f.Accepted.uint32()})
	}
	slices.SortFunc(s.Families, func(a, b FamilyCount) int {
		if c := strings.Compare(a.AFI, b.AFI); c != 0 {
			return c
		}
		return strings.Compare(a.SAFI, b.SAFI)
	})
	return s
}

// familyAFIs and familySAFIs split FRR's JSON name of an address family ("ipv4Unicast",
// "l2VpnEvpn": bgpd's get_afi_safi_json_str) into Cilium's AFI and SAFI names.
var (
	familyAFIs  = []struct{ frr, cilium string }{{"ipv4", "ipv4"}, {"ipv6", "ipv6"}, {"l2Vpn", "l2vpn"}}
	familySAFIs = map[string]string{
		"Unicast":        "unicast",
		"Multicast":      "multicast",
		"LabeledUnicast": "mpls_label",
		"Vpn":            "mpls_vpn",
		"Encap":          "encapsulation",
		"Flowspec":       "flowspec_unicast",
		"Evpn":           "evpn",
	}
)

// familyOf returns the AFI and SAFI of an addressFamilyInfo key. A family it does not know is
// passed on lower-cased, whole as the AFI if even that is unknown.
func familyOf(key string) (afi, safi string) {
	for _, a := range familyAFIs {
		if rest, ok := strings.CutPrefix(key, a.frr); ok {
			if s, ok := familySAFIs[rest]; ok {
				return a.cilium, s
			}
			return a.cilium, strings.ToLower(rest)
		}
	}
	return strings.ToLower(key), ""
}

// counter is a count or a number of milliseconds. A negative value (bgpd prints none in the
// fields read here) reads as 0, an absent or null one as 0.
type counter int64

func (c counter) millis() time.Duration { return time.Duration(c) * time.Millisecond }

func (c counter) uint32() uint32 { return uint32(min(c, 1<<32-1)) }

func (c *counter) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("counter %s: not an integer", b)
	}
	*c = counter(max(v, 0))
	return nil
}

// asNumber is an AS number as bgpd prints it in JSON: a number, or under `as-notation dot`
// (10.3 has it, 8.4 not) a string in asdot ("64086.59904") for ASNs of 65,536 and more.
type asNumber uint32

func (a *asNumber) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := parseASN(s)
	if err != nil {
		return fmt.Errorf("AS number %s: %w", b, err)
	}
	*a = asNumber(v)
	return nil
}

// parseASN reads an AS number in asplain ("4200000000") or asdot ("64086.59904").
func parseASN(s string) (uint32, error) {
	if hi, lo, ok := strings.Cut(s, "."); ok {
		h, err1 := strconv.ParseUint(hi, 10, 16)
		l, err2 := strconv.ParseUint(lo, 10, 16)
		if err := errors.Join(err1, err2); err != nil {
			return 0, errors.New("not in asdot")
		}
		return uint32(h<<16 | l), nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errors.New("not a 32-bit number")
	}
	return uint32(v), nil
}
