// Package manifesttest writes manifest folders for tests that follow them: a copy of the
// embedded seed, and edits made the way editors and tools make them.
package manifesttest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/examples"
)

// SeedCopy copies the seed's Hands-On (examples.SeedDir) into a new temporary folder.
func SeedCopy(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(examples.Seed, examples.SeedDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.Seed, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(p)), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// WriteAtomic writes a file the way editors and tools do: a temporary file renamed over it.
// It returns the time of the rename: when the new content appeared.
func WriteAtomic(t testing.TB, path, content string) time.Time {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	return at
}

// Edit replaces old by new in a file, atomically; old must be there. It returns the time of
// the change.
func Edit(t testing.TB, path, old, new string) time.Time {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	return WriteAtomic(t, path, strings.Replace(string(data), old, new, 1))
}
