package vtysh

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// stateDisk is a 4 KiB tmpfs mounted in a mount namespace of its own, held by a helper process:
// the host's mounts are left alone, and this process reaches the tmpfs through the helper's
// /proc/PID/root.
type stateDisk struct {
	t     *testing.T
	pid   int
	mount string // the mount point in the helper's namespace
	path  string // the same directory, as this process reaches it
}

func newStateDisk(t *testing.T) *stateDisk {
	t.Helper()
	mnt := t.TempDir()
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o size=4k tmpfs "$1" && echo mounted && exec sleep infinity`, "sh", mnt)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "mounted\n" {
		t.Fatalf("mounting a tmpfs in a private mount namespace: %q %s", line, stderr.String())
	}
	return &stateDisk{t: t, pid: cmd.Process.Pid, mount: mnt, path: filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "root", mnt)}
}

// remount remounts the tmpfs with opts ("ro", "rw").
func (d *stateDisk) remount(opts string) {
	d.t.Helper()
	out, err := exec.Command("nsenter", "-t", strconv.Itoa(d.pid), "-m", "mount", "-o", "remount,"+opts, d.mount).CombinedOutput()
	if err != nil {
		d.t.Fatalf("remount %s: %v: %s", opts, err, out)
	}
}

// fill writes a file until the tmpfs has no space left.
func (d *stateDisk) fill() {
	d.t.Helper()
	f, err := os.Create(filepath.Join(d.path, "filler"))
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	for {
		if _, err = f.Write(make([]byte, 1024)); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		d.t.Fatalf("filling the tmpfs: %v, want ENOSPC", err)
	}
}

func (d *stateDisk) empty() {
	d.t.Helper()
	if err := os.Remove(filepath.Join(d.path, "filler")); err != nil {
		d.t.Fatal(err)
	}
}

// TestApplierStateFileUnwritable: with the state file's disk full or read-only, bgpd still gets
// the configuration, the failure shows in the result and the status, Run retries the write, and
// once the disk is writable again the state file is written without a new Submit: a restarted
// frr-renderer still owns (and so deletes) what was rendered meanwhile.
func TestApplierStateFileUnwritable(t *testing.T) {
	faults := []struct {
		name       string
		fail, mend func(*stateDisk)
		errno      syscall.Errno
	}{
		{"full", (*stateDisk).fill, (*stateDisk).empty, syscall.ENOSPC},
		{"read-only", func(d *stateDisk) { d.remount("ro") }, func(d *stateDisk) { d.remount("rw") }, syscall.EROFS},
	}
	for _, v := range frrtest.Supported() {
		for _, f := range faults {
			t.Run(string(v)+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				r := frrtest.Start(t, v, "state")
				disk := newStateDisk(t)
				state := filepath.Join(disk.path, StateFileName)
				f.fail(disk)

				a := newApplier(t, r, ApplierOptions{StateFile: state, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
				res := mustApply(t, a, frrconfigtest.Seed)
				if err := runs(r, frrconfigtest.Seed); err != nil {
					t.Fatalf("with the state file's disk %s: %v", f.name, err)
				}
				if len(res.Lines) == 0 || !errors.Is(res.StateErr, f.errno) {
					t.Errorf("apply: %d lines, state error %v; want lines and %v", len(res.Lines), res.StateErr, f.errno)
				}
				if st := a.Status(); st.Err != nil || !errors.Is(st.StateErr, f.errno) {
					t.Errorf("status: error %v, state error %v; want no error and %v", st.Err, st.StateErr, f.errno)
				}
				if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("state file on a %s disk: %v, want none", f.name, err)
				}

				// Run retries the write, sending nothing to bgpd, until the disk is mended.
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				wg.Go(func() {
					if err := a.Run(ctx); err != nil {
						t.Errorf("Run: %v", err)
					}
				})
				defer func() { cancel(); wg.Wait() }()
				a.Submit([]byte(frrconfigtest.Seed))
				before := a.Status().Applies
				frrtest.WaitFor(t, 30*time.Second, func() error {
					if st := a.Status(); st.Applies < before+3 || st.StateErr == nil || st.Lines != 0 {
						return fmt.Errorf("status %+v; want 3 more applies, no line sent, the state error", st)
					}
					return nil
				})
				f.mend(disk)
				frrtest.WaitFor(t, 30*time.Second, func() error {
					if st := a.Status(); st.StateErr != nil || st.Err != nil {
						return fmt.Errorf("disk writable again: status %+v", st)
					}
					return nil
				})
				t.Logf("%d applies until the state file was written", a.Status().Applies)
				b, err := os.ReadFile(state)
				if err != nil {
					t.Fatal(err)
				}
				var st stateFile
				if err := json.Unmarshal(b, &st); err != nil {
					t.Fatal(err)
				}
				if want := frrconfig.OwnershipOf(mustParse(t, frrconfigtest.Seed)); !ownershipEqual(st.Ownership, want) {
					t.Errorf("state file %s, want ownership %+v", b, want)
				}
				cancel()
				wg.Wait()

				// A restarted frr-renderer reads that state file: it deletes what was rendered
				// while the disk was unwritable.
				a.Close()
				a2 := newApplier(t, r, ApplierOptions{StateFile: state})
				mustApply(t, a2, "! nothing to advertise\n")
				if err := runs(r, ""); err != nil {
					t.Errorf("restarted applier, nothing desired: %v", err)
				}
			})
		}
	}
}
