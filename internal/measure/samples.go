// Package measure holds what the benchmarks that time a whole path (an edit until the route at
// the ToR) report: durations and their nearest-rank percentiles. It never asserts a time: the
// numbers are for the notes.
package measure

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Samples are durations of one kind, in milliseconds.
type Samples []float64

// Add records d.
func (s *Samples) Add(d time.Duration) { *s = append(*s, float64(d)/float64(time.Millisecond)) }

// Pct is the nearest-rank percentile p (0-100) in milliseconds; NaN without samples.
func (s Samples) Pct(p float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := slices.Clone(s)
	slices.Sort(c)
	i := int(math.Ceil(p/100*float64(len(c)))) - 1
	return c[min(max(i, 0), len(c)-1)]
}

// Summary is p50, p90, p99 and max in one line.
func (s Samples) Summary() string {
	return fmt.Sprintf("p50 %6.1f  p90 %6.1f  p99 %6.1f  max %6.1f ms (n=%d)", s.Pct(50), s.Pct(90), s.Pct(99), s.Pct(100), len(s))
}
