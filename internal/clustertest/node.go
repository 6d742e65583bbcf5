package clustertest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/kubetest"
)

// cgroupHierarchies are cgroup v1's controllers: the kubelet's cgroupRoot must exist in each
// (it creates its pods' cgroups below it). Each node has a root of its own: two kubelets under
// one would remove each other's pod cgroups as orphans.
var cgroupHierarchies = []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "systemd", "unified"}

// start makes the node's namespace, starts containerd, imports the images and starts the
// kubelet.
func (n *Node) start(opts Options, images []string) error {
	c := n.c
	n.dir = filepath.Join(c.dir, n.Name)
	n.cgroup = "/kct-" + shorten(n.Name) + "-" + c.id
	for _, d := range []string{"containerd", "kubelet", "pod-logs", "cni", "volume-plugins"} {
		if err := os.MkdirAll(filepath.Join(n.dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := c.addNetns(n.Netns, shorten(n.Name), opts, n.Address); err != nil {
		return fmt.Errorf("node %s network: %w", n.Name, err)
	}
	// The Services' range, which holds the API server's ClusterIP, through the control plane.
	if err := run("ip", "-n", n.Netns, "route", "add", opts.ServiceCIDR.String(), "via", opts.ControlPlane.Addr().String()); err != nil {
		return err
	}
	if err := n.makeCgroups(); err != nil {
		return fmt.Errorf("node %s cgroups: %w", n.Name, err)
	}
	if err := n.startContainerd(); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	for _, img := range images {
		if _, err := n.Ctr("images", "import", img); err != nil {
			return fmt.Errorf("node %s: import %s: %w", n.Name, img, err)
		}
	}
	if err := n.startKubeletAlone(); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	return nil
}

// devicePluginSocket is the one path every kubelet on a machine binds, whatever its root-dir
// (a constant in the kubelet): each removes what the folder holds and listens there, so two
// kubelets starting at once fail one of them with "bind: address already in use".
const devicePluginSocket = "/var/lib/kubelet/device-plugins/kubelet.sock"

// startKubeletAlone starts the kubelet while no other kubelet on the machine (this lab's nodes,
// which start in parallel, or another lab's) is between its start and its bind of
// devicePluginSocket: a lock file held until the socket exists again.
func (n *Node) startKubeletAlone() error {
	lock, err := os.OpenFile("/run/frr-renderer-clustertest-kubelet.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close() // releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock the kubelet's start: %w", err)
	}
	// Removed here, the socket exists again only once this kubelet listens on it.
	if err := os.Remove(devicePluginSocket); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := n.startKubelet(); err != nil {
		return err
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if fi, err := os.Stat(devicePluginSocket); err == nil && fi.Mode().Type() == fs.ModeSocket {
			return nil
		}
		if gone, how := n.kubelet.Exited(); gone {
			return fmt.Errorf("kubelet exited (%v):\n%s", how, kubetest.Tail(n.kubelet.LogPath(), tailLines))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kubelet did not listen on %s within a minute:\n%s", devicePluginSocket, kubetest.Tail(n.kubelet.LogPath(), tailLines))
		}
	}
}

func (n *Node) makeCgroups() error {
	for _, h := range cgroupHierarchies {
		base := filepath.Join("/sys/fs/cgroup", h)
		if _, err := os.Stat(base); err != nil {
			continue
		}
		dir := filepath.Join(base, n.cgroup)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if h == "cpuset" {
			// A new cpuset has no CPUs or memory nodes: a task placed below it could not run.
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join(base, f))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (n *Node) socket() string { return filepath.Join(n.dir, "containerd", "containerd.sock") }

// Ctr runs containerd's ctr against the node's containerd, in the Kubernetes namespace.
func (n *Node) Ctr(args ...string) (string, error) {
	return output(exec.Command("ctr", append([]string{"-a", n.socket(), "-n", "k8s.io"}, args...)...))
}

// Exec runs a command in the node's network namespace (as a hostNetwork pod sees it).
func (n *Node) Exec(args ...string) (string, error) {
	return output(exec.Command("nsenter", append([]string{"--net=/run/netns/" + n.Netns, "--"}, args...)...))
}

func (n *Node) startContainerd() error {
	state := filepath.Join(n.dir, "containerd")
	conf := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = %[3]q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[4]q
  # Lowering a score needs CAP_SYS_RESOURCE, which the machines this runs on withhold: pods
  # get containerd's own score instead of a negative one.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %[5]q
`, filepath.Join(state, "root"), filepath.Join(state, "state"), n.socket(), pauseTag, filepath.Join(n.dir, "cni"))
	if err := os.WriteFile(filepath.Join(state, "config.toml"), []byte(conf), 0o644); err != nil {
		return err
	}
	// A network configuration makes the runtime's network ready, so the node is Ready as in a
	// cluster; the pods that matter here are on the host's (the node's) network.
	cni := `{"cniVersion": "0.4.0", "name": "lab", "plugins": [{"type": "loopback"}]}`
	if err := os.WriteFile(filepath.Join(n.dir, "cni", "10-lab.conflist"), []byte(cni), 0o644); err != nil {
		return err
	}
	p, err := n.c.startIn(n.Netns, "containerd", filepath.Join(n.dir, "containerd.log"), "--config", filepath.Join(state, "config.toml"))
	if err != nil {
		return err
	}
	n.containerd = p
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := n.Ctr("version"); err == nil {
			return nil
		}
		if gone, how := p.Exited(); gone || time.Now().After(deadline) {
			return fmt.Errorf("containerd did not start (exited: %v %v):\n%s", gone, how, kubetest.Tail(p.LogPath(), tailLines))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *Node) startKubelet() error {
	kdir := filepath.Join(n.dir, "kubelet")
	kubeconfig := n.c.API.KubeconfigFor(n.c.t, "system:node:"+n.Name, "system:nodes")
	conf := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://%[1]s
cgroupDriver: cgroupfs
cgroupRoot: %[2]s
failCgroupV1: false
failSwapOn: false
podLogsDir: %[3]s
volumePluginDir: %[4]s
address: %[5]s
port: 10250
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %[6]s}
authorization: {mode: Webhook}
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
rotateCertificates: false
serverTLSBootstrap: false
# The machine's disk is shared with everything else: evict only when it is truly full.
evictionHard: {memory.available: 1Mi, nodefs.available: 1%%, imagefs.available: 1%%, nodefs.inodesFree: 1%%}
imageGCHighThresholdPercent: 100
`, n.socket(), n.cgroup, filepath.Join(n.dir, "pod-logs"), filepath.Join(n.dir, "volume-plugins"),
		n.Address.Addr(), n.c.API.File("ca.crt"))
	path := filepath.Join(kdir, "config.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return err
	}
	p, err := n.c.startIn(n.Netns, "kubelet", filepath.Join(n.dir, "kubelet.log"),
		"--config="+path, "--kubeconfig="+kubeconfig, "--root-dir="+kdir,
		"--cert-dir="+filepath.Join(kdir, "pki"), "--hostname-override="+n.Name,
		"--node-ip="+n.Address.Addr().String(), "-v=1")
	if err != nil {
		return err
	}
	n.kubelet = p
	return nil
}

// KubeletPID is the kubelet's process ID (for measurements).
func (n *Node) KubeletPID() int { return n.kubelet.PID() }

// stop stops the controllers, then every node's pods, kubelet and containerd, and removes
// what they mounted.
func (c *Cluster) stop() {
	for _, p := range []*kubetest.Process{c.kcm, c.sched} {
		if p != nil {
			p.Stop(stopGrace)
		}
	}
	if c.t.Failed() {
		c.logPodTails()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Deleted through the API, the pods are stopped by their kubelets; what is left is
	// killed below.
	if c.Kube != nil {
		_, _ = c.Kubectl(ctx, "delete", "pods", "--all", "--all-namespaces", "--grace-period=1", "--wait=false")
		c.waitNoTasks(ctx)
	}
	for _, n := range c.Nodes {
		if n == nil {
			continue
		}
		if n.kubelet != nil {
			n.kubelet.Stop(stopGrace)
		}
		if n.containerd != nil {
			n.killTasks()
			n.containerd.Stop(stopGrace)
		}
		killNetns(n.Netns)
	}
	if c.t.Failed() {
		c.logTails()
	}
}

// waitNoTasks waits until no node's containerd runs a container.
func (c *Cluster) waitNoTasks(ctx context.Context) {
	for ctx.Err() == nil {
		busy := false
		for _, n := range c.Nodes {
			if n == nil || n.containerd == nil {
				continue
			}
			if out, err := n.Ctr("tasks", "ls", "-q"); err == nil && strings.TrimSpace(out) != "" {
				busy = true
			}
		}
		if !busy {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// killTasks kills and deletes the containers the kubelet left.
func (n *Node) killTasks() {
	out, err := n.Ctr("tasks", "ls", "-q")
	if err != nil {
		return
	}
	for _, id := range strings.Fields(out) {
		_, _ = n.Ctr("tasks", "kill", "-s", "SIGKILL", id)
		_, _ = n.Ctr("tasks", "delete", "-f", id)
	}
}

// logPodTails logs the end of every container's log on every node (the kubelet removes them
// with their pods).
func (c *Cluster) logPodTails() {
	for _, n := range c.Nodes {
		if n == nil {
			continue
		}
		logs, _ := filepath.Glob(filepath.Join(n.dir, "pod-logs", "*", "*", "*.log"))
		for _, l := range logs {
			rel, _ := filepath.Rel(filepath.Join(n.dir, "pod-logs"), l)
			c.t.Logf("clustertest: %s: last %d lines of %s:\n%s", n.Name, tailLines, rel, kubetest.Tail(l, tailLines))
		}
	}
}

func (c *Cluster) logTails() {
	logs := []*kubetest.Process{c.kcm, c.sched}
	for _, n := range c.Nodes {
		if n != nil {
			logs = append(logs, n.kubelet, n.containerd)
		}
	}
	for _, p := range logs {
		if p != nil {
			c.t.Logf("clustertest: last %d lines of %s:\n%s", tailLines, p.LogPath(), kubetest.Tail(p.LogPath(), tailLines))
		}
	}
}

// removeLab removes the lab's mounts, cgroups, namespaces and folder.
func (c *Cluster) removeLab() { removeLab(c.id) }

// killNetns kills every process left in the namespace (containers' shims and processes).
func killNetns(netns string) {
	out, err := exec.Command("ip", "netns", "pids", netns).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		_ = exec.Command("kill", "-KILL", f).Run()
	}
}
