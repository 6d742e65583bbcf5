package model

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

// TestViewName: instance names FRR takes as they are stay (no rendering changes); the others,
// whatever the CRD lets through (any string of 1 to 255 bytes), become distinct, stable,
// readable single words, and "default", which FRR's `vrf default` means its default instance
// by, is mapped too.
func TestViewName(t *testing.T) {
	hash8 := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:4])
	}
	tests := []struct{ name, want string }{
		{"", ""},
		{"blue", "blue"},
		{"rack-1.edge_2", "rack-1.edge_2"},
		{strings.Repeat("a", 63), strings.Repeat("a", 63)},
		{strings.Repeat("a", 64), strings.Repeat("a", 40) + "_" + hash8(strings.Repeat("a", 64))},
		{"default", "default_" + hash8("default")},
		{"Default", "Default"},
		{"blue team", "blue_team_" + hash8("blue team")},
		{"-blue", "-blue_" + hash8("-blue")},
		{"blue\nrouter bgp 1", "blue_router_bgp_1_" + hash8("blue\nrouter bgp 1")},
		{"bleu-équipe", "bleu-__quipe_" + hash8("bleu-équipe")},
		{strings.Repeat("x y", 85), strings.Repeat("x_y", 13) + "x_" + hash8(strings.Repeat("x y", 85))},
	}
	word := regexp.MustCompile(`^[A-Za-z0-9._-]{1,63}$`)
	seen := map[string]string{}
	for _, tt := range tests {
		got := ViewName(tt.name)
		if got != tt.want {
			t.Errorf("ViewName(%q) = %q, want %q", tt.name, got, tt.want)
		}
		if tt.name == "" {
			continue
		}
		if !word.MatchString(got) {
			t.Errorf("ViewName(%q) = %q, not one word of at most 63 printable bytes", tt.name, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("ViewName(%q) = ViewName(%q) = %q", tt.name, other, got)
		}
		seen[got] = tt.name
	}
}
