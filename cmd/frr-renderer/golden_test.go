package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/ with what the commands print")

// checkGolden compares got with testdata/NAME, or rewrites it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs (-want +got):\n%s", path, frrtest.LineDiff(string(want), got))
	}
}

var (
	durationJSON  = regexp.MustCompile(`"(uptime|age)": "[^"]*"`)
	secondsJSON   = regexp.MustCompile(`"(uptimeSeconds|ageSeconds)": \d+`)
	durationCell  = regexp.MustCompile(`\b(\d+h)?(\d+m)?\d+s\b`)
	columnPadding = regexp.MustCompile(`  +`)
)

// normalizeTimes replaces what depends on when FRR did things (uptimes, route ages) with
// placeholders; in a table it then collapses the padding, which the widths of those cells
// change.
func normalizeTimes(out string, table bool) string {
	out = durationJSON.ReplaceAllString(out, `"$1": "<duration>"`)
	out = secondsJSON.ReplaceAllString(out, `"$1": 0`)
	if table {
		out = durationCell.ReplaceAllString(out, "<duration>")
		out = columnPadding.ReplaceAllString(out, "  ")
	}
	return out
}

func TestNormalizeTimes(t *testing.T) {
	in := "Node   Uptime   Family\ncp-1   1m2s     ipv4/unicast\n{\"uptime\": \"3s\", \"uptimeSeconds\": 3}"
	want := "Node  Uptime  Family\ncp-1  <duration>  ipv4/unicast\n{\"uptime\": \"<duration>\", \"uptimeSeconds\": 0}"
	if got := normalizeTimes(in, true); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(normalizeTimes("65000:100", true), "duration") {
		t.Error("a community is not a duration")
	}
}
