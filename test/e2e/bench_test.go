package e2e

// Measures of the Kubernetes mode (make bench; numbers in the closing notes):
//   - BenchmarkServiceToToR: a Service's LoadBalancer IP written to the API -> route at the ToR,
//     adds and withdrawals, p50/p99;
//   - BenchmarkSidecarScale: the sidecar's memory with 10,000 Services and 1,000 Nodes in the
//     API server, all advertised, and 1,000 Service updates within one second: applies and
//     time until the ToR has converged.

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/measure"
)

// routeMapDelay: after the first apply creates route-maps, bgpd re-announces everything once
// `bgp route-map delay-timer` (5 s) later; measuring through it measures that.
const routeMapDelay = 6 * time.Second

func BenchmarkServiceToToR(b *testing.B) {
	e := setup(b, benchVersion(b))
	const base = "172.20.2.1"
	e.createService(lbService("bench", map[string]string{"app": "http-test"}, base, false))
	e.eventually(b, "the bench Service", func() error { return e.torHas(base + "/32") })
	time.Sleep(routeMapDelay)

	var adds, withdrawals measure.Samples
	svcs := e.kube.CoreV1().Services("default")
	setIPs := func(ips ...string) time.Time {
		svc, err := svcs.Get(context.Background(), "bench", metav1.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		svc.Status.LoadBalancer.Ingress = nil
		for _, ip := range ips {
			svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		start := time.Now()
		if _, err := svcs.UpdateStatus(context.Background(), svc, metav1.UpdateOptions{}); err != nil {
			b.Fatal(err)
		}
		return start
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ip := fmt.Sprintf("172.20.3.%d", i%250+1)
		start := setIPs(base, ip)
		adds.Add(e.until(b, func() bool { return e.torHasPrefix(ip + "/32") }).Sub(start))
		start = setIPs(base)
		withdrawals.Add(e.until(b, func() bool { return !e.torHasPrefix(ip + "/32") }).Sub(start))
	}
	b.StopTimer()
	b.ReportMetric(adds.Pct(50), "add-p50-ms")
	b.ReportMetric(adds.Pct(99), "add-p99-ms")
	b.ReportMetric(withdrawals.Pct(50), "withdraw-p50-ms")
	b.ReportMetric(withdrawals.Pct(99), "withdraw-p99-ms")
	b.Logf("FRR %s, API write -> ToR: adds %s; withdrawals %s", e.v, adds.Summary(), withdrawals.Summary())
}

func BenchmarkSidecarScale(b *testing.B) {
	if b.N > 1 {
		b.Skip("one iteration: run with -benchtime 1x")
	}
	services, nodes := scaleServices(b), 1000
	var admin kubernetes.Interface
	var created time.Duration
	// The objects are in the API server before the sidecar starts: its first list holds them.
	e := setupWith(b, benchVersion(b), func(e *env) {
		admin = benchClient(e)
		start := time.Now()
		parallel(b, 32, nodes, func(i int) error {
			_, err := admin.CoreV1().Nodes().Create(context.Background(), &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("scale-%04d", i), Labels: map[string]string{"kubernetes.io/os": "linux"}},
			}, metav1.CreateOptions{})
			return err
		})
		addServices(b, e, admin, services)
		created = time.Since(start)
	})
	started := e.sidecarStarted
	converged := e.until(b, func() bool { n, _ := e.torCount(); return n >= services+1 })
	b.Logf("%d Nodes and %d Services created in %v; the ToR had all %d routes %v after the sidecar started",
		nodes, services, created.Round(time.Millisecond), services+1, converged.Sub(started).Round(time.Millisecond))
	time.Sleep(routeMapDelay)
	rss, hwm := e.sidecarMemory(b)
	b.ReportMetric(rss, "rss-MiB")
	b.ReportMetric(hwm, "peak-rss-MiB")
	// The heap the collector found live is about half its next goal (GOGC=100, no limit).
	b.Logf("sidecar's Go heap: in use %.1f MiB, next GC at %.1f MiB",
		e.metricValue(b, "go_memstats_heap_inuse_bytes")/(1<<20), e.metricValue(b, "go_memstats_next_gc_bytes")/(1<<20))

	// 1,000 updates within one second: new LoadBalancer IPs for the first 1,000 Services.
	appliesBefore := e.metricValue(b, "frr_renderer_apply_duration_seconds_count")
	const updates = 1000
	tick := time.NewTicker(time.Second / updates)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	burstStart := time.Now()
	for i := 0; i < updates; i++ {
		<-tick.C
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			// One request per update: a status patch, no read first.
			patch := fmt.Sprintf(`{"status":{"loadBalancer":{"ingress":[{"ip":%q}]}}}`, scaleIP(i, 1))
			_, err := admin.CoreV1().Services("default").Patch(context.Background(), fmt.Sprintf("scale-%06d", i),
				types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
			if err != nil {
				b.Error(err)
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	lastWrite := time.Now()
	done := e.until(b, func() bool {
		got, err := e.torRoutes()
		if err != nil {
			return false
		}
		for i := 0; i < updates; i += 37 {
			if !got[scaleIP(i, 1)+"/32"] || got[scaleIP(i, 0)+"/32"] {
				return false
			}
		}
		return got[scaleIP(updates-1, 1)+"/32"]
	})
	applies := e.metricValue(b, "frr_renderer_apply_duration_seconds_count") - appliesBefore
	b.ReportMetric(applies, "burst-applies")
	b.ReportMetric(float64(done.Sub(lastWrite).Milliseconds()), "burst-converge-ms")
	rss2, hwm2 := e.sidecarMemory(b)
	b.Logf("FRR %s: sidecar RSS %.1f MiB (peak %.1f) with %d Services and %d Nodes; %d updates in %v: %.0f applies, ToR converged %v after the last write; RSS after %.1f MiB (peak %.1f)",
		e.v, rss, hwm, services, nodes, updates, lastWrite.Sub(burstStart).Round(time.Millisecond), applies, done.Sub(lastWrite).Round(time.Millisecond), rss2, hwm2)
}

// benchClient is an admin client for creating objects by the thousand: protobuf (less of the
// API server's CPU than JSON) and no client-side rate limit.
func benchClient(e *env) kubernetes.Interface {
	cfg := e.api.RESTConfig()
	cfg.QPS, cfg.Burst = 5000, 5000
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	return kubernetes.NewForConfigOrDie(cfg)
}

// scaleIP is Service i's LoadBalancer IP in generation g: 172.24.0.1 counted up for the
// first, 172.28.0.1 for the second (room for 250,000 Services each).
func scaleIP(i, g int) string {
	return fmt.Sprintf("172.%d.%d.%d", 24+4*g+i/(250*256), i/250%256, i%250+1)
}

func benchVersion(b *testing.B) frrtest.Version {
	if os.Getenv("E2E_FRR") == "8" {
		return frrtest.FRR8
	}
	return frrtest.FRR10
}

// until polls cond every millisecond and returns when it first held (within 5 minutes: an
// initial converge of 100,000 Services takes minutes).
func (e *env) until(b *testing.B, cond func() bool) time.Time {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if cond() {
			return time.Now()
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatal("not within 5 minutes")
	return time.Time{}
}

func (e *env) torHasPrefix(prefix string) bool {
	out, err := e.show(e.torVty, "show bgp ipv4 unicast "+prefix+" json")
	return err == nil && strings.Contains(out, `"nexthops"`)
}

// torCount is the number of prefixes in the ToR's BGP table.
func (e *env) torCount() (int, error) {
	out, err := e.show(e.torVty, "show bgp ipv4 unicast summary json")
	if err != nil {
		return 0, err
	}
	i := strings.Index(out, `"pfxRcd":`)
	if i < 0 {
		return 0, fmt.Errorf("no pfxRcd: %.200s", out)
	}
	s := out[i+len(`"pfxRcd":`):]
	j := strings.IndexAny(s, ",}")
	return strconv.Atoi(strings.TrimSpace(s[:j]))
}

// sidecarMemory is the sidecar's resident memory now and at its peak, in MiB, and logs what
// the resident memory is made of: anonymous (heap, stacks) and file pages (the binary's code).
func (e *env) sidecarMemory(b *testing.B) (rss, peak float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.sidecar.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	field := func(name string) float64 {
		for _, l := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(l, name+":"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
				return kb / 1024
			}
		}
		return math.NaN()
	}
	b.Logf("sidecar memory: VmRSS %.1f MiB = RssAnon %.1f + RssFile %.1f; VmHWM %.1f MiB",
		field("VmRSS"), field("RssAnon"), field("RssFile"), field("VmHWM"))
	return field("VmRSS"), field("VmHWM")
}

// metricValue is the value of an unlabelled metric in the sidecar's /metrics.
func (e *env) metricValue(b *testing.B, name string) float64 {
	m, err := e.metrics()
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(m, "\n") {
		if rest, ok := strings.CutPrefix(l, name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				b.Fatal(err)
			}
			return v
		}
	}
	b.Fatalf("no %s in /metrics", name)
	return 0
}

// parallel runs f(0..n-1) on workers goroutines.
func parallel(b *testing.B, workers, n int, f func(i int) error) {
	b.Helper()
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}
