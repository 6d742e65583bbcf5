package frrconfig

import (
	"strings"
)

// Effect is what applying a configuration line does to established BGP sessions.
type Effect int

const (
	// NoReset: the change applies to running sessions (policy changes are re-evaluated with
	// route refresh / outbound re-advertisement), or only to the next session (timers).
	NoReset Effect = iota
	// Resets: FRR tears down the sessions the line applies to (every peer of the instance, of
	// the group, or the neighbor) and lets them re-establish. Unavoidable for that change.
	Resets
	// AfterReset: FRR keeps the session and prints "Graceful restart configuration changed,
	// reset ... to take effect": the change acts only from the next session on.
	AfterReset
)

func (e Effect) String() string {
	switch e {
	case Resets:
		return "resets sessions"
	case AfterReset:
		return "acts after the next reset"
	}
	return "no reset"
}

// Scope is where a line lives.
type Scope int

const (
	// TopScope is configure terminal itself: `router bgp`, `route-map`.
	TopScope Scope = iota
	// InstanceScope is a `router bgp` block's own lines.
	InstanceScope
	// FamilyScope is an address-family sub-block.
	FamilyScope
	// RouteMapScope is a route-map entry.
	RouteMapScope
)

// Rule is how one kind of line frr-renderer renders is changed and removed, found on FRR
// 8.4.4 and 10.3 (TestRulesOnFRR checks every No form and overwrite on both).
//
// Patterns are words: a lowercase word is literal ("in|out" is either), an UPPERCASE word
// names the object the line configures (it is part of Key), a word starting with "=" is the
// line's value ("=TEXT..." takes the rest of the line, "[=X]" may be absent).
type Rule struct {
	Scope Scope
	// Line is the line's form.
	Line string
	// Key is what the line sets: two lines with the same key are one setting, and the new line
	// replaces the old one by itself (FRR overwrites) unless Recreate is set.
	Key string
	// No is the line that removes the setting; it may use Line's words.
	No string
	// Effect on established sessions when the line is sent to change or remove a setting.
	Effect Effect
	// Recreate: a changed value cannot be sent as an overwrite; the object is deleted and
	// configured anew.
	Recreate bool
	// Negotiated: the setting is exchanged in OPEN (timers, the graceful-restart capability),
	// so an established session keeps the old value until it is reset; where FRR does not
	// reset it itself, the applier does (see NegotiatedResets).
	Negotiated bool
	// Why records what was found on FRR.
	Why string
}

// Rules lists every line frr-renderer renders. Lines of its instances and route-maps that match
// no rule (an operator's addition) are removed with "no " + the line (or the line without its
// leading "no ") and their key is the line itself.
var Rules = []Rule{
	// Instances and route-map entries (handled by Delta itself, listed for the record).
	{Scope: TopScope, Line: "router bgp =ASN", Key: "router bgp", No: "no router bgp =ASN", Effect: Resets, Recreate: true,
		Why: "another ASN for the default instance is refused (8.4: \"BGP is already running; AS is A\"; 10.3: \"BGP instance name and AS number mismatch\"): delete and re-create. Deleting the default instance works while views exist."},
	{Scope: TopScope, Line: "router bgp =ASN view NAME", Key: "router bgp view NAME", No: "no router bgp =ASN vrf NAME", Effect: Resets, Recreate: true,
		Why: "10.3 refuses `no router bgp ASN view NAME` (\"Can't find BGP instance\"); the vrf form deletes the view on 8.4 and 10.3. Another ASN: delete and re-create."},
	{Scope: TopScope, Line: "router bgp =ASN vrf NAME", Key: "router bgp vrf NAME", No: "no router bgp =ASN vrf NAME", Effect: Resets, Recreate: true},
	{Scope: TopScope, Line: "route-map NAME =ACTION SEQ", Key: "route-map NAME SEQ", No: "no route-map NAME =ACTION SEQ",
		Why: "`route-map N deny S` over `permit S` changes the action in place and keeps the entry's lines (both versions). `no route-map N` deletes every entry. A route-map referenced before it exists only warns; a referenced route-map that is deleted denies everything, so entries are deleted last."},

	// Instance globals.
	{Scope: InstanceScope, Line: "bgp router-id =ID", Key: "bgp router-id", No: "no bgp router-id", Effect: Resets,
		Why: "overwrites; every session of the instance is reset."},
	{Scope: InstanceScope, Line: "no bgp default ipv4-unicast", Key: "bgp default ipv4-unicast", No: "bgp default ipv4-unicast"},
	{Scope: InstanceScope, Line: "coalesce-time =MS", Key: "coalesce-time", No: "no coalesce-time =MS",
		Why: "overwrites; 8.4 refuses `no coalesce-time` without the value (\"Command incomplete\"). Acts on the next subgroup made (a session coming up), never resets one."},
	{Scope: InstanceScope, Line: "bgp graceful-restart restart-time =SECONDS", Key: "bgp graceful-restart restart-time", No: "no bgp graceful-restart restart-time", Effect: AfterReset, Negotiated: true,
		Why: "overwrites; prints \"reset all peers to take effect\"."},
	{Scope: InstanceScope, Line: "bgp graceful-restart preserve-fw-state", Key: "bgp graceful-restart preserve-fw-state", No: "no bgp graceful-restart preserve-fw-state", Effect: AfterReset, Negotiated: true},
	{Scope: InstanceScope, Line: "no bgp network import-check", Key: "bgp network import-check", No: "bgp network import-check"},

	// Peer-groups and neighbors.
	{Scope: InstanceScope, Line: "neighbor PEER peer-group", Key: "neighbor PEER peer-group", No: "no neighbor PEER peer-group", Effect: Resets,
		Why: "deleting a peer-group deletes its members too (both versions): members are deleted first, explicitly."},
	{Scope: InstanceScope, Line: "neighbor PEER remote-as =AS", Key: "neighbor PEER remote-as", No: "no neighbor PEER", Effect: Resets, Recreate: true,
		Why: "an external ASN (or external) overwrites another external one; crossing internal/external fails (\"Peer-group members must be all internal or all external\") and so does a change to or from auto (10.3): the neighbor is deleted and re-created. Needed before the neighbor joins its group."},
	{Scope: InstanceScope, Line: "neighbor PEER peer-group =GROUP", Key: "neighbor PEER member", No: "no neighbor PEER", Effect: Resets, Recreate: true,
		Why: "moving a member fails (\"Cannot change the peer-group. Deconfigure first\") and `no neighbor X peer-group G` deletes the neighbor: delete and re-create it."},
	{Scope: InstanceScope, Line: "neighbor PEER password =SECRET", Key: "neighbor PEER password", No: "no neighbor PEER password", Effect: Resets,
		Why: "overwrites; a new TCP MD5 key resets the sessions (unavoidable)."},
	{Scope: InstanceScope, Line: "neighbor PEER port =PORT", Key: "neighbor PEER port", No: "no neighbor PEER port", Effect: Resets},
	{Scope: InstanceScope, Line: "neighbor PEER ebgp-multihop [=HOPS]", Key: "neighbor PEER ebgp-multihop", No: "no neighbor PEER ebgp-multihop", Effect: Resets,
		Why: "10.3 prints 255 as the bare keyword (FRR #14242); the renderer writes it so."},
	{Scope: InstanceScope, Line: "neighbor PEER timers connect =SECONDS", Key: "neighbor PEER timers connect", No: "no neighbor PEER timers connect"},
	{Scope: InstanceScope, Line: "neighbor PEER timers =KEEPALIVE =HOLD", Key: "neighbor PEER timers", No: "no neighbor PEER timers", Negotiated: true,
		Why: "overwrites; the new timers are negotiated at the next session."},
	{Scope: InstanceScope, Line: "neighbor PEER description =TEXT...", Key: "neighbor PEER description", No: "no neighbor PEER description"},
	{Scope: InstanceScope, Line: "neighbor PEER update-source =SOURCE", Key: "neighbor PEER update-source", No: "no neighbor PEER update-source", Effect: Resets},
	{Scope: InstanceScope, Line: "neighbor PEER disable-connected-check", Key: "neighbor PEER disable-connected-check", No: "no neighbor PEER disable-connected-check", Effect: Resets,
		Why: "setting or removing it resets the group's sessions (8.4 and 10.3, measured)."},
	{Scope: InstanceScope, Line: "neighbor PEER graceful-restart", Key: "neighbor PEER graceful-restart mode", No: "no neighbor PEER graceful-restart", Effect: Resets, Negotiated: true,
		Why: "10.3 resets the session when a neighbor's graceful-restart mode changes, either way; 8.4 keeps it and prints \"reset this peer to take effect\" (measured), and the applier resets it. Sent only when it changes: re-issuing it fails on 8.4 (\"The Graceful Restart command used is not valid at this moment\", which stops a vtysh -c batch); 10.3 accepts it. One mode replaces the other (graceful-restart-disable): one key."},
	{Scope: InstanceScope, Line: "neighbor PEER graceful-restart-disable", Key: "neighbor PEER graceful-restart mode", No: "no neighbor PEER graceful-restart-disable", Effect: Resets, Negotiated: true,
		Why: "the mode that sends no GR capability at all (GoBGP with GR disabled); FRR's default, helper, sends one. Replaces graceful-restart in place, and the other way round; same resets and re-issue failure as graceful-restart."},

	// Address families.
	{Scope: FamilyScope, Line: "network PREFIX route-map =RMAP", Key: "network PREFIX", No: "no network PREFIX",
		Why: "`network P route-map B` replaces `network P route-map A` directly, without a withdrawal."},
	{Scope: FamilyScope, Line: "network PREFIX", Key: "network PREFIX", No: "no network PREFIX"},
	{Scope: FamilyScope, Line: "neighbor PEER activate", Key: "neighbor PEER activate", No: "no neighbor PEER activate", Effect: Resets,
		Why: "a family is a capability negotiated at OPEN: (de)activating one resets the sessions."},
	{Scope: FamilyScope, Line: "neighbor PEER route-map =RMAP in|out", Key: "neighbor PEER route-map in|out", No: "no neighbor PEER route-map =RMAP in|out",
		Why: "overwrites; the no form needs the bound route-map's name (\"Command incomplete\" without it)."},

	// Route-map entries: every set/match overwrites its predecessor.
	{Scope: RouteMapScope, Line: "match tag =TAG", Key: "match tag", No: "no match tag"},
	{Scope: RouteMapScope, Line: "set community =COMMUNITIES...", Key: "set community", No: "no set community"},
	{Scope: RouteMapScope, Line: "set large-community =COMMUNITIES...", Key: "set large-community", No: "no set large-community"},
	{Scope: RouteMapScope, Line: "set local-preference =PREF", Key: "set local-preference", No: "no set local-preference"},
	{Scope: RouteMapScope, Line: "set origin =ORIGIN", Key: "set origin", No: "no set origin"},
	{Scope: RouteMapScope, Line: "set tag =TAG", Key: "set tag", No: "no set tag"},
}

// compiled rules by scope and first word.
type compiledRule struct {
	*Rule
	line, key, no []string
}

var allRules = func() []compiledRule {
	var all []compiledRule
	for i := range Rules {
		r := &Rules[i]
		all = append(all, compiledRule{Rule: r, line: strings.Fields(r.Line), key: strings.Fields(r.Key), no: strings.Fields(r.No)})
	}
	return all
}()

var rulesByFirst = func() map[Scope]map[string][]compiledRule {
	m := map[Scope]map[string][]compiledRule{}
	for _, c := range allRules {
		r := c.Rule
		if m[r.Scope] == nil {
			m[r.Scope] = map[string][]compiledRule{}
		}
		m[r.Scope][c.line[0]] = append(m[r.Scope][c.line[0]], c)
	}
	return m
}()

// match binds a line's words to a rule's pattern.
func (c compiledRule) match(words []string) (map[string]string, bool) {
	b := map[string]string{}
	i := 0
	for _, p := range c.line {
		switch {
		case strings.HasPrefix(p, "[="):
			if i < len(words) {
				b[p[1:len(p)-1]] = words[i]
				i++
			}
		case strings.HasSuffix(p, "...") && p[0] == '=':
			if i >= len(words) {
				return nil, false
			}
			b[p] = strings.Join(words[i:], " ")
			i = len(words)
		case i >= len(words):
			return nil, false
		case p[0] == '=' || isUpper(p):
			b[p] = words[i]
			i++
		case strings.Contains(p, "|"):
			if !containsWord(strings.Split(p, "|"), words[i]) {
				return nil, false
			}
			b[p] = words[i]
			i++
		default:
			if p != words[i] {
				return nil, false
			}
			i++
		}
	}
	return b, i == len(words)
}

// fill writes a pattern with a line's bindings.
func fill(pattern []string, b map[string]string) string {
	out := make([]string, 0, len(pattern))
	for _, p := range pattern {
		if v, ok := b[p]; ok {
			out = append(out, v)
		} else if p[0] != '[' {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

func isUpper(w string) bool {
	for _, r := range w {
		if (r < 'A' || r > 'Z') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

func containsWord(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// classify returns the rule a line matches (nil for none) and its key and no form.
func classify(s Scope, line string) (r *Rule, key, no string) {
	words := strings.Fields(line)
	if len(words) == 0 {
		return nil, "", ""
	}
	for _, c := range rulesByFirst[s][words[0]] {
		if b, ok := c.match(words); ok {
			return c.Rule, fill(c.key, b), fill(c.no, b)
		}
	}
	// Not a line frr-renderer renders: the line is its own key, its negation removes it.
	if rest, ok := strings.CutPrefix(line, "no "); ok {
		return nil, rest, rest
	}
	return nil, line, "no " + line
}

// fastKey is classify's key for the lines that come by the thousand, without allocating.
func fastKey(s Scope, line string) (string, bool) {
	if s == FamilyScope && strings.HasPrefix(line, "network ") && singleSpaced(line) {
		rest := line[len("network "):]
		prefix, tail, _ := strings.Cut(rest, " ")
		if tail == "" || (strings.HasPrefix(tail, "route-map ") && !strings.Contains(tail[len("route-map "):], " ")) {
			return line[:len("network ")+len(prefix)], true
		}
	}
	return "", false
}

// singleSpaced reports whether line is words of printable ASCII separated by single spaces:
// then cutting it at " " splits it as classify's strings.Fields does (which also splits at
// tabs and Unicode spaces, and drops empty words).
func singleSpaced(line string) bool {
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == ' ':
			if i == 0 || i == len(line)-1 || line[i-1] == ' ' {
				return false
			}
		case c < ' ' || c > '~':
			return false
		}
	}
	return true
}

func keyOf(s Scope, line string) string {
	if k, ok := fastKey(s, line); ok {
		return k
	}
	_, k, _ := classify(s, line)
	return k
}

// lineEffect tells what sending line (a delta line, indented or not, set or no form) does to
// established sessions; see Rules. A set line is judged as a change of an existing setting:
// `neighbor X remote-as A` resets X's session when X exists, not when it is new. Deleting a
// neighbor, peer-group or instance ends its sessions: Resets.
func lineEffect(line string) Effect {
	words := strings.Fields(line)
	if len(words) >= 3 && words[0] == "no" && (words[1] == "router" && words[2] == "bgp" || words[1] == "neighbor" && len(words) == 3) {
		return Resets
	}
	if r := lineRule(line); r != nil {
		return r.Effect
	}
	return NoReset
}

// lineRule returns the rule a delta line (indented or not, set or no form) is written by.
func lineRule(line string) *Rule {
	words := strings.Fields(line)
	if len(words) == 0 {
		return nil
	}
	for _, c := range allRules {
		if c.Scope == TopScope {
			continue
		}
		if _, ok := c.match(words); ok {
			return c.Rule
		}
		if _, ok := (compiledRule{line: c.no}).match(words); ok {
			return c.Rule
		}
	}
	return nil
}

// SessionResetting reports whether sending line resets established BGP sessions (see
// lineEffect). An applier can count them, log them, or hold such a delta for a maintenance
// window; frr-renderer sends them only when the value really changed.
func SessionResetting(line string) bool { return lineEffect(line) == Resets }

// ResettingLines tells which delta lines reset sessions: the SessionResetting lines that change an
// instance and a peer (neighbor or peer-group) running has. A new neighbor's remote-as, or any
// line of an instance being created, has no session to reset; a neighbor deleted to be
// re-created resets once, at its deletion.
func ResettingLines(running *Config, delta []string) []bool {
	out := make([]bool, len(delta))
	var inst *bgpInstance            // the running instance the delta is in; nil if none or new
	deletedInst := map[string]bool{} // by slot
	deletedPeer := map[string]bool{} // names in inst
	for i, l := range delta {
		body := strings.TrimSpace(l)
		if l == body { // top level: an instance, a route-map entry, exit
			inst = nil
			if rest, ok := strings.CutPrefix(body, "no router bgp "); ok {
				if id, err := parseRouterBGP("router bgp " + rest); err == nil {
					deletedInst[id.slot()] = true
				}
				out[i] = true
			} else if strings.HasPrefix(body, "router bgp ") {
				id, err := parseRouterBGP(body)
				if r := running.instIdx[id.slot()]; err == nil && r != nil && r.id == id && !deletedInst[id.slot()] {
					inst = r
				}
				clear(deletedPeer)
			}
			continue
		}
		if inst == nil || !SessionResetting(l) {
			continue
		}
		f := strings.Fields(body)
		no := f[0] == "no"
		if no {
			f = f[1:]
		}
		if len(f) < 2 || f[0] != "neighbor" {
			out[i] = true // an instance setting: bgp router-id
			continue
		}
		out[i] = inst.peerIdx[f[1]] != nil && !deletedPeer[f[1]]
		if no && (len(f) == 2 || len(f) == 3 && f[2] == "peer-group") {
			deletedPeer[f[1]] = true
		}
	}
	return out
}
