package metrics

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

const namespace = "frr_renderer"

// Results of a reconcile, the values of reconciles_total's result label. Reconciled accepts
// only these, so that the label stays bounded.
const (
	ResultSubmitted = "submitted" // a new desired configuration was submitted to the applier
	ResultUnchanged = "unchanged" // the desired configuration was the one submitted last
	ResultError     = "error"     // the sources could not be read, translated or rendered
)

var results = []string{ResultSubmitted, ResultUnchanged, ResultError}

// sessionStates are the BGP FSM states of RFC 4271 as FRR spells them: every session has a
// series for each.
var sessionStates = []string{"Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"}

// applyBuckets span 100 µs (a delta of a line or two on a warm connection) to 10 s (a full
// read-back and load of a large configuration), in 1-2.5-5 steps.
var applyBuckets = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5,
	10,
}

// Metrics holds frr-renderer's metrics and their registry. Its methods are safe for concurrent
// use: the reconcile loop, the applier and the session poller each feed their part.
type Metrics struct {
	reg *prometheus.Registry
	now func() time.Time // the clock of staleness and timestamps; tests replace it

	applyDuration prometheus.Histogram
	applyErrors   prometheus.Counter
	applyLines    prometheus.Counter
	applyResets   prometheus.Counter
	lastSuccess   prometheus.Gauge
	reconciles    *prometheus.CounterVec
	failed        prometheus.Gauge
	stateFailing  prometheus.Gauge
	sessionResets prometheus.Counter
	sessions      *sessionCollector

	mu sync.Mutex
	// Staleness: the time of the latest Submitted, of the latest Applied, and of the first
	// submission FRR has not caught up with (zero while FRR runs the latest one).
	submitted, applied, behindSince time.Time
	// The last apply's outcome, for ApplyCheck.
	applyErr      error
	applyObserved bool
}

// New returns Metrics registered on a new registry, with the Go runtime, process and build-info
// collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		now: time.Now,
		applyDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "apply_duration_seconds",
			Help:      "Wall time of each apply to bgpd, successful or not: computing the delta from what bgpd runs (reading it back when needed) and sending it.",
			Buckets:   applyBuckets,
		}),
		applyErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "apply_errors_total",
			Help:      "Applies to bgpd that failed: bgpd unreachable, a line refused, or an invalid desired configuration.",
		}),
		applyLines: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "apply_lines_total",
			Help:      "Configuration lines sent to bgpd by applies, including a line bgpd refused.",
		}),
		applyResets: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "apply_session_resetting_lines_total",
			Help:      "Configuration lines sent to bgpd that reset an existing BGP session (or instance); a subset of frr_renderer_apply_lines_total.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "last_apply_success_timestamp_seconds",
			Help:      "Unix time at which the last successful apply to bgpd ended; 0 before the first.",
		}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "reconciles_total",
			Help:      "Reconciles of the desired configuration by result: submitted (a new configuration went to the applier), unchanged (the same as the last one submitted), error (the sources could not be read, translated or rendered; the last configuration stays).",
		}, []string{"result"}),
		failed: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "bgp_instances_failed",
			Help:      "BGP instances of the node's CiliumBGPClusterConfig left out of the desired configuration for errors in their input (the CiliumBGPNodeConfig's condition and the Events name them); FRR keeps what they ran. 0 when every instance is configured.",
		}),
		stateFailing: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "state_file_write_failing",
			Help:      "1 while the applier cannot write its state file (disk full or read-only; it retries with backoff), else 0. FRR still gets the configuration, but a restarted frr-renderer would leave what it rendered meanwhile in FRR as foreign configuration.",
		}),
		sessionResets: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "bgp_session_resets_total",
			Help:      "Established BGP sessions reset because an apply changed their negotiated parameters (timers, graceful restart), as Cilium resets them: FRR alone would keep the old values until the session restarts.",
		}),
		sessions: newSessionCollector(),
	}
	for _, r := range results {
		m.reconciles.WithLabelValues(r) // every result exists from the start, at 0
	}
	staleness := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "config_staleness_seconds",
		Help:      "Seconds for which FRR has not run the desired configuration, at scrape time: now minus the submission time of the first desired configuration submitted since FRR last ran the latest submitted one; 0 while FRR runs the latest submitted configuration or none was submitted.",
	}, m.staleness)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		m.applyDuration, m.applyErrors, m.applyLines, m.applyResets, m.lastSuccess,
		m.reconciles, m.failed, m.stateFailing, m.sessionResets, staleness, m.sessions,
	)
	return m
}

// Registry is the registry /metrics serves. Other packages may register their own collectors
// on it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// CountWatchErrors exposes count, the informers' failed lists and watches since the start
// (kube.Source's WatchErrors), as kube_watch_errors_total. Call it once, before serving.
func (m *Metrics) CountWatchErrors(count func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "kube_watch_errors_total",
		Help:      "Failed lists and watches of the Kubernetes API by the informers (the API server unreachable or refusing them). It grows, with the informers' retries, for as long as the API server is lost: FRR keeps the last configuration meanwhile and readiness does not change.",
	}, func() float64 { return float64(count()) }))
}

// ObserveApply records one apply attempt to bgpd, as vtysh.Applier returns it: its duration,
// the lines it sent (on failure too: the lines up to the refused one were sent) and its
// outcome.
func (m *Metrics) ObserveApply(res vtysh.ApplyResult, err error) {
	m.applyDuration.Observe(res.Duration.Seconds())
	m.applyLines.Add(float64(len(res.Lines)))
	m.applyResets.Add(float64(len(res.Resets)))
	m.sessionResets.Add(float64(len(res.SessionResets)))
	if err != nil {
		m.applyErrors.Inc()
	}
	if res.StateErr != nil {
		m.stateFailing.Set(1)
	} else {
		m.stateFailing.Set(0)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// A state file the applier cannot write fails readiness too, though FRR got the
	// configuration: a restart would then leave what frr-renderer rendered as foreign.
	m.applyErr, m.applyObserved = cmp.Or(err, res.StateErr), true
	if err == nil {
		// Under the lock, so that two applies ending together leave the later time.
		m.lastSuccess.Set(unixSeconds(m.now()))
	}
}

// Reconciled counts one reconcile with its result, one of the Result constants; any other
// value is counted as ResultError, so that a caller's mistake cannot grow the label set.
func (m *Metrics) Reconciled(result string) {
	if !slices.Contains(results, result) {
		result = ResultError
	}
	m.reconciles.WithLabelValues(result).Inc()
}

// SetFailedInstances sets how many BGP instances are left out of the desired configuration for
// errors in their input.
func (m *Metrics) SetFailedInstances(n int) { m.failed.Set(float64(n)) }

// Submitted records that a desired configuration different from the previous one was submitted
// to the applier at at.
func (m *Metrics) Submitted(at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if at.After(m.submitted) {
		m.submitted = at
	}
	if !at.After(m.applied) {
		return // FRR already runs a configuration as recent
	}
	if m.behindSince.IsZero() || at.Before(m.behindSince) {
		m.behindSince = at
	}
}

// Applied records that FRR runs the desired configuration that was the latest submitted at at:
// at is that configuration's Submitted time or any later time before the next submission, such
// as the start of the apply that took it (the applier applies the latest submission). An
// apply that found nothing to change counts as well.
func (m *Metrics) Applied(at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if at.After(m.applied) {
		m.applied = at
	}
	if !m.submitted.After(m.applied) {
		m.behindSince = time.Time{}
	}
	// Otherwise a newer configuration is pending, and FRR has not run the latest one since
	// behindSince: it stays.
}

// staleness is config_staleness_seconds at the time of the scrape.
func (m *Metrics) staleness() float64 {
	m.mu.Lock()
	since := m.behindSince
	m.mu.Unlock()
	if since.IsZero() {
		return 0
	}
	return max(m.now().Sub(since).Seconds(), 0)
}

// errNoApply is ApplyCheck's reason before the first apply.
var errNoApply = errors.New("no apply yet")

// ApplyCheck is the readiness check "apply": it fails until an apply succeeded and whenever the
// last apply failed or could not write the state file, with that error (the applier's errors
// are masked).
func (m *Metrics) ApplyCheck() Check {
	return Check{Name: "apply", Err: func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.applyObserved {
			return errNoApply
		}
		return m.applyErr
	}}
}

// SetSessions replaces the session metrics, frr-renderer's and Cilium's, with the sessions bgpd
// reports now; peers names their instances and ports. When bgpd cannot be read, pass no
// sessions: no metric is better than a stale Established.
func (m *Metrics) SetSessions(peers Peers, sessions []vtysh.Session) {
	m.sessions.set(peers, sessions)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
