package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// Settling: after a signal the loop waits until its sources have been quiet for Settle before
// it reads them, so that an edit made of several writes (an editor's save, a tool writing a
// folder) is read once and whole; under changes that never pause it reads at least every
// MaxSettle. A change the desired source says is whole in itself (a file renamed into place or
// closed, a Service from an informer) needs only QuickSettle, when the loop has not read for a
// Settle: the first change after a quiet time is read at once, those of a burst settle as the
// others (the first signal came less than Settle, or BurstSettle when longer, after the last
// read) and wait for a pause of BurstSettle: a source whose bursts pause now and then (an API
// server under load delivers events in clumps) is read in a few rounds, not once per pause.
// These are the defaults.
const (
	DefaultSettle      = 20 * time.Millisecond
	DefaultQuickSettle = 2 * time.Millisecond
	DefaultBurstSettle = DefaultSettle
	DefaultMaxSettle   = 500 * time.Millisecond
)

// Config is what Run needs besides its applier and logger.
type Config struct {
	// Desired is the source of the desired state; nil means the manifests in Watch.
	Desired   DesiredSource
	Watch     []string          // manifest files and folders
	HostFacts string            // facts file; "" reads (and follows) netlink
	Options   translate.Options // Node, SecretsNamespace
	Dialect   frrconfig.Dialect
	// Report, if set, gets what each read of the sources found (see Report), on the loop's
	// goroutine: it must return quickly and not keep Appeared's slice.
	Report func(Report)
	// ListenPortFile, when set, is where bgpd's listening port (model.NodeConfig.ListenPort; 0:
	// none) is written whenever it changes, for what starts bgpd: FRR takes it as a
	// command-line option (bgpd -p), not as configuration (see deploy/images/frr/frr-start).
	ListenPortFile string
	// Settle is how long the sources must be quiet before the loop reads them; QuickSettle
	// replaces it for a change the desired source says is whole, BurstSettle for one that
	// came right after a read (see DefaultQuickSettle); MaxSettle bounds the wait under
	// changes that never pause. Zero is the default, negative none (read at once).
	Settle, QuickSettle, BurstSettle, MaxSettle time.Duration
}

// orDefault is d by the package's rule for durations: zero is def, negative none.
func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// Applier is what the loop needs of vtysh.Applier: Submit never blocks (the latest wins), Run
// applies until ctx ends.
type Applier interface {
	Submit(desired []byte)
	Run(ctx context.Context) error
}

// Run follows the sources until ctx ends, submitting each new configuration to app, and runs
// app.Run meanwhile. It returns nil when ctx ends, an error when a source cannot be followed
// at the start or the applier stops by itself. It returns once its goroutines (the
// applier's and the sources') are done.
func Run(ctx context.Context, cfg Config, app Applier, log logr.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg.Settle = orDefault(cfg.Settle, DefaultSettle)
	cfg.QuickSettle = orDefault(cfg.QuickSettle, DefaultQuickSettle)
	cfg.BurstSettle = orDefault(cfg.BurstSettle, DefaultBurstSettle)
	cfg.MaxSettle = orDefault(cfg.MaxSettle, DefaultMaxSettle)

	desired := cfg.Desired
	if desired == nil {
		var err error
		if desired, err = watchManifests(ctx, cfg.Watch, log); err != nil {
			return err
		}
	}
	host, err := watchHostFacts(ctx, cfg.HostFacts, log)
	if err != nil {
		cancel()
		<-desired.Done()
		return err
	}

	appDone := make(chan error, 1)
	go func() { appDone <- app.Run(ctx) }()
	var (
		appErr      error
		appReturned bool
	)
	// finish stops everything and waits for it. When ctx ended, only the applier's error is
	// one; otherwise cause says what ended the loop.
	finish := func(cause error) error {
		stopping := ctx.Err() != nil
		cancel()
		if !appReturned {
			appErr = <-appDone
		}
		<-desired.Done()
		<-host.Done()
		switch {
		case appErr != nil:
			return fmt.Errorf("applier: %w", appErr)
		case stopping:
			return nil
		}
		return cause
	}

	p := newPipeline(cfg, log, app, desired, host)
	// A source's first token says it can be read (the informers have synced); taken before
	// the first read, a change made since is not lost: it leaves a new token. Until both have
	// one, FRR is left as it is.
	for _, src := range []signaller{desired, host} {
		select {
		case <-src.Changes():
		case <-ctx.Done():
			return finish(nil)
		case <-src.Done():
			return finish(errors.New("a source stopped before it could be read"))
		}
	}
	p.refresh(true, true, time.Now(), false)

	var (
		desiredDirty, hostDirty bool
		armed                   bool      // the settle timer runs
		first, last             time.Time // the first and the last signal since the last read
		read                    time.Time // when the last read ended
	)
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	whole, _ := desired.(wholeSource)
	quick := false // the wait is QuickSettle's
	refresh := func() {
		armed = false
		p.refresh(desiredDirty, hostDirty, first, quick)
		desiredDirty, hostDirty = false, false
		read = time.Now()
	}
	// wait is how long to wait still before reading, from now.
	wait := func(now time.Time) time.Duration {
		// A burst: the sources were not quiet for BurstSettle since the last read.
		burst := first.Sub(read) < max(cfg.Settle, cfg.BurstSettle)
		quick = whole != nil && !hostDirty && !burst && cfg.QuickSettle < cfg.Settle && whole.Settled()
		quiet := cfg.Settle
		switch {
		case quick:
			quiet = cfg.QuickSettle
		case burst:
			quiet = cfg.BurstSettle
		}
		return min(quiet-now.Sub(last), cfg.MaxSettle-now.Sub(first))
	}
	signalled := func(what string) {
		log.V(2).Info("signal", "source", what)
		now := time.Now()
		last = now
		if !armed {
			armed, first = true, now
		}
		if d := wait(now); d > 0 {
			settle.Reset(d)
		} else {
			settle.Stop()
			refresh()
		}
	}
	for {
		select {
		case <-ctx.Done():
			return finish(nil)
		case appErr = <-appDone:
			appReturned = true
			return finish(errors.New("applier: stopped by itself"))
		case <-desired.Done():
			return finish(errors.New("watching the desired state stopped"))
		case <-host.Done():
			return finish(errors.New("following the host facts stopped"))
		case <-desired.Changes():
			desiredDirty = true
			signalled("desired state")
		case <-host.Changes():
			hostDirty = true
			signalled("host facts")
		case <-settle.C:
			if d := wait(time.Now()); d > 0 {
				settle.Reset(d)
				continue
			}
			refresh()
		}
	}
}
