package filewatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/manifest"
)

// BenchmarkManifestsLoad reads N Services in 10 files: the first load of a watcher (every file)
// and a load after one file changed, beside manifest.Load reading them all (what `render` and a
// watcher without state do). A definition looked up by a scan of its file made the first load
// quadratic: 41 s at 100,000 where manifest.Load took 4.
func BenchmarkManifestsLoad(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		dir := b.TempDir()
		const files = 10
		for f := range files {
			writeServices(b, filepath.Join(dir, fmt.Sprintf("svc-%02d.yaml", f)), f*n/files, (f+1)*n/files, 0)
		}
		b.Run(fmt.Sprintf("services=%d/manifest.Load", n), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := manifest.Load([]string{dir}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("services=%d/first", n), func(b *testing.B) {
			for b.Loop() {
				m := watchForBench(b, dir)
				if _, _, _, err := m.LoadChanges(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("services=%d/one-file-changed", n), func(b *testing.B) {
			m := watchForBench(b, dir)
			if _, _, _, err := m.LoadChanges(); err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(dir, "svc-00.yaml")
			gen := 0
			for b.Loop() {
				b.StopTimer()
				gen++
				writeServices(b, path, 0, n/files, gen) // one Service's IP differs
				m.changed(false, path)
				b.StartTimer()
				if _, _, _, err := m.LoadChanges(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// watchForBench watches dir until the benchmark ends.
func watchForBench(b *testing.B, dir string) *Manifests {
	ctx, cancel := context.WithCancel(context.Background())
	m, err := WatchManifests(ctx, []string{dir}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); <-m.Done() })
	return m
}

// writeServices writes Services from..to-1 to path; gen changes the first one's LoadBalancer IP.
func writeServices(tb testing.TB, path string, from, to, gen int) {
	tb.Helper()
	var sb strings.Builder
	for i := from; i < to; i++ {
		ip := fmt.Sprintf("172.24.%d.%d", i/250%256, i%250+1)
		if i == from && gen > 0 {
			ip = fmt.Sprintf("172.28.%d.%d", gen/250%256, gen%250+1)
		}
		fmt.Fprintf(&sb, `---
apiVersion: v1
kind: Service
metadata: {name: scale-%06d, namespace: default, labels: {app: http-test}}
spec:
  type: LoadBalancer
  ports: [{port: 80, protocol: TCP}]
status: {loadBalancer: {ingress: [{ip: %s}]}}
`, i, ip)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}
