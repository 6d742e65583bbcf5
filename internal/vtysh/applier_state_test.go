package vtysh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
)

// TestApplierStateFileUnwritable: with the state file's disk full or read-only, bgpd still gets
// the configuration, the failure shows in the result and the status, Run retries the write, and
// once the disk is writable again the state file is written without a new Submit: a restarted
// frr-renderer still owns (and so deletes) what was rendered meanwhile.
func TestApplierStateFileUnwritable(t *testing.T) {
	faults := []struct {
		name       string
		fail, mend func(*testbin.Disk)
		errno      syscall.Errno
	}{
		{"full", (*testbin.Disk).Fill, (*testbin.Disk).Empty, syscall.ENOSPC},
		{"read-only", func(d *testbin.Disk) { d.Remount("ro") }, func(d *testbin.Disk) { d.Remount("rw") }, syscall.EROFS},
	}
	for _, v := range frrtest.Supported() {
		for _, f := range faults {
			t.Run(string(v)+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				r := frrtest.Start(t, v, "state")
				disk := testbin.NewDisk(t)
				state := filepath.Join(disk.Path(), StateFileName)
				f.fail(disk)

				a := newApplier(t, r, ApplierOptions{StateFile: state, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
					LivenessInterval: -1, DriftInterval: -1}) // only the backoff brings the next write
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
