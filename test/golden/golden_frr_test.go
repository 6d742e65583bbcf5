package golden

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// frrFor is the FRR a dialect is written for.
var frrFor = map[frrconfig.Dialect]frrtest.Version{
	frrconfig.FRR10: frrtest.FRR10,
	frrconfig.FRR8:  frrtest.FRR8,
}

// TestGoldenOnFRR loads every rendering into the real FRR of its dialect: FRR must accept
// every line, and print the BGP blocks back exactly as rendered (the canonical form, which
// makes "nothing changed" an empty diff for the applier).
func TestGoldenOnFRR(t *testing.T) {
	for _, path := range scenarioFiles(t) {
		scenario := strings.TrimSuffix(filepath.Base(path), ".txtar")
		for _, r := range renderScenario(t, readArchive(t, path)) {
			t.Run(scenario+"/"+r.node+"/frr"+r.dialect.String(), func(t *testing.T) {
				t.Parallel()
				router := frrtest.Start(t, frrFor[r.dialect], "golden")
				if err := router.Load(r.config); err != nil {
					t.Fatalf("FRR %s rejected the rendering of %s (%s):\n%v", frrFor[r.dialect], r.node, path, err)
				}
				got, err := router.RunningConfig()
				if err != nil {
					t.Fatal(err)
				}
				if d := frrtest.DiffBlocks(r.config, got); d != "" {
					t.Errorf("FRR %s prints %s (%s) back differently:\n%s", frrFor[r.dialect], r.node, path, d)
				}
				// zebra's lines are zebra's: in the merged configuration, not bgpd's.
				merged, err := router.Vtysh("-c", "show running-config")
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range frrconfig.ZebraLines {
					if rendered, printed := strings.Contains(r.config, "\n"+l+"\n"), strings.Contains(merged, "\n"+l+"\n"); rendered != printed {
						t.Errorf("FRR %s: %q rendered %v, printed back %v:\n%s", frrFor[r.dialect], l, rendered, printed, merged)
					}
				}
			})
		}
	}
}
