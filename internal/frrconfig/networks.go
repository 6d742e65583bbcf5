package frrconfig

import (
	"net/netip"
	"strings"
)

// A node with 10,000 Services has as many network lines, the bulk of its frr.conf. A Renderer
// keeps each address family's lines of its last rendering, so that a change of a few prefixes
// formats only those and copies the others in runs.

// network is one network line: a prefix and its origin route-map.
type network struct {
	prefix   netip.Prefix
	routeMap string
}

// networkLines is an address family's network lines, each "\n  network P route-map M", in
// the order rendered, and where each ends in text.
type networkLines struct {
	lines []network
	ends  []int
	text  string
}

// prefixOrder is the order translate sorts prefixes in: by address, then length.
func prefixOrder(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// renderNetworks renders lines, copying from last's text every run of lines last has too, in
// the same order. Every line written is either formatted or a copy of an equal line of last,
// whatever the order; lines in prefixOrder (translate's) are found in one pass over both.
func renderNetworks(last *networkLines, lines []network) *networkLines {
	out := &networkLines{lines: lines, ends: make([]int, len(lines))}
	if last == nil {
		last = &networkLines{}
	}
	// A Builder's String does not copy: at 10,000 lines the text is 600 KB, made once per render.
	var text strings.Builder
	text.Grow(len(last.text) + 64*max(1, len(lines)-len(last.lines)))
	var scratch [64]byte // one prefix at a time
	i := 0               // the next line of last not passed yet
	inRun := false       // lines of last up to i are being reused, from runStart in last.text
	runStart := 0
	flush := func() {
		if inRun {
			text.WriteString(last.text[runStart:last.ends[i-1]])
			inRun = false
		}
	}
	for k, l := range lines {
		for i < len(last.lines) && prefixOrder(last.lines[i].prefix, l.prefix) < 0 {
			flush() // last's line i is gone
			i++
		}
		if i < len(last.lines) && last.lines[i] == l {
			if !inRun {
				inRun, runStart = true, 0
				if i > 0 {
					runStart = last.ends[i-1]
				}
			}
			i++
			// Where the line ends once the run is copied: the run starts at text.Len().
			out.ends[k] = text.Len() + last.ends[i-1] - runStart
			continue
		}
		flush()
		text.WriteString("\n  network ")
		text.Write(l.prefix.AppendTo(scratch[:0]))
		text.WriteString(" route-map ")
		text.WriteString(l.routeMap)
		out.ends[k] = text.Len()
	}
	flush()
	out.text = text.String()
	return out
}
