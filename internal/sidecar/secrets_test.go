package sidecar

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/kube"
	"github.com/frr-renderer/frr-renderer/internal/nodestatus"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
)

// A recognisable password, and those FRR cannot take: wherever one shows outside FRR, it
// leaked.
const canary = "Pw-Canary-7f3a9c"

var canaries = []string{canary, canary + " spaced", strings.Repeat(canary, 6)}

// leaked names the password text holds, or "".
func leaked(text string) string {
	for _, c := range canaries {
		if strings.Contains(text, c) {
			return c
		}
	}
	return ""
}

// TestPasswordOnlyInFRR runs the Kubernetes mode against a fake API server and a real bgpd,
// with a Secret holding a recognisable password that then becomes one FRR cannot take (a
// space, too long), loses its key, and goes: the password reaches bgpd, and no Event, no
// CiliumBGPNodeConfig status, no other write to the API server, no log record at any
// verbosity and no /metrics, /healthz or /readyz body holds it.
func TestPasswordOnlyInFRR(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) { testPasswordOnlyInFRR(t, v) })
	}
}

func testPasswordOnlyInFRR(t *testing.T, v frrtest.Version) {
	frrtest.Require(t, v)
	r := frrtest.Start(t, v, "sidesecret")
	dialect, err := frrconfig.ParseDialect(string(v))
	if err != nil {
		t.Fatal(err)
	}

	cilium := func(resource string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: resource}
	}
	core := func(group, resource string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource}
	}
	secrets := core("", "secrets")
	listKinds := map[schema.GroupVersionResource]string{
		nodestatus.GVR:                         "CiliumBGPNodeConfigList",
		cilium("ciliumbgpclusterconfigs"):      "CiliumBGPClusterConfigList",
		cilium("ciliumbgppeerconfigs"):         "CiliumBGPPeerConfigList",
		cilium("ciliumbgpadvertisements"):      "CiliumBGPAdvertisementList",
		cilium("ciliumbgpnodeconfigoverrides"): "CiliumBGPNodeConfigOverrideList",
		{Group: "cilium.io", Version: "v2alpha1", Resource: "ciliumpodippools"}: "CiliumPodIPPoolList",
		cilium("ciliumnodes"):                      "CiliumNodeList",
		cilium("ciliumenvoyconfigs"):               "CiliumEnvoyConfigList",
		cilium("ciliumclusterwideenvoyconfigs"):    "CiliumClusterwideEnvoyConfigList",
		core("", "nodes"):                          "NodeList",
		core("", "services"):                       "ServiceList",
		core("discovery.k8s.io", "endpointslices"): "EndpointSliceList",
		secrets:            "SecretList",
		core("", "events"): "EventList",
	}
	obj := func(o map[string]any) *unstructured.Unstructured { return &unstructured.Unstructured{Object: o} }
	secret := func(data map[string]any) *unstructured.Unstructured {
		return obj(map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": "md5", "namespace": "kube-system"}, "data": data})
	}
	password := func(p string) map[string]any {
		return map[string]any{"password": base64.StdEncoding.EncodeToString([]byte(p))}
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds,
		obj(map[string]any{"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]any{"name": "n1", "labels": map[string]any{"kubernetes.io/os": "linux"}},
			"status":   map[string]any{"addresses": []any{map[string]any{"type": "InternalIP", "address": "10.0.0.5"}}}}),
		obj(map[string]any{"apiVersion": "cilium.io/v2", "kind": "CiliumBGPClusterConfig",
			"metadata": map[string]any{"name": "bgp", "uid": "bgp-uid"},
			"spec": map[string]any{
				"nodeSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/os": "linux"}},
				"bgpInstances": []any{map[string]any{"name": "main", "localASN": int64(65001), "peers": []any{
					map[string]any{"name": "tor", "peerASN": int64(65000), "peerAddress": "192.0.2.1",
						"peerConfigRef": map[string]any{"name": "pc"}}}}},
			}}),
		obj(map[string]any{"apiVersion": "cilium.io/v2", "kind": "CiliumBGPPeerConfig",
			"metadata": map[string]any{"name": "pc"},
			"spec":     map[string]any{"authSecretRef": "md5"}}),
		secret(password(canary)),
	)

	facts := filepath.Join(t.TempDir(), "facts.yaml")
	if err := os.WriteFile(facts, []byte("interfaces:\n- {name: lo, adminUp: true, operState: unknown, addresses: [127.0.0.1/8]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs testbin.SyncBuffer
	// Below V(2), the highest level the code logs at.
	log := logr.FromSlogHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.Level(-8)}))
	addr := freeAddr(t)
	stateFile := filepath.Join(t.TempDir(), "state")
	portFile := filepath.Join(t.TempDir(), "listen-port")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, kube.Clients{Dynamic: client}, Config{
			Node: "n1", SecretsNamespace: "kube-system", Dialect: dialect,
			RunDir: r.RunDir(), StateFile: stateFile, ListenPortFile: portFile, HostFacts: facts,
			MetricsAddr: addr, StatusInterval: 50 * time.Millisecond,
			Settle: DefaultSettle, MaxSettle: DefaultMaxSettle, Log: log,
		})
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		}
	}
	defer stop()

	var served []string
	scrape := func() {
		for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
			code, body := get(t, "http://"+addr+p)
			served = append(served, fmt.Sprintf("%s %d:\n%s", p, code, body))
		}
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			scrape()
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 20s; log:\n%s", what, logs.String())
			}
		}
		scrape()
	}
	wait("password in bgpd", func() bool {
		got, err := r.RunningConfig()
		return err == nil && strings.Contains(got, " password "+canary+"\n")
	})
	// invalidEvents counts the Events about the PeerConfig's authSecretRef written so far.
	invalidEvents := func() int {
		n := 0
		for _, a := range client.Actions() {
			if c, ok := a.(k8stesting.CreateAction); ok && a.GetResource().Resource == "events" {
				b, _ := json.Marshal(c.GetObject())
				if strings.Contains(string(b), "spec.authSecretRef") {
					n++
				}
			}
		}
		return n
	}
	for i, data := range []map[string]any{password(canaries[1]), password(canaries[2]), {"other": "eA=="}} {
		if _, err := client.Resource(secrets).Namespace("kube-system").Update(ctx, secret(data), metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		wait(fmt.Sprintf("Event %d about spec.authSecretRef", i+1), func() bool { return invalidEvents() > i })
	}
	if got, _ := r.RunningConfig(); !strings.Contains(got, " password "+canary+"\n") {
		t.Errorf("bgpd lost its last usable password:\n%s", got)
	}
	// A missing Secret: the peer runs without a password, as in Cilium.
	if err := client.Resource(secrets).Namespace("kube-system").Delete(ctx, "md5", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("Event about the missing Secret", func() bool { return invalidEvents() > 3 })
	// Another status round with the last diagnostics in it.
	time.Sleep(200 * time.Millisecond)
	scrape()
	stop()

	var writes, statuses int
	for _, a := range client.Actions() {
		var body []byte
		// Create and update actions have the same methods: the verb tells them apart.
		switch a := a.(type) {
		case k8stesting.CreateAction:
			body, _ = json.Marshal(a.GetObject())
		case k8stesting.PatchAction:
			body = a.GetPatch()
		default:
			continue
		}
		if a.GetResource() == secrets {
			continue // the test's own
		}
		writes++
		if a.GetResource() == nodestatus.GVR {
			statuses++
		}
		if c := leaked(string(body)); c != "" {
			t.Errorf("%s %s %s holds the password %q:\n%s", a.GetVerb(), a.GetResource().Resource, a.GetSubresource(), c, body)
		}
	}
	if statuses == 0 || invalidEvents() < 4 {
		t.Errorf("%d writes: %d of the CiliumBGPNodeConfig, %d Events about spec.authSecretRef; want some of each", writes, statuses, invalidEvents())
	}
	t.Logf("checked %d writes to the API server (%d of the CiliumBGPNodeConfig, %d Events about spec.authSecretRef), %d endpoint bodies, %d bytes of log",
		writes, statuses, invalidEvents(), len(served), len(logs.String()))
	if c := leaked(logs.String()); c != "" {
		t.Errorf("the log holds the password %q:\n%s", c, logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"DEBUG+2"`) {
		t.Errorf("no V(2) record logged: the log checked is not the most verbose")
	}
	for _, s := range served {
		if c := leaked(s); c != "" {
			t.Errorf("the endpoint holds the password %q:\n%s", c, s)
		}
	}
	for _, f := range []string{stateFile, portFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("%v", err)
		} else if c := leaked(string(b)); c != "" {
			t.Errorf("%s holds the password %q", f, c)
		}
	}
	if fi, err := os.Stat(stateFile); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("the state file has mode %v, want 0600", fi.Mode().Perm())
	}
}
