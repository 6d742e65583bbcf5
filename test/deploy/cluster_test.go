package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/frr-renderer/frr-renderer/internal/clustertest"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/kubetest"
)

// The seed as a cluster: the ToR of examples/seed/tor-frr.conf (plus a TCP-MD5 password) and the
// three nodes cp-1, worker-1 and worker-2 with the seed's addresses on its segment, each a real
// kubelet with containerd; the chart installed unchanged from deploy/helm, its pods using the
// images `make images` builds and in-cluster credentials.
const (
	handsOn      = "../../examples/seed/hands-on"
	torConfFile  = "../../examples/seed/tor-frr.conf"
	torAddr      = "192.168.10.1"
	controlPlane = "192.168.10.250/24"
	seedIP       = "172.20.0.1"
	secondIP     = "172.20.0.2"
	// password is recognisable: it must appear in FRR's configuration and nowhere in a log.
	password   = "Seed-Md5-Secret-7f3a"
	waitLong   = 3 * time.Minute
	pollPeriod = 50 * time.Millisecond
)

var seedNodes = []clustertest.NodeSpec{
	{Name: "cp-1", Address: netip.MustParsePrefix("192.168.10.11/24")},
	{Name: "worker-1", Address: netip.MustParsePrefix("192.168.10.12/24")},
	{Name: "worker-2", Address: netip.MustParsePrefix("192.168.10.13/24")},
}

var (
	nodeConfigs = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumbgpnodeconfigs"}
	overrides   = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumbgpnodeconfigoverrides"}
)

type lab struct {
	t       *testing.T
	c       *clustertest.Cluster
	tor     *frrtest.Router
	dyn     dynamic.Interface
	version string
}

func TestSeedCluster(t *testing.T) {
	clustertest.Require(t)
	frrtest.Require(t, frrtest.FRR10)
	helm(t)
	images, err := kubetest.HackScript("images.sh")
	if err != nil {
		t.Fatalf("make images: %v", err)
	}
	archives := strings.Fields(images)
	for _, a := range archives {
		if st, err := os.Stat(a); err == nil {
			t.Logf("image archive %s: %.1f MB", filepath.Base(a), float64(st.Size())/1e6)
		}
	}

	l := &lab{t: t, version: strings.TrimSpace(readFile(t, filepath.Join(repoRoot, "VERSION")))}
	l.tor = frrtest.Start(t, frrtest.FRR10, "tor")
	frrtest.Bridge(t, l.tor, "br0", netip.MustParsePrefix(torAddr+"/24"))
	torConf := readFile(t, torConfFile)
	torConf = strings.Replace(torConf, " neighbor K8S-NODES remote-as 65001\n",
		" neighbor K8S-NODES remote-as 65001\n neighbor K8S-NODES password "+password+"\n", 1)
	if err := l.tor.Load(torConf); err != nil {
		t.Fatalf("the ToR rejected its configuration: %v", err)
	}
	l.c = clustertest.Start(t, clustertest.Options{
		SegmentNetns: l.tor.Netns, Bridge: "br0",
		ControlPlane: netip.MustParsePrefix(controlPlane),
		Nodes:        seedNodes,
		Images:       archives,
	})
	l.dyn = dynamic.NewForConfigOrDie(l.c.API.RESTConfig())
	l.applySeed()

	begin := time.Now()
	l.helm("install", "frr-renderer", chartDir, "--namespace", "kube-system")
	l.eventually("every pod Running and Ready", l.podsReady)
	ready := time.Since(begin)
	l.eventually("the ToR's kernel reaches "+seedIP+" through the three nodes", func() error { return l.torNextHops(seedIP, 3) })
	routed := time.Since(begin)
	t.Logf("helm install -> 3 pods Ready in %v -> %s/32 with 3 next hops in the ToR's kernel in %v",
		ready.Round(time.Millisecond), seedIP, routed.Round(time.Millisecond))

	t.Run("vtysh in each pod shows the ToR Established", l.checkVtysh)
	t.Run("frr-renderer version and peers in each pod", l.checkCLI)
	t.Run("NodeConfig status shows the peer Established", l.checkNodeConfigStatus)
	t.Run("metrics of each pod", l.checkMetrics)
	t.Run("a Service change reaches the ToR", l.checkServiceChange)
	t.Run("bgpd's listening port follows localPort", l.checkListenPort)
	t.Run("a deleted pod withdraws nothing", l.checkPodDeletion)
	t.Run("helm upgrade rolls one pod at a time and keeps the route", l.checkUpgrade)
	t.Run("a password bgpd logs is masked in kubectl logs -c frr", l.checkMaskedFRRLog)
	t.Run("no password in any log", l.checkLogs)
	l.logSidecarRSS()
}

// applySeed puts the seed into the API server as Cilium would have it: its CRDs, the four BGP
// resources, the CiliumNodes (Cilium's agent makes them), the Service with its LoadBalancer IP
// (the LB IPAM's part), plus a TCP-MD5 password. The Nodes are the kubelets'.
func (l *lab) applySeed() {
	t := l.t
	l.c.API.InstallCRDs(t, kubetest.CiliumCRDs(t, "")...)
	files, _ := filepath.Glob(filepath.Join(handsOn, "*.yaml"))
	for _, f := range files {
		var docs []string
		for _, doc := range strings.Split(readFile(t, f), "\n---\n") {
			if !strings.Contains(doc, "\nkind: Node\n") {
				docs = append(docs, doc)
			}
		}
		l.c.API.Apply(t, f, []byte(strings.Join(docs, "\n---\n")), "seed")
	}
	l.c.API.Apply(t, "the password", []byte(`apiVersion: v1
kind: Secret
metadata: {name: bgp-auth, namespace: kube-system}
stringData: {password: `+password+`}
---
apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: cilium-peer}
spec:
  authSecretRef: bgp-auth
  timers: {holdTimeSeconds: 90, keepAliveTimeSeconds: 30}
  gracefulRestart: {enabled: true, restartTimeSeconds: 120}
  families:
  - afi: ipv4
    safi: unicast
    advertisements:
      matchLabels: {advertise: bgp}
`), "seed")
}

func (l *lab) helm(args ...string) string {
	l.t.Helper()
	cmd := l.c.Command(l.t.Context(), helm(l.t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		l.t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (l *lab) eventually(what string, fn func() error) {
	l.t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("not within %v: %s: %v", waitLong, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pods returns the DaemonSet's pods by node.
func (l *lab) pods(ctx context.Context) (map[string]corev1.Pod, error) {
	list, err := l.c.Kube.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=frr-renderer"})
	if err != nil {
		return nil, err
	}
	out := map[string]corev1.Pod{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out[p.Spec.NodeName] = p
		}
	}
	return out, nil
}

func ready(p corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (l *lab) podsReady() error {
	pods, err := l.pods(l.t.Context())
	if err != nil {
		return err
	}
	for _, n := range seedNodes {
		p, ok := pods[n.Name]
		if !ok {
			return fmt.Errorf("no pod on %s", n.Name)
		}
		if !ready(p) {
			return fmt.Errorf("pod %s on %s is %s, not Ready: %s", p.Name, n.Name, p.Status.Phase, containerStates(p))
		}
	}
	return nil
}

func containerStates(p corev1.Pod) string {
	var s []string
	for _, c := range p.Status.ContainerStatuses {
		state := "running"
		switch {
		case c.State.Waiting != nil:
			state = "waiting: " + c.State.Waiting.Reason + " " + c.State.Waiting.Message
		case c.State.Terminated != nil:
			state = fmt.Sprintf("terminated: %s (%d)", c.State.Terminated.Reason, c.State.Terminated.ExitCode)
		}
		s = append(s, fmt.Sprintf("%s %s, ready %v, restarts %d", c.Name, state, c.Ready, c.RestartCount))
	}
	return strings.Join(s, "; ")
}

// torNextHops checks that the ToR's kernel routes prefix/32 through want next hops (ECMP).
func (l *lab) torNextHops(ip string, want int) error {
	n, out, err := l.nextHops(ip)
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("%d next hops, want %d:\n%s", n, want, out)
	}
	return nil
}

func (l *lab) nextHops(ip string) (int, string, error) {
	out, err := l.tor.Exec("ip", "-4", "route", "show", ip+"/32")
	if err != nil {
		return 0, out, err
	}
	if strings.TrimSpace(out) == "" {
		return 0, out, nil
	}
	if n := strings.Count(out, "nexthop via"); n > 0 {
		return n, out, nil
	}
	return 1, out, nil
}

// watchNextHops polls the ToR's next hops for ip until stop is closed, and returns the fewest
// seen and the number of polls.
func (l *lab) watchNextHops(ip string, stop <-chan struct{}) (fewest, polls int) {
	fewest = 1 << 30
	for {
		select {
		case <-stop:
			return fewest, polls
		case <-time.After(pollPeriod):
		}
		n, _, err := l.nextHops(ip)
		if err != nil {
			n = 0
		}
		fewest, polls = min(fewest, n), polls+1
	}
}

func (l *lab) checkVtysh(t *testing.T) {
	pods, err := l.pods(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range seedNodes {
		p := pods[n.Name]
		out, err := l.c.Kubectl(t.Context(), "-n", "kube-system", "exec", p.Name, "-c", "frr", "--", "vtysh", "-c", "show bgp summary")
		if err != nil {
			t.Errorf("%s: %v", n.Name, err)
			continue
		}
		t.Logf("kubectl exec %s -c frr -- vtysh -c 'show bgp summary':\n%s", p.Name, out)
		// Established shows the prefixes received in State/PfxRcd; any other state its name.
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(torAddr) + `\s.*\s(\d+|Idle|Connect|Active|OpenSent|OpenConfirm)\s+(\d+|N/A)\s+\S+\s*$`)
		m := re.FindStringSubmatch(out)
		if m == nil || !regexp.MustCompile(`^\d+$`).MatchString(m[1]) {
			t.Errorf("%s: the ToR %s is not Established in show bgp summary", n.Name, torAddr)
		}
		out, err = l.c.Kubectl(t.Context(), "-n", "kube-system", "exec", p.Name, "-c", "frr", "--", "vtysh", "-c", "show bgp neighbors "+torAddr+" json")
		if err != nil {
			t.Errorf("%s: %v", n.Name, err)
			continue
		}
		var nb map[string]struct {
			BGPState              string `json:"bgpState"`
			AuthenticationEnabled int    `json:"authenticationEnabled"`
		}
		if err := json.Unmarshal([]byte(out), &nb); err != nil || nb[torAddr].BGPState != "Established" || nb[torAddr].AuthenticationEnabled != 1 {
			t.Errorf("%s: the session with the ToR is %+v (%v), want Established with TCP-MD5", n.Name, nb[torAddr], err)
		}
	}
}

// checkCLI runs the operator's commands in each sidecar: the version stamped at build time (the
// chart's appVersion, the images' tag) and the peers.
func (l *lab) checkCLI(t *testing.T) {
	pods, err := l.pods(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range seedNodes {
		exec := func(args ...string) string {
			out, err := l.c.Kubectl(t.Context(), append([]string{"-n", "kube-system", "exec", pods[n.Name].Name, "-c", "frr-renderer", "--", "/usr/bin/frr-renderer"}, args...)...)
			if err != nil {
				t.Errorf("%s: %v", n.Name, err)
			}
			return out
		}
		if out := exec("version"); !strings.Contains(out, l.version) || !strings.Contains(out, "FRRouting 10.") {
			t.Errorf("%s: frr-renderer version says %q, want %s and the FRR 10 it talks to", n.Name, out, l.version)
		}
		out := exec("peers")
		t.Logf("kubectl exec %s -c frr-renderer -- frr-renderer peers:\n%s", pods[n.Name].Name, out)
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(n.Name) + `\s+65001\s+65000\s+` + regexp.QuoteMeta(torAddr) + `\s+established\s`).MatchString(out) {
			t.Errorf("%s: frr-renderer peers does not show the ToR established", n.Name)
		}
	}
}

func (l *lab) checkNodeConfigStatus(t *testing.T) {
	for _, n := range seedNodes {
		l.eventually(n.Name+"'s CiliumBGPNodeConfig shows the ToR Established", func() error {
			nc, err := l.dyn.Resource(nodeConfigs).Get(t.Context(), n.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			b, _ := json.Marshal(nc.Object["status"])
			var st struct {
				BGPInstances []struct {
					Peers []struct {
						PeerAddress  string `json:"peerAddress"`
						PeeringState string `json:"peeringState"`
					} `json:"peers"`
				} `json:"bgpInstances"`
			}
			if err := json.Unmarshal(b, &st); err != nil {
				return err
			}
			for _, in := range st.BGPInstances {
				for _, p := range in.Peers {
					if p.PeerAddress == torAddr && p.PeeringState == "established" {
						return nil
					}
				}
			}
			return fmt.Errorf("status %s", b)
		})
	}
}

// alertMetric finds the metric names the chart's alert rules use.
var alertMetric = regexp.MustCompile(`frr_renderer_[a-z_]+`)

// checkMetrics scrapes each pod's metrics on its node's address, as Prometheus would: the
// metrics every alert rule uses exist, and the session is Established.
func (l *lab) checkMetrics(t *testing.T) {
	rules := readFile(t, filepath.Join(chartDir, "templates", "prometheusrule.yaml"))
	names := slices.Compact(slices.Sorted(slices.Values(alertMetric.FindAllString(rules, -1))))
	if len(names) < 3 {
		t.Fatalf("the alert rules use %q: too few metric names found", names)
	}
	for i, n := range l.c.Nodes {
		client := &http.Client{Transport: &http.Transport{DialContext: kubetest.DialerIn(n.Netns)}, Timeout: 5 * time.Second}
		resp, err := client.Get("http://" + seedNodes[i].Address.Addr().String() + ":9253/metrics")
		if err != nil {
			t.Errorf("%s: %v", n.Name, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, name := range names {
			if !strings.Contains(string(body), "\n"+name) {
				t.Errorf("%s: /metrics has no %s, which an alert rule uses", n.Name, name)
			}
		}
		if !regexp.MustCompile(`(?m)^frr_renderer_bgp_session_state\{[^}]*peer="` + regexp.QuoteMeta(torAddr) + `"[^}]*state="Established"[^}]*\} 1$`).Match(body) {
			t.Errorf("%s: /metrics does not show the session with %s Established", n.Name, torAddr)
		}
	}
}

func (l *lab) setLoadBalancerIPs(ips ...string) {
	l.t.Helper()
	var ingress []string
	for _, ip := range ips {
		ingress = append(ingress, "{ip: "+ip+"}")
	}
	l.c.API.Apply(l.t, "the Service's status", []byte(`apiVersion: v1
kind: Service
metadata: {name: http-test, namespace: default}
status: {loadBalancer: {ingress: [`+strings.Join(ingress, ", ")+`]}}
`), "lb-ipam")
}

func (l *lab) checkServiceChange(t *testing.T) {
	begin := time.Now()
	l.setLoadBalancerIPs(seedIP, secondIP)
	l.eventually("the ToR's kernel reaches "+secondIP+" through the three nodes", func() error { return l.torNextHops(secondIP, 3) })
	added := time.Since(begin)
	begin = time.Now()
	l.setLoadBalancerIPs(seedIP)
	l.eventually("the ToR withdraws "+secondIP, func() error { return l.torNextHops(secondIP, 0) })
	t.Logf("a second LoadBalancer IP written to the API server -> in the ToR's kernel through 3 nodes in %v; removed -> gone in %v",
		added.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
	if err := l.torNextHops(seedIP, 3); err != nil {
		t.Errorf("%s: %v", seedIP, err)
	}
}

// listeners returns the TCP ports bgpd listens on in the node's namespace.
func listeners(n *clustertest.Node) ([]string, error) {
	out, err := n.Exec("ss", "-Hltnp")
	if err != nil {
		return nil, err
	}
	var ports []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && strings.Contains(f[5], `"bgpd"`) {
			ports = append(ports, f[3][strings.LastIndexByte(f[3], ':')+1:])
		}
	}
	slices.Sort(ports)
	return slices.Compact(ports), nil
}

// checkListenPort moves worker-2's bgpd to another port with a CiliumBGPNodeConfigOverride and
// back: bgpd restarts on the instance's localPort each time, and the ToR keeps the route.
func (l *lab) checkListenPort(t *testing.T) {
	n := l.c.Nodes[2]
	want := func(port string) func() error {
		return func() error {
			got, err := listeners(n)
			if err != nil {
				return err
			}
			if !slices.Equal(got, []string{port}) {
				return fmt.Errorf("bgpd on %s listens on %q, want %s", n.Name, got, port)
			}
			return nil
		}
	}
	l.eventually("bgpd listens on the seed's localPort", want("179"))
	stop := make(chan struct{})
	var fewest, polls int
	var wg sync.WaitGroup
	wg.Go(func() { fewest, polls = l.watchNextHops(seedIP, stop) })
	l.c.API.Apply(t, "override", []byte(`apiVersion: cilium.io/v2
kind: CiliumBGPNodeConfigOverride
metadata: {name: worker-2}
spec:
  bgpInstances:
  - {name: K8S-NODES, localPort: 1790}
`), "test")
	l.eventually("bgpd on worker-2 listens on the override's port", want("1790"))
	l.eventually("worker-2's path at the ToR is fresh", func() error { return l.torPathFresh(seedIP, "192.168.10.13") })
	if err := l.dyn.Resource(overrides).Delete(t.Context(), "worker-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	l.eventually("bgpd on worker-2 listens on 179 again", want("179"))
	l.eventually("worker-2's path at the ToR is fresh", func() error { return l.torPathFresh(seedIP, "192.168.10.13") })
	close(stop)
	wg.Wait()
	t.Logf("two port changes on worker-2: next hops for %s fewest %d in %d polls", seedIP, fewest, polls)
	if fewest != 3 {
		t.Errorf("the ToR had %d next hops for %s while bgpd moved ports, want 3 throughout (graceful restart)", fewest, seedIP)
	}
}

// checkPodDeletion deletes worker-1's pod: the DaemonSet makes a new one, and with graceful
// restart the ToR keeps worker-1's path the whole time.
func (l *lab) checkPodDeletion(t *testing.T) {
	pods, err := l.pods(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	old := pods["worker-1"]
	stop := make(chan struct{})
	var fewest, polls int
	var wg sync.WaitGroup
	wg.Go(func() { fewest, polls = l.watchNextHops(seedIP, stop) })
	begin := time.Now()
	if _, err := l.c.Kubectl(t.Context(), "-n", "kube-system", "delete", "pod", old.Name, "--wait=false"); err != nil {
		t.Fatal(err)
	}
	l.eventually("a new pod on worker-1, Ready", func() error {
		pods, err := l.pods(t.Context())
		if err != nil {
			return err
		}
		p, ok := pods["worker-1"]
		if !ok || p.UID == old.UID {
			return fmt.Errorf("no new pod yet")
		}
		if !ready(p) {
			return fmt.Errorf("pod %s: %s", p.Name, containerStates(p))
		}
		return nil
	})
	replaced := time.Since(begin)
	l.eventually("worker-1's path at the ToR is fresh again (not stale)", func() error { return l.torPathFresh(seedIP, "192.168.10.12") })
	close(stop)
	wg.Wait()
	t.Logf("pod deleted -> new pod Ready in %v, path fresh at the ToR in %v; next hops for %s: fewest %d in %d polls every %v",
		replaced.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond), seedIP, fewest, polls, pollPeriod)
	if fewest != 3 {
		t.Errorf("the ToR had %d next hops for %s at some point while the pod was replaced, want 3 throughout (graceful restart)", fewest, seedIP)
	}
}

// torPathFresh checks that the ToR has prefix from nexthop and that the path is not stale
// (graceful restart is over: the restarted speaker sent it again and its End-of-RIB).
func (l *lab) torPathFresh(ip, nexthop string) error {
	out, err := l.tor.Vtysh("-d", "bgpd", "-c", "show bgp ipv4 unicast "+ip+"/32 json")
	if err != nil {
		return err
	}
	var r struct {
		Paths []struct {
			Stale    bool `json:"stale"`
			Nexthops []struct {
				IP string `json:"ip"`
			} `json:"nexthops"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return err
	}
	for _, p := range r.Paths {
		for _, nh := range p.Nexthops {
			if nh.IP == nexthop {
				if p.Stale {
					return fmt.Errorf("the path via %s is stale", nexthop)
				}
				return nil
			}
		}
	}
	return fmt.Errorf("no path via %s", nexthop)
}

// checkUpgrade changes the sidecar's image tag with helm upgrade: the DaemonSet replaces the
// pods one at a time (maxUnavailable 1) and the ToR keeps its three next hops.
func (l *lab) checkUpgrade(t *testing.T) {
	newTag := l.version + "-upgrade"
	for _, n := range l.c.Nodes {
		if _, err := n.Ctr("images", "tag", "--force", "docker.io/frr-renderer/frr-renderer:"+l.version, "docker.io/frr-renderer/frr-renderer:"+newTag); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var fewest, polls, fewestReady int
	var wg sync.WaitGroup
	wg.Go(func() { fewest, polls = l.watchNextHops(seedIP, stop) })
	wg.Go(func() { fewestReady = l.watchReadyPods(stop) })
	begin := time.Now()
	l.helm("upgrade", "frr-renderer", chartDir, "--namespace", "kube-system", "--reuse-values", "--set", "image.tag="+newTag)
	l.eventually("every pod runs the new image and is Ready", func() error {
		pods, err := l.pods(t.Context())
		if err != nil {
			return err
		}
		for _, n := range seedNodes {
			p, ok := pods[n.Name]
			if !ok {
				return fmt.Errorf("no pod on %s", n.Name)
			}
			if img := p.Spec.Containers[1].Image; !strings.HasSuffix(img, ":"+newTag) {
				return fmt.Errorf("%s runs %s", n.Name, img)
			}
			if !ready(p) {
				return fmt.Errorf("%s: %s", n.Name, containerStates(p))
			}
		}
		return nil
	})
	rolled := time.Since(begin)
	for _, n := range seedNodes {
		l.eventually(n.Name+"'s path at the ToR is fresh", func() error { return l.torPathFresh(seedIP, n.Address.Addr().String()) })
	}
	close(stop)
	wg.Wait()
	t.Logf("helm upgrade -> 3 pods replaced and Ready in %v; Ready pods never fewer than %d; next hops for %s: fewest %d in %d polls",
		rolled.Round(time.Millisecond), fewestReady, seedIP, fewest, polls)
	if fewest != 3 {
		t.Errorf("the ToR had %d next hops for %s at some point during the upgrade, want 3 throughout", fewest, seedIP)
	}
	if fewestReady < 2 {
		t.Errorf("only %d pods were Ready at some point: the rollout did not go one pod at a time", fewestReady)
	}
}

// watchReadyPods polls the number of Ready DaemonSet pods until stop, and returns the fewest.
func (l *lab) watchReadyPods(stop <-chan struct{}) int {
	fewest := len(seedNodes)
	for {
		select {
		case <-stop:
			return fewest
		case <-time.After(200 * time.Millisecond):
		}
		pods, err := l.pods(context.Background())
		if err != nil {
			continue
		}
		n := 0
		for _, p := range pods {
			if ready(p) {
				n++
			}
		}
		fewest = min(fewest, n)
	}
}

// checkLogs reads every container's log, as kubectl logs gives it: the password is in FRR's
// configuration (the ToR authenticates the sessions) and in no log.
func (l *lab) checkLogs(t *testing.T) {
	pods, err := l.pods(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		for _, c := range []string{"frr-renderer", "frr"} {
			out, err := l.c.Kubectl(t.Context(), "-n", "kube-system", "logs", p.Name, "-c", c)
			if err != nil {
				t.Errorf("kubectl logs %s -c %s: %v", p.Name, c, err)
				continue
			}
			if strings.TrimSpace(out) == "" {
				t.Errorf("kubectl logs %s -c %s is empty", p.Name, c)
			}
			if strings.Contains(out, password) {
				t.Errorf("kubectl logs %s -c %s holds the BGP password", p.Name, c)
			}
		}
	}
	out, err := l.c.Kubectl(t.Context(), "-n", "kube-system", "exec", pods["cp-1"].Name, "-c", "frr", "--", "vtysh", "-c", "show running-config")
	if err != nil || !strings.Contains(out, "password "+password) {
		t.Errorf("FRR's running configuration on cp-1 does not hold the password (%v)", err)
	}
}

// checkMaskedFRRLog makes cp-1's bgpd log a password: a neighbor line it refuses (no such
// peer), which it logs in full ("... before: neighbor ADDR password SECRET"). The copy of FRR's
// log on the frr container's output (frr-start's sed) must show the line masked, never the
// secret; the log file itself is frr's alone (0600); and the refused line leaves nothing in
// FRR's configuration.
func (l *lab) checkMaskedFRRLog(t *testing.T) {
	const canary, stranger = "Canary-Pw-51d2", "10.255.9.9"
	pods, err := l.pods(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pod := pods["cp-1"].Name
	kubectl := func(args ...string) (string, error) {
		return l.c.Kubectl(t.Context(), append([]string{"-n", "kube-system"}, args...)...)
	}
	out, err := kubectl("exec", pod, "-c", "frr", "--", "vtysh", "-c", "configure terminal", "-c", "router bgp 65001",
		"-c", "neighbor "+stranger+" password "+canary)
	if err == nil || !strings.Contains(out, "Specify remote-as or peer-group commands first") {
		t.Fatalf("bgpd took or refused otherwise a password for a neighbor it does not have (%v):\n%s", err, out)
	}
	masked := "neighbor " + stranger + " password <redacted>"
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err = kubectl("logs", pod, "-c", "frr")
		if err == nil && strings.Contains(out, masked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubectl logs %s -c frr has no %q after 30 s (%v)", pod, masked, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Contains(out, canary) {
		t.Errorf("kubectl logs %s -c frr holds the password bgpd logged", pod)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, masked) {
			t.Logf("kubectl logs %s -c frr: %s", pod, line)
		}
	}
	// The unmasked line is in the file, which only frr may read.
	if out, err := kubectl("exec", pod, "-c", "frr", "--", "stat", "-c", "%a %U:%G", "/var/log/frr/frr.log"); err != nil || strings.TrimSpace(out) != "600 frr:frr" {
		t.Errorf("/var/log/frr/frr.log: mode and owner %q (%v), want 600 frr:frr", strings.TrimSpace(out), err)
	}
	if out, err := kubectl("exec", pod, "-c", "frr", "--", "grep", "-c", canary, "/var/log/frr/frr.log"); err != nil || strings.TrimSpace(out) != "1" {
		t.Errorf("the log file has the line %q times (%v), want once: the test made bgpd log what it meant to", strings.TrimSpace(out), err)
	}
	out, err = kubectl("exec", pod, "-c", "frr", "--", "vtysh", "-c", "show running-config")
	if err != nil || strings.Contains(out, stranger) || strings.Contains(out, canary) || !strings.Contains(out, "router bgp 65001") {
		t.Errorf("FRR's running configuration after the refused line (%v):\n%s", err, out)
	}
}

// logSidecarRSS logs each sidecar's resident memory, read from /proc.
func (l *lab) logSidecarRSS() {
	for _, n := range l.c.Nodes {
		out, err := osexec.Command("ip", "netns", "pids", n.Netns).Output()
		if err != nil {
			l.t.Logf("%s: %v", n.Name, err)
			continue
		}
		for _, pid := range strings.Fields(string(out)) {
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			if !strings.HasPrefix(string(cmdline), "/usr/bin/frr-renderer\x00run\x00") {
				continue
			}
			status, _ := os.ReadFile("/proc/" + pid + "/status")
			for _, line := range strings.Split(string(status), "\n") {
				if strings.HasPrefix(line, "VmRSS:") || strings.HasPrefix(line, "VmHWM:") {
					l.t.Logf("%s: sidecar %s", n.Name, strings.Join(strings.Fields(line), " "))
				}
			}
		}
	}
}
