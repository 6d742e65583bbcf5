package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// TestSidecarAPIServerOutage stops the sidecar's API server for E2E_API_OUTAGE (`make faults`:
// 65 s) while the cluster changes through another API server on the same etcd (another
// control-plane node; the sidecar knows only the first): a Service created, one deleted.
// Meanwhile the ToR keeps every route the node advertised, the deleted Service's too (the
// sidecar cannot know), and gets nothing new; the sidecar stays ready (FRR runs the last
// configuration it saw, which is what serves traffic) and frr_renderer_kube_watch_errors_total
// grows. Once the API server is back, both changes reach the ToR without a session flap.
// Not in `make test` (a minute of waiting); TestSidecar has a short outage there.
func TestSidecarAPIServerOutage(t *testing.T) {
	raw := os.Getenv("E2E_API_OUTAGE")
	if raw == "" {
		t.Skip("E2E_API_OUTAGE (a duration) is not set: `make faults` runs it with 65s")
	}
	outage, err := time.ParseDuration(raw)
	if err != nil || outage < 10*time.Second {
		t.Fatalf("E2E_API_OUTAGE=%q: want a duration of 10s or more, such as 65s", raw)
	}
	e := setup(t, frrtest.FRR10) // the deploy image's FRR: the outage is the API server's affair
	selected := map[string]string{"app": "http-test"}
	const doomed, meanwhile = "172.20.1.4", "172.20.1.5"
	e.createService(lbService("e2e-doomed", selected, doomed, false))
	e.eventually(t, doomed+"/32 at the ToR", func() error { return e.torHas(doomed + "/32") })
	before, err := e.torNeighbor()
	if err != nil {
		t.Fatal(err)
	}
	errorsBefore := e.watchErrors(t)

	w := e.watchRoutes(seedIP+"/32", doomed+"/32")
	e.api.StopAPIServer(t)
	down := time.Now()
	otherCfg, stopOther := e.api.StartOtherAPIServer(t)
	other := kubernetes.NewForConfigOrDie(otherCfg)
	e.createServiceVia(other, lbService("e2e-meanwhile", selected, meanwhile, false))
	if err := other.CoreV1().Services("default").Delete(context.Background(), "e2e-doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	stopOther()
	t.Logf("a Service created and one deleted through another API server %v into the outage", time.Since(down).Round(time.Millisecond))

	e.eventuallyWithin(t, outage, "watch errors counted", func() error {
		if n := e.watchErrors(t); n <= errorsBefore {
			return fmt.Errorf("frr_renderer_kube_watch_errors_total %d, %d before the outage", n, errorsBefore)
		}
		return nil
	})
	time.Sleep(time.Until(down.Add(outage)))
	if code, body, err := e.ready(); err != nil || code != 200 {
		t.Errorf("/readyz %v into the outage: %d %q %v; want 200, FRR runs the last configuration", time.Since(down).Round(time.Second), code, body, err)
	}
	m, err := e.metrics()
	if err != nil {
		t.Fatal(err)
	}
	if err := containsAll(m,
		`frr_renderer_bgp_session_state{bgp_instance="K8S-NODES",peer="192.168.10.1",state="Established"} 1`,
		`frr_renderer_config_staleness_seconds 0`); err != nil {
		t.Errorf("metrics %v into the outage: %v", time.Since(down).Round(time.Second), err)
	}
	errorsDuring := e.watchErrors(t)
	if err := e.torLacks(meanwhile + "/32"); err != nil {
		t.Errorf("the sidecar saw the other API server: %v", err)
	}
	w.stopAndCheck(t) // the ToR lost nothing, the deleted Service's route included

	w = e.watchRoutes(seedIP + "/32")
	e.api.StartAPIServer(t)
	back := time.Now()
	t.Logf("the API server back after %v; %d watch errors counted meanwhile", back.Sub(down).Round(time.Millisecond), errorsDuring-errorsBefore)
	// client-go's reflectors back off while the API server is away (up to 30 s, jittered).
	e.eventuallyWithin(t, 2*time.Minute, "the changes made meanwhile at the ToR", func() error {
		if err := e.torHas(meanwhile + "/32"); err != nil {
			return err
		}
		return e.torLacks(doomed + "/32")
	})
	t.Logf("the changes made during the outage reached the ToR %v after the API server came back", time.Since(back).Round(time.Millisecond))
	w.stopAndCheck(t)
	e.checkNoFlap(t, before)
	if code, body, err := e.ready(); err != nil || code != 200 {
		t.Errorf("/readyz after the outage: %d %q %v", code, body, err)
	}
}

var watchErrorsLine = regexp.MustCompile(`(?m)^frr_renderer_kube_watch_errors_total (\S+)$`)

// watchErrors reads frr_renderer_kube_watch_errors_total from the sidecar's metrics.
func (e *env) watchErrors(t *testing.T) uint64 {
	t.Helper()
	m, err := e.metrics()
	if err != nil {
		t.Fatal(err)
	}
	match := watchErrorsLine.FindStringSubmatch(m)
	if match == nil {
		t.Fatal("no frr_renderer_kube_watch_errors_total in the metrics")
	}
	n, err := strconv.ParseFloat(match[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(n)
}
