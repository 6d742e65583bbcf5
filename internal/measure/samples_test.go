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
