package kubetest

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/frr-renderer/frr-renderer/internal/testbin"
)

const (
	// readyTimeout bounds the wait for etcd's /health and kube-apiserver's /readyz (4-6 s
	// on 2 cores; more under -race and parallel packages).
	readyTimeout = 90 * time.Second
	// stopGrace is how long a child gets after SIGTERM before SIGKILL.
	stopGrace = 15 * time.Second
	// tailLines is how much of each log a failed test prints.
	tailLines = 40
)

// Binaries returns the directory holding kube-apiserver and etcd: $KUBE_BINARIES when set,
// else the one hack/kube-binaries.sh prints (found from the working directory up to the module
// root), which builds them first if they are not cached: that takes ~10 min and needs write
// access to the cache (root by default), so run `make kube-binaries` before a first
// `go test` under its default 10 min timeout.
//
// It skips the test when the binaries are neither given nor cached and cannot be built
// without root; under CI=true it fails instead, as a CI run that skips proves nothing.
func Binaries(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("KUBE_BINARIES"); dir != "" {
		if err := checkBinaries(dir); err != nil {
			t.Fatalf("kubetest: $KUBE_BINARIES: %v", err)
		}
		return dir
	}
	built.once.Do(func() { built.dir, built.err = buildBinaries() })
	if built.err != nil {
		if os.Geteuid() != 0 && os.Getenv("CI") != "true" {
			t.Skipf("kubetest: no kube-apiserver and etcd, and building them needs root "+
				"(run `make kube-binaries` as root, or set $KUBE_BINARIES): %v", built.err)
		}
		t.Fatalf("kubetest: %v", built.err)
	}
	return built.dir
}

// built memoizes hack/kube-binaries.sh for the test binary: one run, even when it fails.
var built struct {
	once sync.Once
	dir  string
	err  error
}

func buildBinaries() (string, error) {
	dir, err := HackScript("kube-binaries.sh")
	if err != nil {
		return "", err
	}
	if err := checkBinaries(dir); err != nil {
		return "", fmt.Errorf("hack/kube-binaries.sh: %w", err)
	}
	return dir, nil
}

// HackScript runs this module's hack/NAME with args and returns what it prints (the scripts
// that build or fetch something once and cache it print where it is). Its progress goes to
// stderr as it runs.
func HackScript(name string, args ...string) (string, error) {
	root, err := testbin.ModuleRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "hack", name)
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("module root %s: %w", root, err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Stdout = &stdout
	// A build prints its progress; it takes minutes, so let it show.
	cmd.Stderr = io.MultiWriter(&stderr, os.Stderr)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hack/%s: %w: %s", name, err, lastLine(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func checkBinaries(dir string) error {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return fmt.Errorf("%s is not an executable file", filepath.Join(dir, name))
		}
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// Options adjust a Server. The zero value is what most tests want.
type Options struct {
	// ExtraAPIServerArgs are appended to kube-apiserver's flags: a flag of one value given
	// again overrides the default (e.g. "--service-cluster-ip-range=10.96.0.0/12"); a list
	// flag (--authorization-mode, --disable-admission-plugins) given again adds to it.
	ExtraAPIServerArgs []string
	// Log, when set, also receives both processes' output as it is written (e.g. os.Stderr
	// while debugging). It must stay usable until the test's cleanup has run.
	Log io.Writer

	// Netns, when set, runs both processes in that network namespace (one the test made, named
	// in /run/netns) instead of the test's, as the control plane of a lab with real nodes:
	// etcd on the namespace's loopback, kube-apiserver on Address:Port (every address of the
	// namespace), and every client of Server dials into it. Address is then required.
	Netns   string
	Address net.IP
	// Port is kube-apiserver's port; 0 is a free one (6443 in Netns).
	Port int
	// ServingIPs are more addresses for the serving certificate (the `kubernetes` Service's
	// ClusterIP of a lab, say).
	ServingIPs []net.IP
}

// Server is a running etcd and kube-apiserver, with an admin client certificate.
type Server struct {
	dir        string // the test's temp dir: certificates, kubeconfigs, etcd data, logs
	bin        string
	log        io.Writer
	ca         *authority
	host       string // https://ADDRESS:PORT, the same across API server restarts
	netns      string // Options.Netns
	admin      *rest.Config
	kubeconfig string
	apiArgs    []string
	etcd       *Process
	etcdURL    string
	etcdHTTP   *http.Client // to etcdURL: no proxy, in the namespace if any

	mu     sync.Mutex
	api    *Process // nil while stopped
	users  int      // kubeconfigs issued by KubeconfigFor, to name their files
	others int      // API servers started by StartOtherAPIServer, to name their logs
}

// Start starts etcd and kube-apiserver on 127.0.0.1 with free ports and fresh certificates,
// waits until the API server is ready, and registers a cleanup that stops both (a failed test
// also gets the last lines of each log) before the temp dir goes.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := Binaries(t)
	s := &Server{dir: t.TempDir(), bin: bin, log: opts.Log, netns: opts.Netns}
	// Registered before any child exists, so that a failed start is cleaned up too; it runs
	// before the temp dir's removal (cleanups run last first).
	t.Cleanup(func() { s.shutdown(t) })

	begin := time.Now()
	var apiPort, etcdClient, etcdPeer int
	address := net.IPv4(127, 0, 0, 1)
	if opts.Netns != "" {
		if opts.Address == nil {
			t.Fatal("kubetest: Options.Netns needs Options.Address")
		}
		// A namespace of the test's own: every port is free.
		address, apiPort, etcdClient, etcdPeer = opts.Address, cmp.Or(opts.Port, 6443), 2379, 2380
	} else {
		ports, err := freePorts(3)
		if err != nil {
			t.Fatalf("kubetest: %v", err)
		}
		apiPort, etcdClient, etcdPeer = cmp.Or(opts.Port, ports[0]), ports[1], ports[2]
	}
	s.host = "https://" + net.JoinHostPort(address.String(), strconv.Itoa(apiPort))
	if err := s.writeFiles(append([]net.IP{address}, opts.ServingIPs...)); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	s.etcdURL = etcdURL
	if err := s.startEtcd(etcdURL, "http://127.0.0.1:"+strconv.Itoa(etcdPeer)); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	s.apiArgs = append(s.apiServerArgs(address, apiPort, etcdURL), opts.ExtraAPIServerArgs...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startAPIServer(); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	t.Logf("kubetest: kube-apiserver ready at %s after %v", s.host, time.Since(begin).Round(time.Millisecond))
	return s
}

func (s *Server) path(name string) string { return filepath.Join(s.dir, name) }

// writeFiles makes the certificates (serving ips), the service account key and the admin
// kubeconfig.
func (s *Server) writeFiles(ips []net.IP) error {
	ca, err := newAuthority()
	if err != nil {
		return err
	}
	s.ca = ca
	servingCert, servingKey, err := ca.serving(ips)
	if err != nil {
		return err
	}
	saKey, err := newServiceAccountKey()
	if err != nil {
		return err
	}
	adminCert, adminKey, err := ca.client("kubetest-admin", []string{"system:masters"})
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"ca.crt": ca.pem, "ca.key": ca.keyPEM, "apiserver.crt": servingCert, "apiserver.key": servingKey, "sa.key": saKey,
		"admin.crt": adminCert, "admin.key": adminKey,
	} {
		if err := os.WriteFile(s.path(name), data, 0o600); err != nil {
			return err
		}
	}
	s.kubeconfig = s.path("admin.kubeconfig")
	if err := writeKubeconfig(s.kubeconfig, s.host, ca.pem, "kubetest-admin", adminCert, adminKey); err != nil {
		return err
	}
	s.admin = &rest.Config{
		Host: s.host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: ca.pem, CertData: adminCert, KeyData: adminKey,
		},
		// client-go's default (5 QPS) would make a test that creates a few hundred objects
		// wait on its own client.
		QPS:   200,
		Burst: 400,
	}
	if s.netns != "" {
		s.admin.Dial = DialerIn(s.netns)
	}
	return nil
}

func (s *Server) startEtcd(clientURL, peerURL string) error {
	p, err := StartProcess("etcd", s.path("etcd.log"), s.log, s.netns, filepath.Join(s.bin, "etcd"),
		"--name=kubetest",
		"--data-dir="+s.path("etcd"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL,
		"--unsafe-no-fsync", // the data dies with the test
		"--log-level=warn",
	)
	if err != nil {
		return err
	}
	s.etcd = p
	// No proxy: loopback only, whatever the environment says.
	tr := &http.Transport{}
	if s.netns != "" {
		tr.DialContext = DialerIn(s.netns)
	}
	s.etcdHTTP = &http.Client{Transport: tr}
	c := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	return waitFor(p, func() error {
		resp, err := c.Get(clientURL + "/health")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"health":"true"`)) {
			return fmt.Errorf("/health: %s: %s", resp.Status, body)
		}
		return nil
	})
}

func (s *Server) apiServerArgs(address net.IP, port int, etcdURL string) []string {
	bind := address.String()
	mode := []string{
		"--authorization-mode=RBAC",
		// No controller-manager creates default ServiceAccounts, so Pods would be refused.
		"--disable-admission-plugins=ServiceAccount",
	}
	if s.netns != "" {
		// Its own namespace: the lab's address, and the Service ClusterIP routed to it.
		bind = "0.0.0.0"
		// A lab of real nodes: kubelets are authorized as nodes, pods get their service
		// account's token (a controller-manager makes the accounts), and the API server calls
		// the kubelets (logs, exec) as an admin, at their InternalIP.
		mode = []string{
			"--authorization-mode=Node,RBAC",
			"--kubelet-client-certificate=" + s.path("admin.crt"),
			"--kubelet-client-key=" + s.path("admin.key"),
			"--kubelet-preferred-address-types=InternalIP",
		}
	}
	return append(mode,
		"--bind-address="+bind,
		"--advertise-address="+address.String(),
		"--secure-port="+strconv.Itoa(port),
		"--etcd-servers="+etcdURL,
		"--tls-cert-file="+s.path("apiserver.crt"),
		"--tls-private-key-file="+s.path("apiserver.key"),
		"--client-ca-file="+s.path("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+s.path("sa.key"),
		"--service-account-signing-key-file="+s.path("sa.key"),
		"--service-cluster-ip-range=10.0.0.0/24",
		// The default reconciler refuses a loopback advertise address.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	)
}

// startAPIServer starts kube-apiserver and waits for /readyz. s.mu is held.
func (s *Server) startAPIServer() error {
	p, err := s.launchAPIServer("kube-apiserver.log", s.admin, s.apiArgs)
	s.api = p
	return err
}

// launchAPIServer starts kube-apiserver with args, logging to logName, and waits until it
// answers /readyz to admin. The process is returned, started, on error too.
func (s *Server) launchAPIServer(logName string, admin *rest.Config, args []string) (*Process, error) {
	p, err := StartProcess("kube-apiserver", s.path(logName), s.log, s.netns,
		filepath.Join(s.bin, "kube-apiserver"), args...)
	if err != nil {
		return nil, err
	}
	c, err := rest.HTTPClientFor(admin)
	if err != nil {
		return p, err
	}
	c.Timeout = 2 * time.Second
	return p, waitFor(p, func() error {
		resp, err := c.Get(admin.Host + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s: %s", resp.Status, body)
		}
		return nil
	})
}

// waitFor polls ready until it succeeds, p exits or readyTimeout passes.
func waitFor(p *Process, ready func() error) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if gone, how := p.Exited(); gone {
			return fmt.Errorf("%s exited (%v) before it was ready; log %s", p.name, how, p.logPath)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %v", p.name, readyTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Host is the API server's URL, https://ADDRESS:PORT.
func (s *Server) Host() string { return s.host }

// File returns the path of one of the files the server runs with, for the processes of a lab
// (kubelets, controller-manager): "ca.crt" and "ca.key" (the authority that signs every
// certificate and that the API server trusts for clients), "sa.key" (the service account
// signing key), "admin.crt" and "admin.key" (a system:masters client).
func (s *Server) File(name string) string { return s.path(name) }

// RESTConfig returns a client configuration for an admin (group system:masters). Each call
// returns a new copy.
func (s *Server) RESTConfig() *rest.Config { return rest.CopyConfig(s.admin) }

// Kubeconfig returns the path of a kubeconfig file for the same admin, for a process.
func (s *Server) Kubeconfig() string { return s.kubeconfig }

// KubeconfigFor returns the path of a new kubeconfig file whose client certificate
// authenticates as user in groups, and nothing else: without RBAC bindings it may do nothing
// but what system:authenticated may (discovery, self reviews).
func (s *Server) KubeconfigFor(t testing.TB, user string, groups ...string) string {
	t.Helper()
	cert, key, err := s.ca.client(user, groups)
	if err != nil {
		t.Fatalf("kubetest: client certificate for %q: %v", user, err)
	}
	s.mu.Lock()
	s.users++
	path := s.path(fmt.Sprintf("user-%d.kubeconfig", s.users))
	s.mu.Unlock()
	if err := writeKubeconfig(path, s.host, s.ca.pem, user, cert, key); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return path
}

// StopAPIServer stops kube-apiserver (SIGTERM, as in a rolling update) and returns once it has
// exited; etcd keeps running with the data. Clients see the server gone until StartAPIServer.
func (s *Server) StopAPIServer(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.api == nil {
		t.Fatalf("kubetest: StopAPIServer: kube-apiserver is not running")
	}
	s.api.Stop(stopGrace)
	s.api = nil
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the same address, port
// and certificates, so that clients reconnect by themselves, and waits until it is ready.
func (s *Server) StartAPIServer(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.api != nil {
		t.Fatalf("kubetest: StartAPIServer: kube-apiserver is running")
	}
	if err := s.startAPIServer(); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
}

// StartOtherAPIServer starts a second kube-apiserver on the same etcd and certificates, on a
// free port of its own, as another control-plane node would be: what is written through it is
// in the store the first one serves, whether or not that one runs. It returns an admin
// configuration for it and a stop function, which the test's cleanup calls too. Loopback only
// (not with Options.Netns).
func (s *Server) StartOtherAPIServer(t testing.TB) (admin *rest.Config, stop func()) {
	t.Helper()
	if s.netns != "" {
		t.Fatal("kubetest: StartOtherAPIServer: not in a namespace")
	}
	ports, err := freePorts(1)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	args := append(slices.Clone(s.apiArgs), "--secure-port="+strconv.Itoa(ports[0])) // the last one wins
	admin = rest.CopyConfig(s.admin)
	admin.Host = "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	s.mu.Lock()
	s.others++
	logName := fmt.Sprintf("kube-apiserver-other-%d.log", s.others)
	s.mu.Unlock()
	p, err := s.launchAPIServer(logName, admin, args)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if p != nil {
				p.Stop(stopGrace)
			}
		})
	}
	t.Cleanup(stop)
	if err != nil {
		t.Fatalf("kubetest: the other kube-apiserver: %v", err)
	}
	return admin, stop
}

// shutdown stops both children and, when the test failed, logs the end of their logs.
func (s *Server) shutdown(t testing.TB) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.api != nil {
		s.api.Stop(stopGrace)
		s.api = nil
	}
	if s.etcd != nil {
		s.etcd.Stop(stopGrace)
	}
	if !t.Failed() {
		return
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		log := s.path(name + ".log")
		if _, err := os.Stat(log); err != nil {
			continue
		}
		t.Logf("kubetest: last %d lines of %s:\n%s", tailLines, name, Tail(log, tailLines))
	}
}
