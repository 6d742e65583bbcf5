package latency

// BenchmarkScaleEdit measures one Service edit on a node that advertises many Services (issue
// 11): the node cp-1 of the seed with N LoadBalancer Services more in the watched folder (ten
// files), the seed's http-test Service in its own file as the probe. In one run, on one pair of
// FRRs, it times the same change made four ways:
//
//	run        `frr-renderer run --watch`: the probe's manifest renamed into place
//	floor      the minimal delta sent to the node's bgpd over its vty socket by the benchmark
//	           itself: FRR's own floor (bgpd's 50 ms route processing hold, the ToR's for
//	           withdrawals), what no tool on top of FRR can beat
//	vtysh-c    the same delta as one `vtysh -c ... -c ...` process
//	frr-reload `frr-reload.py --reload` of the whole rendered file
//
// Each way adds the probe's second LoadBalancer IP and withdraws it again, b.N times, and
// measures from the rename (or the command's start) until the node's BGP table shows the change
// (a path listed for an add; none, or only paths marked removed, for a withdrawal) and until
// the ToR shows it (a path from the node; none). frr-renderer is stopped (SIGTERM: FRR keeps
// its configuration) before the other three run.
//
// Before that it measures the initial converge: the floors first (the whole rendered
// configuration sent over the vty socket into an empty bgpd, as it is and with its new neighbors
// held as frr-renderer holds them, and bgpd started with it as its file, each until the ToR has
// every route), then everything is deleted and frr-renderer is started (process start until the
// ToR has every route), with the stages in between.
//
//	go test -run '^$' -bench ScaleEdit -benchtime 20x -timeout 30m ./test/latency/
//
// LATENCY_SERVICES sets N (default 10,000); LATENCY_NO_RELOAD=1 leaves frr-reload.py out (at
// 100,000 Services one reload takes minutes); LATENCY_GRACEFUL_RESTART=off turns the seed's
// graceful restart off (Cilium's default), whose new neighbors are released before the network
// lines (frrconfig.HoldNewPeers). LATENCY_KEEP=DIR keeps frr-renderer's log (-v 2) and the
// bgpds' logs, as in BenchmarkEdit.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/measure"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

const (
	// scaleFiles is how many manifest files hold the N Services.
	scaleFiles = 10
	// probeIP is the probe Service's second LoadBalancer IP, added and withdrawn.
	probeIP = "172.20.1.1"
	// convergeTimeout bounds an initial converge: FRR 8.4 takes seconds per 10,000 prefixes.
	convergeTimeout = 5 * time.Minute
)

// scaleServices is N: $LATENCY_SERVICES or 10,000.
func scaleServices(b *testing.B) int {
	s := os.Getenv("LATENCY_SERVICES")
	if s == "" {
		return 10000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("LATENCY_SERVICES=%q: want a positive number", s)
	}
	return n
}

// scaleIP is Service i's LoadBalancer IP: 172.24.0.1 counted up.
func scaleIP(i int) string {
	n := uint32(172)<<24 | uint32(24)<<16 + uint32(i) + 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

// writeScaleServices writes n LoadBalancer Services the seed's advertisement selects into
// scaleFiles files of dir.
func writeScaleServices(tb testing.TB, dir string, n int) {
	tb.Helper()
	per := (n + scaleFiles - 1) / scaleFiles
	for f := 0; f < scaleFiles; f++ {
		var sb strings.Builder
		for i := f * per; i < min(n, (f+1)*per); i++ {
			fmt.Fprintf(&sb, `---
apiVersion: v1
kind: Service
metadata:
  name: scale-%06d
  namespace: default
  labels:
    app: http-test
spec:
  type: LoadBalancer
  selector:
    app: http-test
  ports:
  - protocol: TCP
    port: 80
    targetPort: 8080
  externalTrafficPolicy: Cluster
status:
  loadBalancer:
    ingress:
    - ip: %s
`, i, scaleIP(i))
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("10-scale-%02d.yaml", f)), []byte(sb.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// scaleEnv is the topology of BenchmarkScaleEdit.
type scaleEnv struct {
	*env
	n       int
	bin     string
	logFile *os.File
	cmd     *exec.Cmd
	exited  chan error
	// base and added are the rendered configurations without and with probeIP.
	base, added string
	// deltas: [0] adds probeIP, [1] withdraws it.
	deltas [2][]string
	notes  []string // for the measuring benchmark's log
	// converge is the initial converge's metrics, reported by the measuring sub-benchmark (a
	// benchmark with sub-benchmarks reports none of its own).
	converge map[string]float64
	// started is when frr-renderer was started; floor the benchmark's own connection to bgpd.
	started time.Time
	floor   *vtysh.Client
	// running is closed when the command a change started has exited (vtysh-c, frr-reload):
	// the next change waits for it, untimed.
	running chan struct{}
}

func BenchmarkScaleEdit(b *testing.B) {
	for _, v := range versions {
		b.Run("frr="+string(v), func(b *testing.B) {
			e := setupScale(b, v, scaleServices(b))
			b.Run(fmt.Sprintf("services=%d", e.n), e.benchEdit)
		})
	}
}

// setupScale builds the topology, renders the two configurations, measures the initial
// converge (floor, then frr-renderer) and returns with frr-renderer running, idle.
func setupScale(b *testing.B, v frrtest.Version, n int) *scaleEnv {
	b.Helper()
	e := &scaleEnv{env: &env{v: v}, n: n, bin: testbin.FrrRenderer(b, "LATENCY_BIN"), converge: map[string]float64{}}
	e.tor = frrtest.Start(b, v, "tor")
	e.node = frrtest.Start(b, v, nodeName)
	frrtest.Link(b, e.node, e.tor, netip.MustParsePrefix(nodeAddr+"/24"), netip.MustParsePrefix(torAddr+"/24"))
	torConf, err := os.ReadFile(torConfFile)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.tor.Load(string(torConf)); err != nil {
		b.Fatalf("the ToR rejected tor-frr.conf: %v", err)
	}
	tmp := b.TempDir()
	e.dir, e.staging = filepath.Join(tmp, "manifests"), filepath.Join(tmp, "staging")
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
		if os.Getenv("LATENCY_GRACEFUL_RESTART") == "off" && filepath.Base(f) == peerConfigFile {
			on := "  gracefulRestart:\n    enabled: true\n"
			if !strings.Contains(string(data), on) {
				b.Fatalf("%s: no %q to turn off", f, on)
			}
			data = []byte(strings.Replace(string(data), on, "  gracefulRestart:\n    enabled: false\n", 1))
		}
		if err := os.WriteFile(filepath.Join(e.dir, filepath.Base(f)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	writeScaleServices(b, e.dir, n)
	ctx, cancel := context.WithTimeout(context.Background(), convergeTimeout)
	defer cancel()
	e.torVty, e.nodeVty = dial(b, ctx, e.tor), dial(b, ctx, e.node)

	// The two configurations, rendered by frr-renderer itself in the node's namespace (its
	// host facts), and the minimal deltas between them.
	e.base = e.render(b)
	if _, err := e.writeService(baseIP, probeIP); err != nil {
		b.Fatal(err)
	}
	e.added = e.render(b)
	if _, err := e.writeService(baseIP); err != nil {
		b.Fatal(err)
	}
	base, err := frrconfig.Parse(e.base)
	if err != nil {
		b.Fatal(err)
	}
	added, err := frrconfig.Parse(e.added)
	if err != nil {
		b.Fatal(err)
	}
	e.deltas = [2][]string{frrconfig.Delta(base, added, frrconfig.Ownership{}), frrconfig.Delta(added, base, frrconfig.Ownership{})}
	for i, d := range e.deltas {
		if len(d) != 5 {
			b.Fatalf("delta %d: want 5 lines (router bgp, address-family, network, exit-address-family, exit), got %q", i, d)
		}
	}

	// Each converge has its own convergeTimeout: at 100,000 Services each takes minutes.
	e.convergeFloor(b)
	e.startRun(b)
	e.convergeRun(b)
	// bgpd's route-map delay-timer (5 s) re-announces everything after the first apply: wait
	// it out before measuring single changes.
	if err := e.run.waitQuiet(quietFor, convergeTimeout); err != nil {
		b.Fatal(err)
	}
	time.Sleep(routeMapDelay + time.Second)
	return e
}

// render runs `frr-renderer render` on the manifests in the node's namespace.
func (e *scaleEnv) render(b *testing.B) string {
	b.Helper()
	out, err := exec.Command("ip", "netns", "exec", e.node.Netns, e.bin, "render", "--node", nodeName, "-f", e.dir,
		"--frr-version", frrVersionFlag[e.v]).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		b.Fatalf("frr-renderer render: %v", err)
	}
	return string(out)
}

// want is the number of routes the ToR has from the node once converged: N, the seed's
// LoadBalancer IP.
func (e *scaleEnv) want() int { return e.n + 1 }

// torReceived is the number of prefixes the ToR accepted from the node.
func (e *scaleEnv) torReceived(ctx context.Context) (int, error) {
	p, err := summaryPeer(ctx, e.torVty, nodeAddr)
	return p.PfxRcd, err
}

// peerSummary is one neighbor's row of `show bgp ipv4 unicast summary json`.
type peerSummary struct {
	State  string `json:"state"`
	PfxRcd int    `json:"pfxRcd"`
	PfxSnt int    `json:"pfxSnt"`
}

// summaryPeer is a neighbor's row of the summary (zero while the neighbor is absent).
func summaryPeer(ctx context.Context, c *vtysh.Client, peer string) (peerSummary, error) {
	out, err := show(ctx, c, "show bgp ipv4 unicast summary json")
	if err != nil {
		return peerSummary{}, err
	}
	var s struct {
		Peers map[string]peerSummary `json:"peers"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return peerSummary{}, fmt.Errorf("summary: %w: %.200s", err, out)
	}
	return s.Peers[peer], nil
}

// timeline is when an initial converge reached each of its steps, as the two bgpds showed them.
type timeline struct {
	start       time.Time
	established time.Time // the ToR's session with the node Established
	first       time.Time // the ToR has a route from the node
	nodeAll     time.Time // the node has sent every route
	torAll      time.Time // the ToR has every route
}

func (t timeline) String() string {
	at := func(x time.Time) string { return fmt.Sprintf("%.0f", ms(x.Sub(t.start))) }
	return fmt.Sprintf("session up %s, first route at the ToR %s, node sent all %s, ToR has all %s",
		at(t.established), at(t.first), at(t.nodeAll), at(t.torAll))
}

// watchConverge polls both bgpds from start until the node has sent, and the ToR received,
// every route, and returns when each step was first seen.
func (e *scaleEnv) watchConverge(b *testing.B, ctx context.Context, start time.Time) timeline {
	b.Helper()
	t := timeline{start: start}
	for t.nodeAll.IsZero() || t.torAll.IsZero() {
		tor, err := summaryPeer(ctx, e.torVty, nodeAddr)
		if err != nil {
			b.Fatalf("the ToR's summary: %v", err)
		}
		node, err := summaryPeer(ctx, e.nodeVty, torAddr)
		if err != nil {
			b.Fatalf("the node's summary: %v", err)
		}
		now := time.Now()
		for _, step := range []struct {
			at   *time.Time
			done bool
		}{
			{&t.established, tor.State == "Established"},
			{&t.first, tor.PfxRcd > 0},
			{&t.nodeAll, node.PfxSnt >= e.want()},
			{&t.torAll, tor.PfxRcd >= e.want()},
		} {
			if step.done && step.at.IsZero() {
				*step.at = now
			}
		}
		select {
		case <-ctx.Done():
			b.Fatalf("no converge: the ToR has %d of %d routes, the node sent %d (%v)", tor.PfxRcd, e.want(), node.PfxSnt, ctx.Err())
		case <-time.After(pollEvery):
		}
	}
	return t
}

// convergeFloor measures FRR's own initial converge three ways, each from an empty bgpd until
// the ToR has every route: the whole base configuration sent over the vty socket, one line at a
// time, by the benchmark itself, as it is and with its new neighbors held as frr-renderer holds
// them (frrconfig.HoldNewPeers: a graceful-restart neighbor is released after the last line,
// and bgpd starts its session a second later, its start timer: the floor of a tool that must
// not lose a route); and bgpd started with it as its configuration file, which is as fast as
// FRR takes a configuration in. Each time the configuration is deleted again after, and the
// node's bgpd runs empty, as on a new node.
func (e *scaleEnv) convergeFloor(b *testing.B) {
	b.Helper()
	cfg, err := frrconfig.Parse(e.base)
	if err != nil {
		b.Fatal(err)
	}
	empty, _ := frrconfig.Parse("")
	lines := frrconfig.Delta(empty, cfg, frrconfig.Ownership{})
	for _, w := range []struct {
		metric, what string
		lines        []string
	}{
		{"floor-converge-ms", "over the vty socket", lines},
		{"floor-held-converge-ms", "over the vty socket, new neighbors held as frr-renderer holds them", frrconfig.HoldNewPeers(empty, lines)},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), convergeTimeout)
		start := time.Now()
		if err := e.floorClient(b).Configure(ctx, w.lines); err != nil {
			b.Fatalf("floor: loading the configuration: %v", err)
		}
		sent := time.Now()
		t := e.watchConverge(b, ctx, start)
		e.notes = append(e.notes, fmt.Sprintf("initial converge, floor, %d lines %s into an empty bgpd, ms: sent %.0f, %s",
			len(w.lines), w.what, ms(sent.Sub(start)), t))
		e.converge[w.metric] = ms(t.torAll.Sub(start))
		e.deleteAll(b, ctx, cfg)
		cancel()
	}

	ctx, cancel := context.WithTimeout(context.Background(), convergeTimeout)
	defer cancel()

	// bgpd started with the file: FRR's floor without any vty.
	if err := e.node.KillDaemon("bgpd"); err != nil {
		b.Fatal(err)
	}
	e.closeNodeVty()
	start := time.Now()
	if err := e.node.StartDaemonWithConfig("bgpd", e.base); err != nil {
		b.Fatal(err)
	}
	e.redialNode(b, ctx)
	t := e.watchConverge(b, ctx, start)
	e.notes = append(e.notes, fmt.Sprintf("initial converge, floor, bgpd started with the configuration as its file, ms: %s", t))
	e.converge["floor-file-converge-ms"] = ms(t.torAll.Sub(start))
	e.deleteAll(b, ctx, cfg)
	// And an empty bgpd for frr-renderer, as the other floor left it.
	if err := e.node.KillDaemon("bgpd"); err != nil {
		b.Fatal(err)
	}
	e.closeNodeVty()
	if err := e.node.StartDaemon("bgpd"); err != nil {
		b.Fatal(err)
	}
	e.redialNode(b, ctx)
}

// closeNodeVty closes the connections to the node's bgpd before it is killed.
func (e *scaleEnv) closeNodeVty() {
	e.nodeVty.Close()
	if e.floor != nil {
		e.floor.Close()
		e.floor = nil
	}
}

// redialNode connects to the node's bgpd once it answers again (a bgpd reading a large
// configuration file opens its vty socket late).
func (e *scaleEnv) redialNode(b *testing.B, ctx context.Context) {
	b.Helper()
	for {
		c, err := vtysh.Dial(ctx, vtysh.SocketPath(e.node.RunDir(), "bgpd"))
		if err == nil {
			b.Cleanup(func() { c.Close() })
			e.nodeVty = c
			return
		}
		select {
		case <-ctx.Done():
			b.Fatalf("the node's bgpd does not answer: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func mustParse(b *testing.B, text string) *frrconfig.Config {
	b.Helper()
	c, err := frrconfig.Parse(text)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// deleteAll deletes cfg from the node's bgpd and waits until the ToR has no route left.
func (e *scaleEnv) deleteAll(b *testing.B, ctx context.Context, cfg *frrconfig.Config) {
	b.Helper()
	if err := e.floorClient(b).Configure(ctx, frrconfig.Delta(cfg, mustParse(b, ""), cfg.Rendered())); err != nil {
		b.Fatalf("floor: deleting the configuration: %v", err)
	}
	if _, err := pollUntil(ctx, e.torReceived, func(n int, _ time.Time) bool { return n == 0 }); err != nil {
		b.Fatalf("the ToR kept routes after the node's configuration was deleted: %v", err)
	}
	time.Sleep(time.Second) // `no router bgp` finishes in the background
}

func (e *scaleEnv) startRun(b *testing.B) {
	b.Helper()
	logPath := filepath.Join(b.TempDir(), "run.log")
	f, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	e.logFile, e.run = f, &runLog{path: logPath}
	if keep := os.Getenv("LATENCY_KEEP"); keep != "" {
		b.Cleanup(func() { keepLogs(b, keep, e.env, logPath) }) // runs after stopRun
	}
	e.cmd = exec.Command("ip", "netns", "exec", e.node.Netns, e.bin, "run",
		"--node", nodeName, "--watch", e.dir, "--vty-socket", e.node.RunDir(),
		"--frr-version", frrVersionFlag[e.v], "-v", "2")
	e.cmd.Stdout, e.cmd.Stderr = f, f
	e.started = time.Now()
	if err := e.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	e.exited = make(chan error, 1)
	go func() { e.exited <- e.cmd.Wait() }()
	b.Cleanup(e.stopRun)
}

// stopRun stops frr-renderer (SIGTERM) and waits for it; FRR keeps what it runs.
func (e *scaleEnv) stopRun() {
	if e.cmd == nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
	e.logFile.Close()
	e.cmd = nil
}

// convergeRun times frr-renderer's start until the ToR has every route, with the stages its
// log and the two bgpds show.
func (e *scaleEnv) convergeRun(b *testing.B) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), convergeTimeout)
	defer cancel()
	t0 := e.started
	t := e.watchConverge(b, ctx, t0)
	var lines []logLine
	for range 100 {
		if lines = e.run.since(0); !first(lines, "applied").IsZero() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	at := func(msg string) string {
		t := first(lines, msg)
		if t.IsZero() {
			return "-"
		}
		return fmt.Sprintf("%.0f", ms(t.Sub(t0)))
	}
	stages := ""
	if s := stageLine(lines, "initial"); s != "" {
		stages = " (" + s + ")"
	}
	e.notes = append(e.notes, fmt.Sprintf("initial converge, frr-renderer run, ms from its start: started %s, submitted %s%s, applied %s, %s",
		at("starting"), at("submitted"), stages, at("applied"), t))
	e.converge["run-converge-ms"] = ms(t.torAll.Sub(t0))
	rss, peak, err := processMemory(e.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	e.notes = append(e.notes, fmt.Sprintf("frr-renderer run's memory once converged: VmRSS %.1f MiB, VmHWM %.1f MiB", rss, peak))
	e.converge["run-rss-MiB"] = rss
}

// stageLine is the stages of the first "stages" log record of the given kind and of the
// "applied" record after it, or "".
func stageLine(lines []logLine, kind string) string {
	s, _, _ := stagesOf(lines, kind)
	return s
}

// stagesOf is the first "stages" log record of the given kind with the first "applied" record
// of the same change: as a line for the log, and as a measure.Change (ok when both records
// were found). The applier may log "applied" before the loop logs "stages" (the loop logs after
// it submitted): the "applied" record is the first one after the "stages" record before it.
func stagesOf(lines []logLine, kind string) (line string, c measure.Change, ok bool) {
	for i, l := range lines {
		if l.Msg != "stages" || l.Kind != kind {
			continue
		}
		line = l.Stages
		if l.Settle != "" {
			line = l.Settle + "; " + line
		}
		c = measure.Change{Read: l.Read, Translate: l.Translate, Render: l.Render, Logged: l.Time}
		from := 0
		for j := i - 1; j >= 0; j-- {
			if lines[j].Msg == "stages" {
				from = j + 1
				break
			}
		}
		for _, a := range lines[from:] {
			if a.Msg == "applied" {
				line += fmt.Sprintf("; applier: queued %s, delta %s, send %s (%s after the read)", a.Queued, a.Delta, a.Send,
					a.Time.Sub(l.Time).Round(10*time.Microsecond))
				c.Queued, c.Delta, c.Send, c.Applied = a.Queued, a.Delta, a.Send, a.Time
				return line, c, true
			}
		}
		return line, c, false
	}
	return "", c, false
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// processMemory is a process's resident memory now and at its peak, in MiB.
func processMemory(pid int) (rss, peak float64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	field := func(name string) float64 {
		for _, l := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(l, name+":"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
				return kb / 1024
			}
		}
		return 0
	}
	return field("VmRSS"), field("VmHWM"), nil
}

// editSamples are one way's times, from the change's start.
type editSamples struct {
	nodeAdd, nodeWd, torAdd, torWd measure.Samples
	// frr-renderer's: the stages of every change, and one change's as logged.
	stages  measure.Breakdown
	example string
}

func (s *editSamples) node() measure.Samples { return slices.Concat(s.nodeAdd, s.nodeWd) }
func (s *editSamples) tor() measure.Samples  { return slices.Concat(s.torAdd, s.torWd) }

// benchEdit makes b.N add/withdraw pairs each way and reports the p50s side by side.
func (e *scaleEnv) benchEdit(b *testing.B) {
	if warmUp(b) {
		return
	}
	ways := []struct {
		name   string
		change func(b *testing.B, add bool) time.Time
		skip   bool
	}{
		{name: "run", change: e.changeRun},
		{name: "floor", change: e.changeFloor},
		{name: "vtysh-c", change: e.changeVtysh},
		{name: "frr-reload", change: e.changeReload, skip: os.Getenv("LATENCY_NO_RELOAD") != "" || e.reloadCmd(b) == nil},
	}
	if e.cmd == nil {
		// The testing package runs a benchmark once with b.N = 1 first: frr-renderer was
		// stopped for the other ways since.
		e.startRun(b)
		if err := e.run.waitQuiet(quietFor, convergeTimeout); err != nil {
			b.Fatal(err)
		}
	}
	got := map[string]*editSamples{}
	for _, w := range ways {
		if w.name != "run" {
			e.stopRun()
		}
		if w.skip {
			continue
		}
		s := &editSamples{stages: measure.Breakdown{}}
		got[w.name] = s
		for range b.N {
			for _, add := range []bool{true, false} {
				offset := int64(0)
				if w.name == "run" {
					offset = e.run.size()
				}
				nodeT, torT, t0 := e.measure(b, add, w.change)
				if e.running != nil {
					<-e.running
					e.running = nil
				}
				if add {
					s.nodeAdd.Add(nodeT.Sub(t0))
					s.torAdd.Add(torT.Sub(t0))
				} else {
					s.nodeWd.Add(nodeT.Sub(t0))
					s.torWd.Add(torT.Sub(t0))
				}
				if w.name == "run" {
					line, c, err := e.waitStages(offset)
					if err == nil {
						err = s.stages.AddChange(c, t0, torT)
					}
					if err != nil {
						b.Fatalf("frr-renderer's stages of the %s: %v", map[bool]string{true: "add", false: "withdrawal"}[add], err)
					}
					if s.example == "" && !add {
						s.example = "one withdrawal as logged: " + line
					}
				}
				// Never two changes in one processing round of either bgpd.
				time.Sleep(60 * time.Millisecond)
			}
		}
	}
	b.StopTimer()
	for _, w := range ways {
		s := got[w.name]
		if s == nil {
			continue
		}
		b.ReportMetric(s.node().Pct(50), w.name+"-node-p50-ms")
		b.ReportMetric(s.tor().Pct(50), w.name+"-tor-p50-ms")
	}
	run := got["run"]
	for _, other := range []string{"vtysh-c", "frr-reload"} {
		if s := got[other]; s != nil {
			b.ReportMetric(s.node().Pct(50)/run.node().Pct(50), "x-faster-than-"+other)
		}
	}
	if f := got["floor"]; f != nil {
		b.ReportMetric(run.torAdd.Pct(50)-f.torAdd.Pct(50), "run-over-floor-tor-add-ms")
		b.ReportMetric(run.torWd.Pct(50)-f.torWd.Pct(50), "run-over-floor-tor-wd-ms")
	}
	for _, st := range measure.Stages {
		b.ReportMetric(run.stages.Pct(st, 50), "run-"+st+"-p50-ms")
	}
	for name, v := range e.converge {
		b.ReportMetric(v, name)
	}
	// The testing package keeps a benchmark's first 10 lines of log: 1 + 4 + 2 + 2.
	b.Logf("FRR %s, %d Services, %d add/withdraw pairs each way; p50 ms from the rename or the command's start: node's table (add, withdrawal) | ToR (add, withdrawal)", e.v, e.n, b.N)
	for _, w := range ways {
		if s := got[w.name]; s != nil {
			b.Logf("  %-10s %8.1f (%7.1f, %7.1f) | %8.1f (%7.1f, %7.1f)", w.name, s.node().Pct(50), s.nodeAdd.Pct(50), s.nodeWd.Pct(50),
				s.tor().Pct(50), s.torAdd.Pct(50), s.torWd.Pct(50))
		}
	}
	for _, n := range e.notes {
		b.Log(n)
	}
	b.Log("  frr-renderer's stages until the ToR, " + run.stages.String())
	b.Log("  frr-renderer's " + run.example)
}

// measure makes one change the way change does and returns when the node's table and the ToR
// showed it.
func (e *scaleEnv) measure(b *testing.B, add bool, change func(b *testing.B, add bool) time.Time) (nodeT, torT, t0 time.Time) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prefix := probeIP + "/32"
	start := make(chan time.Time, 2)
	errs := make(chan error, 2)
	go func() {
		<-start
		var err error
		nodeT, err = pollUntil(ctx, func(ctx context.Context) (nodeRoute, error) { return probeNode(ctx, e.nodeVty, prefix) },
			func(r nodeRoute, _ time.Time) bool {
				if add {
					return r.live > 0
				}
				return r.live == 0
			})
		errs <- err
	}()
	go func() {
		<-start
		var err error
		torT, err = pollUntil(ctx, func(ctx context.Context) (route, error) { return probe(ctx, e.torVty, prefix) },
			func(r route, _ time.Time) bool { return (r.paths > 0) == add })
		if add && err == nil {
			// Not timed: the ToR's own processing of the add is over before the withdrawal.
			_, err = pollUntil(ctx, func(ctx context.Context) (route, error) { return probe(ctx, e.torVty, prefix) },
				func(r route, _ time.Time) bool { return r.best })
		}
		errs <- err
	}()
	t0 = change(b, add)
	start <- t0
	start <- t0
	if err := errors.Join(<-errs, <-errs); err != nil {
		b.Fatalf("%s %s: %v", map[bool]string{true: "add", false: "withdraw"}[add], prefix, err)
	}
	return nodeT, torT, t0
}

// nodeRoute is what the node's bgpd lists for a prefix: paths not marked removed.
type nodeRoute struct{ live int }

func probeNode(ctx context.Context, c *vtysh.Client, prefix string) (nodeRoute, error) {
	out, err := show(ctx, c, "show bgp ipv4 unicast "+prefix+" json")
	if err != nil {
		return nodeRoute{}, err
	}
	var j struct {
		Paths []struct {
			Removed bool `json:"removed"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		return nodeRoute{}, fmt.Errorf("%w: %q", err, out)
	}
	var r nodeRoute
	for _, p := range j.Paths {
		if !p.Removed {
			r.live++
		}
	}
	return r, nil
}

func (e *scaleEnv) ips(add bool) []string {
	if add {
		return []string{baseIP, probeIP}
	}
	return []string{baseIP}
}

func (e *scaleEnv) changeRun(b *testing.B, add bool) time.Time {
	t0, err := e.writeService(e.ips(add)...)
	if err != nil {
		b.Fatal(err)
	}
	return t0
}

// delta is the lines of one change: [0] adds, [1] withdraws.
func (e *scaleEnv) delta(add bool) []string {
	if add {
		return e.deltas[0]
	}
	return e.deltas[1]
}

func (e *scaleEnv) changeFloor(b *testing.B, add bool) time.Time {
	c := e.floorClient(b)
	t0 := time.Now()
	if err := c.Configure(context.Background(), e.delta(add)); err != nil {
		b.Fatal(err)
	}
	return t0
}

// floorClient is a connection of the benchmark's own to the node's bgpd, opened once.
func (e *scaleEnv) floorClient(b *testing.B) *vtysh.Client {
	if e.floor == nil {
		c, err := vtysh.Dial(context.Background(), vtysh.SocketPath(e.node.RunDir(), "bgpd"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close(); e.floor = nil })
		e.floor = c
	}
	return e.floor
}

func (e *scaleEnv) changeVtysh(b *testing.B, add bool) time.Time {
	args := []string{"-c", "configure terminal"}
	for _, l := range e.delta(add) {
		args = append(args, "-c", l)
	}
	t0 := time.Now()
	// The pollers run meanwhile: the command's start is the origin, not its return.
	done := make(chan struct{})
	e.running = done
	go func() {
		defer close(done)
		if out, err := e.node.Vtysh(args...); err != nil {
			b.Errorf("vtysh -c: %v: %s", err, out)
		}
	}()
	return t0
}

func (e *scaleEnv) changeReload(b *testing.B, add bool) time.Time {
	cfg := e.base
	if add {
		cfg = e.added
	}
	cmd := e.reloadCmd(b)(cfg)
	t0 := time.Now()
	done := make(chan struct{})
	e.running = done
	go func() {
		defer close(done)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Errorf("frr-reload.py: %v\n%s", err, out)
		}
	}()
	return t0
}

// reloadCmd returns what makes the frr-reload.py command for a configuration, or nil when the
// node's FRR has no frr-reload.py.
func (e *scaleEnv) reloadCmd(b *testing.B) func(config string) *exec.Cmd {
	root := "/"
	if e.v == frrtest.FRR10 {
		root = filepath.Join(cacheDir(), "trixie-frr")
	}
	if _, err := os.Stat(filepath.Join(root, "usr/lib/frr/frr-reload.py")); err != nil {
		return nil
	}
	return func(config string) *exec.Cmd {
		// Where frr-reload.py (chrooted for 10.3) sees it: the run directory.
		name := "reload.conf"
		if err := os.WriteFile(filepath.Join(e.node.RunDir(), name), []byte(config), 0o644); err != nil {
			b.Fatal(err)
		}
		args := []string{"/usr/lib/frr/frr-reload.py", "--reload", "--stdout", "-N", e.node.Netns, filepath.Join("/var/run/frr", e.node.Netns, name)}
		if root != "/" {
			return exec.Command("chroot", append([]string{root}, args...)...)
		}
		return exec.Command(args[0], args[1:]...)
	}
}

func cacheDir() string {
	if c := os.Getenv("FRR_RENDERER_CACHE"); c != "" {
		return c
	}
	return "/var/cache/frr-renderer"
}

// waitStages returns the stages frr-renderer logged for the change made after offset: a line
// for the log, and the change's stages.
func (e *scaleEnv) waitStages(offset int64) (string, measure.Change, error) {
	for range 500 {
		if line, c, ok := stagesOf(e.run.since(offset), "change"); ok {
			return line, c, nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return "", measure.Change{}, fmt.Errorf("no stages and applied records after the change in the log (-v 2):\n%s", e.run.tail(10))
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
