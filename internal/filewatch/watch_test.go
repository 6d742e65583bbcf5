package filewatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// wait bounds every wait for an event: generous, since a wait ends as soon as the event is in.
const wait = 5 * time.Second

type traced struct {
	ev      fsnotify.Event
	changed bool
}

// harness is a Watcher with its trace. Each step of a test first syncs with the watcher (it
// makes a marker folder next to the watched paths and waits until the watcher handled it, then
// drops the token), so the token that the step checks comes from its own events, not from the
// late events of the step before.
type harness struct {
	t      *testing.T
	w      *Watcher
	events chan traced
	errs   chan error
	marks  string // where markers are made: the parent of the first path, always watched
}

func start(t *testing.T, paths ...string) *harness {
	t.Helper()
	return startWith(t, nil, paths...)
}

func startWith(t *testing.T, match func(string) bool, paths ...string) *harness {
	t.Helper()
	h := &harness{t: t, events: make(chan traced, 100000), errs: make(chan error, 100), marks: filepath.Dir(paths[0])}
	ctx, cancel := context.WithCancel(context.Background())
	opts := Options{
		Match:   match,
		OnError: func(err error) { h.errs <- err },
		trace:   func(ev fsnotify.Event, changed bool) { h.events <- traced{ev, changed} },
	}
	w, err := Watch(ctx, paths, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	h.w = w
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.Done():
		case <-time.After(wait):
			t.Error("the watcher did not end with its context")
		}
		close(h.errs)
		for err := range h.errs {
			t.Errorf("OnError: %v", err)
		}
	})
	select {
	case <-w.Changes():
	default:
		t.Fatal("no token at the start")
	}
	return h
}

// sync waits until the watcher handled everything done so far, and drops the token.
func (h *harness) sync() {
	h.t.Helper()
	// MkdirTemp, not a name made from h: harnesses of subtests share a folder, and a later
	// one may be allocated where an earlier one was.
	marker, err := os.MkdirTemp(h.marks, ".sync-") // one event
	if err != nil {
		h.t.Fatal(err)
	}
	h.waitFor(marker, false)
	select {
	case <-h.w.Changes():
	default:
	}
}

// waitFor waits until an event on name (any name when "") was handled (and signalled, if
// signalled), and returns the events handled meanwhile.
func (h *harness) waitFor(name string, signalled bool) []traced {
	h.t.Helper()
	deadline := time.After(wait)
	var seen []traced
	for {
		select {
		case e := <-h.events:
			seen = append(seen, e)
			if (name == "" || e.ev.Name == name) && (e.changed || !signalled) {
				return seen
			}
		case <-deadline:
			h.t.Fatalf("no event on %s (signalled: %v) within %v; events: %v", name, signalled, wait, seen)
		}
	}
}

// step syncs, runs action, and checks that an event on name (any event when "") was
// signalled and left a token.
func (h *harness) step(name string, action func()) {
	h.t.Helper()
	h.sync()
	action()
	h.waitFor(name, true)
	select {
	case <-h.w.Changes():
	default:
		h.t.Fatalf("%s was signalled but no token is waiting", name)
	}
}

// quiet syncs, runs action, and checks that nothing it did was signalled: sentinel, an event
// the caller makes last, marks the end.
func (h *harness) quiet(sentinel string, action func()) {
	h.t.Helper()
	h.sync()
	action()
	for _, e := range h.waitFor(sentinel, false) {
		if e.changed {
			h.t.Errorf("unexpected signal for %s", e.ev)
		}
	}
	select {
	case <-h.w.Changes():
		h.t.Error("a token is waiting")
	default:
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replace writes path the way editors and kubectl-like tools do: a temporary file renamed
// over it.
func replace(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	write(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWatchFolder(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.yaml")
	b := filepath.Join(dir, "b.yml")
	write(t, a, "a: 1\n")
	h := startWith(t, isManifest, dir)

	h.step(a, func() { write(t, a, "a: 2\n") })
	h.step(b, func() { write(t, b, "b: 1\n") })
	h.step(a, func() { replace(t, a, "a: 3\n") })
	// The replacement is watched, not the file it replaced.
	h.step(a, func() { write(t, a, "a: 4\n") })
	h.step(b, func() { must(t, os.Remove(b)) })

	// A new folder with a file in it at once: the file may be written before the folder is
	// watched, but the folder's creation is signalled, and a later write in it too.
	sub := filepath.Join(dir, "sub")
	c := filepath.Join(sub, "c.json")
	h.step(sub, func() {
		must(t, os.Mkdir(sub, 0o700))
		write(t, c, "{}\n")
	})
	h.step(c, func() { write(t, c, `{"c": 2}`+"\n") })

	// Nested folders made in one go are all watched.
	x := filepath.Join(dir, "x")
	deep := filepath.Join(x, "y", "z")
	d := filepath.Join(deep, "d.yaml")
	h.step(x, func() { must(t, os.MkdirAll(deep, 0o700)) })
	h.step(d, func() { write(t, d, "d: 1\n") })

	// A folder moved in from elsewhere, with its content.
	outside := filepath.Join(t.TempDir(), "moved")
	must(t, os.MkdirAll(filepath.Join(outside, "inner"), 0o700))
	moved := filepath.Join(dir, "moved")
	e := filepath.Join(moved, "inner", "e.yaml")
	h.step(moved, func() { must(t, os.Rename(outside, moved)) })
	h.step(e, func() { write(t, e, "e: 1\n") })

	// A folder removed: signalled, and forgotten, so that a folder made again at its place is
	// watched again.
	h.step(x, func() { must(t, os.RemoveAll(x)) })
	h.step(x, func() { must(t, os.MkdirAll(deep, 0o700)) })
	h.step(d, func() { write(t, d, "d: 2\n") })

	// A folder renamed within the tree: the new name is watched.
	x2 := filepath.Join(dir, "x2")
	h.step(x2, func() { must(t, os.Rename(x, x2)) })
	d2 := filepath.Join(x2, "y", "z", "d.yaml")
	h.step(d2, func() { write(t, d2, "d: 3\n") })

	// Files that manifest.Load does not read are not signalled: an editor's swap file, a
	// README, a temporary file renamed away.
	sentinel := filepath.Join(dir, "README")
	h.quiet(sentinel, func() {
		write(t, filepath.Join(dir, ".a.yaml.swp"), "x")
		write(t, filepath.Join(dir, "README.md"), "x")
		write(t, filepath.Join(sub, "notes.txt"), "x")
		must(t, os.Rename(filepath.Join(dir, "README.md"), sentinel))
	})
}

func TestWatchFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "facts.yaml")
	write(t, f, "interfaces: []\n")
	other := filepath.Join(dir, "other.yaml")
	write(t, other, "x: 1\n")
	h := start(t, f)

	h.step(f, func() { write(t, f, "interfaces: [] # 2\n") })
	h.step(f, func() { replace(t, f, "interfaces: [] # 3\n") })
	h.step(f, func() { write(t, f, "interfaces: [] # 4\n") })
	h.step(f, func() { must(t, os.Remove(f)) })
	h.step(f, func() { write(t, f, "interfaces: [] # 5\n") })

	// Other files next to it are not signalled.
	sentinel := filepath.Join(dir, "end")
	h.quiet(sentinel, func() {
		write(t, other, "x: 2\n")
		replace(t, other, "x: 3\n")
		must(t, os.Mkdir(sentinel, 0o700))
	})
}

// TestWatchSymlinkSwap updates a file the way kubelet updates a ConfigMap volume: the file is
// a symlink through ..data, a symlink to a timestamped folder; kubelet writes a new folder and
// swaps ..data by a rename.
func TestWatchSymlinkSwap(t *testing.T) {
	vol := t.TempDir()
	mkdata := func(name, content string) {
		must(t, os.Mkdir(filepath.Join(vol, name), 0o700))
		write(t, filepath.Join(vol, name, "facts.yaml"), content)
	}
	mkdata("..2026_01", "interfaces: []\n")
	must(t, os.Symlink("..2026_01", filepath.Join(vol, "..data")))
	f := filepath.Join(vol, "facts.yaml")
	must(t, os.Symlink(filepath.Join("..data", "facts.yaml"), f))

	for i, watched := range []string{f, vol} {
		t.Run(filepath.Base(watched), func(t *testing.T) {
			h := start(t, watched)
			h.marks = vol
			next := fmt.Sprintf("..2026_%02d", i+2)
			// The new folder alone changes nothing read through f (in vol it is a new folder);
			// step syncs past it.
			mkdata(next, "interfaces: [] # "+next+"\n")
			// The target of f changed, not f: the token may come from any event of the swap,
			// depending on when the watcher resolves f.
			h.step("", func() {
				tmp := filepath.Join(vol, "..data_tmp")
				must(t, os.Symlink(next, tmp))
				must(t, os.Rename(tmp, filepath.Join(vol, "..data")))
			})
		})
	}
}

func TestWatchRootFolderRecreated(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "manifests")
	must(t, os.Mkdir(dir, 0o700))
	h := startWith(t, isManifest, dir)
	h.step(dir, func() { must(t, os.RemoveAll(dir)) })
	h.step(dir, func() { must(t, os.Mkdir(dir, 0o700)) })
	a := filepath.Join(dir, "a.yaml")
	h.step(a, func() { write(t, a, "a: 1\n") })
}

func TestWatchSymlinkedFolder(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "manifests")
	must(t, os.Symlink(real, link))
	must(t, os.Mkdir(filepath.Join(real, "sub"), 0o700))
	h := startWith(t, isManifest, link)
	a := filepath.Join(link, "sub", "a.yaml")
	h.step(a, func() { write(t, a, "a: 1\n") })
}

func TestWatchErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Watch(ctx, nil, Options{}); err == nil {
		t.Error("Watch(no path): no error")
	}
	missing := filepath.Join(t.TempDir(), "absent")
	if _, err := Watch(ctx, []string{missing}, Options{}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Watch(%s) error = %v, want one naming it", missing, err)
	}
	if _, err := Watch(ctx, []string{"-"}, Options{}); err == nil {
		t.Error("Watch(-): no error")
	}
}

// TestWatchBurst writes one file 1,000 times. A consumer that does not read during the burst
// finds one token after it; one that reads and works meanwhile consumes a token per piece of
// work at most, however many events there were.
func TestWatchBurst(t *testing.T) {
	const writes = 1000
	node := func(i int) string {
		return fmt.Sprintf("apiVersion: cilium.io/v2\nkind: CiliumNode\nmetadata: {name: n%d}\n", i)
	}

	t.Run("idle consumer", func(t *testing.T) {
		dir := t.TempDir()
		f := filepath.Join(dir, "node.yaml")
		write(t, f, node(0))
		h := startWith(t, isManifest, dir)
		for i := range writes {
			write(t, f, node(i))
		}
		sentinel := filepath.Join(dir, "zz-sentinel.yaml")
		write(t, sentinel, node(-1))
		// Wait until the watcher handled the sentinel, the last event of the burst.
		events, signalled := 0, 0
		for done := false; !done; {
			select {
			case e := <-h.events:
				events++
				if e.changed {
					signalled++
				}
				done = e.ev.Name == sentinel
			case <-time.After(wait):
				t.Fatal("the sentinel was not seen")
			}
		}
		tokens := 0
		for more := true; more; {
			select {
			case <-h.w.Changes():
				tokens++
			default:
				more = false
			}
		}
		t.Logf("%d writes: %d events handled, %d signalled, %d token(s) for the consumer", writes, events, signalled, tokens)
		if tokens != 1 {
			t.Errorf("tokens after the burst = %d, want 1", tokens)
		}
	})

	t.Run("busy consumer", func(t *testing.T) {
		dir := t.TempDir()
		f := filepath.Join(dir, "node.yaml")
		write(t, f, node(0))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		m, err := WatchManifests(ctx, []string{dir}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		<-m.Changes()
		const work = 10 * time.Millisecond // a consumer that loads, translates, renders
		begin := time.Now()
		wrote := make(chan time.Duration)
		go func() {
			for i := range writes {
				if err := os.WriteFile(f, []byte(node(i)), 0o600); err != nil {
					t.Error(err)
				}
			}
			wrote <- time.Since(begin)
		}()
		var burst time.Duration
		tokens := 0
		for burst == 0 {
			select {
			case <-m.Changes():
				tokens++
				if _, _, err := m.Load(); err != nil {
					t.Error(err)
				}
				time.Sleep(work)
			case burst = <-wrote:
			}
		}
		// The events of the burst are all handled once a later one is: write a file, the
		// last token of the burst may be waiting behind it.
		write(t, filepath.Join(dir, "zz-sentinel.yaml"), node(-1))
		select {
		case <-m.Changes():
			tokens++
		case <-time.After(wait):
			t.Fatal("no token for the sentinel")
		}
		limit := int(burst/work) + 5 // the slot, the sentinel, and the tail of the last piece of work
		t.Logf("%d writes in %v, consumer working %v a token: %d tokens (limit %d)", writes, burst.Round(time.Millisecond), work, tokens, limit)
		if tokens > limit {
			t.Errorf("tokens = %d, want at most %d", tokens, limit)
		}
	})
}

func TestManifestsLoad(t *testing.T) {
	dir := t.TempDir()
	node := func(name string) string {
		return "apiVersion: cilium.io/v2\nkind: CiliumNode\nmetadata: {name: " + name + "}\n"
	}
	write(t, filepath.Join(dir, "n1.yaml"), node("n1"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := WatchManifests(ctx, []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	<-m.Changes()
	snap, _, err := m.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.CiliumNodes) != 1 {
		t.Fatalf("CiliumNodes = %d, want 1", len(snap.CiliumNodes))
	}
	replace(t, filepath.Join(dir, "n2.yaml"), node("n2"))
	select {
	case <-m.Changes():
	case <-time.After(wait):
		t.Fatal("no token after a new file")
	}
	snap, _, err = m.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.CiliumNodes) != 2 {
		t.Errorf("CiliumNodes = %d, want 2", len(snap.CiliumNodes))
	}
	cancel()
	select {
	case <-m.Done():
	case <-time.After(wait):
		t.Fatal("Done not closed after the context ended")
	}
}
