package frrconfig

// This file makes a desired configuration from the last one when the new text differs from
// the last in lines of one address family only (a prefix added, removed or changed: what most
// changes of a node with many Services are), without parsing the text again, and computes the
// delta of that change without comparing the family's thousands of other lines. Anything else
// is parsed and compared whole, as before.

import (
	"bytes"
	"slices"
	"strings"
)

// TextIndex locates the address-family bodies of a configuration's text: the lines between a
// family's header and its exit-address-family.
type TextIndex struct {
	families []familySpan
}

type familySpan struct {
	slot, header string // the instance (InstanceID.slot) and the family's header line
	start, end   int    // byte offsets of the body: its first line, the exit line
	lines        int    // lines of the body
}

// IndexText finds the family bodies of text, which Parse read into c. false when the text is
// not laid out as frr-renderer renders it (a block opened twice, a family left unterminated, a
// blank or comment line in a body): then nothing is patched.
func IndexText(text []byte, c *Config) (*TextIndex, bool) {
	idx := &TextIndex{}
	seen := map[string]bool{}
	slot := ""
	open := -1 // the family being read, in idx.families
	for off := 0; off < len(text); {
		end := bytes.IndexByte(text[off:], '\n')
		next := len(text)
		if end >= 0 {
			end += off
			next = end + 1
		} else {
			end = len(text)
		}
		line := text[off:end]
		body := bytes.TrimLeft(line, " ")
		depth := len(line) - len(body)
		switch {
		case open >= 0:
			f := &idx.families[open]
			switch {
			case depth == 1 && string(body) == "exit-address-family":
				f.end = off
				open = -1
			case depth == 2 && len(body) > 0 && body[0] != '!' && !bytes.HasPrefix(body, []byte("exit")):
				f.lines++
			default:
				return nil, false
			}
		case depth == 0 && bytes.HasPrefix(line, []byte("router bgp ")):
			id, err := parseRouterBGP(string(line))
			if err != nil || seen["router "+id.slot()] {
				return nil, false
			}
			seen["router "+id.slot()] = true
			slot = id.slot()
		case depth == 0:
			slot = ""
		case depth == 1 && bytes.HasPrefix(body, []byte("address-family ")):
			key := slot + "\x00" + string(body)
			if seen[key] {
				return nil, false
			}
			seen[key] = true
			idx.families = append(idx.families, familySpan{slot: slot, header: string(body), start: next})
			open = len(idx.families) - 1
		}
		off = next
	}
	if open >= 0 {
		return nil, false
	}
	for _, f := range idx.families {
		in := c.instIdx[f.slot]
		if in == nil || in.afIdx[f.header] == nil || len(in.afIdx[f.header].lines) != f.lines {
			return nil, false
		}
	}
	return idx, true
}

// FamilyPatch is a change of one address family's lines: old lines [at, at+len(removed)) gave
// way to added.
type FamilyPatch struct {
	id             InstanceID
	header         string
	removed, added []string
}

// Delta is the delta of the patch from the configuration it patched: what Delta returns for
// the two, since every other line is the same and a family's keys are unique.
func (p *FamilyPatch) Delta() []string {
	ch := diffLines(FamilyScope, p.removed, p.added)
	if len(ch) == 0 {
		return nil
	}
	out := make([]string, 0, len(ch)+4)
	out = append(out, p.id.String(), " "+p.header)
	out = appendIndented(out, "  ", ch)
	return append(out, " exit-address-family", "exit")
}

// PatchText returns the Config of text made from old, the Config of oldText (indexed by idx),
// and the patch, when text differs from oldText in lines of one family's body only and the
// family's keys stay unique; false otherwise. old is not modified; the result shares
// everything but the changed instance and family with it. The new text's index is idx
// shifted.
func PatchText(old *Config, oldText []byte, idx *TextIndex, text []byte) (*Config, *FamilyPatch, *TextIndex, bool) {
	// The changed region, in whole lines: oldText[from:oldEnd] became text[from:newEnd].
	p := commonPrefix(oldText, text)
	s := commonSuffix(oldText[p:], text[p:])
	from := bytes.LastIndexByte(oldText[:p], '\n') + 1
	oldEnd, newEnd := len(oldText)-s, len(text)-s
	if oldEnd > 0 && oldText[oldEnd-1] != '\n' {
		j := bytes.IndexByte(oldText[oldEnd:], '\n')
		if j < 0 {
			return nil, nil, nil, false
		}
		oldEnd, newEnd = oldEnd+j+1, newEnd+j+1
	}
	oldEnd, newEnd = max(oldEnd, from), max(newEnd, from)

	fi := slices.IndexFunc(idx.families, func(f familySpan) bool { return f.start <= from && oldEnd <= f.end })
	if fi < 0 {
		return nil, nil, nil, false
	}
	span := idx.families[fi]
	removed, ok1 := bodies(oldText[from:oldEnd])
	added, ok2 := bodies(text[from:newEnd])
	if !ok1 || !ok2 {
		return nil, nil, nil, false
	}
	inst := old.instIdx[span.slot]
	fam := inst.afIdx[span.header]
	at := bytes.Count(oldText[span.start:from], []byte{'\n'})
	if fam.opaque || at+len(removed) > len(fam.lines) || !slices.Equal(fam.lines[at:at+len(removed)], removed) {
		return nil, nil, nil, false
	}
	// Keys stay unique: what makes the patch's delta the whole families' delta.
	keys, unique := fam.keyIndex()
	if !unique {
		return nil, nil, nil, false
	}
	for _, l := range removed {
		k := keyOf(FamilyScope, l)
		if keys[k]--; keys[k] == 0 {
			delete(keys, k)
		}
	}
	for _, l := range added {
		k := keyOf(FamilyScope, l)
		if keys[k] > 0 {
			fam.keys = nil // counted wrong now: made again when needed
			return nil, nil, nil, false
		}
		keys[k]++
	}

	nf := &family{header: fam.header, keys: keys}
	fam.keys = nil // the newest family keeps the index
	nf.lines = make([]string, 0, len(fam.lines)-len(removed)+len(added))
	nf.lines = append(nf.lines, fam.lines[:at]...)
	nf.lines = append(nf.lines, added...)
	nf.lines = append(nf.lines, fam.lines[at+len(removed):]...)

	ni := *inst
	ni.afs = slices.Clone(inst.afs)
	ni.afs[slices.Index(inst.afs, fam)] = nf
	ni.afIdx = make(map[string]*family, len(inst.afIdx))
	for k, v := range inst.afIdx {
		ni.afIdx[k] = v
	}
	ni.afIdx[fam.header] = nf

	nc := *old
	nc.instances = slices.Clone(old.instances)
	nc.instances[slices.Index(old.instances, inst)] = &ni
	nc.instIdx = make(map[string]*bgpInstance, len(old.instIdx))
	for k, v := range old.instIdx {
		nc.instIdx[k] = v
	}
	nc.instIdx[span.slot] = &ni

	shift := newEnd - oldEnd
	nidx := &TextIndex{families: slices.Clone(idx.families)}
	nidx.families[fi].end += shift
	nidx.families[fi].lines += len(added) - len(removed)
	for i := fi + 1; i < len(nidx.families); i++ {
		nidx.families[i].start += shift
		nidx.families[i].end += shift
	}
	return &nc, &FamilyPatch{id: inst.id, header: fam.header, removed: removed, added: added}, nidx, true
}

// keyIndex counts the keys of the family's lines, made once and kept up to date by PatchText;
// false when a key is there twice (then it is not kept).
func (f *family) keyIndex() (map[string]int, bool) {
	if f.keys == nil {
		keys := make(map[string]int, len(f.lines))
		for _, l := range f.lines {
			k := keyOf(FamilyScope, l)
			if keys[k] > 0 {
				return nil, false
			}
			keys[k] = 1
		}
		f.keys = keys
	}
	return f.keys, true
}

// bodies returns the lines of a region of a family's body as Parse files them; false when a
// line is not one Parse files as a plain family line.
func bodies(region []byte) ([]string, bool) {
	if len(region) == 0 {
		return nil, true
	}
	var out []string
	for _, line := range strings.SplitAfter(string(region), "\n") {
		if line == "" {
			continue
		}
		line = strings.TrimRight(line, " \t\r\n")
		body := strings.TrimLeft(line, " ")
		if len(line)-len(body) != 2 || body == "" || body[0] == '!' || body[0] == '\t' || strings.HasPrefix(body, "exit") {
			return nil, false
		}
		out = append(out, body)
	}
	return out, true
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	const chunk = 4096
	for i+chunk <= n && bytes.Equal(a[i:i+chunk], b[i:i+chunk]) {
		i += chunk
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// commonSuffix is the length of the longest common suffix of a and b.
func commonSuffix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	const chunk = 4096
	for i+chunk <= n && bytes.Equal(a[len(a)-i-chunk:len(a)-i], b[len(b)-i-chunk:len(b)-i]) {
		i += chunk
	}
	for i < n && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}
