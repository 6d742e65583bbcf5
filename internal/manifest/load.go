package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// stdinName stands for stdin in error messages and duplicate warnings.
const stdinName = "<stdin>"

// Load reads every path: a file (multi-document YAML or JSON), a directory (read recursively,
// files ending .yaml .yml .json, in lexical order), or "-" for stdin (read from the given
// reader).
//
// Objects defined more than once keep the last definition, wherever it comes from, so the
// order of paths matters the way it does for kubectl apply. On error nothing is returned but
// the error.
func Load(paths []string, stdin io.Reader) (*model.Snapshot, []model.Diagnostic, error) {
	files, diags, err := Files(paths)
	if err != nil {
		return nil, nil, err
	}
	snap := &model.Snapshot{}
	l := newLoader(snap)
	l.diags = diags
	for _, f := range files {
		if err := l.loadPath(f, stdin); err != nil {
			return nil, nil, err
		}
	}
	l.finish()
	return snap, l.diags, nil
}

// Files lists the files Load reads for paths, in the order it reads them: a path that is a
// file, whatever its name; the manifests found in a path that is a folder (see Load); "-"
// for stdin. A file listed twice is read twice. The diagnostics are about files skipped.
//
// Reading each file of the list with Load, one at a time, and keeping the last definition of
// every object, gives what Load gives for paths: a reader that caches files (the standalone
// mode's) reads only those that changed.
func Files(paths []string) ([]string, []model.Diagnostic, error) {
	var files []string
	for _, path := range paths {
		if path == "-" {
			files = append(files, path)
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			return nil, nil, err // *fs.PathError already names the path.
		}
		if !info.IsDir() {
			// A file named explicitly is read whatever its extension, as kubectl -f does.
			files = append(files, path)
			continue
		}
		// WalkDir visits entries in lexical order, which makes the outcome of duplicate
		// definitions predictable. The trailing separator makes it follow a root that is a
		// symlink to a folder.
		root := strings.TrimSuffix(path, string(filepath.Separator)) + string(filepath.Separator)
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				// Hidden folders hold no manifests; in a ConfigMap volume they hold a second
				// copy of every file (kubelet's ..data and timestamped folders).
				if p != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if isManifest(p) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return files, nil, nil
}

// loadPath reads one entry of Files.
func (l *loader) loadPath(path string, stdin io.Reader) error {
	if path == "-" {
		if stdin == nil {
			return errors.New(`reading "-": no stdin reader`)
		}
		data, err := io.ReadAll(stdin)
		if err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
		return l.decodeStream(stdinName, data)
	}
	return l.loadFile(path)
}

func (l *loader) loadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return l.decodeStream(path, data)
}

// isManifest reports whether a file found in a directory is read. The extensions are those
// kubectl apply -R reads; other files (READMEs, FRR configurations) sit next to manifests.
func isManifest(path string) bool {
	switch filepath.Ext(path) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}
