package translate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// wellKnownCommunities are the aliases Cilium accepts in communities.wellKnown.
var wellKnownCommunities = map[string]model.Community{
	"internet":                   0x00000000,
	"planned-shut":               0xffff0000,
	"accept-own":                 0xffff0001,
	"route-filter-translated-v4": 0xffff0002,
	"route-filter-v4":            0xffff0003,
	"route-filter-translated-v6": 0xffff0004,
	"route-filter-v6":            0xffff0005,
	"llgr-stale":                 0xffff0006,
	"no-llgr":                    0xffff0007,
	"blackhole":                  0xffff029a,
	"no-export":                  0xffffff01,
	"no-advertise":               0xffffff02,
	"no-export-subconfed":        0xffffff03,
	"no-peer":                    0xffffff04,
}

// attributes parses a rule's path attributes. An invalid value is reported and left out;
// the rest of the rule still applies. Communities are deduplicated by value, standard
// before well-known, as Cilium merges them.
func (t *translation) attributes(a *model.BGPAttributes, obj model.ObjectRef, field string) ruleAttributes {
	var out ruleAttributes
	if a == nil {
		return out
	}
	if c := a.Communities; c != nil {
		seen := map[model.Community]bool{}
		add := func(v model.Community) {
			if !seen[v] {
				seen[v] = true
				out.communities = append(out.communities, v)
			}
		}
		for i, s := range c.Standard {
			v, err := parseStandardCommunity(s)
			if err != nil {
				t.warn(obj, fmt.Sprintf("%s.communities.standard[%d]", field, i), "%v: ignored", err)
				continue
			}
			add(v)
		}
		for i, s := range c.WellKnown {
			v, ok := wellKnownCommunities[s]
			if !ok {
				t.warn(obj, fmt.Sprintf("%s.communities.wellKnown[%d]", field, i), "%q is not a well-known community name: ignored", s)
				continue
			}
			add(v)
		}
		seenLarge := map[model.LargeCommunity]bool{}
		for i, s := range c.Large {
			v, err := parseLargeCommunity(s)
			if err != nil {
				t.warn(obj, fmt.Sprintf("%s.communities.large[%d]", field, i), "%v: ignored", err)
				continue
			}
			if !seenLarge[v] {
				seenLarge[v] = true
				out.large = append(out.large, v)
			}
		}
	}
	if lp := a.LocalPreference; lp != nil {
		if *lp < 0 || *lp > 4294967295 {
			t.warn(obj, field+".localPreference", "%d is not in 0..4294967295: ignored", *lp)
		} else {
			v := uint32(*lp)
			out.localPref = &v
		}
	}
	return out
}

// parseStandardCommunity accepts a decimal 32-bit value or "AS:NN" with two 16-bit halves.
func parseStandardCommunity(s string) (model.Community, error) {
	hi, lo, pair := strings.Cut(s, ":")
	if !pair {
		v, err := parseDecimal(s, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not a community (a 32-bit number or AS:NN)", s)
		}
		return model.Community(v), nil
	}
	a, err1 := parseDecimal(hi, 16)
	b, err2 := parseDecimal(lo, 16)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%q is not a community (AS:NN with each part in 0..65535)", s)
	}
	return model.Community(a<<16 | b), nil
}

// parseLargeCommunity accepts "a:b:c" with three 32-bit parts.
func parseLargeCommunity(s string) (model.LargeCommunity, error) {
	parts := strings.Split(s, ":")
	if len(parts) == 3 {
		var v [3]uint64
		ok := true
		for i, p := range parts {
			n, err := parseDecimal(p, 32)
			ok = ok && err == nil
			v[i] = n
		}
		if ok {
			return model.LargeCommunity{GlobalAdmin: uint32(v[0]), Local1: uint32(v[1]), Local2: uint32(v[2])}, nil
		}
	}
	return model.LargeCommunity{}, fmt.Errorf("%q is not a large community (a:b:c with each part in 0..4294967295)", s)
}

// parseDecimal accepts plain decimal digits only: no sign, no spaces, no base prefix.
func parseDecimal(s string, bits int) (uint64, error) {
	if s == "" || len(s) > 10 {
		return 0, strconv.ErrSyntax
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseUint(s, 10, bits)
}
