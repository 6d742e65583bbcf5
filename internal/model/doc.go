// Package model holds the two ends of translation: the cilium.io/v2 resources frr-renderer
// reads (mirrored, not imported from Cilium, and only the fields that matter to BGP), and the
// desired BGP configuration of one node that the translator computes from them.
//
// The package depends on nothing of ours and does no I/O. The desired model speaks BGP, not
// FRR: FRR names, route-map sequence numbers and marker tags belong to the renderer.
// Every part of the desired model carries its provenance (which object and field produced it),
// so that operator tools can explain a prefix or a setting.
package model
