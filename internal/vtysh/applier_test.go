package vtysh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// newApplier returns an Applier for r that logs to t, with opts' tuning.
func newApplier(t *testing.T, r *frrtest.Router, opts ApplierOptions) *Applier {
	t.Helper()
	opts.RunDir = r.RunDir()
	opts.Log = testr.NewWithOptions(t, testr.Options{Verbosity: 1})
	a := NewApplier(opts)
	t.Cleanup(func() { a.Close() })
	return a
}

// runApplier runs a.Run until the test ends (and waits for it, so that it logs no more).
func runApplier(t *testing.T, a *Applier) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// runs fails unless r's bgpd runs want (and, in the same blocks, nothing else).
func runs(r *frrtest.Router, want string) error {
	got, err := r.RunningConfig()
	if err != nil {
		return err
	}
	if d := frrtest.DiffBlocks(want, got); d != "" {
		return fmt.Errorf("bgpd runs (-want +got):\n%s", d)
	}
	return nil
}

func mustApply(t *testing.T, a *Applier, desired string) ApplyResult {
	t.Helper()
	res, err := a.Apply(timeout(t, time.Minute), []byte(desired))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

func mustParse(t testing.TB, text string) *frrconfig.Config {
	t.Helper()
	c, err := frrconfig.Parse(text)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// TestApplierEmptyBgpd: the first apply reads bgpd back and loads everything, the same
// configuration again sends nothing and reads nothing; an Applier that starts over (a
// restarted frr-renderer) reads back, finds nothing to do, and still owns what it rendered.
func TestApplierEmptyBgpd(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			r := frrtest.Start(t, v, "apply")
			a := newApplier(t, r, ApplierOptions{})
			res := mustApply(t, a, frrconfigtest.Seed)
			if !res.ReadBack || len(res.Lines) == 0 || len(res.Resets) != 0 {
				t.Errorf("first apply: read back %v, %d lines, resets %q; want a read-back, lines, no reset", res.ReadBack, len(res.Lines), res.Resets)
			}
			t.Logf("first apply: %d lines in %v", len(res.Lines), res.Duration)
			if err := runs(r, frrconfigtest.Seed); err != nil {
				t.Fatal(err)
			}
			res = mustApply(t, a, frrconfigtest.Seed)
			if res.ReadBack || len(res.Lines) != 0 {
				t.Errorf("second apply: read back %v, lines %q; want neither", res.ReadBack, res.Lines)
			}
			t.Logf("second apply: %v", res.Duration)
			if err := a.Verify(timeout(t, 10*time.Second)); err != nil {
				t.Error(err)
			}
			if st := a.Status(); st.Applies != 2 || st.Reads != 2 || st.Err != nil || st.Failures != 0 {
				t.Errorf("status %+v: want 2 applies, 2 reads (first apply, Verify), no error", st)
			}

			// The state file remembers what frr-renderer owns.
			b, err := os.ReadFile(filepath.Join(r.RunDir(), StateFileName))
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

			// A new Applier: same configuration, nothing sent.
			a2 := newApplier(t, r, ApplierOptions{})
			res = mustApply(t, a2, frrconfigtest.Seed)
			if !res.ReadBack || len(res.Lines) != 0 {
				t.Errorf("restarted applier: read back %v, lines %q; want a read-back and no line", res.ReadBack, res.Lines)
			}
		})
	}
}

// foreignConf is an operator's configuration beside frr-renderer's; foreignRead is how FRR
// prints it.
const (
	foreignConf = "route-map OPERATOR permit 10\nexit\n!\nbgp community-list standard OPS permit 65000:1\n"
	foreignRead = "route-map OPERATOR permit 10\nexit\n!\nbgp community-list standard OPS seq 5 permit 65000:1\n"
)

// TestApplierForeign: what frr-renderer did not render survives its applies and its deleting
// everything, also by an Applier that starts over with the state file (a restarted
// frr-renderer), which still deletes what the first one rendered.
func TestApplierForeign(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			r := frrtest.Start(t, v, "foreign")
			if err := r.Load(foreignConf); err != nil {
				t.Fatal(err)
			}
			a := newApplier(t, r, ApplierOptions{})
			mustApply(t, a, frrconfigtest.Seed)
			if err := runs(r, foreignRead+frrconfigtest.Seed); err != nil {
				t.Fatal(err)
			}
			changed := frrconfigtest.Edit(t, frrconfigtest.Seed, frrconfigtest.SeedNetwork, frrconfigtest.SeedNetwork+"  network 172.20.0.9/32 route-map CILIUM-ORIGIN-2722987788\n",
				" set tag 2722987788\n", " set community 65000:9\n set tag 2722987788\n")
			if res := mustApply(t, a, changed); len(res.Lines) == 0 || res.ReadBack {
				t.Errorf("change: read back %v, lines %q; want lines and no read-back", res.ReadBack, res.Lines)
			}
			if err := runs(r, foreignRead+changed); err != nil {
				t.Fatal(err)
			}
			// frr-renderer restarts: its new Applier deletes everything it rendered before.
			a.Close()
			a2 := newApplier(t, r, ApplierOptions{})
			res := mustApply(t, a2, "! nothing to advertise\n")
			t.Logf("delete everything: %q", res.Lines)
			if err := runs(r, foreignRead); err != nil {
				t.Fatal(err)
			}
			if res := mustApply(t, a2, "! nothing to advertise\n"); len(res.Lines) != 0 {
				t.Errorf("again: lines %q", res.Lines)
			}
		})
	}
}

// TestApplierErrors: a refused line is named (password masked) and the next attempt reads bgpd
// back; Run retries with backoff; bgpd down and a missing run directory give clear errors.
func TestApplierErrors(t *testing.T) {
	const secret = "s3cr3t-pw"
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			r := frrtest.Start(t, v, "errors")
			// Parse takes it; bgpd refuses it: the neighbor does not exist.
			bad := frrconfigtest.Edit(t, frrconfigtest.Seed, " neighbor 192.168.10.1 graceful-restart\n",
				" neighbor 192.168.10.1 graceful-restart\n neighbor 10.9.9.9 password "+secret+"\n")
			a := newApplier(t, r, ApplierOptions{})
			res, err := a.Apply(timeout(t, 30*time.Second), []byte(bad))
			t.Logf("refused: %v", err)
			if err == nil || !strings.Contains(err.Error(), "neighbor 10.9.9.9 password <redacted>") || strings.Contains(err.Error(), secret) {
				t.Fatalf("Apply: %v; want an error naming the masked line", err)
			}
			if last := res.Lines[len(res.Lines)-1]; last != " neighbor 10.9.9.9 password <redacted>" {
				t.Errorf("last line sent %q", last)
			}
			for _, l := range res.Lines {
				if strings.Contains(l, secret) {
					t.Errorf("result shows the password: %q", l)
				}
			}
			res, err = a.Apply(timeout(t, 30*time.Second), []byte(bad))
			if err == nil || !res.ReadBack {
				t.Errorf("second attempt: read back %v, error %v; want a read-back and the error", res.ReadBack, err)
			}
			// The read-back shows what the first attempt applied: the neighbor it created, still
			// held (HoldNewPeers: the refused line came before the block's end), is released,
			// and the refused line sent again.
			if want := []string{"router bgp 65001", " no neighbor 192.168.10.1 shutdown", " neighbor 10.9.9.9 password <redacted>"}; !slices.Equal(res.Lines, want) {
				t.Errorf("second attempt sent %q, want %q", res.Lines, want)
			}

			// Run retries with backoff, reading back each time, until a good configuration.
			a2 := newApplier(t, r, ApplierOptions{MinBackoff: 20 * time.Millisecond, MaxBackoff: 160 * time.Millisecond})
			runApplier(t, a2)
			start := time.Now()
			a2.Submit([]byte(bad))
			// Five failed attempts, each with a read-back (a snapshot may fall between an
			// attempt's read and its apply: one read ahead). Backoff never lets the attempts run
			// faster than MinBackoff apart, however slow the machine.
			frrtest.WaitFor(t, 30*time.Second, func() error {
				if st := a2.Status(); st.Failures < 5 {
					return fmt.Errorf("%d failed attempts so far", st.Failures)
				}
				return nil
			})
			st := a2.Status()
			elapsed := time.Since(start)
			if st.Failures != st.Applies || st.Reads < st.Applies || st.Reads > st.Applies+1 {
				t.Errorf("after %v of retries: %+v; want only failed applies, each with a read-back", elapsed, st)
			}
			if most := 1 + int(elapsed/(20*time.Millisecond)); st.Applies > most {
				t.Errorf("%d attempts in %v: more than %d, the backoff's minimum of 20 ms apart", st.Applies, elapsed, most)
			}
			t.Logf("after %v: %d attempts, %d reads, last error %v", elapsed, st.Applies, st.Reads, st.Err)
			a2.Submit([]byte(frrconfigtest.Seed))
			frrtest.WaitFor(t, 5*time.Second, func() error {
				if st := a2.Status(); st.Err != nil {
					return st.Err
				}
				return nil
			})
			if err := runs(r, frrconfigtest.Seed); err != nil {
				t.Fatal(err)
			}

			// bgpd killed and not restarted.
			pid := daemonPID(t, r, "bgpd")
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			frrtest.WaitFor(t, 5*time.Second, func() error {
				if syscall.Kill(pid, 0) == nil {
					return errors.New("bgpd still there")
				}
				return nil
			})
			_, err = a.Apply(timeout(t, 10*time.Second), []byte(frrconfigtest.Seed))
			t.Logf("bgpd down: %v", err)
			if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "bgpd is not running") {
				t.Errorf("Apply with bgpd down: %v; want ErrNotRunning", err)
			}
			frrtest.WaitFor(t, 5*time.Second, func() error {
				if st := a2.Status(); !errors.Is(st.Err, ErrNotRunning) {
					return fmt.Errorf("Run's status: %v", st.Err)
				}
				return nil
			})
		})
	}
}

// TestApplierNoFRR: errors without any FRR.
func TestApplierNoFRR(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := NewApplier(ApplierOptions{RunDir: filepath.Join(dir, "missing")})
	_, err := a.Apply(ctx, []byte(frrconfigtest.Seed))
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "FRR run directory "+filepath.Join(dir, "missing")) {
		t.Errorf("missing run directory: %v", err)
	}
	a = NewApplier(ApplierOptions{RunDir: dir})
	_, err = a.Apply(ctx, []byte(frrconfigtest.Seed))
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "no vty socket "+filepath.Join(dir, "bgpd.vty")) {
		t.Errorf("no socket: %v", err)
	}
	t.Log(err)
	if st := a.Status(); st.Applies != 1 || st.Failures != 1 || st.Err == nil {
		t.Errorf("status %+v", st)
	}
}

// TestApplierCoalesces: a thousand Submits in a tight loop while Run runs end in a handful of
// applies, the last configuration winning.
func TestApplierCoalesces(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			r := frrtest.Start(t, v, "coalesce")
			a := newApplier(t, r, ApplierOptions{})
			runApplier(t, a)
			const n = 1000
			var last string
			for i := range n {
				last = frrconfigtest.Edit(t, frrconfigtest.Seed, frrconfigtest.SeedNetwork, fmt.Sprintf("  network 10.77.%d.%d/32 route-map CILIUM-ORIGIN-2722987788\n", i/256, i%256)+frrconfigtest.SeedNetwork)
				a.Submit([]byte(last))
			}
			frrtest.WaitFor(t, 30*time.Second, func() error { return runs(r, last) })
			st := a.Status()
			t.Logf("%d submits, %d applies", n, st.Applies)
			if st.Applies > 10 || st.Err != nil {
				t.Errorf("status %+v: want a handful of applies and no error", st)
			}
		})
	}
}

// fakeBgpd is a vty that accepts every command and runs an empty configuration.
func fakeBgpd(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 4096)
				for {
					n, err := conn.Read(buf)
					if err != nil {
						return
					}
					// One NUL-terminated command per read is all the client ever sends.
					if n > 0 && buf[n-1] == 0 {
						conn.Write([]byte{0, 0, 0, 0})
					}
				}
			}()
		}
	}()
}

// TestApplierRunNoFRR: Run retries with backoff while bgpd is missing, and applies as soon as
// its socket appears (fsnotify), without waiting out the backoff; a desired configuration that
// does not parse is not retried.
func TestApplierRunNoFRR(t *testing.T) {
	dir := t.TempDir()
	a := NewApplier(ApplierOptions{RunDir: dir, MinBackoff: 5 * time.Second, Log: testr.New(t)})
	runApplier(t, a)
	a.Submit([]byte(frrconfigtest.Seed))
	frrtest.WaitFor(t, 5*time.Second, func() error {
		if st := a.Status(); !errors.Is(st.Err, ErrNotRunning) {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	start := time.Now()
	fakeBgpd(t, SocketPath(dir, "bgpd"))
	frrtest.WaitFor(t, 2*time.Second, func() error {
		if st := a.Status(); st.Err != nil || st.Lines == 0 {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	t.Logf("applied %v after the socket appeared", time.Since(start).Round(time.Millisecond))

	a.Submit([]byte("router bgp 65001 bogus\n"))
	var st ApplierStatus
	frrtest.WaitFor(t, 2*time.Second, func() error {
		if st = a.Status(); !strings.Contains(fmt.Sprint(st.Err), "desired configuration: line 1") {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond)
	if later := a.Status(); later.Applies != st.Applies {
		t.Errorf("an invalid configuration was retried: %d applies, then %d", st.Applies, later.Applies)
	}
}

func TestBackoff(t *testing.T) {
	a := NewApplier(ApplierOptions{})
	var got []time.Duration
	for f := 1; f <= 9; f++ {
		got = append(got, a.backoff(f))
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if !slices.Equal(got, want) {
		t.Errorf("backoff %v, want %v", got, want)
	}
}

// TestApplierDrift: a change made to frr-renderer's configuration behind its back is repaired
// at the next drift check; foreign configuration added meanwhile stays.
func TestApplierDrift(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			r := frrtest.Start(t, v, "drift")
			a := newApplier(t, r, ApplierOptions{DriftInterval: 300 * time.Millisecond})
			runApplier(t, a)
			a.Submit([]byte(frrconfigtest.Seed))
			frrtest.WaitFor(t, 10*time.Second, func() error { return runs(r, frrconfigtest.Seed) })
			if _, err := r.Vtysh("-c", "configure terminal", "-c", "router bgp 65001", "-c", "address-family ipv4 unicast",
				"-c", "no network 172.20.0.1/32", "-c", "exit-address-family", "-c", "neighbor 192.168.10.1 description edited", "-c", "exit",
				"-c", "route-map OPERATOR permit 10"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			frrtest.WaitFor(t, 5*time.Second, func() error { return runs(r, "route-map OPERATOR permit 10\nexit\n"+frrconfigtest.Seed) })
			t.Logf("repaired within %v", time.Since(start).Round(time.Millisecond))
		})
	}
}
