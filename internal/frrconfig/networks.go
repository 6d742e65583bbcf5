package frrconfig

import (
	"net/netip"
	"slices"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// A node with 10,000 Services has as many network lines, the bulk of its frr.conf. A Renderer
// keeps where each address family's lines are in the text it rendered last, so that a change
// of a few prefixes formats only those and copies the others from that text in runs, straight
// into the new one.

// networkLines is an address family's network lines as rendered: the prefixes they say, in the
// order rendered, where the first line starts in the rendered text and where each ends. Each
// line is "\n  network P route-map M", M named by the prefix's originKey.
type networkLines struct {
	// prefixes are the model's, shared with it: never modified.
	prefixes []model.AdvertisedPrefix
	start    int
	ends     []int
}

// prefixOrder is the order translate sorts prefixes in: by address, then length.
func prefixOrder(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// sameLine reports whether two prefixes make the same network line.
func sameLine(a, b *model.AdvertisedPrefix) bool {
	return a.Prefix == b.Prefix && a.Policy == b.Policy && a.OriginIncomplete == b.OriginIncomplete
}

// familyPrefixes splits an instance's prefixes by family without a copy when the IPv4 ones
// come first, as translate's order has them (an IPv4 address sorts before any IPv6 one).
func familyPrefixes(all []model.AdvertisedPrefix) (v4, v6 []model.AdvertisedPrefix) {
	is4 := func(p model.AdvertisedPrefix) bool { return p.Prefix.Addr().Is4() }
	n := 0
	for n < len(all) && is4(all[n]) {
		n++
	}
	if !slices.ContainsFunc(all[n:], is4) {
		return all[:n:n], all[n:]
	}
	for _, p := range all {
		if is4(p) {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return v4, v6
}

// renderNetworks appends the network lines of prefixes to dst, copying from lastText (where
// last's lines are) every run of lines last has too, in the same order; routeMap names a line's
// route-map. It returns dst, where the lines are in it, and copied with the runs it copied, as
// [start, end) offsets in dst. Every line written is either formatted or a copy of an equal
// line of last, whatever the order; lines in prefixOrder (translate's) are found in one pass
// over both.
func renderNetworks(dst, lastText []byte, last *networkLines, prefixes []model.AdvertisedPrefix, routeMap func(originKey) string, copied [][2]int) ([]byte, *networkLines, [][2]int) {
	out := &networkLines{prefixes: prefixes, start: len(dst), ends: make([]int, len(prefixes))}
	if last == nil {
		last = &networkLines{}
	}
	i := 0         // the next line of last not passed yet
	inRun := false // lines of last up to i are being reused, from runStart in lastText
	runStart := 0
	flush := func() {
		if inRun {
			copied = append(copied, [2]int{len(dst), len(dst) + last.ends[i-1] - runStart})
			dst = append(dst, lastText[runStart:last.ends[i-1]]...)
			inRun = false
		}
	}
	var key originKey
	name := ""
	for k := range prefixes {
		p := &prefixes[k]
		for i < len(last.prefixes) && prefixOrder(last.prefixes[i].Prefix, p.Prefix) < 0 {
			flush() // last's line i is gone
			i++
		}
		if i < len(last.prefixes) && sameLine(&last.prefixes[i], p) {
			if !inRun {
				inRun, runStart = true, last.start
				if i > 0 {
					runStart = last.ends[i-1]
				}
			}
			i++
			// Where the line ends once the run is copied: the run starts at len(dst).
			out.ends[k] = len(dst) + last.ends[i-1] - runStart
			continue
		}
		flush()
		if pk := (originKey{p.Policy, p.OriginIncomplete}); pk != key || name == "" {
			key, name = pk, routeMap(pk)
		}
		dst = append(dst, "\n  network "...)
		dst = p.Prefix.AppendTo(dst)
		dst = append(dst, " route-map "...)
		dst = append(dst, name...)
		out.ends[k] = len(dst)
	}
	flush()
	return dst, out, copied
}
