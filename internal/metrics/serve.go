package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const (
	// shutdownTimeout bounds the wait for scrapes in flight once Serve's context ends.
	shutdownTimeout = 5 * time.Second
	// maxReason bounds a check's reason on /readyz, in bytes: one line a human reads.
	maxReason = 256
)

// Check is one readiness condition: Err returns nil when it holds, or why not. Err runs on each
// /readyz request, so it must be cheap and must not block (read a status, do not dial), and its
// error must hold no secret.
type Check struct {
	Name string
	Err  func() error
}

// Serve listens on addr and serves /metrics, /healthz and /readyz (see Handler) until ctx ends,
// then shuts the server down gracefully and returns nil. It returns an error when it cannot
// listen on addr or the server stops by itself.
func Serve(ctx context.Context, addr string, m *Metrics, ready []Check, log logr.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return serve(ctx, ln, Handler(m, ready, log), log)
}

// ServeHealth listens on addr and serves /healthz and /readyz only (see Handler) until ctx ends,
// like Serve: the health endpoints of a process that serves no metrics, or that serves them on
// another address.
func ServeHealth(ctx context.Context, addr string, ready []Check, log logr.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("health endpoints: %w", err)
	}
	mux := http.NewServeMux()
	addHealth(mux, ready, log)
	return serve(ctx, ln, mux, log)
}

// serve serves h on ln until ctx ends; it closes ln.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log logr.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return fmt.Errorf("metrics: serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Info("metrics server: scrapes still running at shutdown; closing them", "error", err.Error())
		srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: serving on %s: %w", ln.Addr(), err)
	}
	return nil
}

// Handler serves:
//   - /metrics: m's registry;
//   - /healthz: 200 "ok";
//   - /readyz: 200 "ok" when every check passes, otherwise 503 and one line "name: reason" per
//     failing check, in the order of ready. Changes of readiness are logged.
func Handler(m *Metrics, ready []Check, log logr.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog: promLogger{log},
		// A collector that fails (the process collector without /proc) must not hide the others.
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.reg,
		EnableOpenMetrics: true,
	})))
	addHealth(mux, ready, log)
	return mux
}

// addHealth adds /healthz and /readyz to mux.
func addHealth(mux *http.ServeMux, ready []Check, log logr.Logger) {
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	r := &readiness{checks: ready, log: log}
	mux.HandleFunc("/readyz", r.serveHTTP)
}

// readiness serves /readyz and logs when the set of failing checks changes.
type readiness struct {
	checks []Check
	log    logr.Logger

	mu      sync.Mutex
	last    string // the failing checks' names at the last request, ", "-joined
	checked bool
}

func (r *readiness) serveHTTP(w http.ResponseWriter, _ *http.Request) {
	var body strings.Builder
	var failing []string
	for _, c := range r.checks {
		err := errors.New("no check function")
		if c.Err != nil {
			err = c.Err()
		}
		if err == nil {
			continue
		}
		failing = append(failing, c.Name)
		fmt.Fprintf(&body, "%s: %s\n", oneLine(c.Name), oneLine(err.Error()))
	}
	r.logChange(failing)
	if len(failing) > 0 {
		writeText(w, http.StatusServiceUnavailable, body.String())
		return
	}
	writeText(w, http.StatusOK, "ok\n")
}

func (r *readiness) logChange(failing []string) {
	names := strings.Join(failing, ", ")
	r.mu.Lock()
	changed := !r.checked || names != r.last
	r.last, r.checked = names, true
	r.mu.Unlock()
	switch {
	case !changed:
	case names == "":
		r.log.Info("ready")
	default:
		r.log.Info("not ready", "failing", names)
	}
}

// oneLine makes s one line of at most maxReason bytes: line breaks and runs of spaces become
// one space, and a longer text is cut at a rune boundary and ends with "...".
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxReason {
		return s
	}
	cut := maxReason - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func writeText(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// promLogger passes promhttp's errors (a collector that failed, a scrape that could not be
// written) to the logger.
type promLogger struct{ log logr.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error(nil, strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
