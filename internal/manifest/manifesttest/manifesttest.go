// Package manifesttest writes manifest folders for tests that follow them: a copy of the
// embedded seed, and edits made the way editors and tools make them. SeedCopy, WriteAtomic and
// Edit fail the test; CopySeed, WriteFile and Replace return errors, for programs (hack/demo).
package manifesttest

import (
	"fmt"
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
	if err := CopySeed(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// CopySeed copies the seed's Hands-On (examples.SeedDir) into dir, which must exist.
func CopySeed(dir string) error {
	return fs.WalkDir(examples.Seed, examples.SeedDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.Seed, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(p)), data, 0o600)
	})
}

// WriteAtomic writes a file the way editors and tools do: a temporary file renamed over it.
// It returns the time of the rename: when the new content appeared.
func WriteAtomic(t testing.TB, path, content string) time.Time {
	t.Helper()
	at, err := WriteFile(path, content)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// WriteFile writes a file the way editors and tools do: a temporary file (.NAME.tmp, not a
// manifest by its name) renamed over it. It returns the time of the rename:
// when the new content appeared.
func WriteFile(path, content string) (time.Time, error) {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return time.Time{}, err
	}
	at := time.Now()
	if err := os.Rename(tmp, path); err != nil {
		return time.Time{}, err
	}
	return at, nil
}

// Edit replaces old by new in a file, atomically; old must be there. It returns the time of
// the change.
func Edit(t testing.TB, path, old, new string) time.Time {
	t.Helper()
	at, err := Replace(path, old, new)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// Replace replaces the first old by new in a file, atomically (WriteFile); old must be there.
// It returns the time of the change.
func Replace(path, old, new string) (time.Time, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	if !strings.Contains(string(data), old) {
		return time.Time{}, fmt.Errorf("%s does not contain %q", path, old)
	}
	return WriteFile(path, strings.Replace(string(data), old, new, 1))
}
