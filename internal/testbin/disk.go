package testbin

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Disk is a 4 KiB tmpfs mounted in a mount namespace of its own, held by a helper process, for
// tests of a disk that fills up or turns read-only: the host's mounts are left alone, and the
// test reaches the tmpfs through the helper's /proc/PID/root (Path). It needs root.
type Disk struct {
	t     testing.TB
	pid   int
	mount string // the mount point in the helper's namespace
	path  string // the same directory, as this process reaches it
}

// NewDisk mounts the tmpfs; the test's cleanup unmounts it.
func NewDisk(t testing.TB) *Disk {
	t.Helper()
	mnt := t.TempDir()
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o size=4k tmpfs "$1" && echo mounted && exec sleep infinity`, "sh", mnt)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "mounted\n" {
		t.Fatalf("mounting a tmpfs in a private mount namespace: %q %s", line, stderr.String())
	}
	return &Disk{t: t, pid: cmd.Process.Pid, mount: mnt, path: filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "root", mnt)}
}

// Path is the tmpfs's directory, as this process reaches it.
func (d *Disk) Path() string { return d.path }

// Remount remounts the tmpfs with opts ("ro", "rw").
func (d *Disk) Remount(opts string) {
	d.t.Helper()
	out, err := exec.Command("nsenter", "-t", strconv.Itoa(d.pid), "-m", "mount", "-o", "remount,"+opts, d.mount).CombinedOutput()
	if err != nil {
		d.t.Fatalf("remount %s: %v: %s", opts, err, out)
	}
}

// Fill writes a file until the tmpfs has no space left.
func (d *Disk) Fill() {
	d.t.Helper()
	f, err := os.Create(filepath.Join(d.path, "filler"))
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	for {
		if _, err = f.Write(make([]byte, 1024)); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		d.t.Fatalf("filling the tmpfs: %v, want ENOSPC", err)
	}
}

// Empty removes what Fill wrote.
func (d *Disk) Empty() {
	d.t.Helper()
	if err := os.Remove(filepath.Join(d.path, "filler")); err != nil {
		d.t.Fatal(err)
	}
}
