package model

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// Names of resources that become names in FRR's configuration: a name FRR takes as it is stays,
// any other is mapped (MappedName), never refused, so that an object the API server accepts is
// never left out for its name.

// plainName is a name FRR takes as a view name as it is: one word of these bytes, short
// enough to read.
var plainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// frrDefaultVRF is the name FRR gives its default VRF: `no router bgp ASN vrf default`, the
// only form that deletes a view on both 8.4 and 10.3, means the default instance.
const frrDefaultVRF = "default"

// ViewName returns the name of the FRR view of a BGP instance (spec.bgpInstances[].name; every
// instance of a node but the first is a view, FRR having one default instance): the name itself
// when it is a plain word (letters, digits, '.', '_', '-', at most 63, not starting with a
// punctuation mark) other than "default", else MappedName of it. "" for "", which names no
// instance.
func ViewName(name string) string {
	if name == "" {
		return ""
	}
	if plainName.MatchString(name) && name != frrDefaultVRF {
		return name
	}
	return MappedName(name)
}

// mappedReadable is how much of a name a mapped name keeps before its hash.
const mappedReadable = 40

// MappedName is the FRR name of a name FRR cannot take as it is: its first 40 bytes with every
// byte outside [A-Za-z0-9.-] replaced by '_', then '_' and 8 hex digits of its SHA-256. It is
// stable (it depends on the name alone), readable, one word of printable ASCII of at most 49
// bytes, and two mapped names meet only when both their readable parts and their hashes do.
func MappedName(name string) string {
	sum := sha256.Sum256([]byte(name))
	var b strings.Builder
	for i := 0; i < len(name) && i < mappedReadable; i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			c = '_'
		}
		b.WriteByte(c)
	}
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(sum[:4]))
	return b.String()
}
