package frrconfig

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/model"
)

// TestRendererMatchesRender renders a node through random changes of its prefixes with one
// Renderer, and compares every result with Render's from scratch: the lines the Renderer takes
// from its last rendering must be exactly those Render would write.
func TestRendererMatchesRender(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			inst := instance()
			inst.PeerGroups[0].Families = []model.Family{model.IPv4Unicast, model.IPv6Unicast}
			inst.Policies = append(inst.Policies, model.ExportPolicy{ID: 8, Family: model.IPv4Unicast, Exports: []model.Export{{PeerGroup: "tor"}}},
				model.ExportPolicy{ID: 9, Family: model.IPv6Unicast, Exports: []model.Export{{PeerGroup: "tor"}}})
			second := instance()
			second.Name, second.LocalASN = "blue", 65002
			// Prefixes from a small space, so that steps hit existing ones.
			randomPrefix := func() model.AdvertisedPrefix {
				p := model.AdvertisedPrefix{Policy: []uint32{7, 8}[rng.IntN(2)], OriginIncomplete: rng.IntN(4) == 0}
				if rng.IntN(3) == 0 {
					p.Prefix = netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(rng.IntN(40))}), 128)
					p.Policy = 9
				} else {
					p.Prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(rng.IntN(80))}), 32-rng.IntN(2)*8)
				}
				return p
			}
			sortPrefixes := func(ps []model.AdvertisedPrefix) []model.AdvertisedPrefix {
				slices.SortFunc(ps, func(a, b model.AdvertisedPrefix) int { return prefixOrder(a.Prefix, b.Prefix) })
				return slices.CompactFunc(ps, func(a, b model.AdvertisedPrefix) bool { return a.Prefix == b.Prefix })
			}
			inst.Prefixes = nil
			for range 30 {
				inst.Prefixes = append(inst.Prefixes, randomPrefix())
			}
			inst.Prefixes = sortPrefixes(inst.Prefixes)
			r := NewRenderer(FRR10)
			for step := range 60 {
				what := ""
				ps := slices.Clone(inst.Prefixes)
				switch k := rng.IntN(8); {
				case k < 3 || len(ps) == 0:
					what = "add"
					ps = sortPrefixes(append(ps, randomPrefix()))
				case k < 5:
					what = "remove"
					i := rng.IntN(len(ps) + 1)
					ps = slices.Delete(ps, min(i, len(ps)), min(i+1+rng.IntN(3), len(ps)))
				case k == 5:
					what = "route-map"
					i := rng.IntN(len(ps))
					ps[i].OriginIncomplete = !ps[i].OriginIncomplete
				case k == 6:
					what = "unsorted"
					rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
				default:
					what = "none"
				}
				inst.Prefixes = ps
				cfg := model.NodeConfig{Node: "n1", Instances: []model.Instance{inst, second}}
				if rng.IntN(10) == 0 {
					what += ", one instance"
					cfg.Instances = cfg.Instances[:1]
				}
				want, _, err := Render(cfg, FRR10)
				if err != nil {
					t.Fatal(err)
				}
				got, _, err := r.Render(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Fatalf("step %d (%s): the Renderer differs from Render (-Render +Renderer):\n%s", step, what, frrtest.LineDiff(string(want), string(got)))
				}
				if what == "unsorted" {
					inst.Prefixes = sortPrefixes(ps)
				}
			}
		})
	}
}

// TestPrintable compares the word-at-a-time check with a byte-at-a-time one on every byte value
// at every position of a 17-byte line (two words and a tail).
func TestPrintable(t *testing.T) {
	for pos := range 17 {
		for c := range 256 {
			line := []byte("network 192.0.2.1")
			line[pos] = byte(c)
			want := c >= ' ' && c <= '~'
			if got := printable(line); got != want {
				t.Fatalf("printable(%q) = %v, want %v", line, got, want)
			}
		}
	}
}

// TestVerifySkipsOnlyCopiedLines: verify checks every line outside the copied runs, and names
// the line of the whole text that fails.
func TestVerifySkipsOnlyCopiedLines(t *testing.T) {
	text := []byte("router bgp 65001\n address-family ipv4 unicast\n  network 192.0.2.1/32 route-map M\n  bogus copied\n  network 192.0.2.3/32 route-map M\n exit-address-family\nexit\n")
	copiedStart := strings.Index(string(text), "\n  bogus copied")
	copied := [][2]int{{copiedStart, copiedStart + len("\n  bogus copied")}}
	if err := verify(text, copied); err != nil {
		t.Errorf("verify with the bad line copied: %v, want nil", err)
	}
	err := verify(text, nil)
	if err == nil || !strings.Contains(err.Error(), "line 4:") {
		t.Errorf("verify of the whole text: %v, want an error naming line 4", err)
	}
	// The same bad line formatted after a copied run is checked.
	runEnd := strings.Index(string(text), "\n  bogus")
	err = verify(text, [][2]int{{strings.Index(string(text), "\n  network"), runEnd}})
	if err == nil || !strings.Contains(err.Error(), "line 4:") {
		t.Errorf("verify with the line before it copied: %v, want an error naming line 4", err)
	}
	bad := []byte("router bgp 65001\n address-family ipv4 unicast\n  network 192.0.2.1/32 route-map M\x01\n")
	if err := verify(bad, nil); err == nil || !strings.Contains(err.Error(), "line 3: byte 0x1") {
		t.Errorf("verify of a control byte: %v, want line 3's byte 0x1", err)
	}
}
