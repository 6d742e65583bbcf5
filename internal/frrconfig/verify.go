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

// verify checks every line of a rendered config, in one pass over the text (it runs on every
// render: a node with 10,000 Services has as many lines).
func verify(text []byte) error {
	for n := 1; len(text) > 0; n++ {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if !printable(line) {
			for _, c := range line {
				if c < ' ' || c > '~' {
					return fmt.Errorf("line %d: byte %#x is not printable ASCII", n, c)
				}
			}
		}
		trimmed := bytes.TrimLeft(line, " ")
		if len(trimmed) == 0 {
			continue
		}
		// Most lines are network lines: their lead first.
		ok := bytes.HasPrefix(trimmed, networkLead)
		for i := 0; i < len(allowedLeads) && !ok; i++ {
			ok = bytes.HasPrefix(trimmed, allowedLeads[i])
		}
		if !ok {
			return fmt.Errorf("line %d: %q is not a line frr-renderer renders", n, trimmed)
		}
	}
	return nil
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
