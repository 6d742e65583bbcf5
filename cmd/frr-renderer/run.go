package main

// This file is `frr-renderer run`: the standalone, long-running mode. One goroutine owns the
// pipeline (sources -> snapshot -> translate -> render -> Submit); the applier runs in another
// and is the only writer to bgpd.

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/hostfacts"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/source"
	"github.com/frr-renderer/frr-renderer/internal/translate"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// Settling: after a signal the loop waits until its sources have been quiet for settleTime
// before it reads them, so that an edit made of several writes (an editor's save, a tool
// writing a folder) is read once and whole; under changes that never pause it reads at least
// every maxSettle.
const (
	settleTime = 20 * time.Millisecond
	maxSettle  = 500 * time.Millisecond
)

// frrRunRoot is FRR's run directory; a pathspace (-N NAME) has a folder of its own in it.
const frrRunRoot = "/var/run/frr"

func runRun(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("run", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var watch stringList
	node := fl.String("node", "", "node to render for (required)")
	fl.Var(&watch, "watch", "manifest file or folder (recursive) to read and follow; repeatable (required)")
	hostFacts := fl.String("host-facts", "", "YAML file with the host's interfaces and default routes, followed (default: this network namespace through netlink, followed)")
	secretsNS := fl.String("secrets-namespace", translate.DefaultSecretsNamespace, "namespace of the Secrets that authSecretRef names")
	frrVersion := fl.String("frr-version", "10", "FRR version to write for: 10 (the deploy image) or 8 (Debian 12)")
	pathspace := fl.String("pathspace", "", "FRR pathspace (watchfrr -N NAME) of the FRR to configure")
	vtyDir := fl.String("vty-socket", "", "FRR's run directory, holding bgpd.vty (default "+frrRunRoot+", or "+frrRunRoot+"/PATHSPACE)")
	stateFile := fl.String("state-file", "", "file remembering what frr-renderer owns in bgpd (default: frr-renderer.state in the --vty-socket directory)")
	verbosity := fl.Int("v", 0, "log verbosity: 0 changes and problems, 1 every render, 2 every signal")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	switch {
	case fl.NArg() > 0:
		fmt.Fprintf(stderr, "run: unexpected argument %q\n", fl.Arg(0))
		return 2
	case *node == "":
		fmt.Fprintln(stderr, "run: --node is required")
		return 2
	case len(watch) == 0:
		fmt.Fprintln(stderr, "run: --watch is required")
		return 2
	case slices.Contains(watch, "-") || *hostFacts == "-":
		fmt.Fprintln(stderr, "run: stdin cannot be followed: name files or folders")
		return 2
	case *pathspace != "" && (strings.ContainsRune(*pathspace, '/') || *pathspace == "." || *pathspace == ".."):
		fmt.Fprintf(stderr, "run: --pathspace %q is not a plain name\n", *pathspace)
		return 2
	}
	dialect, err := frrconfig.ParseDialect(*frrVersion)
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 2
	}

	log := newLogger(stderr, *verbosity)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := vtyRunDir(*vtyDir, *pathspace)
	app := vtysh.NewApplier(vtysh.ApplierOptions{RunDir: dir, StateFile: *stateFile, Log: log.WithName("applier")})
	defer app.Close()
	cfg := runConfig{
		watch:     watch,
		hostFacts: *hostFacts,
		opts:      translate.Options{Node: *node, SecretsNamespace: *secretsNS},
		dialect:   dialect,
		settle:    settleTime,
		maxSettle: maxSettle,
	}
	log.Info("starting", "node", *node, "watch", []string(watch), "hostFacts", cmp.Or(*hostFacts, "netlink"),
		"frrVersion", dialect.String(), "runDir", dir)
	if err := runLoop(ctx, cfg, app, log); err != nil {
		log.Error(err, "stopped")
		return 1
	}
	// FRR keeps the configuration it runs: stopping frr-renderer withdraws nothing.
	log.Info("stopped")
	return 0
}

// vtyRunDir is the directory of bgpd's vty socket: --vty-socket, else FRR's run directory of the
// pathspace.
func vtyRunDir(vtyDir, pathspace string) string {
	switch {
	case vtyDir != "":
		return vtyDir
	case pathspace != "":
		return filepath.Join(frrRunRoot, pathspace)
	}
	return frrRunRoot
}

// newLogger logs JSON lines to w; verbosity v enables logr's V(0) to V(v). A record of V(n),
// n > 0, has level "V<n>" (slog would say DEBUG+<4-n>).
func newLogger(w io.Writer, v int) logr.Logger {
	return logr.FromSlogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: slog.Level(-v),
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if l, ok := a.Value.Any().(slog.Level); ok && len(groups) == 0 && a.Key == slog.LevelKey && l < slog.LevelInfo && l > slog.LevelDebug {
				a.Value = slog.StringValue(fmt.Sprintf("V%d", -l))
			}
			return a
		},
	}))
}

// applier is what the loop needs of vtysh.Applier: Submit never blocks (the latest wins), Run
// applies until ctx ends.
type applier interface {
	Submit(desired []byte)
	Run(ctx context.Context) error
}

// runConfig is what runLoop needs besides its applier and logger.
type runConfig struct {
	watch     []string          // manifest files and folders
	hostFacts string            // facts file; "" reads (and follows) netlink
	opts      translate.Options // Node, SecretsNamespace
	dialect   frrconfig.Dialect
	// settle is how long the sources must be quiet before the loop reads them (0: at once);
	// maxSettle bounds the wait under changes that never pause.
	settle, maxSettle time.Duration
}

// runLoop follows the sources until ctx ends, submitting each new configuration to app, and
// runs app.Run meanwhile. It returns nil when ctx ends, an error when a source cannot be
// watched at the start or the applier stops by itself. It returns once its goroutines (the
// applier's and the watchers') are done.
func runLoop(ctx context.Context, cfg runConfig, app applier, log logr.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	man, err := source.WatchManifests(ctx, cfg.watch, source.Options{
		OnError: func(err error) { log.Error(err, "watching manifests") },
	})
	if err != nil {
		return err
	}
	var (
		hostChanges <-chan struct{}
		hostDone    <-chan struct{}
		readFacts   func() (model.HostFacts, error)
	)
	if cfg.hostFacts != "" {
		w, err := source.Watch(ctx, []string{cfg.hostFacts}, source.Options{
			OnError: func(err error) { log.Error(err, "watching host facts") },
		})
		if err != nil {
			cancel()
			<-man.Done()
			return err
		}
		hostChanges, hostDone = w.Changes(), w.Done()
		readFacts = func() (model.HostFacts, error) { return hostfacts.FromFile(cfg.hostFacts) }
	} else {
		w, err := hostfacts.Watch(ctx, hostfacts.WatchOptions{
			OnError: func(err error) { log.Error(err, "following host facts") },
		})
		if err != nil {
			cancel()
			<-man.Done()
			return err
		}
		hostChanges, hostDone = w.Changes(), w.Done()
		readFacts = hostfacts.FromNetlink
	}

	appDone := make(chan error, 1)
	go func() { appDone <- app.Run(ctx) }()
	var (
		appErr      error
		appReturned bool
	)
	// finish stops everything and waits for it. When ctx ended, only the applier's error is
	// one; otherwise cause says what ended the loop.
	finish := func(cause error) error {
		stopping := ctx.Err() != nil
		cancel()
		if !appReturned {
			appErr = <-appDone
		}
		<-man.Done()
		<-hostDone
		switch {
		case appErr != nil:
			return fmt.Errorf("applier: %w", appErr)
		case stopping:
			return nil
		}
		return cause
	}

	p := &pipeline{cfg: cfg, log: log, app: app, load: man.Load, readFacts: readFacts, diags: map[string]model.Diagnostic{}}
	// Both watchers hold a token from the start; taken before the first read, a change made
	// since is not lost: it leaves a new token.
	<-man.Changes()
	<-hostChanges
	p.refresh(true, true)

	var (
		manDirty, hostDirty bool
		armed               bool      // the settle timer runs
		first, last         time.Time // the first and the last signal since the last read
	)
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	signalled := func(what string) {
		log.V(2).Info("signal", "source", what)
		if cfg.settle <= 0 {
			p.refresh(manDirty, hostDirty)
			manDirty, hostDirty = false, false
			return
		}
		last = time.Now()
		if !armed {
			armed, first = true, last
			settle.Reset(cfg.settle)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return finish(nil)
		case appErr = <-appDone:
			appReturned = true
			return finish(errors.New("applier: stopped by itself"))
		case <-man.Done():
			return finish(errors.New("watching the manifests stopped"))
		case <-hostDone:
			return finish(errors.New("following the host facts stopped"))
		case <-man.Changes():
			manDirty = true
			signalled("manifests")
		case <-hostChanges:
			hostDirty = true
			signalled("host facts")
		case <-settle.C:
			now := time.Now()
			if wait := min(cfg.settle-now.Sub(last), cfg.maxSettle-now.Sub(first)); wait > 0 {
				settle.Reset(wait)
				continue
			}
			armed = false
			p.refresh(manDirty, hostDirty)
			manDirty, hostDirty = false, false
		}
	}
}

// pipeline is the loop's state; only the loop's goroutine touches it.
type pipeline struct {
	cfg       runConfig
	log       logr.Logger
	app       applier
	load      func() (*model.Snapshot, []model.Diagnostic, error)
	readFacts func() (model.HostFacts, error)

	snap      *model.Snapshot // the last manifests that loaded; nil before
	loadDiags []model.Diagnostic
	facts     model.HostFacts
	haveFacts bool

	// The problems reported, so that each is logged when it appears and when it goes away,
	// not on every read.
	loadErr, factsErr, renderErr string
	diags                        map[string]model.Diagnostic // by text
	failed                       []string                    // failed instances

	submitted []byte   // the last configuration submitted
	instances []string // its BGP instances
}

// refresh reads the sources that changed and submits the configuration they make, if new.
func (p *pipeline) refresh(manifests, host bool) {
	changed := false
	if manifests {
		snap, diags, err := p.load()
		if err != nil {
			p.problem(&p.loadErr, err, "cannot read the manifests; keeping the last configuration")
		} else {
			p.solved(&p.loadErr, "manifests read again")
			p.snap, p.loadDiags, changed = snap, diags, true
		}
	}
	if host {
		facts, err := p.readFacts()
		switch {
		case err != nil:
			p.problem(&p.factsErr, err, "cannot read the host facts; keeping the last ones")
		case !p.haveFacts || !reflect.DeepEqual(facts, p.facts):
			p.solved(&p.factsErr, "host facts read again")
			p.facts, p.haveFacts, changed = facts, true, true
		default:
			p.solved(&p.factsErr, "host facts read again")
		}
	}
	if changed && p.snap != nil && p.haveFacts {
		p.render()
	}
}

func (p *pipeline) render() {
	res, err := translate.Translate(p.snap, p.facts, p.cfg.opts)
	if err != nil {
		p.problem(&p.renderErr, err, "cannot translate; keeping the last configuration")
		return
	}
	text, rdiags, err := frrconfig.Render(res.Config, p.cfg.dialect)
	p.diagnose(slices.Concat(p.loadDiags, res.Diagnostics, rdiags))
	if err != nil {
		p.problem(&p.renderErr, err, "cannot render; keeping the last configuration")
		return
	}
	p.solved(&p.renderErr, "renders again")
	instances := make([]string, 0, len(res.Config.Instances))
	for _, in := range res.Config.Instances {
		instances = append(instances, in.Name)
	}
	p.log.V(1).Info("rendered", "bytes", len(text), "instances", instances)

	// An instance that fails (an error in its input) keeps what it ran, as Cilium keeps a
	// speaker whose reconciliation fails: leaving it out of the submitted configuration would
	// withdraw its routes. Limitation: the whole configuration is held, changes to the other
	// instances too, until the failure is mended (or the instance is removed from the input).
	failed := slices.Clone(res.FailedInstances)
	sort.Strings(failed)
	held := slices.DeleteFunc(slices.Clone(failed), func(name string) bool { return !slices.Contains(p.instances, name) })
	if !slices.Equal(failed, p.failed) {
		switch {
		case len(held) > 0:
			p.log.Error(nil, "BGP instances failed; keeping the last configuration of every instance until they are mended",
				"failed", failed, "held", held)
		case len(failed) > 0:
			p.log.Error(nil, "BGP instances failed and are not configured", "failed", failed)
		default:
			p.log.Info("no BGP instance fails any longer", "failedBefore", p.failed)
		}
		p.failed = failed
	}
	if len(held) > 0 {
		p.log.V(1).Info("held", "instances", held)
		return
	}

	if p.submitted != nil && bytes.Equal(text, p.submitted) {
		p.log.V(1).Info("unchanged")
		return
	}
	p.app.Submit(text) // never modified afterwards: the applier keeps it
	p.submitted, p.instances = text, instances
	// Never the text: it holds BGP passwords.
	p.log.Info("submitted", "bytes", len(text), "instances", instances)
}

// diagnose logs the diagnostics that appeared since the last call and those that went away.
func (p *pipeline) diagnose(diags []model.Diagnostic) {
	now := make(map[string]model.Diagnostic, len(diags))
	for _, d := range diags {
		now[d.String()] = d
	}
	for _, k := range sortedKeys(now) {
		if _, ok := p.diags[k]; ok {
			continue
		}
		d := now[k]
		kv := []any{"severity", d.Severity.String(), "object", d.Object.String(), "field", d.Field, "message", d.Message}
		if d.Severity == model.Error {
			p.log.Error(nil, "diagnostic", kv...)
		} else {
			p.log.Info("diagnostic", kv...)
		}
	}
	for _, k := range sortedKeys(p.diags) {
		if _, ok := now[k]; !ok {
			d := p.diags[k]
			p.log.Info("diagnostic resolved", "severity", d.Severity.String(), "object", d.Object.String(), "field", d.Field, "message", d.Message)
		}
	}
	p.diags = now
}

func sortedKeys(m map[string]model.Diagnostic) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// problem logs err once while it stays the same; last holds the text logged.
func (p *pipeline) problem(last *string, err error, msg string) {
	if s := err.Error(); s != *last {
		p.log.Error(err, msg)
		*last = s
	} else {
		p.log.V(1).Info(msg, "error", s)
	}
}

// solved logs msg if a problem was reported, and forgets it.
func (p *pipeline) solved(last *string, msg string) {
	if *last != "" {
		p.log.Info(msg, "after", *last)
		*last = ""
	}
}
