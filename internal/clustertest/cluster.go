package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/frr-renderer/frr-renderer/internal/kubetest"
)

const (
	// labRoot holds each lab's state (certificates, containerd's and the kubelets' directories,
	// logs), in a folder named after the lab: a later run finds what a killed one left.
	labRoot = "/var/tmp/frr-renderer-clustertest"
	// readyTimeout bounds the wait for a node to register and be Ready (1-3 s here).
	readyTimeout = 2 * time.Minute
	stopGrace    = 15 * time.Second
	tailLines    = 30
)

// Options describe the lab.
type Options struct {
	// SegmentNetns and Bridge are the L2 segment every namespace of the lab is attached to: a
	// bridge (up, in a network namespace the test made) of the subnet of ControlPlane and the
	// nodes' addresses.
	SegmentNetns, Bridge string
	// ControlPlane is the control plane's address on the segment.
	ControlPlane netip.Prefix
	Nodes        []NodeSpec
	// Images are `docker save` archives imported into every node's containerd.
	Images []string
	// ServiceCIDR is the Services' range (default 10.96.0.0/12); its first address is the
	// `kubernetes` Service's ClusterIP.
	ServiceCIDR netip.Prefix
	// Log, when set, also receives every daemon's output (e.g. os.Stderr while debugging).
	Log io.Writer
}

// NodeSpec is one node: its name and its address on the segment (the kubelet's node IP).
type NodeSpec struct {
	Name    string
	Address netip.Prefix
}

// Cluster is a running lab.
type Cluster struct {
	API   *kubetest.Server
	Kube  kubernetes.Interface // an admin client
	Nodes []*Node

	t          testing.TB
	id         string // the lab's name: its namespaces and folder carry it
	dir        string
	bin        string // kubelet, kube-controller-manager, kube-scheduler, kubectl
	cpNetns    string
	log        io.Writer
	kcm, sched *kubetest.Process
}

// Node is one node of the lab: a network namespace with containerd and a kubelet.
type Node struct {
	Name    string
	Netns   string
	Address netip.Prefix

	c          *Cluster
	dir        string
	cgroup     string // the kubelet's cgroupRoot
	containerd *kubetest.Process
	kubelet    *kubetest.Process
}

// Require skips the test unless it runs as root; under CI=true it fails instead.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("clustertest: needs root (network namespaces, containerd, kubelet)")
	}
	t.Skip("clustertest: needs root (network namespaces, containerd, kubelet)")
}

// Start starts the lab and returns once every node is Ready. Its cleanup removes everything.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	Require(t)
	if !opts.ServiceCIDR.IsValid() {
		opts.ServiceCIDR = netip.MustParsePrefix("10.96.0.0/12")
	}
	sweepOnce.Do(sweepLeftovers)
	bin, err := kubetest.HackScript("kube-binaries.sh", "--node")
	if err != nil {
		t.Fatalf("clustertest: kubelet and friends: %v", err)
	}
	c := &Cluster{t: t, bin: bin, log: opts.Log, id: fmt.Sprintf("%d-%06x", os.Getpid(), rand.Uint32()&0xffffff)}
	c.dir = filepath.Join(labRoot, c.id)
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatalf("clustertest: %v", err)
	}
	begin := time.Now()
	clusterIP := opts.ServiceCIDR.Addr().Next()

	// Cleanups run last registered first: the namespaces and folders go after the API server
	// (kubetest's cleanup, registered by kubetest.Start), which goes after the nodes and
	// controllers (c.stop).
	t.Cleanup(c.removeLab)
	c.cpNetns = "kct-cp-" + c.id
	if err := c.addNetns(c.cpNetns, "cp", opts, opts.ControlPlane); err != nil {
		t.Fatalf("clustertest: control plane network: %v", err)
	}
	// The `kubernetes` Service's ClusterIP is the control plane's: what kube-proxy would do.
	if err := run("ip", "-n", c.cpNetns, "addr", "add", clusterIP.String()+"/32", "dev", "lo"); err != nil {
		t.Fatalf("clustertest: %v", err)
	}
	c.API = kubetest.Start(t, kubetest.Options{
		Netns:              c.cpNetns,
		Address:            net.IP(opts.ControlPlane.Addr().AsSlice()),
		Port:               443,
		ServingIPs:         []net.IP{net.IP(clusterIP.AsSlice())},
		Log:                opts.Log,
		ExtraAPIServerArgs: []string{"--service-cluster-ip-range=" + opts.ServiceCIDR.String()},
	})
	t.Cleanup(c.stop)
	c.Kube = kubernetes.NewForConfigOrDie(c.API.RESTConfig())

	if err := c.startControllers(); err != nil {
		t.Fatalf("clustertest: %v", err)
	}
	pause, err := c.pauseImage()
	if err != nil {
		t.Fatalf("clustertest: pause image: %v", err)
	}
	images := append([]string{pause}, opts.Images...)

	errs := make([]error, len(opts.Nodes))
	c.Nodes = make([]*Node, len(opts.Nodes))
	var wg sync.WaitGroup
	for i, spec := range opts.Nodes {
		n := &Node{Name: spec.Name, Address: spec.Address, c: c, Netns: "kct-" + shorten(spec.Name) + "-" + c.id}
		c.Nodes[i] = n
		wg.Go(func() { errs[i] = n.start(opts, images) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("clustertest: %v", err)
	}
	for _, n := range c.Nodes {
		if err := n.waitReady(t.Context()); err != nil {
			t.Fatalf("clustertest: %v", err)
		}
	}
	t.Logf("clustertest: %d nodes Ready %v after start", len(c.Nodes), time.Since(begin).Round(time.Millisecond))
	return c
}

// addNetns makes the namespace name, attaches it to the segment as eth0 with addr, and brings
// up lo and eth0.
func (c *Cluster) addNetns(name, short string, opts Options, addr netip.Prefix) error {
	if err := run("ip", "netns", "add", name); err != nil {
		return err
	}
	// The segment's end of the pair: short enough for IFNAMSIZ, unique per lab.
	port := fmt.Sprintf("k%s%s", short, c.id[len(c.id)-6:])
	if len(port) > 15 {
		port = port[:15]
	}
	for _, args := range [][]string{
		{"ip", "link", "add", port, "netns", opts.SegmentNetns, "type", "veth", "peer", "name", "eth0", "netns", name},
		{"ip", "-n", opts.SegmentNetns, "link", "set", port, "master", opts.Bridge, "up"},
		{"ip", "-n", name, "link", "set", "lo", "up"},
		{"ip", "-n", name, "addr", "add", addr.String(), "dev", "eth0"},
		{"ip", "-n", name, "link", "set", "eth0", "up"},
	} {
		if err := run(args[0], args[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// startControllers starts kube-controller-manager and kube-scheduler in the control plane's
// namespace, as admins.
func (c *Cluster) startControllers() error {
	var err error
	c.kcm, err = c.startIn(c.cpNetns, "kube-controller-manager", filepath.Join(c.dir, "kube-controller-manager.log"),
		"--kubeconfig="+c.API.Kubeconfig(), "--leader-elect=false", "--secure-port=0", "--controllers=*",
		"--use-service-account-credentials=false",
		"--cluster-signing-cert-file="+c.API.File("ca.crt"), "--cluster-signing-key-file="+c.API.File("ca.key"),
		"--root-ca-file="+c.API.File("ca.crt"), "--service-account-private-key-file="+c.API.File("sa.key"),
		"--flex-volume-plugin-dir="+filepath.Join(c.dir, "flexvolume"))
	if err != nil {
		return err
	}
	c.sched, err = c.startIn(c.cpNetns, "kube-scheduler", filepath.Join(c.dir, "kube-scheduler.log"),
		"--kubeconfig="+c.API.Kubeconfig(), "--leader-elect=false", "--secure-port=0")
	return err
}

func (c *Cluster) startIn(netns, name, logPath string, args ...string) (*kubetest.Process, error) {
	bin := name
	if !strings.Contains(name, "/") {
		if p := filepath.Join(c.bin, name); fileExists(p) {
			bin = p
		}
	}
	return kubetest.StartProcess(name, logPath, c.log, netns, bin, args...)
}

// Command returns a command that runs in the control plane's namespace with the admin's
// kubeconfig ($KUBECONFIG) and caches in the lab's folder: kubectl (the lab's), helm.
func (c *Cluster) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	if name == "kubectl" {
		name = filepath.Join(c.bin, "kubectl")
	}
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + c.cpNetns, "--", name}, args...)...)
	cache := filepath.Join(c.dir, "cache")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.API.Kubeconfig(), "KUBECACHEDIR="+filepath.Join(cache, "kube"),
		"HOME="+filepath.Join(c.dir, "home"), "HELM_CACHE_HOME="+filepath.Join(cache, "helm"),
		"HELM_CONFIG_HOME="+filepath.Join(c.dir, "helm"), "HELM_DATA_HOME="+filepath.Join(c.dir, "helm-data"))
	return cmd
}

// Kubectl runs the lab's kubectl with args and returns its stdout; an error carries stderr.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) (string, error) {
	return output(c.Command(ctx, "kubectl", args...))
}

func output(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// waitReady waits until the node is registered and Ready.
func (n *Node) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var last error
	for {
		node, err := n.c.Kube.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err == nil {
			last = fmt.Errorf("node %s is not Ready: %v", n.Name, node.Status.Conditions)
			for _, cond := range node.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					return nil
				}
			}
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			if gone, how := n.kubelet.Exited(); gone {
				return fmt.Errorf("node %s: kubelet exited (%v):\n%s", n.Name, how, kubetest.Tail(n.kubelet.LogPath(), tailLines))
			}
			return fmt.Errorf("node %s not Ready after %v: %v\n%s", n.Name, readyTimeout, last, kubetest.Tail(n.kubelet.LogPath(), tailLines))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// shorten keeps a namespace name readable and within limits.
func shorten(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
