package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// stdinName stands for stdin in error messages and duplicate warnings.
const stdinName = "<stdin>"

// Load reads every path: a file (multi-document YAML or JSON), a directory (read recursively,
// files ending .yaml .yml .json, in lexical order), or "-" for stdin (read from the given
// reader). A path named explicitly may be a pipe (as <(command) gives); in a directory only
// regular files and symlinks to them are read, the rest skipped with a warning.
//
// Objects defined more than once keep the last definition, wherever it comes from, so the
// order of paths matters the way it does for kubectl apply. On error nothing is returned but
// the error.
func Load(paths []string, stdin io.Reader) (*model.Snapshot, []model.Diagnostic, error) {
	files, diags, err := listFiles(paths)
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
	files, diags, err := listFiles(paths)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.path
	}
	return names, diags, nil
}

// listed is a file Load reads.
type listed struct {
	path string
	// explicit: the path was given, not found in a folder, so it may be a pipe.
	explicit bool
}

func listFiles(paths []string) ([]listed, []model.Diagnostic, error) {
	var files []listed
	var diags []model.Diagnostic
	for _, path := range paths {
		if path == "-" {
			files = append(files, listed{path, true})
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			return nil, nil, err // *fs.PathError already names the path.
		}
		if !info.IsDir() {
			// A file named explicitly is read whatever its extension, as kubectl -f does.
			files = append(files, listed{path, true})
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
			if !isManifest(p) {
				return nil
			}
			if why := notRegular(p, d); why != "" {
				diags = append(diags, skipped(p, why))
				return nil
			}
			files = append(files, listed{path: p})
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return files, diags, nil
}

// notRegular says why the folder entry p is not read, or "" when it is a regular file or a
// symlink to one.
func notRegular(p string, d fs.DirEntry) string {
	mode := d.Type()
	if mode&fs.ModeSymlink != 0 {
		info, err := os.Stat(p)
		if err != nil {
			return "a symlink to nothing that can be read"
		}
		mode = info.Mode().Type()
	}
	return fileType(mode)
}

// fileType is "" for a regular file, else what the file is.
func fileType(mode fs.FileMode) string {
	switch {
	case mode.IsRegular():
		return ""
	case mode.IsDir():
		return "a folder"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// skipped is the warning about a file that is not read.
func skipped(path, why string) model.Diagnostic {
	return model.Diagnostic{
		Severity: model.Warning,
		Message:  fmt.Sprintf("%q is skipped: %s; only regular files are read", path, why),
	}
}

// loadPath reads one entry of listFiles.
func (l *loader) loadPath(f listed, stdin io.Reader) error {
	if f.path == "-" {
		if stdin == nil {
			return errors.New(`reading "-": no stdin reader`)
		}
		data, err := readLimited(stdin)
		if err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
		return l.decodeStream(stdinName, data)
	}
	data, why, err := readFile(f.path, f.explicit)
	if err != nil {
		return err
	}
	if why != "" {
		l.diags = append(l.diags, skipped(f.path, why))
		return nil
	}
	return l.decodeStream(f.path, data)
}

// readFile reads the file at path, at most MaxFileBytes of it, without ever blocking on a
// file that is not regular: it opens without blocking and looks at what it opened. A file that
// is not regular is not read, and why says what it is; but a pipe is read when pipeOK (a path
// given explicitly, as <(command) gives), until its writer closes it.
func readFile(path string, pipeOK bool) (data []byte, why string, err error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, "", err // *fs.PathError already names the path.
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if why := fileType(info.Mode().Type()); why != "" && !(pipeOK && info.Mode()&fs.ModeNamedPipe != 0) {
		return nil, why, nil
	}
	data, err = readLimited(f)
	if err != nil {
		return nil, "", fmt.Errorf("reading %q: %w", path, err)
	}
	return data, "", nil
}

// readLimited reads r to its end, or fails once it holds more than MaxFileBytes.
func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("more than the %d bytes a file may hold", MaxFileBytes)
	}
	return data, nil
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
