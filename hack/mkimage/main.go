// Command mkimage writes a container image as a `docker save` archive (internal/imagearchive),
// for hack/images.sh:
//
//	mkimage -o OUT.tar -tag REPO:TAG [-tag ...] [-entrypoint JSON] [-cmd JSON] [-user U]
//	        [-env K=V ...] [-label K=V ...] [-exclude PATH ...] -layer SPEC [-layer SPEC ...]
//
// A layer SPEC is DIR (the directory's content at /, less every -exclude) or
// SRC=DST[:MODE[:UID:GID]][,SRC=DST...] (files placed at DST).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/frr-renderer/frr-renderer/internal/imagearchive"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	var tags, env, labels, excludes, layerSpecs listFlag
	out := fl.String("o", "", "output archive")
	entrypoint := fl.String("entrypoint", "", "entrypoint, a JSON array")
	cmd := fl.String("cmd", "", "command, a JSON array")
	user := fl.String("user", "", "user (UID[:GID]) the container runs as")
	workdir := fl.String("workdir", "/", "working directory")
	fl.Var(&tags, "tag", "REPO:TAG; repeatable")
	fl.Var(&env, "env", "K=V; repeatable")
	fl.Var(&labels, "label", "K=V; repeatable")
	fl.Var(&excludes, "exclude", "path to leave out of directory layers; repeatable")
	fl.Var(&layerSpecs, "layer", "DIR or SRC=DST[:MODE[:UID:GID]],...; repeatable, in order")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *out == "" || len(tags) == 0 || len(layerSpecs) == 0 {
		return errors.New("-o, -tag and -layer are required")
	}
	cfg := imagearchive.Config{Env: env, User: *user, WorkingDir: *workdir, Labels: map[string]string{}}
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("-label %q: want K=V", l)
		}
		cfg.Labels[k] = v
	}
	for _, x := range []struct {
		flag string
		val  string
		dst  *[]string
	}{{"entrypoint", *entrypoint, &cfg.Entrypoint}, {"cmd", *cmd, &cfg.Cmd}} {
		if x.val != "" {
			if err := json.Unmarshal([]byte(x.val), x.dst); err != nil {
				return fmt.Errorf("-%s: %w", x.flag, err)
			}
		}
	}
	var layers []imagearchive.Layer
	for _, spec := range layerSpecs {
		l, err := parseLayer(spec, excludes)
		if err != nil {
			return fmt.Errorf("-layer %q: %w", spec, err)
		}
		layers = append(layers, l)
	}
	return imagearchive.Write(*out, tags, cfg, layers)
}

// parseLayer reads a layer SPEC: a directory, or SRC=DST[:MODE[:UID:GID]] items.
func parseLayer(spec string, excludes []string) (imagearchive.Layer, error) {
	if st, err := os.Stat(spec); err == nil && st.IsDir() {
		return imagearchive.Layer{Dir: spec, Exclude: excludes}, nil
	}
	var l imagearchive.Layer
	for _, item := range strings.Split(spec, ",") {
		src, dst, ok := strings.Cut(item, "=")
		if !ok {
			return l, fmt.Errorf("%q: want SRC=DST[:MODE[:UID:GID]]", item)
		}
		parts := strings.Split(dst, ":")
		f := imagearchive.File{Src: src, Dst: parts[0]}
		if len(parts) != 1 && len(parts) != 2 && len(parts) != 4 {
			return l, fmt.Errorf("%q: want SRC=DST[:MODE[:UID:GID]]", item)
		}
		var err error
		if len(parts) > 1 {
			if f.Mode, err = strconv.ParseInt(parts[1], 8, 32); err != nil || f.Mode == 0 {
				return l, fmt.Errorf("%q: mode %q: want octal, not 0", item, parts[1])
			}
		}
		if len(parts) == 4 {
			if f.UID, err = strconv.Atoi(parts[2]); err != nil {
				return l, fmt.Errorf("%q: uid: %w", item, err)
			}
			if f.GID, err = strconv.Atoi(parts[3]); err != nil {
				return l, fmt.Errorf("%q: gid: %w", item, err)
			}
		}
		l.Files = append(l.Files, f)
	}
	return l, nil
}
