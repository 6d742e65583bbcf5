package filewatch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/snapshot"
)

// TakeChanges names the files that changed, and says when a list of files cannot.
func TestTakeChanges(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	write(t, a, "a: 1\n")
	h := startWith(t, isManifest, dir)
	if _, all := h.w.TakeChanges(); !all {
		t.Error("nothing was read yet: want all")
	}
	steps := []struct {
		name   string
		action func()
		paths  []string
		all    bool
	}{
		{"write in place", func() { write(t, a, "a: 2\n") }, []string{a}, false},
		{"rename into place", func() { replace(t, b, "b: 1\n") }, []string{b}, false},
		{"remove", func() { must(t, os.Remove(b)) }, []string{b}, false},
		{"not a manifest", func() { write(t, filepath.Join(dir, "README"), "x") }, nil, false},
		{"new folder", func() { must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700)) }, []string{filepath.Join(dir, "sub")}, true},
		{"symlink", func() { must(t, os.Symlink(a, filepath.Join(dir, "c.yaml"))) }, []string{filepath.Join(dir, "c.yaml")}, true},
	}
	for _, s := range steps {
		h.sync()
		h.w.TakeChanges()
		s.action()
		h.sync()
		paths, all := h.w.TakeChanges()
		if !slices.Equal(paths, s.paths) || all != s.all {
			t.Errorf("%s: paths %v all %v, want %v %v", s.name, paths, all, s.paths, s.all)
		}
	}
}

// Whole tells a file renamed into place or closed from one still being written.
func TestWhole(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.yaml")
	write(t, a, "a: 1\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := Watch(ctx, []string{dir}, Options{Match: isManifest, Wholeness: true})
	if err != nil {
		t.Fatal(err)
	}
	<-w.Changes()
	w.TakeChanges()
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, wait)
			}
			time.Sleep(time.Millisecond)
		}
	}

	replace(t, a, "a: 2\n")
	eventually("a file renamed into place is whole", func() bool {
		paths, _ := peek(w)
		return len(paths) == 1 && w.Whole()
	})
	w.TakeChanges()

	f, err := os.OpenFile(a, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("a: "); err != nil {
		t.Fatal(err)
	}
	eventually("a write is seen", func() bool { paths, _ := peek(w); return len(paths) == 1 })
	time.Sleep(20 * time.Millisecond) // the wholeness events are in by now
	if w.Whole() {
		t.Error("a file being written is whole")
	}
	drain(w)
	if _, err := f.WriteString("3\n"); err != nil {
		t.Fatal(err)
	}
	must(t, f.Close())
	eventually("a file closed after writing is whole", w.Whole)
	select {
	case <-w.Changes():
	case <-time.After(wait):
		t.Error("no token once the file was whole")
	}

	w.TakeChanges()
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	eventually("a new folder is seen", func() bool { _, all := peek(w); return all })
	time.Sleep(20 * time.Millisecond)
	if w.Whole() {
		t.Error("a folder made in place is whole")
	}
}

// peek is what TakeChanges would return, without taking it.
func peek(w *Watcher) ([]string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var paths []string
	for p := range w.dirty {
		paths = append(paths, p)
	}
	return paths, w.all
}

func drain(w *Watcher) {
	for {
		select {
		case <-w.Changes():
		default:
			return
		}
	}
}

// TestManifestsRandomEdits edits a tree of manifests at random (files written in place,
// renamed into place, removed, created, folders made and removed, objects moved between files
// and defined twice) and after each edit checks that Manifests.LoadChanges returns what
// manifest.Load returns from scratch, and that its Changes, applied to the Services before,
// give the Services after. RANDOM_SEED replays a run.
func TestManifestsRandomEdits(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("RANDOM_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("RANDOM_SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	root := t.TempDir()
	dir := filepath.Join(root, "manifests")
	must(t, os.Mkdir(dir, 0o700))
	var files []string // relative to dir
	content := func() string {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			if r.IntN(6) == 0 {
				fmt.Fprintf(&b, "---\napiVersion: cilium.io/v2\nkind: CiliumNode\nmetadata: {name: node-%d}\n", r.IntN(4))
				continue
			}
			fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-%d, namespace: ns-%d}\nspec: {type: LoadBalancer}\nstatus: {loadBalancer: {ingress: [{ip: 172.20.0.%d}]}}\n",
				r.IntN(20), r.IntN(2), r.IntN(4))
		}
		return b.String()
	}
	for i := range 4 {
		name := fmt.Sprintf("f%d.yaml", i)
		files = append(files, name)
		write(t, filepath.Join(dir, name), content())
	}

	traced := make(chan fsnotify.Event, 10000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := WatchManifests(ctx, []string{dir}, Options{trace: func(ev fsnotify.Event, _ bool) { traced <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	// sync waits until the watcher handled everything done so far.
	n := 0
	sync := func() {
		n++
		marker := filepath.Join(root, fmt.Sprintf("sync-%d", n))
		must(t, os.Mkdir(marker, 0o700))
		for ev := range traced {
			if ev.Name == marker {
				return
			}
		}
	}

	var before *model.Snapshot
	stats := map[string]int{}
	for step := range 300 {
		what := ""
		if step > 0 {
			switch x := r.IntN(100); {
			case x < 35:
				f := files[r.IntN(len(files))]
				write(t, filepath.Join(dir, f), content())
				what = "write " + f
			case x < 70:
				f := files[r.IntN(len(files))]
				replace(t, filepath.Join(dir, f), content())
				what = "replace " + f
			case x < 78 && len(files) > 1:
				i := r.IntN(len(files))
				must(t, os.Remove(filepath.Join(dir, files[i])))
				what = "remove " + files[i]
				files = slices.Delete(files, i, i+1)
			case x < 88:
				sub := ""
				if r.IntN(2) == 0 {
					sub = "sub/"
					must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o700))
				}
				f := fmt.Sprintf("%sn%d.yaml", sub, step)
				write(t, filepath.Join(dir, f), content())
				files = append(files, f)
				what = "create " + f
			case x < 92 && slices.ContainsFunc(files, func(f string) bool { return !strings.HasPrefix(f, "sub/") }):
				must(t, os.RemoveAll(filepath.Join(dir, "sub")))
				files = slices.DeleteFunc(files, func(f string) bool { return strings.HasPrefix(f, "sub/") })
				what = "remove sub/"
			default:
				f := files[r.IntN(len(files))]
				write(t, filepath.Join(dir, f), "")
				what = "empty " + f
			}
		}
		sync()
		got, changes, diags, err := m.LoadChanges()
		want, wantDiags, werr := manifest.Load([]string{dir}, nil)
		if (err != nil) != (werr != nil) {
			t.Fatalf("step %d (%s): error %v, from scratch %v", step, what, err, werr)
		}
		if err != nil {
			continue
		}
		if d := snapshotDiff(got, want); d != "" {
			t.Fatalf("step %d (%s): %s", step, what, d)
		}
		if g, w := diagTexts(diags), diagTexts(wantDiags); !slices.Equal(g, w) {
			t.Fatalf("step %d (%s): diagnostics\n got %v\nwant %v", step, what, g, w)
		}
		if step > 0 {
			if d := changesDiff(before, got, changes); d != "" {
				t.Fatalf("step %d (%s): %s", step, what, d)
			}
		}
		switch {
		case step == 0:
		case changes.All:
			stats["all"]++
		case changes.Empty():
			stats["none"]++
		default:
			stats["some"]++
		}
		before = got
	}
	t.Logf("changes: %v", stats)
}

// snapshotDiff compares two snapshots as sets of objects per kind.
func snapshotDiff(got, want *model.Snapshot) string {
	collect := func(s *model.Snapshot) map[int]map[types.NamespacedName]metav1.Object {
		out := map[int]map[types.NamespacedName]metav1.Object{}
		snapshot.Each(s, func(kind int, o metav1.Object) {
			if out[kind] == nil {
				out[kind] = map[types.NamespacedName]metav1.Object{}
			}
			out[kind][snapshot.Key(o)] = o
		})
		return out
	}
	g, w := collect(got), collect(want)
	for kind := range max(len(g), len(w)) + 20 {
		for k, o := range w[kind] {
			if !reflect.DeepEqual(g[kind][k], o) {
				return fmt.Sprintf("%s %s: got %+v, want %+v", snapshot.KindName(kind), k, g[kind][k], o)
			}
		}
		for k := range g[kind] {
			if w[kind][k] == nil {
				return fmt.Sprintf("%s %s: should not be there", snapshot.KindName(kind), k)
			}
		}
	}
	return ""
}

// diagTexts are diagnostics as sorted texts, but that a duplicate's warning names files only
// (manifest.Load names documents).
func diagTexts(ds []model.Diagnostic) []string {
	var out []string
	for _, d := range ds {
		s := d.String()
		if i := strings.Index(s, "defined again at "); i >= 0 {
			s = s[:i] + stripDocs(s[i:])
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func stripDocs(s string) string {
	for {
		i := strings.Index(s, ": document ")
		if i < 0 {
			return s
		}
		j := i + len(": document ")
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		s = s[:i] + s[j:]
	}
}

// changesDiff checks that changes turn before's Services into after's, and say Other when
// another kind changed.
func changesDiff(before, after *model.Snapshot, changes model.Changes) string {
	if changes.All {
		return ""
	}
	services := map[types.NamespacedName]*corev1.Service{}
	for _, s := range before.Services {
		services[snapshot.Key(s)] = s
	}
	for k, s := range changes.Services {
		if s == nil {
			delete(services, k)
		} else {
			services[k] = s
		}
	}
	want := map[types.NamespacedName]*corev1.Service{}
	for _, s := range after.Services {
		want[snapshot.Key(s)] = s
	}
	if !reflect.DeepEqual(services, want) {
		return fmt.Sprintf("the changes %v do not turn the Services before into those after", changes.Services)
	}
	for k, s := range changes.Services {
		if s != nil && want[k] != s {
			return fmt.Sprintf("Service %s: changes name another object than the snapshot has", k)
		}
	}
	b, a := *before, *after
	b.Services, a.Services, b.EndpointSlices, a.EndpointSlices = nil, nil, nil, nil
	if !changes.Other && snapshotDiff(&b, &a) != "" {
		return "another kind changed and Other is not set: " + snapshotDiff(&b, &a)
	}
	return ""
}

// A file read again whose objects did not change keeps them: the same objects, no change said.
func TestManifestsUnchangedObjects(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "s.yaml")
	svcs := "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: LoadBalancer}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {type: LoadBalancer}\n"
	write(t, f, svcs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	traced := make(chan fsnotify.Event, 100)
	m, err := WatchManifests(ctx, []string{dir}, Options{trace: func(ev fsnotify.Event, _ bool) { traced <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	first, _, _, err := m.LoadChanges()
	if err != nil {
		t.Fatal(err)
	}
	// The same objects, written again in another order and another spelling.
	write(t, f, "kind: Service\napiVersion: v1\nmetadata: {name: b}\nspec: {type: LoadBalancer}\n---\nkind: Service\napiVersion: v1\nmetadata: {name: a, namespace: default}\nspec: {type: LoadBalancer}\n")
	for ev := range traced {
		if ev.Name == f {
			break
		}
	}
	time.Sleep(10 * time.Millisecond) // the write's last events
	second, changes, _, err := m.LoadChanges()
	if err != nil {
		t.Fatal(err)
	}
	if !changes.Empty() {
		t.Errorf("changes %+v, want none", changes)
	}
	if &first.Services[0] != &second.Services[0] {
		t.Error("the Services were made anew")
	}
}

// What is not a regular file is skipped with a warning, never read, whether found by listing a
// folder, named as a path to watch, or put where a manifest was: a named pipe would block its
// reader until a writer came.
func TestManifestsSkipWhatIsNotARegularFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "manifests")
	must(t, os.Mkdir(dir, 0o700))
	svc := func(name string) string { return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\n" }
	write(t, filepath.Join(dir, "a.yaml"), svc("s1"))
	write(t, filepath.Join(dir, "b.yaml"), svc("s2"))
	must(t, syscall.Mkfifo(filepath.Join(dir, "c-fifo.yaml"), 0o600))
	must(t, os.Symlink(filepath.Join(root, "missing"), filepath.Join(dir, "d-dangling.yaml")))
	must(t, os.Symlink(root, filepath.Join(dir, "e-folder.yaml")))
	rootFIFO := filepath.Join(root, "fifo.yaml")
	must(t, syscall.Mkfifo(rootFIFO, 0o600))

	traced := make(chan fsnotify.Event, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := WatchManifests(ctx, []string{dir, rootFIFO}, Options{trace: func(ev fsnotify.Event, _ bool) { traced <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, wantServices []string, wantSkipped ...string) {
		t.Helper()
		snap, diags := loadChangesOrHang(t, m)
		if got := snapshotNames(snap); !slices.Equal(got, wantServices) {
			t.Errorf("%s: services %v, want %v", step, got, wantServices)
		}
		var skipped []string
		for _, d := range diags {
			if d.Severity != model.Warning || !strings.Contains(d.Message, " is skipped: ") {
				t.Errorf("%s: unexpected diagnostic %v", step, d)
				continue
			}
			path, _ := strconv.QuotedPrefix(d.Message)
			skipped = append(skipped, filepath.Base(unquote(path)))
		}
		slices.Sort(skipped)
		if !slices.Equal(skipped, wantSkipped) {
			t.Errorf("%s: skipped %v, want %v", step, skipped, wantSkipped)
		}
	}
	check("first load", []string{"default/s1", "default/s2"}, "c-fifo.yaml", "d-dangling.yaml", "e-folder.yaml", "fifo.yaml")

	b := filepath.Join(dir, "b.yaml")
	must(t, os.Remove(b))
	must(t, syscall.Mkfifo(b, 0o600))
	for ev := range traced {
		if ev.Name == b && ev.Has(fsnotify.Create) {
			break
		}
	}
	check("a manifest replaced by a named pipe", []string{"default/s1"}, "b.yaml", "c-fifo.yaml", "d-dangling.yaml", "e-folder.yaml", "fifo.yaml")
}

func snapshotNames(s *model.Snapshot) []string {
	var names []string
	for _, svc := range s.Services {
		names = append(names, svc.Namespace+"/"+svc.Name)
	}
	slices.Sort(names)
	return names
}

func unquote(s string) string {
	u, _ := strconv.Unquote(s)
	return u
}

// loadChangesOrHang is m.LoadChanges, failing the test rather than hanging it if the load blocks.
func loadChangesOrHang(t *testing.T, m *Manifests) (*model.Snapshot, []model.Diagnostic) {
	t.Helper()
	type result struct {
		snap  *model.Snapshot
		diags []model.Diagnostic
		err   error
	}
	done := make(chan result, 1)
	go func() {
		snap, _, diags, err := m.LoadChanges()
		done <- result{snap, diags, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("LoadChanges: %v", r.err)
		}
		return r.snap, r.diags
	case <-time.After(time.Minute):
		t.Fatal("LoadChanges blocks")
		return nil, nil
	}
}
