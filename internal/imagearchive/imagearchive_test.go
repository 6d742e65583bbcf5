package imagearchive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWrite(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/bin", "usr/share/doc/frr", "etc/frr"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, data string) {
		if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("usr/bin/vtysh", "vtysh")
	write("usr/share/doc/frr/README", "docs")
	write("etc/frr/daemons", "bgpd=no")
	if err := os.Link(filepath.Join(root, "usr/bin/vtysh"), filepath.Join(root, "usr/bin/vtysh2")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("vtysh", filepath.Join(root, "usr/bin/vty")); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(t.TempDir(), "start")
	if err := os.WriteFile(extra, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	layers := []Layer{
		{Dir: root, Exclude: []string{"usr/share/doc", "etc/frr/*"}},
		{Files: []File{{Src: extra, Dst: "/usr/lib/x/start", Mode: 0o755}}},
	}
	cfg := Config{Entrypoint: []string{"/usr/lib/x/start"}, User: "65532"}
	out1, out2 := filepath.Join(t.TempDir(), "a.tar"), filepath.Join(t.TempDir(), "b.tar")
	for _, out := range []string{out1, out2} {
		if err := Write(out, []string{"frr-renderer/test:1"}, cfg, layers); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.ReadFile(out1)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Error("two writes of the same image differ: the archive is not reproducible")
	}

	files := untar(t, a)
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v %s", err, files["manifest.json"])
	}
	m := manifest[0]
	if !slices.Equal(m.RepoTags, []string{"frr-renderer/test:1"}) || len(m.Layers) != 2 {
		t.Fatalf("manifest %+v", m)
	}
	var config struct {
		Config Config
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(files[m.Config], &config); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(config.Config.Entrypoint, cfg.Entrypoint) || config.Config.User != "65532" {
		t.Errorf("config %+v", config.Config)
	}
	for i, l := range m.Layers {
		sum := sha256.Sum256(files[l])
		if want := "sha256:" + hex.EncodeToString(sum[:]); config.RootFS.DiffIDs[i] != want {
			t.Errorf("layer %d: diff ID %s, want %s", i, config.RootFS.DiffIDs[i], want)
		}
	}

	var names []string
	for _, h := range headers(t, files[m.Layers[0]]) {
		names = append(names, h.Name)
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, epoch)
		}
		switch h.Name {
		case "usr/bin/vtysh2":
			if h.Typeflag != tar.TypeLink || h.Linkname != "usr/bin/vtysh" {
				t.Errorf("vtysh2: %c -> %q, want a hard link to usr/bin/vtysh", h.Typeflag, h.Linkname)
			}
		case "usr/bin/vty":
			if h.Typeflag != tar.TypeSymlink || h.Linkname != "vtysh" {
				t.Errorf("vty: %c -> %q, want a symlink to vtysh", h.Typeflag, h.Linkname)
			}
		}
	}
	want := []string{"etc/", "etc/frr/", "usr/", "usr/bin/", "usr/bin/vty", "usr/bin/vtysh", "usr/bin/vtysh2", "usr/share/"}
	if !slices.Equal(names, want) {
		t.Errorf("layer 0 holds %q, want %q", names, want)
	}
	hs := headers(t, files[m.Layers[1]])
	if len(hs) != 4 || hs[3].Name != "usr/lib/x/start" || hs[3].Mode != 0o755 || hs[0].Name != "usr/" {
		t.Errorf("layer 1: %+v", hs)
	}
}

func untar(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	r := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}

func headers(t *testing.T, data []byte) []*tar.Header {
	t.Helper()
	var out []*tar.Header
	r := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
}
