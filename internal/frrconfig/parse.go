package frrconfig

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// Config is a parsed FRR configuration, restricted to what frr-renderer owns: BGP instances
// (`router bgp`) and route-map entries. Parse keeps every instance and every route-map, its
// own and foreign ones alike; Delta's Ownership decides which it may touch.
//
// A Config holds passwords in clear text (FRR prints them so): never log one.
type Config struct {
	instances []*bgpInstance
	instIdx   map[string]*bgpInstance // by InstanceID.slot()
	routeMaps []*parsedRouteMapEntry
	rmIdx     map[string]*parsedRouteMapEntry // by "NAME SEQ"
	rmNames   map[string]bool
	// zebra holds the top-level zebra lines frr-renderer renders (ZebraLines), as found.
	zebra []string
}

// ZebraLines are the top-level lines of zebra's that Parse keeps: next-hop tracking over the
// default route, which frr-renderer renders for FRR 8 (FRR 10 resolves so by default). They
// belong to zebra, not bgpd: Delta leaves them to ZebraDelta.
var ZebraLines = []string{"ip nht resolve-via-default", "ipv6 nht resolve-via-default"}

// secretPattern finds a password and everything after it on its line: the BGP MD5 password
// (`neighbor PEER password SECRET`) and any other `password SECRET` a config may carry.
var secretPattern = regexp.MustCompile(`(?m)(\bpassword[ \t]+)\S[^\n]*`)

// MaskSecrets replaces every password in s (a line, or several) and whatever follows it on its
// line with model.Redacted: " neighbor 10.0.0.1 password s3cret" becomes
// " neighbor 10.0.0.1 password <redacted>".
func MaskSecrets(s string) string {
	return secretPattern.ReplaceAllString(s, "${1}"+model.Redacted)
}

// InstanceID names a BGP instance as `router bgp` does.
type InstanceID struct {
	// ASN is the instance's AS number as FRR prints it.
	ASN string
	// Kind is "" for the default instance, else "view" or "vrf".
	Kind string
	// Name is the view or VRF name; "" for the default instance.
	Name string
}

// String is the `router bgp` line that enters the instance.
func (id InstanceID) String() string {
	if id.Kind == "" {
		return "router bgp " + id.ASN
	}
	return "router bgp " + id.ASN + " " + id.Kind + " " + id.Name
}

// slot is what FRR allows only one instance of: the default instance, or one name (views and
// VRFs share one namespace of names).
func (id InstanceID) slot() string { return id.Name }

// bgpInstance is one `router bgp` block.
type bgpInstance struct {
	id      InstanceID
	globals []string // instance-level lines other than neighbor lines, in order
	peers   []*peer  // peer-groups and neighbors, in order of first line
	peerIdx map[string]*peer
	afs     []*family
	afIdx   map[string]*family
	// opaque holds sub-blocks that are not address families (bmp, segment-routing, ...), as
	// printed: frr-renderer renders none and never touches them.
	opaque [][]string
}

// peer is a peer-group or a neighbor: every instance-level `neighbor NAME ...` line.
type peer struct {
	name  string
	group bool // has a `neighbor NAME peer-group` line
	lines []string
}

// family is an address-family sub-block.
type family struct {
	header string // "address-family ipv4 unicast"
	lines  []string
	// opaque: the block nests deeper blocks (such as EVPN's vni): it is never converged.
	opaque bool
	// keys counts the keys of lines, for PatchText; nil until it needs them.
	keys map[string]int
}

// parsedRouteMapEntry is one `route-map NAME ACTION SEQ` stanza as parsed (routeMapEntry is
// the renderer's).
type parsedRouteMapEntry struct {
	name, action string
	seq          int
	lines        []string
}

func (e *parsedRouteMapEntry) key() string { return e.name + " " + strconv.Itoa(e.seq) }

func (e *parsedRouteMapEntry) header() string {
	return "route-map " + e.name + " " + e.action + " " + strconv.Itoa(e.seq)
}

// Instances returns the BGP instances of the configuration, in order.
func (c *Config) Instances() []InstanceID {
	ids := make([]InstanceID, len(c.instances))
	for i, in := range c.instances {
		ids[i] = in.id
	}
	return ids
}

// RouteMaps returns the names of the route-maps of the configuration, sorted.
func (c *Config) RouteMaps() []string {
	names := make([]string, 0, len(c.rmNames))
	for n := range c.rmNames {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Zebra returns the lines of ZebraLines the configuration holds, in order.
func (c *Config) Zebra() []string { return c.zebra }

// RouteMapEntry is one entry of a parsed route-map, as Config.RouteMap returns it.
type RouteMapEntry struct {
	Name   string
	Action string // "permit" or "deny"
	Seq    int
	Lines  []string // the entry's lines, without indentation
}

// RouteMap returns the entries of the route-map name, by sequence number; none when the
// configuration has no such route-map.
func (c *Config) RouteMap(name string) []RouteMapEntry {
	var out []RouteMapEntry
	for _, e := range c.routeMaps {
		if e.name == name {
			out = append(out, RouteMapEntry{Name: e.name, Action: e.action, Seq: e.seq, Lines: slices.Clone(e.lines)})
		}
	}
	slices.SortFunc(out, func(a, b RouteMapEntry) int { return a.Seq - b.Seq })
	return out
}

// Parse reads frr.conf text or `show running-config` output (FRR 8.4 prints route-maps after
// `router bgp`, 10.3 before: the order of blocks does not matter). It keeps `router bgp ASN
// [view|vrf NAME]` blocks (global lines, neighbor lines, address-family sub-blocks) and
// `route-map NAME permit|deny SEQ` entries with their lines; it ignores everything else
// (comments, frr version/defaults, hostname, log, service, line vty, lists, interfaces, other
// daemons' blocks). Lines are identified by FRR's indentation, as FRR prints it and as
// frr-renderer renders it. A block opened twice continues the first, as in FRR.
//
// Errors never quote a password.
func Parse(text string) (*Config, error) {
	c := &Config{
		instIdx: map[string]*bgpInstance{},
		rmIdx:   map[string]*parsedRouteMapEntry{},
		rmNames: map[string]bool{},
	}
	var (
		inst   *bgpInstance
		rm     *parsedRouteMapEntry
		af     *family
		opaque *[]string // the instance's open non-family sub-block
		subDep int       // indentation of the open sub-block's header
	)
	closeAll := func() { inst, rm, af, opaque = nil, nil, nil, nil }
	lineNo := 0
	for len(text) > 0 {
		var raw string
		raw, text, _ = strings.Cut(text, "\n")
		lineNo++
		line := strings.TrimRight(raw, " \t\r")
		body := strings.TrimLeft(line, " \t")
		if body == "" || body[0] == '!' {
			continue
		}
		depth := len(line) - len(body)
		if depth == 0 {
			closeAll()
			switch {
			case strings.HasPrefix(body, "router bgp"):
				id, err := parseRouterBGP(body)
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", lineNo, err)
				}
				inst = c.instIdx[id.slot()]
				if inst != nil && inst.id != id {
					return nil, fmt.Errorf("line %d: %q: FRR cannot have it beside %q", lineNo, id, inst.id)
				}
				if inst == nil {
					inst = &bgpInstance{id: id, peerIdx: map[string]*peer{}, afIdx: map[string]*family{}}
					c.instIdx[id.slot()] = inst
					c.instances = append(c.instances, inst)
				}
			case slices.Contains(ZebraLines, body):
				if !slices.Contains(c.zebra, body) {
					c.zebra = append(c.zebra, body)
				}
			case strings.HasPrefix(body, "route-map "):
				e, err := parseRouteMapHeader(body)
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", lineNo, err)
				}
				if old := c.rmIdx[e.key()]; old != nil {
					old.action = e.action // FRR changes an entry's action in place
					rm = old
				} else {
					rm = e
					c.rmIdx[e.key()] = e
					c.rmNames[e.name] = true
					c.routeMaps = append(c.routeMaps, e)
				}
			}
			continue
		}
		switch {
		case rm != nil:
			rm.lines = append(rm.lines, body)
		case inst == nil:
			// An indented line of a block we do not keep.
		case af != nil:
			if body == "exit-address-family" || body == "exit" {
				af = nil
				continue
			}
			if depth > subDep+1 && len(af.lines) > 0 || strings.HasPrefix(body, "exit-") {
				af.opaque = true
			}
			af.lines = append(af.lines, body)
		case opaque != nil && (depth > subDep || body == "exit"):
			*opaque = append(*opaque, line)
			if depth == subDep {
				opaque = nil
			}
		case strings.HasPrefix(body, "address-family "):
			opaque = nil
			subDep = depth
			af = inst.afIdx[body]
			if af == nil {
				af = &family{header: body}
				inst.afIdx[body] = af
				inst.afs = append(inst.afs, af)
			}
		default:
			opaque = nil
			if err := inst.addLine(body); err != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, err)
			}
			subDep = depth
			// A line that turns out to head deeper lines opens an opaque sub-block.
			if next, _, _ := strings.Cut(text, "\n"); indentOf(next) > depth && strings.TrimSpace(next) != "" && !strings.HasPrefix(strings.TrimSpace(next), "!") {
				inst.dropLast(body)
				inst.opaque = append(inst.opaque, []string{line})
				opaque = &inst.opaque[len(inst.opaque)-1]
			}
		}
	}
	return c, nil
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " \t")) }

// parseRouterBGP reads "router bgp ASN [view|vrf NAME]".
func parseRouterBGP(line string) (InstanceID, error) {
	f := strings.Fields(line)
	switch {
	case len(f) == 3:
		return InstanceID{ASN: f[2]}, nil
	case len(f) == 5 && (f[3] == "view" || f[3] == "vrf"):
		return InstanceID{ASN: f[2], Kind: f[3], Name: f[4]}, nil
	}
	// FRR 10 may add "as-notation ..." after the ASN; any other form is not ours to guess.
	if len(f) >= 5 && f[len(f)-2] == "as-notation" {
		return parseRouterBGP(strings.Join(f[:len(f)-2], " "))
	}
	return InstanceID{}, fmt.Errorf("%q: want router bgp ASN [view|vrf NAME]", MaskSecrets(line))
}

// parseRouteMapHeader reads "route-map NAME permit|deny SEQ".
func parseRouteMapHeader(line string) (*parsedRouteMapEntry, error) {
	f := strings.Fields(line)
	if len(f) != 4 || (f[2] != "permit" && f[2] != "deny") {
		return nil, fmt.Errorf("%q: want route-map NAME permit|deny SEQ", MaskSecrets(line))
	}
	seq, err := strconv.Atoi(f[3])
	if err != nil || seq < 1 || seq > 65535 {
		return nil, fmt.Errorf("%q: sequence number is not 1-65535", MaskSecrets(line))
	}
	return &parsedRouteMapEntry{name: f[1], action: f[2], seq: seq}, nil
}

// addLine files an instance-level line as a global or under its peer.
func (in *bgpInstance) addLine(body string) error {
	rest, ok := strings.CutPrefix(body, "neighbor ")
	if !ok && body != "neighbor" {
		in.globals = append(in.globals, body)
		return nil
	}
	name, attr, _ := strings.Cut(rest, " ")
	if name == "" || attr == "" {
		return fmt.Errorf("%q: neighbor line without a name or setting", MaskSecrets(body))
	}
	p := in.peerIdx[name]
	if p == nil {
		p = &peer{name: name}
		in.peerIdx[name] = p
		in.peers = append(in.peers, p)
	}
	if attr == "peer-group" {
		p.group = true
	}
	p.lines = append(p.lines, body)
	return nil
}

// dropLast removes body, the last line addLine filed, when it turns out to head a sub-block.
func (in *bgpInstance) dropLast(body string) {
	if rest, ok := strings.CutPrefix(body, "neighbor "); ok {
		name, _, _ := strings.Cut(rest, " ")
		p := in.peerIdx[name]
		p.lines = p.lines[:len(p.lines)-1]
		if len(p.lines) == 0 {
			delete(in.peerIdx, name)
			in.peers = in.peers[:len(in.peers)-1]
		}
		return
	}
	in.globals = in.globals[:len(in.globals)-1]
}
