package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// FuzzPipeline feeds arbitrary manifests through the whole pipeline. Whatever the input,
// nothing panics, and whatever the translator lets through, the renderer accepts: its own
// checks (names, passwords, printable single lines) are a second gate that translated input
// never reaches. A Secret's value appears only on its password line.
func FuzzPipeline(f *testing.F) {
	for _, path := range scenarioFiles(f) {
		ar := readArchive(f, path)
		var seed strings.Builder
		if inc, ok := ar.get("include"); ok {
			for _, p := range strings.Fields(inc) {
				files, _ := filepath.Glob(filepath.Join(repoRoot, p, "*.yaml"))
				if len(files) == 0 {
					files = []string{filepath.Join(repoRoot, p)}
				}
				for _, file := range files {
					data, err := os.ReadFile(file)
					if err != nil {
						f.Fatal(err)
					}
					seed.WriteString("---\n")
					seed.Write(data)
				}
			}
		}
		if m, ok := ar.get("manifests.yaml"); ok {
			seed.WriteString("---\n" + m)
		}
		f.Add([]byte(seed.String()))
	}
	facts := model.HostFacts{Interfaces: []model.Interface{{Name: "lo", AdminUp: true, OperState: "unknown"}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		snap := &model.Snapshot{}
		if _, err := manifest.Decode("fuzz.yaml", data, snap); err != nil {
			return
		}
		// The same snapshot with every Secret value replaced: where a value shows in a line
		// that is not a password line, that line must show in this one's rendering too, or
		// the value leaked into it.
		sentinel := *snap
		sentinel.Secrets = nil
		for _, s := range snap.Secrets {
			c := s.DeepCopy()
			for k := range c.Data {
				c.Data[k] = []byte("sentinel-value")
			}
			sentinel.Secrets = append(sentinel.Secrets, c)
		}
		for i, cn := range snap.CiliumNodes {
			if i == 3 {
				break
			}
			opts := translate.Options{Node: cn.Name}
			res, err := translate.Translate(snap, facts, opts)
			if err != nil {
				t.Fatalf("node %s from its own CiliumNode: %v", cn.Name, err)
			}
			other, err := translate.Translate(&sentinel, facts, opts)
			if err != nil {
				t.Fatalf("node %s, Secret values replaced: %v", cn.Name, err)
			}
			for _, d := range dialects {
				text, _, err := frrconfig.Render(res.Config, d)
				if err != nil {
					t.Fatalf("the renderer refused what the translator produced for node %s: %v", cn.Name, err)
				}
				otherText, _, _ := frrconfig.Render(other.Config, d)
				otherLines := map[string]bool{}
				for _, line := range strings.Split(string(otherText), "\n") {
					otherLines[line] = true
				}
				for _, s := range snap.Secrets {
					for _, v := range s.Data {
						if !usablePassword(v) {
							continue // refused: the sentinel's rendering differs for that reason
						}
						for _, line := range strings.Split(string(text), "\n") {
							if strings.Contains(line, string(v)) && !strings.Contains(line, " password ") && !otherLines[line] {
								t.Fatalf("a Secret value appears outside a password line: %q", line)
							}
						}
					}
				}
			}
		}
	})
}

// usablePassword is what FRR takes as a password, like "sentinel-value": printable ASCII
// without spaces.
func usablePassword(v []byte) bool {
	for _, c := range v {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return len(v) > 0
}
