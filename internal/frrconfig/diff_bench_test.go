package frrconfig

import (
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
)

// BenchmarkParseDelta: parse a 10,000-prefix running config and its desired successor (one
// prefix more), and compute the delta.
func BenchmarkParseDelta(b *testing.B) {
	running := frrconfigtest.SeedWithPrefixes(10000, "")
	desired := frrconfigtest.SeedWithPrefixes(10000, "  network 10.200.0.0/24 route-map CILIUM-ORIGIN-2722987788\n")
	b.SetBytes(int64(len(running) + len(desired)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := Parse(running)
		if err != nil {
			b.Fatal(err)
		}
		d, err := Parse(desired)
		if err != nil {
			b.Fatal(err)
		}
		if len(Delta(r, d, Ownership{})) != 5 {
			b.Fatal("unexpected delta")
		}
	}
}

// BenchmarkDeltaUnchanged: the steady state, nothing to do.
func BenchmarkDeltaUnchanged(b *testing.B) {
	text := frrconfigtest.SeedWithPrefixes(10000, "")
	r, d := mustParse(b, text), mustParse(b, strings.Clone(text))
	b.ReportAllocs()
	for b.Loop() {
		if len(Delta(r, d, Ownership{})) != 0 {
			b.Fatal("unexpected delta")
		}
	}
}
