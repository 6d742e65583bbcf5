package clustertest

import (
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/frr-renderer/frr-renderer/internal/imagearchive"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
)

// pauseTag is the nodes' sandbox image: internal/clustertest/pause, built by pauseImage.
const pauseTag = "frr-renderer.test/pause:1"

// pauseImage builds the sandbox image's archive in the lab's folder and returns its path.
func (c *Cluster) pauseImage() (string, error) {
	root, err := testbin.ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(c.dir, "pause")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./internal/clustertest/pause")
	cmd.Dir = root
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./internal/clustertest/pause: %w: %s", err, out)
	}
	archive := filepath.Join(c.dir, "pause.tar")
	err = imagearchive.Write(archive, []string{pauseTag}, imagearchive.Config{Entrypoint: []string{"/pause"}},
		[]imagearchive.Layer{{Files: []imagearchive.File{{Src: bin, Dst: "/pause", Mode: 0o755}}}})
	return archive, err
}
