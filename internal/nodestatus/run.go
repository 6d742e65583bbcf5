package nodestatus

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// Defaults of the refresher: Cilium's agent refreshes every 5 s with a normal jitter of 0.5 s
// standard deviation, and backs off on errors.
const (
	DefaultInterval = 5 * time.Second
	DefaultJitter   = 500 * time.Millisecond
	// MaxBackoff bounds the wait after consecutive API errors.
	MaxBackoff = 2 * time.Minute
	// resyncRounds: every so many rounds the object is read again, so that a status someone
	// else wrote is written over and the generation is current (~5 min at 5 s).
	resyncRounds = 60
	// sessionFailuresTolerated: while bgpd cannot be read, the status written last stays for
	// this many rounds (a restarting bgpd); then the peers lose their state and the condition
	// says why.
	sessionFailuresTolerated = 3
	// roundTimeout bounds one round's calls to bgpd and the API server.
	roundTimeout = 30 * time.Second
)

// State is what the reconcile loop knows of the node, as of its last pass.
type State struct {
	// Config is the desired model as last submitted to bgpd; nil when there is none.
	Config *model.NodeConfig
	// Problems are that pass's errors, one line each ("<object>: <field>: <message>"); they
	// must never hold a secret.
	Problems []string
	// Spec and Owner are translate.DeriveNodeConfig's: what to create when the node has no
	// CiliumBGPNodeConfig. Owner nil means no ClusterConfig selects the node: nothing is
	// written then, as Cilium has no NodeConfig for such a node.
	Spec  model.CiliumBGPNodeConfigSpec
	Owner *model.CiliumBGPClusterConfig
}

// Latest hands the reconcile loop's State to the refresher without ever blocking the loop:
// Set stores, Get loads, the latest wins. The zero value is ready.
type Latest struct{ p atomic.Pointer[State] }

// Set publishes s. The caller must not modify s's contents afterwards.
func (l *Latest) Set(s State) { l.p.Store(&s) }

// Get returns the State set last; false before the first Set.
func (l *Latest) Get() (State, bool) {
	if s := l.p.Load(); s != nil {
		return *s, true
	}
	return State{}, false
}

// Inputs are what the refresher reads each round; both must return promptly.
type Inputs struct {
	// State returns the reconcile loop's latest State (Latest.Get fits); false before the
	// first pass.
	State func() (State, bool)
	// Sessions reads bgpd's neighbors (vtysh.Client.Sessions fits).
	Sessions func(ctx context.Context) ([]vtysh.Session, error)
}

// Run refreshes the node's CiliumBGPNodeConfig status every interval ± jitter until ctx ends.
// API errors are logged, never returned: after one it waits twice as long each time, up to
// MaxBackoff. Zero is the default (DefaultInterval, DefaultJitter); a negative jitter is none,
// and a negative interval the default, as there is no refreshing without pause.
func Run(ctx context.Context, interval, jitter time.Duration, w *Writer, in Inputs, log logr.Logger) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	switch {
	case jitter == 0:
		jitter = DefaultJitter
	case jitter < 0:
		jitter = 0
	}
	r := &refresher{w: w, in: in, log: log, now: time.Now}
	r.loop(ctx, interval, jitter, sleep)
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

type refresher struct {
	w   *Writer
	in  Inputs
	log logr.Logger
	now func() time.Time

	ensured         bool
	ensuredFor      string // the spec and owner Ensure was given last, as JSON
	rounds          int
	sessionFailures int
	failing         bool // the last round failed: log the next success
}

// loop runs rounds, waiting between them with wait (a parameter for the tests).
func (r *refresher) loop(ctx context.Context, interval, jitter time.Duration, wait func(context.Context, time.Duration) bool) {
	delay := interval
	for {
		rctx, cancel := context.WithTimeout(ctx, roundTimeout)
		err := r.round(rctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil:
			if delay = min(delay*2, MaxBackoff); delay < interval {
				delay = interval
			}
			r.log.Error(err, "CiliumBGPNodeConfig status not written", "retryIn", delay)
			r.failing = true
		default:
			delay = interval
			if r.failing {
				r.log.Info("CiliumBGPNodeConfig status written again")
				r.failing = false
			}
		}
		if !wait(ctx, withJitter(delay, jitter)) {
			return
		}
	}
}

func withJitter(d, jitter time.Duration) time.Duration {
	if jitter <= 0 {
		return d
	}
	return max(d+time.Duration(rand.Int64N(int64(2*jitter)+1))-jitter, 0)
}

// round builds the status and writes it when it changed.
func (r *refresher) round(ctx context.Context) error {
	st, ok := r.in.State()
	if !ok || st.Owner == nil {
		return nil
	}
	if r.rounds++; r.rounds%resyncRounds == 0 {
		r.ensured = false
	}
	// A ClusterConfig change: the NodeConfig frr-renderer created follows it.
	if b, err := json.Marshal([]any{st.Spec, st.Owner.Name, st.Owner.UID}); err == nil && string(b) != r.ensuredFor {
		r.ensured, r.ensuredFor = false, string(b)
	}
	problems := st.Problems
	sessions, err := r.in.Sessions(ctx)
	if err == nil {
		r.sessionFailures = 0
	} else {
		if r.sessionFailures++; r.sessionFailures < sessionFailuresTolerated {
			r.log.V(1).Info("cannot read BGP sessions from bgpd; status kept", "error", err.Error())
			return nil
		}
		sessions = nil
		problems = append(append([]string(nil), problems...), "cannot read BGP sessions from bgpd: "+err.Error())
	}
	// One retry: the object went away (deleted by a user, or by the operator before we saw
	// the node leave its ClusterConfig, in which case the next State has no Owner).
	for attempt := 0; ; attempt++ {
		if !r.ensured {
			if err := r.w.Ensure(ctx, st.Spec, st.Owner); err != nil {
				return err
			}
			r.ensured = true
		}
		status := Build(st.Config, sessions, problems, r.w.Last(), r.now())
		_, err := r.w.Write(ctx, status)
		if errors.Is(err, ErrNotFound) && attempt == 0 {
			r.ensured = false
			continue
		}
		return err
	}
}
