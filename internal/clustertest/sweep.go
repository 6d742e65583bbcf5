package clustertest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

var sweepOnce sync.Once

// sweepLeftovers removes the labs of test processes that are gone: a test binary that times out
// or is killed never runs its cleanups, and its daemons, mounts and namespaces would live on.
func sweepLeftovers() {
	entries, err := os.ReadDir(labRoot)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(strings.SplitN(e.Name(), "-", 2)[0])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			continue // still running
		}
		removeLab(e.Name())
	}
}

// removeLab removes everything of lab id, in the order that lets each step succeed: the
// processes in its namespaces, its mounts, its cgroups, its namespaces, its folder.
func removeLab(id string) {
	var namespaces []string
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "kct-") && strings.HasSuffix(f[0], "-"+id) {
				namespaces = append(namespaces, f[0])
			}
		}
	}
	for _, ns := range namespaces {
		killNetns(ns)
	}
	dir := filepath.Join(labRoot, id)
	unmountBelow(dir)
	for _, h := range cgroupHierarchies {
		matches, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", h, "kct-*-"+id))
		for _, m := range matches {
			removeCgroup(m)
		}
	}
	for _, ns := range namespaces {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
	// The kubelet's log links in /var/log/containers (a path it does not let one move).
	if links, err := filepath.Glob("/var/log/containers/*.log"); err == nil {
		for _, l := range links {
			if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, dir+"/") {
				os.Remove(l)
			}
		}
	}
	os.RemoveAll(dir)
}

// unmountBelow detaches every mount at or below dir, deepest first.
func unmountBelow(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		// Octal escapes (\040 for a space) never occur in the lab's paths.
		if p := fields[4]; p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// removeCgroup removes a cgroup and the ones below it, deepest first (rmdir only: a cgroup's
// files cannot be removed).
func removeCgroup(dir string) {
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = syscall.Rmdir(dirs[i])
	}
}
