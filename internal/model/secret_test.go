package model

import (
	"strings"
	"testing"
)

// TestPasswordUnusable: the one rule of which passwords FRR takes, and its reasons never quote
// the password.
func TestPasswordUnusable(t *testing.T) {
	for _, tt := range []struct {
		password, want string
	}{
		{"s3cr3t-P4ss", ""},
		{strings.Repeat("x", 80), ""},
		{"", "must be 1 to 80 bytes"},
		{strings.Repeat("x", 81), "must be 1 to 80 bytes"},
		{"two words", "must be printable ASCII without spaces"},
		{"line\nbreak", "must be printable ASCII without spaces"},
		{"tab\there", "must be printable ASCII without spaces"},
		{"caf\u00e9", "must be printable ASCII without spaces"},
	} {
		got := NewPassword(tt.password).Unusable()
		if got != tt.want {
			t.Errorf("Unusable(%q) = %q, want %q", tt.password, got, tt.want)
		}
		if tt.password != "" && strings.Contains(got, tt.password) {
			t.Errorf("Unusable(%q) quotes the password: %q", tt.password, got)
		}
	}
}
