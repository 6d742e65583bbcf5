package vtysh

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// benchPrefixes is the size of the node the applier benchmarks use: 10,000 advertised /32s,
// each a `network` line with the seed's origin route-map, as frrconfig renders them.
const benchPrefixes = 10000

// benchChange is the one prefix that BenchmarkApply1PrefixChange adds and removes.
const benchChange = "  network 10.200.0.0/24 route-map CILIUM-ORIGIN-2722987788\n"

// BenchmarkApply1PrefixChange: one prefix added to or removed from a node with 10,000, by
// socket: Applier.Apply, the hot path (the delta from the last apply, nothing read back);
// socket-readback: Applier.Apply reading bgpd back first (a retry, a drift check); vtysh-c: the
// same delta in one `vtysh -c ... -c ...` call; frr-reload: frr-reload.py --reload of the file.
//
//	go test -run '^$' -bench BenchmarkApply1PrefixChange -benchtime 20x ./internal/vtysh/
func BenchmarkApply1PrefixChange(b *testing.B) {
	configs := [2]string{frrconfigtest.SeedWithPrefixes(benchPrefixes, ""), frrconfigtest.SeedWithPrefixes(benchPrefixes, benchChange)}
	parsed := [2]*frrconfig.Config{mustParse(b, configs[0]), mustParse(b, configs[1])}
	// deltas[i] turns configs[1-i] into configs[i].
	deltas := [2][]string{frrconfig.Delta(parsed[1], parsed[0], frrconfig.Ownership{}), frrconfig.Delta(parsed[0], parsed[1], frrconfig.Ownership{})}
	for _, v := range frrtest.Supported() {
		b.Run(string(v), func(b *testing.B) {
			r := frrtest.Start(b, v, "bench")
			a := NewApplier(ApplierOptions{RunDir: r.RunDir()})
			b.Cleanup(func() { a.Close() })
			ctx := context.Background()
			if _, err := a.Apply(ctx, []byte(configs[0])); err != nil {
				b.Fatal(err)
			}
			i := 0 // FRR runs configs[i%2] before each operation
			next := func() int { i++; return i % 2 }
			b.Run("socket", func(b *testing.B) {
				for b.Loop() {
					if res, err := a.Apply(ctx, []byte(configs[next()])); err != nil || len(res.Lines) != 5 || res.ReadBack {
						b.Fatalf("%v: %+v", err, res)
					}
				}
			})
			b.Run("socket-readback", func(b *testing.B) {
				for b.Loop() {
					a.mu.Lock()
					a.running = nil
					a.mu.Unlock()
					if res, err := a.Apply(ctx, []byte(configs[next()])); err != nil || len(res.Lines) != 5 || !res.ReadBack {
						b.Fatalf("%v: %+v", err, res)
					}
				}
			})
			b.Run("vtysh-c", func(b *testing.B) {
				for b.Loop() {
					args := []string{"-c", "configure terminal"}
					for _, l := range deltas[next()] {
						args = append(args, "-c", l)
					}
					if out, err := r.Vtysh(args...); err != nil {
						b.Fatalf("%v: %s", err, out)
					}
				}
			})
			reload := frrReload(b, r)
			if reload == nil {
				return
			}
			b.Run("frr-reload", func(b *testing.B) {
				for b.Loop() {
					if out, err := reload(configs[next()]).CombinedOutput(); err != nil {
						b.Fatalf("frr-reload.py: %v\n%s", err, out)
					}
				}
			})
			// Whatever ran last, the Applier must still see what FRR runs.
			if _, err := a.Apply(ctx, []byte(configs[0])); err != nil {
				b.Fatal(err)
			}
			if err := a.Verify(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// frrReload returns a function that makes the command running frr-reload.py --reload on a
// configuration for r, or nil (and logs why) when the FRR of r has no frr-reload.py.
func frrReload(b *testing.B, r *frrtest.Router) func(config string) *exec.Cmd {
	root := frrRoot(r.Version)
	if _, err := os.Stat(filepath.Join(root, "usr/lib/frr/frr-reload.py")); err != nil {
		b.Logf("no frr-reload.py for FRR %s: %v", r.Version, err)
		return nil
	}
	return func(config string) *exec.Cmd {
		// The file must be where frr-reload.py (chrooted for 10.3) sees it: the run directory.
		name := "bench-reload.conf"
		if err := os.WriteFile(filepath.Join(r.RunDir(), name), []byte(config), 0o644); err != nil {
			b.Fatal(err)
		}
		args := []string{"/usr/lib/frr/frr-reload.py", "--reload", "--stdout", "-N", r.Netns, filepath.Join("/var/run/frr", r.Netns, name)}
		if root != "/" {
			return exec.Command("chroot", append([]string{root}, args...)...)
		}
		return exec.Command(args[0], args[1:]...)
	}
}

// BenchmarkApplyInitial: 10,000 prefixes into an empty bgpd, by Applier.Apply (socket), by
// what Apply would do batching (socket-batch), and by `vtysh -f` (Router.Load). Between
// operations (untimed) everything is deleted again. Batching gains nothing here (0.36 s vs
// 0.35 s on 8.4, 0.46 vs 0.43 on 10.3): the Applier does not use it. `vtysh -f` takes 0.76 and
// 1.06 s.
//
//	go test -run '^$' -bench BenchmarkApplyInitial -benchtime 3x ./internal/vtysh/
func BenchmarkApplyInitial(b *testing.B) {
	config := frrconfigtest.SeedWithPrefixes(benchPrefixes, "")
	deleteAll := frrconfig.Delta(mustParse(b, config), mustParse(b, ""), mustParse(b, config).Rendered())
	for _, v := range frrtest.Supported() {
		b.Run(string(v), func(b *testing.B) {
			r := frrtest.Start(b, v, "bench")
			ctx := context.Background()
			c := dial(b, r, "bgpd")
			clear := func(b *testing.B) {
				b.StopTimer()
				defer b.StartTimer()
				if err := c.Configure(ctx, deleteAll); err != nil {
					b.Fatal(err)
				}
				frrtest.WaitFor(b, 30*time.Second, func() error {
					out, err := c.Exec(ctx, "show running-config")
					if err == nil && strings.Contains(out, "router bgp") {
						err = fmt.Errorf("bgpd still has an instance:\n%.300s", out)
					}
					return err
				})
				// `no router bgp` finishes its work (10,000 routes) in the background.
				time.Sleep(time.Second)
			}
			for _, m := range []string{"socket", "socket-batch", "vtysh-f"} {
				b.Run(m, func(b *testing.B) {
					for b.Loop() {
						var err error
						switch m {
						case "socket":
							a := NewApplier(ApplierOptions{RunDir: r.RunDir(), StateFile: filepath.Join(b.TempDir(), "state")})
							var res ApplyResult
							res, err = a.Apply(ctx, []byte(config))
							a.Close()
							if err == nil && !res.ReadBack {
								err = fmt.Errorf("no read-back: %+v", res)
							}
						case "socket-batch":
							// What Apply would do batching: read back, delta, send.
							var text string
							var running *frrconfig.Config
							if text, err = c.Exec(ctx, "show running-config"); err == nil {
								if running, err = frrconfig.Parse(text); err == nil {
									_, err = c.configure(ctx, frrconfig.Delta(running, mustParse(b, config), frrconfig.Ownership{}), true)
								}
							}
						case "vtysh-f":
							err = r.Load(config)
						}
						if err != nil {
							b.Fatal(err)
						}
						clear(b)
					}
				})
			}
		})
	}
}

// BenchmarkReadBack: `show running-config` on bgpd's socket and frrconfig.Parse, at 10,000
// prefixes.
func BenchmarkReadBack(b *testing.B) {
	config := frrconfigtest.SeedWithPrefixes(benchPrefixes, "")
	for _, v := range frrtest.Supported() {
		b.Run(string(v), func(b *testing.B) {
			r := frrtest.Start(b, v, "bench")
			c := dial(b, r, "bgpd")
			ctx := context.Background()
			if err := c.Configure(ctx, configLines(config)); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				text, err := c.Exec(ctx, "show running-config")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := frrconfig.Parse(text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
