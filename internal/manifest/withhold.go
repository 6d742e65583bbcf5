package manifest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Parsers quote the input in their errors: the YAML parser quotes anchors, tags and map keys,
// the JSON parser the offending character and out-of-range numbers. In a Secret that input may
// be the password. What may be quoted is decided by structure, not text: a document that does
// not decode has no kind yet and may be a Secret, so decodeTree's errors keep only what the
// parsers word themselves; an object that decodes as a Secret has its errors withheld here.

const withheld = "details withheld: the document may hold Secret data"

// withholdIf returns err, or when secret is set an error that locates the problem without
// quoting the input.
func withholdIf(secret bool, err error) error {
	if !secret {
		return err
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var base64Err base64.CorruptInputError
	switch {
	case errors.As(err, &typeErr):
		// Value is "string", "number"... except for numbers out of range, which it quotes.
		e := *typeErr
		e.Value, _, _ = strings.Cut(e.Value, " ")
		return &e
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("invalid JSON at offset %d (%s)", syntaxErr.Offset, withheld)
	case errors.As(err, &base64Err):
		return base64Err // it gives an offset only
	}
	return fmt.Errorf("invalid document (%s)", withheld)
}
