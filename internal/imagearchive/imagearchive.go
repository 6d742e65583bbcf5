// Package imagearchive writes container images as `docker save` archives, without a container
// engine or a registry: containerd (`ctr images import`) and docker (`docker load`) both read
// them. Each layer is a reproducible tar (sorted entries, one fixed modification time, hard
// links kept), so the same input gives the same image ID.
package imagearchive

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// epoch is every entry's modification time and the image's creation time, so that the same
// input gives the same bytes (the same layer digests, the same image ID).
var epoch = time.Unix(0, 0).UTC()

// Config is the part of the image configuration a container runtime reads.
type Config struct {
	Env        []string          `json:"Env,omitempty"`
	Entrypoint []string          `json:"Entrypoint,omitempty"`
	Cmd        []string          `json:"Cmd,omitempty"`
	User       string            `json:"User,omitempty"`
	WorkingDir string            `json:"WorkingDir,omitempty"`
	Labels     map[string]string `json:"Labels,omitempty"`
}

// Layer is one layer of an image: the content of Dir as the image's /, less Exclude (paths
// relative to Dir; a trailing "/*" keeps the directory but leaves out its content), or Files.
type Layer struct {
	Dir     string
	Exclude []string
	Files   []File
}

// File is a file of a Files layer: Src placed at Dst (parent directories are added,
// root-owned, 0755), with its own mode and owner unless Mode is set.
type File struct {
	Src, Dst string
	Mode     int64 // 0: Src's mode and owner
	UID, GID int
}

// Write writes the image as a `docker save` archive at out: tags, cfg, and the layers in
// order. It builds the archive in a temporary file next to out and renames it into place, so
// that an interrupted build never leaves a truncated archive under the final name.
func Write(out string, tags []string, cfg Config, layers []Layer) (err error) {
	f, err := os.CreateTemp(filepath.Dir(out), ".mkimage-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	archive := tar.NewWriter(f)
	var diffIDs, layerFiles []string
	for i, layer := range layers {
		name := fmt.Sprintf("layer%d.tar", i)
		id, err := writeLayer(archive, name, layer)
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		diffIDs = append(diffIDs, "sha256:"+id)
		layerFiles = append(layerFiles, name)
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      epoch.Format(time.RFC3339),
		"config":       cfg,
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(config)
	configName := hex.EncodeToString(sum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": tags, "Layers": layerFiles}})
	if err != nil {
		return err
	}
	for _, file := range []struct {
		name string
		data []byte
	}{{configName, config}, {"manifest.json", manifest}} {
		if err := addBytes(archive, file.name, file.data); err != nil {
			return err
		}
	}
	if err := archive.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}

func addBytes(archive *tar.Writer, name string, data []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := archive.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := archive.Write(data)
	return err
}

// writeLayer writes the layer tar into a temporary file (its size must be known before it
// goes into the archive), then copies it in as name. It returns the layer's sha256 (its
// diff ID: the layer is not compressed).
func writeLayer(archive *tar.Writer, name string, layer Layer) (string, error) {
	tmp, err := os.CreateTemp("", "mkimage-layer-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	lw := &layerWriter{tw: tar.NewWriter(io.MultiWriter(tmp, h)), links: map[fileID]string{}, dirs: map[string]bool{}}
	if layer.Dir != "" {
		err = lw.addTree(layer.Dir, layer.Exclude)
	} else {
		err = lw.addFiles(layer.Files)
	}
	if err != nil {
		return "", err
	}
	if err := lw.tw.Close(); err != nil {
		return "", err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := archive.WriteHeader(hdr); err != nil {
		return "", err
	}
	if _, err := io.Copy(archive, tmp); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type fileID struct{ dev, ino uint64 }

type layerWriter struct {
	tw    *tar.Writer
	links map[fileID]string // the first path of each file with several links
	dirs  map[string]bool   // directories written, for addFiles' parents
}

// addTree adds the content of root, in lexical order, as the layer's /. Device nodes are left
// out: the runtime mounts /dev.
func (w *layerWriter) addTree(root string, excludes []string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, x := range excludes {
			if content, ok := strings.CutSuffix(x, "/*"); ok {
				if strings.HasPrefix(rel, content+"/") {
					return skip(d)
				}
			} else if rel == x || strings.HasPrefix(rel, x+"/") {
				return skip(d)
			}
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if info.Mode()&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0 {
			return nil
		}
		return w.add(p, rel, info, nil)
	})
}

func skip(d fs.DirEntry) error {
	if d.IsDir() {
		return filepath.SkipDir
	}
	return nil
}

// addFiles adds files at their destinations, after their parent directories.
func (w *layerWriter) addFiles(files []File) error {
	for _, f := range files {
		dst := strings.TrimPrefix(path.Clean("/"+f.Dst), "/")
		for _, dir := range parents(dst) {
			if w.dirs[dir] {
				continue
			}
			hdr := &tar.Header{Name: dir + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: epoch, Format: tar.FormatPAX}
			if err := w.tw.WriteHeader(hdr); err != nil {
				return err
			}
			w.dirs[dir] = true
		}
		info, err := os.Stat(f.Src)
		if err != nil {
			return err
		}
		var override *tar.Header
		if f.Mode != 0 {
			override = &tar.Header{Mode: f.Mode, Uid: f.UID, Gid: f.GID}
		}
		if err := w.add(f.Src, dst, info, override); err != nil {
			return err
		}
	}
	return nil
}

// parents lists p's parent directories, outermost first.
func parents(p string) []string {
	var out []string
	for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
		out = append(out, dir)
	}
	slices.Reverse(out)
	return out
}

// add writes one entry: owner and mode from the file (or override), the fixed time, a hard
// link to the first path of a file seen before.
func (w *layerWriter) add(src, name string, info fs.FileInfo, override *tar.Header) error {
	var link string
	if info.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(src); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	hdr.Name = name
	if info.IsDir() {
		hdr.Name += "/"
		w.dirs[name] = true
	}
	hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = epoch, time.Time{}, time.Time{}
	hdr.Uname, hdr.Gname = "", ""
	hdr.Format = tar.FormatPAX
	if override != nil {
		hdr.Mode, hdr.Uid, hdr.Gid = override.Mode, override.Uid, override.Gid
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && info.Mode().IsRegular() && st.Nlink > 1 {
		id := fileID{uint64(st.Dev), st.Ino}
		if first, seen := w.links[id]; seen {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return w.tw.WriteHeader(hdr)
		}
		w.links[id] = name
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w.tw, f)
	return err
}
