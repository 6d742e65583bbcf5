package frrconfig

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/templates"
)

// Dialect is the FRR major version the text is written for: the few lines FRR prints
// differently between versions are rendered as that version prints them back.
type Dialect int

const (
	// FRR10 is the deploy image's FRR (10.x).
	FRR10 Dialect = iota
	// FRR8 is Debian 12's FRR 8.4.
	FRR8
)

func (d Dialect) String() string {
	if d == FRR8 {
		return "8"
	}
	return "10"
}

// ParseDialect reads an FRR version such as "10", "10.3" or "8.4".
func ParseDialect(s string) (Dialect, error) {
	major, _, _ := strings.Cut(s, ".")
	switch major {
	case "8":
		return FRR8, nil
	case "9", "10":
		return FRR10, nil
	}
	return FRR10, fmt.Errorf("FRR version %q is not supported (8.x, 9.x or 10.x)", s)
}

// Names frr-renderer gives the route-maps it owns besides the per-group outbound maps.
const (
	// RejectRouteMap denies everything: every inbound policy (Cilium installs no received
	// route) and the outbound policy of a group that advertises nothing in a family.
	RejectRouteMap = "CILIUM-REJECT"
	// OriginRouteMapPrefix + policy ID names the route-map that tags a policy's prefixes.
	OriginRouteMapPrefix = "CILIUM-ORIGIN-"
	// ibgpSuffix marks the peer-group of a PeerConfig's iBGP peers: FRR requires the
	// members of a peer-group to be all internal or all external.
	ibgpSuffix = "-IBGP"
)

// FRR's defaults under `frr defaults traditional`, which FRR does not print back.
const (
	frrRestartTime = 120
	frrPeerPort    = 179
)

// Render returns the frr.conf text and the notes about what FRR cannot express exactly.
func Render(cfg model.NodeConfig, d Dialect) ([]byte, []model.Diagnostic, error) {
	r, diags, err := renderWith(cfg, d, rendering{})
	return r.text, diags, err
}

// Renderer renders as Render does, and again faster after a small change: it copies the
// network lines of its last rendering from that text (renderNetworks). Not safe for concurrent
// use.
type Renderer struct {
	dialect Dialect
	last    rendering
}

// rendering is a rendered text and where its network lines are in it.
type rendering struct {
	text     []byte
	networks map[networksKey]*networkLines
}

// NewRenderer returns a Renderer for dialect d.
func NewRenderer(d Dialect) *Renderer { return &Renderer{dialect: d} }

// Render is Render's, for the Renderer's dialect. The text it returns must never be modified:
// the next Render copies lines from it.
func (r *Renderer) Render(cfg model.NodeConfig) ([]byte, []model.Diagnostic, error) {
	out, diags, err := renderWith(cfg, r.dialect, r.last)
	if err == nil {
		r.last = out
	}
	return out.text, diags, err
}

// renderWith renders cfg, copying the network lines last has too.
func renderWith(cfg model.NodeConfig, d Dialect, last rendering) (rendering, []model.Diagnostic, error) {
	b := newBuilder(cfg, d, last)
	v, err := b.build(cfg)
	if err != nil {
		return rendering{}, b.diags, err
	}
	var buf bytes.Buffer
	buf.Grow(4096)
	if err := tmpl.ExecuteTemplate(&buf, "frr.conf.tmpl", v); err != nil {
		return rendering{}, b.diags, fmt.Errorf("rendering frr.conf: %w", err)
	}
	text, copied, err := b.placeNetworks(buf.Bytes())
	if err == nil {
		// Copied lines passed this check in the text they come from.
		err = verify(text, copied)
	}
	if err != nil {
		return rendering{}, b.diags, fmt.Errorf("rendered frr.conf failed its check: %w", err)
	}
	return rendering{text, b.networks}, b.diags, nil
}

var tmpl = template.Must(template.New("").ParseFS(templates.FS, "*.tmpl"))

// The view model: exactly what the templates print.

type config struct {
	Node          string
	ClusterConfig string
	Notes         []string
	// Zebra are zebra's lines (next-hop tracking), before the BGP blocks.
	Zebra     []string
	Routers   []router
	RouteMaps []routeMapEntry
}

type router struct {
	ASN             uint32
	View            string
	RouterID        string
	RestartTime     uint32
	PreserveFwState bool
	Groups          []peerGroup
	Neighbors       []neighbor
	Families        []addressFamily
}

type peerGroup struct {
	Name     string
	Password string
	Port     uint16
	Multihop string
	// DisableConnectedCheck lets an eBGP session at TTL 1 start towards an address that is
	// not on a connected subnet (a ToR's loopback), as GoBGP does.
	DisableConnectedCheck bool
	Timers                string
	ConnectRetry          uint32
}

type neighbor struct {
	Address      string
	RemoteAS     string
	Group        string
	Description  string
	UpdateSource string
	// GracefulRestart is the neighbor's mode: "graceful-restart" (restarting speaker), or
	// "graceful-restart-disable" (no capability at all, as GoBGP with GR disabled).
	GracefulRestart string
	addr            netip.Addr
}

type addressFamily struct {
	Name string
	// Networks marks where the family's network lines go (networksMark): they are the bulk of
	// the file, and put in place after the template ran, without a copy through fmt.
	Networks string
	Groups   []familyGroup
}

type familyGroup struct {
	Name, In, Out string
}

type routeMapEntry struct {
	Name             string
	Action           string
	Seq              int
	MatchTag         uint32
	Communities      string
	LargeCommunities string
	LocalPreference  string
	Origin           string
	SetTag           uint32
}

func newBuilder(cfg model.NodeConfig, d Dialect, last rendering) *builder {
	return &builder{dialect: d, clusterConfig: cfg.ClusterConfig, routeMaps: map[string]routeMapEntry{}, outMaps: map[string]map[uint32]routeMapEntry{},
		originMaps: map[originKey]string{}, last: last, networks: map[networksKey]*networkLines{}}
}

func (b *builder) build(cfg model.NodeConfig) (config, error) {
	v := config{Node: oneLine(cfg.Node), ClusterConfig: oneLine(cfg.ClusterConfig)}
	views := map[string]string{}
	for i := range cfg.Instances {
		name := cfg.Instances[i].Name
		r, err := b.router(&cfg.Instances[i], i == 0)
		if err == nil && r.View != "" {
			if other, dup := views[r.View]; dup {
				// translate leaves the second out; a model built otherwise is refused whole.
				err = fmt.Errorf("FRR view %q is instance %q's already", r.View, other)
			}
			views[r.View] = name
		}
		if err != nil {
			return config{}, fmt.Errorf("instance %q: %w", name, err)
		}
		v.Routers = append(v.Routers, r)
	}
	v.Notes = append(failedNotes(cfg), listenNote(cfg)...)
	v.Zebra = zebraLines(b.dialect)
	v.RouteMaps = b.sortedRouteMaps()
	return v, nil
}

type builder struct {
	dialect       Dialect
	clusterConfig string
	// routeMaps holds the single-entry route-maps by name; outMaps the outbound maps'
	// entries by name and tag, numbered once all instances are built.
	routeMaps map[string]routeMapEntry
	outMaps   map[string]map[uint32]routeMapEntry
	// originMaps names the origin route-maps made so far (originRouteMap).
	originMaps map[originKey]string
	diags      []model.Diagnostic
	// marked are the address families whose network lines the template marks
	// (networksMark), by mark; networks those rendered, by instance and family. last is the
	// rendering before, to take unchanged lines from.
	marked   []familyNetworks
	networks map[networksKey]*networkLines
	last     rendering
}

// familyNetworks is an address family's network lines to be rendered.
type familyNetworks struct {
	key      networksKey
	prefixes []model.AdvertisedPrefix
}

// networksMark is what the template prints where the network lines of marked[i] go. A NUL
// byte never comes from the template otherwise: verify refuses any in the result.
func networksMark(i int) string { return "\x00" + strconv.Itoa(i) + "\x00" }

// placeNetworks returns the template's output with every networksMark replaced by its network
// lines, and the runs of them copied from the last rendering.
func (b *builder) placeNetworks(out []byte) ([]byte, [][2]int, error) {
	// As large as the last text (mostly network lines) with room to grow, or the template's.
	size := max(len(out), len(b.last.text))
	text := make([]byte, 0, size+size/8)
	var copied [][2]int
	for {
		i := bytes.IndexByte(out, 0)
		if i < 0 {
			return append(text, out...), copied, nil
		}
		j := bytes.IndexByte(out[i+1:], 0)
		if j < 0 {
			return nil, nil, fmt.Errorf("byte %d: a NUL byte", len(text)+i)
		}
		n, err := strconv.Atoi(string(out[i+1 : i+1+j]))
		if err != nil || n < 0 || n >= len(b.marked) {
			return nil, nil, fmt.Errorf("byte %d: a NUL byte", len(text)+i)
		}
		text = append(text, out[:i]...)
		f := b.marked[n]
		var nl *networkLines
		text, nl, copied = renderNetworks(text, b.last.text, b.last.networks[f.key], f.prefixes, b.originRouteMap, copied)
		b.networks[f.key] = nl
		out = out[i+1+j+1:]
	}
}

// networksKey is an address family of an instance.
type networksKey struct {
	instance string
	family   model.Family
}

func (b *builder) warn(field, format string, args ...any) {
	b.diags = append(b.diags, model.Diagnostic{
		Severity: model.Warning,
		Object:   model.ObjectRef{Kind: model.KindCiliumBGPClusterConfig, Name: b.clusterConfig},
		Field:    field,
		Message:  fmt.Sprintf(format, args...),
	})
}

func (b *builder) router(inst *model.Instance, first bool) (router, error) {
	r := router{ASN: inst.LocalASN, RouterID: inst.RouterID.String()}
	if !inst.RouterID.Is4() {
		return r, fmt.Errorf("router ID %v is not an IPv4 address", inst.RouterID)
	}
	// FRR has one default instance; the others are views, which never touch the RIB.
	if !first {
		r.View = model.ViewName(inst.Name)
		if r.View == "" {
			return r, errors.New("a view needs a name")
		}
	}
	b.gracefulRestart(&r, inst)

	groups := map[string]*model.PeerGroup{}
	byFRRName := map[string]string{}
	for i := range inst.PeerGroups {
		g := &inst.PeerGroups[i]
		name := PeerGroupName(g.Name)
		if other, dup := byFRRName[name]; dup && other != g.Name {
			// Only two mapped names with the same readable part and hash: never seen, but
			// merging two PeerConfigs' sessions silently would be worse than refusing.
			return r, fmt.Errorf("peer groups %q and %q both map to FRR name %q", other, g.Name, name)
		}
		byFRRName[name] = g.Name
		groups[g.Name] = g
	}
	// FRR peer-groups: one per PeerConfig and kind of session (internal or external).
	used := map[string]*model.PeerGroup{}
	for _, p := range inst.Peers {
		g, ok := groups[p.Group]
		if !ok {
			return r, fmt.Errorf("peer %q names peer group %q, which the instance does not have", p.Name, p.Group)
		}
		n, err := b.neighbor(inst, p, g)
		if err != nil {
			return r, err
		}
		used[n.Group] = g
		r.Neighbors = append(r.Neighbors, n)
	}
	names := sortedKeys(used)
	for _, name := range names {
		pg, err := b.peerGroup(name, used[name], strings.HasSuffix(name, ibgpSuffix))
		if err != nil {
			return r, err
		}
		r.Groups = append(r.Groups, pg)
	}
	// FRR lists a peer-group's members by group name, then by address.
	sort.Slice(r.Neighbors, func(i, j int) bool {
		a, c := r.Neighbors[i], r.Neighbors[j]
		if a.Group != c.Group {
			return a.Group < c.Group
		}
		return a.addr.Less(c.addr)
	})
	r.Families = b.families(inst, names, used)
	return r, nil
}

// gracefulRestart: FRR enables GR per neighbor but has one restart time per instance.
func (b *builder) gracefulRestart(r *router, inst *model.Instance) {
	var times []string
	seen := map[uint32]bool{}
	var restart uint32
	for _, g := range inst.PeerGroups {
		if !g.GracefulRestart.Enabled {
			continue
		}
		r.PreserveFwState = true
		rt := g.GracefulRestart.RestartTime
		if !seen[rt] {
			seen[rt] = true
			times = append(times, fmt.Sprintf("%q=%d", g.Name, rt))
		}
		restart = max(restart, rt)
	}
	if len(seen) > 1 {
		b.warn("spec.bgpInstances", "FRR has one graceful-restart time per instance; the peer configs of instance %q differ (%s): using %d",
			inst.Name, strings.Join(times, ", "), restart)
	}
	if restart != 0 && restart != frrRestartTime {
		r.RestartTime = restart
	}
}

func (b *builder) neighbor(inst *model.Instance, p model.Peer, g *model.PeerGroup) (neighbor, error) {
	if !p.Address.IsValid() || p.Address.Zone() != "" {
		return neighbor{}, fmt.Errorf("peer %q: address %v is not usable", p.Name, p.Address)
	}
	n := neighbor{
		Address:         p.Address.String(),
		addr:            p.Address,
		Group:           PeerGroupName(g.Name),
		Description:     description(p.Name),
		GracefulRestart: "graceful-restart-disable",
	}
	// FRR's default, helper mode, still sends the capability: a peer with GR disabled must
	// not see one (GoBGP sends none).
	if g.GracefulRestart.Enabled {
		n.GracefulRestart = "graceful-restart"
	}
	switch {
	case p.ASN == inst.LocalASN:
		n.RemoteAS = strconv.FormatUint(uint64(p.ASN), 10)
		n.Group += ibgpSuffix
	case p.ASN != 0:
		n.RemoteAS = strconv.FormatUint(uint64(p.ASN), 10)
	case b.dialect == FRR10:
		n.RemoteAS = "auto"
	default:
		// FRR 8 cannot accept any ASN: it accepts any external one.
		n.RemoteAS = "external"
		b.warn("spec.bgpInstances", "instance %q peer %q has peerASN 0: FRR 8 accepts any external ASN only (remote-as external); FRR 10 accepts any",
			inst.Name, p.Name)
	}
	if p.ASN == 0 && g.EBGPMultihop <= 1 {
		// GoBGP sets no TTL for a peer whose ASN it does not know yet: the kernel's default.
		b.warn("spec.bgpInstances", "instance %q peer %q has peerASN 0: Cilium (GoBGP) connects with the kernel's default TTL, FRR with TTL 1 to an external peer; set ebgpMultihop in its CiliumBGPPeerConfig if the peer is more than one hop away",
			inst.Name, p.Name)
	}
	if p.LocalAddress.IsValid() {
		n.UpdateSource = p.LocalAddress.String()
	}
	return n, nil
}

func (b *builder) peerGroup(name string, g *model.PeerGroup, ibgp bool) (peerGroup, error) {
	pg := peerGroup{Name: name}
	if g.Password.IsSet() {
		if why := g.Password.Unusable(); why != "" {
			return pg, fmt.Errorf("peer group %q: password %s", g.Name, why)
		}
		pg.Password = g.Password.Reveal()
	}
	if g.PeerPort != frrPeerPort && g.PeerPort != 0 {
		pg.Port = g.PeerPort
	}
	// Cilium ignores ebgpMultihop for iBGP; FRR accepts it and prints nothing back.
	if m := g.EBGPMultihop; m > 1 && !ibgp {
		pg.Multihop = "ebgp-multihop " + strconv.Itoa(int(m))
		// FRR 10 prints the maximum TTL as the bare keyword (FRR #14242).
		if m == 255 && b.dialect == FRR10 {
			pg.Multihop = "ebgp-multihop"
		}
	}
	// GoBGP connects through the kernel with TTL 1 to a single-hop eBGP peer, wherever its
	// address is; FRR waits for the address to be on a connected subnet unless told not to.
	pg.DisableConnectedCheck = !ibgp && g.EBGPMultihop <= 1
	// Timers are always explicit: FRR's defaults differ from Cilium's and between FRR
	// versions (connect retry is 120 s on 8.4, 30 s on 10.3), and FRR prints an explicitly
	// set timer back whatever its value.
	pg.Timers = fmt.Sprintf("%d %d", g.Timers.Keepalive, g.Timers.Hold)
	pg.ConnectRetry = g.Timers.ConnectRetry
	return pg, nil
}

// originRouteMaps makes the origin route-maps of the instance's prefixes, before the template
// prints the route-maps.
func (b *builder) originRouteMaps(inst *model.Instance) {
	var last originKey
	for i := range inst.Prefixes {
		p := &inst.Prefixes[i]
		// Consecutive prefixes mostly share their route-map: one lookup per run.
		if k := (originKey{p.Policy, p.OriginIncomplete}); k != last || i == 0 {
			b.originRouteMap(k)
			last = k
		}
	}
}

// families renders one address-family block per family some group negotiates.
func (b *builder) families(inst *model.Instance, groups []string, byName map[string]*model.PeerGroup) []addressFamily {
	policies := map[uint32]*model.ExportPolicy{}
	for i := range inst.Policies {
		policies[inst.Policies[i].ID] = &inst.Policies[i]
	}
	var out []addressFamily
	b.originRouteMaps(inst)
	v4, v6 := familyPrefixes(inst.Prefixes)
	for f, fam := range []model.Family{model.IPv4Unicast, model.IPv6Unicast} {
		af := addressFamily{Name: fam.AFI + " " + fam.SAFI}
		prefixes := v4
		if f == 1 {
			prefixes = v6
		}
		af.Networks = networksMark(len(b.marked))
		b.marked = append(b.marked, familyNetworks{networksKey{inst.Name, fam}, prefixes})
		for _, name := range groups {
			g := byName[name]
			if !hasFamily(g, fam) {
				continue
			}
			af.Groups = append(af.Groups, familyGroup{Name: name, In: b.reject(), Out: b.outRouteMap(g, fam, inst.Policies)})
		}
		if len(af.Groups) > 0 {
			out = append(out, af)
		}
	}
	return out
}

func hasFamily(g *model.PeerGroup, fam model.Family) bool {
	for _, f := range g.Families {
		if f == fam {
			return true
		}
	}
	return false
}

func (b *builder) reject() string {
	b.routeMaps[RejectRouteMap] = routeMapEntry{Name: RejectRouteMap, Action: "deny", Seq: 10}
	return RejectRouteMap
}

// originKey is what an origin route-map sets: the policy's tag, and the ORIGIN attribute.
type originKey struct {
	policy     uint32
	incomplete bool
}

// originRouteMap names the route-map of a network statement: CILIUM-ORIGIN-<policy>, with
// -INCOMPLETE for the legacy ORIGIN.
func (b *builder) originRouteMap(k originKey) string {
	if name, ok := b.originMaps[k]; ok {
		return name
	}
	name := OriginRouteMapPrefix + strconv.FormatUint(uint64(k.policy), 10)
	e := routeMapEntry{Action: "permit", Seq: 10, SetTag: k.policy}
	if k.incomplete {
		name += "-INCOMPLETE"
		e.Origin = "incomplete"
	}
	e.Name = name
	b.routeMaps[name] = e
	b.originMaps[k] = name
	return name
}

// outRouteMap returns the group's outbound route-map for a family: one entry per export
// policy it receives. Groups sharing a PeerConfig share it, across instances too: the same
// PeerConfig selects the same rules, so the entries agree.
func (b *builder) outRouteMap(g *model.PeerGroup, fam model.Family, policies []model.ExportPolicy) string {
	name := PeerGroupName(g.Name) + "-" + fam.AFI + "-out"
	var entries []routeMapEntry
	for _, pol := range policies {
		if pol.Family != fam {
			continue
		}
		for _, ex := range pol.Exports {
			if ex.PeerGroup != g.Name {
				continue
			}
			e := routeMapEntry{Name: name, Action: "permit", MatchTag: pol.ID}
			e.Communities = communities(ex.Communities, b.dialect)
			e.LargeCommunities = largeCommunities(ex.LargeCommunities)
			if ex.LocalPreference != nil {
				e.LocalPreference = strconv.FormatUint(uint64(*ex.LocalPreference), 10)
			}
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return b.reject()
	}
	if b.outMaps[name] == nil {
		b.outMaps[name] = map[uint32]routeMapEntry{}
	}
	for _, e := range entries {
		b.outMaps[name][e.MatchTag] = e
	}
	return name
}

// assignSeqs numbers a route-map's entries from their tags, so that an entry keeps its
// number while others come and go: the entries match disjoint tags, their order is free.
func assignSeqs(entries []routeMapEntry) []routeMapEntry {
	sort.Slice(entries, func(i, j int) bool { return entries[i].MatchTag < entries[j].MatchTag })
	taken := map[int]bool{}
	for i := range entries {
		seq := 1 + int(entries[i].MatchTag%65535)
		for taken[seq] {
			seq = seq%65535 + 1
		}
		taken[seq] = true
		entries[i].Seq = seq
	}
	return entries
}

func (b *builder) sortedRouteMaps() []routeMapEntry {
	out := make([]routeMapEntry, 0, len(b.routeMaps))
	for _, e := range b.routeMaps {
		out = append(out, e)
	}
	for _, byTag := range b.outMaps {
		entries := make([]routeMapEntry, 0, len(byTag))
		for _, e := range byTag {
			entries = append(entries, e)
		}
		out = append(out, assignSeqs(entries)...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Seq < out[j].Seq
	})
	return out
}

// ZebraLines are zebra's lines every rendering holds for FRR 8: BGP's next hops, the peers'
// addresses among them, resolve over the default route, as GoBGP's connections do through the
// kernel (a multihop peer reached by the default route, a ToR's loopback). FRR 10 does so by
// default (its traditional profile), and prints nothing for it.
var zebraLinesFRR8 = []string{"ip nht resolve-via-default", "ipv6 nht resolve-via-default"}

func zebraLines(d Dialect) []string {
	if d == FRR8 {
		return zebraLinesFRR8
	}
	return nil
}

// failedNotes say, in the file itself, which instances are missing from it and why not.
func failedNotes(cfg model.NodeConfig) []string {
	var notes []string
	for _, name := range cfg.FailedInstances {
		notes = append(notes, fmt.Sprintf("BGP instance %q is NOT configured: its input has errors (the diagnostics name them).", oneLine(name)))
	}
	return notes
}

// listenNote records the listening port, which FRR sets per daemon (bgpd -p), not in
// frr.conf.
func listenNote(cfg model.NodeConfig) []string {
	var ports []string
	for _, inst := range cfg.Instances {
		if inst.ListenPort != 0 {
			ports = append(ports, fmt.Sprintf("%s=%d", oneLine(inst.Name), inst.ListenPort))
		}
	}
	if len(ports) == 0 {
		return []string{"No instance sets localPort: bgpd should run with -p 0 (no listener)."}
	}
	return []string{"Listening ports (bgpd -p): " + strings.Join(ports, ", ") + "."}
}

// wellKnownNames are the communities FRR prints by name. FRR 10 prints 0:0 as a number.
var wellKnownNames = map[model.Community]string{
	0xffff0000: "graceful-shutdown",
	0xffff0001: "accept-own",
	0xffff0002: "route-filter-translated-v4",
	0xffff0003: "route-filter-v4",
	0xffff0004: "route-filter-translated-v6",
	0xffff0005: "route-filter-v6",
	0xffff0006: "llgr-stale",
	0xffff0007: "no-llgr",
	0xffff029a: "blackhole",
	0xffffff01: "no-export",
	0xffffff02: "no-advertise",
	0xffffff03: "local-AS",
	0xffffff04: "no-peer",
}

// communities spells a sorted community list as FRR prints it back.
func communities(cs []model.Community, d Dialect) string {
	sorted := append([]model.Community(nil), cs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	parts := make([]string, 0, len(sorted))
	for _, c := range sorted {
		switch name, ok := wellKnownNames[c]; {
		case ok:
			parts = append(parts, name)
		case c == 0 && d == FRR8:
			parts = append(parts, "internet")
		default:
			parts = append(parts, c.String())
		}
	}
	return strings.Join(parts, " ")
}

func largeCommunities(cs []model.LargeCommunity) string {
	sorted := append([]model.LargeCommunity(nil), cs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Less(sorted[j]) })
	parts := make([]string, 0, len(sorted))
	for _, c := range sorted {
		parts = append(parts, c.String())
	}
	return strings.Join(parts, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Checks on every string that reaches FRR.

var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// PeerGroupName returns the FRR name of a model peer group (a CiliumBGPPeerConfig's name, or
// DefaultsGroup), from which its peer-groups and outbound route-maps are named. A Kubernetes
// object name that is not an IP address is used as it is. Any other name (an object named
// 10.0.0.1, which `neighbor 10.0.0.1 peer-group` would take for a neighbor; a name from a
// manifest no API server checked) is mapped, never refused (model.MappedName). Those used as
// they are never hold '_', mapped ones always: the two never meet.
func PeerGroupName(name string) string {
	if name == model.DefaultsGroup {
		return name
	}
	if len(name) <= 253 && dnsSubdomain.MatchString(name) {
		if _, err := netip.ParseAddr(name); err != nil {
			return name
		}
	}
	return model.MappedName(name)
}

// description makes a peer's name safe as an FRR description: printable ASCII without
// spaces (FRR folds runs of spaces), at most 80 characters.
func description(name string) string {
	var b strings.Builder
	for i := 0; i < len(name) && b.Len() < 80; i++ {
		c := name[i]
		if c <= ' ' || c > '~' {
			c = '_'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// oneLine keeps a value that only goes into a comment on one line of printable ASCII.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '_'
		}
		return r
	}, s)
}
