package filewatch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// Options tune a Watcher. The zero value is usable.
type Options struct {
	// Match reports whether a file found inside a watched folder counts, by its path: a change
	// to any other file is not signalled. nil counts every file. A path given to Watch always
	// counts, whatever its name.
	Match func(path string) bool
	// OnError receives the errors that do not stop the watch: a folder that cannot be watched
	// (the inotify limit), an event queue overflow (after which everything is rescanned and a
	// change signalled). It is called from the watcher's goroutine. nil drops them.
	OnError func(error)
	// Wholeness makes Whole tell whether the changes since the last TakeChanges are whole
	// (files closed after writing, renamed into place, removed), and signals a change when a
	// file becomes whole. It costs a second inotify instance on the same folders.
	Wholeness bool

	// trace, for tests, sees every event once it is handled, and whether it was signalled.
	trace func(ev fsnotify.Event, changed bool)
}

// Watcher watches files and folders (recursively, folders created later too) and signals
// changes on Changes. It holds one goroutine, which ends with the context given to Watch.
type Watcher struct {
	fs      *fsnotify.Watcher
	match   func(string) bool
	onError func(error)
	trace   func(fsnotify.Event, bool)
	roots   []root

	// Only the watcher's goroutine touches these after Watch returns.
	dirs    map[string]bool // folders watched as part of a folder root
	parents map[string]bool // folders watched for the roots (and symlink targets) they hold

	whole *wholeness // nil unless Options.Wholeness

	mu    sync.Mutex
	dirty map[string]bool // paths changed since the last TakeChanges
	all   bool            // something changed that a list of paths does not say

	changes chan struct{}
	done    chan struct{}
}

// root is a path given to Watch.
type root struct {
	path string // absolute and clean
	// real is, for a root that is not a folder, the file it resolves to through symlinks (itself
	// when there are none), or "" when it resolves to nothing. A change of real is a change of
	// the file: that is how kubelet updates a ConfigMap volume (it swaps the ..data symlink).
	real string
}

// Watch starts watching paths (files or folders; folders recursively) and returns once every
// existing folder is watched: a change made after Watch returns is signalled. Every path must
// exist. Changes holds a token from the start, so that a consumer's first receive reads the
// initial state.
//
// A path's parent folder is watched as well, so that a file replaced by a rename (as editors
// save) or removed and created again is seen; a parent folder that is itself removed is not
// followed.
func Watch(ctx context.Context, paths []string, opts Options) (*Watcher, error) {
	if len(paths) == 0 {
		return nil, errors.New("watch: no path to watch")
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	w := &Watcher{
		fs:      fw,
		match:   opts.Match,
		onError: opts.OnError,
		trace:   opts.trace,
		dirs:    map[string]bool{},
		parents: map[string]bool{},
		dirty:   map[string]bool{},
		all:     true, // nothing was read yet
		changes: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	if w.match == nil {
		w.match = func(string) bool { return true }
	}
	if opts.Wholeness {
		if w.whole, err = newWholeness(w.becameWhole); err != nil {
			fw.Close()
			return nil, fmt.Errorf("watch: %w", err)
		}
	}
	for _, p := range paths {
		if err := w.addRoot(p); err != nil {
			w.close()
			return nil, fmt.Errorf("watch %q: %w", p, err)
		}
	}
	w.changes <- struct{}{}
	if w.whole != nil {
		go w.whole.run()
	}
	go w.run(ctx)
	return w, nil
}

func (w *Watcher) close() {
	w.fs.Close()
	if w.whole != nil {
		w.whole.close()
	}
}

// Changes receives a token when something watched changed since the last receive.
// TakeChanges says what.
func (w *Watcher) Changes() <-chan struct{} { return w.changes }

// TakeChanges returns the paths that changed since the last call (files created, written,
// renamed, removed), sorted, and all: something changed that the paths do not say (a folder
// appeared or went, a symlink changed, events were lost, or nothing was read yet), so that
// everything must be read again. Call it before reading: a change made meanwhile is in the
// next call.
func (w *Watcher) TakeChanges() (paths []string, all bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.whole != nil {
		w.whole.forget(w.dirty)
	}
	paths = make([]string, 0, len(w.dirty))
	for p := range w.dirty {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	all = w.all
	clear(w.dirty)
	w.all = false
	return paths, all
}

// Whole reports whether the changes since the last TakeChanges are whole, so that reading them
// now cannot catch a file half-written: every changed file was closed after writing, renamed
// into place or removed since. Always false without Options.Wholeness, after lost events, and
// while a folder made in place may still be filling.
func (w *Watcher) Whole() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.whole != nil && w.whole.isWhole(w.dirty)
}

// becameWhole signals a change when a path that changed became whole: a reader may have been
// waiting for it. A path not known to have changed yet is signalled when it is.
func (w *Watcher) becameWhole(paths []string) {
	w.mu.Lock()
	waited := slices.ContainsFunc(paths, func(p string) bool { return w.dirty[p] })
	w.mu.Unlock()
	if waited {
		w.signal()
	}
}

// changed records paths that changed, or all.
func (w *Watcher) changed(all bool, paths ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if all {
		w.all = true
	}
	for _, p := range paths {
		w.dirty[p] = true
	}
}

// Done is closed once the watcher's goroutine has ended (its context ended) and the watches
// are released.
func (w *Watcher) Done() <-chan struct{} { return w.done }

func (w *Watcher) addRoot(path string) error {
	if path == "-" {
		return errors.New("stdin cannot be watched")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return err
	}
	if err := w.watchParent(filepath.Dir(abs)); err != nil {
		return err
	}
	r := root{path: abs}
	if info.IsDir() {
		if err := w.watchTree(abs); err != nil {
			return err
		}
	} else {
		w.resolve(&r)
	}
	w.roots = append(w.roots, r)
	return nil
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	defer w.close()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			changed := w.handle(ev)
			if changed {
				w.signal()
			}
			if w.trace != nil {
				w.trace(ev, changed)
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost, folders created meanwhile among them.
				w.rescan()
				w.changed(true)
				w.signal()
			}
			w.report(err)
		}
	}
}

// signal leaves a token unless one is waiting already: never blocks.
func (w *Watcher) signal() {
	select {
	case w.changes <- struct{}{}:
	default:
	}
}

func (w *Watcher) report(err error) {
	if w.onError != nil && err != nil {
		w.onError(err)
	}
}

// handle keeps the watches in step with ev and reports whether ev changes what a reader of
// the roots would read.
func (w *Watcher) handle(ev fsnotify.Event) bool {
	p := filepath.Clean(ev.Name)
	dir := filepath.Dir(p)
	changed := false
	for i := range w.roots {
		r := &w.roots[i]
		if p == r.path {
			changed = true
			if ev.Has(fsnotify.Remove | fsnotify.Rename) {
				w.unwatchTree(p)
			}
			if isDir(p) { // created again, or replaced by a folder
				w.reportf(w.watchTree(p), "watch %q", p)
				w.changed(true)
			} else {
				w.changed(false, p)
			}
		}
		if !w.dirs[r.path] && (dir == filepath.Dir(r.path) || p == r.real || (r.real != "" && dir == filepath.Dir(r.real))) {
			if w.resolve(r) || p == r.real {
				changed = true
				// What the root reads through, p or the symlink's new target, changed.
				w.changed(false, r.path, p)
			}
		}
	}
	if w.dirs[dir] && w.inTree(ev, p) {
		changed = true
	}
	return changed
}

// inTree handles an event on p, an entry of a watched folder, and reports whether a reader of
// the folder would see a change.
func (w *Watcher) inTree(ev fsnotify.Event, p string) bool {
	if w.dirs[p] && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		w.unwatchTree(p)
		w.changed(true, p)
		return true
	}
	info, err := os.Lstat(p)
	switch {
	case err != nil: // gone already: it counts if a reader would have read it
		if !w.match(p) {
			return false
		}
	case info.IsDir(): // new (created or moved in): it may hold files already
		w.reportf(w.watchTree(p), "watch %q", p)
		w.changed(true, p)
		return true
	case info.Mode()&fs.ModeSymlink != 0: // a swapped symlink changes what is read through it
		w.changed(true, p)
		return true
	case !w.match(p):
		return false
	}
	w.changed(false, p)
	return true
}

// resolve updates r.real and reports whether it changed.
func (w *Watcher) resolve(r *root) bool {
	real, err := filepath.EvalSymlinks(r.path)
	if err != nil {
		real = ""
	}
	if real == r.real {
		return false
	}
	r.real = real
	if real != "" {
		w.reportf(w.watchParent(filepath.Dir(real)), "watch %q", filepath.Dir(real))
	}
	return true
}

func (w *Watcher) watchParent(dir string) error {
	if w.parents[dir] {
		return nil
	}
	if err := w.add(dir); err != nil {
		return err
	}
	w.parents[dir] = true
	return nil
}

// add watches a folder, through fsnotify and for wholeness.
func (w *Watcher) add(dir string) error {
	if err := w.fs.Add(dir); err != nil {
		return err
	}
	if w.whole != nil {
		w.whole.add(dir)
	}
	return nil
}

// watchTree watches top and every folder below it that is not watched yet. A folder is
// watched before it is listed, so a subfolder created meanwhile is either listed or signalled.
func (w *Watcher) watchTree(top string) error {
	// The separator makes WalkDir follow top when it is a symlink to a folder.
	return filepath.WalkDir(top+string(filepath.Separator), func(p string, d fs.DirEntry, err error) error {
		p = filepath.Clean(p)
		if err != nil {
			if p == top {
				return err
			}
			w.report(err) // a folder that vanished or cannot be read: Load will say so
			return nil
		}
		if !d.IsDir() || w.dirs[p] {
			return nil
		}
		if err := w.add(p); err != nil {
			if p == top {
				return err
			}
			w.report(fmt.Errorf("watch %q: %w", p, err))
			return fs.SkipDir
		}
		w.dirs[p] = true
		return nil
	})
}

// unwatchTree forgets top and the folders below it.
func (w *Watcher) unwatchTree(top string) {
	for d := range w.dirs {
		if within(d, top) {
			delete(w.dirs, d)
			if !w.parents[d] {
				_ = w.fs.Remove(d) // inotify may have dropped it already
				if w.whole != nil {
					w.whole.remove(d)
				}
			}
		}
	}
}

// rescan brings the watches back in step with the file system after lost events.
func (w *Watcher) rescan() {
	for d := range w.dirs {
		if !isDir(d) {
			w.unwatchTree(d)
		}
	}
	for i := range w.roots {
		r := &w.roots[i]
		if isDir(r.path) {
			w.reportf(w.watchTree(r.path), "watch %q", r.path)
		} else {
			w.resolve(r)
		}
	}
}

func (w *Watcher) reportf(err error, format string, args ...any) {
	if err != nil {
		w.report(fmt.Errorf(format+": %w", append(args, err)...))
	}
}

func isDir(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

// within reports whether p is top or below it.
func within(p, top string) bool {
	if p == top {
		return true
	}
	if !strings.HasSuffix(top, string(filepath.Separator)) {
		top += string(filepath.Separator)
	}
	return strings.HasPrefix(p, top)
}
