// Package kube is the sidecar's source of desired state: client-go informers on everything the
// translator reads, cached stripped to what it reads, and handed to the reconcile loop as one
// model.Snapshot at a time.
//
// It is level-driven and has a single key: every event only says "this node may need a new
// configuration" (a one-slot signal, which is what a workqueue with one key is), and the loop
// reads the whole snapshot from the caches when its settle window closes; that window is the
// rate limit. A lost, repeated or merged event costs a read, never a change.
//
// It must never signal before every informer has synced (a partial snapshot would withdraw
// routes), never let one malformed object stop a watch (it becomes a diagnostic that names the
// object), never cache what the translator does not read (managedFields, annotations, Secret
// keys other than the password, endpoint addresses), and never log a Secret's data.
package kube
