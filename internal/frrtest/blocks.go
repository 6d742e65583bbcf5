package frrtest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// Block is one BGP part of a configuration text.
type Block struct {
	// Key identifies the block across configurations: the first line of a stanza
	// ("router bgp 65001", "route-map RM permit 10"), or for a list the words up to its name
	// ("ip prefix-list PL", "bgp community-list standard CL").
	Key string
	// Lines are the block's lines in order, its first line included, with trailing spaces, comments
	// ("!") and exit terminators removed and the indentation kept. A list's lines are its entries.
	Lines []string
}

// BGPBlocks extracts the BGP parts of a configuration, rendered or read back with
// `show running-config`: `router bgp` and `route-map` stanzas with their indented lines, and
// prefix-lists, community-lists, large- and extcommunity-lists and as-path access-lists, each
// list's entries gathered into one block. Everything else is dropped.
//
// Blocks are returned in order of first appearance, but that order means nothing: FRR 10.3
// prints route-maps and lists before `router bgp`, 8.4 after. Order within a block matters.
// Terminators (`exit`, `exit-address-family`) are dropped because indentation already carries
// the structure and a renderer need not print them exactly where FRR does.
func BGPBlocks(config string) []Block {
	var blocks []Block
	index := map[string]int{}
	cur := -1 // the block that indented lines belong to, or -1 to drop them
	for raw := range strings.Lines(config) {
		line := strings.TrimRight(raw, " \t\r\n")
		word := strings.TrimSpace(line)
		if word == "" || strings.HasPrefix(word, "!") {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		if word == "exit" || strings.HasPrefix(word, "exit-") {
			if !indented {
				cur = -1
			}
			continue
		}
		if indented {
			if cur >= 0 {
				blocks[cur].Lines = append(blocks[cur].Lines, line)
			}
			continue
		}
		key, stanza, ok := blockKey(line)
		if !ok {
			cur = -1
			continue
		}
		i, seen := index[key]
		if !seen {
			i = len(blocks)
			index[key] = i
			blocks = append(blocks, Block{Key: key})
		}
		// A stanza opened a second time continues the first, as it does in FRR.
		if !seen || !stanza {
			blocks[i].Lines = append(blocks[i].Lines, line)
		}
		cur = -1
		if stanza {
			cur = i
		}
	}
	return blocks
}

// listPrefixes are the top-level list commands, by the words before the list's name.
var listPrefixes = [][]string{
	{"ip", "prefix-list"},
	{"ipv6", "prefix-list"},
	{"bgp", "as-path", "access-list"},
	{"bgp", "community-list"},
	{"bgp", "large-community-list"},
	{"bgp", "extcommunity-list"},
}

// blockKey tells whether a top-level line starts a BGP block, its key, and whether it is a
// stanza (takes indented lines) rather than a list entry.
func blockKey(line string) (key string, stanza, ok bool) {
	f := strings.Fields(line)
	if (len(f) >= 2 && f[0] == "router" && f[1] == "bgp") || f[0] == "route-map" {
		return strings.Join(f, " "), true, true
	}
	for _, p := range listPrefixes {
		if len(f) <= len(p) || !slices.Equal(f[:len(p)], p) {
			continue
		}
		n := len(p) + 1 // through the name
		if p[0] == "bgp" && (f[len(p)] == "standard" || f[len(p)] == "expanded") && len(f) > n {
			n++
		}
		return strings.Join(f[:n], " "), false, true
	}
	return "", false, false
}

// LineDiff returns a line diff of two texts (-want +got, go-cmp's), or "" when they are equal.
func LineDiff(want, got string) string {
	if want == got {
		return ""
	}
	return cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n"))
}

// DiffBlocks compares the BGP blocks of two configurations by key and returns what differs,
// or "" when nothing does: blocks missing from got, blocks got has in addition, and for a block
// in both, a line diff (-want +got).
func DiffBlocks(want, got string) string {
	wb, gb := BGPBlocks(want), BGPBlocks(got)
	has := func(blocks []Block, key string) (Block, bool) {
		i := slices.IndexFunc(blocks, func(b Block) bool { return b.Key == key })
		if i < 0 {
			return Block{}, false
		}
		return blocks[i], true
	}
	var b strings.Builder
	for _, w := range wb {
		g, ok := has(gb, w.Key)
		switch {
		case !ok:
			fmt.Fprintf(&b, "missing block %q:\n", w.Key)
			writeLines(&b, "-", w.Lines)
		case !slices.Equal(w.Lines, g.Lines):
			fmt.Fprintf(&b, "block %q differs (-want +got):\n%s", w.Key, cmp.Diff(w.Lines, g.Lines))
		}
	}
	for _, g := range gb {
		if _, ok := has(wb, g.Key); !ok {
			fmt.Fprintf(&b, "unexpected block %q:\n", g.Key)
			writeLines(&b, "+", g.Lines)
		}
	}
	return b.String()
}

func writeLines(b *strings.Builder, mark string, lines []string) {
	for _, l := range lines {
		b.WriteString(mark + l + "\n")
	}
}
