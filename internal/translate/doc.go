// Package translate computes the BGP configuration one node must run from a snapshot of the
// cluster and the facts of its host, with the semantics of Cilium's BGP Control Plane v2:
// node selection, defaults, validation, peers, advertisements and their attributes.
//
// It is pure: no clients, no files, no clock, no netlink. The same snapshot and host facts
// always give the same result, sorted, so that the rendered configuration is byte-stable.
// Problems in the input become diagnostics naming the object and the field; nothing here
// panics on input, and secret values never appear in a diagnostic.
package translate
