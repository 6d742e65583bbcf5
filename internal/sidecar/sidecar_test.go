package sidecar

import (
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/kube"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/nodestatus"
)

// A node that no CiliumBGPClusterConfig selects runs no BGP, and is still a healthy node: the
// sidecar becomes ready (informers synced, bgpd answering, the empty configuration applied),
// and writes no CiliumBGPNodeConfig, as Cilium's operator would derive none.
func TestUnselectedNodeIsReady(t *testing.T) {
	frrtest.Require(t, frrtest.FRR10)
	r := frrtest.Start(t, frrtest.FRR10, "sidecar")

	node := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{"name": "n1", "labels": map[string]any{"kubernetes.io/os": "linux"}},
	}}
	client := fakeAPI(node)

	facts := filepath.Join(t.TempDir(), "facts.yaml")
	if err := os.WriteFile(facts, []byte("interfaces:\n- {name: lo, adminUp: true, operState: unknown, addresses: [127.0.0.1/8]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, kube.Clients{Dynamic: client}, Config{
			Node: "n1", SecretsNamespace: "kube-system", Dialect: frrconfig.FRR10,
			RunDir: r.RunDir(), HostFacts: facts, MetricsAddr: addr, StatusInterval: 50 * time.Millisecond,
			Settle: DefaultSettle, MaxSettle: DefaultMaxSettle, Log: testr.New(t),
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	var code int
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		code, body = get(t, "http://"+addr+"/readyz")
		if code == http.StatusOK {
			break
		}
	}
	if code != http.StatusOK {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	if _, m := get(t, "http://"+addr+"/metrics"); !strings.Contains(m, `frr_renderer_reconciles_total{result="submitted"} 1`) {
		t.Errorf("metrics: no submitted reconcile:\n%s", m)
	}
	list, err := client.Resource(nodestatus.GVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("a CiliumBGPNodeConfig for a node no ClusterConfig selects: %v", list.Items)
	}
}

// fakeAPI is a fake API server's client holding objs, serving every resource the sidecar lists.
func fakeAPI(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	cilium := func(resource string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: resource}
	}
	core := func(group, resource string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource}
	}
	listKinds := map[schema.GroupVersionResource]string{
		nodestatus.GVR:                         "CiliumBGPNodeConfigList",
		cilium("ciliumbgpclusterconfigs"):      "CiliumBGPClusterConfigList",
		cilium("ciliumbgppeerconfigs"):         "CiliumBGPPeerConfigList",
		cilium("ciliumbgpadvertisements"):      "CiliumBGPAdvertisementList",
		cilium("ciliumbgpnodeconfigoverrides"): "CiliumBGPNodeConfigOverrideList",
		{Group: "cilium.io", Version: "v2alpha1", Resource: "ciliumpodippools"}: "CiliumPodIPPoolList", // v2alpha1 only, as Cilium serves it
		cilium("ciliumnodes"):                      "CiliumNodeList",
		cilium("ciliumenvoyconfigs"):               "CiliumEnvoyConfigList",
		cilium("ciliumclusterwideenvoyconfigs"):    "CiliumClusterwideEnvoyConfigList",
		core("", "nodes"):                          "NodeList",
		core("", "services"):                       "ServiceList",
		core("discovery.k8s.io", "endpointslices"): "EndpointSliceList",
		core("", "secrets"):                        "SecretList",
		core("", "events"):                         "EventList",
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The metrics name each session's instance from its FRR view: the first instance is bgpd's
// default one, the others the views their names map to.
func TestInstanceNamesOfViews(t *testing.T) {
	var names instanceNames
	names.set(&model.NodeConfig{Instances: []model.Instance{{Name: "a"}, {Name: "blue"}, {Name: "blue team"}}})
	want := map[string]string{"": "a", "blue": "blue", model.MappedName("blue team"): "blue team"}
	if got := names.get().Instances; !maps.Equal(got, want) {
		t.Errorf("instances by FRR view: %q, want %q", got, want)
	}
}
