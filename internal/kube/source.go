package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/snapshot"
)

// Options says what to watch.
type Options struct {
	Node string // this node: its Node and CiliumNode are the only ones watched
	// SecretsNamespace holds the Secrets that authSecretRef names; only it is watched.
	SecretsNamespace string
	Log              logr.Logger
}

// Source follows the cluster through informers. It implements the reconcile loop's desired
// source: Changes, Done, Load (and LoadChanges, Settled).
//
// Besides the informers' caches it keeps the snapshot the translator reads, updated object by
// object as the events arrive (internal/snapshot), so that a Load costs what changed, not what
// the caches hold.
type Source struct {
	opts    Options
	watched []watched
	// informers are the watched kinds' by kind name.
	informers map[string]cache.SharedIndexInformer
	changes   chan struct{}
	done      chan struct{}
	synced    atomic.Bool
	// watchErrors counts the informers' failed lists and watches (see WatchErrors).
	watchErrors atomic.Uint64

	mu      sync.Mutex
	store   *snapshot.Store
	invalid map[objectKey]model.Diagnostic // objects that could not be converted
	// other: an object of another kind than Service and EndpointSlice changed since the last
	// Load (see Settled).
	other bool
}

// watched is one informer and the kind of its objects.
type watched struct {
	kind     *model.Kind
	informer cache.SharedIndexInformer
	// handled is the Source's handler on the informer. Its HasSynced, not the informer's,
	// says the snapshot has every listed object: the informer hands its objects to handlers
	// asynchronously, and had synced while the handler had seen a third of 10,000 Services.
	handled cache.ResourceEventHandlerRegistration
}

type objectKey struct {
	field int
	key   types.NamespacedName
}

// Start starts the informers; they run until ctx ends, then Done is closed. The first token on
// Changes comes once every informer has synced and handed every listed object to the Source.
//
// Cilium's kinds are watched through the dynamic client, the built-in ones through
// clients.Builtin when set (see Clients). Not through the typed clientset: it and its informer
// factory bring every API group of Kubernetes into the binary, whose pages then weigh more in
// the sidecar's memory than its caches.
func Start(ctx context.Context, clients Clients, opts Options) (*Source, error) {
	if opts.Node == "" {
		return nil, errors.New("kube: no node name")
	}
	if opts.SecretsNamespace == "" {
		return nil, errors.New("kube: no secrets namespace")
	}
	s := &Source{opts: opts, changes: make(chan struct{}, 1), done: make(chan struct{}),
		store: snapshot.New(), invalid: map[objectKey]model.Diagnostic{}, informers: map[string]cache.SharedIndexInformer{}}
	for _, r := range resources {
		if r.optional && !served(ctx, clients.Dynamic, r) {
			opts.Log.Info("not served by the API server: not watched (restart to watch it once it is)", "kind", r.Name, "resource", r.GVR.String())
			continue
		}
		ns := ""
		if r.secrets {
			ns = opts.SecretsNamespace
		}
		name := ""
		if r.thisNode {
			name = opts.Node
		}
		var lw cache.ListerWatcher
		var objType runtime.Object = &unstructured.Unstructured{}
		if clients.Builtin.serves(r.GVR) {
			lw = listThenWatchOf(listWatch(clients.Builtin.lister(r.GVR, ns), name, s.countWatchError))
			objType = r.New().(runtime.Object)
		} else {
			lw = cache.ToListWatcherWithWatchListSemantics(listWatch(dynamicLister(clients.Dynamic.Resource(r.GVR).Namespace(ns)), name, s.countWatchError), clients.Dynamic)
		}
		inf := cache.NewSharedIndexInformer(lw, objType, 0, cache.Indexers{})
		// Set before the informer starts, so every object is converted before it is cached.
		if err := inf.SetTransform(r.transform()); err != nil {
			return nil, fmt.Errorf("kube: %s informer: %w", r.Name, err)
		}
		// The registration is never removed: the informers live as long as the Source.
		reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(o any) { s.set(r.Kind, o) },
			UpdateFunc: func(old, o any) {
				// A relist delivers every object again: only a new version is a change, and
				// only one of what the translator reads.
				if sameVersion(old, o) || r.unchanged != nil && r.unchanged(old, o) {
					return
				}
				s.set(r.Kind, o)
			},
			DeleteFunc: func(o any) { s.delete(r.Kind, o) },
		})
		if err != nil {
			return nil, fmt.Errorf("kube: %s informer: %w", r.Name, err)
		}
		s.watched = append(s.watched, watched{kind: r.Kind, informer: inf, handled: reg})
		s.informers[r.Name] = inf
	}
	var wg sync.WaitGroup
	for _, w := range s.watched {
		wg.Go(func() { w.informer.RunWithContext(ctx) })
	}
	go func() {
		defer close(s.done)
		s.waitForSync(ctx)
		<-ctx.Done()
		wg.Wait() // Done means released
	}()
	return s, nil
}

// served reports whether the API server serves r, by listing one object. Any answer but "not
// found" counts as served: the informer then waits for it as for any other.
func served(ctx context.Context, client dynamic.Interface, r resource) bool {
	_, err := client.Resource(r.GVR).List(ctx, metav1.ListOptions{Limit: 1})
	return !apierrors.IsNotFound(err)
}

// lister lists and watches one resource in one namespace (or all).
type lister struct {
	list  func(context.Context, metav1.ListOptions) (runtime.Object, error)
	watch func(context.Context, metav1.ListOptions) (watch.Interface, error)
}

func dynamicLister(r dynamic.ResourceInterface) lister {
	return lister{
		list:  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return r.List(ctx, o) },
		watch: r.Watch,
	}
}

// listWatch lists and watches through l and, when name is set, only the object of that name
// (a field selector: the API server filters). failed sees every error of a list or watch call:
// the informer retries a watch refused by a lost API server by itself, and only these calls see
// it.
func listWatch(l lister, name string, failed func(error)) *cache.ListWatch {
	tweak := func(o *metav1.ListOptions) {
		if name != "" {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		}
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			l, err := l.list(ctx, o)
			if err != nil {
				failed(err)
			}
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			tweak(&o)
			w, err := l.watch(ctx, o)
			if err != nil {
				failed(err)
			}
			return w, err
		},
	}
}

// listThenWatch has the informer list its kind, then watch it from the list's version, where
// client-go would otherwise have the API server stream every object as a watch event first
// (watch-list). Why: at 10,000 Services that stream took 820 ms of the sidecar's start, one
// List in protobuf 230 ms (BenchmarkServiceEditScale). The list is whole in memory while it is
// decoded, the price at 100,000 Services (BenchmarkSidecarScale).
type listThenWatch struct{ *cache.ListWatch }

// IsWatchListSemanticsUnSupported tells client-go's reflector not to use watch-list.
func (listThenWatch) IsWatchListSemanticsUnSupported() bool { return true }

// listThenWatchOf makes lw's first list ask for the latest version, in one answer. The
// reflector's first list asks for any version (resourceVersion 0: the API server's watch cache
// as it is), which after the API server's start can lack what etcd has: the first apply then
// holds a part of the routes, and a graceful-restart ToR flushes the others at its End-of-RIB
// (BenchmarkSidecarScale, 100,000 Services written to etcd: 73,897 in the first list). The
// latest is what watch-list waits for too; an API server of 1.31 or later answers it from its
// watch cache once the cache has caught up (older ones read etcd).
func listThenWatchOf(lw *cache.ListWatch) listThenWatch {
	list := lw.ListWithContextFunc
	lw.ListWithContextFunc = func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		if o.ResourceVersion == "0" {
			o.ResourceVersion, o.Limit = "", 0
		}
		return list(ctx, o)
	}
	return listThenWatch{lw}
}

// waitForSync waits until every informer has listed once, logging the laggards now and then,
// and then gives the loop its first token.
func (s *Source) waitForSync(ctx context.Context) {
	start := time.Now()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	// When each kind synced, for the -v 1 log: which list a slow start waited for.
	syncedAfter := map[string]string{}
	for {
		var waiting []string
		for _, w := range s.watched {
			if !w.handled.HasSynced() {
				waiting = append(waiting, w.kind.Name)
			} else if _, ok := syncedAfter[w.kind.Name]; !ok {
				syncedAfter[w.kind.Name] = time.Since(start).Round(time.Millisecond).String()
			}
		}
		if len(waiting) == 0 {
			s.synced.Store(true)
			s.opts.Log.Info("informers synced", "after", time.Since(start).Round(time.Millisecond).String())
			if log := s.opts.Log.V(1); log.Enabled() {
				objects := map[string]int{}
				for _, w := range s.watched {
					objects[w.kind.Name] = len(w.informer.GetStore().ListKeys())
				}
				log.Info("informers synced by kind", "after", syncedAfter, "objects", objects)
			}
			s.signal()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.opts.Log.Info("waiting for informers to sync; FRR is left as it is meanwhile", "waiting", waiting)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// signal leaves a token for the loop, unless one is waiting already; before the caches have
// synced there is nothing worth reading.
func (s *Source) signal() {
	if !s.synced.Load() {
		return
	}
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

// Changes receives a token once the informers have synced and after every event since.
func (s *Source) Changes() <-chan struct{} { return s.changes }

// Done is closed once the informers have stopped.
func (s *Source) Done() <-chan struct{} { return s.done }

// Synced tells whether every informer has listed once: the sidecar is not ready before.
func (s *Source) Synced() bool { return s.synced.Load() }

// WatchErrors is the number of list and watch calls of the informers that failed since Start
// (the API server unreachable or refusing them). Each informer retries with a backoff of up to
// ~30 s, so the count keeps growing for as long as the API server is lost. An expired resource
// version (the informer lists again) and the end of the Source are no errors.
func (s *Source) WatchErrors() uint64 { return s.watchErrors.Load() }

func (s *Source) countWatchError(err error) {
	if countsAsWatchError(err) {
		s.watchErrors.Add(1)
	}
}

func countsAsWatchError(err error) bool {
	return !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) && !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err)
}

// set records an object the informer of kind added or changed.
func (s *Source) set(kind *model.Kind, o any) {
	obj, ok := o.(metav1.Object)
	if !ok {
		return
	}
	k := objectKey{kind.Field, snapshot.Key(obj)}
	s.mu.Lock()
	if bad, ok := o.(*invalidObject); ok {
		s.invalid[k] = model.Diagnostic{
			Severity: model.Error,
			Object:   model.ObjectRef{Kind: kind.Name, Namespace: bad.Namespace, Name: bad.Name},
			Message:  bad.err.Error(),
		}
		s.store.Delete(kind.Field, k.key) // its last good version is gone from the caches too
	} else {
		delete(s.invalid, k)
		s.store.Set(kind.Field, obj)
	}
	s.noteKind(kind)
	s.mu.Unlock()
	s.signal()
}

// delete records an object the informer deleted.
func (s *Source) delete(kind *model.Kind, o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	obj, ok := o.(metav1.Object)
	if !ok {
		return
	}
	k := objectKey{kind.Field, snapshot.Key(obj)}
	s.mu.Lock()
	delete(s.invalid, k)
	s.store.Delete(kind.Field, k.key)
	s.noteKind(kind)
	s.mu.Unlock()
	s.signal()
}

func (s *Source) noteKind(kind *model.Kind) {
	switch kind.Name {
	case model.KindService, model.KindEndpointSlice:
	default:
		s.other = true
	}
}

// sameVersion reports whether two versions of an object carry the same resourceVersion.
func sameVersion(old, o any) bool {
	a, ok1 := old.(metav1.Object)
	b, ok2 := o.(metav1.Object)
	return ok1 && ok2 && a.GetResourceVersion() != "" && a.GetResourceVersion() == b.GetResourceVersion()
}

// Load returns the snapshot in the caches now. The objects are shared with the caches: the
// translator only reads them.
func (s *Source) Load() (*model.Snapshot, []model.Diagnostic, error) {
	snap, _, diags, err := s.LoadChanges()
	return snap, diags, err
}

// LoadChanges returns the snapshot in the caches now and which objects changed since the last
// call (everything, the first time). It costs what changed.
func (s *Source) LoadChanges() (*model.Snapshot, model.Changes, []model.Diagnostic, error) {
	if !s.synced.Load() {
		return nil, model.Changes{}, nil, errors.New("the informers have not synced yet")
	}
	s.mu.Lock()
	snap, changes := s.store.Take()
	s.other = false
	diags := make([]model.Diagnostic, 0, len(s.invalid))
	for _, d := range s.invalid {
		diags = append(diags, d)
	}
	s.mu.Unlock()
	sort.Slice(diags, func(i, j int) bool { return diags[i].String() < diags[j].String() })
	return snap, changes, diags, nil
}

// Settled reports whether what changed since the last Load are Services and EndpointSlices
// alone: each is whole as it arrives, where a change of the BGP resources may come with others
// (an apply of several objects) that the loop had better wait a moment for.
func (s *Source) Settled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.other
}

// UID returns the UID of a cached object, for Events that kubectl describe shows; "" when it is
// not cached.
func (s *Source) UID(ref model.ObjectRef) types.UID {
	key := ref.Name
	if ref.Namespace != "" {
		key = ref.Namespace + "/" + ref.Name
	}
	inf, ok := s.informers[ref.Kind]
	if !ok {
		return ""
	}
	if o, ok, _ := inf.GetStore().GetByKey(key); ok {
		if m, ok := o.(metav1.Object); ok {
			return m.GetUID()
		}
	}
	return ""
}
