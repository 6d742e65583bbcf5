package e2e

// The topology of the end-to-end tests: a real etcd and kube-apiserver on loopback
// (internal/kubetest), Cilium's CRDs, the seed's objects, the node cp-1's FRR and the ToR's FRR
// in network namespaces, and `frr-renderer run` as the sidecar of cp-1 with the least-privilege
// identity the chart gives it (deploy/manifests/frr-renderer.yaml). The sidecar runs in the
// host's namespace (it reaches the API server on 127.0.0.1 and bgpd through its unix socket);
// the host facts of cp-1 come from a file. test/deploy runs the same sidecar in its pod, on
// real kubelets.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/kubetest"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

const (
	repoRoot    = "../.."
	handsOn     = "../../examples/seed/hands-on"
	torConfFile = "../../examples/seed/tor-frr.conf"
	// manifests is the chart rendered for users without Helm: its RBAC is the sidecar's identity
	// here (its DaemonSet is only stored: no kubelet runs it).
	manifests = "../../deploy/manifests/frr-renderer.yaml"

	nodeName = "cp-1"
	nodeAddr = "192.168.10.11"
	torAddr  = "192.168.10.1"
	seedIP   = "172.20.0.1" // the seed Service's LoadBalancer IP

	// serviceAccount is the sidecar's identity in the manifests.
	serviceAccount = "system:serviceaccount:kube-system:frr-renderer"
	waitTimeout    = 30 * time.Second
)

var frrVersionFlag = map[frrtest.Version]string{frrtest.FRR8: "8", frrtest.FRR10: "10"}

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// binary is the frr-renderer the tests run: $E2E_BIN, or built once.
func binary(t testing.TB) string { return testbin.FrrRenderer(t, "E2E_BIN") }

// ---- the environment ----

type env struct {
	t      testing.TB
	v      frrtest.Version
	api    *kubetest.Server
	kube   kubernetes.Interface // admin
	dyn    dynamic.Interface    // admin
	mapper meta.RESTMapper

	node, tor       *frrtest.Router
	nodeVty, torVty *vtysh.Client
	sidecarConfig   string // the sidecar's kubeconfig (least privilege)
	hostFacts       string
	sidecar         *sidecar
	sidecarLogs     []string
	sidecarStarted  time.Time
	metricsAddr     string
	healthAddr      string // /healthz and /readyz alone (--health-addr)
	// startTimeout bounds the wait for the sidecar's first converge in setup: waitTimeout,
	// unless populate put enough objects in the API server to need more.
	startTimeout time.Duration
}

// setup starts everything and returns once the ToR has the seed's LoadBalancer IP from cp-1.
func setup(t testing.TB, v frrtest.Version) *env { return setupWith(t, v, nil) }

// setupWith is setup with populate run after the seed is in the API server and before the
// sidecar starts.
func setupWith(t testing.TB, v frrtest.Version, populate func(*env)) *env {
	t.Helper()
	return setupCilium(t, v, "", populate)
}

// setupCilium is setupWith on the CRDs of Cilium release cilium ("" the newest supported).
func setupCilium(t testing.TB, v frrtest.Version, cilium string, populate func(*env)) *env {
	t.Helper()
	frrtest.Require(t, v)
	bin := binary(t)
	e := &env{t: t, v: v}

	// The seed Service's ClusterIP is 10.105.166.135: a service range that holds it.
	e.api = kubetest.Start(t, kubetest.Options{ExtraAPIServerArgs: []string{"--service-cluster-ip-range=10.96.0.0/12"}})
	e.api.InstallCRDs(t, kubetest.CiliumCRDs(t, cilium)...)
	cfg := e.api.RESTConfig()
	e.kube = kubernetes.NewForConfigOrDie(cfg)
	e.dyn = dynamic.NewForConfigOrDie(cfg)
	groups, err := restmapper.GetAPIGroupResources(e.kube.Discovery())
	if err != nil {
		t.Fatal(err)
	}
	e.mapper = restmapper.NewDiscoveryRESTMapper(groups)
	e.applyFile(manifests)
	files, _ := filepath.Glob(filepath.Join(handsOn, "*.yaml"))
	for _, f := range files {
		e.applyFile(f)
	}
	e.sidecarConfig = e.api.KubeconfigFor(t, serviceAccount, "system:serviceaccounts", "system:serviceaccounts:kube-system")

	e.tor = frrtest.Start(t, v, "tor")
	e.node = frrtest.Start(t, v, nodeName)
	frrtest.Link(t, e.node, e.tor, netip.MustParsePrefix(nodeAddr+"/24"), netip.MustParsePrefix(torAddr+"/24"))
	torConf, err := os.ReadFile(torConfFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.tor.Load(string(torConf)); err != nil {
		t.Fatalf("the ToR rejected tor-frr.conf: %v", err)
	}
	e.hostFacts = filepath.Join(t.TempDir(), "host-facts.yaml")
	facts := "interfaces:\n- name: lo\n  adminUp: true\n  operState: unknown\n  addresses: [127.0.0.1/8]\n" +
		"- name: eth0\n  adminUp: true\n  operState: up\n  addresses: [" + nodeAddr + "/24]\n"
	if err := os.WriteFile(e.hostFacts, []byte(facts), 0o644); err != nil {
		t.Fatal(err)
	}
	e.metricsAddr = freeAddr(t)
	e.healthAddr = freeAddr(t)

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for _, x := range []struct {
		r *frrtest.Router
		c **vtysh.Client
	}{{e.tor, &e.torVty}, {e.node, &e.nodeVty}} {
		c, err := vtysh.Dial(ctx, vtysh.SocketPath(x.r.RunDir(), "bgpd"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		*x.c = c
	}

	if populate != nil {
		populate(e)
	}
	e.startSidecar(bin)
	e.eventuallyWithin(t, max(waitTimeout, e.startTimeout), "the ToR has the seed's LoadBalancer IP over an Established session", func() error {
		if err := e.established(); err != nil {
			return err
		}
		return e.torHas(seedIP + "/32")
	})
	return e
}

// ---- the sidecar process ----

type sidecar struct {
	cmd    *exec.Cmd
	log    string
	exited chan error
}

func (e *env) startSidecar(bin string) {
	t := e.t
	t.Helper()
	logPath := filepath.Join(t.TempDir(), fmt.Sprintf("sidecar-%d.log", len(e.sidecarLogs)))
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"run", "--node", nodeName, "--kubeconfig", e.sidecarConfig,
		"--vty-socket", e.node.RunDir(), "--host-facts", e.hostFacts,
		"--frr-version", frrVersionFlag[e.v], "--metrics-addr", e.metricsAddr,
		"--status-interval", "500ms", "-v", "1", "--health-addr", e.healthAddr}, strings.Fields(os.Getenv("E2E_SIDECAR_ARGS"))...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), strings.Fields(os.Getenv("E2E_SIDECAR_ENV"))...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sidecar{cmd: cmd, log: logPath, exited: make(chan error, 1)}
	go func() { s.exited <- cmd.Wait(); f.Close() }()
	e.sidecar, e.sidecarStarted = s, time.Now()
	e.sidecarLogs = append(e.sidecarLogs, logPath)
	t.Cleanup(func() {
		e.stopSidecar(s)
		if keep := os.Getenv("E2E_KEEP"); keep != "" {
			if err := os.WriteFile(filepath.Join(keep, filepath.Base(logPath)), []byte(readFile(t, logPath)), 0o644); err != nil {
				t.Log(err)
			}
		}
		if t.Failed() {
			t.Logf("sidecar log %s (last lines):\n%s", logPath, tail(logPath, 40))
		}
	})
}

// stopSidecar stops s with SIGTERM (as the kubelet does) and waits for it.
func (e *env) stopSidecar(s *sidecar) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// ---- reading FRR ----

func (e *env) show(c *vtysh.Client, cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Exec(ctx, cmd)
}

// torRoutes returns the prefixes in the ToR's IPv4 BGP table with the node as next hop.
func (e *env) torRoutes() (map[string]bool, error) { return e.torRoutesVia(e.torVty) }

func (e *env) torRoutesVia(c *vtysh.Client) (map[string]bool, error) {
	out, err := e.show(c, "show bgp ipv4 unicast json")
	if err != nil {
		return nil, err
	}
	var table struct {
		Routes map[string][]struct {
			Nexthops []struct {
				IP string `json:"ip"`
			} `json:"nexthops"`
		} `json:"routes"`
	}
	if err := json.Unmarshal([]byte(out), &table); err != nil {
		return nil, fmt.Errorf("%w: %.200s", err, out)
	}
	got := map[string]bool{}
	for p, paths := range table.Routes {
		for _, path := range paths {
			for _, nh := range path.Nexthops {
				if nh.IP == nodeAddr {
					got[p] = true
				}
			}
		}
	}
	return got, nil
}

func (e *env) torHas(prefix string) error {
	got, err := e.torRoutes()
	if err != nil {
		return err
	}
	if !got[prefix] {
		return fmt.Errorf("the ToR has no %s from %s (has %v)", prefix, nodeAddr, keys(got))
	}
	return nil
}

func (e *env) torLacks(prefix string) error {
	got, err := e.torRoutes()
	if err != nil {
		return err
	}
	if got[prefix] {
		return fmt.Errorf("the ToR still has %s from %s", prefix, nodeAddr)
	}
	return nil
}

// torNeighbor is the ToR's view of its session with the node.
type torNeighbor struct {
	State       string `json:"bgpState"`
	Established int    `json:"connectionsEstablished"`
	Dropped     int    `json:"connectionsDropped"`
	HoldMsecs   int    `json:"bgpTimerHoldTimeMsecs"`
}

func (e *env) torNeighbor() (torNeighbor, error) {
	out, err := e.show(e.torVty, "show bgp neighbors "+nodeAddr+" json")
	if err != nil {
		return torNeighbor{}, err
	}
	var nbrs map[string]torNeighbor
	if err := json.Unmarshal([]byte(out), &nbrs); err != nil {
		return torNeighbor{}, fmt.Errorf("%w: %.200s", err, out)
	}
	return nbrs[nodeAddr], nil
}

func (e *env) established() error {
	n, err := e.torNeighbor()
	if err == nil && n.State != "Established" {
		err = fmt.Errorf("the ToR's session with %s is %q", nodeAddr, n.State)
	}
	return err
}

// nodeConfig is bgpd's own running configuration on the node. It holds the password: the
// tests compare it, never print it.
func (e *env) nodeConfig() (string, error) {
	return e.show(e.nodeVty, "show running-config")
}

// ---- the API ----

// applyFile creates every object of a YAML file (status included, through the status
// subresource, as controllers would write it).
func (e *env) applyFile(path string) {
	e.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			e.t.Fatalf("%s: %v", path, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		e.create(&u)
	}
}

func (e *env) resource(u *unstructured.Unstructured) dynamic.ResourceInterface {
	e.t.Helper()
	gvk := u.GroupVersionKind()
	m, err := e.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		e.t.Fatalf("%s: %v", gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if u.GetNamespace() == "" {
			u.SetNamespace(metav1.NamespaceDefault)
		}
		return e.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	return e.dyn.Resource(m.Resource)
}

// create creates u, and writes its status if it has one.
func (e *env) create(u *unstructured.Unstructured) *unstructured.Unstructured {
	e.t.Helper()
	ctx := context.Background()
	r := e.resource(u)
	status, hasStatus := u.Object["status"]
	created, err := r.Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
	}
	if hasStatus {
		created.Object["status"] = status
		if created, err = r.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			e.t.Fatalf("status of %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	return created
}

// mutate reads an object, changes it and writes it back (spec), retrying on conflicts.
func (e *env) mutate(u *unstructured.Unstructured, change func(*unstructured.Unstructured), status bool) {
	e.t.Helper()
	r := e.resource(u)
	ctx := context.Background()
	for try := 0; ; try++ {
		cur, err := r.Get(ctx, u.GetName(), metav1.GetOptions{})
		if err != nil {
			e.t.Fatal(err)
		}
		change(cur)
		if status {
			_, err = r.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		} else {
			_, err = r.Update(ctx, cur, metav1.UpdateOptions{})
		}
		if err == nil {
			return
		}
		if try > 5 {
			e.t.Fatalf("update %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

func object(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

// lbService is a LoadBalancer Service with labels and the LoadBalancer IP ip in its status.
func lbService(name string, labels map[string]string, ip string, local bool) *corev1.Service {
	policy := corev1.ServiceExternalTrafficPolicyCluster
	if local {
		policy = corev1.ServiceExternalTrafficPolicyLocal
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Spec: corev1.ServiceSpec{
			Type:                  corev1.ServiceTypeLoadBalancer,
			Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}},
			ExternalTrafficPolicy: policy,
			// No node ports: 10,000 Services would exhaust their range.
			AllocateLoadBalancerNodePorts: ptr.To(false),
		},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: ip}}}},
	}
}

// createService creates svc with its status, as the LB IPAM would.
func (e *env) createService(svc *corev1.Service) {
	e.t.Helper()
	e.createServiceVia(e.kube, svc)
}

// createServiceVia is createService through another client (another API server).
func (e *env) createServiceVia(kube kubernetes.Interface, svc *corev1.Service) {
	e.t.Helper()
	ctx := context.Background()
	status := svc.Status
	created, err := kube.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	created.Status = status
	if _, err := kube.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// ---- the sidecar's outputs ----

func (e *env) metrics() (string, error) {
	resp, err := http.Get("http://" + e.metricsAddr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func (e *env) ready() (int, string, error) { return readyAt(e.metricsAddr) }

func readyAt(addr string) (int, string, error) {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// ---- waiting ----

// eventually polls cond until it returns nil; the bound only keeps a broken test from hanging.
// eventually fails t (the running step's, not the environment's: a step that failed its parent
// would stop the test with a misleading panic) when cond does not hold within waitTimeout.
func (e *env) eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	e.eventuallyWithin(t, waitTimeout, what, cond)
}

func (e *env) eventuallyWithin(t testing.TB, limit time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v: %v", what, limit, err)
}

// ---- small helpers ----

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

var nodeConfigGVR = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumbgpnodeconfigs"}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
