package frrconfig

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig/frrconfigtest"
)

// randomConf is a rendering with two instances, their families' networks and a few route-maps,
// that a random test edits.
type randomConf struct {
	nets     [3]map[string]string // instance 1 ipv4, ipv6; view ipv4: prefix -> route-map
	rmTag    int
	timers   int
	extraNbr bool
}

func (c *randomConf) text() string {
	var b strings.Builder
	b.WriteString("frr defaults traditional\n!\n")
	fmt.Fprintf(&b, "route-map CILIUM-ORIGIN-1 permit 10\n set tag %d\nexit\n!\nroute-map CILIUM-REJECT deny 10\nexit\n!\n", c.rmTag)
	family := func(header string, nets map[string]string, peer string) {
		fmt.Fprintf(&b, " address-family %s\n", header)
		keys := make([]string, 0, len(nets))
		for p := range nets {
			keys = append(keys, p)
		}
		slices.Sort(keys)
		for _, p := range keys {
			fmt.Fprintf(&b, "  network %s route-map %s\n", p, nets[p])
		}
		fmt.Fprintf(&b, "  neighbor %s activate\n  neighbor %s route-map CILIUM-REJECT in\n exit-address-family\n", peer, peer)
	}
	fmt.Fprintf(&b, "router bgp 65001\n bgp router-id 10.0.0.1\n neighbor pg peer-group\n neighbor pg timers %d 90\n neighbor 192.168.10.1 remote-as 65000\n neighbor 192.168.10.1 peer-group pg\n", c.timers)
	if c.extraNbr {
		b.WriteString(" neighbor 192.168.10.2 remote-as 65000\n neighbor 192.168.10.2 peer-group pg\n")
	}
	b.WriteString(" !\n")
	family("ipv4 unicast", c.nets[0], "pg")
	family("ipv6 unicast", c.nets[1], "pg")
	b.WriteString("exit\n!\nrouter bgp 65002 view second\n bgp router-id 10.0.0.1\n neighbor pg peer-group\n neighbor 192.168.20.1 remote-as 65000\n neighbor 192.168.20.1 peer-group pg\n !\n")
	family("ipv4 unicast", c.nets[2], "pg")
	b.WriteString("exit\n!\n")
	return b.String()
}

// TestPatchRandomEdits edits a rendering at random and checks, after every edit, that the
// configuration PatchText makes is the one Parse reads, and that the patch's delta is Delta's.
// Most edits are a family's networks (added, removed, given another route-map), the rest
// elsewhere (a route-map, a timer, a neighbor), which PatchText must leave to Parse.
// RANDOM_SEED replays a run.
func TestPatchRandomEdits(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("RANDOM_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("RANDOM_SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	prefix := func(fam int) string {
		if fam == 1 {
			return fmt.Sprintf("2001:db8::%x/128", r.IntN(300))
		}
		return fmt.Sprintf("172.20.%d.%d/32", r.IntN(2), r.IntN(150))
	}
	rms := []string{"CILIUM-ORIGIN-1", "CILIUM-ORIGIN-2"}
	conf := &randomConf{timers: 30}
	for i := range conf.nets {
		conf.nets[i] = map[string]string{}
		for range 100 {
			conf.nets[i][prefix(i)] = rms[0]
		}
	}
	text := conf.text()
	cfg := mustParse(t, text)
	idx, ok := IndexText([]byte(text), cfg)
	if !ok {
		t.Fatal("the rendering cannot be indexed")
	}
	patched := 0
	const steps = 1000
	for step := range steps {
		what := ""
		switch x := r.IntN(100); {
		case x < 85:
			fam := r.IntN(3)
			for range 1 + r.IntN(3) {
				p := prefix(fam)
				switch {
				case conf.nets[fam][p] == "":
					conf.nets[fam][p] = rms[r.IntN(2)]
					what += " add " + p
				case r.IntN(2) == 0:
					delete(conf.nets[fam], p)
					what += " remove " + p
				default:
					conf.nets[fam][p] = rms[r.IntN(2)]
					what += " route-map of " + p
				}
			}
		case x < 90:
			conf.rmTag = r.IntN(3)
			what = "route-map"
		case x < 95:
			conf.timers = 10 + r.IntN(3)
			what = "timers"
		default:
			conf.extraNbr = !conf.extraNbr
			what = "neighbor"
		}
		next := conf.text()
		want := mustParse(t, next)
		owns := cfg.Rendered()
		wantDelta := Delta(cfg, want, owns)
		c, patch, nidx, ok := PatchText(cfg, []byte(text), idx, []byte(next))
		if ok {
			patched++
			if d, w := dumpConfig(c), dumpConfig(want); d != w {
				t.Fatalf("step %d (%s): patched configuration\n%s\nwant (parsed)\n%s", step, what, d, w)
			}
			if got := patch.Delta(); !slices.Equal(got, wantDelta) {
				t.Fatalf("step %d (%s): patch delta\n%q\nwant\n%q", step, what, got, wantDelta)
			}
			if want, _ := IndexText([]byte(next), want); want == nil || !slices.Equal(nidx.families, want.families) {
				t.Fatalf("step %d (%s): shifted index %+v, want %+v", step, what, nidx.families, want)
			}
			cfg, idx = c, nidx
		} else {
			if strings.HasPrefix(what, " ") && len(wantDelta) > 0 {
				t.Errorf("step %d (%s): a change of networks was not patched", step, what)
			}
			cfg = want
			if idx, ok = IndexText([]byte(next), want); !ok {
				t.Fatalf("step %d: the rendering cannot be indexed", step)
			}
		}
		text = next
	}
	t.Logf("%d of %d edits patched", patched, steps)
}

// dumpConfig prints everything Parse keeps of a configuration, in order.
func dumpConfig(c *Config) string {
	var b strings.Builder
	for _, in := range c.instances {
		fmt.Fprintf(&b, "%s\n  globals %q\n", in.id, in.globals)
		for _, p := range in.peers {
			fmt.Fprintf(&b, "  peer %s %v %q\n", p.name, p.group, p.lines)
		}
		for _, f := range in.afs {
			fmt.Fprintf(&b, "  %s opaque=%v %q\n", f.header, f.opaque, f.lines)
		}
		fmt.Fprintf(&b, "  opaque %q\n", in.opaque)
	}
	for _, e := range c.routeMaps {
		fmt.Fprintf(&b, "%s %q\n", e.header(), e.lines)
	}
	return b.String()
}

// A rendering frr-renderer would not make is parsed whole: a blank line in a family, a family
// opened twice, a family line that is not a plain one.
func TestPatchRefuses(t *testing.T) {
	base := frrconfigtest.SeedWithPrefixes(20, "")
	for name, text := range map[string]string{
		"comment in a family": strings.Replace(base, "  neighbor cilium-peer activate\n", "  !\n  neighbor cilium-peer activate\n", 1),
		"family twice":        strings.Replace(base, " exit-address-family\n", " exit-address-family\n address-family ipv4 unicast\n  network 10.9.9.9/32\n exit-address-family\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok := IndexText([]byte(text), mustParse(t, text)); ok {
				t.Error("indexed")
			}
		})
	}
	cfg := mustParse(t, base)
	idx, ok := IndexText([]byte(base), cfg)
	if !ok {
		t.Fatal("not indexed")
	}
	for name, next := range map[string]string{
		"deeper line":      strings.Replace(base, "  network 10.0.0.5/32", "   network 10.0.0.5/32", 1),
		"duplicate key":    strings.Replace(base, "  network 10.0.0.5/32 route-map CILIUM-ORIGIN-2722987788\n", "  network 10.0.0.5/32 route-map CILIUM-ORIGIN-2722987788\n  network 10.0.0.6/32 route-map X\n", 1),
		"outside a family": strings.Replace(base, " neighbor cilium-peer timers 30 90", " neighbor cilium-peer timers 3 9", 1),
		"exit changed":     strings.Replace(base, " exit-address-family\n", " exit-address-family\n!\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, _, ok := PatchText(cfg, []byte(base), idx, []byte(next)); ok {
				t.Error("patched")
			}
		})
	}
	// A refused duplicate leaves the key index to be made again, right.
	next := strings.Replace(base, "  network 10.0.0.5/32 route-map CILIUM-ORIGIN-2722987788\n", "", 1)
	if _, _, _, ok := PatchText(cfg, []byte(base), idx, []byte(next)); !ok {
		t.Error("a removed network was not patched after a refusal")
	}
}
