package measure

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Stages are the stages of one change through frr-renderer, in the order it passes them:
//
//	signal     from the change (a rename, an API write) until the loop starts reading it: the
//	           watch's event and the settle time
//	decode     reading what changed (the "stages" record's read)
//	translate  the snapshot translated into the node's model
//	render     the model rendered into FRR's configuration
//	queued     the configuration waiting for the applier
//	delta      the delta to what bgpd runs
//	send       the delta sent over the vty socket, until bgpd acknowledged it (the node's own
//	           table has the change by then: a network line takes effect as bgpd reads it)
//	bgpd       from then until the ToR shows the change: bgpd's hold of route changes (50 ms),
//	           the update and the ToR's own processing (an FRR ToR holds withdrawals 50 ms more)
var Stages = []string{"signal", "decode", "translate", "render", "queued", "delta", "send", "bgpd"}

// Breakdown is the times of many changes, stage by stage.
type Breakdown map[string]*Samples

// Add records d for stage.
func (b Breakdown) Add(stage string, d time.Duration) {
	if b[stage] == nil {
		b[stage] = &Samples{}
	}
	b[stage].Add(d)
}

// Pct is stage's percentile p in milliseconds (NaN without samples).
func (b Breakdown) Pct(stage string, p float64) float64 {
	if b[stage] == nil {
		return Samples(nil).Pct(p)
	}
	return b[stage].Pct(p)
}

// String is every stage's p50 and max in the order of Stages.
func (b Breakdown) String() string {
	var parts []string
	n := 0
	for _, st := range Stages {
		if s := b[st]; s != nil {
			parts = append(parts, fmt.Sprintf("%s %.2f (max %.2f)", st, s.Pct(50), s.Pct(100)))
			n = max(n, len(*s))
		}
	}
	return fmt.Sprintf("p50 ms of %d changes: %s", n, strings.Join(parts, ", "))
}

// ParseMS reads a duration as frr-renderer logs it ("1.25ms").
func ParseMS(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "ms"), 64)
	if err != nil || !strings.HasSuffix(s, "ms") {
		return 0, fmt.Errorf("not a duration in ms: %q", s)
	}
	return time.Duration(f * float64(time.Millisecond)), nil
}

// Change is what frr-renderer logged of one change at -v 2: its "stages" record and the
// "applied" record after it.
type Change struct {
	Read, Translate, Render string    // the "stages" record's, as logged ("1.25ms")
	Logged                  time.Time // the "stages" record's time: after render
	Queued, Delta, Send     string    // the "applied" record's
	Applied                 time.Time // the "applied" record's time: after send
}

// AddChange records c's stages, made at start and shown by the ToR at shown.
func (b Breakdown) AddChange(c Change, start, shown time.Time) error {
	d := map[string]time.Duration{}
	for _, f := range []struct {
		stage, v string
	}{{"decode", c.Read}, {"translate", c.Translate}, {"render", c.Render}, {"queued", c.Queued}, {"delta", c.Delta}, {"send", c.Send}} {
		v, err := ParseMS(f.v)
		if err != nil {
			return fmt.Errorf("%s: %w", f.stage, err)
		}
		d[f.stage] = v
	}
	d["signal"] = c.Logged.Sub(start) - d["decode"] - d["translate"] - d["render"]
	d["bgpd"] = shown.Sub(c.Applied)
	for st, v := range d {
		b.Add(st, v)
	}
	return nil
}
