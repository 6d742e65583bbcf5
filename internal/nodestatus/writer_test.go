package nodestatus

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/frr-renderer/frr-renderer/internal/kubetest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

const testNode = "worker-1"

func newFakeClient(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{GVR: "CiliumBGPNodeConfigList"}, objs...)
}

func owner() *model.CiliumBGPClusterConfig {
	return &model.CiliumBGPClusterConfig{ObjectMeta: metav1.ObjectMeta{Name: "cc", UID: types.UID("0b9d5c3e-cc")}}
}

func testSpec() model.CiliumBGPNodeConfigSpec {
	return model.CiliumBGPNodeConfigSpec{BGPInstances: []model.CiliumBGPNodeInstance{{
		Name: "inst", LocalASN: ptrTo(int64(65001)),
		Peers: []model.CiliumBGPNodePeer{{Name: "tor", PeerAddress: ptrTo("10.0.0.1"), PeerASN: ptrTo(int64(65000)), PeerConfigRef: &model.PeerConfigReference{Name: "pc"}}},
	}}}
}

// existing is a CiliumBGPNodeConfig as the operator made it, owned by "other", with
// generation 3 and status.
func existing(status map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cilium.io/v2",
		"kind":       "CiliumBGPNodeConfig",
		"metadata": map[string]any{
			"name": testNode, "generation": int64(3),
			"ownerReferences": []any{map[string]any{"apiVersion": "cilium.io/v2", "kind": "CiliumBGPClusterConfig", "name": "other", "uid": "other-uid", "controller": true}},
		},
		"spec": map[string]any{"bgpInstances": []any{map[string]any{"name": "operator-instance", "localASN": int64(64512)}}},
	}}
	if status != nil {
		u.Object["status"] = status
	}
	return u
}

// verbs lists the client's actions as "verb" or "verb/subresource", and clears them.
func verbs(c *dynamicfake.FakeDynamicClient) []string {
	var out []string
	for _, a := range c.Actions() {
		v := a.GetVerb()
		if a.GetSubresource() != "" {
			v += "/" + a.GetSubresource()
		}
		out = append(out, v)
	}
	c.ClearActions()
	return out
}

func getObject(t *testing.T, c *dynamicfake.FakeDynamicClient) *unstructured.Unstructured {
	t.Helper()
	u, err := c.Resource(GVR).Get(t.Context(), testNode, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	c.ClearActions()
	return u
}

func establishedStatus(uptime time.Duration) model.CiliumBGPNodeConfigStatus {
	return Build(baseConfig(), []vtysh.Session{session("10.0.0.1", state("Established", uptime))}, nil, nil, testNow)
}

func TestEnsureCreatesWhenMissing(t *testing.T) {
	c := newFakeClient()
	w := NewWriter(c, testNode)
	if err := w.Ensure(t.Context(), testSpec(), owner()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if got := verbs(c); !slices.Equal(got, []string{"get", "create"}) {
		t.Errorf("actions = %v, want get, create", got)
	}
	u := getObject(t, c)
	var got model.CiliumBGPNodeConfig
	b, _ := json.Marshal(u.Object)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.APIVersion != "cilium.io/v2" || got.Kind != "CiliumBGPNodeConfig" || got.Name != testNode {
		t.Errorf("object = %s %s %s, want cilium.io/v2 CiliumBGPNodeConfig %s", got.APIVersion, got.Kind, got.Name, testNode)
	}
	wantRef := []metav1.OwnerReference{{APIVersion: "cilium.io/v2", Kind: "CiliumBGPClusterConfig", Name: "cc", UID: "0b9d5c3e-cc", Controller: ptrTo(true)}}
	diffJSON(t, wantRef, got.OwnerReferences)
	diffJSON(t, testSpec(), got.Spec)
	if _, ok := u.Object["status"]; ok {
		t.Errorf("created with a status: %v", u.Object["status"])
	}

	// The new object has no status: "add" creates it.
	if wrote, err := w.Write(t.Context(), establishedStatus(90*time.Second)); err != nil || !wrote {
		t.Fatalf("Write = %v, %v; want a write", wrote, err)
	}
	if _, ok := getObject(t, c).Object["status"]; !ok {
		t.Error("no status after Write")
	}
}

func TestEnsureLeavesExistingAlone(t *testing.T) {
	c := newFakeClient(existing(nil))
	w := NewWriter(c, testNode)
	if err := w.Ensure(t.Context(), testSpec(), owner()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if got := verbs(c); !slices.Equal(got, []string{"get"}) {
		t.Errorf("actions = %v, want get only", got)
	}
	u := getObject(t, c)
	diffJSON(t, existing(nil).Object["spec"], u.Object["spec"])
	diffJSON(t, existing(nil).Object["metadata"].(map[string]any)["ownerReferences"], u.Object["metadata"].(map[string]any)["ownerReferences"])
}

// A CiliumBGPNodeConfig whose spec frr-renderer alone wrote follows its ClusterConfig; once
// another manager (Cilium's operator) wrote the spec, it is left alone.
func TestEnsureUpdatesOnlyItsOwnSpec(t *testing.T) {
	managed := func(manager string) *unstructured.Unstructured {
		u := existing(nil)
		u.SetManagedFields([]metav1.ManagedFieldsEntry{
			{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1",
				FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:ownerReferences":{}},"f:spec":{".":{},"f:bgpInstances":{}}}`)},
			{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsType: "FieldsV1",
				FieldsV1: metav1.NewFieldsV1(`{"f:status":{}}`)},
		})
		if manager != FieldManager {
			mf := u.GetManagedFields()
			mf = append(mf, metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, FieldsType: "FieldsV1",
				FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:bgpInstances":{}}}`)})
			u.SetManagedFields(mf)
		}
		return u
	}
	t.Run("ours: updated to the ClusterConfig's spec and owner", func(t *testing.T) {
		c := newFakeClient(managed(FieldManager))
		w := NewWriter(c, testNode)
		if err := w.Ensure(t.Context(), testSpec(), owner()); err != nil {
			t.Fatalf("Ensure: %v", err)
		}
		if got := verbs(c); !slices.Equal(got, []string{"get", "update"}) {
			t.Errorf("actions = %v, want get, update", got)
		}
		var got model.CiliumBGPNodeConfig
		b, _ := json.Marshal(getObject(t, c).Object)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		diffJSON(t, testSpec(), got.Spec)
		diffJSON(t, ownerReferences(owner()), got.OwnerReferences)
		// Up to date: nothing more.
		if err := w.Ensure(t.Context(), testSpec(), owner()); err != nil {
			t.Fatal(err)
		}
		if got := verbs(c); !slices.Equal(got, []string{"get"}) {
			t.Errorf("actions = %v, want get only", got)
		}
	})
	t.Run("the operator's: left alone", func(t *testing.T) {
		c := newFakeClient(managed("cilium-operator-generic"))
		if err := NewWriter(c, testNode).Ensure(t.Context(), testSpec(), owner()); err != nil {
			t.Fatalf("Ensure: %v", err)
		}
		if got := verbs(c); !slices.Equal(got, []string{"get"}) {
			t.Errorf("actions = %v, want get only", got)
		}
	})
}

func TestEnsureRefusesWithoutOwnerUID(t *testing.T) {
	for name, o := range map[string]*model.CiliumBGPClusterConfig{"nil": nil, "no UID": {ObjectMeta: metav1.ObjectMeta{Name: "cc"}}} {
		t.Run(name, func(t *testing.T) {
			c := newFakeClient()
			err := NewWriter(c, testNode).Ensure(t.Context(), testSpec(), o)
			if !errors.Is(err, ErrNoOwner) {
				t.Errorf("Ensure = %v, want ErrNoOwner", err)
			}
			if got := verbs(c); !slices.Equal(got, []string{"get"}) {
				t.Errorf("actions = %v, want get only", got)
			}
		})
	}
}

// The operator creates the object between our get and create: ours fails, theirs is read.
func TestEnsureLosesRaceToOperator(t *testing.T) {
	c := newFakeClient()
	c.PrependReactor("create", "ciliumbgpnodeconfigs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if err := c.Tracker().Add(existing(map[string]any{"bgpInstances": []any{map[string]any{"name": "x"}}})); err != nil {
			t.Fatal(err)
		}
		return true, nil, apierrors.NewAlreadyExists(GVR.GroupResource(), testNode)
	})
	w := NewWriter(c, testNode)
	if err := w.Ensure(t.Context(), testSpec(), owner()); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if last := w.Last(); last == nil || len(last.BGPInstances) != 1 || last.BGPInstances[0].Name != "x" {
		t.Errorf("Last = %+v, want the operator's object's status", last)
	}
}

func TestWriteOnlyChanges(t *testing.T) {
	c := newFakeClient(existing(nil))
	w := NewWriter(c, testNode)
	if err := w.Ensure(t.Context(), testSpec(), owner()); err != nil {
		t.Fatal(err)
	}
	verbs(c)

	steps := []struct {
		name   string
		status func() model.CiliumBGPNodeConfigStatus
		write  bool
	}{
		{name: "first status", status: func() model.CiliumBGPNodeConfigStatus { return establishedStatus(90 * time.Second) }, write: true},
		{name: "same again", status: func() model.CiliumBGPNodeConfigStatus { return establishedStatus(90 * time.Second) }, write: false},
		{name: "same, rebuilt 5 s later from what was written", status: func() model.CiliumBGPNodeConfigStatus {
			return Build(baseConfig(), []vtysh.Session{session("10.0.0.1", state("Established", 95*time.Second+300*time.Millisecond))}, nil, w.Last(), testNow.Add(5*time.Second))
		}, write: false},
		{name: "peer goes down", status: func() model.CiliumBGPNodeConfigStatus {
			return Build(baseConfig(), []vtysh.Session{session("10.0.0.1", state("Active", 0))}, nil, w.Last(), testNow)
		}, write: true},
		{name: "a problem appears", status: func() model.CiliumBGPNodeConfigStatus {
			return Build(baseConfig(), []vtysh.Session{session("10.0.0.1", state("Active", 0))}, []string{"inst: bad"}, w.Last(), testNow)
		}, write: true},
	}
	for _, step := range steps {
		s := struct {
			name   string
			status model.CiliumBGPNodeConfigStatus
			write  bool
		}{step.name, step.status(), step.write}
		wrote, err := w.Write(t.Context(), s.status)
		if err != nil {
			t.Fatalf("%s: Write: %v", s.name, err)
		}
		acts := c.Actions()
		if wrote != s.write || len(acts) != map[bool]int{true: 1, false: 0}[s.write] {
			t.Fatalf("%s: wrote=%v with actions %v, want write=%v", s.name, wrote, verbs(c), s.write)
		}
		if s.write {
			checkStatusPatch(t, acts[0], s.status)
			// The object's status is what was written, with the object's generation observed.
			want := s.status
			want.Conditions = slices.Clone(want.Conditions)
			want.Conditions[0].ObservedGeneration = 3
			var got model.CiliumBGPNodeConfigStatus
			b, _ := json.Marshal(getObject(t, c).Object["status"])
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			diffJSON(t, want, got)
		}
		c.ClearActions()
	}
}

// checkStatusPatch asserts a JSON patch of the status subresource: one "add" of /status.
func checkStatusPatch(t *testing.T, a k8stesting.Action, status model.CiliumBGPNodeConfigStatus) {
	t.Helper()
	p, ok := a.(k8stesting.PatchAction)
	if !ok || a.GetSubresource() != "status" || p.GetPatchType() != types.JSONPatchType || p.GetName() != testNode {
		t.Fatalf("action = %#v, want a JSON patch of %s/status", a, testNode)
	}
	var ops []struct {
		Op    string                          `json:"op"`
		Path  string                          `json:"path"`
		Value model.CiliumBGPNodeConfigStatus `json:"value"`
	}
	if err := json.Unmarshal(p.GetPatch(), &ops); err != nil {
		t.Fatalf("patch %s: %v", p.GetPatch(), err)
	}
	if len(ops) != 1 || ops[0].Op != "add" || ops[0].Path != "/status" {
		t.Fatalf("patch = %s, want one add of /status", p.GetPatch())
	}
	if len(ops[0].Value.BGPInstances) != len(status.BGPInstances) {
		t.Errorf("patch value = %s", p.GetPatch())
	}
}

// After a restart the Writer reads the status it wrote before: nothing to write.
func TestWriteNothingAfterRestart(t *testing.T) {
	c := newFakeClient(existing(nil))
	before := NewWriter(c, testNode)
	if err := before.Ensure(t.Context(), testSpec(), owner()); err != nil {
		t.Fatal(err)
	}
	if _, err := before.Write(t.Context(), establishedStatus(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	c.ClearActions()

	after := NewWriter(c, testNode)
	if err := after.Ensure(t.Context(), testSpec(), owner()); err != nil {
		t.Fatal(err)
	}
	// 5 s later, the same node: the condition's transition time and the established time
	// come from the status read.
	later := testNow.Add(5 * time.Second)
	status := Build(baseConfig(), []vtysh.Session{session("10.0.0.1", state("Established", 95*time.Second))}, nil, after.Last(), later)
	if wrote, err := after.Write(t.Context(), status); err != nil || wrote {
		t.Errorf("Write = %v, %v; want no write (actions %v)", wrote, err, verbs(c))
	}
}

func TestWriteNotFound(t *testing.T) {
	c := newFakeClient(existing(nil))
	w := NewWriter(c, testNode)
	if err := w.Ensure(t.Context(), testSpec(), owner()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(t.Context(), establishedStatus(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := c.Resource(GVR).Delete(t.Context(), testNode, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	status := Build(baseConfig(), nil, nil, nil, testNow)
	_, err := w.Write(t.Context(), status)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Write = %v, want ErrNotFound", err)
	}
	if w.Last() != nil {
		t.Error("Last still knows a status of a deleted object")
	}
	// The caller ensures and writes again.
	if err := w.Ensure(t.Context(), testSpec(), owner()); err != nil {
		t.Fatal(err)
	}
	if wrote, err := w.Write(t.Context(), status); err != nil || !wrote {
		t.Fatalf("Write after Ensure = %v, %v", wrote, err)
	}
}

// A failed write is retried: what was not written is not taken as written.
func TestWriteRetriesAfterError(t *testing.T) {
	c := newFakeClient(existing(nil))
	fail := true
	c.PrependReactor("patch", "ciliumbgpnodeconfigs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if fail {
			return true, nil, apierrors.NewServiceUnavailable("etcd is sad")
		}
		return false, nil, nil
	})
	w := NewWriter(c, testNode)
	if err := w.Ensure(t.Context(), testSpec(), owner()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(t.Context(), establishedStatus(90*time.Second)); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Write = %v, want the API error", err)
	}
	fail = false
	if wrote, err := w.Write(t.Context(), establishedStatus(90*time.Second)); err != nil || !wrote {
		t.Fatalf("retry: Write = %v, %v; want a write", wrote, err)
	}
}

// The JSON of the objects written has the CRD's field names, as each supported Cilium release
// ships the CRD: every key is in the schema (a misspelt tag fails), and a full object uses
// every field of the schema.
func TestJSONNamesMatchCRD(t *testing.T) {
	for _, v := range kubetest.CiliumVersions {
		t.Run(v, func(t *testing.T) { testJSONNames(t, crdSchema(t, v)) })
	}
}

func testJSONNames(t *testing.T, schema map[string]any) {
	c := newFakeClient()
	w := NewWriter(c, testNode)
	spec := model.CiliumBGPNodeConfigSpec{BGPInstances: []model.CiliumBGPNodeInstance{{
		Name: "inst", LocalASN: ptrTo(int64(65001)), RouterID: ptrTo("10.10.10.10"), LocalPort: ptrTo(int32(179)),
		Peers: []model.CiliumBGPNodePeer{{
			Name: "tor", PeerAddress: ptrTo("10.0.0.1"), PeerASN: ptrTo(int64(0)), LocalAddress: ptrTo("192.168.10.12"),
			PeerConfigRef: &model.PeerConfigReference{Name: "pc", Group: "cilium.io", Kind: "CiliumBGPPeerConfig"},
			AutoDiscovery: &model.BGPAutoDiscovery{Mode: "DefaultGateway", DefaultGateway: &model.DefaultGatewayDiscovery{AddressFamily: "ipv4"}},
		}},
	}}}
	// PeerConfigReference's v2alpha1 group and kind are not v2: a spec from DeriveNodeConfig
	// never has them.
	spec.BGPInstances[0].Peers[0].PeerConfigRef.Group, spec.BGPInstances[0].Peers[0].PeerConfigRef.Kind = "", ""
	// The API server sets the generation; the fake does not.
	c.PrependReactor("create", "ciliumbgpnodeconfigs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured).SetGeneration(1)
		return false, nil, nil
	})
	if err := w.Ensure(t.Context(), spec, owner()); err != nil {
		t.Fatal(err)
	}
	status := Build(baseConfig(), []vtysh.Session{session("10.0.0.1", func(s *vtysh.Session) { s.Families[1].Received = 2 })}, []string{"a problem"}, nil, testNow)
	if _, err := w.Write(t.Context(), status); err != nil {
		t.Fatal(err)
	}
	obj := getObject(t, c).Object

	seen := map[string]bool{}
	checkKeys(t, "", obj, schema, seen)
	var all []string
	schemaPaths("", schema, &all)
	for _, p := range all {
		if !seen[p] {
			t.Errorf("%s: in the CRD, never written by the model", p)
		}
	}
	noPassword(t, "object", func() string { b, _ := json.Marshal(obj); return string(b) }())
}

// crdSchema returns the openAPIV3Schema of the v2 version of the CRD as Cilium release
// version ships it.
func crdSchema(t *testing.T, version string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(nodeConfigCRD(t, version))
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name == "v2" {
			return v.Schema.OpenAPIV3Schema
		}
	}
	t.Fatal("no v2 in the CRD")
	return nil
}

// checkKeys walks v along schema s: every object key must be a property.
func checkKeys(t *testing.T, path string, v any, s map[string]any, seen map[string]bool) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if props == nil {
			return // metadata: an object without a schema
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("%s.%s: not in the CRD", path, k)
				continue
			}
			seen[path+"."+k] = true
			checkKeys(t, path+"."+k, v[k], sub, seen)
		}
	case []any:
		items, _ := s["items"].(map[string]any)
		for _, e := range v {
			checkKeys(t, path+"[]", e, items, seen)
		}
	}
}

func schemaPaths(path string, s map[string]any, out *[]string) {
	if items, ok := s["items"].(map[string]any); ok {
		schemaPaths(path+"[]", items, out)
	}
	props, _ := s["properties"].(map[string]any)
	for k, sub := range props {
		*out = append(*out, path+"."+k)
		schemaPaths(path+"."+k, sub.(map[string]any), out)
	}
}

// nodeConfigCRD is the CiliumBGPNodeConfig CRD of a Cilium release.
func nodeConfigCRD(t *testing.T, version string) string {
	t.Helper()
	for _, f := range kubetest.CiliumCRDs(t, version) {
		if filepath.Base(f) == "ciliumbgpnodeconfigs.yaml" {
			return f
		}
	}
	t.Fatalf("no ciliumbgpnodeconfigs.yaml among Cilium %s's CRDs", version)
	return ""
}
