package vtysh

// This file is the applier: it makes bgpd run a desired configuration through the vty socket,
// sending only the delta, and keeps it so (FRR restarts, drift, refused lines).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/go-logr/logr"
)

// Defaults of ApplierOptions.
const (
	DefaultDriftInterval    = 60 * time.Second
	DefaultLivenessInterval = time.Second
	DefaultMinBackoff       = 100 * time.Millisecond
	DefaultMaxBackoff       = 10 * time.Second
	DefaultApplyTimeout     = 2 * time.Minute
	// StateFileName is the state file's name in the run directory when StateFile is "".
	StateFileName = "frr-renderer.state"
)

const (
	// dialTimeout bounds a dial and the liveness check of an existing connection: a daemon that
	// is stopped (not dead) accepts connections but never answers.
	dialTimeout = 5 * time.Second
	// restartSettle is how long Run waits after the last change of a pid file or vty socket
	// before it re-applies: a starting daemon writes its pid file, then replaces its socket.
	restartSettle = 100 * time.Millisecond
)

// ErrNotRunning is wrapped by Apply's error when bgpd cannot be reached: FRR's run directory
// or bgpd's vty socket is missing, nobody listens on it, or the connection broke.
var ErrNotRunning = errors.New("bgpd is not running")

// ApplierOptions configures an Applier. Only RunDir is required.
type ApplierOptions struct {
	// RunDir is FRR's run directory of the pathspace, as seen from this process: it holds
	// bgpd.vty, bgpd.pid, zebra.pid (/var/run/frr, or /var/run/frr/NAME for pathspace NAME).
	RunDir string
	// StateFile remembers what frr-renderer rendered (frrconfig.Ownership) across its own restarts;
	// "" means RunDir/frr-renderer.state.
	StateFile string
	// Log receives progress and errors; never a password. The zero Logger discards.
	Log logr.Logger

	// DriftInterval is how often Run reads bgpd's configuration back and repairs what differs
	// from the desired one; 0 means DefaultDriftInterval, negative never.
	DriftInterval time.Duration
	// LivenessInterval is how often Run checks that bgpd answers between applies (a bgpd
	// killed and not restarted changes no file); 0 means DefaultLivenessInterval, negative never.
	LivenessInterval time.Duration
	// MinBackoff and MaxBackoff bound Run's delay before it retries a failed apply: MinBackoff
	// doubling up to MaxBackoff (0: DefaultMinBackoff, DefaultMaxBackoff).
	MinBackoff, MaxBackoff time.Duration
	// ApplyTimeout bounds each of Run's apply attempts; 0 means DefaultApplyTimeout.
	ApplyTimeout time.Duration
	// OnApply, if set, is called after every apply attempt with its result (passwords masked),
	// for metrics and events; it must return quickly.
	OnApply func(ApplyResult, error)
}

// ApplyResult is what one apply did.
type ApplyResult struct {
	// Lines is what was sent, passwords masked; empty when nothing changed. After a refused
	// line, the lines up to and including it, and the rest of its run of network lines
	// (ConfigError.Applied).
	Lines []string
	// Resets are the sent lines that reset sessions, masked: the frrconfig.SessionResetting lines
	// that change a peer (or instance) bgpd had before; a new neighbor has no session to reset.
	Resets []string
	// SessionResets are the sessions the applier reset because the apply changed their
	// negotiated parameters (timers, graceful restart) and FRR kept them up with the old
	// ones, as "[view NAME ]ADDRESS (what changed)".
	SessionResets []string
	// ReadBack tells whether bgpd's running configuration was read this time (first apply,
	// after a reconnection or a failure, drift check) rather than taken from the last apply.
	ReadBack bool
	// StateErr is why the state file could not be written (disk full, read-only): bgpd got the
	// configuration all the same, but a restarted frr-renderer may leave what it rendered as
	// foreign. Run retries the write with backoff; nil once it is written.
	StateErr error
	// Duration is the apply's wall time; of which Delta making the desired configuration and
	// its delta, Send sending it. Queued is the time the configuration waited for Run to take
	// it, after Submit (0 for Apply).
	Duration, Delta, Send, Queued time.Duration
}

// ApplierStatus is the outcome of the last apply attempt and counters since NewApplier, for
// health checks and tests.
type ApplierStatus struct {
	Time     time.Time     // when the last attempt ended; zero before the first
	Err      error         // the last attempt's error (masked); nil when it succeeded
	Lines    int           // lines the last attempt sent
	Resets   int           // of which resetting sessions
	ReadBack bool          // the last attempt read bgpd's configuration back
	Duration time.Duration // the last attempt's wall time
	StateErr error         // the state file could not be written (ApplyResult.StateErr)

	LastSuccess time.Time // when the last successful attempt ended
	Applies     int       // attempts so far: Apply calls and Run's applies
	Failures    int       // consecutive failed attempts since the last success
	Reads       int       // times bgpd's running configuration was read back
}

// Applier makes bgpd run a desired configuration. It owns one connection to bgpd's vty socket
// and is the only writer of frr-renderer's part of bgpd's configuration: Apply and Run's applies
// take turns.
//
// What bgpd runs is read back when the applier cannot know it (first apply, a new connection,
// after a failure or a restart of FRR, a drift check); otherwise the next delta is computed
// from the last applied configuration. frr-renderer's ownership (frrconfig.Ownership) of
// instances and route-maps is kept in the state file.
type Applier struct {
	opts  ApplierOptions
	log   logr.Logger
	state string // state file path

	mu      sync.Mutex // one writer: held through an apply; guards what follows
	client  *Client
	running *frrconfig.Config // what bgpd runs as far as the applier knows; nil: read it back
	// zebra is a connection to zebra, dialled only for desired configurations with zebra
	// lines; zebraRunning is the configuration whose zebra lines zebra runs (nil: read back).
	zebra        *Client
	zebraRunning *frrconfig.Config
	desired      *frrconfig.Config    // the last valid desired configuration given to an apply
	desiredText  []byte               // the text desired was parsed from
	desiredIdx   *frrconfig.TextIndex // where desiredText's family bodies are; nil: never patched
	owns         frrconfig.Ownership
	ownsLoaded   bool
	stateErr     error // the last write of owns to the state file failed: write it again
	closed       bool

	queued time.Duration // how long the configuration Run applies next waited for it

	pendingMu sync.Mutex
	pending   []byte        // the latest Submit not yet taken by Run
	pendingAt time.Time     // when it came
	kick      chan struct{} // one token: Run has something to take
	runs      atomic.Bool

	statusMu sync.Mutex
	status   ApplierStatus
}

// NewApplier returns an Applier for the FRR whose run directory opts.RunDir is. It connects
// lazily, at the first apply.
func NewApplier(opts ApplierOptions) *Applier {
	if opts.DriftInterval == 0 {
		opts.DriftInterval = DefaultDriftInterval
	}
	if opts.LivenessInterval == 0 {
		opts.LivenessInterval = DefaultLivenessInterval
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.ApplyTimeout <= 0 {
		opts.ApplyTimeout = DefaultApplyTimeout
	}
	state := opts.StateFile
	if state == "" {
		state = filepath.Join(opts.RunDir, StateFileName)
	}
	return &Applier{opts: opts, log: opts.Log, state: state, kick: make(chan struct{}, 1)}
}

// Apply makes bgpd run desired (frr.conf text, as frrconfig.Render writes it), once,
// synchronously: it computes the delta from what bgpd runs, sends it and returns what it sent.
// A line bgpd refuses stops the apply (the lines before it stay applied) and the error names it,
// masked; the next apply reads bgpd's configuration back. Apply waits for an apply of Run in
// progress.
func (a *Applier) Apply(ctx context.Context, desired []byte) (ApplyResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.applyLocked(ctx, a.keep(desired))
}

// keep returns text for the applier to keep: the caller of Apply may reuse its slice. The text
// of 10,000 Services is 600 KB: copied only when new, and Submit's are kept as they are.
func (a *Applier) keep(text []byte) []byte {
	if bytes.Equal(text, a.desiredText) {
		return a.desiredText
	}
	return bytes.Clone(text)
}

// applyLocked applies desired, which the applier keeps: nobody may modify it afterwards.
func (a *Applier) applyLocked(ctx context.Context, desired []byte) (ApplyResult, error) {
	start := time.Now()
	res, err := a.apply(ctx, desired)
	res.Duration = time.Since(start)
	res.StateErr = a.stateErr
	a.record(res, err)
	return res, err
}

// invalidDesired marks an error that no retry can mend: the desired text itself is wrong.
type invalidDesired struct{ err error }

func (e *invalidDesired) Error() string { return "desired configuration: " + e.err.Error() }
func (e *invalidDesired) Unwrap() error { return e.err }

func (a *Applier) apply(ctx context.Context, text []byte) (res ApplyResult, err error) {
	if a.closed {
		return res, errors.New("vtysh: the applier is closed")
	}
	res.Queued, a.queued = a.queued, 0
	start := time.Now()
	patch, patched, err := a.desiredFor(text)
	if err != nil {
		return res, err
	}
	desired := a.desired
	if err := a.connect(ctx); err != nil {
		return res, err
	}
	// zebra first: the peers bgpd is about to start resolve their addresses through it.
	if len(desired.Zebra()) > 0 && a.zebraRunning != desired {
		if err := a.applyZebra(ctx, desired, &res); err != nil {
			return res, err
		}
	}
	if a.running == desired {
		// Applied last time, and bgpd has not restarted since: nothing to do but the state
		// file, if its write failed.
		if a.stateErr != nil {
			a.saveOwnership(a.owns)
		}
		return res, nil
	}
	if a.running == nil {
		if err := a.readRunning(ctx); err != nil {
			return res, err
		}
		res.ReadBack = true
	}
	a.loadOwnership()
	owns := a.owns.Union(frrconfig.OwnershipOf(desired))
	conflicts := frrconfig.Conflicts(a.running, desired, owns)
	var delta []string
	if patch != nil && a.running == patched {
		delta = patch.Delta() // the same as frrconfig.Delta's, without comparing the family's other lines
	} else {
		delta = frrconfig.Delta(a.running, desired, owns)
	}
	res.Delta = time.Since(start)
	if len(delta) > 0 {
		// Remember what is about to be applied before sending it: after a crash half-way, the
		// next frr-renderer must still own it.
		a.saveOwnership(owns)
		stale := frrconfig.NegotiatedResets(a.running, desired, delta)
		before := a.sessionCounts(ctx, stale)
		res, err = a.send(ctx, frrconfig.HoldNewPeers(a.running, delta), res)
		if err != nil {
			return res, err
		}
		res.SessionResets = a.resetStale(ctx, stale, before)
	}
	if len(conflicts) > 0 {
		a.running = nil // re-read: the operator may have removed what is in the way
		return res, fmt.Errorf("bgpd runs a BGP instance frr-renderer did not render: %s", strings.Join(conflicts, "; "))
	}
	a.running = desired
	// What is no longer desired is gone from bgpd now: forget it.
	a.saveOwnership(frrconfig.OwnershipOf(desired))
	return res, nil
}

// desiredFor makes text the applier's desired configuration: patched from the last one when
// it can be (see frrconfig.PatchText), parsed otherwise. It returns the patch and the Config it
// patched, or nils when text was parsed (or is the last text). It keeps text.
func (a *Applier) desiredFor(text []byte) (*frrconfig.FamilyPatch, *frrconfig.Config, error) {
	if a.desired != nil && bytes.Equal(text, a.desiredText) {
		return nil, nil, nil
	}
	if a.desired != nil && a.desiredIdx != nil {
		if c, patch, idx, ok := frrconfig.PatchText(a.desired, a.desiredText, a.desiredIdx, text); ok {
			from := a.desired
			a.desired, a.desiredText, a.desiredIdx = c, text, idx
			return patch, from, nil
		}
	}
	desired, err := frrconfig.Parse(string(text))
	if err != nil {
		return nil, nil, &invalidDesired{err}
	}
	a.desired, a.desiredText = desired, text
	a.desiredIdx, _ = frrconfig.IndexText(a.desiredText, desired)
	return nil, nil, nil
}

// send sends delta and fills res. On error, what bgpd runs is unknown.
func (a *Applier) send(ctx context.Context, delta []string, res ApplyResult) (ApplyResult, error) {
	start := time.Now()
	// No batch (Client.configure), not even for the first apply into an empty bgpd: for what frr-renderer
	// renders (network lines, a few route-maps) it gains nothing (BenchmarkApplyInitial), and
	// it would hold the peers Idle for seconds after the apply, as after a restart of bgpd.
	notices, err := a.client.ConfigureNotices(ctx, delta)
	sent := delta
	var ce *ConfigError
	if errors.As(err, &ce) {
		sent = delta[:min(max(ce.Line+1, ce.Applied), len(delta))]
	}
	resets := frrconfig.ResettingLines(a.running, sent)
	for i, l := range sent {
		m := frrconfig.MaskSecrets(l)
		res.Lines = append(res.Lines, m)
		if resets[i] {
			res.Resets = append(res.Resets, m)
		}
	}
	for _, n := range notices {
		a.log.Info("bgpd printed a notice", "line", strings.TrimSpace(n.Text), "output", strings.TrimSpace(n.Output))
	}
	if err != nil {
		a.running = nil
		if Disconnected(err) {
			a.dropClient()
			return res, fmt.Errorf("%w: lost the connection while applying %d lines: %w", ErrNotRunning, len(delta), err)
		}
		return res, fmt.Errorf("bgpd refused the configuration: %w", err)
	}
	res.Send = time.Since(start)
	a.log.Info("applied", "lines", len(res.Lines), "resets", res.Resets, "readBack", res.ReadBack,
		"queued", durationMS(res.Queued), "delta", durationMS(res.Delta), "send", durationMS(res.Send))
	a.log.V(1).Info("applied lines", "lines", res.Lines)
	return res, nil
}

// sessionCounts reads how many sessions each neighbor has had established (-1 when it cannot
// be read), so that resetStale can tell a session FRR kept from one it reset itself.
func (a *Applier) sessionCounts(ctx context.Context, peers []frrconfig.PeerReset) []int {
	counts := make([]int, len(peers))
	for i, p := range peers {
		counts[i] = -1
		if st, n, err := a.neighborState(ctx, p); err == nil && st == StateEstablished {
			counts[i] = n
		}
	}
	return counts
}

// resetStale resets the sessions the apply left with old negotiated parameters: those still
// established as the same session as before it (FRR 10.3 resets some itself, a new session
// negotiated the new values). A reset that fails is logged: the session gets the new values
// at its next start.
func (a *Applier) resetStale(ctx context.Context, peers []frrconfig.PeerReset, before []int) []string {
	var done []string
	for i, p := range peers {
		if before[i] < 0 {
			continue // not established before the apply: its next OPEN has the new values
		}
		st, n, err := a.neighborState(ctx, p)
		if err != nil || st != StateEstablished || n != before[i] {
			continue
		}
		what := p.Peer
		if v := p.View(); v != "" {
			what = "view " + v + " " + p.Peer
		}
		if _, err := a.client.Exec(ctx, "clear bgp "+what); err != nil {
			a.log.Error(err, "cannot reset a session whose negotiated parameters changed; it keeps the old ones until it restarts", "peer", what, "changed", p.Why)
			continue
		}
		done = append(done, what+" ("+strings.Join(p.Why, ", ")+")")
	}
	if len(done) > 0 {
		a.log.Info("reset sessions whose negotiated parameters changed, as Cilium does", "sessions", done)
	}
	return done
}

// neighborState reads a neighbor's FSM state and count of established sessions.
func (a *Applier) neighborState(ctx context.Context, p frrconfig.PeerReset) (string, int, error) {
	cmd := "show bgp neighbors " + p.Peer + " json"
	if v := p.View(); v != "" {
		cmd = "show bgp view " + v + " neighbors " + p.Peer + " json"
	}
	out, err := a.client.Exec(ctx, cmd)
	if err != nil {
		return "", 0, err
	}
	var nbrs map[string]struct {
		State       string `json:"bgpState"`
		Established int    `json:"connectionsEstablished"`
	}
	if err := json.Unmarshal([]byte(out), &nbrs); err != nil {
		return "", 0, err
	}
	n, ok := nbrs[p.Peer]
	if !ok {
		return "", 0, fmt.Errorf("bgpd has no neighbor %s", p.Peer)
	}
	return n.State, n.Established, nil
}

// durationMS is d in milliseconds, for log lines.
func durationMS(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
}

// connect makes sure the applier has a live connection to bgpd. A new connection means bgpd may
// have restarted since the last apply: its configuration is read back.
func (a *Applier) connect(ctx context.Context) error {
	if a.client != nil {
		actx, cancel := context.WithTimeout(ctx, dialTimeout)
		alive := a.client.Alive(actx)
		cancel()
		if alive {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.log.Info("bgpd does not answer on the open connection; dialling again")
		a.dropClient()
	}
	if fi, err := os.Stat(a.opts.RunDir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return fmt.Errorf("%w: FRR run directory %s: %w (is FRR running with this pathspace?)", ErrNotRunning, a.opts.RunDir, err)
	}
	sock := SocketPath(a.opts.RunDir, "bgpd")
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := Dial(dctx, sock)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: no vty socket %s", ErrNotRunning, sock)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: nothing listens on %s", ErrNotRunning, sock)
	case ctx.Err() != nil:
		return fmt.Errorf("bgpd on %s: %w", sock, ctx.Err())
	default:
		return fmt.Errorf("bgpd is not answering on %s: %w", sock, err)
	}
	a.client = c
	a.running = nil
	return nil
}

func (a *Applier) dropClient() {
	if a.client != nil {
		a.client.Close()
		a.client = nil
	}
	a.running = nil
	a.dropZebra()
}

func (a *Applier) dropZebra() {
	if a.zebra != nil {
		a.zebra.Close()
		a.zebra = nil
	}
	a.zebraRunning = nil
}

// applyZebra makes zebra run desired's zebra lines: what zebra runs is read back when the
// applier does not know it, and only the missing lines are sent, to zebra's own vty socket.
func (a *Applier) applyZebra(ctx context.Context, desired *frrconfig.Config, res *ApplyResult) error {
	if a.zebraRunning == nil {
		if err := a.readZebra(ctx); err != nil {
			return err
		}
		res.ReadBack = true
	}
	delta := frrconfig.ZebraDelta(a.zebraRunning, desired)
	if len(delta) > 0 {
		if _, err := a.zebra.ConfigureNotices(ctx, delta); err != nil {
			a.dropZebra()
			return fmt.Errorf("zebra refused its lines: %w", err)
		}
		res.Lines = append(res.Lines, delta...)
		a.log.Info("applied to zebra", "lines", delta)
	}
	a.zebraRunning = desired
	return nil
}

// readZebra reads zebra's configuration into zebraRunning, dialling zebra first if needed.
func (a *Applier) readZebra(ctx context.Context) error {
	if a.zebra == nil {
		sock := SocketPath(a.opts.RunDir, "zebra")
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		c, err := Dial(dctx, sock)
		cancel()
		if err != nil {
			return fmt.Errorf("%w: zebra is not answering on %s: %w", ErrNotRunning, sock, err)
		}
		a.zebra = c
	}
	text, err := a.zebra.Exec(ctx, "show running-config")
	var cfg *frrconfig.Config
	if err == nil {
		cfg, err = frrconfig.Parse(text)
	}
	if err != nil {
		a.dropZebra()
		return fmt.Errorf("reading zebra's configuration: %w", err)
	}
	a.zebraRunning = cfg
	return nil
}

// readRunning reads bgpd's own running configuration (not vtysh's merged view: zebra keeps
// route-maps that a restarted bgpd no longer has).
func (a *Applier) readRunning(ctx context.Context) error {
	text, err := a.client.Exec(ctx, "show running-config")
	a.statusMu.Lock()
	a.status.Reads++
	a.statusMu.Unlock()
	if err != nil {
		if Disconnected(err) {
			a.dropClient()
			return fmt.Errorf("%w: reading its configuration: %w", ErrNotRunning, err)
		}
		return fmt.Errorf("reading bgpd's configuration: %w", err)
	}
	cfg, err := frrconfig.Parse(text)
	if err != nil {
		return fmt.Errorf("parsing bgpd's running configuration: %w", err)
	}
	a.running = cfg
	return nil
}

// Verify reads bgpd's configuration back and checks that it is the desired configuration of
// the last apply: nil when applying it again would send nothing. The next apply computes its
// delta from what Verify read.
func (a *Applier) Verify(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.desired == nil {
		return errors.New("vtysh: nothing applied yet")
	}
	if err := a.connect(ctx); err != nil {
		return err
	}
	if err := a.readRunning(ctx); err != nil {
		return err
	}
	a.loadOwnership()
	owns := a.owns.Union(frrconfig.OwnershipOf(a.desired))
	delta := frrconfig.Delta(a.running, a.desired, owns)
	if len(a.desired.Zebra()) > 0 {
		if err := a.readZebra(ctx); err != nil {
			return err
		}
		delta = append(frrconfig.ZebraDelta(a.zebraRunning, a.desired), delta...)
	}
	if c := frrconfig.Conflicts(a.running, a.desired, owns); len(c) > 0 {
		return fmt.Errorf("bgpd runs a BGP instance frr-renderer did not render: %s", strings.Join(c, "; "))
	}
	if len(delta) > 0 {
		masked := make([]string, len(delta))
		for i, l := range delta {
			masked[i] = frrconfig.MaskSecrets(l)
		}
		return fmt.Errorf("bgpd does not run the desired configuration; %d lines would still be sent:\n%s", len(delta), strings.Join(masked, "\n"))
	}
	return nil
}

// Plan reads what bgpd runs and previews applying desired to it, sending nothing.
func (a *Applier) Plan(ctx context.Context, desired []byte) (frrconfig.Plan, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return frrconfig.Plan{}, errors.New("vtysh: the applier is closed")
	}
	d, err := frrconfig.Parse(string(desired))
	if err != nil {
		return frrconfig.Plan{}, &invalidDesired{err}
	}
	if err := a.connect(ctx); err != nil {
		return frrconfig.Plan{}, err
	}
	if err := a.readRunning(ctx); err != nil {
		return frrconfig.Plan{}, err
	}
	a.loadOwnership()
	return frrconfig.NewPlan(a.running, d, a.owns), nil
}

// stateFile is the state file's content.
type stateFile struct {
	Version   int                 `json:"version"`
	Ownership frrconfig.Ownership `json:"ownership"`
}

func (a *Applier) loadOwnership() {
	if a.ownsLoaded {
		return
	}
	a.ownsLoaded = true
	b, err := os.ReadFile(a.state)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var st stateFile
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		// What it rendered before is then left alone as foreign: the safe mistake.
		a.log.Error(err, "reading the state file; frr-renderer owns only what it renders now", "path", a.state)
		return
	}
	a.owns = st.Ownership
}

// saveOwnership remembers o, in memory and in the state file, when it changed or the last
// write failed. A write that fails is kept in stateErr, and the apply goes on: bgpd must get
// its configuration even when the disk is full or read-only.
func (a *Applier) saveOwnership(o frrconfig.Ownership) {
	if ownershipEqual(a.owns, o) && a.stateErr == nil {
		return
	}
	a.owns = o
	b, err := json.MarshalIndent(stateFile{Version: 1, Ownership: o}, "", "  ")
	if err == nil {
		err = writeFileAtomic(a.state, append(b, '\n'))
	}
	switch {
	case err != nil:
		a.log.Error(err, "writing the state file; after a restart frr-renderer may leave what it rendered as foreign", "path", a.state)
		err = fmt.Errorf("writing the state file: %w", err)
	case a.stateErr != nil:
		a.log.Info("wrote the state file again", "path", a.state)
	}
	a.stateErr = err
}

func ownershipEqual(a, b frrconfig.Ownership) bool {
	return slices.Equal(a.Instances, b.Instances) && slices.Equal(a.PeerGroups, b.PeerGroups) && slices.Equal(a.RouteMaps, b.RouteMaps)
}

func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func (a *Applier) record(res ApplyResult, err error) {
	if a.opts.OnApply != nil {
		defer a.opts.OnApply(res, err)
	}
	a.statusMu.Lock()
	defer a.statusMu.Unlock()
	s := &a.status
	s.Time = time.Now()
	s.Err = err
	s.Lines, s.Resets, s.ReadBack, s.Duration = len(res.Lines), len(res.Resets), res.ReadBack, res.Duration
	s.StateErr = res.StateErr
	s.Applies++
	if err != nil {
		s.Failures++
	} else {
		s.Failures = 0
		s.LastSuccess = s.Time
	}
}

// Status returns the last apply's outcome and the counters.
func (a *Applier) Status() ApplierStatus {
	a.statusMu.Lock()
	defer a.statusMu.Unlock()
	return a.status
}

// Close closes the connections to bgpd and zebra. Call it once Run has returned; applies fail afterwards.
func (a *Applier) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	var err error
	if a.client != nil {
		err = a.client.Close()
		a.client = nil
	}
	a.dropZebra()
	return err
}
