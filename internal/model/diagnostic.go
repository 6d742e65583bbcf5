package model

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ObjectRef names a Kubernetes object in diagnostics and provenance.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String is Kind/name or Kind/namespace/name. A part that is not a plain word of printable
// ASCII is quoted (Go syntax), so that no name can end the line it is printed on or pass for
// more than one part.
func (r ObjectRef) String() string {
	if r.Namespace != "" {
		return QuoteUnlessPlain(r.Kind) + "/" + QuoteUnlessPlain(r.Namespace) + "/" + QuoteUnlessPlain(r.Name)
	}
	return QuoteUnlessPlain(r.Kind) + "/" + QuoteUnlessPlain(r.Name)
}

// QuoteUnlessPlain returns s as it is when it is a non-empty run of printable ASCII without
// spaces, quotes, backslashes or slashes (every Kubernetes name and kind), else quoted in Go
// syntax.
func QuoteUnlessPlain(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' || c == '/' {
			return strconv.Quote(s)
		}
	}
	return s
}

// OneLine escapes what would break a line of text (control characters, Unicode line and
// paragraph separators) in Go syntax, and leaves the rest as it is: a message stays one line
// whatever value it quotes.
func OneLine(s string) string {
	if strings.IndexFunc(s, breaksLine) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if breaksLine(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func breaksLine(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// Severity says whether Cilium would carry on (Warning) or fail the affected BGP instance
// (Error).
type Severity int

const (
	Warning Severity = iota
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Diagnostic is a problem found in the input, tied to the object and field that caused it.
// Messages never contain secret values. Values from the input are quoted in the message (%q);
// String keeps the whole diagnostic on one line all the same.
type Diagnostic struct {
	Severity Severity
	Object   ObjectRef
	// Field is a JSON path within the object, e.g. spec.bgpInstances[0].peers[1].peerAddress.
	Field   string
	Message string
}

func (d Diagnostic) String() string {
	if d.Field == "" {
		return fmt.Sprintf("%s: %s: %s", d.Severity, d.Object, OneLine(d.Message))
	}
	return fmt.Sprintf("%s: %s: %s: %s", d.Severity, d.Object, OneLine(d.Field), OneLine(d.Message))
}
