// Package testbin builds the frr-renderer command for tests that run it as a process beside
// real FRR (the standalone loop, the sidecar). It builds once per test process and must never
// build anywhere but a temporary folder. It also holds what tests of several packages share: a
// buffer a running command writes (SyncBuffer), a disk that fills up or turns read-only (Disk).
package testbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// FrrRenderer returns the path of an frr-renderer binary: the one $env names when it is set,
// else one built from this module's ./cmd/frr-renderer, once per process. Call Cleanup from
// TestMain to remove it.
func FrrRenderer(t testing.TB, env string) string {
	t.Helper()
	if bin := os.Getenv(env); bin != "" {
		return bin
	}
	build.once.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			build.err = err
			return
		}
		if build.dir, build.err = os.MkdirTemp("", "frr-renderer-test-"); build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "frr-renderer")
		cmd := exec.Command("go", "build", "-o", build.bin, "./cmd/frr-renderer")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/frr-renderer: %w\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// Cleanup removes the binary FrrRenderer built, if any.
func Cleanup() {
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
}

// ModuleRoot is the folder of the go.mod above the working directory (a package's folder
// while its tests run).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testbin: no go.mod above the working directory")
		}
		dir = parent
	}
}
