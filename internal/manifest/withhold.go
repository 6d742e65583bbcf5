package manifest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Parsers quote the input in their errors: the YAML parser quotes anchors, tags and map keys
// (and the YAML to JSON conversion whole values), the JSON parser the offending character and
// out-of-range numbers. In a Secret that input may be the password, so the errors of documents
// that may hold a Secret keep only what locates the problem.

// secretWord finds the kinds that may hold Secret data. It matches more than kind fields
// (comments, labels...): a false match only costs a less detailed error.
var secretWord = regexp.MustCompile(`\b(Secret|SecretList|List)\b`)

// mayHoldSecret guesses from its text whether a document that did not parse yet could be a
// Secret or a List of them.
func mayHoldSecret(doc []byte) bool { return secretWord.Match(doc) }

// yamlLine finds the line number in errors of the YAML parser.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+):`)

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
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("yaml: line %s: invalid YAML (%s)", m[1], withheld)
	}
	if strings.HasPrefix(msg, "yaml: ") {
		return fmt.Errorf("yaml: invalid YAML (%s)", withheld)
	}
	return fmt.Errorf("invalid document (%s)", withheld)
}
