// Package manifest reads Kubernetes manifests (YAML or JSON files, directories of them, or
// stdin) into a model.Snapshot, so that frr-renderer can translate a cluster's BGP
// configuration offline, the way the sidecar does from its informer caches.
//
// It keeps only the kinds the translator reads and applies the few rules the API server would
// have applied before those objects reached a cache: names are required and valid, namespaced
// objects default to "default", a Secret's stringData is merged into data, and a later
// definition of the same object replaces an earlier one. Everything else is skipped.
//
// It must never talk to a cluster, never write anywhere, and never put a Secret's value into
// an error or a diagnostic: manifests hold BGP passwords, and errors end up in CI logs.
package manifest
