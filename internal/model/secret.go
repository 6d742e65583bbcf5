package model

import (
	"fmt"
	"log/slog"
)

// Password is a TCP-MD5 password. Every way Go has to print or encode it yields a redaction:
// fmt verbs, JSON, text marshalling and slog. Only the renderer reads the value, through
// Reveal.
type Password struct {
	value string
}

// Redacted is what stands for a secret wherever one would be shown: a Password printed or
// encoded, and a password masked in FRR configuration text (vtysh.MaskSecrets).
const Redacted = "<redacted>"

// NewPassword wraps a secret value.
func NewPassword(value string) Password { return Password{value: value} }

// IsSet reports whether a non-empty password is present.
func (p Password) IsSet() bool { return p.value != "" }

// Reveal returns the clear text. Callers write it to FRR and nowhere else.
func (p Password) Reveal() string { return p.value }

// Equal compares two passwords without exposing them.
func (p Password) Equal(o Password) bool { return p.value == o.value }

func (p Password) String() string   { return p.mask() }
func (p Password) GoString() string { return p.mask() }

func (p Password) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(p.mask())) }

func (p Password) MarshalJSON() ([]byte, error) { return []byte(`"` + p.mask() + `"`), nil }

func (p Password) MarshalText() ([]byte, error) { return []byte(p.mask()), nil }

func (p Password) LogValue() slog.Value { return slog.StringValue(p.mask()) }

func (p Password) mask() string {
	if p.value == "" {
		return ""
	}
	return Redacted
}
