package reconcile

import (
	"bytes"
	"reflect"
	"slices"
	"sort"

	"github.com/go-logr/logr"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// pipeline is the loop's state; only the loop's goroutine touches it.
type pipeline struct {
	cfg     Config
	log     logr.Logger
	app     Applier
	desired desiredSource
	host    factsSource

	snap      *model.Snapshot // the last desired state that loaded; nil before
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

func newPipeline(cfg Config, log logr.Logger, app Applier, desired desiredSource, host factsSource) *pipeline {
	return &pipeline{cfg: cfg, log: log, app: app, desired: desired, host: host, diags: map[string]model.Diagnostic{}}
}

// refresh reads the sources that changed and submits the configuration they make, if new.
func (p *pipeline) refresh(desired, host bool) {
	changed := false
	if desired {
		snap, diags, err := p.desired.Load()
		if err != nil {
			p.problem(&p.loadErr, err, "cannot read the manifests; keeping the last configuration")
		} else {
			p.solved(&p.loadErr, "manifests read again")
			p.snap, p.loadDiags, changed = snap, diags, true
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
	if changed && p.snap != nil && p.haveFacts {
		p.render()
	}
}

func (p *pipeline) render() {
	res, err := translate.Translate(p.snap, p.facts, p.cfg.Options)
	if err != nil {
		p.problem(&p.renderErr, err, "cannot translate; keeping the last configuration")
		return
	}
	text, rdiags, err := frrconfig.Render(res.Config, p.cfg.Dialect)
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
