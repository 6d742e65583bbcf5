// Package reconcile is frr-renderer's reconcile loop: it follows its sources (the desired
// state, from manifest files or the Kubernetes API, and the host's facts), and each time they
// settle it reads them again, translates and renders the node's configuration and submits it,
// when new, to an applier, the only writer to bgpd.
//
// It is level-driven: a source only says that something may have changed, and the loop reads
// the whole current state again; a lost, repeated or merged signal costs a read, never a
// change. One goroutine owns the loop and its state and the applier runs in another.
//
// It must never withdraw routes because of a bad edit: a source that cannot be read, a
// configuration that cannot be translated or rendered, or a BGP instance that fails keeps the
// configuration submitted last. It must never start a goroutine per event, never write to
// bgpd itself (only Submit), and never log the configuration text: it holds BGP passwords.
//
// Durations in its options follow the rule of every loop here (reconcile, nodestatus, sidecar,
// vtysh.Applier.Run): zero is the documented default, negative none (no settling: read at once).
package reconcile
