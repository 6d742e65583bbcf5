package manifest

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// decodeBlockYAML decodes the YAML that manifests are almost always written in, several times
// faster than the YAML parser, and reports false for anything else, which is then left to the
// parser. It reads block mappings and sequences indented with spaces, keys made of the
// characters of Kubernetes names and labels, plain or quoted scalars and flow collections
// that end on their line, and comments; it refuses anchors, aliases, tags, block and
// multi-line scalars, escapes, tabs, carriage returns, bytes outside printable ASCII, keys set
// twice and nesting beyond MaxDepth. What it accepts, it decodes as decodeYAML's parser does
// (YAML 1.1: a plain yes is true, 0x1F is 31), into the same JSON values: FuzzBlockYAML holds
// the two to that.
func decodeBlockYAML(doc []byte) (any, bool) {
	lines, ok := blockLines(doc)
	if !ok || len(lines) == 0 || lines[0].indent != 0 {
		return nil, false
	}
	p := blockParser{lines: lines}
	root, ok := p.mapping(0, 1)
	if !ok || p.pos != len(p.lines) {
		return nil, false
	}
	return root, true
}

// blockLine is a line that holds more than a comment.
type blockLine struct {
	indent int
	text   []byte // from the first character that is not a space
}

// blockLines splits doc into the lines that hold more than a comment, refusing the characters
// and lines the block parser leaves to the YAML parser.
func blockLines(doc []byte) ([]blockLine, bool) {
	for _, c := range doc {
		if c < ' ' && c != '\n' || c >= 0x7f {
			return nil, false
		}
	}
	lines := make([]blockLine, 0, bytes.Count(doc, []byte{'\n'})+1)
	for len(doc) > 0 {
		line := doc
		if i := bytes.IndexByte(doc, '\n'); i >= 0 {
			line, doc = doc[:i], doc[i+1:]
		} else {
			doc = nil
		}
		text := bytes.TrimLeft(line, " ")
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		indent := len(line) - len(text)
		if indent == 0 && (text[0] == '%' || bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("..."))) {
			return nil, false // a directive or a document marker
		}
		lines = append(lines, blockLine{indent: indent, text: text})
	}
	return lines, true
}

type blockParser struct {
	lines []blockLine
	pos   int
}

// mapping reads the mapping whose keys are at indent, depth levels deep.
func (p *blockParser) mapping(indent, depth int) (map[string]any, bool) {
	if depth > MaxDepth {
		return nil, false
	}
	m := map[string]any{}
	for p.pos < len(p.lines) && p.lines[p.pos].indent == indent {
		key, rest, ok := splitKey(p.lines[p.pos].text)
		if !ok {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false
		}
		var v any
		if rest = skipSpaces(rest); len(rest) == 0 || rest[0] == '#' {
			p.pos++
			// A sequence may sit at its key's indent.
			if v, ok = p.block(indent, true, depth+1); !ok {
				return nil, false
			}
		} else if v, ok = p.inline(rest, indent, depth+1); !ok {
			return nil, false
		}
		m[key] = v
	}
	return m, true
}

// sequence reads the sequence whose dashes are at indent, depth levels deep.
func (p *blockParser) sequence(indent, depth int) ([]any, bool) {
	if depth > MaxDepth {
		return nil, false
	}
	s := []any{}
	for p.pos < len(p.lines) && p.lines[p.pos].indent == indent && isItem(p.lines[p.pos].text) {
		rest := p.lines[p.pos].text[1:]
		content := skipSpaces(rest)
		var v any
		var ok bool
		switch {
		case len(content) == 0 || content[0] == '#':
			p.pos++
			v, ok = p.block(indent, false, depth+1)
		case isItem(content):
			return nil, false // a sequence in a sequence on one line
		case isKeyLine(content):
			// A mapping that starts on the dash's line: its keys are at the first one's
			// column.
			column := indent + 1 + len(rest) - len(content)
			p.lines[p.pos] = blockLine{indent: column, text: content}
			v, ok = p.mapping(column, depth+1)
		default:
			v, ok = p.inline(content, indent, depth+1)
		}
		if !ok {
			return nil, false
		}
		s = append(s, v)
	}
	return s, true
}

// block reads the value that follows a key or a dash alone on its line: a mapping or sequence
// indented more than parent, a sequence at parent's indent when sameIndentSeq, or else null.
func (p *blockParser) block(parent int, sameIndentSeq bool, depth int) (any, bool) {
	if p.pos == len(p.lines) {
		return nil, true
	}
	next := p.lines[p.pos]
	switch {
	case next.indent > parent && isItem(next.text):
		return p.sequence(next.indent, depth)
	case next.indent > parent && isKeyLine(next.text):
		return p.mapping(next.indent, depth)
	case next.indent > parent:
		return nil, false // a scalar on the lines below: maybe multi-line
	case next.indent == parent && sameIndentSeq && isItem(next.text):
		return p.sequence(parent, depth)
	}
	return nil, true
}

// inline reads the scalar or flow collection that ends the current line, whose key or dash is
// at indent; a collection is depth levels deep. The next line must not be indented more: that
// would continue the value, or be an error.
func (p *blockParser) inline(text []byte, indent, depth int) (any, bool) {
	var v any
	var ok bool
	if text[0] == '[' || text[0] == '{' {
		f := flowParser{text: text}
		v, ok = f.collection(depth)
		// From the closing bracket: a comment must follow a space.
		ok = ok && onlyComment(text[len(bytes.TrimRight(text[:f.pos], " ")):])
	} else {
		v, ok = scalar(text)
	}
	p.pos++
	if !ok || p.pos < len(p.lines) && p.lines[p.pos].indent > indent {
		return nil, false
	}
	return v, true
}

// isItem reports whether text starts a sequence item: a dash alone or followed by a space.
func isItem(text []byte) bool {
	return text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}

func isKeyLine(text []byte) bool {
	_, _, ok := splitKey(text)
	return ok
}

// splitKey splits `key: rest` or `key:`. The key must be a plain scalar of the characters of
// Kubernetes names, labels and annotation keys that YAML reads as a string.
func splitKey(text []byte) (string, []byte, bool) {
	i := 0
	for i < len(text) && isKeyChar(text[i]) {
		i++
	}
	if i == 0 || i > maxKeyBytes || i == len(text) || text[i] != ':' || i+1 < len(text) && text[i+1] != ' ' {
		return "", nil, false
	}
	key := string(text[:i])
	if c := key[0]; c == '-' || c == '.' || c == '/' {
		return "", nil, false
	}
	if _, isString := resolvePlain(key).(string); !isString {
		return "", nil, false
	}
	return key, text[i+1:], true
}

// maxKeyBytes bounds a key: the parser refuses a plain key of more than 1024 characters, and
// a Kubernetes key has at most 317 (a 253-character prefix, a slash, a 63-character name).
const maxKeyBytes = 512

func isKeyChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/'
}

func skipSpaces(b []byte) []byte { return bytes.TrimLeft(b, " ") }

// scalar reads a one-line scalar, with an optional comment after it.
func scalar(text []byte) (any, bool) {
	switch text[0] {
	case '\'':
		return singleQuoted(text)
	case '"':
		end := bytes.IndexByte(text[1:], '"') + 1
		if end == 0 || bytes.IndexByte(text[1:end], '\\') >= 0 || !onlyComment(text[end+1:]) {
			return nil, false
		}
		return string(text[1:end]), true
	case '-', '?', ':':
		if len(text) == 1 || text[1] == ' ' {
			return nil, false
		}
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`':
		return nil, false
	}
	end := len(text)
	if i := bytes.Index(text, []byte(" #")); i >= 0 {
		end = i
	}
	plain := bytes.TrimRight(text[:end], " ")
	if bytes.Contains(plain, []byte(": ")) || plain[len(plain)-1] == ':' {
		return nil, false
	}
	return resolvePlain(string(plain)), true
}

// flowParser reads a flow collection that ends on its line: [a, 'b'], {k: v, l: [1, 2]}.
// Its scalars are plain or quoted, without escapes; a plain one holds none of flowIndicators,
// and a key is a block key's characters followed by ": ". Empty entries, trailing commas and
// keys set twice are left to the parser.
type flowParser struct {
	text []byte
	pos  int
}

// flowIndicators are the characters a plain scalar in a flow collection is read without: some
// end it, others start what the block decoder does not read.
const flowIndicators = ",[]{}#:?'\"&*!|>%@`"

func (f *flowParser) collection(depth int) (any, bool) {
	if depth > MaxDepth {
		return nil, false
	}
	open := f.text[f.pos]
	f.pos++
	f.spaces()
	if open == '[' {
		s := []any{}
		if f.next(']') {
			return s, true
		}
		for {
			v, ok := f.node(depth + 1)
			if !ok {
				return nil, false
			}
			s = append(s, v)
			if !f.next(',') {
				return s, f.next(']')
			}
		}
	}
	m := map[string]any{}
	if f.next('}') {
		return m, true
	}
	for {
		key, rest, ok := splitKey(f.text[f.pos:])
		if !ok || len(rest) == 0 {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false
		}
		f.pos = len(f.text) - len(rest)
		if m[key], ok = f.node(depth + 1); !ok {
			return nil, false
		}
		if !f.next(',') {
			return m, f.next('}')
		}
	}
}

// node reads an entry of a collection, and the spaces after it.
func (f *flowParser) node(depth int) (any, bool) {
	f.spaces()
	if f.pos == len(f.text) {
		return nil, false
	}
	var v any
	var ok bool
	switch c := f.text[f.pos]; c {
	case '[', '{':
		v, ok = f.collection(depth)
	case '\'', '"':
		end := bytes.IndexByte(f.text[f.pos+1:], c)
		if end < 0 {
			return nil, false
		}
		end += f.pos + 1
		quoted := f.text[f.pos : end+1]
		if c == '\'' && end+1 < len(f.text) && f.text[end+1] == '\'' {
			return nil, false // a doubled quote
		}
		v, ok = scalar(quoted)
		f.pos = end + 1
	default:
		end := f.pos
		for end < len(f.text) && strings.IndexByte(flowIndicators, f.text[end]) < 0 {
			end++
		}
		if end < len(f.text) && strings.IndexByte(",]}", f.text[end]) < 0 {
			return nil, false // an indicator inside, not one that ends the scalar
		}
		plain := bytes.TrimRight(f.text[f.pos:end], " ")
		if len(plain) == 0 {
			return nil, false
		}
		v, ok = scalar(plain)
		f.pos = end
	}
	f.spaces()
	return v, ok
}

// next consumes c, and the spaces after it, if it comes next.
func (f *flowParser) next(c byte) bool {
	if f.pos < len(f.text) && f.text[f.pos] == c {
		f.pos++
		f.spaces()
		return true
	}
	return false
}

func (f *flowParser) spaces() {
	for f.pos < len(f.text) && f.text[f.pos] == ' ' {
		f.pos++
	}
}

func singleQuoted(text []byte) (any, bool) {
	var sb strings.Builder
	for i := 1; i < len(text); i++ {
		if text[i] != '\'' {
			sb.WriteByte(text[i])
			continue
		}
		if i+1 < len(text) && text[i+1] == '\'' {
			sb.WriteByte('\'')
			i++
			continue
		}
		if !onlyComment(text[i+1:]) {
			return nil, false
		}
		return sb.String(), true
	}
	return nil, false // the quote closes on a later line
}

// onlyComment reports whether what follows a quoted scalar is nothing, or a comment.
func onlyComment(rest []byte) bool {
	trimmed := skipSpaces(rest)
	return len(trimmed) == 0 || trimmed[0] == '#' && len(trimmed) < len(rest)
}

// resolvePlain gives a plain scalar the value the YAML parser gives it when decoding into an
// interface: YAML 1.1's booleans, nulls, integers (base prefixes and underscores allowed) and
// floats, and a string for the rest. (The parser gives a timestamp as the string it is, and no
// timestamp reads as a number.)
func resolvePlain(s string) any {
	if s == "" {
		return nil
	}
	hint := resolveHint(s[0])
	if hint == 0 {
		return s
	}
	if v, ok := plainWords[s]; ok {
		return v
	}
	switch hint {
	case '.':
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case 'D', 'S':
		plain := strings.ReplaceAll(s, "_", "")
		// No integer has a dot; skipping addresses and versions spares the parsers'
		// errors, which allocate.
		if !strings.Contains(plain, ".") {
			if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
				return intValue(i)
			}
			if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
				return u
			}
		}
		if yamlFloat.MatchString(plain) {
			if f, err := strconv.ParseFloat(plain, 64); err == nil {
				return f
			}
		}
		if bin, ok := strings.CutPrefix(plain, "0b"); ok {
			if i, err := strconv.ParseInt(bin, 2, 64); err == nil {
				return intValue(i)
			}
			if u, err := strconv.ParseUint(bin, 2, 64); err == nil {
				return u
			}
		} else if bin, ok := strings.CutPrefix(plain, "-0b"); ok {
			if i, err := strconv.ParseInt("-"+bin, 2, 64); err == nil {
				return int(i)
			}
		}
	}
	return s
}

// resolveHint classes a plain scalar by its first character: a sign, a digit, a letter that
// starts a word of plainWords, a dot, or 0 for a string.
func resolveHint(c byte) byte {
	switch {
	case c == '+' || c == '-':
		return 'S'
	case '0' <= c && c <= '9':
		return 'D'
	case c == '.':
		return '.'
	case strings.IndexByte("yYnNtTfFoO~", c) >= 0:
		return 'M'
	}
	return 0
}

func intValue(i int64) any {
	if i == int64(int(i)) {
		return int(i)
	}
	return i
}

var plainWords = func() map[string]any {
	m := map[string]any{}
	for v, words := range map[any][]string{
		true:  {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"},
		false: {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"},
		nil:   {"~", "null", "Null", "NULL"},
	} {
		for _, w := range words {
			m[w] = v
		}
	}
	for v, words := range map[float64][]string{
		math.Inf(+1): {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"},
		math.Inf(-1): {"-.inf", "-.Inf", "-.INF"},
	} {
		for _, w := range words {
			m[w] = v
		}
	}
	for _, w := range []string{".nan", ".NaN", ".NAN"} {
		m[w] = math.NaN()
	}
	return m
}()

var yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
