// Package source watches the files frr-renderer's standalone mode reads (folders and files of
// manifests, a host facts file) and says that something changed, nothing more: the consumer
// reads everything again when it gets to it (level-driven), so a lost, repeated or merged
// event costs nothing but a read.
//
// Changes are signalled through a channel of one slot that is sent to without blocking: a
// burst of events while the consumer is busy leaves one token, not a queue. The package holds
// one goroutine per watcher, never one per event, and no timer: settling a burst of edits is
// the consumer's choice.
//
// It must never parse what it watches (Manifests.Load delegates to manifest.Load), never
// write, and never decide what a change means.
package source
