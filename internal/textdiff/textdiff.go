// Package textdiff writes the unified diff of two texts, line by line, as diff -u does: for
// `frr-renderer diff`, which shows how an FRR configuration would change.
//
// It finds a shortest edit script (Myers' O(ND) algorithm) after trimming the common head and
// tail. Configurations differ in a few lines, so D is small; past maxEdits differing lines it
// gives up on finding the shortest script and replaces the differing middle whole, which is
// still a correct diff, only a longer one.
package textdiff

import (
	"fmt"
	"strings"
)

// maxEdits bounds the search: Myers keeps O(D²) state.
const maxEdits = 4000

// op is one line of an edit script: kept (' '), deleted ('-') or inserted ('+').
type op struct {
	kind byte
	text string
}

// Unified returns the unified diff of a and b (texts of lines) with context lines around each
// change, headed by "--- aName" and "+++ bName"; "" when they are equal.
func Unified(aName, bName, a, b string, context int) string {
	al, bl := lines(a), lines(b)
	ops := script(al, bl)
	changed := false
	for _, o := range ops {
		if o.kind != ' ' {
			changed = true
			break
		}
	}
	if !changed {
		return ""
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	writeHunks(&out, ops, context)
	return out.String()
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// script returns an edit script turning a into b.
func script(a, b []string) []op {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	var ops []op
	for _, l := range a[:head] {
		ops = append(ops, op{' ', l})
	}
	ops = append(ops, middle(a[head:len(a)-tail], b[head:len(b)-tail])...)
	for _, l := range a[len(a)-tail:] {
		ops = append(ops, op{' ', l})
	}
	return ops
}

// middle is Myers' greedy forward search with the trace kept for the way back.
func middle(a, b []string) []op {
	n, m := len(a), len(b)
	if n == 0 || m == 0 || n+m > 2*maxEdits && min(n, m) > maxEdits {
		return replaceAll(a, b)
	}
	maxD := min(n+m, maxEdits)
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = v[off+k+1] // down: an insertion
			} else {
				x = v[off+k-1] + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace, off, d)
			}
		}
	}
	return replaceAll(a, b)
}

// backtrack walks the trace from (n, m) back to (0, 0).
func backtrack(a, b []string, trace [][]int, off, d int) []op {
	x, y := len(a), len(b)
	var rev []op
	for ; d > 0; d-- {
		v := trace[d]
		k := x - y
		var prevK int
		if k == -d || k != d && v[off+k-1] < v[off+k+1] {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[off+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			rev = append(rev, op{' ', a[x]})
		}
		if x == prevX {
			y--
			rev = append(rev, op{'+', b[y]})
		} else {
			x--
			rev = append(rev, op{'-', a[x]})
		}
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, op{' ', a[x]})
	}
	ops := make([]op, len(rev))
	for i, o := range rev {
		ops[len(rev)-1-i] = o
	}
	return ops
}

func replaceAll(a, b []string) []op {
	ops := make([]op, 0, len(a)+len(b))
	for _, l := range a {
		ops = append(ops, op{'-', l})
	}
	for _, l := range b {
		ops = append(ops, op{'+', l})
	}
	return ops
}

// writeHunks writes the script as hunks with context lines around the changes.
func writeHunks(out *strings.Builder, ops []op, context int) {
	// aLine[i], bLine[i]: the 1-based line numbers in a and b at ops[i].
	aLine, bLine := make([]int, len(ops)+1), make([]int, len(ops)+1)
	al, bl := 1, 1
	for i, o := range ops {
		aLine[i], bLine[i] = al, bl
		if o.kind != '+' {
			al++
		}
		if o.kind != '-' {
			bl++
		}
	}
	aLine[len(ops)], bLine[len(ops)] = al, bl
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i // one past the last change of the hunk
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j + 1
				continue
			}
			if j-end >= 2*context {
				break
			}
		}
		stop := min(end+context, len(ops))
		aCount, bCount := 0, 0
		for _, o := range ops[start:stop] {
			if o.kind != '+' {
				aCount++
			}
			if o.kind != '-' {
				bCount++
			}
		}
		fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aLine[start], aCount), hunkRange(bLine[start], bCount))
		for _, o := range ops[start:stop] {
			out.WriteByte(o.kind)
			out.WriteString(o.text)
			out.WriteByte('\n')
		}
		i = stop
	}
}

// hunkRange is "start,count" as diff -u writes it: an empty range names the line before it.
func hunkRange(start, count int) string {
	if count == 0 {
		start--
	}
	if count == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}
