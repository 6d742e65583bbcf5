package kube

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/record"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// Events tells users, as Kubernetes Events on the object at fault, about the problems they must
// fix: a diagnostic of the translator (a missing PeerConfig, a bad community) when it appears,
// FRR refusing the configuration when it starts or its error changes, and the state file
// failing to be written when that starts. Each problem is reported once when it appears, not on
// every read, and client-go's correlator rate-limits what remains. The texts come from
// diagnostics, masked apply errors and state-file errors (a path and an errno): never a secret.
type Events struct {
	recorder record.EventRecorder
	node     string
	uid      func(model.ObjectRef) types.UID

	mu        sync.Mutex
	applyErr  string // the apply error reported last; "" when applies succeed
	stateFail bool   // the state file could not be written, as reported last
}

// Event reasons.
const (
	ReasonInvalidConfig = "BGPConfigInvalid"
	ReasonApplyFailed   = "FRRApplyFailed"
	ReasonApplied       = "FRRApplyRecovered"
	ReasonSessionReset  = "BGPSessionReset"
	ReasonStateFailing  = "FRRStateFileUnwritable"
	ReasonStateWritten  = "FRRStateFileWritten"
)

// NewEvents starts an event broadcaster that writes through client until ctx ends. uid finds
// the UID of a cached object (so that `kubectl describe` shows its events); it may be nil.
func NewEvents(ctx context.Context, client dynamic.Interface, node string, uid func(model.ObjectRef) types.UID, log logr.Logger) *Events {
	b := record.NewBroadcaster(record.WithContext(ctx), record.WithCorrelatorOptions(record.CorrelatorOptions{
		// At most a burst of 10 and then one event per object every minute.
		BurstSize: 10,
		QPS:       1.0 / 60,
	}))
	b.StartRecordingToSink(eventSink{client.Resource(schema.GroupVersionResource{Version: "v1", Resource: "events"})})
	b.StartLogging(func(format string, args ...any) { log.V(1).Info("event", "text", fmt.Sprintf(format, args...)) })
	go func() {
		<-ctx.Done()
		b.Shutdown()
	}()
	if uid == nil {
		uid = func(model.ObjectRef) types.UID { return "" }
	}
	return &Events{
		recorder: b.NewRecorder(eventScheme, corev1.EventSource{Component: "frr-renderer", Host: node}),
		node:     node,
		uid:      uid,
	}
}

// Diagnostics reports the diagnostics that appeared.
func (e *Events) Diagnostics(appeared []model.Diagnostic) {
	for _, d := range appeared {
		// One line, as on stderr: kubectl describe prints the message as it is.
		msg := model.OneLine(d.Message)
		if d.Field != "" {
			msg = model.OneLine(d.Field) + ": " + msg
		}
		e.recorder.Event(e.reference(d.Object), corev1.EventTypeWarning, ReasonInvalidConfig, msg)
	}
}

// Applied reports an apply that failed with a new error, and the first success after failures,
// on this node's Node object.
func (e *Events) Applied(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	node := e.reference(model.ObjectRef{Kind: model.KindNode, Name: e.node})
	switch {
	case err != nil && err.Error() != e.applyErr:
		e.applyErr = err.Error()
		e.recorder.Event(node, corev1.EventTypeWarning, ReasonApplyFailed, e.applyErr)
	case err == nil && e.applyErr != "":
		e.applyErr = ""
		e.recorder.Event(node, corev1.EventTypeNormal, ReasonApplied, "FRR runs the desired configuration again")
	}
}

// StateFile reports, on this node's Node object, that the applier's state file could not be
// written (err, from vtysh.ApplyResult.StateErr: a path and an errno, names only) when that
// starts, and that it is written again when that ends. Not each failed retry: the error's
// temporary file name changes with each.
func (e *Events) StateFile(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if failing := err != nil; failing == e.stateFail {
		return
	}
	e.stateFail = err != nil
	node := e.reference(model.ObjectRef{Kind: "Node", Name: e.node})
	if err != nil {
		e.recorder.Event(node, corev1.EventTypeWarning, ReasonStateFailing,
			"FRR got the configuration, but until the state file is written again a restart leaves what frr-renderer rendered meanwhile in FRR as foreign configuration; retrying: "+model.OneLine(err.Error()))
		return
	}
	e.recorder.Event(node, corev1.EventTypeNormal, ReasonStateWritten, "the state file is written again")
}

// SessionsReset reports, on this node's Node object, the BGP sessions an apply reset because
// their negotiated parameters (timers, graceful restart) changed, as Cilium resets them.
func (e *Events) SessionsReset(sessions []string) {
	if len(sessions) == 0 {
		return
	}
	node := e.reference(model.ObjectRef{Kind: model.KindNode, Name: e.node})
	e.recorder.Event(node, corev1.EventTypeNormal, ReasonSessionReset,
		"reset BGP sessions whose negotiated parameters changed: "+strings.Join(sessions, "; "))
}

// reference is the object an event is about, as the API expects it.
func (e *Events) reference(ref model.ObjectRef) runtime.Object {
	return &corev1.ObjectReference{
		APIVersion: apiVersionOf(ref.Kind),
		Kind:       ref.Kind,
		Namespace:  ref.Namespace,
		Name:       ref.Name,
		UID:        e.uid(ref),
	}
}

// apiVersionOf is the version a kind is served as; cilium.io/v2 for a kind frr-renderer does
// not read.
func apiVersionOf(kind string) string {
	if k := model.KindNamed(kind); k != nil {
		return k.GVR.GroupVersion().String()
	}
	return schema.GroupVersion{Group: model.CiliumGroup, Version: model.CiliumVersion}.String()
}

// eventScheme is what the recorder needs to name an object: the references it is given are
// already *corev1.ObjectReference.
var eventScheme = runtime.NewScheme()

// eventSink writes core/v1 Events through the dynamic client (see Start for why not the typed
// one).
type eventSink struct {
	events dynamic.NamespaceableResourceInterface
}

func (s eventSink) Create(ev *corev1.Event) (*corev1.Event, error) {
	u, err := toUnstructured(ev)
	if err != nil {
		return nil, err
	}
	out, err := s.events.Namespace(ev.Namespace).Create(context.TODO(), u, metav1.CreateOptions{})
	return fromUnstructured(out, err)
}

func (s eventSink) Update(ev *corev1.Event) (*corev1.Event, error) {
	u, err := toUnstructured(ev)
	if err != nil {
		return nil, err
	}
	out, err := s.events.Namespace(ev.Namespace).Update(context.TODO(), u, metav1.UpdateOptions{})
	return fromUnstructured(out, err)
}

func (s eventSink) Patch(ev *corev1.Event, data []byte) (*corev1.Event, error) {
	out, err := s.events.Namespace(ev.Namespace).Patch(context.TODO(), ev.Name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
	return fromUnstructured(out, err)
}

func toUnstructured(ev *corev1.Event) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ev)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion("v1")
	u.SetKind("Event")
	return u, nil
}

func fromUnstructured(u *unstructured.Unstructured, err error) (*corev1.Event, error) {
	if err != nil {
		return nil, err
	}
	ev := &corev1.Event{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ev); err != nil {
		return nil, err
	}
	return ev, nil
}
