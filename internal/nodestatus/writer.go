package nodestatus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// GVR is the cluster-scoped resource of CiliumBGPNodeConfigs.
var GVR = model.KindNamed(model.KindCiliumBGPNodeConfig).GVR

// FieldManager names frr-renderer in the objects' managedFields.
const FieldManager = "frr-renderer"

var (
	// ErrNotFound: the node has no CiliumBGPNodeConfig; Ensure creates it.
	ErrNotFound = errors.New("no CiliumBGPNodeConfig for this node")
	// ErrNoOwner: a CiliumBGPNodeConfig is created only with an owner reference to its
	// ClusterConfig (by UID), so that Cilium's operator, if it runs, takes it as its own
	// instead of seeing a conflict.
	ErrNoOwner = errors.New("no owning CiliumBGPClusterConfig with a UID: not creating a CiliumBGPNodeConfig")
)

// Writer keeps one node's CiliumBGPNodeConfig: it creates the object when it is missing and
// writes its status when the status changed. Its methods may be called from several
// goroutines; they run one at a time.
type Writer struct {
	res  dynamic.ResourceInterface
	node string

	mu sync.Mutex
	// known says that last is the status on the server as far as the Writer knows: the one it
	// wrote or read last, as JSON.
	known      bool
	last       []byte
	generation int64
}

// NewWriter returns a Writer for the CiliumBGPNodeConfig named node.
func NewWriter(client dynamic.Interface, node string) *Writer {
	return &Writer{res: client.Resource(GVR), node: node}
}

// Ensure makes sure the node's CiliumBGPNodeConfig exists. An existing one is read (its
// status becomes what the next Write compares with); its spec belongs to Cilium's operator,
// unless frr-renderer wrote it alone (it created the object and no operator wrote the spec
// since): then spec and owner are brought up to date, as the operator would. A missing one is
// created as the operator would: spec, and a controller owner reference to owner, which must
// have a UID (ErrNoOwner otherwise).
func (w *Writer) Ensure(ctx context.Context, spec model.CiliumBGPNodeConfigSpec, owner *model.CiliumBGPClusterConfig) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	u, err := w.res.Get(ctx, w.node, metav1.GetOptions{})
	if err == nil {
		if owner != nil && owner.UID != "" && len(spec.BGPInstances) > 0 && specIsOurs(u) {
			if u, err = w.updateSpec(ctx, u, spec, owner); err != nil {
				return err
			}
		}
		return w.remember(u)
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("get CiliumBGPNodeConfig %q: %w", w.node, err)
	}
	w.known = false
	if owner == nil || owner.UID == "" {
		return ErrNoOwner
	}
	if len(spec.BGPInstances) == 0 {
		return fmt.Errorf("create CiliumBGPNodeConfig %q: no BGP instance", w.node)
	}
	obj, err := toUnstructured(model.CiliumBGPNodeConfig{
		TypeMeta:   metav1.TypeMeta{APIVersion: GVR.GroupVersion().String(), Kind: model.KindCiliumBGPNodeConfig},
		ObjectMeta: metav1.ObjectMeta{Name: w.node, OwnerReferences: ownerReferences(owner)},
		Spec:       spec,
	})
	if err != nil {
		return err
	}
	created, err := w.res.Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager})
	if apierrors.IsAlreadyExists(err) {
		// The operator was quicker: read its object instead.
		created, err = w.res.Get(ctx, w.node, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("create CiliumBGPNodeConfig %q: %w", w.node, err)
	}
	return w.remember(created)
}

// ownerReferences are the operator's: its ClusterConfig, as controller.
func ownerReferences(owner *model.CiliumBGPClusterConfig) []metav1.OwnerReference {
	return []metav1.OwnerReference{{
		APIVersion: GVR.GroupVersion().String(),
		Kind:       model.KindCiliumBGPClusterConfig,
		Name:       owner.Name,
		UID:        owner.UID,
		Controller: ptr(true),
	}}
}

// specIsOurs reports whether frr-renderer alone wrote the object's spec: every manager of
// its spec fields is FieldManager. Cilium's operator, once it writes the spec, owns it.
func specIsOurs(u *unstructured.Unstructured) bool {
	ours := false
	for _, mf := range u.GetManagedFields() {
		if mf.Subresource != "" || !strings.Contains(mf.FieldsV1.GetRawString(), `"f:spec"`) {
			continue
		}
		if mf.Manager != FieldManager {
			return false
		}
		ours = true
	}
	return ours
}

// updateSpec writes spec and owner into the object when they differ, and returns the object
// as it is then.
func (w *Writer) updateSpec(ctx context.Context, u *unstructured.Unstructured, spec model.CiliumBGPNodeConfigSpec, owner *model.CiliumBGPClusterConfig) (*unstructured.Unstructured, error) {
	// Compared as JSON through the model, as Write compares statuses: what the server
	// returns decodes to what was sent.
	var cur model.CiliumBGPNodeConfig
	b, err := json.Marshal(u.Object)
	if err == nil {
		err = json.Unmarshal(b, &cur)
	}
	want := ownerReferences(owner)
	if err == nil && jsonEqual(cur.Spec, spec) && jsonEqual(cur.OwnerReferences, want) {
		return u, nil
	}
	var specObj map[string]any
	b, err = json.Marshal(spec)
	if err == nil {
		err = json.Unmarshal(b, &specObj)
	}
	if err != nil {
		return nil, err
	}
	u = u.DeepCopy()
	u.Object["spec"] = specObj
	u.SetOwnerReferences(want)
	updated, err := w.res.Update(ctx, u, metav1.UpdateOptions{FieldManager: FieldManager})
	if err != nil {
		return nil, fmt.Errorf("update CiliumBGPNodeConfig %q to its ClusterConfig's spec: %w", w.node, err)
	}
	return updated, nil
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// Write writes status to the status subresource, unless it is what the Writer wrote or read
// last; it reports whether it called the API server. Conditions get the object's generation
// as observedGeneration. It returns ErrNotFound (wrapped) when the object does not exist.
func (w *Writer) Write(ctx context.Context, status model.CiliumBGPNodeConfigStatus) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	status.Conditions = append([]metav1.Condition(nil), status.Conditions...)
	for i := range status.Conditions {
		status.Conditions[i].ObservedGeneration = w.generation
	}
	b, err := json.Marshal(status)
	if err != nil {
		return false, err
	}
	if w.known && bytes.Equal(b, w.last) {
		return false, nil
	}
	// "add" replaces /status when it exists and creates it when it does not ("replace" fails
	// on an object that never had one).
	patch, err := json.Marshal([]jsonPatchOp{{Op: "add", Path: "/status", Value: b}})
	if err != nil {
		return false, err
	}
	u, err := w.res.Patch(ctx, w.node, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: FieldManager}, "status")
	if err != nil {
		if apierrors.IsNotFound(err) {
			w.known = false
			return true, fmt.Errorf("write status of CiliumBGPNodeConfig %q: %w", w.node, ErrNotFound)
		}
		return true, fmt.Errorf("write status of CiliumBGPNodeConfig %q: %w", w.node, err)
	}
	w.known, w.last = true, b
	if u != nil {
		w.generation = u.GetGeneration()
	}
	return true, nil
}

// Last returns a copy of the status written or read last, nil when the Writer knows of none.
func (w *Writer) Last() *model.CiliumBGPNodeConfigStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.known {
		return nil
	}
	var s model.CiliumBGPNodeConfigStatus
	if err := json.Unmarshal(w.last, &s); err != nil {
		return nil
	}
	return &s
}

type jsonPatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// remember takes the object's status (re-encoded through the model, so that it compares with
// what Write encodes) and generation.
func (w *Writer) remember(u *unstructured.Unstructured) error {
	w.generation = u.GetGeneration()
	var status model.CiliumBGPNodeConfigStatus
	if raw, ok := u.Object["status"]; ok {
		b, err := json.Marshal(raw)
		if err == nil {
			err = json.Unmarshal(b, &status)
		}
		if err != nil {
			// Unreadable: write ours over it.
			w.known, w.last = false, nil
			return nil
		}
	}
	b, err := json.Marshal(status)
	if err != nil {
		return err
	}
	w.known, w.last = true, b
	return nil
}

func toUnstructured(v any) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return u, nil
}
