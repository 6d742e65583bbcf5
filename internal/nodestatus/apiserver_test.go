package nodestatus

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/frr-renderer/frr-renderer/internal/kubetest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// Against a real kube-apiserver with Cilium's CRD: what the Writer creates and writes passes
// the schema's validation (formats, enums, patterns, the condition's required fields), "add
// /status" works on an object that never had a status and on one that has, the status
// subresource leaves the spec alone, and what is read back compares equal to what was
// written, so that nothing is written twice.
// It runs against the CRD of each supported Cilium release.
func TestWriterAgainstAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	for _, v := range kubetest.CiliumVersions {
		t.Run(v, func(t *testing.T) { testWriterAgainstAPIServer(t, v) })
	}
}

func testWriterAgainstAPIServer(t *testing.T, version string) {
	s := kubetest.Start(t, kubetest.Options{})
	s.InstallCRDs(t, nodeConfigCRD(t, version))
	client := dynamic.NewForConfigOrDie(s.RESTConfig())
	ctx := t.Context()

	w := NewWriter(client, testNode)
	spec := testSpec()
	spec.BGPInstances[0].RouterID = ptrTo("10.10.10.10")
	spec.BGPInstances[0].LocalPort = ptrTo(int32(179))
	spec.BGPInstances[0].Peers = append(spec.BGPInstances[0].Peers, model.CiliumBGPNodePeer{
		Name: "gw", PeerASN: ptrTo(int64(0)), LocalAddress: ptrTo("192.168.10.12"),
		AutoDiscovery: &model.BGPAutoDiscovery{Mode: "DefaultGateway", DefaultGateway: &model.DefaultGatewayDiscovery{AddressFamily: "ipv4"}},
	})
	if err := w.Ensure(ctx, spec, owner()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	created, err := client.Resource(GVR).Get(ctx, testNode, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if refs := created.GetOwnerReferences(); len(refs) != 1 || refs[0].UID != owner().UID || refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("ownerReferences = %+v", refs)
	}

	cfg := nodeConfig(
		instance("inst", 65001, peer("tor", "10.0.0.1", 0), peer("down", "fd00::1", 65000)),
		instance("b", 65002, peer("tor", "10.0.0.1", 65000)),
	)
	sessions := []vtysh.Session{
		session("10.0.0.1", func(s *vtysh.Session) { s.RemoteAS = 65100 }),
		session("10.0.0.1", inView("b", 65002), state("OpenConfirm", 0)),
	}
	problems := []string{"CiliumBGPPeerConfig/pc: spec.timers: bad", "inst: a second problem"}
	status := Build(cfg, sessions, problems, w.Last(), time.Now())
	if wrote, err := w.Write(ctx, status); err != nil || !wrote {
		t.Fatalf("first Write = %v, %v", wrote, err)
	}

	// Read back: the same status, and the spec untouched.
	fresh := NewWriter(client, testNode)
	if err := fresh.Ensure(ctx, model.CiliumBGPNodeConfigSpec{}, nil); err != nil {
		t.Fatal(err)
	}
	want := status
	want.Conditions[0].ObservedGeneration = created.GetGeneration()
	diffJSON(t, want, fresh.Last())
	got, err := client.Resource(GVR).Get(ctx, testNode, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var gotSpec model.CiliumBGPNodeConfigSpec
	b, _ := json.Marshal(got.Object["spec"])
	if err := json.Unmarshal(b, &gotSpec); err != nil {
		t.Fatal(err)
	}
	diffJSON(t, spec, gotSpec)

	// A second writer, as after a restart, rebuilds the same status a moment later: no write.
	again := Build(cfg, sessions, problems, fresh.Last(), time.Now())
	if wrote, err := fresh.Write(ctx, again); err != nil || wrote {
		t.Errorf("Write of an unchanged status = %v, %v; want no write", wrote, err)
	}
	// A change is written over the existing status.
	sessions[1].State = "Established"
	if wrote, err := fresh.Write(ctx, Build(cfg, sessions, nil, fresh.Last(), time.Now())); err != nil || !wrote {
		t.Errorf("Write of a change = %v, %v", wrote, err)
	}

	// The ClusterConfig changes: the object frr-renderer created follows it. Once another
	// manager (Cilium's operator) writes the spec, it is the operator's.
	spec.BGPInstances[0].LocalASN = ptrTo(int64(65009))
	if err := fresh.Ensure(ctx, spec, owner()); err != nil {
		t.Fatal(err)
	}
	if got := specOf(t, client); *got.BGPInstances[0].LocalASN != 65009 {
		t.Errorf("spec not updated: localASN %d", *got.BGPInstances[0].LocalASN)
	}
	byOperator, err := client.Resource(GVR).Get(ctx, testNode, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	insts, _, _ := unstructured.NestedSlice(byOperator.Object, "spec", "bgpInstances")
	insts[0].(map[string]any)["localASN"] = int64(64999)
	_ = unstructured.SetNestedSlice(byOperator.Object, insts, "spec", "bgpInstances")
	if _, err := client.Resource(GVR).Update(ctx, byOperator, metav1.UpdateOptions{FieldManager: "cilium-operator-generic"}); err != nil {
		t.Fatal(err)
	}
	spec.BGPInstances[0].LocalASN = ptrTo(int64(65010))
	if err := fresh.Ensure(ctx, spec, owner()); err != nil {
		t.Fatal(err)
	}
	if got := specOf(t, client); *got.BGPInstances[0].LocalASN != 64999 {
		t.Errorf("the operator's spec was overwritten: localASN %d", *got.BGPInstances[0].LocalASN)
	}

	if err := client.Resource(GVR).Delete(ctx, testNode, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Write(ctx, status); !errors.Is(err, ErrNotFound) {
		t.Errorf("Write after delete = %v, want ErrNotFound", err)
	}
}

func specOf(t *testing.T, client dynamic.Interface) model.CiliumBGPNodeConfigSpec {
	t.Helper()
	u, err := client.Resource(GVR).Get(t.Context(), testNode, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var spec model.CiliumBGPNodeConfigSpec
	b, _ := json.Marshal(u.Object["spec"])
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	return spec
}
