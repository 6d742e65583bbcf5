package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/manifest/manifesttest"
	"github.com/frr-renderer/frr-renderer/internal/measure"
	"github.com/frr-renderer/frr-renderer/internal/reconcile"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// waitLimit bounds every wait; a wait ends as soon as what it waits for happened.
const waitLimit = 10 * time.Second

// fakeApplier records what the loop submits.
type fakeApplier struct {
	mu      sync.Mutex
	submits [][]byte
	at      []time.Time
	runErr  error // what Run returns at once, when set
	runOut  bool  // Run returns nil at once
	ran     chan struct{}
}

func newFakeApplier() *fakeApplier { return &fakeApplier{ran: make(chan struct{})} }

func (f *fakeApplier) Submit(desired []byte) {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submits = append(f.submits, desired)
	f.at = append(f.at, now)
}

func (f *fakeApplier) Run(ctx context.Context) error {
	defer close(f.ran)
	if f.runErr != nil || f.runOut {
		return f.runErr
	}
	<-ctx.Done()
	return nil
}

func (f *fakeApplier) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.submits)
}

// submitted waits for the n-th submit (1-based) and returns it and its time.
func (f *fakeApplier) submitted(t *testing.T, n int) (string, time.Time) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		f.mu.Lock()
		if len(f.submits) >= n {
			s, at := string(f.submits[n-1]), f.at[n-1]
			f.mu.Unlock()
			return s, at
		}
		f.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("submit #%d did not come within %v (%d so far)", n, waitLimit, f.count())
		}
		time.Sleep(time.Millisecond)
	}
}

// logRecorder keeps the loop's JSON log records.
type logRecorder struct {
	mu      sync.Mutex
	records []map[string]any
	bad     []string
}

func (r *logRecorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			r.bad = append(r.bad, string(line))
			continue
		}
		r.records = append(r.records, rec)
	}
	return len(b), nil
}

func (r *logRecorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.records)
}

// matching returns the records from index from on whose msg is msg.
func (r *logRecorder) matching(from int, msg string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, rec := range r.records[min(from, len(r.records)):] {
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// wait waits for a record with msg (or one of more) from index from on, and returns the index
// after it and the record.
func (r *logRecorder) wait(t *testing.T, from int, msg string, more ...string) (int, map[string]any) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	msgs := append([]any{msg}, toAny(more)...)
	for {
		r.mu.Lock()
		for i := from; i < len(r.records); i++ {
			if slices.Contains(msgs, r.records[i]["msg"]) {
				rec := r.records[i]
				r.mu.Unlock()
				return i + 1, rec
			}
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no log record %q within %v; records:\n%s", msg, waitLimit, r.dump())
		}
		time.Sleep(time.Millisecond)
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (r *logRecorder) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.records {
		j, _ := json.Marshal(rec)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// loop is a running reconcile.Run with a fake applier.
type loop struct {
	dir   string // the manifests: a copy of the seed's Hands-On
	facts string // the host facts file
	port  string // the listening port file
	app   *fakeApplier
	log   *logRecorder
}

const loFacts = `interfaces:
  - {name: lo, adminUp: true, operState: unknown, addresses: [127.0.0.1/8, 10.99.0.1/32]}
`

// startLoop runs reconcile.Run for worker-1 of a copy of the seed, changed by edits (file name ->
// old -> new), with a facts file.
func startLoop(t testing.TB, settle time.Duration, edits ...[3]string) *loop {
	t.Helper()
	return startLoopWith(t, func(c *reconcile.Config) { c.Settle = settle }, edits...)
}

// startLoopWith is startLoop with the settle times set by settle.
func startLoopWith(t testing.TB, settle func(*reconcile.Config), edits ...[3]string) *loop {
	t.Helper()
	return startLoopLogging(t, 2, settle, edits...)
}

// startLoopLogging is startLoopWith with the loop's log verbosity v (2 records every signal).
func startLoopLogging(t testing.TB, v int, settle func(*reconcile.Config), edits ...[3]string) *loop {
	t.Helper()
	l := &loop{dir: manifesttest.SeedCopy(t), app: newFakeApplier(), log: &logRecorder{}}
	for _, e := range edits {
		manifesttest.Edit(t, filepath.Join(l.dir, e[0]), e[1], e[2])
	}
	l.facts = filepath.Join(t.TempDir(), "facts.yaml")
	manifesttest.WriteAtomic(t, l.facts, loFacts)
	l.port = filepath.Join(t.TempDir(), "bgpd-listen-port")
	cfg := reconcile.Config{
		Watch:          []string{l.dir},
		HostFacts:      l.facts,
		Options:        translate.Options{Node: "worker-1"},
		Dialect:        frrconfig.FRR10,
		ListenPortFile: l.port,
		Settle:         reconcile.DefaultSettle,
		QuickSettle:    reconcile.DefaultQuickSettle,
		MaxSettle:      reconcile.DefaultMaxSettle,
	}
	settle(&cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- reconcile.Run(ctx, cfg, l.app, newLogger(l.log, v)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("reconcile.Run: %v", err)
			}
		case <-time.After(waitLimit):
			t.Error("reconcile.Run did not return after its context ended")
		}
		select {
		case <-l.app.ran:
		default:
			t.Error("reconcile.Run returned before the applier's Run")
		}
		if len(l.log.bad) > 0 {
			t.Errorf("log lines that are not JSON: %q", l.log.bad)
		}
	})
	return l
}

const svcFile = "05-http-test.yaml"

func (l *loop) setLB(t testing.TB, old, new string) time.Time {
	t.Helper()
	return manifesttest.Edit(t, filepath.Join(l.dir, svcFile), "- ip: "+old, "- ip: "+new)
}

// sync makes the loop render once more without a change (the same content written again),
// and waits for the end of that render (nothing submitted: "unchanged", or "held"): the loop
// has handled everything before.
func (l *loop) sync(t *testing.T) {
	t.Helper()
	from := l.log.len()
	p := filepath.Join(l.dir, "06-nodes.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	manifesttest.WriteAtomic(t, p, string(data))
	l.log.wait(t, from, "unchanged", "held")
}

func network(prefix string) string { return " network " + prefix + " route-map " }

func TestRunManifestChange(t *testing.T) {
	l := startLoop(t, reconcile.DefaultSettle)
	first, _ := l.app.submitted(t, 1)
	if !strings.Contains(first, network("172.20.0.1/32")) {
		t.Fatalf("first configuration lacks 172.20.0.1/32:\n%s", first)
	}

	l.setLB(t, "172.20.0.1", "172.20.0.7")
	second, _ := l.app.submitted(t, 2)
	if !strings.Contains(second, network("172.20.0.7/32")) || strings.Contains(second, "172.20.0.1/32") {
		t.Errorf("second configuration does not advertise 172.20.0.7/32 instead of 172.20.0.1/32:\n%s", second)
	}
	if diff := lineDiff(first, second); len(diff) != 2 {
		t.Errorf("the configurations differ by %q, want the network line alone", diff)
	}
	l.sync(t)
	if n := l.app.count(); n != 2 {
		t.Errorf("submits = %d, want 2", n)
	}
}

// The listening port file follows the instances' localPort: 179 in the seed, a changed port,
// none; a failed instance keeps the port of the configuration it holds.
func TestRunListenPortFile(t *testing.T) {
	l := startLoop(t, reconcile.DefaultSettle)
	l.app.submitted(t, 1)
	waitFile(t, l.port, "179\n")

	l.edit(t, "01-cluster-config.yaml", "localPort: 179", "localPort: 1790")
	l.app.submitted(t, 2)
	waitFile(t, l.port, "1790\n")

	l.edit(t, "01-cluster-config.yaml", "localASN: 65001", "localASN: 0")
	l.sync(t)
	waitFile(t, l.port, "1790\n")

	l.edit(t, "01-cluster-config.yaml", "localASN: 0", "localASN: 65001")
	l.edit(t, "01-cluster-config.yaml", "    localPort: 1790\n", "")
	l.app.submitted(t, 3)
	waitFile(t, l.port, "0\n")
}

func (l *loop) edit(t *testing.T, file, old, new string) {
	t.Helper()
	manifesttest.Edit(t, filepath.Join(l.dir, file), old, new)
}

// waitFile waits until path holds want.
func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		got, err := os.ReadFile(path)
		if err == nil && string(got) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q (%v), want %q", path, got, err, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRunIdenticalNotResubmitted(t *testing.T) {
	l := startLoop(t, reconcile.DefaultSettle)
	l.app.submitted(t, 1)
	// A comment, a reordering of fields: the same configuration.
	manifesttest.Edit(t, filepath.Join(l.dir, svcFile), "  type: LoadBalancer\n", "  # an edit that changes nothing\n  type: LoadBalancer\n")
	l.sync(t)
	if n := l.app.count(); n != 1 {
		t.Errorf("submits = %d, want 1", n)
	}
}

func TestRunBadEdit(t *testing.T) {
	l := startLoop(t, reconcile.DefaultSettle)
	good, _ := l.app.submitted(t, 1)
	p := filepath.Join(l.dir, svcFile)
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}

	bad := strings.Replace(string(orig), "  type: LoadBalancer\n", "  type: [LoadBalancer\n", 1)
	from := l.log.len()
	manifesttest.WriteAtomic(t, p, bad)
	_, rec := l.log.wait(t, from, "cannot read the desired state; keeping the last configuration")
	if rec["level"] != "ERROR" || !strings.Contains(fmt.Sprint(rec["err"]), svcFile) {
		t.Errorf("the error record does not name the file at level ERROR: %v", rec)
	}
	// The same bad file again: not logged again as an error.
	manifesttest.WriteAtomic(t, p, bad+"# still bad\n")
	l.log.wait(t, from+1, "cannot read the desired state; keeping the last configuration")
	errs := 0
	for _, r := range l.log.matching(from, "cannot read the desired state; keeping the last configuration") {
		if r["level"] == "ERROR" {
			errs++
		}
	}
	if errs != 1 {
		t.Errorf("the same error was logged %d times at level ERROR, want 1", errs)
	}

	// Mended: the same configuration as before, so nothing to submit.
	from = l.log.len()
	manifesttest.WriteAtomic(t, p, string(orig))
	l.log.wait(t, from, "desired state read again")
	l.log.wait(t, from, "unchanged")
	if n := l.app.count(); n != 1 {
		t.Errorf("submits = %d, want 1", n)
	}
	if last, _ := l.app.submitted(t, 1); last != good {
		t.Error("the configuration changed")
	}

	// Removed files are not a bad edit: the Service goes, and its route with it.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	third, _ := l.app.submitted(t, 2)
	if strings.Contains(third, "172.20.0.1/32") {
		t.Errorf("the Service's route stays after the Service went:\n%s", third)
	}
}

func TestRunHostFactsChange(t *testing.T) {
	advertiseLo := [3]string{"03-advertisement.yaml", "      - LoadBalancerIP\n", "      - LoadBalancerIP\n  - advertisementType: Interface\n    interface:\n      name: lo\n"}
	l := startLoop(t, reconcile.DefaultSettle, advertiseLo)
	first, _ := l.app.submitted(t, 1)
	if !strings.Contains(first, network("10.99.0.1/32")) {
		t.Fatalf("first configuration does not advertise lo's 10.99.0.1/32:\n%s", first)
	}

	manifesttest.WriteAtomic(t, l.facts, strings.Replace(loFacts, "10.99.0.1/32]", "10.99.0.1/32, 10.99.0.2/32]", 1))
	second, _ := l.app.submitted(t, 2)
	if !strings.Contains(second, network("10.99.0.1/32")) || !strings.Contains(second, network("10.99.0.2/32")) {
		t.Errorf("second configuration does not advertise 10.99.0.1/32 and 10.99.0.2/32:\n%s", second)
	}

	// A facts file that does not parse keeps the facts read last.
	from := l.log.len()
	manifesttest.WriteAtomic(t, l.facts, "interfaces:\n  - {name: lo, adminUp: true, operState: unknown, adresses: []}\n")
	_, rec := l.log.wait(t, from, "cannot read the host facts; keeping the last ones")
	if !strings.Contains(fmt.Sprint(rec["err"]), "adresses") {
		t.Errorf("the error does not name the unknown field: %v", rec)
	}

	// lo down: its addresses are not advertised.
	manifesttest.WriteAtomic(t, l.facts, strings.Replace(loFacts, "adminUp: true", "adminUp: false", 1))
	third, _ := l.app.submitted(t, 3)
	if strings.Contains(third, "10.99.0.") {
		t.Errorf("lo is down, its addresses are still advertised:\n%s", third)
	}
	l.log.wait(t, from, "host facts read again")
}

func TestRunDiagnosticsLoggedOnce(t *testing.T) {
	typo := [3]string{"03-advertisement.yaml", "      - LoadBalancerIP\n", "      - LoadBalancerIP\n      - LoadBalancerIPs\n"}
	l := startLoop(t, reconcile.DefaultSettle, typo)
	l.app.submitted(t, 1)
	l.setLB(t, "172.20.0.1", "172.20.0.2")
	l.app.submitted(t, 2)
	l.setLB(t, "172.20.0.2", "172.20.0.3")
	l.app.submitted(t, 3)
	diags := l.log.matching(0, "diagnostic")
	if len(diags) != 1 || diags[0]["field"] != "spec.advertisements[0].service.addresses[1]" || diags[0]["severity"] != "warning" {
		t.Fatalf("diagnostic records over three renders = %v, want the typo's warning once", diags)
	}
	from := l.log.len()
	manifesttest.Edit(t, filepath.Join(l.dir, "03-advertisement.yaml"), "      - LoadBalancerIPs\n", "")
	_, rec := l.log.wait(t, from, "diagnostic resolved")
	if rec["field"] != diags[0]["field"] {
		t.Errorf("resolved %v, want %v", rec, diags[0])
	}
}

func TestRunFailedInstanceKeepsConfiguration(t *testing.T) {
	l := startLoop(t, reconcile.DefaultSettle)
	first, _ := l.app.submitted(t, 1)
	cc := filepath.Join(l.dir, "01-cluster-config.yaml")

	from := l.log.len()
	manifesttest.Edit(t, cc, "localPort: 179", "localPort: 70000")
	_, rec := l.log.wait(t, from, "BGP instances failed; keeping the last configuration of every instance until they are mended")
	if fmt.Sprint(rec["held"]) != "[K8S-NODES]" {
		t.Errorf("held = %v, want [K8S-NODES]", rec["held"])
	}
	l.log.wait(t, from, "diagnostic") // the error that fails it, with its field
	// Other changes wait too.
	l.setLB(t, "172.20.0.1", "172.20.0.9")
	l.sync(t)
	if n := l.app.count(); n != 1 {
		t.Fatalf("submits while the instance fails = %d, want 1", n)
	}
	from = l.log.len()
	manifesttest.Edit(t, cc, "localPort: 70000", "localPort: 179")
	second, _ := l.app.submitted(t, 2)
	l.log.wait(t, from, "no BGP instance fails any longer")
	if !strings.Contains(second, network("172.20.0.9/32")) || !strings.Contains(second, "router bgp 65001") {
		t.Errorf("after the repair:\n%s", second)
	}
	if diff := lineDiff(first, second); len(diff) != 2 {
		t.Errorf("the configurations differ by %q, want the network line alone", diff)
	}
}

// A change that is whole (a file renamed into place) after a quiet time is read after
// QuickSettle; one of a burst, or a file written in place and still open, after Settle. The
// loop says which in its stages record.
func TestRunQuickSettle(t *testing.T) {
	const settle = 200 * time.Millisecond
	l := startLoopWith(t, func(c *reconcile.Config) { c.Settle, c.QuickSettle = settle, time.Millisecond })
	l.app.submitted(t, 1)
	stagesAfter := func(from int) map[string]any {
		t.Helper()
		_, rec := l.log.wait(t, from, "stages")
		// The benchmarks add up the stages from these fields.
		for _, k := range []string{"read", "translate", "render"} {
			if _, err := measure.ParseMS(fmt.Sprint(rec[k])); err != nil {
				t.Errorf("stages record, %s: %v", k, err)
			}
		}
		return rec
	}

	time.Sleep(settle) // quiet
	from := l.log.len()
	l.setLB(t, "172.20.0.1", "172.20.0.2")
	l.app.submitted(t, 2)
	if rec := stagesAfter(from); rec["settle"] != "whole, read at once" {
		t.Errorf("a file renamed into place after a quiet time: %v", rec)
	}

	// Right after a read: the loop settles.
	from = l.log.len()
	l.setLB(t, "172.20.0.2", "172.20.0.3")
	l.app.submitted(t, 3)
	if rec := stagesAfter(from); rec["settle"] != "settled" {
		t.Errorf("a change right after a read: %v", rec)
	}

	// A file written in place and not closed yet is never whole.
	time.Sleep(settle)
	from = l.log.len()
	p := filepath.Join(l.dir, svcFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "172.20.0.3", "172.20.0.4", 1)
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	l.app.submitted(t, 4)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if rec := stagesAfter(from); rec["settle"] != "settled" {
		t.Errorf("a file still open: %v", rec)
	}
}

// TestRunBurstSettle writes the Service every 20 ms for 400 ms right after a read: with a
// Settle of 5 ms each write is read on its own; with a BurstSettle of 100 ms the loop waits
// for the writes to pause that long, and reads them in one or two rounds (MaxSettle 1 s).
func TestRunBurstSettle(t *testing.T) {
	for _, tc := range []struct {
		burst                  time.Duration
		minRenders, maxRenders int
	}{
		{burst: -1, minRenders: 10, maxRenders: 21}, // none: Settle's
		{burst: 100 * time.Millisecond, minRenders: 1, maxRenders: 2},
	} {
		t.Run(fmt.Sprint("burst=", tc.burst), func(t *testing.T) {
			l := startLoopWith(t, func(c *reconcile.Config) {
				c.Settle, c.QuickSettle, c.MaxSettle = 5*time.Millisecond, time.Millisecond, time.Second
				c.BurstSettle = tc.burst
			})
			l.app.submitted(t, 1)
			time.Sleep(50 * time.Millisecond)
			from := l.log.len()
			ip := func(i int) string { return fmt.Sprintf("172.20.9.%d", i) }
			l.setLB(t, "172.20.0.1", ip(0))
			l.app.submitted(t, 2) // read at once: the burst starts after this read
			const writes = 20
			for i := 1; i <= writes; i++ {
				time.Sleep(20 * time.Millisecond)
				l.setLB(t, ip(i-1), ip(i))
			}
			deadline := time.Now().Add(waitLimit)
			for last, _ := l.app.submitted(t, l.app.count()); !strings.Contains(last, network(ip(writes)+"/32")); last, _ = l.app.submitted(t, l.app.count()) {
				if time.Now().After(deadline) {
					t.Fatalf("the last address %s was not submitted", ip(writes))
				}
				time.Sleep(time.Millisecond)
			}
			renders := len(l.log.matching(from, "rendered")) - 1 // the first write's
			t.Logf("%d writes 20 ms apart after a read: %d renders", writes, renders)
			if renders < tc.minRenders || renders > tc.maxRenders {
				t.Errorf("renders = %d, want %d to %d", renders, tc.minRenders, tc.maxRenders)
			}
		})
	}
}

// TestRunBurst writes the Service 1,000 times in a second, each time with another address:
// the loop settles and renders a few times, and submits the last address. What it may render is
// judged by the writes as they happened, not by the clock: a busy machine that pauses the writer
// for longer than the settle time gives the loop a quiet moment it rightly renders in.
func TestRunBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("one second of writes")
	}
	l := startLoop(t, reconcile.DefaultSettle)
	l.app.submitted(t, 1)
	from := l.log.len()
	const writes = 1000
	p := filepath.Join(l.dir, svcFile)
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	ip := func(i int) string { return fmt.Sprintf("172.20.%d.%d", 1+i/250, 1+i%250) }
	begin := time.Now()
	quiet, last := 0, begin // pauses between writes longer than the settle time
	for i := range writes {
		if d := time.Until(begin.Add(time.Duration(i) * time.Second / writes)); d > 0 {
			time.Sleep(d)
		}
		if now := time.Now(); now.Sub(last) > reconcile.DefaultSettle {
			quiet++
		}
		manifesttest.WriteAtomic(t, p, strings.Replace(string(orig), "- ip: 172.20.0.1", "- ip: "+ip(i), 1))
		last = time.Now()
	}
	burst := time.Since(begin)
	want := network(ip(writes-1) + "/32")
	deadline := time.Now().Add(waitLimit)
	for {
		n := l.app.count()
		if last, _ := l.app.submitted(t, n); strings.Contains(last, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last address %s was not submitted", ip(writes-1))
		}
		time.Sleep(time.Millisecond)
	}
	l.sync(t)
	renders := len(l.log.matching(from, "rendered")) - 1 // the sync's
	submits := l.app.count() - 1
	// One render per quiet pause, one per longest settle of a busy stream, the first and the last;
	// twice that on a loaded machine, whose scheduler makes pauses the writer does not see (the
	// loop descheduled past its settle time finds the timer and the next event ready together:
	// 5 against 4 was seen at a load of 10). Without coalescing it would be hundreds.
	allowed := 2 * (quiet + int(burst/reconcile.DefaultMaxSettle) + 2)
	t.Logf("%d writes in %v with %d pauses longer than the settle time: %d renders, %d submits (settle %v, at most %v)",
		writes, burst.Round(time.Millisecond), quiet, renders, submits, reconcile.DefaultSettle, reconcile.DefaultMaxSettle)
	if renders > allowed {
		t.Errorf("renders = %d, want at most %d", renders, allowed)
	}
}

// TestRunStorm is issue 13's storm: the Service written 10,000 times, each time with another
// address, over stormFor (three times the "10,000 in a minute"). The loop coalesces (at
// most one render per 100 writes; TestRunBurst's finer bound, one render per MaxSettle of a busy
// stream, is logged but not held over 20 s: 54 renders against 44 were measured on a shared
// machine), submits the last address and none of the others,
// and its memory and goroutines are back near where they were before the storm. Sampled heap
// peaks during the storm are logged.
func TestRunStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s of writes")
	}
	const (
		writes   = 10_000
		stormFor = 20 * time.Second
		// heapSlack bounds the heap's growth over the storm: the fake applier keeps every
		// submit (a few KiB each) and the log recorder every V(1) record; a leak of a few
		// hundred bytes per write would exceed it.
		heapSlack = 8 << 20
	)
	// Verbosity 1: the recorder keeps no per-signal record, so the heap is the loop's.
	l := startLoopLogging(t, 1, func(c *reconcile.Config) {})
	l.app.submitted(t, 1)
	from := l.log.len()
	p := filepath.Join(l.dir, svcFile)
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	ip := func(i int) string { return fmt.Sprintf("172.20.%d.%d", 1+i/250, 1+i%250) }
	heapBefore, goroutinesBefore := heapInuse(), runtime.NumGoroutine()
	var heapPeak uint64

	begin := time.Now()
	quiet, last := 0, begin // pauses between writes longer than the settle time
	for i := range writes {
		if d := time.Until(begin.Add(time.Duration(i) * stormFor / writes)); d > 0 {
			time.Sleep(d)
		}
		if now := time.Now(); now.Sub(last) > reconcile.DefaultSettle {
			quiet++
		}
		manifesttest.WriteAtomic(t, p, strings.Replace(string(orig), "- ip: 172.20.0.1", "- ip: "+ip(i), 1))
		last = time.Now()
		if i%1000 == 999 {
			heapPeak = max(heapPeak, heapInuse())
		}
	}
	storm := time.Since(begin)
	want := network(ip(writes-1) + "/32")
	deadline := time.Now().Add(waitLimit)
	for {
		if last, _ := l.app.submitted(t, l.app.count()); strings.Contains(last, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last address %s was not submitted", ip(writes-1))
		}
		time.Sleep(time.Millisecond)
	}
	l.sync(t)

	final, _ := l.app.submitted(t, l.app.count())
	for i := range writes - 1 {
		if strings.Contains(final, network(ip(i)+"/32")) {
			t.Errorf("the last submit still advertises %s (write #%d of %d)", ip(i), i+1, writes)
		}
	}
	renders := len(l.log.matching(from, "rendered")) - 1 // the sync's
	submits := l.app.count() - 1
	burstBound := quiet + int(storm/reconcile.DefaultMaxSettle) + 2
	heapAfter, goroutinesAfter := heapInuse(), runtime.NumGoroutine()
	t.Logf("%d writes in %v with %d pauses longer than the settle time: %d renders, %d submits (TestRunBurst's bound: %d)",
		writes, storm.Round(time.Millisecond), quiet, renders, submits, burstBound)
	t.Logf("heap in use: %.1f MiB before, %.1f MiB peak sampled during, %.1f MiB after; goroutines %d before, %d after",
		mib(heapBefore), mib(heapPeak), mib(heapAfter), goroutinesBefore, goroutinesAfter)
	if renders > writes/100 {
		t.Errorf("renders = %d for %d writes, want at most %d", renders, writes, writes/100)
	}
	if heapAfter > heapBefore+heapSlack {
		t.Errorf("heap in use grew by %.1f MiB over the storm, want at most %.0f MiB", mib(heapAfter-heapBefore), mib(heapSlack))
	}
	if goroutinesAfter > goroutinesBefore+2 {
		t.Errorf("goroutines: %d after the storm, %d before", goroutinesAfter, goroutinesBefore)
	}
}

// heapInuse is the heap in use after a garbage collection.
func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// TestRunLatency measures the time from a file written to the Submit of its configuration,
// over 100 edits, with the settle time and without.
func TestRunLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("100 edits")
	}
	for _, settle := range []time.Duration{reconcile.DefaultSettle, -1} { // -1: none, read at once
		t.Run(fmt.Sprintf("settle %v", settle), func(t *testing.T) {
			l := startLoop(t, settle)
			l.app.submitted(t, 1)
			const edits = 100
			lat := make([]time.Duration, 0, edits)
			old := "172.20.0.1"
			for i := range edits {
				ip := fmt.Sprintf("172.20.1.%d", i+1)
				wrote := l.setLB(t, old, ip)
				text, at := l.app.submitted(t, i+2)
				if !strings.Contains(text, network(ip+"/32")) {
					t.Fatalf("submit #%d does not advertise %s", i+2, ip)
				}
				lat = append(lat, at.Sub(wrote))
				old = ip
			}
			slices.Sort(lat)
			t.Logf("write -> Submit over %d edits: min %v p50 %v p90 %v p99 %v max %v", edits,
				lat[0].Round(10*time.Microsecond), lat[edits/2].Round(10*time.Microsecond), lat[edits*9/10].Round(10*time.Microsecond),
				lat[edits*99/100].Round(10*time.Microsecond), lat[edits-1].Round(10*time.Microsecond))
		})
	}
}

func TestRunApplierStops(t *testing.T) {
	for _, tt := range []struct {
		app  *fakeApplier
		want string
	}{
		{&fakeApplier{ran: make(chan struct{}), runErr: errors.New("boom")}, "applier: boom"},
		{&fakeApplier{ran: make(chan struct{}), runOut: true}, "applier: stopped by itself"},
	} {
		cfg := reconcile.Config{Watch: []string{manifesttest.SeedCopy(t)}, HostFacts: writeFile(t, "facts.yaml", "{}\n"), Options: translate.Options{Node: "worker-1"}, Settle: reconcile.DefaultSettle, MaxSettle: reconcile.DefaultMaxSettle}
		err := reconcile.Run(context.Background(), cfg, tt.app, newLogger(&logRecorder{}, 0))
		if err == nil || err.Error() != tt.want {
			t.Errorf("reconcile.Run = %v, want %q", err, tt.want)
		}
	}
}

// TestRunNetlinkFacts follows this host's network namespace (it only reads it).
func TestRunNetlinkFacts(t *testing.T) {
	app := newFakeApplier()
	cfg := reconcile.Config{Watch: []string{manifesttest.SeedCopy(t)}, Options: translate.Options{Node: "worker-1"}, Settle: reconcile.DefaultSettle, MaxSettle: reconcile.DefaultMaxSettle}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	rec := &logRecorder{}
	go func() { done <- reconcile.Run(ctx, cfg, app, newLogger(rec, 2)) }()
	text, _ := app.submitted(t, 1)
	if !strings.Contains(text, network("172.20.0.1/32")) {
		t.Errorf("configuration:\n%s", text)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// lineDiff returns the lines of a not in b and of b not in a, marked - and +.
func lineDiff(a, b string) []string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "-"+l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "+"+l)
		}
	}
	return out
}

// newLogger logs JSON lines to w with logr's V(0) to V(v) enabled, as frr-renderer run does.
func newLogger(w io.Writer, v int) logr.Logger {
	return logr.FromSlogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.Level(-v)}))
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each read of the sources ends with a Report: what was submitted, what keeps the node from its
// desired configuration, and which diagnostics are new.
func TestRunReports(t *testing.T) {
	dir := manifesttest.SeedCopy(t)
	facts := filepath.Join(t.TempDir(), "facts.yaml")
	manifesttest.WriteAtomic(t, facts, loFacts)
	reports := make(chan reconcile.Report, 100)
	cfg := reconcile.Config{
		Watch: []string{dir}, HostFacts: facts, Options: translate.Options{Node: "worker-1"},
		Dialect: frrconfig.FRR10, Settle: reconcile.DefaultSettle, MaxSettle: reconcile.DefaultMaxSettle,
		Report: func(r reconcile.Report) { reports <- r },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	app := newFakeApplier()
	go func() { done <- reconcile.Run(ctx, cfg, app, logr.Discard()) }()
	defer func() { cancel(); <-done }()
	next := func() reconcile.Report {
		t.Helper()
		select {
		case r := <-reports:
			return r
		case <-time.After(waitLimit):
			t.Fatal("no report")
			return reconcile.Report{}
		}
	}

	r := next()
	if r.Outcome != reconcile.Submitted || r.Config == nil || len(r.Config.Instances) != 1 || r.Snapshot == nil || len(r.Problems) != 0 {
		t.Fatalf("first report: %+v", r)
	}
	// The submission's time is from before the applier had it: an apply that starts at once
	// must count as applying it (config_staleness_seconds stayed up when it did not).
	app.mu.Lock()
	handed := app.at[0]
	app.mu.Unlock()
	if r.SubmittedAt.IsZero() || r.SubmittedAt.After(handed) {
		t.Errorf("SubmittedAt %v, the applier had it at %v", r.SubmittedAt, handed)
	}

	svc := filepath.Join(dir, svcFile)
	orig, err := os.ReadFile(svc)
	if err != nil {
		t.Fatal(err)
	}
	manifesttest.WriteAtomic(t, svc, strings.Replace(string(orig), "  type: LoadBalancer\n", "  type: [LoadBalancer\n", 1))
	r = next()
	if r.Outcome != reconcile.Failed || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], svcFile) || r.Config == nil {
		t.Fatalf("after a bad edit: outcome %q, problems %q, config kept: %v", r.Outcome, r.Problems, r.Config != nil)
	}
	manifesttest.WriteAtomic(t, svc, string(orig))
	if r = next(); r.Outcome != reconcile.Unchanged || len(r.Problems) != 0 {
		t.Fatalf("mended: outcome %q, problems %q", r.Outcome, r.Problems)
	}

	cc := filepath.Join(dir, "01-cluster-config.yaml")
	manifesttest.Edit(t, cc, "      peerConfigRef:\n        name: \"cilium-peer\"\n",
		"      peerConfigRef:\n        name: \"cilium-peer\"\n    - name: ghost\n      peerASN: 65000\n      peerAddress: 192.168.10.99\n      peerConfigRef:\n        name: missing\n")
	r = next()
	if len(r.Appeared) != 1 || !strings.Contains(r.Appeared[0].Message, `"missing" not found`) || len(r.Diagnostics) != 1 {
		t.Fatalf("a missing PeerConfig: appeared %v, diagnostics %v", r.Appeared, r.Diagnostics)
	}
	// The same diagnostic on the next read: current, but not new.
	manifesttest.WriteAtomic(t, svc, string(orig)+"# touched\n")
	if r = next(); len(r.Appeared) != 0 || len(r.Diagnostics) != 1 {
		t.Fatalf("next read: appeared %v, diagnostics %v", r.Appeared, r.Diagnostics)
	}

	// A failed instance is named, for the metric and the status, until it is mended.
	manifesttest.Edit(t, cc, "localPort: 179", "localPort: 70000")
	if r = next(); r.Outcome != reconcile.Held || !slices.Equal(r.Failed, []string{"K8S-NODES"}) {
		t.Fatalf("a failed instance: outcome %q, failed %q", r.Outcome, r.Failed)
	}
	manifesttest.Edit(t, cc, "localPort: 70000", "localPort: 179")
	if r = next(); len(r.Failed) != 0 {
		t.Fatalf("mended: failed %q", r.Failed)
	}
}
