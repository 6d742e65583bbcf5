package measure

import (
	"math"
	"testing"
	"time"
)

func TestPct(t *testing.T) {
	var s Samples
	if !math.IsNaN(s.Pct(50)) {
		t.Error("no samples: want NaN")
	}
	for _, ms := range []int{5, 1, 4, 2, 3, 10, 9, 8, 7, 6} {
		s.Add(time.Duration(ms) * time.Millisecond)
	}
	for _, tt := range []struct{ p, want float64 }{{0, 1}, {10, 1}, {50, 5}, {51, 6}, {90, 9}, {99, 10}, {100, 10}} {
		if got := s.Pct(tt.p); got != tt.want {
			t.Errorf("Pct(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if s[0] != 5 {
		t.Error("Pct sorted the samples in place")
	}
}

func TestBreakdown(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := Breakdown{}
	c := Change{Read: "1.00ms", Translate: "2.00ms", Render: "0.50ms", Logged: start.Add(10 * time.Millisecond),
		Queued: "0.10ms", Delta: "0.20ms", Send: "0.30ms", Applied: start.Add(11 * time.Millisecond)}
	if err := b.AddChange(c, start, start.Add(40*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for stage, want := range map[string]float64{"signal": 6.5, "decode": 1, "translate": 2, "render": 0.5, "queued": 0.1, "delta": 0.2, "send": 0.3, "bgpd": 29} {
		if got := b.Pct(stage, 50); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v ms, want %v", stage, got, want)
		}
	}
	c.Send = "0.3"
	if err := b.AddChange(c, start, start); err == nil {
		t.Error("a send without its unit: want an error")
	}
}
