package nodeconfig

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/frr-renderer/frr-renderer/examples"
	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// Render is Translate then Render: the same text, both stages' diagnostics in order, the
// translator's failed instances and its error.
func TestRender(t *testing.T) {
	snap := &model.Snapshot{}
	err := fs.WalkDir(examples.Seed, examples.SeedDir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.Seed, p)
		if err != nil {
			return err
		}
		_, err = manifest.Decode(p, data, snap)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.CiliumNodes) == 0 {
		t.Fatal("the seed has no CiliumNode")
	}
	for _, d := range []frrconfig.Dialect{frrconfig.FRR8, frrconfig.FRR10} {
		opts := translate.Options{Node: snap.CiliumNodes[0].Name}
		got, err := Render(snap, model.HostFacts{}, opts, d)
		if err != nil {
			t.Fatal(err)
		}
		res, err := translate.Translate(snap, model.HostFacts{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		text, diags, err := frrconfig.Render(res.Config, d)
		if err != nil {
			t.Fatal(err)
		}
		want := Rendered{Text: text, Diagnostics: slices.Concat(res.Diagnostics, diags), FailedInstances: res.FailedInstances}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("FRR %s: Render differs from Translate then Render (-want +got):\n%s", d, diff)
		}
	}
	if _, err := Render(snap, model.HostFacts{}, translate.Options{Node: "nowhere"}, frrconfig.FRR10); err == nil || !strings.Contains(err.Error(), `node "nowhere" not found`) {
		t.Errorf("a node not in the input: error %v, want the translator's", err)
	}
}
