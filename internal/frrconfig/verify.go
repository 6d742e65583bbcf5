package frrconfig

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// allowedLeads are the only ways a rendered line may start (after its indentation). With
// every byte printable ASCII, no value can end a command and start another: verify is the
// last gate between resources and FRR, whatever the checks before it.
var allowedLeads = [][]byte{
	[]byte("!"),
	[]byte("frr defaults traditional"),
	[]byte("ip nht resolve-via-default"),
	[]byte("ipv6 nht resolve-via-default"),
	[]byte("route-map "),
	[]byte("router bgp "),
	[]byte("bgp "),
	[]byte("no bgp "),
	[]byte("coalesce-time 0"),
	[]byte("neighbor "),
	[]byte("address-family "),
	[]byte("network "),
	[]byte("exit-address-family"),
	[]byte("exit"),
	[]byte("match tag "),
	[]byte("set community "),
	[]byte("set large-community "),
	[]byte("set local-preference "),
	[]byte("set origin incomplete"),
	[]byte("set tag "),
}

// verify checks every line of a rendered config but those in skip, ascending [start, end)
// ranges of text that hold whole lines, each from its leading '\n' (the network lines copied
// from a rendering verify passed). It runs on every render: a node with 10,000 Services has as
// many lines.
func verify(text []byte, skip [][2]int) error {
	from := 0
	for _, s := range skip {
		if err := verifyLines(text, from, s[0]); err != nil {
			return err
		}
		from = s[1]
	}
	return verifyLines(text, from, len(text))
}

// verifyLines checks the lines of text[from:to], which starts a line or at its '\n'.
func verifyLines(text []byte, from, to int) error {
	for at := from; at < to; {
		line := text[at:to]
		next := to
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], at+i+1
		}
		if err := verifyLine(line); err != nil {
			return fmt.Errorf("line %d: %w", 1+bytes.Count(text[:at], []byte{'\n'}), err)
		}
		at = next
	}
	return nil
}

func verifyLine(line []byte) error {
	if !printable(line) {
		for _, c := range line {
			if c < ' ' || c > '~' {
				return fmt.Errorf("byte %#x is not printable ASCII", c)
			}
		}
	}
	trimmed := bytes.TrimLeft(line, " ")
	if len(trimmed) == 0 {
		return nil
	}
	// Most lines are network lines: their lead first.
	if bytes.HasPrefix(trimmed, networkLead) {
		return nil
	}
	for _, lead := range allowedLeads {
		if bytes.HasPrefix(trimmed, lead) {
			return nil
		}
	}
	return fmt.Errorf("%q is not a line frr-renderer renders", trimmed)
}

var networkLead = []byte("network ")

// printable reports whether every byte of line is printable ASCII (' ' to '~'), eight bytes at
// a time: a byte below 0x20 borrows into its top bit when 0x20 is taken from it, one above 0x7e
// carries into it (or has it set) when 0x01 is added.
func printable(line []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(line) >= 8 {
		x := binary.LittleEndian.Uint64(line)
		if ((x-0x20*ones)&^x|(x+ones)|x)&highs != 0 {
			return false
		}
		line = line[8:]
	}
	for _, c := range line {
		if c < ' ' || c > '~' {
			return false
		}
	}
	return true
}
