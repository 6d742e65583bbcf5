package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/nodeconfig"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// The informer path must give the translator what the manifest path gives it: the seed read
// through fake API clients renders byte for byte what the seed read from its files renders.
func TestSourceRendersLikeManifests(t *testing.T) {
	seed := filepath.Join("..", "..", "examples", "seed", "hands-on")
	snap, _, err := manifest.Load([]string{seed}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range snap.Nodes {
		t.Run(n.Name, func(t *testing.T) {
			src := startSource(t, n.Name, translate.DefaultSecretsNamespace, snap)
			waitToken(t, src)
			got, diags, err := src.Load()
			if err != nil {
				t.Fatal(err)
			}
			if len(diags) > 0 {
				t.Fatalf("diagnostics from the caches: %v", diags)
			}
			want := render(t, snap, n.Name)
			if !bytes.Contains(want, []byte("neighbor ")) {
				t.Fatalf("the seed renders no neighbor for %s:\n%s", n.Name, want)
			}
			if have := render(t, got, n.Name); !bytes.Equal(have, want) {
				t.Errorf("rendered from the caches differs from the manifests:\n--- caches\n%s\n--- manifests\n%s", have, want)
			}
		})
	}
}

func render(t *testing.T, snap *model.Snapshot, node string) []byte {
	t.Helper()
	r, err := nodeconfig.Render(snap, model.HostFacts{}, translate.Options{Node: node}, frrconfig.FRR10)
	if err != nil {
		t.Fatal(err)
	}
	return r.Text
}

// What enters the caches is what the translator reads and nothing more.
func TestSourceStrips(t *testing.T) {
	src := startSource(t, "worker-1", "kube-system", unstripped())
	waitToken(t, src)
	got, _, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := &model.Snapshot{
		Services: []*corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "prod", UID: "u1", Labels: map[string]string{"app": "web"},
				Annotations: map[string]string{"service.cilium.io/type": "LoadBalancer", "service.cilium.io/node": "edge"}},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.0.0.7", ClusterIPs: []string{"10.0.0.7"},
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "172.20.0.1", IPMode: ptr.To(corev1.LoadBalancerIPModeProxy)}}}},
		}},
		EndpointSlices: []*discoveryv1.EndpointSlice{{
			ObjectMeta:  metav1.ObjectMeta{Name: "web-1", Namespace: "prod", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}, Annotations: map[string]string{"service.cilium.io/weight": "0"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{NodeName: ptr.To("worker-1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
				DeprecatedTopology: map[string]string{corev1.LabelHostname: "worker-1"}}},
		}},
		EnvoyConfigs: []*model.CiliumEnvoyConfig{{
			TypeMeta:   metav1.TypeMeta{Kind: model.KindCiliumEnvoyConfig},
			ObjectMeta: metav1.ObjectMeta{Name: "cilium-ingress-web", Namespace: "prod"},
			Spec:       model.CiliumEnvoyConfigSpec{Services: []model.EnvoyServiceListener{{Name: "web", Listener: "l"}}, NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}},
		}},
		Secrets: []*corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "bgp-auth", Namespace: "kube-system"}, Data: map[string][]byte{"password": []byte("s3cret")}}},
		Nodes: []*corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "worker-1", Labels: map[string]string{"rack": "a"},
			Annotations: map[string]string{"cilium.io/bgp-virtual-router.65001": "router-id=10.9.9.9"}},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.11"}}}}},
	}
	for _, o := range got.Services {
		o.ResourceVersion = ""
	}
	for _, o := range got.EndpointSlices {
		o.ResourceVersion = ""
	}
	for _, o := range got.Secrets {
		o.ResourceVersion = ""
	}
	for _, o := range got.EnvoyConfigs {
		o.ResourceVersion = ""
	}
	for _, o := range got.Nodes {
		o.ResourceVersion = ""
	}
	if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
		t.Errorf("cached snapshot:\n%s\nwant:\n%s", g, w)
	}
}

// unstripped is a snapshot of objects with all a cluster would add: what TestSourceStrips
// expects stripped.
func unstripped() *model.Snapshot {
	return &model.Snapshot{
		Services: []*corev1.Service{{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "prod", UID: "u1", Labels: map[string]string{"app": "web"},
				Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 4096), "service.cilium.io/type": "LoadBalancer", "service.cilium.io/node": "edge"},
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.0.0.7", ClusterIPs: []string{"10.0.0.7"},
				Ports:                 []corev1.ServicePort{{Port: 80}},
				Selector:              map[string]string{"app": "web"},
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "172.20.0.1", Hostname: "lb.example", IPMode: ptr.To(corev1.LoadBalancerIPModeProxy)}}}},
		}},
		EndpointSlices: []*discoveryv1.EndpointSlice{{
			ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "prod", Labels: map[string]string{discoveryv1.LabelServiceName: "web", "other": "x"},
				Annotations: map[string]string{"service.cilium.io/weight": "0", "endpoints.kubernetes.io/last-change-trigger-time": "now"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.1.0.5"}, NodeName: ptr.To("worker-1"),
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}, TargetRef: &corev1.ObjectReference{Name: "web-abc"},
				DeprecatedTopology: map[string]string{corev1.LabelHostname: "worker-1", corev1.LabelTopologyZone: "z1"}}},
			Ports: []discoveryv1.EndpointPort{{Port: ptr.To[int32](8080)}},
		}},
		EnvoyConfigs: []*model.CiliumEnvoyConfig{{
			TypeMeta:   metav1.TypeMeta{Kind: model.KindCiliumEnvoyConfig},
			ObjectMeta: metav1.ObjectMeta{Name: "cilium-ingress-web", Namespace: "prod", Annotations: map[string]string{"a": "b"}},
			Spec:       model.CiliumEnvoyConfigSpec{Services: []model.EnvoyServiceListener{{Name: "web", Listener: "l"}}, NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}},
		}},
		Secrets: []*corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Name: "bgp-auth", Namespace: "kube-system"}, Data: map[string][]byte{"password": []byte("s3cret"), "other": []byte("x")}},
			{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: "default"}, Data: map[string][]byte{"password": []byte("x")}},
		},
		Nodes: []*corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "worker-1", Labels: map[string]string{"rack": "a"},
			Annotations: map[string]string{"cilium.io/bgp-virtual-router.65001": "router-id=10.9.9.9", "node.alpha.kubernetes.io/ttl": "0"}},
			Spec:   corev1.NodeSpec{PodCIDR: "10.1.0.0/24"},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.11"}}, Images: []corev1.ContainerImage{{Names: []string{"big"}}}}}},
	}
}

// Until every informer has listed, the loop gets no token and Load refuses; then a token comes,
// and every event after it leaves one.
func TestSourceWaitsForSyncThenSignals(t *testing.T) {
	release := make(chan struct{})
	src := startSourceWith(t, "worker-1", "kube-system", &model.Snapshot{}, func(dyn *dynamicfake.FakeDynamicClient) {
		dyn.PrependReactor("list", "ciliumbgppeerconfigs", func(k8stesting.Action) (bool, runtime.Object, error) {
			<-release
			return false, nil, nil
		})
	})
	if src.Synced() {
		t.Fatal("synced while a list is blocked")
	}
	select {
	case <-src.Changes():
		t.Fatal("a token before the informers synced")
	default:
	}
	if _, _, err := src.Load(); err == nil {
		t.Fatal("Load before sync: no error")
	}
	close(release)
	waitToken(t, src)
	if !src.Synced() {
		t.Fatal("a token but not synced")
	}
	snap, _, err := src.Load()
	if err != nil || len(snap.Services) != 0 {
		t.Fatalf("Load after sync: %v, %d services", err, len(snap.Services))
	}

	svc := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "web", "namespace": "prod"}}}
	if _, err := src.client.Resource(gvrOf(model.KindService)).Namespace("prod").Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitToken(t, src)
	snap, _, _ = src.Load()
	if len(snap.Services) != 1 {
		t.Errorf("after the create: %d services in the cache, want 1", len(snap.Services))
	}
}

// The first token waits for the snapshot to hold every listed object, not just for the
// informers' lists: an informer hands its objects to the Source's handler asynchronously, and
// a first configuration rendered from part of them withdraws the rest from the ToR (a sidecar
// restarted at 10,000 Services applied 3,336 of them first). Here the handler is held (the
// Source's lock) while the informers list; no token may come until it has seen everything.
func TestSourceTokenWaitsForTheHandler(t *testing.T) {
	const n = 500
	snap := &model.Snapshot{}
	for i := range n {
		snap.Services = append(snap.Services, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%04d", i), Namespace: "prod"}})
	}
	release := make(chan struct{})
	src := startSourceWith(t, "worker-1", "kube-system", snap, func(dyn *dynamicfake.FakeDynamicClient) {
		dyn.PrependReactor("list", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
			<-release
			return false, nil, nil
		})
	})
	src.mu.Lock()
	close(release)
	// The informers list and hand over; the handler blocks on the lock at the first Service.
	deadline := time.Now().Add(10 * time.Second)
	for !src.informers[model.KindService].HasSynced() {
		if time.Now().After(deadline) {
			src.mu.Unlock()
			t.Fatal("the Service informer did not sync")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // waitForSync polls every 20 ms
	select {
	case <-src.Changes():
		src.mu.Unlock()
		t.Fatal("a token while the handler had not seen the listed Services")
	default:
	}
	src.mu.Unlock()
	waitToken(t, src)
	got, _, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Services) != n {
		t.Fatalf("the first snapshot has %d of %d Services", len(got.Services), n)
	}
}

// Each failed list is counted: while the API server is lost, WatchErrors grows; a normal
// start counts nothing.
func TestSourceCountsWatchErrors(t *testing.T) {
	var lists atomic.Int32
	src := startSourceWith(t, "worker-1", "kube-system", &model.Snapshot{}, func(dyn *dynamicfake.FakeDynamicClient) {
		dyn.PrependReactor("list", "ciliumbgppeerconfigs", func(k8stesting.Action) (bool, runtime.Object, error) {
			if lists.Add(1) <= 2 {
				return true, nil, apierrors.NewServiceUnavailable("the API server is away")
			}
			return false, nil, nil
		})
	})
	waitToken(t, src)
	if n := src.WatchErrors(); n != 2 {
		t.Errorf("after two failed lists: WatchErrors %d, want 2", n)
	}
	// A lost API server refuses the watches: the informer retries them by itself.
	var watches atomic.Int32
	src = startSourceWith(t, "worker-1", "kube-system", &model.Snapshot{}, func(dyn *dynamicfake.FakeDynamicClient) {
		dyn.PrependWatchReactor("services", func(k8stesting.Action) (bool, watch.Interface, error) {
			if watches.Add(1) <= 2 {
				return true, nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
			}
			return false, nil, nil
		})
	})
	waitToken(t, src)
	deadline := time.Now().Add(10 * time.Second)
	for src.WatchErrors() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := src.WatchErrors(); n != 2 {
		t.Errorf("after two refused watches: WatchErrors %d, want 2", n)
	}
	if n := startSource(t, "worker-1", "kube-system", &model.Snapshot{}).WatchErrors(); n != 0 {
		t.Errorf("a normal start: WatchErrors %d, want 0", n)
	}
}

func TestCountsAsWatchError(t *testing.T) {
	gr := schema.GroupResource{Resource: "services"}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{errors.New("dial tcp 127.0.0.1:6443: connect: connection refused"), true},
		{apierrors.NewServiceUnavailable("shutting down"), true},
		{apierrors.NewForbidden(gr, "", errors.New("RBAC")), true},
		{io.EOF, false},
		{fmt.Errorf("list: %w", context.Canceled), false}, // the Source ends
		{apierrors.NewResourceExpired("too old resource version"), false},
		{&apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonGone}}, false},
	} {
		if got := countsAsWatchError(c.err); got != c.want {
			t.Errorf("countsAsWatchError(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// An object that cannot be read as the mirrored type does not stop its watch: it becomes an
// error diagnostic that names it, and the others are read.
func TestSourceReportsUnreadableObject(t *testing.T) {
	src := startSourceWith(t, "worker-1", "kube-system", &model.Snapshot{}, func(dyn *dynamicfake.FakeDynamicClient) {
		for _, o := range []map[string]any{
			{"apiVersion": "cilium.io/v2", "kind": "CiliumBGPPeerConfig", "metadata": map[string]any{"name": "bad"},
				"spec": map[string]any{"timers": map[string]any{"holdTimeSeconds": "ninety"}}},
			{"apiVersion": "cilium.io/v2", "kind": "CiliumBGPPeerConfig", "metadata": map[string]any{"name": "good"},
				"spec": map[string]any{"timers": map[string]any{"holdTimeSeconds": int64(9)}}},
		} {
			u := &unstructured.Unstructured{Object: o}
			if _, err := dyn.Resource(gvrOf(model.KindCiliumBGPPeerConfig)).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	})
	waitToken(t, src)
	snap, diags, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.PeerConfigs) != 1 || snap.PeerConfigs[0].Name != "good" {
		t.Errorf("peer configs read: %v, want only good", snap.PeerConfigs)
	}
	if len(diags) != 1 || diags[0].Object != (model.ObjectRef{Kind: "CiliumBGPPeerConfig", Name: "bad"}) || diags[0].Severity != model.Error {
		t.Fatalf("diagnostics: %v, want one error on CiliumBGPPeerConfig/bad", diags)
	}
	if !strings.Contains(diags[0].Message, "holdTimeSeconds") {
		t.Errorf("diagnostic %q does not name the field", diags[0].Message)
	}
}

// A resource the API server does not serve (no CiliumEnvoyConfig CRD) is not watched, and the
// others sync without it.
func TestSourceSkipsOptionalNotServed(t *testing.T) {
	src := startSourceWith(t, "worker-1", "kube-system", &model.Snapshot{}, func(dyn *dynamicfake.FakeDynamicClient) {
		dyn.PrependReactor("list", "ciliumenvoyconfigs", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: "cilium.io", Resource: "ciliumenvoyconfigs"}, "")
		})
	})
	waitToken(t, src)
	for _, w := range src.watched {
		if w.kind.Name == model.KindCiliumEnvoyConfig {
			t.Errorf("%s is watched though not served", w.kind.Name)
		}
	}
	if !slices.ContainsFunc(src.watched, func(w watched) bool { return w.kind.Name == model.KindCiliumClusterwideEnvoyConfig }) {
		t.Errorf("%s, served, is not watched", model.KindCiliumClusterwideEnvoyConfig)
	}
}

// The node's CiliumBGPNodeConfig is cached without its status, and the sidecar's own status
// writes leave no token: only an owner or spec change does.
func TestSourceNodeConfig(t *testing.T) {
	nc := &model.CiliumBGPNodeConfig{
		ObjectMeta: metav1.ObjectMeta{Name: "worker-1", UID: "n1",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "cilium.io/v2", Kind: "CiliumBGPClusterConfig", Name: "cc", UID: "c1", Controller: ptr.To(true)}},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "cilium-operator"}}},
		Spec:   model.CiliumBGPNodeConfigSpec{BGPInstances: []model.CiliumBGPNodeInstance{{Name: "inst", RouterID: ptr.To("10.1.0.1")}}},
		Status: model.CiliumBGPNodeConfigStatus{BGPInstances: []model.CiliumBGPNodeInstanceStatus{{Name: "inst"}}},
	}
	src := startSource(t, "worker-1", "kube-system", &model.Snapshot{NodeConfigs: []*model.CiliumBGPNodeConfig{nc}})
	waitToken(t, src)
	snap, _, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := &model.CiliumBGPNodeConfig{ObjectMeta: metav1.ObjectMeta{Name: "worker-1", UID: "n1", OwnerReferences: nc.OwnerReferences}, Spec: nc.Spec}
	if len(snap.NodeConfigs) != 1 {
		t.Fatalf("cached %d NodeConfigs, want 1", len(snap.NodeConfigs))
	}
	snap.NodeConfigs[0].ResourceVersion = ""
	if g, w := jsonOf(t, snap.NodeConfigs[0]), jsonOf(t, want); g != w {
		t.Errorf("cached:\n%s\nwant:\n%s", g, w)
	}

	res := src.client.Resource(gvrOf(model.KindCiliumBGPNodeConfig))
	update := func(change func(u *unstructured.Unstructured)) {
		t.Helper()
		u, err := res.Get(context.Background(), "worker-1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		change(u)
		if _, err := res.Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	update(func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"name": "inst", "peers": []any{map[string]any{"name": "p", "peerAddress": "10.0.0.1"}}}}, "status", "bgpInstances")
	})
	select {
	case <-src.Changes():
		t.Fatal("a token for a status update")
	case <-time.After(300 * time.Millisecond):
	}
	update(func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"name": "inst", "routerID": "10.1.0.2"}}, "spec", "bgpInstances")
	})
	waitToken(t, src)
}

// --- helpers

type testSource struct {
	*Source
	client *dynamicfake.FakeDynamicClient
}

func startSource(t *testing.T, node, secretsNS string, snap *model.Snapshot) testSource {
	return startSourceWith(t, node, secretsNS, snap, nil)
}

// startSourceWith starts a Source on a fake dynamic client that holds snap's objects, as the
// API server would serve them; prepare may add reactors before the informers start.
func startSourceWith(t *testing.T, node, secretsNS string, snap *model.Snapshot, prepare func(*dynamicfake.FakeDynamicClient)) testSource {
	t.Helper()
	var objs []runtime.Object
	add := func(gv schema.GroupVersion, kind string, o any) {
		u := unstructuredOf(t, o)
		u.SetAPIVersion(gv.String()) // what the API server serves
		u.SetKind(kind)
		objs = append(objs, u)
	}
	for _, r := range resources {
		for _, o := range r.Objects(snap) {
			// The fake ignores field selectors: only this node's Node, CiliumNode and
			// CiliumBGPNodeConfig.
			if r.thisNode && o.GetName() != node {
				continue
			}
			add(r.GVR.GroupVersion(), r.Name, o)
		}
	}
	listKinds := map[schema.GroupVersionResource]string{}
	for _, r := range resources {
		listKinds[r.GVR] = r.Name + "List"
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	if prepare != nil {
		prepare(client)
	}
	ctx, cancel := context.WithCancel(context.Background())
	src, err := Start(ctx, Clients{Dynamic: client}, Options{Node: node, SecretsNamespace: secretsNS, Log: testr.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-src.Done()
	})
	return testSource{src, client}
}

// unstructuredOf is o as the dynamic client would hand it over: its JSON as a map.
func unstructuredOf(t *testing.T, o any) *unstructured.Unstructured {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(b, &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// waitToken fails the test when no token comes; the bound only keeps a broken test from
// hanging.
func waitToken(t *testing.T, src testSource) {
	t.Helper()
	select {
	case <-src.Changes():
	case <-time.After(10 * time.Second):
		t.Fatal("no token from the source")
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The snapshot follows the events object by object: LoadChanges names the Services and
// EndpointSlices that changed, says Other for anything else, and Settled holds while only
// Services and EndpointSlices changed.
func TestSourceChanges(t *testing.T) {
	src := startSource(t, "worker-1", "kube-system", &model.Snapshot{
		Services: []*corev1.Service{
			{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "prod"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "prod"}},
		},
	})
	waitToken(t, src)
	_, ch, _, err := src.LoadChanges()
	if err != nil || !ch.All {
		t.Fatalf("first load: %v, changes %+v (want All)", err, ch)
	}
	ctx := context.Background()
	services := src.client.Resource(gvrOf(model.KindService)).Namespace("prod")
	slices := src.client.Resource(gvrOf(model.KindEndpointSlice)).Namespace("prod")
	peerConfigs := src.client.Resource(gvrOf(model.KindCiliumBGPPeerConfig))

	// loadAfter waits until cond holds for what the source loads.
	loadAfter := func(what string, cond func(*model.Snapshot) bool) (*model.Snapshot, model.Changes) {
		t.Helper()
		var all model.Changes
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			snap, ch, _, err := src.LoadChanges()
			if err != nil {
				t.Fatal(err)
			}
			all.Add(ch)
			if cond(snap) {
				return snap, all
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatalf("%s: not seen", what)
		return nil, all
	}

	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "a", "namespace": "prod", "labels": map[string]any{"x": "1"}}}}
	if _, err := services.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := services.Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	es := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
		"metadata": map[string]any{"name": "a-1", "namespace": "prod", "labels": map[string]any{discoveryv1.LabelServiceName: "a"}}}}
	if _, err := slices.Create(ctx, es, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	snap, ch := loadAfter("the Service, its deletion and the EndpointSlice", func(s *model.Snapshot) bool {
		return len(s.Services) == 1 && s.Services[0].Labels["x"] == "1" && len(s.EndpointSlices) == 1
	})
	if ch.All || ch.Other || len(ch.Services) != 2 || ch.Services[types.NamespacedName{Namespace: "prod", Name: "b"}] != nil ||
		ch.Services[types.NamespacedName{Namespace: "prod", Name: "a"}] != snap.Services[0] || len(ch.EndpointSlices) != 1 {
		t.Errorf("changes %+v", ch)
	}
	if !src.Settled() {
		t.Error("not settled after Service and EndpointSlice events")
	}

	pc := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "cilium.io/v2", "kind": "CiliumBGPPeerConfig", "metadata": map[string]any{"name": "pc"}}}
	if _, err := peerConfigs.Create(ctx, pc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for src.Settled() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if src.Settled() {
		t.Error("settled after a PeerConfig event")
	}
	_, ch = loadAfter("the PeerConfig", func(s *model.Snapshot) bool { return len(s.PeerConfigs) == 1 })
	if !ch.Other || len(ch.Services) != 0 {
		t.Errorf("changes %+v, want Other alone", ch)
	}
	if !src.Settled() {
		t.Error("not settled after a load")
	}
}

// gvrOf is the resource of a kind the sidecar watches.
func gvrOf(kind string) schema.GroupVersionResource { return model.KindNamed(kind).GVR }
