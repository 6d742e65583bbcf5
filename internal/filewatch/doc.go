// Package filewatch watches the files frr-renderer's standalone mode reads (folders and files of
// manifests, a host facts file) and says that something changed and what: the paths that
// changed since the consumer last asked (TakeChanges), or that everything must be read again
// (a folder appeared or went, a symlink was swapped, events were lost). Manifests reads only the
// files that changed and keeps the snapshot they make up to date object by object.
//
// Changes are signalled through a channel of one slot that is sent to without blocking: a
// burst of events while the consumer is busy leaves one token, not a queue. The package holds
// two goroutines per watcher (fsnotify's events, and an inotify instance of its own that tells
// when a change is whole: a file closed after writing or renamed into place), never one per
// event, and no timer: settling a burst of edits is the consumer's choice.
//
// It must never decode what it watches (Manifests delegates to manifest.Decode), never write,
// and never decide what a change means.
package filewatch
