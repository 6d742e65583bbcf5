package kube

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// A diagnostic becomes a Warning on the object at fault, with its UID so that kubectl describe
// shows it; a refused apply becomes one Warning on the Node however often it repeats, and the
// first success after it a Normal event.
func TestEvents(t *testing.T) {
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "events"}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: "EventList"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	uid := func(ref model.ObjectRef) types.UID {
		if ref.Kind == "CiliumBGPClusterConfig" {
			return "uid-cc"
		}
		return ""
	}
	ev := NewEvents(ctx, client, "cp-1", uid, testr.New(t))

	ev.Diagnostics([]model.Diagnostic{{
		Severity: model.Warning,
		Object:   model.ObjectRef{Kind: "CiliumBGPClusterConfig", Name: "cilium-bgp"},
		Field:    "spec.bgpInstances[0].peers[1].peerConfigRef.name",
		// A value left unquoted by mistake: the event stays one line all the same.
		Message: "CiliumBGPPeerConfig \"missing\" not found\nBGPConfigInvalid: forged",
	}})
	refused := errors.New(`bgpd refused "neighbor 10.0.0.1 password <masked>": % Unknown command`)
	ev.Applied(refused)
	ev.Applied(refused) // the same error again: no second event
	ev.Applied(nil)
	ev.Applied(nil) // still fine: nothing
	ev.SessionsReset(nil)
	ev.SessionsReset([]string{"192.168.10.1 (timers)"})

	var got []corev1.Event
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < 4 && time.Now().Before(deadline) {
		list, err := client.Resource(gvr).Namespace("").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, u := range list.Items {
			var e corev1.Event
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		time.Sleep(10 * time.Millisecond)
	}
	type summary struct {
		Namespace, Kind, APIVersion, Name string
		UID                               types.UID
		Type, Reason, Message             string
		Count                             int32
	}
	want := map[string]summary{
		"BGPConfigInvalid": {"default", "CiliumBGPClusterConfig", "cilium.io/v2", "cilium-bgp", "uid-cc", corev1.EventTypeWarning, "BGPConfigInvalid",
			`spec.bgpInstances[0].peers[1].peerConfigRef.name: CiliumBGPPeerConfig "missing" not found\nBGPConfigInvalid: forged`, 1},
		"FRRApplyFailed":    {"default", "Node", "v1", "cp-1", "", corev1.EventTypeWarning, "FRRApplyFailed", refused.Error(), 1},
		"FRRApplyRecovered": {"default", "Node", "v1", "cp-1", "", corev1.EventTypeNormal, "FRRApplyRecovered", "FRR runs the desired configuration again", 1},
		"BGPSessionReset": {"default", "Node", "v1", "cp-1", "", corev1.EventTypeNormal, "BGPSessionReset",
			"reset BGP sessions whose negotiated parameters changed: 192.168.10.1 (timers)", 1},
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
	}
	for _, e := range got {
		s := summary{e.Namespace, e.InvolvedObject.Kind, e.InvolvedObject.APIVersion, e.InvolvedObject.Name, e.InvolvedObject.UID, e.Type, e.Reason, e.Message, e.Count}
		if s != want[e.Reason] {
			t.Errorf("event %s:\n got %+v\nwant %+v", e.Reason, s, want[e.Reason])
		}
		if e.Source.Component != "frr-renderer" || e.Source.Host != "cp-1" {
			t.Errorf("event %s: source %+v", e.Reason, e.Source)
		}
	}
}

// The state file's failure is one Warning on the Node when writing starts failing, however
// often the retries fail and whatever each one's error, and one Normal event when it is written
// again.
func TestStateFileEvents(t *testing.T) {
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "events"}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: "EventList"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := NewEvents(ctx, client, "cp-1", nil, testr.New(t))

	full := errors.New("writing the state file: write /run/frr/.frr-renderer.state.123: no space left on device")
	ev.StateFile(nil) // written: nothing to say
	ev.StateFile(full)
	ev.StateFile(errors.New("writing the state file: open /run/frr/.frr-renderer.state.456: read-only file system"))
	ev.StateFile(nil)
	ev.StateFile(nil)

	list := func() []corev1.Event {
		l, err := client.Resource(gvr).Namespace("").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []corev1.Event
		for _, u := range l.Items {
			var e corev1.Event
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &e); err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
		return out
	}
	for deadline := time.Now().Add(10 * time.Second); len(list()) < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	// A third event would be written right behind these: give it the time to show.
	time.Sleep(100 * time.Millisecond)
	got := list()
	type summary struct{ Kind, Name, Type, Message string }
	want := map[string]summary{
		"FRRStateFileUnwritable": {"Node", "cp-1", corev1.EventTypeWarning,
			"FRR got the configuration, but until the state file is written again a restart leaves what frr-renderer rendered meanwhile in FRR as foreign configuration; retrying: " + full.Error()},
		"FRRStateFileWritten": {"Node", "cp-1", corev1.EventTypeNormal, "the state file is written again"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
	}
	for _, e := range got {
		if s := (summary{e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Type, e.Message}); s != want[e.Reason] || e.Count != 1 {
			t.Errorf("event %s (count %d):\n got %+v\nwant %+v", e.Reason, e.Count, s, want[e.Reason])
		}
	}
}
