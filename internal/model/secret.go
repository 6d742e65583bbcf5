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

// PasswordKey is the key of a BGP Secret that holds the password (Cilium's), the only one
// frr-renderer reads.
const PasswordKey = "password"

// Redacted is what stands for a secret wherever one would be shown: a Password printed or
// encoded, and a password masked in FRR configuration text (frrconfig.MaskSecrets).
const Redacted = "<redacted>"

// NewPassword wraps a secret value.
func NewPassword(value string) Password { return Password{value: value} }

// IsSet reports whether a non-empty password is present.
func (p Password) IsSet() bool { return p.value != "" }

// Reveal returns the clear text. Callers write it to FRR and nowhere else.
func (p Password) Reveal() string { return p.value }

// MaxPasswordLen is the longest TCP-MD5 password the kernel takes (TCP_MD5SIG_MAXKEYLEN).
const MaxPasswordLen = 80

// Unusable says why FRR cannot take the password, without quoting it, or "". FRR reads the
// password as the rest of a command line: a control character would end the command or start
// another, and runs of spaces would be folded.
func (p Password) Unusable() string {
	if len(p.value) == 0 || len(p.value) > MaxPasswordLen {
		return fmt.Sprintf("must be 1 to %d bytes", MaxPasswordLen)
	}
	for i := 0; i < len(p.value); i++ {
		if c := p.value[i]; c <= ' ' || c > '~' {
			return "must be printable ASCII without spaces"
		}
	}
	return ""
}

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
