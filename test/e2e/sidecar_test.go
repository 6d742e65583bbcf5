package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/kubetest"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// TestSidecar drives cp-1's sidecar through the API server and watches FRR and the ToR follow.
// The steps share one environment and run in order: each starts from where the last ended.
func TestSidecar(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run("FRR"+string(v), func(t *testing.T) { testSidecar(t, v) })
	}
}

func testSidecar(t *testing.T, v frrtest.Version) {
	e := setup(t, v)
	peerConfig := object("cilium.io/v2", "CiliumBGPPeerConfig", "", "cilium-peer")
	clusterConfig := object("cilium.io/v2", "CiliumBGPClusterConfig", "", "cilium-bgp")
	selected := map[string]string{"app": "http-test"} // what the seed's advertisement selects

	step(t, "status and metrics show the session and its routes", func(t *testing.T) {
		e.eventually(t, "CiliumBGPNodeConfig cp-1's status", func() error {
			u, err := e.dyn.Resource(nodeConfigGVR).Get(context.Background(), nodeName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			peers, _, _ := unstructured.NestedSlice(u.Object, "status", "bgpInstances")
			if len(peers) != 1 {
				return fmt.Errorf("status.bgpInstances: %v", peers)
			}
			inst := peers[0].(map[string]any)
			ps, _ := inst["peers"].([]any)
			if inst["name"] != "K8S-NODES" || len(ps) != 1 {
				return fmt.Errorf("status.bgpInstances[0]: %v", inst)
			}
			p := ps[0].(map[string]any)
			if p["name"] != "FRRouter" || p["peerAddress"] != torAddr || p["peeringState"] != "established" {
				return fmt.Errorf("peer status: %v", p)
			}
			if p["establishedTime"] == nil {
				return fmt.Errorf("no establishedTime: %v", p)
			}
			timers, _ := p["timers"].(map[string]any)
			if timers["appliedHoldTimeSeconds"] != int64(90) || timers["appliedKeepaliveSeconds"] != int64(30) {
				return fmt.Errorf("timers: %v", timers)
			}
			rc, _ := p["routeCount"].([]any)
			if len(rc) != 1 || rc[0].(map[string]any)["advertised"] != int64(1) || rc[0].(map[string]any)["afi"] != "ipv4" {
				return fmt.Errorf("routeCount: %v", rc)
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			if len(conds) != 1 || conds[0].(map[string]any)["type"] != "cilium.io/BGPReconcileError" || conds[0].(map[string]any)["status"] != "False" {
				return fmt.Errorf("conditions: %v", conds)
			}
			if len(u.GetOwnerReferences()) != 1 || u.GetOwnerReferences()[0].Name != "cilium-bgp" {
				return fmt.Errorf("owner references: %v", u.GetOwnerReferences())
			}
			return nil
		})
		e.eventually(t, "the metrics", func() error {
			m, err := e.metrics()
			if err != nil {
				return err
			}
			return containsAll(m,
				`frr_renderer_bgp_session_state{bgp_instance="K8S-NODES",peer="192.168.10.1",state="Established"} 1`,
				`frr_renderer_bgp_prefixes_advertised{afi="ipv4",bgp_instance="K8S-NODES",peer="192.168.10.1",safi="unicast"} 1`,
				`cilium_bgp_control_plane_session_state{neighbor="192.168.10.1:179",vrouter="65001"} 1`,
				`cilium_bgp_control_plane_advertised_routes{afi="ipv4",neighbor="192.168.10.1:179",safi="unicast",vrouter="65001"} 1`,
				`frr_renderer_reconciles_total{result="submitted"} `,
				`frr_renderer_config_staleness_seconds 0`)
		})
		code, body, err := e.ready()
		if err != nil || code != 200 {
			t.Errorf("/readyz: %d %q %v", code, body, err)
		}
		if code, body, err := readyAt(e.healthAddr); err != nil || code != 200 {
			t.Errorf("/readyz on --health-addr: %d %q %v", code, body, err)
		}
	})

	step(t, "a new LoadBalancer Service reaches the ToR", func(t *testing.T) {
		e.createService(lbService("e2e-new", selected, "172.20.1.1", false))
		e.eventually(t, "172.20.1.1/32 at the ToR", func() error { return e.torHas("172.20.1.1/32") })
	})

	step(t, "relabelled so that no advertisement selects it, it is withdrawn", func(t *testing.T) {
		svc := object("v1", "Service", "default", "e2e-new")
		e.mutate(svc, func(u *unstructured.Unstructured) { u.SetLabels(map[string]string{"app": "other"}) }, false)
		e.eventually(t, "172.20.1.1/32 withdrawn", func() error { return e.torLacks("172.20.1.1/32") })
	})

	step(t, "an EndpointSlice flips an externalTrafficPolicy=Local Service", func(t *testing.T) {
		e.createService(lbService("e2e-local", selected, "172.20.1.2", true))
		// A marker created after it: once the ToR has the marker, the sidecar has read the
		// Local Service too, so its absence is a decision, not a delay.
		e.createService(lbService("e2e-marker", selected, "172.20.1.9", false))
		e.eventually(t, "the marker", func() error { return e.torHas("172.20.1.9/32") })
		if err := e.torLacks("172.20.1.2/32"); err != nil {
			t.Fatalf("without a local endpoint: %v", err)
		}
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "e2e-local-1", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "e2e-local"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.10"}, NodeName: ptr.To(nodeName),
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		}
		slices := e.kube.DiscoveryV1().EndpointSlices("default")
		created, err := slices.Create(context.Background(), slice, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e.eventually(t, "172.20.1.2/32 with a local endpoint", func() error { return e.torHas("172.20.1.2/32") })
		created.Endpoints[0].Conditions.Ready = ptr.To(false)
		if _, err := slices.Update(context.Background(), created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		e.eventually(t, "172.20.1.2/32 withdrawn when its endpoint is not ready", func() error { return e.torLacks("172.20.1.2/32") })
	})

	step(t, "a PeerConfig timer change reaches FRR and the ToR", func(t *testing.T) { e.changeTimers(t, peerConfig) })

	step(t, "a missing PeerConfig is an Event on the ClusterConfig", func(t *testing.T) {
		e.mutate(clusterConfig, func(u *unstructured.Unstructured) {
			insts, _, _ := unstructured.NestedSlice(u.Object, "spec", "bgpInstances")
			inst := insts[0].(map[string]any)
			inst["peers"] = append(inst["peers"].([]any), map[string]any{
				"name": "ghost", "peerASN": int64(65000), "peerAddress": "192.168.10.99",
				"peerConfigRef": map[string]any{"name": "missing"},
			})
			_ = unstructured.SetNestedSlice(u.Object, insts, "spec", "bgpInstances")
		}, false)
		e.eventually(t, "the Event", func() error {
			list, err := e.kube.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{
				FieldSelector: fields.OneTermEqualSelector("involvedObject.name", "cilium-bgp").String(),
			})
			if err != nil {
				return err
			}
			for _, ev := range list.Items {
				if ev.Reason == "BGPConfigInvalid" && ev.Type == corev1.EventTypeWarning && ev.InvolvedObject.Kind == "CiliumBGPClusterConfig" &&
					strings.Contains(ev.Message, `"missing" not found`) && ev.Source.Component == "frr-renderer" {
					return nil
				}
			}
			return fmt.Errorf("no such event among %d", len(list.Items))
		})
		// The other peer is untouched by the broken one.
		if err := e.established(); err != nil {
			t.Error(err)
		}
	})

	step(t, "a sidecar restart withdraws nothing", func(t *testing.T) {
		before, err := e.torNeighbor()
		if err != nil {
			t.Fatal(err)
		}
		w := e.watchRoutes(seedIP+"/32", "172.20.1.9/32")
		old := e.sidecar
		e.stopSidecar(old)
		e.startSidecar(binary(t))
		e.eventually(t, "the new sidecar ready", func() error {
			code, body, err := e.ready()
			if err == nil && code != 200 {
				err = fmt.Errorf("/readyz %d: %s", code, body)
			}
			return err
		})
		m, err := e.metrics()
		if err != nil {
			t.Fatal(err)
		}
		// Adopted: the new sidecar found FRR running what it renders and sent nothing.
		if err := containsAll(m, "frr_renderer_apply_lines_total 0"); err != nil {
			t.Error(err)
		}
		w.stopAndCheck(t)
		e.checkNoFlap(t, before)
	})

	step(t, "an API server outage withdraws nothing and the watch resumes", func(t *testing.T) {
		before, err := e.torNeighbor()
		if err != nil {
			t.Fatal(err)
		}
		w := e.watchRoutes(seedIP+"/32", "172.20.1.9/32")
		outage := 3 * time.Second // long enough for the watches to fail and back off
		if d, err := time.ParseDuration(os.Getenv("E2E_OUTAGE")); err == nil {
			outage = d // e.g. E2E_OUTAGE=3m for outages of minutes
		}
		e.api.StopAPIServer(t)
		time.Sleep(outage)
		e.api.StartAPIServer(t)
		back := time.Now()
		e.createService(lbService("e2e-after", selected, "172.20.1.3", false))
		// client-go's reflectors back off while the API server is away (up to 30 s, jittered).
		e.eventuallyWithin(t, 2*time.Minute, "a Service created after the outage at the ToR", func() error { return e.torHas("172.20.1.3/32") })
		t.Logf("a Service created after the API server came back reached the ToR %v later", time.Since(back).Round(time.Millisecond))
		w.stopAndCheck(t)
		e.checkNoFlap(t, before)
	})

	// Last: a new password resets the session.
	step(t, "a Secret change changes the MD5 password", func(t *testing.T) {
		secrets := e.kube.CoreV1().Secrets("kube-system")
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bgp-auth", Namespace: "kube-system"}, Data: map[string][]byte{"password": []byte("e2e-one")}}
		created, err := secrets.Create(context.Background(), secret, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e.mutate(peerConfig, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "bgp-auth", "spec", "authSecretRef")
		}, false)
		e.eventually(t, "the first password in bgpd", func() error { return e.nodeHasPassword("e2e-one") })
		created.Data["password"] = []byte("e2e-two")
		if _, err := secrets.Update(context.Background(), created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		e.eventually(t, "the second password in bgpd", func() error { return e.nodeHasPassword("e2e-two") })
		// The ToR learns it too: the session comes back with TCP-MD5 on the wire.
		if _, err := e.tor.Vtysh("-c", "configure terminal", "-c", "router bgp 65000", "-c", "neighbor K8S-NODES password e2e-two"); err != nil {
			t.Fatal(err)
		}
		e.eventually(t, "the session back with the password, and the routes", func() error {
			if err := e.established(); err != nil {
				return err
			}
			return e.torHas(seedIP + "/32")
		})
		for _, log := range e.sidecarLogs {
			if strings.Contains(readFile(t, log), "e2e-") {
				t.Errorf("%s holds a password", log)
			}
		}
		m, _ := e.metrics()
		if strings.Contains(m, "e2e-") {
			t.Error("the metrics hold a password")
		}
	})
}

// TestSidecarOldestCilium runs the sidecar against the CRDs of the oldest supported Cilium
// release (TestSidecar runs the newest): the seed reaches the ToR, the CiliumBGPNodeConfig
// status the sidecar writes passes that release's schema, and a timer change reaches the ToR.
// One FRR version (the deploy image's): the rest does not depend on the release.
func TestSidecarOldestCilium(t *testing.T) {
	e := setupCilium(t, frrtest.FRR10, kubetest.CiliumVersions[0], nil)
	step(t, "the status is written", func(t *testing.T) {
		e.eventually(t, "CiliumBGPNodeConfig cp-1's status", func() error {
			u, err := e.dyn.Resource(nodeConfigGVR).Get(context.Background(), nodeName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			insts, _, _ := unstructured.NestedSlice(u.Object, "status", "bgpInstances")
			if len(insts) != 1 {
				return fmt.Errorf("status.bgpInstances: %v", insts)
			}
			peers, _ := insts[0].(map[string]any)["peers"].([]any)
			if len(peers) != 1 || peers[0].(map[string]any)["peeringState"] != "established" {
				return fmt.Errorf("peers: %v", peers)
			}
			return nil
		})
	})
	step(t, "a PeerConfig timer change reaches FRR and the ToR", func(t *testing.T) {
		e.changeTimers(t, object("cilium.io/v2", "CiliumBGPPeerConfig", "", "cilium-peer"))
	})
	step(t, "an instance that cannot run is named in the status, the others run on", func(t *testing.T) {
		e.mutate(object("cilium.io/v2", "CiliumBGPClusterConfig", "", "cilium-bgp"), func(u *unstructured.Unstructured) {
			insts, _, _ := unstructured.NestedSlice(u.Object, "spec", "bgpInstances")
			insts = append(insts, map[string]any{"name": "broken"}) // no localASN: Cilium fails it
			_ = unstructured.SetNestedSlice(u.Object, insts, "spec", "bgpInstances")
		}, false)
		e.eventually(t, "the condition says why", func() error {
			u, err := e.dyn.Resource(nodeConfigGVR).Get(context.Background(), nodeName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m := c.(map[string]any)
				if m["type"] == "cilium.io/BGPReconcileError" && m["status"] == "True" && strings.Contains(m["message"].(string), `instance "broken" has no localASN`) {
					return nil
				}
			}
			return fmt.Errorf("conditions: %v", conds)
		})
		if err := e.established(); err != nil {
			t.Error(err)
		}
		if err := e.torHas(seedIP + "/32"); err != nil {
			t.Error(err)
		}
	})
}

// changeTimers sets the PeerConfig's timers to 20/60: bgpd runs them, the ToR negotiates the
// new hold time (the sidecar reset the session, as Cilium does), and an Event says so.
func (e *env) changeTimers(t *testing.T, peerConfig *unstructured.Unstructured) {
	// The ToR's peers are dynamic (a listen range): a reset deletes the ToR's neighbor and its
	// counters; the node's neighbor keeps them.
	sessions := func() int {
		out, err := e.show(e.nodeVty, "show bgp neighbors "+torAddr+" json")
		if err != nil {
			t.Fatal(err)
		}
		var n map[string]struct {
			Established int `json:"connectionsEstablished"`
		}
		if err := json.Unmarshal([]byte(out), &n); err != nil {
			t.Fatal(err)
		}
		return n[torAddr].Established
	}
	before := sessions()
	routes, err := e.torRoutes()
	if err != nil {
		t.Fatal(err)
	}
	e.mutate(peerConfig, func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(60), "spec", "timers", "holdTimeSeconds")
		_ = unstructured.SetNestedField(u.Object, int64(20), "spec", "timers", "keepAliveTimeSeconds")
	}, false)
	e.eventually(t, "timers 20 60 in bgpd", func() error {
		c, err := e.nodeConfig()
		if err == nil && !regexp.MustCompile(`(?m)^ neighbor \S+ timers 20 60$`).MatchString(c) {
			err = fmt.Errorf("no `timers 20 60` in bgpd's configuration")
		}
		return err
	})
	e.eventually(t, "the ToR negotiated hold time 60 s", func() error {
		n, err := e.torNeighbor()
		if err == nil && (n.State != "Established" || n.HoldMsecs != 60_000) {
			err = fmt.Errorf("the ToR's session: %+v", n)
		}
		return err
	})
	e.eventually(t, "the ToR has every route again", func() error {
		got, err := e.torRoutes()
		if err == nil && !maps.Equal(got, routes) {
			err = fmt.Errorf("the ToR has %v, had %v", keys(got), keys(routes))
		}
		return err
	})
	if after := sessions(); after != before+1 {
		t.Errorf("the session was established %d times more, want once (one reset)", after-before)
	}
	e.eventually(t, "the BGPSessionReset Event", func() error {
		list, err := e.kube.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("reason", "BGPSessionReset").String(),
		})
		if err != nil {
			return err
		}
		for _, ev := range list.Items {
			if ev.InvolvedObject.Kind == "Node" && ev.InvolvedObject.Name == nodeName && strings.Contains(ev.Message, torAddr+" (timers)") {
				return nil
			}
		}
		return fmt.Errorf("no such event among %d", len(list.Items))
	})
}

func (e *env) nodeHasPassword(pw string) error {
	c, err := e.nodeConfig()
	if err != nil {
		return err
	}
	if !regexp.MustCompile(`(?m)^ neighbor \S+ password ` + regexp.QuoteMeta(pw) + `$`).MatchString(c) {
		return fmt.Errorf("bgpd has not the expected password (not shown)")
	}
	return nil
}

// step runs one step as a subtest and stops the test when it fails: the next steps build on it.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// checkNoFlap fails when the ToR's session with the node went down since before.
func (e *env) checkNoFlap(t *testing.T, before torNeighbor) {
	t.Helper()
	after, err := e.torNeighbor()
	if err != nil {
		t.Fatal(err)
	}
	if after.State != "Established" || after.Established != before.Established || after.Dropped != before.Dropped {
		t.Errorf("the ToR's session flapped: before %+v, after %+v", before, after)
	}
}

// routeWatch polls the ToR for prefixes until stopped and counts the polls that missed one.
type routeWatch struct {
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	polls  int
	misses []string
}

func (e *env) watchRoutes(prefixes ...string) *routeWatch {
	w := &routeWatch{stop: make(chan struct{}), done: make(chan struct{})}
	// A connection of its own: a vtysh.Client serves one caller at a time.
	c, err := vtysh.Dial(context.Background(), vtysh.SocketPath(e.tor.RunDir(), "bgpd"))
	if err != nil {
		e.t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		defer c.Close()
		for {
			got, err := e.torRoutesVia(c)
			w.mu.Lock()
			w.polls++
			for _, p := range prefixes {
				if err != nil || !got[p] {
					w.misses = append(w.misses, fmt.Sprintf("%s at %s (%v)", p, time.Now().Format("15:04:05.000"), err))
				}
			}
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *routeWatch) stopAndCheck(t *testing.T) {
	t.Helper()
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Logf("%d polls of the ToR, %d misses", w.polls, len(w.misses))
	if len(w.misses) > 0 {
		t.Errorf("the ToR lost routes: %v", w.misses)
	}
}

func containsAll(s string, want ...string) error {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return fmt.Errorf("no %q", w)
		}
	}
	return nil
}
