package textdiff

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestUnified(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"both empty", "", "", ""},
		{"from nothing", "", "x\ny\n", "--- A\n+++ B\n@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{"to nothing", "x\n", "", "--- A\n+++ B\n@@ -1 +0,0 @@\n-x\n"},
		{"one changed line with context", "1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\nX\n5\n6\n7\n",
			"--- A\n+++ B\n@@ -2,5 +2,5 @@\n 2\n 3\n-4\n+X\n 5\n 6\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			"--- A\n+++ B\n@@ -1,2 +1,3 @@\n+0\n 1\n 2\n@@ -8,3 +9,2 @@\n 8\n 9\n-10\n"}, // as diff -U2
		{"near changes share a hunk", "a\nb\nc\nd\ne\n", "a\nB\nc\nD\ne\n",
			"--- A\n+++ B\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n-d\n+D\n e\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Unified("A", "B", tc.a, tc.b, 2); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// TestScriptApplies checks on random texts that every script turns a into b, and that it is
// shortest on small ones (compared with the LCS length).
func TestScriptApplies(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gen := func() []string {
		n := r.IntN(30)
		out := make([]string, n)
		for i := range out {
			out[i] = string(rune('a' + r.IntN(4)))
		}
		return out
	}
	for i := 0; i < 2000; i++ {
		a, b := gen(), gen()
		ops := script(a, b)
		var gotA, gotB []string
		edits := 0
		for _, o := range ops {
			if o.kind != '+' {
				gotA = append(gotA, o.text)
			}
			if o.kind != '-' {
				gotB = append(gotB, o.text)
			}
			if o.kind != ' ' {
				edits++
			}
		}
		if strings.Join(gotA, ",") != strings.Join(a, ",") || strings.Join(gotB, ",") != strings.Join(b, ",") {
			t.Fatalf("script of %q -> %q does not apply: %v", a, b, ops)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); edits != want {
			t.Fatalf("script of %q -> %q has %d edits, the shortest has %d", a, b, edits, want)
		}
	}
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// TestLargeDiffFallsBack: past maxEdits the diff is still correct.
func TestLargeDiffFallsBack(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 3*maxEdits; i++ {
		a.WriteString("a\n")
		b.WriteString("b\n")
	}
	got := Unified("A", "B", a.String(), b.String(), 3)
	if strings.Count(got, "\n-a") != 3*maxEdits || strings.Count(got, "\n+b") != 3*maxEdits {
		t.Errorf("the fallback lost lines")
	}
}
