// Package nodestatus reports the node's BGP state where Cilium users look for it: the status
// of the node's CiliumBGPNodeConfig (`kubectl get cbgpnode NODE -o yaml`), which Cilium's
// agent writes when GoBGP is its speaker and frr-renderer writes when FRR is.
//
// Build turns the node's desired model and bgpd's sessions into that status, with Cilium's
// spelling; a Writer creates the CiliumBGPNodeConfig when no operator did and patches its
// status subresource only when the status changed; Run refreshes it every few seconds.
//
// It must never write the spec of an existing CiliumBGPNodeConfig (Cilium's operator owns it),
// never call the API server when nothing changed, never hold up the reconcile loop (which only
// hands it its latest result, see Latest), and never read, log or write a BGP password: the
// model holds them, and nothing here touches model.PeerGroup.
//
// Durations in its options follow the rule of every loop here (reconcile, nodestatus, sidecar,
// vtysh.Applier.Run): zero is the documented default, negative none (no jitter).
package nodestatus
