package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// get requests url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// switchable is a check whose error the test sets.
type switchable struct {
	mu  sync.Mutex
	err error
}

func (s *switchable) set(err error) { s.mu.Lock(); s.err = err; s.mu.Unlock() }
func (s *switchable) check() error  { s.mu.Lock(); defer s.mu.Unlock(); return s.err }

// logLines returns a logger that appends each line it logs to *lines.
func logLines(lines *[]string) logr.Logger {
	var mu sync.Mutex
	return funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		*lines = append(*lines, args)
	}, funcr.Options{})
}

func TestReadyz(t *testing.T) {
	m := New()
	informers := &switchable{err: errors.New("waiting for ciliumbgppeerconfigs")}
	frr := &switchable{err: errors.New("dial unix /var/run/frr/bgpd.vty:\nconnection refused")}
	var logged []string
	srv := httptest.NewServer(Handler(m, []Check{
		{Name: "informers", Err: informers.check},
		{Name: "frr", Err: frr.check},
		m.ApplyCheck(),
	}, logLines(&logged)))
	defer srv.Close()

	code, body := get(t, srv.URL+"/readyz")
	wantBody := "informers: waiting for ciliumbgppeerconfigs\n" +
		"frr: dial unix /var/run/frr/bgpd.vty: connection refused\n" +
		"apply: no apply yet\n"
	if code != http.StatusServiceUnavailable || body != wantBody {
		t.Errorf("nothing ready: %d %q, want 503 %q", code, body, wantBody)
	}

	informers.set(nil)
	frr.set(nil)
	code, body = get(t, srv.URL+"/readyz")
	if code != http.StatusServiceUnavailable || body != "apply: no apply yet\n" {
		t.Errorf("only the apply failing: %d %q", code, body)
	}

	m.ObserveApply(vtysh.ApplyResult{}, nil)
	code, body = get(t, srv.URL+"/readyz")
	if code != http.StatusOK || body != "ok\n" {
		t.Errorf("all checks pass: %d %q, want 200 \"ok\\n\"", code, body)
	}
	get(t, srv.URL+"/readyz") // unchanged: not logged again

	want := []string{
		`"level"=0 "msg"="not ready" "failing"="informers, frr, apply"`,
		`"level"=0 "msg"="not ready" "failing"="apply"`,
		`"level"=0 "msg"="ready"`,
	}
	if strings.Join(logged, "\n") != strings.Join(want, "\n") {
		t.Errorf("logged:\n%s\nwant:\n%s", strings.Join(logged, "\n"), strings.Join(want, "\n"))
	}
}

func TestReadyzNoCheckFunction(t *testing.T) {
	srv := httptest.NewServer(Handler(New(), []Check{{Name: "informers"}}, logr.Discard()))
	defer srv.Close()
	if code, body := get(t, srv.URL+"/readyz"); code != http.StatusServiceUnavailable || body != "informers: no check function\n" {
		t.Errorf("got %d %q", code, body)
	}
}

func TestHealthz(t *testing.T) {
	failing := Check{Name: "frr", Err: func() error { return errors.New("down") }}
	srv := httptest.NewServer(Handler(New(), []Check{failing}, logr.Discard()))
	defer srv.Close()
	// Liveness does not depend on readiness: a pod whose FRR is down must not be restarted.
	if code, body := get(t, srv.URL+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, _ := get(t, srv.URL+"/nothing"); code != http.StatusNotFound {
		t.Errorf("/nothing: %d, want 404", code)
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("x", maxReason-4) + "ééé" // é is 2 bytes: the cut falls inside one
	for _, tc := range []struct{ in, want string }{
		{"refused", "refused"},
		{"line 1\nline 2\r\n\tline 3  ", "line 1 line 2 line 3"},
		{strings.Repeat("a", maxReason), strings.Repeat("a", maxReason)},
		{strings.Repeat("a", maxReason+1), strings.Repeat("a", maxReason-3) + "..."},
		{long, strings.Repeat("x", maxReason-4) + "..."},
	} {
		got := oneLine(tc.in)
		if got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(got) > maxReason {
			t.Errorf("oneLine(%q) is %d bytes, more than %d", tc.in, len(got), maxReason)
		}
	}
}

// TestServe serves on a real loopback listener: /metrics has the package's metrics and the
// runtime's, and ending the context ends Serve with nil once the request in flight is answered.
func TestServe(t *testing.T) {
	m := New()
	m.Reconciled(ResultSubmitted)
	entered, release := make(chan struct{}), make(chan struct{})
	slow := Check{Name: "slow", Err: func() error {
		close(entered)
		<-release
		return nil
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, Handler(m, []Check{slow}, logr.Discard()), logr.Discard()) }()

	code, body := get(t, url+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`frr_renderer_reconciles_total{result="submitted"} 1`,
		"frr_renderer_config_staleness_seconds 0",
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	type result struct {
		code int
		body string
		err  error
	}
	inFlight := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			inFlight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		inFlight <- result{resp.StatusCode, string(body), err}
	}()
	<-entered
	cancel()
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	if r := <-inFlight; r.err != nil || r.code != http.StatusOK || r.body != "ok\n" {
		t.Errorf("the request in flight at shutdown: %d %q %v, want 200 \"ok\\n\"", r.code, r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after the context ended: %v, want nil", err)
	}
}

func TestServeCannotListen(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = Serve(ctx, busy.Addr().String(), New(), nil, logr.Discard())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Serve on a busy address: %v, want address already in use", err)
	}
}
