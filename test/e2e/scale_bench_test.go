package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/frr-renderer/frr-renderer/internal/kube"
	"github.com/frr-renderer/frr-renderer/internal/measure"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// scaleServices is the number of Services of the scale benchmarks: $E2E_SERVICES or 10,000.
func scaleServices(b *testing.B) int {
	if s := os.Getenv("E2E_SERVICES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("E2E_SERVICES=%q: want a positive number", s)
		}
		return n
	}
	return 10000
}

// addServices puts n LoadBalancer Services into the API server: created through it
// (createServices), or written to its etcd (seedServices) when $E2E_SERVICES_VIA is "etcd" or
// n is above 20,000, which the API server takes more than 12 minutes to create.
func addServices(b *testing.B, e *env, admin kubernetes.Interface, n int) time.Duration {
	// The sidecar's first converge takes about a second per 10,000 Services, FRR 8.4 more.
	e.startTimeout = time.Duration(n) * time.Millisecond
	if os.Getenv("E2E_SERVICES_VIA") == "etcd" || n > 20000 {
		return seedServices(b, e, admin, n)
	}
	return createServices(b, admin, n)
}

// createServices creates n LoadBalancer Services the seed's advertisement selects, with their
// LoadBalancer IPs, through admin; it returns how long it took.
func createServices(b *testing.B, admin kubernetes.Interface, n int) time.Duration {
	start := time.Now()
	parallel(b, 32, n, func(i int) error {
		svc := lbService(fmt.Sprintf("scale-%06d", i), map[string]string{"app": "http-test"}, scaleIP(i, 0), false)
		status := svc.Status
		created, err := admin.CoreV1().Services("default").Create(context.Background(), svc, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		created.Status = status
		_, err = admin.CoreV1().Services("default").UpdateStatus(context.Background(), created, metav1.UpdateOptions{})
		return err
	})
	return time.Since(start)
}

// warmAPIServer runs the sidecar's informers once, as another client, until they have synced,
// and returns how long that took. The sidecar then starts as in a running cluster, whose API
// server has served these lists before: right after the bulk creation its watch cache lags
// behind etcd, and a custom resource nobody has read yet has no watch cache at all (the API
// server starts it on the first request and answers 429, retry in 1 s, meanwhile).
func warmAPIServer(b *testing.B, e *env) time.Duration {
	b.Helper()
	clients, err := kube.NewClients(e.api.RESTConfig())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	src, err := kube.Start(ctx, clients, kube.Options{Node: nodeName, SecretsNamespace: "kube-system", Log: logr.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	select {
	case <-src.Changes():
	case <-ctx.Done():
		b.Fatalf("warming the API server: the informers did not sync: %v", ctx.Err())
	}
	took := time.Since(start)
	cancel()
	<-src.Done()
	return took
}

// listServices times one List of every Service in protobuf from the API server's watch cache,
// as an informer's first list asks for them: the API server's part of the sidecar's start.
func listServices(b *testing.B, e *env) time.Duration {
	b.Helper()
	services := benchClient(e).CoreV1().Services("")
	start := time.Now()
	l, err := services.List(context.Background(), metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		b.Fatalf("listing the Services: %v", err)
	}
	took := time.Since(start)
	b.Logf("one List of the %d Services (protobuf, from the watch cache): %v", len(l.Items), took.Round(time.Millisecond))
	return took
}

// BenchmarkServiceEditScale is the Kubernetes mode of issue 11's measure: with N Services in
// the API server ($E2E_SERVICES, default 10,000), the sidecar's start until the ToR has every
// route (the stages in its log), then b.N times the seed Service's second LoadBalancer IP
// written to the API server and taken away again, timed until the node's BGP table (a path
// listed; none but removed ones) and the ToR (a path; none) show it, with the sidecar's stages
// of each change. The sidecar is then stopped and the same change sent to the node's bgpd over
// its vty socket by the benchmark: FRR's floor, in the same run.
//
//	go test -run '^$' -bench ServiceEditScale -benchtime 20x -timeout 30m ./test/e2e/   (E2E_FRR=8 for 8.4)
//
// E2E_GRACEFUL_RESTART=off turns the seed's graceful restart off (Cilium's default), whose new
// neighbors are released before the network lines (frrconfig.HoldNewPeers).
func BenchmarkServiceEditScale(b *testing.B) {
	n := scaleServices(b)
	b.Setenv("E2E_SIDECAR_ARGS", strings.TrimSpace(os.Getenv("E2E_SIDECAR_ARGS")+" -v 2"))
	var created, warmSync, listed time.Duration
	var sessionUp <-chan time.Time
	e := setupWith(b, benchVersion(b), func(e *env) {
		if os.Getenv("E2E_GRACEFUL_RESTART") == "off" {
			e.mutate(object("cilium.io/v2", "CiliumBGPPeerConfig", "", "cilium-peer"), func(u *unstructured.Unstructured) {
				_ = unstructured.SetNestedField(u.Object, false, "spec", "gracefulRestart", "enabled")
			}, false)
		}
		created = addServices(b, e, benchClient(e), n)
		warmSync = warmAPIServer(b, e)
		listed = listServices(b, e)
		sessionUp = e.watchSessionUp(b)
	})
	converged := e.until(b, func() bool { c, _ := e.torCount(); return c >= n+1 })
	up := <-sessionUp
	if up.IsZero() {
		b.Fatal("the ToR's session with the node was never seen Established")
	}
	rss, peak := e.sidecarMemory(b)
	lines := readLog(b, e.sidecar.log)
	at := func(msg string) string {
		for _, l := range lines {
			if l["msg"] == msg {
				t, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(l["time"]))
				return fmt.Sprintf("%.0f", float64(t.Sub(e.sidecarStarted))/1e6)
			}
		}
		return "-"
	}
	stages, byKind, applied := "", "", ""
	for _, l := range lines {
		if l["msg"] == "stages" && l["kind"] == "initial" && stages == "" {
			stages = fmt.Sprint(l["stages"])
		}
		if l["msg"] == "applied" && applied == "" {
			applied = fmt.Sprintf(" (%v lines, delta %v, send %v)", l["lines"], l["delta"], l["send"])
		}
		if l["msg"] == "informers synced by kind" && byKind == "" {
			byKind = fmt.Sprintf(" (each kind's list, from the first: %v)", l["after"])
		}
	}
	converge := fmt.Sprintf("initial converge (%d Services created in %v; the API server warmed by informers like the sidecar's, synced after %v; one List of the Services then took %v): ms from the sidecar's start: started %s, informers synced %s%s, submitted %s (%s), applied %s%s, session up %.0f, ToR has all %.0f; sidecar RSS %.1f MiB, peak %.1f MiB",
		n, created.Round(time.Second), warmSync.Round(time.Millisecond), listed.Round(time.Millisecond), at("starting"), at("informers synced"), byKind, at("submitted"), stages, at("applied"), applied,
		float64(up.Sub(e.sidecarStarted))/1e6, float64(converged.Sub(e.sidecarStarted))/1e6, rss, peak)
	time.Sleep(routeMapDelay)
	// The setup once: the testing package runs a sub-benchmark with b.N = 1 first, then with
	// -benchtime's.
	b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
		// Reported here: a benchmark with sub-benchmarks reports no metrics of its own.
		b.ReportMetric(float64(converged.Sub(e.sidecarStarted))/1e6, "converge-ms")
		b.ReportMetric(rss, "rss-MiB")
		e.benchServiceEdit(b, n, converge)
	})
}

// benchServiceEdit makes b.N add/withdraw pairs with the sidecar, then b.N over the vty socket
// (the sidecar stopped), and reports the p50s side by side.
func (e *env) benchServiceEdit(b *testing.B, n int, converge string) {
	if warmUp(b) {
		return
	}
	const probe = "172.20.3.1"
	if e.sidecar.cmd.ProcessState != nil {
		// Stopped for the floor of the run before: started again, and idle.
		e.startSidecar(binary(b))
		e.eventuallyWithin(b, 2*time.Minute, "the sidecar ready again", func() error {
			if code, body, err := e.ready(); err != nil || code != 200 {
				return fmt.Errorf("/readyz: %d %s %v", code, body, err)
			}
			return nil
		})
		time.Sleep(time.Second)
	}
	svcs := e.kube.CoreV1().Services("default")
	var apiWrite measure.Samples
	setIPs := func(ips ...string) time.Time {
		svc, err := svcs.Get(context.Background(), "http-test", metav1.GetOptions{})
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
		// The API server's own share of the signal stage: it answers once etcd has the write.
		apiWrite.Add(time.Since(start))
		return start
	}
	run, floor := edits{stages: measure.Breakdown{}}, edits{}
	example := ""
	b.ResetTimer()
	for range b.N {
		for _, add := range []bool{true, false} {
			offset := logSize(e.sidecar.log)
			ips := []string{seedIP}
			if add {
				ips = append(ips, probe)
			}
			t0, torT := run.measure(b, e, probe, add, func() time.Time { return setIPs(ips...) })
			line, c, err := changeStages(e.sidecar.log, offset)
			if err == nil {
				err = run.stages.AddChange(c, t0, torT)
			}
			if err != nil {
				b.Fatalf("the sidecar's stages: %v", err)
			}
			if example == "" && !add {
				example = line
			}
			time.Sleep(60 * time.Millisecond) // never two changes in one processing round of a bgpd
		}
	}
	b.StopTimer()

	// The floor: the same delta over the vty socket, with the sidecar stopped.
	rm := originRouteMap(b, e, seedIP)
	e.stopSidecar(e.sidecar)
	c, err := vtysh.Dial(context.Background(), vtysh.SocketPath(e.node.RunDir(), "bgpd"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for range b.N {
		for _, add := range []bool{true, false} {
			line := "  network " + probe + "/32 route-map " + rm
			if !add {
				line = "  no network " + probe + "/32"
			}
			floor.measure(b, e, probe, add, func() time.Time {
				t0 := time.Now()
				if err := c.Configure(context.Background(), []string{"router bgp 65001", " address-family ipv4 unicast", line, " exit-address-family", "exit"}); err != nil {
					b.Fatal(err)
				}
				return t0
			})
			time.Sleep(60 * time.Millisecond)
		}
	}

	b.ReportMetric(run.node().Pct(50), "run-node-p50-ms")
	b.ReportMetric(run.tor().Pct(50), "run-tor-p50-ms")
	b.ReportMetric(floor.node().Pct(50), "floor-node-p50-ms")
	b.ReportMetric(floor.tor().Pct(50), "floor-tor-p50-ms")
	b.ReportMetric(run.torAdd.Pct(50)-floor.torAdd.Pct(50), "run-over-floor-tor-add-ms")
	b.ReportMetric(run.torWd.Pct(50)-floor.torWd.Pct(50), "run-over-floor-tor-wd-ms")
	for _, st := range measure.Stages {
		b.ReportMetric(run.stages.Pct(st, 50), "run-"+st+"-p50-ms")
	}
	b.ReportMetric(apiWrite.Pct(50), "api-write-p50-ms")
	// The testing package keeps a benchmark's first 10 lines of log.
	b.Logf("FRR %s, %d Services, %d add/withdraw pairs; p50 ms from the API write (or the command): node's table (add, withdrawal) | ToR (add, withdrawal)", e.v, n, b.N)
	for _, w := range []struct {
		name string
		s    *edits
	}{{"sidecar", &run}, {"floor", &floor}} {
		b.Logf("  %-8s %8.1f (%7.1f, %7.1f) | %8.1f (%7.1f, %7.1f)", w.name, w.s.node().Pct(50), w.s.nodeAdd.Pct(50), w.s.nodeWd.Pct(50),
			w.s.tor().Pct(50), w.s.torAdd.Pct(50), w.s.torWd.Pct(50))
	}
	b.Log(converge)
	b.Logf("  sidecar's stages until the ToR, %s; the API write's round trip (part of signal) p50 %.2f", run.stages, apiWrite.Pct(50))
	b.Log("  sidecar's one withdrawal as logged: " + example)
}

// edits are the times of a way's changes, and the sidecar's stages of them.
type edits struct {
	nodeAdd, nodeWd, torAdd, torWd measure.Samples
	stages                         measure.Breakdown
}

func (s *edits) node() measure.Samples { return slices.Concat(s.nodeAdd, s.nodeWd) }
func (s *edits) tor() measure.Samples  { return slices.Concat(s.torAdd, s.torWd) }

// measure makes a change (change returns its start) and records when the node's table and
// the ToR showed it, polling both every half millisecond; it returns the start and when the
// ToR showed it.
func (s *edits) measure(b *testing.B, e *env, ip string, add bool, change func() time.Time) (start, torShown time.Time) {
	b.Helper()
	prefix := ip + "/32"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	started := make(chan time.Time, 2)
	type seen struct {
		t   time.Time
		err error
	}
	node, tor := make(chan seen, 1), make(chan seen, 1)
	poll := func(c *vtysh.Client, done func(paths, live int) bool, out chan<- seen) {
		<-started
		for {
			paths, live, err := pathsOf(ctx, c, prefix)
			now := time.Now()
			if err != nil || done(paths, live) {
				out <- seen{now, err}
				return
			}
			time.Sleep(500 * time.Microsecond)
		}
	}
	go poll(e.nodeVty, func(_, live int) bool { return (live > 0) == add }, node)
	go poll(e.torVty, func(paths, _ int) bool { return (paths > 0) == add }, tor)
	t0 := change()
	started <- t0
	started <- t0
	n, t := <-node, <-tor
	if err := errors.Join(n.err, t.err); err != nil {
		b.Fatalf("%s %s: %v", map[bool]string{true: "add", false: "withdraw"}[add], prefix, err)
	}
	if add {
		s.nodeAdd.Add(n.t.Sub(t0))
		s.torAdd.Add(t.t.Sub(t0))
		// Untimed: the ToR's own processing of the add is over before the withdrawal.
		e.until(b, func() bool { _, live, err := pathsOf(ctx, e.torVty, prefix); return err == nil && live > 0 })
	} else {
		s.nodeWd.Add(n.t.Sub(t0))
		s.torWd.Add(t.t.Sub(t0))
	}
	return t0, t.t
}

// pathsOf counts a prefix's paths in a bgpd's table, and those not marked removed.
func pathsOf(ctx context.Context, c *vtysh.Client, prefix string) (paths, live int, err error) {
	out, err := c.Exec(ctx, "show bgp ipv4 unicast "+prefix+" json")
	var ce *vtysh.CommandError
	if errors.As(err, &ce) && ce.Status == vtysh.StatusWarning {
		err = nil // FRR's answer for a prefix it does not have
	}
	if err != nil {
		return 0, 0, err
	}
	var j struct {
		Paths []struct {
			Removed bool `json:"removed"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		return 0, 0, fmt.Errorf("%w: %.200s", err, out)
	}
	for _, p := range j.Paths {
		if !p.Removed {
			live++
		}
	}
	return len(j.Paths), live, nil
}

// originRouteMap is the route-map of the network line of ip in the node's bgpd.
func originRouteMap(b *testing.B, e *env, ip string) string {
	cfg, err := e.nodeConfig()
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`network ` + regexp.QuoteMeta(ip) + `/32 route-map (\S+)`).FindStringSubmatch(cfg)
	if m == nil {
		b.Fatalf("no network line for %s in the node's configuration", ip)
	}
	return m[1]
}

// readLog reads the sidecar's JSON log lines.
func readLog(b *testing.B, path string) []map[string]any {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// changeStages is the stages the sidecar logged (-v 2) for the change made after offset of its
// log (its first "stages" and "applied" records): a line for the log, and the change's stages.
func changeStages(path string, offset int64) (string, measure.Change, error) {
	for range 500 {
		f, err := os.Open(path)
		if err != nil {
			return "", measure.Change{}, err
		}
		f.Seek(offset, 0)
		var stages, applied map[string]any
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			// The applier may log "applied" before the loop logs "stages" (after it submitted).
			switch {
			case m["msg"] == "stages" && stages == nil:
				stages = m
			case m["msg"] == "applied" && applied == nil:
				applied = m
			}
		}
		f.Close()
		if stages != nil && applied != nil {
			str := func(m map[string]any, k string) string { return fmt.Sprint(m[k]) }
			logged, err1 := time.Parse(time.RFC3339Nano, str(stages, "time"))
			at, err2 := time.Parse(time.RFC3339Nano, str(applied, "time"))
			if err := errors.Join(err1, err2); err != nil {
				return "", measure.Change{}, err
			}
			c := measure.Change{Read: str(stages, "read"), Translate: str(stages, "translate"), Render: str(stages, "render"), Logged: logged,
				Queued: str(applied, "queued"), Delta: str(applied, "delta"), Send: str(applied, "send"), Applied: at}
			return fmt.Sprintf("%s; %s; applier: queued %s, delta %s, send %s", str(stages, "settle"), str(stages, "stages"), c.Queued, c.Delta, c.Send), c, nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return "", measure.Change{}, fmt.Errorf("no stages and applied records after the change in the sidecar's log (-v 2):\n%s", tail(path, 10))
}

// warmUp tells the testing package's first run (b.N = 1) of a benchmark when -benchtime asks
// for a count above 1: the run with that count follows, and its log would be cut (the testing
// package keeps a benchmark's first 10 lines of log, those of the first run).
func warmUp(b *testing.B) bool {
	f := flag.Lookup("test.benchtime")
	if b.N != 1 || f == nil {
		return false
	}
	v := f.Value.String()
	return strings.HasSuffix(v, "x") && v != "1x"
}

// watchSessionUp polls the ToR, on a connection of its own, until its session with the node is
// Established, and sends when it saw that. Started before the sidecar, it shows bgpd's start
// timer between the sidecar's "applied" and the session (the ToR's uptime counts in seconds).
func (e *env) watchSessionUp(b *testing.B) <-chan time.Time {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	c, err := vtysh.Dial(ctx, vtysh.SocketPath(e.tor.RunDir(), "bgpd"))
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	up := make(chan time.Time, 1)
	go func() {
		defer cancel()
		defer c.Close()
		for ctx.Err() == nil {
			out, err := c.Exec(ctx, "show bgp ipv4 unicast summary json")
			now := time.Now()
			var s struct {
				Peers map[string]struct {
					State string `json:"state"`
				} `json:"peers"`
			}
			if err == nil && json.Unmarshal([]byte(out), &s) == nil && s.Peers[nodeAddr].State == "Established" {
				up <- now
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		close(up) // the zero time: never seen
	}()
	return up
}
