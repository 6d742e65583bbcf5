// Package latency measures, end to end on real FRR, how long a manifest change takes to reach a
// top-of-rack router through `frr-renderer run`: the node cp-1 of the seed's Hands-On peers with
// the ToR of examples/seed/tor-frr.conf over one veth, `frr-renderer run` (the built binary, a
// child process in the node's namespace) follows a copy of the manifests, and the benchmarks
// rewrite the Service's manifest and poll both bgpds over their vty sockets (vtysh.Client, every
// ~0.5 ms) until the change shows.
//
//	go test -run '^$' -bench ManifestToToR -benchtime 100x ./test/latency/
//	go test -run '^$' -bench Burst -benchtime 1x ./test/latency/
//
// Run the two separately: BenchmarkBurst at 100x would run 101 bursts of a second or two each.
// Benchmarks only: nothing here asserts a duration (a change that never shows within
// stepTimeout fails, which is a functional failure). Needs root and FRR (frrtest skips the
// versions it cannot run).
//
// Where the time goes (FRR 8.4 and 10.3 alike, see the stages each benchmark logs): the run
// loop's settle (20 ms) before it reads the manifests, ~1.5 ms to read, render and apply, then
// bgpd's process queue on the node (its work queue holds 50 ms before best-path selection; no
// command changes that), and for a withdrawal the same 50 ms again on the ToR before its path
// is gone. The MRAI is 0 on both sides (`show bgp neighbors json`), so
// `advertisement-interval 0` changes nothing.
//
// Knobs for investigations (all optional):
//
//	LATENCY_NODE_EXTRA  configuration lines, separated by ';', loaded into the node's bgpd once
//	                    the first apply has converged, e.g.
//	                    "router bgp 65001;neighbor 192.168.10.1 advertisement-interval 0"
//	LATENCY_TOR_EXTRA   the same for the ToR
//	LATENCY_DEBUG=1     `debug bgp updates` into bgpd-debug.log (microsecond timestamps) on both
//	                    bgpds; with LATENCY_KEEP also their `show work-queues` and
//	                    `show bgp neighbors json`
//	LATENCY_BIN=PATH    run this frr-renderer binary instead of building ./cmd/frr-renderer (to
//	                    compare a variant of the run loop)
//	LATENCY_KEEP=DIR    copy both bgpds' logs and the run log to DIR before the teardown
package latency

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/measure"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

const (
	repoRoot    = "../.."
	handsOn     = "../../examples/seed/hands-on"
	torConfFile = "../../examples/seed/tor-frr.conf"
	serviceFile = "05-http-test.yaml"
	// peerConfigFile is the seed's CiliumBGPPeerConfig.
	peerConfigFile = "02-peer-config.yaml"
	baseIngress    = "    - ip: 172.20.0.1\n" // the Service's one LoadBalancer IP in the seed

	nodeName = "cp-1"
	nodeAddr = "192.168.10.11"
	torAddr  = "192.168.10.1"
	baseIP   = "172.20.0.1"

	// setupTimeout bounds the start: FRR, the first apply, the session (the ToR holds its peers
	// for ~5 s after its own `vtysh -f`) and the first route.
	setupTimeout = 60 * time.Second
	// stepTimeout bounds one measured change; everything seen takes well under a second.
	stepTimeout = 10 * time.Second
	// pollEvery is the pause between two queries of one poller (a query takes ~0.1-0.3 ms).
	pollEvery = 500 * time.Microsecond

	// The burst: burstWrites renames spread evenly over burstWindow.
	burstWrites = 1000
	burstWindow = time.Second
	// routeMapDelay is FRR's default `bgp route-map delay-timer`.
	routeMapDelay = 5 * time.Second
	// quietFor is how long the run log must stay still for the renderer to count as idle: more
	// than the loop's maxSettle (500 ms) plus an apply.
	quietFor = time.Second
)

var versions = frrtest.Supported()

// frrVersionFlag is `frr-renderer run --frr-version` for each FRR the harness runs.
var frrVersionFlag = map[frrtest.Version]string{frrtest.FRR8: "8", frrtest.FRR10: "10"}

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// ---- the topology ----

// env is one topology: the node cp-1 with `frr-renderer run` following dir, and the ToR.
type env struct {
	v         frrtest.Version
	node, tor *frrtest.Router
	dir       string // the manifests frr-renderer follows
	staging   string // where a new manifest is written before it is renamed into dir
	service   string // 05-http-test.yaml as in the seed
	run       *runLog
	notes     []string // for the measuring benchmark's log: a parent benchmark's is not printed
	// Pollers' connections; each is used by one goroutine at a time.
	nodeVty, torVty *vtysh.Client
}

// setup builds the topology and returns once the ToR has the seed's LoadBalancer IP over an
// Established session. Everything is torn down by b's cleanups.
func setup(b *testing.B, v frrtest.Version) *env {
	b.Helper()
	bin := testbin.FrrRenderer(b, "LATENCY_BIN")
	tor := frrtest.Start(b, v, "tor")
	node := frrtest.Start(b, v, nodeName)
	frrtest.Link(b, node, tor, netip.MustParsePrefix(nodeAddr+"/24"), netip.MustParsePrefix(torAddr+"/24"))
	if os.Getenv("LATENCY_DEBUG") != "" {
		for _, r := range []*frrtest.Router{tor, node} {
			// The log target of the command line (--log file:) ignores the timestamp precision:
			// a configured one of its own, as the daemon sees the run directory.
			debugLog := filepath.Join("/var/run/frr", r.Netns, "bgpd-debug.log")
			if _, err := r.Vtysh("-d", "bgpd", "-c", "configure terminal", "-c", "log timestamp precision 6",
				"-c", "log file "+debugLog+" debugging", "-c", "debug bgp updates"); err != nil {
				b.Fatal(err)
			}
		}
	}
	torConf, err := os.ReadFile(torConfFile)
	if err != nil {
		b.Fatal(err)
	}
	// The ToR first: a connection it refuses would wait out the node's connect-retry timer.
	if err := tor.Load(string(torConf)); err != nil {
		b.Fatalf("the ToR rejected tor-frr.conf: %v", err)
	}

	tmp := b.TempDir()
	e := &env{v: v, node: node, tor: tor, dir: filepath.Join(tmp, "manifests"), staging: filepath.Join(tmp, "staging")}
	for _, d := range []string{e.dir, e.staging} {
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(handsOn, "*.yaml"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no seed manifests in %s: %v", handsOn, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if filepath.Base(f) == serviceFile {
			e.service = string(data)
		}
		if err := os.WriteFile(filepath.Join(e.dir, filepath.Base(f)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if strings.Count(e.service, baseIngress) != 1 {
		b.Fatalf("%s: want exactly one %q", serviceFile, baseIngress)
	}

	logPath := filepath.Join(tmp, "run.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	e.run = &runLog{path: logPath}
	if keep := os.Getenv("LATENCY_KEEP"); keep != "" {
		// Registered before the process is started: cleanups run last-in first-out, so this
		// runs after the process is stopped and before frrtest removes the run directories.
		if err := os.MkdirAll(keep, 0o755); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { keepLogs(b, keep, e, logPath) })
	}
	cmd := exec.Command("ip", "netns", "exec", node.Netns, bin, "run",
		"--node", nodeName, "--watch", e.dir, "--vty-socket", node.RunDir(),
		"--frr-version", frrVersionFlag[v], "-v", "1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // `ip netns exec` execs: this is frr-renderer
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
	})

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	e.torVty = dial(b, ctx, tor)
	e.nodeVty = dial(b, ctx, node)
	if err := e.waitReady(ctx); err != nil {
		b.Fatalf("FRR %s: not ready within %v: %v\nrun log:\n%s", v, setupTimeout, err, e.run.tail(30))
	}
	for _, x := range []struct {
		env string
		c   *vtysh.Client
	}{{"LATENCY_NODE_EXTRA", e.nodeVty}, {"LATENCY_TOR_EXTRA", e.torVty}} {
		if s := os.Getenv(x.env); s != "" {
			lines := strings.Split(s, ";")
			if err := x.c.Configure(ctx, lines); err != nil {
				b.Fatalf("%s: %v", x.env, err)
			}
			e.notes = append(e.notes, fmt.Sprintf("%s %q loaded", x.env, lines))
		}
	}
	if keep := os.Getenv("LATENCY_KEEP"); keep != "" && os.Getenv("LATENCY_DEBUG") != "" {
		// A parent benchmark's log is not printed: into the files.
		var wq strings.Builder
		for _, x := range []struct {
			name string
			c    *vtysh.Client
		}{{"node", e.nodeVty}, {"ToR", e.torVty}} {
			out, err := show(ctx, x.c, "show work-queues")
			fmt.Fprintf(&wq, "%s bgpd, show work-queues (%v):\n%s\n", x.name, err, out)
			out, err = show(ctx, x.c, "show bgp neighbors json")
			fmt.Fprintf(&wq, "%s bgpd, show bgp neighbors json (%v):\n%s\n", x.name, err, out)
		}
		if err := os.WriteFile(filepath.Join(keep, keepPrefix(b)+"-work-queues.txt"), []byte(wq.String()), 0o644); err != nil {
			b.Log(err)
		}
	}
	// The first apply and its log lines are over before anything is measured.
	if err := e.run.waitQuiet(quietFor, setupTimeout); err != nil {
		b.Fatal(err)
	}
	// So is bgpd's reaction to the route-maps that apply created: `bgp route-map delay-timer`
	// (5 s by default) after a route-map changes, bgpd re-applies every policy, asks the ToR for a
	// route refresh and announces everything again. Measured in the middle of that, a change
	// waited up to 40 ms more (Nagle behind the ToR's delayed ACK: bgpd does not set TCP_NODELAY).
	if t := first(e.run.since(0), "applied"); !t.IsZero() {
		time.Sleep(time.Until(t.Add(routeMapDelay + time.Second)))
	}
	return e
}

func dial(b *testing.B, ctx context.Context, r *frrtest.Router) *vtysh.Client {
	b.Helper()
	c, err := vtysh.Dial(ctx, vtysh.SocketPath(r.RunDir(), "bgpd"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// waitReady waits until the ToR's session with the node is Established and the ToR has the
// seed's LoadBalancer IP.
func (e *env) waitReady(ctx context.Context) error {
	var last error
	for {
		last = func() error {
			var nbrs map[string]struct {
				State string `json:"bgpState"`
			}
			out, err := show(ctx, e.torVty, "show bgp neighbors "+nodeAddr+" json")
			if err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(out), &nbrs); err != nil {
				return fmt.Errorf("%w: %s", err, out)
			}
			if st := nbrs[nodeAddr].State; st != "Established" {
				return fmt.Errorf("ToR: session with %s is %q", nodeAddr, st)
			}
			r, err := probe(ctx, e.torVty, baseIP+"/32")
			if err == nil && r.paths == 0 {
				err = fmt.Errorf("ToR: no path to %s/32 yet", baseIP)
			}
			return err
		}()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeService gives the Service the LoadBalancer IPs ips (the seed's first): it writes the
// manifest to the staging folder and renames it over dir's, so that frr-renderer sees one
// complete file appear. It returns the time just before the rename.
func (e *env) writeService(ips ...string) (time.Time, error) {
	var ingress strings.Builder
	for _, ip := range ips {
		fmt.Fprintf(&ingress, "    - ip: %s\n", ip)
	}
	text := strings.Replace(e.service, baseIngress, ingress.String(), 1)
	tmp := filepath.Join(e.staging, serviceFile)
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return time.Time{}, err
	}
	t0 := time.Now()
	return t0, os.Rename(tmp, filepath.Join(e.dir, serviceFile))
}

// notesSuffix is e.notes for a log line: "" or " (note; note)".
func (e *env) notesSuffix() string {
	if len(e.notes) == 0 {
		return ""
	}
	return " (" + strings.Join(e.notes, "; ") + ")"
}

func keepPrefix(b *testing.B) string { return strings.NewReplacer("/", "_", "=", "").Replace(b.Name()) }

func keepLogs(b *testing.B, dir string, e *env, runLog string) {
	prefix := keepPrefix(b)
	files := map[string]string{"run.log": runLog}
	for _, r := range []struct {
		name string
		dir  string
	}{{"tor", e.tor.RunDir()}, {"node", e.node.RunDir()}} {
		for _, f := range []string{"bgpd.log", "bgpd-debug.log"} { // the latter with LATENCY_DEBUG
			files[r.name+"-"+f] = filepath.Join(r.dir, f)
		}
	}
	for name, src := range files {
		data, err := os.ReadFile(src)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, prefix+"-"+name), data, 0o644)
		}
		if err != nil {
			b.Logf("LATENCY_KEEP: %v", err)
		}
	}
}

// ---- querying bgpd ----

// show runs a show command; a warning status (such as FRR's answer for a prefix it does not
// have) still returns the output, which is JSON.
func show(ctx context.Context, c *vtysh.Client, cmd string) (string, error) {
	out, err := c.Exec(ctx, cmd)
	var ce *vtysh.CommandError
	if errors.As(err, &ce) && ce.Status == vtysh.StatusWarning {
		return out, nil
	}
	return out, err
}

// route is what a bgpd says about one prefix.
type route struct {
	paths int  // paths listed (on the ToR, an UPDATE's path shows at once; a withdrawn one until processed)
	best  bool // one of them is the best path (bestpath selection has run)
}

func probe(ctx context.Context, c *vtysh.Client, prefix string) (route, error) {
	out, err := show(ctx, c, "show bgp ipv4 unicast "+prefix+" json")
	if err != nil {
		return route{}, err
	}
	var j struct {
		Paths []struct {
			Bestpath *struct {
				Overall bool `json:"overall"`
			} `json:"bestpath"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		return route{}, fmt.Errorf("show bgp ipv4 unicast %s json: %w: %q", prefix, err, out)
	}
	r := route{paths: len(j.Paths)}
	for _, p := range j.Paths {
		r.best = r.best || (p.Bestpath != nil && p.Bestpath.Overall)
	}
	return r, nil
}

// prefixes returns the prefixes in bgpd's IPv4 unicast table.
func prefixes(ctx context.Context, c *vtysh.Client) ([]string, error) {
	out, err := show(ctx, c, "show bgp ipv4 unicast json")
	if err != nil {
		return nil, err
	}
	var j struct {
		Routes map[string]json.RawMessage `json:"routes"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		return nil, fmt.Errorf("show bgp ipv4 unicast json: %w: %q", err, out)
	}
	return slices.Sorted(maps.Keys(j.Routes)), nil
}

// pollUntil queries every pollEvery until done holds and returns the time the answer that
// satisfied it arrived. done may record intermediate events itself.
func pollUntil[T any](ctx context.Context, query func(context.Context) (T, error), done func(T, time.Time) bool) (time.Time, error) {
	for {
		v, err := query(ctx)
		now := time.Now()
		if err != nil {
			return now, err
		}
		if done(v, now) {
			return now, nil
		}
		select {
		case <-ctx.Done():
			return now, fmt.Errorf("%w (last answer %+v)", ctx.Err(), v)
		case <-time.After(pollEvery):
		}
	}
}

// ---- the run log ----

// runLog reads the JSON lines `frr-renderer run -v 1` writes.
type runLog struct {
	path string
}

// logLine is what the benchmarks read of a record: "submitted" (the loop handed the applier a
// new configuration), "rendered" (-v 1: one per render), "applied" (the applier sent bgpd a
// non-empty delta: one per apply that changed something).
type logLine struct {
	Time time.Time `json:"time"`
	Msg  string    `json:"msg"`
	// Kind and Stages are those of a "stages" record (-v 2): "initial" or "change", and the
	// time each stage of that read took; Settle how the loop waited before it.
	Kind   string `json:"kind"`
	Stages string `json:"stages"`
	Settle string `json:"settle"`
	// Read, Translate and Render are the "stages" record's stages one by one.
	Read      string `json:"read"`
	Translate string `json:"translate"`
	Render    string `json:"render"`
	// Queued, Delta and Send are an "applied" record's.
	Queued string `json:"queued"`
	Delta  string `json:"delta"`
	Send   string `json:"send"`
}

func (l *runLog) size() int64 {
	fi, err := os.Stat(l.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// since returns the records written from offset on.
func (l *runLog) since(offset int64) []logLine {
	f, err := os.Open(l.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return nil
	}
	var out []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ll logLine
		if json.Unmarshal(sc.Bytes(), &ll) == nil {
			out = append(out, ll)
		}
	}
	return out
}

// first returns the time of the first record with message msg, or the zero time.
func first(lines []logLine, msg string) time.Time {
	for _, l := range lines {
		if l.Msg == msg {
			return l.Time
		}
	}
	return time.Time{}
}

func count(lines []logLine, msg string) int {
	n := 0
	for _, l := range lines {
		if l.Msg == msg {
			n++
		}
	}
	return n
}

// waitQuiet waits until the log has not grown for d.
func (l *runLog) waitQuiet(d, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	size, since := l.size(), time.Now()
	for time.Since(since) < d {
		if time.Now().After(deadline) {
			return fmt.Errorf("the run log did not stay quiet for %v within %v", d, timeout)
		}
		time.Sleep(20 * time.Millisecond)
		if s := l.size(); s != size {
			size, since = s, time.Now()
		}
	}
	return nil
}

func (l *runLog) tail(n int) string {
	data, _ := os.ReadFile(l.path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// ---- BenchmarkManifestToToR ----

// BenchmarkManifestToToR: each iteration gives the Service one more LoadBalancer IP
// (172.20.1.x) and measures from the rename of its manifest until the ToR has a path to the
// /32 (add), then takes it away again and measures until the ToR has none (withdrawal). On the
// way it records when the node's loop submitted the configuration and the applier had applied
// it (their log lines), when the node's bgpd listed the network and when it had selected it
// as best path (add), and when the node's bgpd no longer had it (withdrawal).
func BenchmarkManifestToToR(b *testing.B) {
	for _, v := range versions {
		b.Run("frr="+string(v), func(b *testing.B) {
			e := setup(b, v)
			b.Run("add-withdraw", e.benchAddWithdraw)
		})
	}
}

// stages of one change, as durations after the rename.
type stages struct {
	submitted, applied measure.Samples // the loop's "submitted", the applier's "applied" log lines
	nodeHas, nodeBest  measure.Samples // node's bgpd lists the network / has it as best path (add)
	nodeGone           measure.Samples // node's bgpd no longer lists it (withdrawal)
	tor                measure.Samples // the ToR lists a path (add) / lists none (withdrawal)
	slowest            string          // the change that took longest to reach the ToR, with its stages
	slowestTor         time.Duration
}

func (e *env) benchAddWithdraw(b *testing.B) {
	var add, wd stages
	for i := range b.N {
		prefix := fmt.Sprintf("172.20.1.%d", i%250+1)
		if err := e.change(&add, true, prefix); err != nil {
			b.Fatalf("add %s/32: %v\nrun log:\n%s", prefix, err, e.run.tail(20))
		}
		if err := e.change(&wd, false, prefix); err != nil {
			b.Fatalf("withdraw %s/32: %v\nrun log:\n%s", prefix, err, e.run.tail(20))
		}
	}
	if len(add.submitted) < b.N || len(add.applied) < b.N {
		// The stages come from these log messages: a renamed one must not pass unnoticed.
		b.Errorf("%d of %d adds had a \"submitted\" and %d an \"applied\" record in the run log", len(add.submitted), b.N, len(add.applied))
	}
	b.ReportMetric(add.tor.Pct(50), "add-p50-ms")
	b.ReportMetric(add.tor.Pct(99), "add-p99-ms")
	b.ReportMetric(wd.tor.Pct(50), "wd-p50-ms")
	b.ReportMetric(wd.tor.Pct(99), "wd-p99-ms")
	b.ReportMetric(add.applied.Pct(50), "add-applied-p50-ms")
	b.ReportMetric(add.nodeBest.Pct(50), "add-nodebest-p50-ms")
	b.ReportMetric(wd.applied.Pct(50), "wd-applied-p50-ms")
	b.ReportMetric(wd.nodeGone.Pct(50), "wd-nodegone-p50-ms")
	if b.N > 1 {
		// At most 9 lines: the testing package cuts a benchmark's log after that.
		b.Logf("FRR %s, %d changes, ms from the rename of %s; the loop submitted after p50 %.1f (add) / %.1f (withdrawal)%s:",
			e.v, b.N, serviceFile, add.submitted.Pct(50), wd.submitted.Pct(50), e.notesSuffix())
		for _, r := range []struct {
			name string
			s    measure.Samples
		}{
			{"add: applier applied        ", add.applied},
			{"add: node bgpd lists it     ", add.nodeHas},
			{"add: node bgpd best path    ", add.nodeBest},
			{"add: ToR lists a path       ", add.tor},
			{"withdraw: applier applied   ", wd.applied},
			{"withdraw: node bgpd gone    ", wd.nodeGone},
			{"withdraw: ToR lists no path ", wd.tor},
		} {
			b.Logf("  %s %s", r.name, r.s.Summary())
		}
		b.Logf("  slowest add %s; withdrawal %s", add.slowest, wd.slowest)
	}
}

// change adds (add) or withdraws the LoadBalancer IP ip and records its stages into st.
func (e *env) change(st *stages, add bool, ip string) error {
	prefix := ip + "/32"
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	offset := e.run.size()

	start := make(chan time.Time, 2)
	var (
		wg                      sync.WaitGroup
		nodeHas, nodeDone, torT time.Time
		nodeErr, torErr         error
	)
	query := func(c *vtysh.Client) func(context.Context) (route, error) {
		return func(ctx context.Context) (route, error) { return probe(ctx, c, prefix) }
	}
	wg.Go(func() {
		<-start
		nodeDone, nodeErr = pollUntil(ctx, query(e.nodeVty), func(r route, now time.Time) bool {
			if !add {
				return r.paths == 0
			}
			if r.paths > 0 && nodeHas.IsZero() {
				nodeHas = now
			}
			return r.best
		})
	})
	wg.Go(func() {
		<-start
		torT, torErr = pollUntil(ctx, query(e.torVty), func(r route, _ time.Time) bool { return (r.paths > 0) == add })
		if add && torErr == nil {
			// Not timed: wait until the ToR has processed the path too (its best path), so that
			// the withdrawal does not ride the ToR's processing timer the add started.
			_, torErr = pollUntil(ctx, query(e.torVty), func(r route, _ time.Time) bool { return r.best })
		}
	})
	ips := []string{baseIP}
	if add {
		ips = append(ips, ip)
	}
	t0, err := e.writeService(ips...)
	start <- t0
	start <- t0
	wg.Wait()
	if err = errors.Join(err, nodeErr, torErr); err != nil {
		return err
	}
	st.tor.Add(torT.Sub(t0))
	if add {
		st.nodeHas.Add(nodeHas.Sub(t0))
		st.nodeBest.Add(nodeDone.Sub(t0))
	} else {
		st.nodeGone.Add(nodeDone.Sub(t0))
	}
	// The applier's log line is written before the ToR can have the change; give the writes a
	// moment all the same.
	var lines []logLine
	for range 100 {
		lines = e.run.since(offset)
		if !first(lines, "applied").IsZero() {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if t := first(lines, "submitted"); !t.IsZero() {
		st.submitted.Add(t.Sub(t0))
	}
	applied := first(lines, "applied")
	if !applied.IsZero() {
		st.applied.Add(applied.Sub(t0))
	}
	if d := torT.Sub(t0); d > st.slowestTor {
		ms := func(t time.Time) float64 {
			if t.IsZero() {
				return math.NaN()
			}
			return float64(t.Sub(t0)) / 1e6
		}
		st.slowestTor = d
		st.slowest = fmt.Sprintf("%s at %s: applied +%.1f, node done +%.1f, ToR +%.1f ms",
			prefix, t0.Format("15:04:05.000000"), ms(applied), ms(nodeDone), ms(torT))
	}
	// A short pause, so that the next change never lands in the same settle window.
	time.Sleep(5 * time.Millisecond)
	return nil
}

// ---- BenchmarkBurst ----

// BenchmarkBurst: each iteration renames a new version of the Service's manifest into place
// burstWrites times, evenly over burstWindow, each giving the Service a different extra
// LoadBalancer IP, then measures from the last rename until the ToR's table is exactly the
// final state (the seed's IP and the last extra one), and counts the applies the burst caused:
// the applier's "applied" log lines (one per apply that sent bgpd a non-empty delta), next to
// the loop's "rendered" (one per render) and "submitted" (one per new configuration).
func BenchmarkBurst(b *testing.B) {
	for _, v := range versions {
		b.Run("frr="+string(v), func(b *testing.B) {
			e := setup(b, v)
			b.Run(fmt.Sprintf("%d-writes", burstWrites), e.benchBurst)
		})
	}
}

// burstIP is the extra LoadBalancer IP of write i: all burstWrites of them differ, so that the
// ToR cannot show the final state before the last write's apply (172.20.2.1 ... 172.20.5.250).
func burstIP(i int) string { return fmt.Sprintf("172.20.%d.%d", 2+i/250, i%250+1) }

func (e *env) benchBurst(b *testing.B) {
	var converge, window measure.Samples
	var applies, submits, renders int
	for n := range b.N {
		b.StopTimer()
		// Start from the seed's state with the renderer idle.
		if _, err := e.writeService(baseIP); err != nil {
			b.Fatal(err)
		}
		if err := e.torHasExactly(baseIP + "/32"); err != nil {
			b.Fatal(err)
		}
		if err := e.run.waitQuiet(quietFor, stepTimeout); err != nil {
			b.Fatal(err)
		}
		offset := e.run.size()
		b.StartTimer()

		start := time.Now()
		var last time.Time
		for i := range burstWrites {
			if d := time.Until(start.Add(time.Duration(i) * burstWindow / burstWrites)); d > 0 {
				time.Sleep(d)
			}
			t, err := e.writeService(baseIP, burstIP(i))
			if err != nil {
				b.Fatal(err)
			}
			last = t
		}
		want := []string{baseIP + "/32", burstIP(burstWrites-1) + "/32"}
		slices.Sort(want)
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		done, err := pollUntil(ctx, func(ctx context.Context) ([]string, error) { return prefixes(ctx, e.torVty) },
			func(got []string, _ time.Time) bool { return slices.Equal(got, want) })
		cancel()
		b.StopTimer()
		if err != nil {
			b.Fatalf("burst %d: the ToR never had exactly %v: %v\nrun log:\n%s", n, want, err, e.run.tail(20))
		}
		converge.Add(done.Sub(last))
		window.Add(last.Sub(start))

		// Count once the renderer is idle again: an apply after convergence counts too.
		if err := e.run.waitQuiet(quietFor, stepTimeout); err != nil {
			b.Fatal(err)
		}
		lines := e.run.since(offset)
		a, s, r := count(lines, "applied"), count(lines, "submitted"), count(lines, "rendered")
		if a == 0 || s == 0 || r == 0 {
			b.Errorf("burst %d: %d \"applied\", %d \"submitted\", %d \"rendered\" records in the run log; want some of each", n, a, s, r)
		}
		applies, submits, renders = applies+a, submits+s, renders+r
		var timeline []string
		for _, l := range lines {
			switch {
			case l.Msg != "applied" && l.Msg != "submitted":
			case len(timeline) == 12:
				timeline = append(timeline, "...")
			case len(timeline) < 12:
				timeline = append(timeline, fmt.Sprintf("%s +%.1fms", l.Msg, float64(l.Time.Sub(start))/1e6))
			}
		}
		b.Logf("FRR %s burst %d%s: %d writes in %.1f ms; ToR exactly final %.1f ms after the last write; %d renders, %d submits, %d applies: %s",
			e.v, n, e.notesSuffix(), burstWrites, float64(last.Sub(start))/1e6, float64(done.Sub(last))/1e6, r, s, a, strings.Join(timeline, ", "))
	}
	b.ReportMetric(float64(applies)/float64(b.N), "applies")
	b.ReportMetric(float64(submits)/float64(b.N), "submits")
	b.ReportMetric(float64(renders)/float64(b.N), "renders")
	b.ReportMetric(converge.Pct(50), "converge-p50-ms")
	b.ReportMetric(converge.Pct(100), "converge-max-ms")
	b.ReportMetric(window.Pct(100), "write-window-ms")
}

// torHasExactly waits until the ToR's table is exactly want.
func (e *env) torHasExactly(want ...string) error {
	slices.Sort(want)
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	_, err := pollUntil(ctx, func(ctx context.Context) ([]string, error) { return prefixes(ctx, e.torVty) },
		func(got []string, _ time.Time) bool { return slices.Equal(got, want) })
	return err
}
