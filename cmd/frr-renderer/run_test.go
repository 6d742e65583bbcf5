package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/manifest/manifesttest"
	"github.com/frr-renderer/frr-renderer/internal/reconcile"
	"github.com/frr-renderer/frr-renderer/internal/translate"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// The loop's own tests are internal/reconcile's; these are the command's.

// waitLimit bounds every wait; a wait ends as soon as what it waits for happened.
const waitLimit = 10 * time.Second

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

const svcFile = "05-http-test.yaml"

func TestRunCommandUsage(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	dir := manifesttest.SeedCopy(t)
	tests := []struct {
		args    []string
		code    int
		wantErr string
	}{
		{[]string{"run", "--watch", dir}, 2, "--node is required"},
		{[]string{"run", "--node", "n1", "--vty-socket", t.TempDir()}, 1, "neither --kubeconfig nor $KUBECONFIG is set"},
		{[]string{"run", "--node", "n1", "--watch", dir, "--kubeconfig", "k"}, 2, "excludes --kubeconfig"},
		{[]string{"run", "--node", "n1", "--watch", dir, "--metrics-addr", ":1"}, 2, "excludes --kubeconfig, --metrics-addr"},
		{[]string{"run", "--node", "n1", "--kubeconfig", filepath.Join(dir, "absent"), "--vty-socket", t.TempDir()}, 1, "no such file or directory"},
		{[]string{"run", "--node", "n1", "--watch", "-"}, 2, "stdin cannot be followed"},
		{[]string{"run", "--node", "n1", "--watch", dir, "--frr-version", "7"}, 2, "not supported"},
		{[]string{"run", "--node", "n1", "--watch", dir, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"run", "--node", "n1", "--watch", dir, "--pathspace", "../x"}, 2, "not a plain name"},
		{[]string{"run", "--node", "n1", "--watch", filepath.Join(dir, "absent"), "--vty-socket", t.TempDir(), "--health-addr", ""}, 1, "no such file or directory"},
		{[]string{"run", "--node", "n1", "--watch", dir, "--log-format", "xml"}, 2, "--log-format \"xml\" is not one of"},
		{[]string{"run", "-node", "n1", "--watch", dir}, 2, "unknown shorthand flag: 'n' in -node"},
	}
	for _, tt := range tests {
		_, stderr, code := runCmd(t, "", tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.wantErr) {
			t.Errorf("%v: code %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.wantErr)
		}
	}
}

func TestFRRRunDir(t *testing.T) {
	for _, tt := range []struct{ dir, pathspace, want string }{
		{"", "", "/var/run/frr"},
		{"", "node1", "/var/run/frr/node1"},
		{"/run/x", "node1", "/run/x"},
	} {
		f := frrFlags{vtySocket: tt.dir, pathspace: tt.pathspace}
		if got, err := f.runDir(); got != tt.want || err != nil {
			t.Errorf("runDir(%q, %q) = %q, %v, want %q", tt.dir, tt.pathspace, got, err, tt.want)
		}
	}
}

// TestRunOnFRR runs the loop with the real applier against FRR: the seed's configuration goes
// in, each edit of the Service's address reaches bgpd, and FRR keeps the configuration after
// the loop stops.
func TestRunOnFRR(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			r := frrtest.Start(t, v, "cmdrun")
			version := map[frrtest.Version]string{frrtest.FRR8: "8", frrtest.FRR10: "10"}[v]
			dialect, _ := frrconfig.ParseDialect(version)
			dir := manifesttest.SeedCopy(t)
			facts := writeFile(t, "facts.yaml", "{}\n")
			rec := &logRecorder{}
			log := (&logFlags{verbosity: 1, format: "json"}).logger(rec)
			app := vtysh.NewApplier(vtysh.ApplierOptions{RunDir: r.RunDir(), Log: log.WithName("applier")})
			defer app.Close()
			cfg := reconcile.Config{Watch: []string{dir}, HostFacts: facts, Options: translate.Options{Node: "cp-1"},
				Dialect: dialect, Settle: reconcile.DefaultSettle, MaxSettle: reconcile.DefaultMaxSettle}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- reconcile.Run(ctx, cfg, app, log) }()

			// applied waits until an apply that ended after since succeeded, and returns its end.
			applied := func(since time.Time) time.Time {
				t.Helper()
				deadline := time.Now().Add(waitLimit)
				for {
					s := app.Status()
					if s.Err == nil && s.LastSuccess.After(since) {
						return s.LastSuccess
					}
					if time.Now().After(deadline) {
						t.Fatalf("no successful apply within %v: %+v\nlog:\n%s", waitLimit, s, rec.dump())
					}
					time.Sleep(time.Millisecond)
				}
			}
			running := func() string {
				t.Helper()
				out, err := r.RunningConfig()
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			applied(time.Time{})
			if got := running(); !strings.Contains(got, "network 172.20.0.1/32 route-map") {
				t.Fatalf("FRR runs:\n%s", got)
			}

			const edits = 20
			lat := make([]time.Duration, 0, edits)
			old := "172.20.0.1"
			for i := range edits {
				ip := fmt.Sprintf("172.20.1.%d", i+1)
				wrote := manifesttest.Edit(t, filepath.Join(dir, svcFile), "- ip: "+old, "- ip: "+ip)
				lat = append(lat, applied(wrote).Sub(wrote))
				if got := running(); !strings.Contains(got, "network "+ip+"/32 route-map") || strings.Contains(got, old+"/32") {
					t.Fatalf("after the edit to %s, FRR runs:\n%s", ip, got)
				}
				old = ip
			}
			slices.Sort(lat)
			t.Logf("FRR %s: write -> applied in bgpd over %d edits: min %v p50 %v max %v", v, edits,
				lat[0].Round(10*time.Microsecond), lat[edits/2].Round(10*time.Microsecond), lat[edits-1].Round(10*time.Microsecond))

			rendered, errOut, code := runCmd(t, "", "render", "--node", "cp-1", "-f", dir, "--host-facts", facts, "--frr-version", version)
			if code != 0 {
				t.Fatalf("render: exit %d: %s", code, errOut)
			}
			if d := frrtest.DiffBlocks(rendered, running()); d != "" {
				t.Errorf("FRR runs (-rendered +running):\n%s", d)
			}

			cancel()
			if err := <-done; err != nil {
				t.Errorf("reconcile.Run: %v", err)
			}
			if got := running(); !strings.Contains(got, "network "+old+"/32 route-map") {
				t.Errorf("FRR lost its configuration when the loop stopped:\n%s", got)
			}
		})
	}
}

// TestRunServesHealth: standalone mode serves /healthz and /readyz on --health-addr; /readyz
// says why it is not ready (no bgpd here), and SIGINT stops it with status 0.
func TestRunServesHealth(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := manifesttest.SeedCopy(t)
	facts := writeFile(t, "facts.yaml", "{}\n")
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run([]string{"run", "--node", "cp-1", "--watch", dir, "--host-facts", facts, "--vty-socket", t.TempDir(),
			"--health-addr", addr, "--log-format", "json"}, nil, io.Discard, &stderr)
	}()
	get := func(path string) (int, string, error) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	var code int
	var body string
	deadline := time.Now().Add(waitLimit)
	for {
		code, body, err = get("/readyz")
		if err == nil && strings.Contains(body, "apply: bgpd is not running") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "apply: bgpd is not running") {
		t.Errorf("/readyz: %d %q %v", code, body, err)
	}
	if code, body, err := get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q %v", code, body, err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-done:
		if c != 0 {
			t.Errorf("exit %d after SIGINT:\n%s", c, stderr.String())
		}
	case <-time.After(waitLimit):
		t.Fatal("run did not stop on SIGINT")
	}
}

func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name            string
		env             map[string]string
		want            int64
		wantErrContains string
	}{
		{name: "nothing set: the runtime's default", env: nil, want: 0},
		{name: "the container's limit: 90% of it", env: map[string]string{memoryLimitEnv: "268435456"}, want: 241591910},
		{name: "GOMEMLIMIT wins", env: map[string]string{"GOMEMLIMIT": "1GiB", memoryLimitEnv: "268435456"}, want: 0},
		{name: "not a number", env: map[string]string{memoryLimitEnv: "256Mi"}, wantErrContains: `FRR_RENDERER_MEMORY_LIMIT="256Mi"`},
		{name: "zero", env: map[string]string{memoryLimitEnv: "0"}, wantErrContains: "in bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := memoryLimit(func(k string) string { return tc.env[k] })
			if tc.wantErrContains != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrContains) {
					t.Fatalf("memoryLimit: error %v, want one containing %q", err, tc.wantErrContains)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("memoryLimit = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}
