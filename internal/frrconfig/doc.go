// Package frrconfig turns a node's desired BGP model into the frr.conf that makes FRR do it.
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
package frrconfig
