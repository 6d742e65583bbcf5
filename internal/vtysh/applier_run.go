package vtysh

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Submit hands Run a new desired configuration. It never blocks; configurations submitted while
// an apply runs coalesce: Run applies the latest one next. Do not modify desired afterwards.
func (a *Applier) Submit(desired []byte) {
	a.pendingMu.Lock()
	a.pending, a.pendingAt = desired, time.Now()
	a.pendingMu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default: // Run has a token already: it will take the latest.
	}
}

// take returns the latest Submit not taken yet, and when it came; nil when there is none.
func (a *Applier) take() ([]byte, time.Time) {
	a.pendingMu.Lock()
	defer a.pendingMu.Unlock()
	d := a.pending
	a.pending = nil
	return d, a.pendingAt
}

// frrFiles are the run directory's files whose change means a daemon (re)started or stopped.
var frrFiles = map[string]bool{
	"bgpd.pid": true, "bgpd.vty": true,
	"zebra.pid": true, "zebra.vty": true,
	"mgmtd.pid": true, "mgmtd.vty": true,
	"watchfrr.pid": true,
}

// Run is the single writer: it applies the latest submitted configuration, retries a failed
// apply with backoff (MinBackoff doubling to MaxBackoff; each retry reads bgpd's configuration
// back), retries the write of a state file that failed (disk full, read-only) with the same
// backoff, re-applies everything after an FRR restart (fsnotify on RunDir: pid files and vty
// sockets), checks that bgpd answers every LivenessInterval and repairs drift every
// DriftInterval. It runs in the calling goroutine and returns nil when ctx ends, or an error
// when it cannot watch files at all or runs twice.
//
// The loop keeps one question, dirty (must desired be applied?), and one time, notBefore (not
// before the backoff of the last failures ends); every event sets one or the other. A work
// queue (client-go's single-key rate-limited queue, as sample-controller uses) would say the
// submit and the backoff in fewer lines, but not FRR's restarts, drift and liveness, which
// would still need this select, beside a second goroutine.
func (a *Applier) Run(ctx context.Context) error {
	if !a.runs.CompareAndSwap(false, true) {
		return errors.New("vtysh: Applier.Run is already running")
	}
	defer a.runs.Store(false)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching FRR's run directory: %w", err)
	}
	defer w.Close()
	watching := false
	watch := func() {
		if watching {
			return
		}
		if err := w.Add(a.opts.RunDir); err != nil {
			a.log.V(1).Info("cannot watch FRR's run directory yet", "dir", a.opts.RunDir, "error", err.Error())
			return
		}
		watching = true
	}
	watch()

	var (
		desired   []byte    // the latest configuration; nil until the first Submit
		good      []byte    // the last configuration applied without error
		dirty     bool      // desired must be applied (again)
		drifting  bool      // the next apply is a drift check
		failures  int       // consecutive attempts that failed, the apply's or the state file's
		notBefore time.Time // the backoff of those failures ends; zero when there is none
		submitted time.Time // when desired was submitted, until its first apply starts
	)
	wake := stoppedTimer() // at notBefore
	backOff := func() time.Duration {
		failures++
		d := a.backoff(failures)
		notBefore = time.Now().Add(d)
		wake.Reset(d)
		return d
	}
	tryNow := func() { // a new configuration, a restarted daemon: the backoff is no reason to wait
		notBefore = time.Time{}
		wake.Stop()
	}
	settle := stoppedTimer()
	drift := tick(a.opts.DriftInterval)
	defer drift.Stop()
	live := tick(a.opts.LivenessInterval)
	defer live.Stop()

	for {
		if dirty && desired != nil && !time.Now().Before(notBefore) {
			actx, cancel := context.WithTimeout(ctx, a.opts.ApplyTimeout)
			a.mu.Lock()
			if !submitted.IsZero() {
				a.queued = time.Since(submitted)
				submitted = time.Time{}
			}
			res, err := a.applyLocked(actx, desired)
			a.mu.Unlock()
			cancel()
			if ctx.Err() != nil {
				return nil
			}
			var invalid *invalidDesired
			switch {
			case err == nil:
				if drifting && len(res.Lines) > 0 {
					a.log.Info("bgpd's configuration had drifted; repaired", "lines", res.Lines)
				}
				good, dirty = desired, false
				if res.StateErr != nil {
					// bgpd runs desired; only the state file is behind. The next apply
					// sends nothing and writes it again.
					dirty = true
					backOff()
				} else {
					failures, notBefore = 0, time.Time{}
				}
			case errors.As(err, &invalid):
				// No retry mends it. Keep what runs (and re-apply it after a restart of FRR)
				// until the next Submit.
				a.log.Error(err, "not applied; keeping the last good configuration")
				desired, dirty = good, false
			default:
				d := backOff()
				a.log.Error(err, "apply failed; retrying", "attempt", failures, "retryIn", d.String())
			}
			drifting = false
			watch()
		}

		select {
		case <-ctx.Done():
			return nil
		case <-a.kick:
			if d, at := a.take(); d != nil {
				desired, dirty, submitted = d, true, at
				tryNow() // a new configuration may mend what failed
			}
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("watching FRR's run directory: watcher closed")
			}
			if ev.Name == filepath.Clean(a.opts.RunDir) && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				watching = false // the directory went away; watch it again once it is back
				settle.Reset(restartSettle)
			} else if frrFiles[filepath.Base(ev.Name)] {
				a.log.V(1).Info("FRR run directory changed", "file", filepath.Base(ev.Name), "op", ev.Op.String())
				settle.Reset(restartSettle)
			}
		case err := <-w.Errors:
			a.log.Error(err, "watching FRR's run directory")
		case <-settle.C:
			// A daemon started or stopped: dial again, read back and apply everything.
			a.log.Info("an FRR daemon started or stopped; reconnecting to bgpd", "reapply", desired != nil)
			a.mu.Lock()
			a.dropClient()
			a.mu.Unlock()
			dirty, failures = true, 0
			tryNow()
			watch()
		case <-wake.C:
			// The backoff ended: the loop's top tries again.
		case <-drift.C:
			if desired != nil && !dirty {
				a.mu.Lock()
				a.running, a.zebraRunning = nil, nil
				a.mu.Unlock()
				dirty, drifting = true, true
			}
		case <-live.C:
			if desired != nil && !dirty && !a.alive(ctx) {
				a.log.Info("bgpd does not answer; re-applying once it does")
				dirty = true
			}
		}
	}
}

// alive reports whether bgpd answers on the applier's connection, and drops the connection when
// it does not.
func (a *Applier) alive(ctx context.Context) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.client == nil {
		return false
	}
	actx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if a.client.Alive(actx) {
		return true
	}
	a.dropClient()
	return false
}

func (a *Applier) backoff(failures int) time.Duration {
	d := a.opts.MinBackoff
	for i := 1; i < failures && d < a.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, a.opts.MaxBackoff)
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// tick returns a ticker, or one that never ticks for a negative interval.
func tick(d time.Duration) *time.Ticker {
	if d < 0 {
		t := time.NewTicker(time.Hour)
		t.Stop()
		return t
	}
	return time.NewTicker(d)
}
