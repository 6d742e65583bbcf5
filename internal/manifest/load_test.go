package manifest_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
)

func TestLoadSeed(t *testing.T) {
	tests := []struct {
		dir          string
		want         map[string]int
		wantWarnings int
	}{
		{
			dir: "hands-on",
			want: map[string]int{
				"CiliumBGPClusterConfig": 1, "CiliumBGPPeerConfig": 1, "CiliumBGPAdvertisement": 1,
				"Node": 3, "CiliumNode": 3, "Service": 1,
			},
		},
		{
			dir: "reference",
			// Three files define the Advertisement bgp-advertisements: one feature each.
			want: map[string]int{
				"CiliumBGPClusterConfig": 2, "CiliumBGPPeerConfig": 1, "CiliumBGPAdvertisement": 3,
				"CiliumPodIPPool": 1, "Secret": 1,
			},
			wantWarnings: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			s, diags, err := manifest.Load([]string{filepath.Join(seedDir, tt.dir)}, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			assertCounts(t, s, tt.want)
			warnings := 0
			for _, d := range diags {
				if d.Severity != model.Warning {
					t.Errorf("unexpected diagnostic %v", d)
				}
				warnings++
			}
			if warnings != tt.wantWarnings {
				t.Errorf("got %d warnings, want %d: %v", warnings, tt.wantWarnings, diags)
			}
		})
	}
}

// TestLoadSeedFiles decodes every seed manifest on its own, so that none hides behind a
// duplicate.
func TestLoadSeedFiles(t *testing.T) {
	for _, f := range seedFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, diags, err := manifest.Load([]string{f}, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(diags) != 0 {
				t.Errorf("diagnostics: %v", diags)
			}
			if len(counts(s)) == 0 && !strings.HasSuffix(f, "lb-pool.yaml") {
				t.Errorf("no object kept")
			}
		})
	}
}

func service(name string) string {
	return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\n"
}

func TestLoadDirectory(t *testing.T) {
	tests := []struct {
		name         string
		files        map[string]string
		paths        []string // relative to the directory; "." is the directory itself
		want         []string
		wantWarnings []string
	}{
		{
			name: "recursive in lexical order, manifest extensions only",
			files: map[string]string{
				"c.yaml":     service("s4"),
				"b/2.yaml":   service("s3"),
				"b/1.yml":    service("s2"),
				"a.json":     `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s1"}}`,
				"d/e/f.yaml": service("s5"),
				"notes.txt":  service("ignored"),
				"README.md":  "# not YAML: [",
				"tor.conf":   "router bgp 65000",
			},
			paths: []string{"."},
			want:  []string{"default/s1", "default/s2", "default/s3", "default/s4", "default/s5"},
		},
		{
			name: "a file named explicitly is read whatever its extension",
			files: map[string]string{
				"a.yaml":    service("s1"),
				"notes.txt": service("s2"),
			},
			paths: []string{".", "notes.txt"},
			want:  []string{"default/s1", "default/s2"},
		},
		{
			name: "a later file replaces an earlier definition and takes its place",
			files: map[string]string{
				"a.yaml": service("s1") + "---\n" + service("s2"),
				"b.yaml": service("s1"),
			},
			paths:        []string{"."},
			want:         []string{"default/s2", "default/s1"},
			wantWarnings: []string{"b.yaml: document 1", "a.yaml: document 1"},
		},
		{
			name:  "paths are read in the order given",
			files: map[string]string{"a.yaml": service("s1"), "b.yaml": service("s2")},
			paths: []string{"b.yaml", "a.yaml"},
			want:  []string{"default/s2", "default/s1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var paths []string
			for _, p := range tt.paths {
				paths = append(paths, filepath.Join(dir, p))
			}
			s, diags, err := manifest.Load(paths, nil)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := names(s, "Service"); !slices.Equal(got, tt.want) {
				t.Errorf("services = %v, want %v", got, tt.want)
			}
			if len(tt.wantWarnings) == 0 && len(diags) > 0 {
				t.Errorf("unexpected diagnostics: %v", diags)
			}
			if len(tt.wantWarnings) > 0 {
				if len(diags) != 1 || diags[0].Severity != model.Warning {
					t.Fatalf("diagnostics = %v, want one warning", diags)
				}
				for _, w := range tt.wantWarnings {
					if !strings.Contains(diags[0].Message, w) {
						t.Errorf("warning %q does not name %q", diags[0].Message, w)
					}
				}
			}
		})
	}
}

func TestLoadStdin(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(file, []byte(service("from-file")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		paths   []string
		stdin   string
		want    []string
		wantErr string
	}{
		{name: "stdin alone", paths: []string{"-"}, stdin: service("from-stdin"), want: []string{"default/from-stdin"}},
		{name: "stdin after a file", paths: []string{file, "-"}, stdin: service("from-stdin"), want: []string{"default/from-file", "default/from-stdin"}},
		{name: "errors name stdin", paths: []string{"-"}, stdin: "kind: [", wantErr: "<stdin>: document 1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, err := manifest.Load(tt.paths, strings.NewReader(tt.stdin))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := names(s, "Service"); !slices.Equal(got, tt.want) {
				t.Errorf("services = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "sub", "broken.yaml")
	if err := os.MkdirAll(filepath.Dir(broken), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, []byte(service("ok")+"---\nkind: Service\nmetadata: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("missing path", func(t *testing.T) {
		s, _, err := manifest.Load([]string{filepath.Join(dir, "missing.yaml")}, nil)
		if !errors.Is(err, fs.ErrNotExist) || s != nil {
			t.Errorf("Load = %v, %v; want a not-exist error and no snapshot", s, err)
		}
	})
	t.Run("stdin without reader", func(t *testing.T) {
		if _, _, err := manifest.Load([]string{"-"}, nil); err == nil {
			t.Error("Load succeeded")
		}
	})
	t.Run("broken file in a directory", func(t *testing.T) {
		_, _, err := manifest.Load([]string{dir}, nil)
		if want := broken + ": document 2: yaml: "; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error = %v, want prefix %q", err, want)
		}
	})
}

// TestLoadFollowsSymlinkedRootAndSkipsHiddenFolders: a folder given through a symlink is read,
// and hidden folders (a ConfigMap volume's ..data and timestamped copies) are not.
func TestLoadFollowsSymlinkedRootAndSkipsHiddenFolders(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	hidden := filepath.Join(real, "..2026_11_26")
	if err := os.MkdirAll(hidden, 0o755); err != nil {
		t.Fatal(err)
	}
	node := "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"
	for _, p := range []string{filepath.Join(real, "node.yaml"), filepath.Join(hidden, "node.yaml")} {
		if err := os.WriteFile(p, []byte(node), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	snap, diags, err := manifest.Load([]string{link}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Nodes) != 1 || len(diags) != 0 {
		t.Errorf("got %d nodes and diagnostics %v; want one node read once", len(snap.Nodes), diags)
	}
}

// TestLoadSkipsWhatIsNotARegularFile: in a folder, a named pipe (which would block a reader
// until a writer comes), a symlink to nothing and a symlink to a folder named like a manifest
// are skipped with a warning each; the rest is read.
func TestLoadSkipsWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", service("s1"))
	write("target", service("s2"))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(syscall.Mkfifo(filepath.Join(dir, "b-fifo.yaml"), 0o644))
	must(os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "c-dangling.yaml")))
	must(os.Mkdir(filepath.Join(dir, "folder"), 0o755))
	must(os.Symlink(filepath.Join(dir, "folder"), filepath.Join(dir, "d-folder.yaml")))
	must(os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "e-link.yaml")))

	s, diags, err := loadOrHang(t, []string{dir})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := names(s, "Service"), []string{"default/s1", "default/s2"}; !slices.Equal(got, want) {
		t.Errorf("services = %v, want %v", got, want)
	}
	want := []string{
		strconv.Quote(filepath.Join(dir, "b-fifo.yaml")) + " is skipped: a named pipe",
		strconv.Quote(filepath.Join(dir, "c-dangling.yaml")) + " is skipped: a symlink to nothing",
		strconv.Quote(filepath.Join(dir, "d-folder.yaml")) + " is skipped: a folder",
	}
	if len(diags) != len(want) {
		t.Fatalf("diagnostics = %v, want %d warnings", diags, len(want))
	}
	for i, d := range diags {
		if d.Severity != model.Warning || !strings.HasPrefix(d.Message, want[i]) {
			t.Errorf("diagnostic %d = %v, want a warning starting %q", i, d, want[i])
		}
	}
}

// TestLoadReadsAPipeNamedExplicitly: a pipe given as a path (as <(command) gives) is read to
// its end, and one without a writer is empty, not waited for.
func TestLoadReadsAPipeNamedExplicitly(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := w.WriteString(service("piped")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	s, diags, err := loadOrHang(t, []string{fmt.Sprintf("/proc/self/fd/%d", r.Fd()), fifo})
	if err != nil || len(diags) != 0 {
		t.Fatalf("Load: %v, %v", diags, err)
	}
	if got := names(s, "Service"); !slices.Equal(got, []string{"default/piped"}) {
		t.Errorf("services = %v, want the one piped", got)
	}
}

// loadOrHang is manifest.Load, failing the test rather than hanging it if Load blocks.
func loadOrHang(t *testing.T, paths []string) (*model.Snapshot, []model.Diagnostic, error) {
	t.Helper()
	type result struct {
		s     *model.Snapshot
		diags []model.Diagnostic
		err   error
	}
	done := make(chan result, 1)
	go func() {
		s, diags, err := manifest.Load(paths, nil)
		done <- result{s, diags, err}
	}()
	select {
	case r := <-done:
		return r.s, r.diags, r.err
	case <-time.After(time.Minute):
		t.Fatal("Load blocks")
		return nil, nil, nil
	}
}

// TestLoadQuotesPathsThatNeedIt: a file name cannot forge a line of its own in an error.
func TestLoadQuotesPathsThatNeedIt(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "a\nerror: forged.yaml")
	if err := os.WriteFile(name, []byte("kind: ["), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := manifest.Load([]string{dir}, nil)
	if want := strconv.Quote(name) + ": document 1: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v, want prefix %q", err, want)
	}
}
