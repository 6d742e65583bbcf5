package vtysh

// This file reads bgpd's routes for `frr-renderer routes`: what bgpd has (the Loc-RIB, Cilium's
// "available") and what it advertises to each peer (Cilium's "advertised"), with their
// attributes, through the vty socket. It is an operator's query, not a hot path: it sends a
// command per prefix.
//
// What FRR 8.4 and 10.3 print, as measured (see routes_frr_test.go):
//
//   - `show bgp [view V] AFI unicast json` is the table: per prefix, its paths with next hops and
//     the AS path as a string, but no community, large community, local preference or age (on
//     either version; 10.3 has a `detail json` form, 8.4 not).
//   - `show bgp [view V] AFI unicast PREFIX json` has everything of one prefix's paths:
//     "aspath", "origin", "locPrf", "community", "largeCommunity", "tag", "lastUpdate", "nexthops",
//     "bestpath".
//   - `show bgp [view V] AFI unicast neighbors ADDR advertised-routes json` lists the prefixes
//     bgpd sends the peer (after the outbound policy decided which), but with the attributes of
//     bgpd's own path, before the outbound route-map set communities and local preference.
//
// So an advertised route is shown as it goes on the wire: its path's attributes, with bgpd's own
// address as next hop (for its own routes, and to an eBGP peer), its AS prepended for an eBGP
// peer, and what the neighbor's outbound route-map (in bgpd's own running configuration) sets: frr-renderer's maps match the
// route tag and set communities, large communities and local preference. An entry that matches
// on something else, or uses `on-match`/`continue`, cannot be evaluated here: the route is then
// marked Unresolved.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
)

// Route is one path of one prefix, as bgpd has it or as it advertises it to a peer.
type Route struct {
	// View is the BGP instance ("" for the default instance), LocalAS its AS.
	View    string
	LocalAS uint32
	Prefix  netip.Prefix
	AFI     string // "ipv4", "ipv6"
	SAFI    string // "unicast"
	// Peer is the neighbor the route is advertised to; invalid for an available route.
	Peer netip.Addr
	// NextHop is the path's next hop as bgpd prints it (0.0.0.0 or :: for a local route).
	NextHop string
	// LastUpdate is when bgpd last changed the path; zero when unknown.
	LastUpdate time.Time
	Best       bool
	// ASPath is the AS path as bgpd prints it ("" for a local path).
	ASPath string
	Origin string // IGP, EGP, incomplete
	// Communities and LargeCommunities are in FRR's notation (65000:100, no-export, 65000:1:2).
	Communities      []string
	LargeCommunities []string
	// LocalPref is set when the path has one (iBGP, or set by a route-map).
	LocalPref *uint32
	// Tag is the route tag (frr-renderer's export policy ID for what it originates).
	Tag uint32
	// Unresolved says why the outbound policy's attributes could not be worked out; "" when
	// they were (or for an available route).
	Unresolved string
}

// AvailableRoutes reads bgpd's table of one address family in a view ("" is the default
// instance): every path of every prefix, sorted by prefix.
func (c *Client) AvailableRoutes(ctx context.Context, view, afi string) ([]Route, error) {
	cmd := showBGP(view, afi) + " json"
	out, err := c.Exec(ctx, cmd)
	if err != nil {
		return nil, err
	}
	var table struct {
		LocalAS asNumber                   `json:"localAS"`
		Routes  map[string]json.RawMessage `json:"routes"`
	}
	if err := json.Unmarshal([]byte(out), &table); err != nil {
		return nil, fmt.Errorf("vty %s: %q: malformed reply: %v", c.path, cmd, err)
	}
	prefixes, err := sortedPrefixes(table.Routes)
	if err != nil {
		return nil, fmt.Errorf("vty %s: %q: %v", c.path, cmd, err)
	}
	var routes []Route
	for _, p := range prefixes {
		paths, err := c.prefixPaths(ctx, view, afi, p)
		if err != nil {
			return nil, err
		}
		for i := range paths {
			paths[i].LocalAS = uint32(table.LocalAS)
		}
		routes = append(routes, paths...)
	}
	return routes, nil
}

// AdvertisedRoutes reads what bgpd advertises to peer in one address family of a view, sorted
// by prefix: the best path of each prefix, as it goes on the wire (see the file's comment).
func (c *Client) AdvertisedRoutes(ctx context.Context, view, afi string, peer netip.Addr) ([]Route, error) {
	cmd := fmt.Sprintf("%s neighbors %s advertised-routes json", showBGP(view, afi), peer)
	out, err := c.Exec(ctx, cmd)
	if err != nil {
		return nil, err
	}
	var adv struct {
		LocalAS asNumber                   `json:"localAS"`
		Routes  map[string]json.RawMessage `json:"advertisedRoutes"`
	}
	if err := json.Unmarshal([]byte(out), &adv); err != nil {
		return nil, fmt.Errorf("vty %s: %q: malformed reply: %v", c.path, cmd, err)
	}
	prefixes, err := sortedPrefixes(adv.Routes)
	if err != nil {
		return nil, fmt.Errorf("vty %s: %q: %v", c.path, cmd, err)
	}
	if len(prefixes) == 0 {
		return nil, nil
	}
	policy, err := c.outboundPolicy(ctx, view, afi, peer)
	if err != nil {
		return nil, err
	}
	var routes []Route
	for _, p := range prefixes {
		paths, err := c.prefixPaths(ctx, view, afi, p)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(paths, func(r Route) bool { return r.Best })
		if i < 0 {
			continue // withdrawn between the two commands
		}
		r := paths[i]
		r.Peer, r.LocalAS = peer, uint32(adv.LocalAS)
		policy.apply(&r)
		routes = append(routes, r)
	}
	return routes, nil
}

// showBGP is the start of a show command for an address family of a view.
func showBGP(view, afi string) string {
	if view == "" {
		return "show bgp " + afi + " unicast"
	}
	return "show bgp view " + view + " " + afi + " unicast"
}

func sortedPrefixes[T any](m map[string]T) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(m))
	for k := range m {
		p, err := netip.ParsePrefix(k)
		if err != nil {
			return nil, fmt.Errorf("prefix %q: %v", k, err)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return out, nil
}

// pathJSON is what prefixPaths reads of one path of `show bgp ... PREFIX json`.
type pathJSON struct {
	ASPath struct {
		String string `json:"string"`
	} `json:"aspath"`
	Origin    string  `json:"origin"`
	LocalPref *uint32 `json:"locPrf"`
	Community *struct {
		List []string `json:"list"`
	} `json:"community"`
	LargeCommunity *struct {
		List []string `json:"list"`
	} `json:"largeCommunity"`
	Tag        uint32 `json:"tag"`
	LastUpdate struct {
		Epoch int64 `json:"epoch"`
	} `json:"lastUpdate"`
	Nexthops []struct {
		IP string `json:"ip"`
	} `json:"nexthops"`
	Bestpath *struct {
		Overall bool `json:"overall"`
	} `json:"bestpath"`
}

// prefixPaths reads every path of one prefix.
func (c *Client) prefixPaths(ctx context.Context, view, afi string, p netip.Prefix) ([]Route, error) {
	cmd := fmt.Sprintf("%s %s json", showBGP(view, afi), p)
	out, err := c.Exec(ctx, cmd)
	if err != nil {
		return nil, err
	}
	var detail struct {
		Paths []pathJSON `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &detail); err != nil {
		return nil, fmt.Errorf("vty %s: %q: malformed reply: %v", c.path, cmd, err)
	}
	routes := make([]Route, 0, len(detail.Paths))
	for _, pj := range detail.Paths {
		routes = append(routes, pj.route(view, afi, p))
	}
	return routes, nil
}

func (pj *pathJSON) route(view, afi string, p netip.Prefix) Route {
	r := Route{View: view, Prefix: p, AFI: afi, SAFI: "unicast", Origin: pj.Origin, Tag: pj.Tag, LocalPref: pj.LocalPref}
	// bgpd prints "Local" for a path without AS (8.4 and 10.3 alike).
	if pj.ASPath.String != "Local" {
		r.ASPath = pj.ASPath.String
	}
	if pj.Community != nil {
		r.Communities = pj.Community.List
	}
	if pj.LargeCommunity != nil {
		r.LargeCommunities = pj.LargeCommunity.List
	}
	if pj.LastUpdate.Epoch > 0 {
		r.LastUpdate = time.Unix(pj.LastUpdate.Epoch, 0)
	}
	if len(pj.Nexthops) > 0 {
		r.NextHop = pj.Nexthops[0].IP
	}
	r.Best = pj.Bestpath != nil && pj.Bestpath.Overall
	return r
}

// outboundPolicy is a neighbor's outbound route-map as bgpd runs it, and whether the peer is
// iBGP (only iBGP peers receive LOCAL_PREF).
type outboundPolicy struct {
	name     string
	entries  []frrconfig.RouteMapEntry // sorted by seq; nil when the map does not exist
	internal bool
	localAS  uint32
	// nextHop4 and nextHop6 are the session's own addresses, the next hop bgpd sends for its own
	// routes (and for every route to an eBGP peer).
	nextHop4, nextHop6 string
}

// outboundPolicy reads the neighbor's outbound route-map name and session kind, and the
// route-map from bgpd's own running configuration.
func (c *Client) outboundPolicy(ctx context.Context, view, afi string, peer netip.Addr) (outboundPolicy, error) {
	show := "show bgp neighbors " + peer.String() + " json"
	if view != "" {
		show = "show bgp view " + view + " neighbors " + peer.String() + " json"
	}
	out, err := c.Exec(ctx, show)
	if err != nil {
		return outboundPolicy{}, err
	}
	var nbrs map[string]struct {
		Internal      bool     `json:"nbrInternalLink"`
		LocalAS       asNumber `json:"localAs"`
		NextHop       string   `json:"nexthop"`
		NextHopGlobal string   `json:"nexthopGlobal"`
		Families      map[string]struct {
			RouteMapOut string `json:"routeMapForOutgoingAdvertisements"`
		} `json:"addressFamilyInfo"`
	}
	if err := json.Unmarshal([]byte(out), &nbrs); err != nil {
		return outboundPolicy{}, fmt.Errorf("vty %s: %q: malformed reply: %v", c.path, show, err)
	}
	n, ok := nbrs[peer.String()]
	if !ok {
		return outboundPolicy{}, fmt.Errorf("vty %s: %q: no neighbor %s", c.path, show, peer)
	}
	pol := outboundPolicy{internal: n.Internal, localAS: uint32(n.LocalAS), nextHop4: n.NextHop, nextHop6: n.NextHopGlobal}
	for key, f := range n.Families {
		if a, s := familyOf(key); a == afi && s == "unicast" {
			pol.name = f.RouteMapOut
		}
	}
	if pol.name == "" {
		return pol, nil
	}
	text, err := c.Exec(ctx, "show running-config")
	if err != nil {
		return pol, err
	}
	cfg, err := frrconfig.Parse(text)
	if err != nil {
		return pol, fmt.Errorf("parsing bgpd's running configuration: %w", err)
	}
	pol.entries = cfg.RouteMap(pol.name)
	return pol, nil
}

// apply makes r what goes on the wire to the peer: the next hop bgpd sends (its own address
// for its own routes, and to an eBGP peer), its AS prepended for an eBGP peer, and what the
// route-map sets (the first entry that matches decides).
func (pol outboundPolicy) apply(r *Route) {
	nh := pol.nextHop4
	if r.AFI == "ipv6" {
		nh = pol.nextHop6
	}
	if a, err := netip.ParseAddr(r.NextHop); nh != "" && (!pol.internal || err != nil || a.IsUnspecified()) {
		r.NextHop = nh
	}
	if !pol.internal && pol.localAS != 0 {
		r.ASPath = strings.TrimSpace(strconv.FormatUint(uint64(pol.localAS), 10) + " " + r.ASPath)
	}
	if pol.name == "" {
		return
	}
	if len(pol.entries) == 0 {
		r.Unresolved = fmt.Sprintf("route-map %s does not exist", pol.name)
		return
	}
	for _, e := range pol.entries {
		matches, why := matchesTag(e, r.Tag)
		if why != "" {
			r.Unresolved = why
			return
		}
		if !matches {
			continue
		}
		if e.Action != "permit" {
			r.Unresolved = fmt.Sprintf("route-map %s entry %d denies it", e.Name, e.Seq)
			return
		}
		for _, l := range e.Lines {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			switch {
			case len(f) >= 3 && f[0] == "set" && f[1] == "community":
				vals := f[2:]
				if vals[len(vals)-1] == "additive" {
					vals = append(r.Communities, vals[:len(vals)-1]...)
				}
				r.Communities = slices.Clone(vals)
			case len(f) >= 3 && f[0] == "set" && f[1] == "large-community":
				vals := f[2:]
				if vals[len(vals)-1] == "additive" {
					vals = append(r.LargeCommunities, vals[:len(vals)-1]...)
				}
				r.LargeCommunities = slices.Clone(vals)
			case len(f) == 3 && f[0] == "set" && f[1] == "local-preference":
				if v, err := strconv.ParseUint(f[2], 10, 32); err == nil {
					lp := uint32(v)
					r.LocalPref = &lp
				}
			case f[0] == "match", f[0] == "set" && f[1] == "tag", f[0] == "set" && f[1] == "large-comm-list":
			default:
				r.Unresolved = fmt.Sprintf("route-map %s entry %d: %q is not evaluated here", e.Name, e.Seq, l)
			}
		}
		if !pol.internal {
			r.LocalPref = nil // LOCAL_PREF is never sent to an eBGP peer
		}
		return
	}
	r.Unresolved = fmt.Sprintf("no entry of route-map %s matches it", pol.name)
}

// matchesTag tells whether the entry matches a route of tag, or why that cannot be told.
func matchesTag(e frrconfig.RouteMapEntry, tag uint32) (bool, string) {
	matches := true
	for _, l := range e.Lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch {
		case len(f) == 3 && f[0] == "match" && f[1] == "tag":
			matches = matches && f[2] == strconv.FormatUint(uint64(tag), 10)
		case f[0] == "match", f[0] == "on-match", f[0] == "continue", f[0] == "call":
			return false, fmt.Sprintf("route-map %s entry %d: %q is not evaluated here", e.Name, e.Seq, l)
		}
	}
	return matches, ""
}
