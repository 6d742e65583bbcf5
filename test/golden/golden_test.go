// Package golden renders every example scenario for each of its nodes and both FRR dialects
// and compares the output with the expected text kept in the scenario file; run with
// -update to rewrite the expected sections. golden_frr_test.go loads the same texts into
// real FRR and checks that FRR prints them back unchanged.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/hostfacts"
	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/nodeconfig"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

var update = flag.Bool("update", false, "rewrite the expected sections of testdata/*.txtar")

// repoRoot is where scenario include paths start.
const repoRoot = "../.."

var dialects = []frrconfig.Dialect{frrconfig.FRR10, frrconfig.FRR8}

// rendering is one node of one scenario in one dialect.
type rendering struct {
	node        string
	dialect     frrconfig.Dialect
	config      string
	diagnostics string
}

func (r rendering) section() string {
	return fmt.Sprintf("want/%s.frr%s.conf", r.node, r.dialect)
}

func (r rendering) diagSection() string {
	return fmt.Sprintf("want/%s.frr%s.stderr", r.node, r.dialect)
}

func TestGolden(t *testing.T) {
	for _, path := range scenarioFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar := readArchive(t, path)
			renderings := renderScenario(t, ar)
			if *update {
				for _, r := range renderings {
					ar.set(r.section(), r.config)
					ar.set(r.diagSection(), r.diagnostics)
				}
				if err := os.WriteFile(path, ar.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, r := range renderings {
				want, ok := ar.get(r.section())
				if !ok {
					t.Errorf("%s: no section %q; run go test ./test/golden -update", path, r.section())
					continue
				}
				if d := frrtest.LineDiff(want, r.config); d != "" {
					t.Errorf("%s: node %s, FRR %s: rendered config differs from %s (-want +got):\n%s", path, r.node, r.dialect, r.section(), d)
				}
				wantDiags, _ := ar.get(r.diagSection())
				if d := frrtest.LineDiff(wantDiags, r.diagnostics); d != "" {
					t.Errorf("%s: node %s: diagnostics differ (-want +got):\n%s", path, r.node, d)
				}
			}
		})
	}
}

func scenarioFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in testdata: %v", err)
	}
	sort.Strings(files)
	return files
}

// renderScenario renders every node of the scenario in both dialects.
func renderScenario(t testing.TB, ar *archive) []rendering {
	t.Helper()
	snap := &model.Snapshot{}
	var loadDiags []model.Diagnostic
	if inc, ok := ar.get("include"); ok {
		var paths []string
		for _, p := range strings.Fields(inc) {
			paths = append(paths, filepath.Join(repoRoot, p))
		}
		s, d, err := manifest.Load(paths, nil)
		if err != nil {
			t.Fatal(err)
		}
		snap, loadDiags = s, d
	}
	if m, ok := ar.get("manifests.yaml"); ok {
		d, err := manifest.Decode("manifests.yaml", []byte(m), snap)
		if err != nil {
			t.Fatal(err)
		}
		loadDiags = append(loadDiags, d...)
	}
	var facts model.HostFacts
	if hf, ok := ar.get("host-facts.yaml"); ok {
		var err error
		if facts, err = hostfacts.Parse("host-facts.yaml", []byte(hf)); err != nil {
			t.Fatal(err)
		}
	}
	opts := scenarioOptions(t, ar)
	nodes, _ := ar.get("nodes")
	var out []rendering
	for _, node := range strings.Fields(nodes) {
		opts.Node = node
		for _, d := range dialects {
			r, err := nodeconfig.Render(snap, facts, opts, d)
			if err != nil {
				t.Fatalf("node %s, FRR %s: %v", node, d, err)
			}
			var diags bytes.Buffer
			for _, list := range [][]model.Diagnostic{loadDiags, r.Diagnostics} {
				for _, dg := range list {
					fmt.Fprintln(&diags, dg)
				}
			}
			out = append(out, rendering{node: node, dialect: d, config: string(r.Text), diagnostics: diags.String()})
		}
	}
	return out
}

// scenarioOptions reads the agent options of a scenario's "options" section: one
// "name: value" per line, named as frr-renderer's flags (Cilium's agent options).
func scenarioOptions(t testing.TB, ar *archive) translate.Options {
	t.Helper()
	var o translate.Options
	text, _ := ar.get("options")
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "enable-bgp-legacy-origin-attribute":
			o.LegacyOriginAttribute = v == "true"
		case "enable-no-service-endpoints-routable":
			o.SkipServicesWithoutEndpoints = v == "false"
		case "k8s-service-proxy-name":
			o.ServiceProxyName = v
		case "ipam":
			o.IPAMMode = v
		case "bgp-router-id-allocation-mode":
			o.RouterIDAllocation = v
		default:
			t.Fatalf("options: unknown option %q", k)
		}
	}
	return o
}
