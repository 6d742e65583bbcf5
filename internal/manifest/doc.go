// Package manifest reads Kubernetes manifests (YAML or JSON files, directories of them, or
// stdin) into a model.Snapshot, so that frr-renderer can translate a cluster's BGP
// configuration offline, the way the sidecar does from its informer caches.
//
// It keeps only the kinds the translator reads and applies the few rules the API server would
// have applied before those objects reached a cache: names are required and valid, namespaced
// objects default to "default", a Secret's stringData is merged into data, and a later
// definition of the same object replaces an earlier one. Everything else is skipped. What a
// strict decoder (kubectl apply's, the API server's) would refuse is warned about: an unknown
// field of a kind the model holds whole, a key set twice (the last value is used), a kept
// kind of an apiVersion that is not read (the object is skipped).
//
// Input is bounded, and decoding costs time and memory linear in it: a file (or stdin) holds
// at most MaxFileBytes, a document (one YAML document or JSON value) MaxDocumentBytes, and
// mappings and lists nest at most MaxDepth levels, Lists within Lists included. Beyond these
// the input is refused with an error, as a malformed one is. In a folder only regular files
// (or symlinks to them) are read; anything else is skipped with a warning, and never opened
// in a way that could block.
//
// It must never talk to a cluster, never write anywhere, and never put a Secret's value into
// an error or a diagnostic: manifests hold BGP passwords, and errors end up in CI logs.
package manifest

// The limits on one input.
const (
	// MaxFileBytes bounds a file or stdin: a larger one is refused, and read no further.
	MaxFileBytes = 64 << 20
	// MaxDocumentBytes bounds one document of a file. The API server takes requests of 3 MiB;
	// a List written by kubectl get may be larger.
	MaxDocumentBytes = 16 << 20
	// MaxDepth bounds how deep mappings and lists nest in a document: an object nests a few
	// levels (an Envoy configuration a few tens), a List adds two.
	MaxDepth = 100
)
