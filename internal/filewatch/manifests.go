package filewatch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/snapshot"
)

// Manifests watches manifest files and folders and keeps what they hold: a Load reads again
// only the files that changed, and says which objects changed (model.Changes).
type Manifests struct {
	*Watcher
	paths []string

	// Only Load touches what follows (one caller at a time).
	listedOnce bool
	list       []string         // manifest.Files(paths): the files read, in order; one may be listed twice
	listed     map[string][]int // positions of each path in list
	files      map[string]*file // what each listed file held when last read
	defs       map[defKey][]int // positions defining each object, ascending: the last one wins
	dups       map[defKey][]model.Diagnostic
	listDiag   []model.Diagnostic // manifest.Files' diagnostics
	store      *snapshot.Store
	retry      []string // paths a failed Load took from the watcher, read again next time
	retryAll   bool
}

// file is a manifest file as last read.
type file struct {
	id    fileID
	read  time.Time // when it was read
	sum   [sha256.Size]byte
	objs  []object
	defs  map[defKey]metav1.Object // objs by name, the first of a name: settle looks up every object
	diags []model.Diagnostic
}

// object is one object a file defines.
type object struct {
	kind int // snapshot kind
	obj  metav1.Object
}

// defKey names an object across files: its kind, namespace and name.
type defKey struct {
	kind int
	key  types.NamespacedName
}

// fileID is what tells, without reading a file, that it may have changed.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64
}

// WatchManifests watches paths as Watch does; inside folders only the files that
// manifest.Load reads count (opts.Match, when nil), and wholeness is followed.
func WatchManifests(ctx context.Context, paths []string, opts Options) (*Manifests, error) {
	if opts.Match == nil {
		opts.Match = isManifest
	}
	opts.Wholeness = true
	w, err := Watch(ctx, paths, opts)
	if err != nil {
		return nil, err
	}
	return &Manifests{
		Watcher: w,
		paths:   slices.Clone(paths),
		files:   map[string]*file{},
		defs:    map[defKey][]int{},
		dups:    map[defKey][]model.Diagnostic{},
		store:   snapshot.New(),
	}, nil
}

// isManifest is manifest.Load's rule for the files it reads in a folder (kubectl apply -R's).
func isManifest(path string) bool {
	switch filepath.Ext(path) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Settled reports whether what changed since the last Load can be read now without catching a
// file half-written: every changed file was closed after writing, renamed into place or removed.
func (m *Manifests) Settled() bool { return m.Whole() }

// Load returns what the manifests hold now, as manifest.Load(paths) does.
func (m *Manifests) Load() (*model.Snapshot, []model.Diagnostic, error) {
	snap, _, diags, err := m.LoadChanges()
	return snap, diags, err
}

// LoadChanges returns what the manifests hold now, as manifest.Load(paths) does (but that a
// duplicate definition's warning names files, not documents), and which objects changed since
// the last successful call. It reads only the files the watcher saw change, or, when it cannot
// tell (a folder appeared, a symlink was swapped, events were lost, the first call), every file
// whose identity or content changed; a file read again is decoded again only when its content
// changed, and an object decoded again is the same object when it did not change.
//
// On error nothing changes: the next call reads the same files again.
func (m *Manifests) LoadChanges() (*model.Snapshot, model.Changes, []model.Diagnostic, error) {
	paths, all := m.TakeChanges()
	paths = append(paths, m.retry...)
	all = all || m.retryAll || !m.listedOnce
	m.retry, m.retryAll = paths, all // until this call succeeds

	list, listDiag := m.list, m.listDiag
	if !all {
		for _, p := range paths {
			if len(m.listed[p]) == 0 || !isFile(p) {
				all = true // a file appeared or went: list again
				break
			}
		}
	}
	if all {
		var err error
		if list, listDiag, err = manifest.Files(m.paths); err != nil {
			return nil, model.Changes{}, nil, err
		}
	}

	// Read what may have changed.
	dirty := map[string]bool{}
	for _, p := range paths {
		dirty[p] = true
	}
	toRead := paths // listed, since not all
	if all {
		toRead = list
	}
	read := map[string]*file{}
	for _, p := range toRead {
		if _, done := read[p]; done {
			continue
		}
		old := m.files[p]
		f, err := readManifest(p, old, !dirty[p])
		if err != nil {
			return nil, model.Changes{}, nil, err
		}
		if f != old {
			read[p] = f
		}
	}

	// Commit.
	m.retry, m.retryAll = nil, false
	if all {
		m.relist(list, listDiag, read)
	} else {
		for p, f := range read {
			m.update(p, f)
		}
	}
	snap, changes := m.store.Take()
	return snap, changes, m.diagnostics(), nil
}

func isFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir()
}

// readManifest reads and decodes the file at path, unless it is old's: old is returned when its
// identity shows no change (trusted only when trustID and the file had not been written for a
// second when old read it, since time stamps are coarse) or its content is the same. A file
// that is not regular is skipped with a warning: it is opened without blocking and looked at
// with fstat, so that a named pipe never blocks the reader.
func readManifest(path string, old *file, trustID bool) (*file, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	id := identity(info)
	if !info.Mode().IsRegular() {
		// Not read: reading a named pipe waits for its writer, and a watcher cannot follow one.
		return &file{id: id, read: time.Now(), diags: []model.Diagnostic{{
			Severity: model.Warning,
			Message:  fmt.Sprintf("%q is skipped: not a regular file (%s); only regular files are read", path, info.Mode().Type()),
		}}}, nil
	}
	if old != nil && trustID && id == old.id && old.read.Sub(time.Unix(0, id.mtime)) > time.Second {
		return old, nil
	}
	now := time.Now()
	// manifest.Decode refuses more than MaxFileBytes: reading one byte more tells.
	data, err := io.ReadAll(io.LimitReader(f, manifest.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", path, err)
	}
	sum := sha256.Sum256(data)
	if old != nil && sum == old.sum {
		kept := *old
		kept.id, kept.read = id, now
		return &kept, nil
	}
	snap := &model.Snapshot{}
	diags, err := manifest.Decode(path, data, snap)
	if err != nil {
		return nil, err
	}
	nf := &file{id: id, read: now, sum: sum, diags: diags}
	// An object defined as before in this file stays the same object: what depends on it
	// need not be worked out again.
	var before map[defKey]metav1.Object
	if old != nil {
		before = make(map[defKey]metav1.Object, len(old.objs))
		for _, o := range old.objs {
			before[defKey{o.kind, snapshot.Key(o.obj)}] = o.obj
		}
	}
	snapshot.Each(snap, func(kind int, o metav1.Object) {
		if prev := before[defKey{kind, snapshot.Key(o)}]; prev != nil && reflect.DeepEqual(prev, o) {
			o = prev
		}
		nf.objs = append(nf.objs, object{kind: kind, obj: o})
	})
	nf.defs = make(map[defKey]metav1.Object, len(nf.objs))
	for _, o := range nf.objs {
		k := defKey{o.kind, snapshot.Key(o.obj)}
		if _, ok := nf.defs[k]; !ok {
			nf.defs[k] = o.obj
		}
	}
	return nf, nil
}

func identity(info os.FileInfo) fileID {
	id := fileID{size: info.Size(), mtime: info.ModTime().UnixNano()}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = st.Dev, st.Ino
		id.ctime = st.Ctim.Nano()
	}
	return id
}

// relist takes a new list of files, with the files read anew, and works out every object's
// definitions again.
func (m *Manifests) relist(list []string, diags []model.Diagnostic, read map[string]*file) {
	files := make(map[string]*file, len(list))
	listed := make(map[string][]int, len(list))
	for i, p := range list {
		listed[p] = append(listed[p], i)
		if f := read[p]; f != nil {
			files[p] = f
		} else {
			files[p] = m.files[p]
		}
	}
	m.list, m.listed, m.files, m.listDiag, m.listedOnce = list, listed, files, diags, true
	defs := map[defKey][]int{}
	for i, p := range list {
		for _, o := range files[p].objs {
			k := defKey{o.kind, snapshot.Key(o.obj)}
			defs[k] = append(defs[k], i)
		}
	}
	// Objects no longer defined anywhere go; the others take their last definition.
	for k := range m.defs {
		if _, ok := defs[k]; !ok {
			m.store.Delete(k.kind, k.key)
			delete(m.dups, k)
		}
	}
	m.defs = defs
	for k := range defs {
		m.settle(k)
	}
}

// update takes a listed file read anew.
func (m *Manifests) update(path string, f *file) {
	old := m.files[path]
	m.files[path] = f
	touched := map[defKey]bool{}
	for _, pos := range m.listed[path] {
		for _, o := range old.objs {
			k := defKey{o.kind, snapshot.Key(o.obj)}
			m.defs[k] = slices.DeleteFunc(m.defs[k], func(i int) bool { return i == pos })
			touched[k] = true
		}
		for _, o := range f.objs {
			k := defKey{o.kind, snapshot.Key(o.obj)}
			i, _ := slices.BinarySearch(m.defs[k], pos)
			m.defs[k] = slices.Insert(m.defs[k], i, pos)
			touched[k] = true
		}
	}
	for k := range touched {
		if len(m.defs[k]) == 0 {
			delete(m.defs, k)
			delete(m.dups, k)
			m.store.Delete(k.kind, k.key)
			continue
		}
		m.settle(k)
	}
}

// settle puts an object's winning definition (its last) into the store, when it is not there
// already, and words the warnings about the definitions it replaces.
func (m *Manifests) settle(k defKey) {
	positions := m.defs[k]
	obj := m.definition(k, positions[len(positions)-1])
	if m.store.Get(k.kind, k.key) != obj {
		m.store.Set(k.kind, obj)
	}
	delete(m.dups, k)
	for j := 1; j < len(positions); j++ {
		m.dups[k] = append(m.dups[k], model.Diagnostic{
			Severity: model.Warning,
			Object:   model.ObjectRef{Kind: kindName(obj), Namespace: k.key.Namespace, Name: k.key.Name},
			Message: fmt.Sprintf("defined again at %s, which replaces the definition at %s",
				manifest.PathForMessage(m.list[positions[j]]), manifest.PathForMessage(m.list[positions[j-1]])),
		})
	}
}

// definition is the object k as the file at list position pos defines it.
func (m *Manifests) definition(k defKey, pos int) metav1.Object {
	if o := m.files[m.list[pos]].defs[k]; o != nil {
		return o
	}
	panic(errors.New("source: a definition lost its object")) // defs and files agree by construction
}

// kindName is an object's kind as its manifest gives it (manifest sets every object's type).
func kindName(o metav1.Object) string {
	if t, ok := o.(interface{ GetObjectKind() schema.ObjectKind }); ok {
		if k := t.GetObjectKind().GroupVersionKind().Kind; k != "" {
			return k
		}
	}
	return reflect.TypeOf(o).Elem().Name()
}

// diagnostics are every file's, in list order, then the duplicates'.
func (m *Manifests) diagnostics() []model.Diagnostic {
	out := slices.Clone(m.listDiag)
	seen := map[string]bool{}
	for _, p := range m.list {
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, m.files[p].diags...)
	}
	keys := make([]defKey, 0, len(m.dups))
	for k := range m.dups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b defKey) int {
		if a.kind != b.kind {
			return a.kind - b.kind
		}
		if a.key.Namespace != b.key.Namespace {
			return compare(a.key.Namespace, b.key.Namespace)
		}
		return compare(a.key.Name, b.key.Name)
	})
	for _, k := range keys {
		out = append(out, m.dups[k]...)
	}
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
