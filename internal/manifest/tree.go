package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	yaml "go.yaml.in/yaml/v2"
	sigsjson "sigs.k8s.io/json"
)

// tree is a document decoded once, as JSON values: map[string]any, []any, string, bool,
// int64 or float64 (JSON) or int, int64, uint64 or float64 (YAML), and nil.
type tree struct {
	root any
	// duplicates are the keys set twice in a mapping: the last value is in root, as when
	// kubectl or the API server decode without strict validation.
	duplicates []duplicate
}

type duplicate struct {
	// field is the JSON path of the key, when the parser tells it (JSON only).
	field string
	// what names the key for a message, its value never.
	what string
}

// decodeTree decodes a document that is a JSON object, or else YAML, as kubectl does (YAML 1.1
// as sigs.k8s.io/yaml reads it), and checks that it nests no deeper than MaxDepth.
//
// Its errors never quote the input: the kind is unknown until the document decodes, so the
// document may be a Secret.
func decodeTree(doc []byte) (tree, error) {
	if trimmed := bytes.TrimLeft(doc, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		return decodeJSON(doc)
	}
	return decodeYAML(doc)
}

func decodeJSON(doc []byte) (tree, error) {
	var t tree
	dups, err := sigsjson.UnmarshalStrict(doc, &t.root, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return tree{}, jsonSyntaxError(err)
	}
	for _, e := range dups {
		if field, ok := strictField(e, "duplicate field "); ok {
			t.duplicates = append(t.duplicates, duplicate{field: field, what: "the field"})
		}
	}
	if err := checkDepth(t.root, 1); err != nil {
		return tree{}, err
	}
	return t, nil
}

// jsonStructural matches the JSON parser's errors that quote a misplaced bracket, comma, colon
// or quote where a key or the next element was due. Others may quote a character of a value.
var jsonStructural = regexp.MustCompile(`^invalid character '[][{}:,"]' (after [a-z :-]+|looking for beginning of object key string)$`)

func jsonSyntaxError(err error) error {
	msg := err.Error()
	if jsonStructural.MatchString(msg) || msg == "unexpected end of JSON input" {
		return errors.New(msg)
	}
	if ok, offset := sigsjson.SyntaxErrorOffset(err); ok {
		return fmt.Errorf("invalid JSON at offset %d (%s)", offset, withheld)
	}
	return fmt.Errorf("invalid JSON (%s)", withheld)
}

func decodeYAML(doc []byte) (tree, error) {
	if root, ok := decodeBlockYAML(doc); ok {
		return tree{root: root}, nil
	}
	return parseYAML(doc)
}

// parseYAML decodes doc with the YAML parser.
func parseYAML(doc []byte) (tree, error) {
	var t tree
	var raw any
	// The strict decoder finds duplicate keys (as type errors) but keeps the first value;
	// duplicates are rare, so the document is decoded again for the last.
	err := yaml.UnmarshalStrict(doc, &raw)
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) {
		for _, e := range typeErr.Errors {
			if d, ok := yamlDuplicate(e); ok {
				t.duplicates = append(t.duplicates, d)
			}
		}
		raw = nil
		err = yaml.Unmarshal(doc, &raw)
	}
	if err != nil {
		return tree{}, yamlSyntaxError(err)
	}
	if t.root, err = jsonable(raw, 1); err != nil {
		return tree{}, err
	}
	return t, nil
}

// yamlFixed matches the YAML parser's errors whose words are its own: the scanner's and the
// parser's messages. Others (unknown anchors, tags that do not fit a value, invalid keys)
// quote the input.
var yamlFixed = regexp.MustCompile(`^yaml: line \d+: [a-z0-9 ]+$`)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+):`)

func yamlSyntaxError(err error) error {
	msg := err.Error()
	if yamlFixed.MatchString(msg) {
		return errors.New(msg)
	}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("yaml: line %s: invalid YAML (%s)", m[1], withheld)
	}
	return fmt.Errorf("yaml: invalid YAML (%s)", withheld)
}

// yamlDuplicate reads the strict decoder's `line N: key K already set in map`.
var yamlDuplicateKey = regexp.MustCompile(`^line (\d+): key (.*) already set in map$`)

func yamlDuplicate(e string) (duplicate, bool) {
	m := yamlDuplicateKey.FindStringSubmatch(e)
	if m == nil {
		return duplicate{}, false
	}
	return duplicate{what: fmt.Sprintf("key %q (line %s)", unquote(m[2]), m[1])}, true
}

// unquote undoes the parsers' %q (or %#v of a string); other text is returned as it is.
func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// jsonable turns what the YAML decoder returns into JSON values, as sigs.k8s.io/yaml does:
// keys that are numbers or booleans become strings; other keys are refused. depth is v's.
func jsonable(v any, depth int) (any, error) {
	switch v := v.(type) {
	case map[any]any:
		if depth > MaxDepth {
			return nil, errTooDeep
		}
		m := make(map[string]any, len(v))
		for k, e := range v {
			key, ok := keyString(k)
			if !ok {
				return nil, errors.New("a mapping key is not a string, a number or a boolean (a null, a list or a mapping), which JSON cannot hold")
			}
			var err error
			if m[key], err = jsonable(e, depth+1); err != nil {
				return nil, err
			}
		}
		return m, nil
	case []any:
		if depth > MaxDepth {
			return nil, errTooDeep
		}
		for i, e := range v {
			var err error
			if v[i], err = jsonable(e, depth+1); err != nil {
				return nil, err
			}
		}
		return v, nil
	}
	return v, nil
}

// keyString is sigs.k8s.io/yaml's conversion of a YAML key to a JSON one.
func keyString(k any) (string, bool) {
	switch k := k.(type) {
	case string:
		return k, true
	case int:
		return strconv.Itoa(k), true
	case int64:
		return strconv.FormatInt(k, 10), true
	case uint64:
		return strconv.FormatUint(k, 10), true
	case float64:
		s := strconv.FormatFloat(k, 'g', -1, 32)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
		return s, true
	case bool:
		return strconv.FormatBool(k), true
	}
	return "", false
}

var errTooDeep = fmt.Errorf("mappings and lists nest deeper than %d levels (Lists in Lists count)", MaxDepth)

// checkDepth checks that v, at depth, nests no deeper than MaxDepth.
func checkDepth(v any, depth int) error {
	switch v := v.(type) {
	case map[string]any:
		if depth > MaxDepth {
			return errTooDeep
		}
		for _, e := range v {
			if err := checkDepth(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if depth > MaxDepth {
			return errTooDeep
		}
		for _, e := range v {
			if err := checkDepth(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// marshalTree is json.Marshal of a tree's value (the same bytes), without reflection:
// decoding turns each object of a document into JSON once more, for the typed decoder.
func marshalTree(v any) ([]byte, error) {
	e := treeEncoder{b: make([]byte, 0, 512)}
	if err := e.value(v); err != nil {
		return nil, err
	}
	return e.b, nil
}

type treeEncoder struct {
	b []byte
	// keys is a stack of the keys of the mappings being written, sorted as json.Marshal
	// sorts them, kept from one mapping to the next.
	keys []string
}

func (e *treeEncoder) value(v any) error {
	switch v := v.(type) {
	case nil:
		e.b = append(e.b, "null"...)
	case bool:
		e.b = strconv.AppendBool(e.b, v)
	case string:
		e.b = appendString(e.b, v)
	case int:
		e.b = strconv.AppendInt(e.b, int64(v), 10)
	case int64:
		e.b = strconv.AppendInt(e.b, v, 10)
	case uint64:
		e.b = strconv.AppendUint(e.b, v, 10)
	case map[string]any:
		start := len(e.keys)
		for k := range v {
			e.keys = append(e.keys, k)
		}
		keys := e.keys[start:]
		slices.Sort(keys)
		e.b = append(e.b, '{')
		for i, k := range keys {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = appendString(e.b, k)
			e.b = append(e.b, ':')
			if err := e.value(v[k]); err != nil {
				return err
			}
		}
		e.b = append(e.b, '}')
		e.keys = e.keys[:start]
	case []any:
		e.b = append(e.b, '[')
		for i, item := range v {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			if err := e.value(item); err != nil {
				return err
			}
		}
		e.b = append(e.b, ']')
	default:
		// float64, and anything else: rare enough for the reflecting encoder.
		js, err := json.Marshal(v)
		if err != nil {
			return err
		}
		e.b = append(e.b, js...)
	}
	return nil
}

// appendString appends s as a JSON string, escaped as json.Marshal escapes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			js, _ := json.Marshal(s) // a string always encodes
			return append(b, js...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
