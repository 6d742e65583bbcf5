package reconcile

import (
	"context"

	"github.com/go-logr/logr"

	"github.com/frr-renderer/frr-renderer/internal/filewatch"
	"github.com/frr-renderer/frr-renderer/internal/hostfacts"
	"github.com/frr-renderer/frr-renderer/internal/model"
)

// The loop follows two sources: the desired state and the host's facts. A source only
// signals; the loop reads its whole current state when it gets to it.

// signaller is what every source has. Changes holds a token from the start and receives one
// when the state may have changed since the last receive; Done is closed once the source has
// stopped (its context ended) and released what it held.
type signaller interface {
	Changes() <-chan struct{}
	Done() <-chan struct{}
}

// DesiredSource is the cluster's desired state: manifest files (*filewatch.Manifests) or the
// Kubernetes informers (*kube.Source). Load reads the whole state again.
type DesiredSource interface {
	signaller
	Load() (*model.Snapshot, []model.Diagnostic, error)
}

// changesSource is a desired source that says what changed since its last read, so that the
// loop works out again only what depends on it (*filewatch.Manifests, *kube.Source). A source
// without it is read whole each time.
type changesSource interface {
	LoadChanges() (*model.Snapshot, model.Changes, []model.Diagnostic, error)
}

// wholeSource is a desired source that tells when the changes since its last read are whole in
// themselves, so that the loop may read them after QuickSettle.
type wholeSource interface {
	Settled() bool
}

// factsSource is the host's facts: a file, or this network namespace through netlink. Read
// reads them again.
type factsSource interface {
	signaller
	Read() (model.HostFacts, error)
}

// watchManifests follows manifest files and folders until ctx ends.
func watchManifests(ctx context.Context, paths []string, log logr.Logger) (DesiredSource, error) {
	m, err := filewatch.WatchManifests(ctx, paths, filewatch.Options{
		OnError: func(err error) { log.Error(err, "watching manifests") },
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// watchHostFacts follows the facts file, or netlink when file is "", until ctx ends.
func watchHostFacts(ctx context.Context, file string, log logr.Logger) (factsSource, error) {
	if file != "" {
		w, err := filewatch.Watch(ctx, []string{file}, filewatch.Options{
			OnError: func(err error) { log.Error(err, "watching host facts") },
		})
		if err != nil {
			return nil, err
		}
		return factsFile{w, file}, nil
	}
	w, err := hostfacts.Watch(ctx, hostfacts.WatchOptions{
		OnError: func(err error) { log.Error(err, "following host facts") },
	})
	if err != nil {
		return nil, err
	}
	return netlinkFacts{w}, nil
}

type factsFile struct {
	*filewatch.Watcher
	path string
}

func (f factsFile) Read() (model.HostFacts, error) { return hostfacts.FromFile(f.path) }

type netlinkFacts struct{ *hostfacts.Watcher }

func (netlinkFacts) Read() (model.HostFacts, error) { return hostfacts.FromNetlink() }
