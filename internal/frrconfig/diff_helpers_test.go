package frrconfig

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// golden is one rendering of test/golden/testdata: FRR prints each back unchanged.
type golden struct {
	name    string // scenario/node.frrN
	dialect string // "8" or "10"
	text    string
}

// goldens returns every want/*.conf section of the golden scenarios.
func goldens(t testing.TB) []golden {
	t.Helper()
	files, err := filepath.Glob("../../test/golden/testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden scenarios: %v", err)
	}
	var out []golden
	for _, f := range files {
		archive, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		scenario := strings.TrimSuffix(filepath.Base(f), ".txtar")
		for _, file := range archive.Files {
			base, ok := strings.CutPrefix(file.Name, "want/")
			if !ok || !strings.HasSuffix(base, ".conf") {
				continue
			}
			base = strings.TrimSuffix(base, ".conf")
			dialect := "10"
			if strings.HasSuffix(base, ".frr8") {
				dialect = "8"
			}
			out = append(out, golden{name: scenario + "/" + base, dialect: dialect, text: string(file.Data)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func goldenNamed(t testing.TB, name string) string {
	t.Helper()
	for _, g := range goldens(t) {
		if g.name == name {
			return g.text
		}
	}
	t.Fatalf("no golden %s", name)
	return ""
}

func mustParse(t testing.TB, text string) *Config {
	t.Helper()
	c, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// ownsOf is what an applier would pass: the running config's previous rendering and the
// desired one's peer groups.
func ownsOf(prev *Config, groups ...string) Ownership {
	o := Ownership{PeerGroups: groups}
	if prev != nil {
		o = o.Union(prev.Rendered())
	}
	return o
}
