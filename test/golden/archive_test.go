package golden

import (
	"testing"

	"golang.org/x/tools/txtar"
)

// archive is a scenario's txtar file: a comment, then sections each starting with a
// "-- name --" line.
type archive struct{ *txtar.Archive }

func readArchive(t testing.TB, path string) *archive {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return &archive{ar}
}

func (a *archive) get(name string) (string, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return string(f.Data), true
		}
	}
	return "", false
}

// set replaces a section's content, appending the section when it is new.
func (a *archive) set(name, content string) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = []byte(content)
			return
		}
	}
	a.Files = append(a.Files, txtar.File{Name: name, Data: []byte(content)})
}

func (a *archive) format() []byte { return txtar.Format(a.Archive) }
