// Package frrconfig is the text of FRR's configuration language, as far as frr-renderer speaks
// it: it renders a node's desired BGP model into the frr.conf that makes FRR do it, parses that
// dialect back (frr.conf, `show running-config` of FRR 8.4 and 10.3), and computes the lines
// that turn one configuration into another. It is pure: it opens no socket and runs no
// process. Sending those lines to FRR, and reading what FRR runs, is internal/vtysh's.
//
// The text is canonical: it is what FRR's `show running-config` prints back for it, line for
// line within each block, so that a diff against the running config is empty when nothing
// changed. Names, sequence numbers and order are computed here, in Go; the templates under
// templates/ only lay out lines.
//
// How advertisements scale: each prefix is one `network` statement whose route-map sets a
// route tag (the ID of its export policy); each peer-group's outbound route-map has one
// entry per policy it receives, matching the tag and setting the communities and local
// preference. The size of the configuration grows with the prefixes, never with
// prefixes x peers, and no prefix-list is needed (FRR 8.4 loads those super-linearly).
// Tags never leave the router: they are not a BGP attribute.
//
// Every string that reaches the text is checked here, whatever the translator checked:
// a name or password that could end a command line or start another is an error.
//
// The delta changes only what frr-renderer owns (Ownership): an operator's route-maps, other
// daemons' lines and BGP instances it did not render are never touched. Each kind of line it
// renders has a rule (Rules), found on FRR 8.4 and 10.3, for how it is overwritten or removed
// and which sessions that resets.
//
// Files, in reading order:
//   - frrconfig.go: Render, from the model to text, through templates/; a Renderer renders
//     again after a change.
//   - networks.go: the network lines, the bulk of the text: a Renderer copies the unchanged
//     ones from its last rendering.
//   - verify.go: the last check of rendered text, line by line (but the lines copied from a
//     rendering it checked).
//   - parse.go: Parse, from text to a Config (BGP instances, route-maps, zebra's lines), and
//     MaskSecrets.
//   - diff_rules.go: the rules of each line (Rules) and what sending one does to sessions.
//   - diff.go: Delta, Ownership and Conflicts: the lines from a running Config to a desired one.
//   - patch.go: PatchText, the fast path for a change within one address family.
//   - hold.go: HoldNewPeers, new neighbors held down until their instance is configured.
//   - negotiated.go: NegotiatedResets, the sessions a delta leaves with stale negotiated values.
//   - plan.go: Plan, a preview of a delta with passwords masked, for `frr-renderer diff`.
//
// frrconfigtest holds the seed rendering that this package's tests and vtysh's share.
package frrconfig
