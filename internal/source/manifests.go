package source

import (
	"context"
	"path/filepath"
	"slices"

	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
)

// Manifests watches manifest files and folders and reads them all again on demand.
type Manifests struct {
	*Watcher
	paths []string
}

// WatchManifests watches paths as Watch does; inside folders only the files that
// manifest.Load reads count (opts.Match, when nil).
func WatchManifests(ctx context.Context, paths []string, opts Options) (*Manifests, error) {
	if opts.Match == nil {
		opts.Match = isManifest
	}
	w, err := Watch(ctx, paths, opts)
	if err != nil {
		return nil, err
	}
	return &Manifests{Watcher: w, paths: slices.Clone(paths)}, nil
}

// Load reads every path again with manifest.Load. It may run in any goroutine, at any time:
// a change made while it reads is signalled on Changes.
func (m *Manifests) Load() (*model.Snapshot, []model.Diagnostic, error) {
	return manifest.Load(m.paths, nil)
}

// isManifest is manifest.Load's rule for the files it reads in a folder (kubectl apply -R's).
func isManifest(path string) bool {
	switch filepath.Ext(path) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}
