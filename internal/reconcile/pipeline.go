package reconcile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/incremental"
	"github.com/frr-renderer/frr-renderer/internal/model"
)

// pipeline is the loop's state; only the loop's goroutine touches it.
type pipeline struct {
	cfg     Config
	log     logr.Logger
	app     Applier
	desired DesiredSource
	host    factsSource

	snap      *model.Snapshot // the last desired state that loaded; nil before
	loadDiags []model.Diagnostic
	facts     model.HostFacts
	haveFacts bool
	// pending is what changed in the desired state since the last translation; translator
	// translates again only what depends on it.
	pending    model.Changes
	translator *incremental.Translator
	renderer   *frrconfig.Renderer
	renders    int  // renders so far
	held       bool // the last render held the last configuration (Held)

	// The problems reported, so that each is logged when it appears and when it goes away,
	// not on every read.
	loadErr, factsErr, renderErr string
	diags                        map[string]model.Diagnostic // by text
	failed                       []string                    // failed instances

	submitted   []byte            // the last configuration submitted
	submittedAt time.Time         // when it was handed to the applier
	model       *model.NodeConfig // the model it was rendered from
	instances   []string          // its BGP instances
	appeared    []model.Diagnostic

	listenPort int // the port written to cfg.ListenPortFile; -1 before the first write
}

// Outcomes of a refresh, as Report says them.
const (
	Submitted = "submitted" // a new configuration went to the applier
	Unchanged = "unchanged" // the configuration is the one submitted last
	Held      = "held"      // a failed instance holds the last configuration
	Failed    = "error"     // a source could not be read or the result not rendered
)

// Report is what one refresh found, for status, events and metrics. It never holds a secret in
// clear: Config's passwords are model.Password values.
type Report struct {
	Outcome string
	// Config is the model of the configuration submitted last; nil before the first.
	Config *model.NodeConfig
	// Snapshot is the desired state read last; nil before the first read. Read only.
	Snapshot *model.Snapshot
	// Problems are what keeps the node from running the desired configuration, one line each:
	// an unreadable source, a configuration that cannot be rendered, failed instances, and the
	// diagnostics of severity Error.
	Problems []string
	// Failed names the BGP instances left out for errors in their input, sorted.
	Failed []string
	// Diagnostics are all current diagnostics; Appeared those new since the last Report.
	Diagnostics, Appeared []model.Diagnostic
	// SubmittedAt is when the configuration was handed to the applier, if Outcome is Submitted.
	SubmittedAt time.Time
}

func newPipeline(cfg Config, log logr.Logger, app Applier, desired DesiredSource, host factsSource) *pipeline {
	return &pipeline{cfg: cfg, log: log, app: app, desired: desired, host: host, diags: map[string]model.Diagnostic{}, listenPort: -1,
		translator: incremental.New(cfg.Options), renderer: frrconfig.NewRenderer(cfg.Dialect)}
}

// stages times one refresh, for the -v 2 log line that shows where a change's time goes.
type stages struct {
	since                   time.Time // the change's first signal
	quick                   bool      // read after QuickSettle
	read, translate, render time.Duration
	translated              incremental.Stats
}

// refresh reads the sources that changed and submits the configuration they make, if new.
// since is when the first of the changes it reads was signalled; quick says that the loop read
// them after QuickSettle.
func (p *pipeline) refresh(desired, host bool, since time.Time, quick bool) {
	changed := false
	st := stages{since: since, quick: quick}
	if desired {
		start := time.Now()
		snap, changes, diags, err := p.load()
		st.read = time.Since(start)
		if err != nil {
			p.problem(&p.loadErr, err, "cannot read the desired state; keeping the last configuration")
		} else {
			p.solved(&p.loadErr, "desired state read again")
			p.pending.Add(changes)
			if !changes.Empty() || !slices.Equal(diags, p.loadDiags) || p.snap == nil {
				changed = true
			}
			p.snap, p.loadDiags = snap, diags
		}
	}
	if host {
		facts, err := p.host.Read()
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
	outcome := Unchanged
	switch {
	case changed && p.snap != nil && p.haveFacts:
		outcome = p.render(&st)
		p.logStages(st, outcome)
		p.held = outcome == Held
	case p.held:
		// Nothing changed since the render that held the last configuration: it still does.
		outcome = Held
		p.log.V(1).Info("held", "instances", p.failed)
	case p.snap != nil && p.haveFacts:
		p.log.V(1).Info("unchanged", "read", "nothing changed")
	}
	if p.loadErr != "" || p.factsErr != "" {
		outcome = Failed
	}
	p.writeListenPort()
	if p.cfg.Report != nil {
		p.cfg.Report(p.report(outcome))
	}
}

// report builds the Report of the state the pipeline is in.
func (p *pipeline) report(outcome string) Report {
	r := Report{Outcome: outcome, Config: p.model, Snapshot: p.snap, Appeared: p.appeared, Failed: slices.Clone(p.failed)}
	if outcome == Submitted {
		r.SubmittedAt = p.submittedAt
	}
	p.appeared = nil
	// A problem is one line of the status condition: an error that quotes a file or value with
	// a line break is kept on its line.
	for _, e := range []string{p.loadErr, p.factsErr, p.renderErr} {
		if e != "" {
			r.Problems = append(r.Problems, model.OneLine(e))
		}
	}
	if len(p.failed) > 0 {
		quoted := make([]string, len(p.failed))
		for i, name := range p.failed {
			quoted[i] = strconv.Quote(name)
		}
		r.Problems = append(r.Problems, "BGP instances failed: "+strings.Join(quoted, ", "))
	}
	for _, k := range sortedKeys(p.diags) {
		d := p.diags[k]
		r.Diagnostics = append(r.Diagnostics, d)
		if d.Severity == model.Error {
			r.Problems = append(r.Problems, k)
		}
	}
	return r
}

// load reads the desired state, and what changed in it when the source says.
func (p *pipeline) load() (*model.Snapshot, model.Changes, []model.Diagnostic, error) {
	if cs, ok := p.desired.(changesSource); ok {
		return cs.LoadChanges()
	}
	snap, diags, err := p.desired.Load()
	return snap, model.AllChanged, diags, err
}

// logStages logs at -v 2 where a refresh's time went: "initial" for the first render, "change"
// after. The applier's "applied" line has the rest (queued, delta, send).
func (p *pipeline) logStages(st stages, outcome string) {
	kind := "change"
	if p.renders++; p.renders == 1 {
		kind = "initial"
	}
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms" }
	how := fmt.Sprintf("%d of %d shards", st.translated.Shards, st.translated.Of)
	if st.translated.Whole {
		how = "whole: " + st.translated.Why
	}
	settle := "settled"
	if st.quick {
		settle = "whole, read at once"
	}
	// The stages once more, each in its own field, for the benchmarks that add them up.
	p.log.V(2).Info("stages", "kind", kind, "outcome", outcome, "settle", settle,
		"read", ms(st.read), "translate", ms(st.translate), "render", ms(st.render),
		"stages", fmt.Sprintf("read %s, translate %s (%s), render %s; %s since the change", ms(st.read), ms(st.translate), how, ms(st.render), ms(time.Since(st.since))))
}

func (p *pipeline) render(st *stages) string {
	start := time.Now()
	res, tst, err := p.translator.Translate(p.snap, p.facts, p.pending)
	st.translate, st.translated = time.Since(start), tst
	p.pending = model.Changes{}
	if err != nil {
		p.problem(&p.renderErr, err, "cannot translate; keeping the last configuration")
		return Failed
	}
	start = time.Now()
	text, rdiags, err := p.renderer.Render(res.Config)
	st.render = time.Since(start)
	p.diagnose(slices.Concat(p.loadDiags, res.Diagnostics, rdiags))
	if err != nil {
		p.problem(&p.renderErr, err, "cannot render; keeping the last configuration")
		return Failed
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
		return Held
	}

	if p.submitted != nil && bytes.Equal(text, p.submitted) {
		p.log.V(1).Info("unchanged")
		return Unchanged
	}
	// Taken before Submit: the applier may start on it, and report it applied, before Submit
	// returns.
	p.submittedAt = time.Now()
	p.app.Submit(text) // never modified afterwards: the applier keeps it
	p.submitted, p.model, p.instances = text, &res.Config, instances
	// Never the text: it holds BGP passwords.
	p.log.Info("submitted", "bytes", len(text), "instances", instances)
	return Submitted
}

// writeListenPort writes the listening port of the configuration submitted last to
// cfg.ListenPortFile when it differs from the one written (atomically: the reader polls it).
// A failed write is logged and tried again at the next refresh.
func (p *pipeline) writeListenPort() {
	if p.cfg.ListenPortFile == "" || p.model == nil {
		return
	}
	port := int(p.model.ListenPort())
	if port == p.listenPort {
		return
	}
	if err := writeFileAtomic(p.cfg.ListenPortFile, []byte(strconv.Itoa(port)+"\n")); err != nil {
		p.log.Error(err, "cannot write bgpd's listening port", "file", p.cfg.ListenPortFile, "port", port)
		return
	}
	p.log.Info("bgpd's listening port written", "file", p.cfg.ListenPortFile, "port", port, "before", p.listenPort)
	p.listenPort = port
}

// writeFileAtomic replaces path with data through a temporary file and a rename, so that a
// reader never sees a partial file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
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
		if p.cfg.Report != nil {
			p.appeared = append(p.appeared, d)
		}
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
