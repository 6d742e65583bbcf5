// Package vtysh is what talks to FRR: a client of the vty sockets that FRR's daemons listen
// on (the protocol vtysh itself speaks), queries of bgpd's sessions and routes, and the
// Applier, which makes bgpd (and zebra) run a desired configuration, sending only the delta,
// and keeps what frr-renderer owns in its state file across restarts.
//
// It does not parse or diff configuration text: that is internal/frrconfig (Parse, Delta, the
// rules of each line), which this package calls. Nor does it run vtysh or any other process:
// it speaks to the sockets directly.
//
// Files, in reading order:
//   - client.go: Dial, Client.Exec and Client.Configure: the vty protocol as FRR 8.4 and 10.3
//     speak it.
//   - sessions.go: Client.Sessions, the state of every BGP session, for status and metrics.
//   - routes.go: Client.AvailableRoutes and AdvertisedRoutes, for `frr-renderer routes`.
//   - applier.go: Applier.Apply, Verify and Plan: one apply, from the desired text to what
//     bgpd runs, and the state file.
//   - applier_run.go: Applier.Run, the loop that applies what Submit hands it and keeps it
//     applied (FRR restarts, drift, backoff).
//
// Durations in ApplierOptions follow the rule of every loop here: zero is the documented
// default, negative none (no drift check, no liveness check); a backoff or timeout of none
// means nothing, so a negative one is the default too.
package vtysh
