package golden

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// archive is a txtar file: a comment, then sections each starting with a "-- name --" line.
type archive struct {
	comment string
	names   []string
	files   map[string]string
}

func readArchive(t testing.TB, path string) *archive {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ar := &archive{files: map[string]string{}}
	var cur *string
	var b strings.Builder
	flush := func() {
		if cur != nil {
			ar.files[*cur] = b.String()
		} else {
			ar.comment = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if name, ok := sectionName(line); ok {
			flush()
			ar.names = append(ar.names, name)
			n := name
			cur = &n
			continue
		}
		b.WriteString(line)
	}
	flush()
	return ar
}

func sectionName(line string) (string, bool) {
	l := strings.TrimRight(line, "\n")
	if strings.HasPrefix(l, "-- ") && strings.HasSuffix(l, " --") && len(l) > 6 {
		return strings.TrimSpace(l[3 : len(l)-3]), true
	}
	return "", false
}

func (a *archive) get(name string) (string, bool) {
	v, ok := a.files[name]
	return v, ok
}

// set replaces a section's content, appending the section when it is new.
func (a *archive) set(name, content string) {
	if _, ok := a.files[name]; !ok {
		a.names = append(a.names, name)
	}
	a.files[name] = content
}

func (a *archive) format() []byte {
	var b bytes.Buffer
	b.WriteString(a.comment)
	for _, n := range a.names {
		b.WriteString("-- " + n + " --\n")
		c := a.files[n]
		b.WriteString(c)
		if c != "" && !strings.HasSuffix(c, "\n") {
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}
