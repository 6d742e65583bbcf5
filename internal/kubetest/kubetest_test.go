package kubetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

var clusterConfigs = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumbgpclusterconfigs"}

func TestServer(t *testing.T) {
	var (
		pids       []int
		host       string
		kubeconfig string
	)
	t.Run("lifecycle", func(t *testing.T) {
		s := Start(t, Options{})
		pids = []int{s.etcd.cmd.Process.Pid, s.api.cmd.Process.Pid}
		host, kubeconfig = s.RESTConfig().Host, s.Kubeconfig()
		checkLoopbackOnly(t, pids)

		crds := CiliumCRDs(t, "")
		begin := time.Now()
		s.InstallCRDs(t, crds...)
		t.Logf("%d CRDs installed in %v", len(crds), time.Since(begin).Round(time.Millisecond))

		// The admin kubeconfig file and RESTConfig are the same identity.
		fromFile, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig())
		if err != nil {
			t.Fatal(err)
		}
		kube := kubernetes.NewForConfigOrDie(fromFile)
		dyn := dynamic.NewForConfigOrDie(s.RESTConfig())
		ctx := t.Context()

		cc := clusterConfig("cilium-bgp", map[string]any{"name": "tor", "peerASN": int64(65000),
			"peerAddress": "192.168.10.1", "peerConfigRef": map[string]any{"name": "cilium-peer"}})
		if _, err := dyn.Resource(clusterConfigs).Create(ctx, cc, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create CiliumBGPClusterConfig: %v", err)
		}
		// The release's schema is enforced: peerAddress must be an IP address.
		bad := clusterConfig("bad-address", map[string]any{"name": "tor", "peerASN": int64(65000), "peerAddress": "tor.example"})
		if _, err := dyn.Resource(clusterConfigs).Create(ctx, bad, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
			t.Errorf("create CiliumBGPClusterConfig with peerAddress %q: got %v, want Invalid", "tor.example", err)
		}
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer,
				Ports: []corev1.ServicePort{{Port: 80}}},
		}
		if _, err := kube.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create Service: %v", err)
		}
		// etcd behind the API server's back: what it stored, and puts beyond one transaction.
		if raw, err := s.EtcdGet(ctx, "/registry/services/specs/default/web"); err != nil || !bytes.HasPrefix(raw, []byte("k8s\x00")) {
			t.Errorf("the Service in etcd: %v, %.20q", err, raw)
		}
		var kvs []KV
		for i := range 2*etcdTxnOps + 1 {
			kvs = append(kvs, KV{Key: fmt.Sprintf("/kubetest/%03d", i), Value: []byte{byte(i)}})
		}
		if err := s.EtcdPut(ctx, kvs); err != nil {
			t.Fatal(err)
		}
		for _, kv := range []KV{kvs[0], kvs[len(kvs)-1]} {
			if got, err := s.EtcdGet(ctx, kv.Key); err != nil || !bytes.Equal(got, kv.Value) {
				t.Errorf("etcd %s: %v %q, want %q", kv.Key, err, got, kv.Value)
			}
		}
		readBack := func(when string) {
			t.Helper()
			got, err := dyn.Resource(clusterConfigs).Get(ctx, "cilium-bgp", metav1.GetOptions{})
			if err != nil {
				t.Fatalf("%s: get CiliumBGPClusterConfig: %v", when, err)
			}
			if diff := cmpSpec(cc, got); diff != "" {
				t.Errorf("%s: CiliumBGPClusterConfig read back: %s", when, diff)
			}
			gotSvc, err := kube.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatalf("%s: get Service: %v", when, err)
			}
			if spec := gotSvc.Spec; spec.Type != corev1.ServiceTypeLoadBalancer || len(spec.Ports) != 1 ||
				spec.Ports[0].Port != 80 || !strings.HasPrefix(spec.ClusterIP, "10.0.0.") {
				t.Errorf("%s: Service spec = %+v, want LoadBalancer, port 80, a ClusterIP in 10.0.0.0/24", when, spec)
			}
		}
		readBack("before restart")

		s.StopAPIServer(t)
		if _, err := kube.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{}); err == nil {
			t.Errorf("get Service with kube-apiserver stopped: no error")
		}
		if gone, _ := s.etcd.Exited(); gone {
			t.Errorf("etcd exited with kube-apiserver")
		}
		// Meanwhile another API server on the same etcd takes a write.
		begin = time.Now()
		otherCfg, stopOther := s.StartOtherAPIServer(t)
		t.Logf("the other kube-apiserver ready at %s in %v", otherCfg.Host, time.Since(begin).Round(time.Millisecond))
		other := kubernetes.NewForConfigOrDie(otherCfg)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "written-meanwhile", Namespace: "default"}, Data: map[string]string{"k": "v"}}
		if _, err := other.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Errorf("create through the other kube-apiserver: %v", err)
		}
		stopOther()
		begin = time.Now()
		s.StartAPIServer(t)
		t.Logf("kube-apiserver restarted in %v", time.Since(begin).Round(time.Millisecond))
		if got := s.RESTConfig().Host; got != host {
			t.Errorf("after restart, host = %s, want %s", got, host)
		}
		pids = append(pids, s.api.cmd.Process.Pid)
		// The clients made before the restart carry on: same address, port and certificates.
		readBack("after restart")
		if got, err := kube.CoreV1().ConfigMaps("default").Get(ctx, "written-meanwhile", metav1.GetOptions{}); err != nil || got.Data["k"] != "v" {
			t.Errorf("the ConfigMap written through the other kube-apiserver: %v, %v", got, err)
		}

		checkRBAC(t, s)
		logRSS(t, map[string]int{"etcd": s.etcd.cmd.Process.Pid, "kube-apiserver": s.api.cmd.Process.Pid})
	})
	if t.Failed() {
		return
	}
	// The subtest's cleanup stopped both processes and removed the temp dir.
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("process %d still exists after cleanup", pid)
		}
	}
	if _, err := os.Stat(kubeconfig); !os.IsNotExist(err) {
		t.Errorf("%s after cleanup: %v, want not exist", kubeconfig, err)
	}
	u, err := url.Parse(host)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", u.Host); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after cleanup", u.Host)
	}
}

// clusterConfig returns a CiliumBGPClusterConfig with one instance (AS 65001) and one peer.
func clusterConfig(name string, peer map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cilium.io/v2",
		"kind":       "CiliumBGPClusterConfig",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"bgpInstances": []any{map[string]any{
				"name": "instance-65001", "localASN": int64(65001), "peers": []any{peer},
			}},
		},
	}}
}

// cmpSpec says how got's spec differs from want's, or "" when it does not.
func cmpSpec(want, got *unstructured.Unstructured) string {
	w, _ := json.Marshal(want.Object["spec"])
	g, _ := json.Marshal(got.Object["spec"])
	if !bytes.Equal(w, g) {
		return fmt.Sprintf("spec %s, want %s", g, w)
	}
	return ""
}

// checkRBAC checks that a KubeconfigFor user is authenticated as itself and its groups, and
// authorized by RBAC alone: Forbidden without a binding, allowed once its group is bound.
func checkRBAC(t *testing.T, s *Server) {
	t.Helper()
	ctx := t.Context()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.KubeconfigFor(t, "alice", "bgp-readers"))
	if err != nil {
		t.Fatal(err)
	}
	alice := kubernetes.NewForConfigOrDie(cfg)
	aliceDyn := dynamic.NewForConfigOrDie(cfg)

	_, err = aliceDyn.Resource(clusterConfigs).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `User "alice"`) {
		t.Errorf("alice lists CiliumBGPClusterConfigs without RBAC: got %v, want Forbidden for User \"alice\"", err)
	}
	_, err = alice.CoreV1().Services("default").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("alice lists Services without RBAC: got %v, want Forbidden", err)
	}

	admin := kubernetes.NewForConfigOrDie(s.RESTConfig())
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "bgp-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"cilium.io"},
			Resources: []string{"ciliumbgpclusterconfigs"}, Verbs: []string{"list"}}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "bgp-readers"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "bgp-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "bgp-readers"}},
	}
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The authorizer reads RBAC objects from an informer: the binding takes effect shortly.
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := aliceDyn.Resource(clusterConfigs).List(ctx, metav1.ListOptions{})
		if err == nil {
			if len(list.Items) != 1 {
				t.Errorf("alice lists %d CiliumBGPClusterConfigs, want 1", len(list.Items))
			}
			break
		}
		if !apierrors.IsForbidden(err) || time.Now().After(deadline) {
			t.Fatalf("alice lists CiliumBGPClusterConfigs through her group's binding: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The binding grants that and nothing more.
	if _, err := alice.CoreV1().Services("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("alice lists Services with a binding for CiliumBGPClusterConfigs only: got %v, want Forbidden", err)
	}
}

// checkLoopbackOnly fails the test if one of the processes listens on a TCP address other than
// 127.0.0.1.
func checkLoopbackOnly(t *testing.T, pids []int) {
	t.Helper()
	sockets := map[string]bool{} // inode of each socket the processes hold
	for _, pid := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		fds, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(dir, fd.Name()))
			if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
				sockets[strings.TrimSuffix(inode, "]")] = true
			}
		}
	}
	var listening []string
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" || !sockets[fields[9]] { // 0A: LISTEN
				continue
			}
			listening = append(listening, fields[1])
		}
		f.Close()
	}
	if len(listening) < 3 { // API server, etcd clients, etcd peers
		t.Errorf("found %d listening sockets (%v), want at least 3: is /proc readable?", len(listening), listening)
	}
	for _, addr := range listening {
		host, _, _ := strings.Cut(addr, ":")
		if host != "0100007F" { // 127.0.0.1, little-endian hex
			port, _ := strconv.ParseInt(addr[len(host)+1:], 16, 32)
			t.Errorf("a process listens on %s port %d, not on 127.0.0.1", host, port)
		}
	}
}

// logRSS logs the resident memory of the processes (informational: numbers are not asserted).
func logRSS(t *testing.T, pids map[string]int) {
	t.Helper()
	names := make([]string, 0, len(pids))
	for n := range pids {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pids[n]))
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
				t.Logf("%s %s", n, strings.Join(strings.Fields(line), " "))
			}
		}
	}
}

// Ensure the admin RESTConfig can be handed out and changed without touching the server's.
func TestRESTConfigIsACopy(t *testing.T) {
	s := &Server{admin: &rest.Config{Host: "https://127.0.0.1:1", QPS: 200}}
	c := s.RESTConfig()
	c.Host, c.QPS = "https://example.invalid", 1
	if s.admin.Host != "https://127.0.0.1:1" || s.admin.QPS != 200 {
		t.Errorf("changing RESTConfig's result changed the server's config: %+v", s.admin)
	}
}

// TestKilledTestLeavesNothing runs a test binary that starts a Server and is then killed with
// SIGKILL, so that no cleanup runs: etcd and kube-apiserver must die with it.
func TestKilledTestLeavesNothing(t *testing.T) {
	if os.Getenv("KUBETEST_CHILD") == "1" {
		s := Start(t, Options{})
		fmt.Printf("pids %d %d\n", s.etcd.cmd.Process.Pid, s.api.cmd.Process.Pid)
		select {} // until killed
	}
	Binaries(t) // skips here, not in the child, when there are none
	// The orphans are adopted by this process rather than by init, so that the test can wait
	// for them: it learns when they die, and leaves no zombie behind.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)

	child := exec.Command(os.Args[0], "-test.run=^TestKilledTestLeavesNothing$", "-test.v")
	// The killed child cannot remove its temp dir: put it in ours.
	child.Env = append(os.Environ(), "KUBETEST_CHILD=1", "TMPDIR="+t.TempDir())
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	var lines []string
	sc := bufio.NewScanner(out)
	for pids == nil && sc.Scan() {
		lines = append(lines, sc.Text())
		var etcd, api int
		if _, err := fmt.Sscanf(sc.Text(), "pids %d %d", &etcd, &api); err == nil {
			pids = []int{etcd, api}
		}
	}
	child.Process.Kill()
	child.Wait() // once it is reaped, its children have been handed to this process
	if pids == nil {
		t.Fatalf("the child printed no pids:\n%s", strings.Join(lines, "\n"))
	}
	for _, pid := range pids {
		reaped := make(chan error, 1)
		go func() {
			_, err := unix.Wait4(pid, nil, 0, nil)
			reaped <- err
		}()
		select {
		case err := <-reaped:
			if err != nil {
				t.Errorf("wait for process %d: %v", pid, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("process %d outlived its killed test binary", pid)
			unix.Kill(pid, unix.SIGKILL)
			<-reaped
		}
	}
}

func TestReadObjects(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    []string // kind/name of each object
		wantErr bool
	}{
		{
			name: "documents, empty ones skipped",
			yaml: "---\n# only a comment\n---\napiVersion: v1\nkind: A\nmetadata:\n  name: a\n---\n---\n" +
				"apiVersion: v1\nkind: B\nmetadata:\n  name: b\n",
			want: []string{"A/a", "B/b"},
		},
		{name: "JSON", yaml: `{"apiVersion": "v1", "kind": "A", "metadata": {"name": "a"}}`, want: []string{"A/a"}},
		{name: "no kind", yaml: "apiVersion: v1\nmetadata:\n  name: a\n", wantErr: true},
		{name: "not an object", yaml: "- a\n- b\n", wantErr: true},
		{name: "bad YAML", yaml: "kind: [\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "objects.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			objs, err := readObjects(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("readObjects: error %v, want error: %v", err, tt.wantErr)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.GetKind()+"/"+o.GetName())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("readObjects = %v, want %v", got, tt.want)
			}
		})
	}
}

// failedTB is a failed test that records what is logged.
type failedTB struct {
	testing.TB
	logs []string
}

func (f *failedTB) Failed() bool { return true }
func (f *failedTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

func TestShutdownLogsTailsOnFailure(t *testing.T) {
	s := &Server{dir: t.TempDir()} // no process: only the logs are left to show
	var log strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&log, "line %d\n", i)
	}
	if err := os.WriteFile(s.path("kube-apiserver.log"), []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.path("etcd.log"), []byte("only line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tb := &failedTB{TB: t}
	s.shutdown(tb)
	if len(tb.logs) != 2 {
		t.Fatalf("shutdown logged %d messages, want 2 (one per process): %q", len(tb.logs), tb.logs)
	}
	api, etcd := tb.logs[0], tb.logs[1]
	if !strings.Contains(api, "kube-apiserver") || !strings.HasSuffix(api, ":\n"+strings.Join(lines(61, 100), "\n")) {
		t.Errorf("kube-apiserver message = %q, want its lines 61 to 100", api)
	}
	if !strings.Contains(etcd, "etcd") || !strings.HasSuffix(etcd, "\nonly line") {
		t.Errorf("etcd message = %q, want its only line", etcd)
	}
}

func lines(from, to int) []string {
	var l []string
	for i := from; i <= to; i++ {
		l = append(l, fmt.Sprintf("line %d", i))
	}
	return l
}
