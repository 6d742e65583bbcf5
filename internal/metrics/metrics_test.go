package metrics

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// t0 is the tests' clock: a fixed time, far from the zero time.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newTestMetrics returns Metrics whose clock reads *now.
func newTestMetrics(now *time.Time) *Metrics {
	m := New()
	m.now = func() time.Time { return *now }
	return m
}

// compare checks the exposition of the named metrics against want (HELP and TYPE lines
// included).
func compare(t *testing.T, m *Metrics, want string, names ...string) {
	t.Helper()
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

func TestApplyMetrics(t *testing.T) {
	now := t0
	m := newTestMetrics(&now)
	m.ObserveApply(vtysh.ApplyResult{
		Lines:    []string{"router bgp 65001", " neighbor 10.0.0.1 password ******", " neighbor 10.0.0.1 timers 3 9"},
		Resets:   []string{" neighbor 10.0.0.1 password ******"},
		Duration: 300 * time.Microsecond,
	}, nil)
	now = t0.Add(time.Second)
	m.ObserveApply(vtysh.ApplyResult{Lines: []string{"bad line"}, Duration: 2 * time.Second}, errors.New("refused"))
	m.ObserveApply(vtysh.ApplyResult{Duration: 50 * time.Millisecond}, nil) // nothing to change

	compare(t, m, `
# HELP frr_renderer_apply_duration_seconds Wall time of each apply to bgpd, successful or not: computing the delta from what bgpd runs (reading it back when needed) and sending it.
# TYPE frr_renderer_apply_duration_seconds histogram
frr_renderer_apply_duration_seconds_bucket{le="0.0001"} 0
frr_renderer_apply_duration_seconds_bucket{le="0.00025"} 0
frr_renderer_apply_duration_seconds_bucket{le="0.0005"} 1
frr_renderer_apply_duration_seconds_bucket{le="0.001"} 1
frr_renderer_apply_duration_seconds_bucket{le="0.0025"} 1
frr_renderer_apply_duration_seconds_bucket{le="0.005"} 1
frr_renderer_apply_duration_seconds_bucket{le="0.01"} 1
frr_renderer_apply_duration_seconds_bucket{le="0.025"} 1
frr_renderer_apply_duration_seconds_bucket{le="0.05"} 2
frr_renderer_apply_duration_seconds_bucket{le="0.1"} 2
frr_renderer_apply_duration_seconds_bucket{le="0.25"} 2
frr_renderer_apply_duration_seconds_bucket{le="0.5"} 2
frr_renderer_apply_duration_seconds_bucket{le="1"} 2
frr_renderer_apply_duration_seconds_bucket{le="2.5"} 3
frr_renderer_apply_duration_seconds_bucket{le="5"} 3
frr_renderer_apply_duration_seconds_bucket{le="10"} 3
frr_renderer_apply_duration_seconds_bucket{le="+Inf"} 3
frr_renderer_apply_duration_seconds_sum 2.0503
frr_renderer_apply_duration_seconds_count 3
# HELP frr_renderer_apply_errors_total Applies to bgpd that failed: bgpd unreachable, a line refused, or an invalid desired configuration.
# TYPE frr_renderer_apply_errors_total counter
frr_renderer_apply_errors_total 1
# HELP frr_renderer_apply_lines_total Configuration lines sent to bgpd by applies, including a line bgpd refused.
# TYPE frr_renderer_apply_lines_total counter
frr_renderer_apply_lines_total 4
# HELP frr_renderer_apply_session_resetting_lines_total Configuration lines sent to bgpd that reset an existing BGP session (or instance); a subset of frr_renderer_apply_lines_total.
# TYPE frr_renderer_apply_session_resetting_lines_total counter
frr_renderer_apply_session_resetting_lines_total 1
# HELP frr_renderer_last_apply_success_timestamp_seconds Unix time at which the last successful apply to bgpd ended; 0 before the first.
# TYPE frr_renderer_last_apply_success_timestamp_seconds gauge
frr_renderer_last_apply_success_timestamp_seconds 1.772366401e+09
`,
		"frr_renderer_apply_duration_seconds",
		"frr_renderer_apply_errors_total",
		"frr_renderer_apply_lines_total",
		"frr_renderer_apply_session_resetting_lines_total",
		"frr_renderer_last_apply_success_timestamp_seconds",
	)
}

func TestLastApplySuccessBeforeAnyApply(t *testing.T) {
	now := t0
	m := newTestMetrics(&now)
	m.ObserveApply(vtysh.ApplyResult{}, errors.New("bgpd is not running"))
	compare(t, m, `
# HELP frr_renderer_last_apply_success_timestamp_seconds Unix time at which the last successful apply to bgpd ended; 0 before the first.
# TYPE frr_renderer_last_apply_success_timestamp_seconds gauge
frr_renderer_last_apply_success_timestamp_seconds 0
`, "frr_renderer_last_apply_success_timestamp_seconds")
}

func TestCountWatchErrors(t *testing.T) {
	m := New()
	var n uint64 = 7
	m.CountWatchErrors(func() uint64 { return n })
	compare(t, m, `
# HELP frr_renderer_kube_watch_errors_total Failed lists and watches of the Kubernetes API by the informers (the API server unreachable or refusing them). It grows, with the informers' retries, for as long as the API server is lost: FRR keeps the last configuration meanwhile and readiness does not change.
# TYPE frr_renderer_kube_watch_errors_total counter
frr_renderer_kube_watch_errors_total 7
`, "frr_renderer_kube_watch_errors_total")
}

func TestReconciles(t *testing.T) {
	m := New()
	compare(t, m, `
# HELP frr_renderer_reconciles_total Reconciles of the desired configuration by result: submitted (a new configuration went to the applier), unchanged (the same as the last one submitted), error (the sources could not be read, translated or rendered; the last configuration stays).
# TYPE frr_renderer_reconciles_total counter
frr_renderer_reconciles_total{result="error"} 0
frr_renderer_reconciles_total{result="submitted"} 0
frr_renderer_reconciles_total{result="unchanged"} 0
`, "frr_renderer_reconciles_total")

	m.Reconciled(ResultSubmitted)
	m.Reconciled(ResultUnchanged)
	m.Reconciled(ResultUnchanged)
	m.Reconciled(ResultError)
	m.Reconciled("10.0.0.1 password secret") // not a result: counted as an error, never a label
	compare(t, m, `
# HELP frr_renderer_reconciles_total Reconciles of the desired configuration by result: submitted (a new configuration went to the applier), unchanged (the same as the last one submitted), error (the sources could not be read, translated or rendered; the last configuration stays).
# TYPE frr_renderer_reconciles_total counter
frr_renderer_reconciles_total{result="error"} 2
frr_renderer_reconciles_total{result="submitted"} 1
frr_renderer_reconciles_total{result="unchanged"} 2
`, "frr_renderer_reconciles_total")
}

const stalenessHeader = `
# HELP frr_renderer_config_staleness_seconds Seconds for which FRR has not run the desired configuration, at scrape time: now minus the submission time of the first desired configuration submitted since FRR last ran the latest submitted one; 0 while FRR runs the latest submitted configuration or none was submitted.
# TYPE frr_renderer_config_staleness_seconds gauge
`

func TestStalenessExposition(t *testing.T) {
	now := t0
	m := newTestMetrics(&now)
	m.Submitted(t0)
	now = t0.Add(1500 * time.Millisecond)
	compare(t, m, stalenessHeader+"frr_renderer_config_staleness_seconds 1.5\n", "frr_renderer_config_staleness_seconds")
	m.Applied(t0)
	compare(t, m, stalenessHeader+"frr_renderer_config_staleness_seconds 0\n", "frr_renderer_config_staleness_seconds")
}

func TestStaleness(t *testing.T) {
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type event struct {
		submitted bool // Submitted, or else Applied
		at        float64
	}
	sub := func(s float64) event { return event{true, s} }
	app := func(s float64) event { return event{false, s} }
	for _, tc := range []struct {
		name   string
		events []event
		now    float64
		want   float64
	}{
		{name: "nothing submitted", now: 10, want: 0},
		{name: "pending", events: []event{sub(1)}, now: 4, want: 3},
		{name: "applied with its submission time", events: []event{sub(1), app(1)}, now: 4, want: 0},
		{name: "applied at a later time", events: []event{sub(1), app(1.2)}, now: 4, want: 0},
		{name: "newer desired pending", events: []event{sub(1), app(1), sub(2)}, now: 5, want: 3},
		{name: "several pending: since the first", events: []event{sub(1), app(1), sub(2), sub(3)}, now: 5, want: 3},
		{
			name:   "an older one applied while a newer is pending: FRR never caught up since the first",
			events: []event{sub(1), app(1), sub(2), app(2), sub(3), sub(4), app(3)},
			now:    6, want: 3,
		},
		{name: "caught up again", events: []event{sub(1), sub(2), app(1.5), app(2.5)}, now: 6, want: 0},
		{name: "applied before submitted (out of order calls)", events: []event{app(3), sub(2)}, now: 6, want: 0},
		{name: "an older Applied does not undo a newer", events: []event{sub(1), app(2), app(0.5)}, now: 6, want: 0},
		{name: "clock behind the submission", events: []event{sub(5)}, now: 4, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := at(tc.now)
			m := newTestMetrics(&now)
			for _, e := range tc.events {
				if e.submitted {
					m.Submitted(at(e.at))
				} else {
					m.Applied(at(e.at))
				}
			}
			if got := m.staleness(); got != tc.want {
				t.Errorf("staleness = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestApplyCheck(t *testing.T) {
	m := New()
	check := m.ApplyCheck()
	if err := check.Err(); !errors.Is(err, errNoApply) {
		t.Errorf("before any apply: %v, want %v", err, errNoApply)
	}
	refused := errors.New("bgpd refused line 3")
	m.ObserveApply(vtysh.ApplyResult{}, refused)
	if err := check.Err(); !errors.Is(err, refused) {
		t.Errorf("after a failed apply: %v, want %v", err, refused)
	}
	m.ObserveApply(vtysh.ApplyResult{}, nil)
	if err := check.Err(); err != nil {
		t.Errorf("after a successful apply: %v", err)
	}
	full := errors.New("writing the state file: no space left on device")
	m.ObserveApply(vtysh.ApplyResult{StateErr: full}, nil)
	if err := check.Err(); !errors.Is(err, full) {
		t.Errorf("after an apply that could not write the state file: %v, want %v", err, full)
	}
	m.ObserveApply(vtysh.ApplyResult{}, nil)
	if err := check.Err(); err != nil {
		t.Errorf("after the state file was written again: %v", err)
	}
}

// TestLint holds every metric of the package to Prometheus' naming conventions (promlint).
func TestLint(t *testing.T) {
	m := New()
	m.SetSessions(Peers{}, []vtysh.Session{session("", "10.0.0.1", "Established", family("ipv4", "unicast", 1, 2))})
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, namespace+"_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

func TestRuntimeCollectors(t *testing.T) {
	m := New()
	for _, name := range []string{"go_goroutines", "process_start_time_seconds", "go_build_info"} {
		n, err := testutil.GatherAndCount(m.Registry(), name)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("%s is missing", name)
		}
	}
}

// session returns a session of the given view, peer and state.
func session(view, peer, state string, families ...vtysh.FamilyCount) vtysh.Session {
	return vtysh.Session{View: view, Peer: netip.MustParseAddr(peer), State: state, Families: families}
}

func family(afi, safi string, advertised, received uint32) vtysh.FamilyCount {
	return vtysh.FamilyCount{AFI: afi, SAFI: safi, Advertised: advertised, Received: received}
}

func TestFailedInstancesAndSessionResets(t *testing.T) {
	m := New()
	m.SetFailedInstances(2)
	m.ObserveApply(vtysh.ApplyResult{SessionResets: []string{"10.0.0.1 (timers)", "10.0.0.2 (timers)"}}, nil)
	m.ObserveApply(vtysh.ApplyResult{Lines: []string{" neighbor 10.0.0.1 timers 3 9"}}, nil) // a session that was not up: no reset
	compare(t, m, `
# HELP frr_renderer_bgp_instances_failed BGP instances of the node's CiliumBGPClusterConfig left out of the desired configuration for errors in their input (the CiliumBGPNodeConfig's condition and the Events name them); FRR keeps what they ran. 0 when every instance is configured.
# TYPE frr_renderer_bgp_instances_failed gauge
frr_renderer_bgp_instances_failed 2
# HELP frr_renderer_bgp_session_resets_total Established BGP sessions reset because an apply changed their negotiated parameters (timers, graceful restart), as Cilium resets them: FRR alone would keep the old values until the session restarts.
# TYPE frr_renderer_bgp_session_resets_total counter
frr_renderer_bgp_session_resets_total 2
`, "frr_renderer_bgp_instances_failed", "frr_renderer_bgp_session_resets_total")

	m.SetFailedInstances(0)
	compare(t, m, `
# HELP frr_renderer_bgp_instances_failed BGP instances of the node's CiliumBGPClusterConfig left out of the desired configuration for errors in their input (the CiliumBGPNodeConfig's condition and the Events name them); FRR keeps what they ran. 0 when every instance is configured.
# TYPE frr_renderer_bgp_instances_failed gauge
frr_renderer_bgp_instances_failed 0
`, "frr_renderer_bgp_instances_failed")
}

// The state file's failure is a gauge an alert can hold for a while: 1 from the apply that
// could not write it (whether or not that apply succeeded) until one writes it.
func TestStateFileWriteFailing(t *testing.T) {
	const header = `
# HELP frr_renderer_state_file_write_failing 1 while the applier cannot write its state file (disk full or read-only; it retries with backoff), else 0. FRR still gets the configuration, but a restarted frr-renderer would leave what it rendered meanwhile in FRR as foreign configuration.
# TYPE frr_renderer_state_file_write_failing gauge
`
	m := New()
	compare(t, m, header+"frr_renderer_state_file_write_failing 0\n", "frr_renderer_state_file_write_failing")
	full := errors.New("writing the state file: no space left on device")
	for _, step := range []struct {
		err, stateErr error
		want          string
	}{
		{nil, full, "1"},
		{errors.New("bgpd is not running"), full, "1"}, // a failed apply does not mend it
		{nil, nil, "0"},
		{errors.New("bgpd is not running"), nil, "0"},
	} {
		m.ObserveApply(vtysh.ApplyResult{StateErr: step.stateErr}, step.err)
		compare(t, m, header+"frr_renderer_state_file_write_failing "+step.want+"\n", "frr_renderer_state_file_write_failing")
	}
}
