// Package metrics is the sidecar's observability: Prometheus metrics of the BGP sessions, the
// applies and the reconcile loop, and the /healthz and /readyz endpoints a kubelet probes.
//
// Serve exposes, on one address (`--metrics-addr`):
//   - /metrics: the Metrics' own registry (never the global one) in the Prometheus exposition
//     format, with the Go runtime, process and build-info collectors;
//   - /healthz: 200 while the process serves (the caller ends Serve's context when its loop
//     ends);
//   - /readyz: 200 when every Check passes, else 503 with one plain-text line per failing check,
//     "name: reason".
//
// The metrics, all under the namespace frr_renderer:
//
//	bgp_session_state{bgp_instance,peer,state}             gauge, one series per FSM state
//	bgp_prefixes_advertised{bgp_instance,peer,afi,safi}    gauge
//	bgp_prefixes_received{bgp_instance,peer,afi,safi}      gauge
//	apply_duration_seconds                             histogram, 100 µs .. 10 s
//	apply_errors_total                                 counter
//	apply_lines_total                                  counter
//	apply_session_resetting_lines_total                counter
//	reconciles_total{result}                           counter: submitted, unchanged, error
//	config_staleness_seconds                           gauge, computed at scrape time
//	last_apply_success_timestamp_seconds               gauge, unix time
//	bgp_instances_failed                               gauge
//	bgp_session_resets_total                           counter
//	state_file_write_failing                           gauge, 1 while the state file cannot be written
//	kube_watch_errors_total                            counter (CountWatchErrors)
//
// and Cilium's, with Cilium's names and labels (pkg/bgpv1/metrics), for dashboards and alerts
// made for Cilium's BGP control plane:
//
//	cilium_bgp_control_plane_session_state{vrouter,neighbor}              gauge, 1 established, else 0
//	cilium_bgp_control_plane_advertised_routes{vrouter,neighbor,afi,safi} gauge
//	cilium_bgp_control_plane_received_routes{vrouter,neighbor,afi,safi}   gauge
//
// Session state follows the one-series-per-state pattern (as kube_pod_status_phase): each peer
// has a series for each of the six RFC 4271 states (Idle, Connect, Active, OpenSent,
// OpenConfirm, Established, as FRR spells them), 1 for the current one and 0 for the others, so
// that `frr_renderer_bgp_session_state{state="Established"} == 0` finds the sessions that are
// down and a state change never makes a series appear or vanish. A state FRR reports outside
// those six (Clearing, Deleted, briefly) gets its own series, 1, for as long as it lasts.
// SetSessions replaces every session series at once: a peer that is gone from bgpd is gone from
// the metrics at the next SetSessions, and a scrape never sees a half-updated set.
//
// Labels are bounded by the configuration, never by traffic: bgp_instance (not "instance", which
// Prometheus gives every target) is the Cilium BGP instance name the caller maps each FRR view to,
// vrouter the local ASN, neighbor the peer's address and port, peer the neighbor's address, afi and safi the
// address family, state bgpd's FSM state, result one of the Result constants.
//
// It must never put a password, a configuration line, a prefix or an error text in a metric or
// a label, never register on Prometheus' global registry, and never import frr-renderer's other
// packages besides vtysh (for its Session and ApplyResult types): its callers feed it. The
// reasons /readyz prints are the checks' error texts, which must be masked already (the
// applier's are); the package keeps each to one bounded line.
package metrics
