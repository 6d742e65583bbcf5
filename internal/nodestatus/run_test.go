package nodestatus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// harness runs the refresher's loop round by round, on a fake API server, with a clock that
// moves 5 s a round and bgpd's sessions from sessions(round). Nothing sleeps: the waits are
// recorded.
type harness struct {
	t        *testing.T
	c        *dynamicfake.FakeDynamicClient
	w        *Writer
	latest   Latest
	sessions func(round int) ([]vtysh.Session, error)
	// between runs after each round, before the next (round is the next one's number).
	between func(round int)

	r        *refresher // one across runs, as in Run
	round    int
	waits    []time.Duration
	perRound [][]string // the API calls of each round
	logs     strings.Builder
}

func newHarness(t *testing.T, objs ...runtime.Object) *harness {
	h := &harness{t: t, c: newFakeClient(objs...)}
	h.w = NewWriter(h.c, testNode)
	h.sessions = func(round int) ([]vtysh.Session, error) {
		// One session, established at round 0 and up ever since.
		return []vtysh.Session{session("10.0.0.1", state("Established", 90*time.Second+time.Duration(round)*5*time.Second+123*time.Millisecond))}, nil
	}
	return h
}

func (h *harness) setState(problems ...string) {
	h.latest.Set(State{Config: baseConfig(), Problems: problems, Spec: testSpec(), Owner: owner()})
}

func (h *harness) run(rounds int, interval time.Duration) {
	if h.r == nil {
		h.r = &refresher{
			w:   h.w,
			in:  Inputs{State: h.latest.Get, Sessions: func(context.Context) ([]vtysh.Session, error) { return h.sessions(h.round) }},
			log: funcr.New(func(prefix, args string) { fmt.Fprintln(&h.logs, prefix, args) }, funcr.Options{Verbosity: 1}),
			now: func() time.Time { return testNow.Add(time.Duration(h.round) * 5 * time.Second) },
		}
	}
	start := h.round
	h.r.loop(h.t.Context(), interval, 0, func(_ context.Context, d time.Duration) bool {
		h.waits = append(h.waits, d)
		h.perRound = append(h.perRound, verbs(h.c))
		h.round++
		if h.round-start >= rounds {
			return false
		}
		if h.between != nil {
			h.between(h.round)
		}
		return true
	})
	noPassword(h.t, "logs", h.logs.String())
}

// calls lists the API calls of rounds [from, to).
func (h *harness) calls(from, to int) [][]string { return h.perRound[from:to] }

func TestRunWritesNothingBeforeItsTime(t *testing.T) {
	h := newHarness(t)
	h.run(2, time.Second) // no State yet
	h.latest.Set(State{Config: baseConfig()})
	h.run(2, time.Second) // no ClusterConfig selects the node
	for i, c := range h.perRound {
		if len(c) != 0 {
			t.Errorf("round %d called %v, want nothing", i, c)
		}
	}
}

func TestRunWritesOnceWhileNothingChanges(t *testing.T) {
	h := newHarness(t)
	h.setState()
	h.run(5, time.Second)
	want := [][]string{{"get", "create", "patch/status"}, nil, nil, nil, nil}
	if !slices.EqualFunc(h.calls(0, 5), want, slices.Equal) {
		t.Errorf("calls per round = %v, want %v", h.perRound, want)
	}
	// The reconcile loop reports a problem: one write.
	h.setState("inst: no localASN")
	h.run(2, time.Second)
	if want := [][]string{{"patch/status"}, nil}; !slices.EqualFunc(h.calls(5, 7), want, slices.Equal) {
		t.Errorf("calls per round = %v, want %v", h.calls(5, 7), want)
	}
	if c := h.w.Last().Conditions[0]; c.Status != metav1.ConditionTrue || c.Message != "inst: no localASN\n" {
		t.Errorf("condition = %+v", c)
	}
}

// Every resyncRounds rounds the object is read again, and a status someone else changed is
// written over.
func TestRunResyncs(t *testing.T) {
	h := newHarness(t)
	h.setState()
	h.between = func(round int) {
		if round == resyncRounds-1 {
			u := getObject(t, h.c)
			u.Object["status"] = map[string]any{}
			if _, err := h.c.Resource(GVR).UpdateStatus(t.Context(), u, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			h.c.ClearActions()
		}
	}
	h.run(resyncRounds+1, time.Second)
	for i, c := range h.perRound[1 : resyncRounds-1] {
		if len(c) != 0 {
			t.Fatalf("round %d called %v, want nothing", i+1, c)
		}
	}
	if c := h.perRound[resyncRounds-1]; !slices.Equal(c, []string{"get", "patch/status"}) {
		t.Errorf("resync round called %v, want get, patch/status", c)
	}
	if c := h.perRound[resyncRounds]; len(c) != 0 {
		t.Errorf("round after the resync called %v, want nothing", c)
	}
}

func TestRunWhenBGPDCannotBeRead(t *testing.T) {
	h := newHarness(t)
	h.setState()
	down := map[int]bool{1: true, 2: true, 3: true}
	ok := h.sessions
	h.sessions = func(round int) ([]vtysh.Session, error) {
		if down[round] {
			return nil, errors.New("bgpd.vty: connection refused")
		}
		return ok(round)
	}
	h.run(5, time.Second)
	want := [][]string{{"get", "create", "patch/status"}, nil, nil, {"patch/status"}, {"patch/status"}}
	if !slices.EqualFunc(h.perRound, want, slices.Equal) {
		t.Errorf("calls per round = %v, want %v (the status stays for %d rounds)", h.perRound, want, sessionFailuresTolerated-1)
	}
	// Round 3 wrote the peers without state, and why.
	h2 := newHarness(t)
	h2.setState()
	h2.sessions = func(int) ([]vtysh.Session, error) { return nil, errors.New("bgpd.vty: connection refused") }
	h2.run(sessionFailuresTolerated, time.Second)
	last := h2.w.Last()
	if last == nil {
		t.Fatal("nothing written")
	}
	if ps := last.BGPInstances[0].PeerStatuses[0]; ps.PeeringState != nil {
		t.Errorf("peer state = %s, want none", *ps.PeeringState)
	}
	if c := last.Conditions[0]; c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "cannot read BGP sessions from bgpd: bgpd.vty: connection refused") {
		t.Errorf("condition = %+v", c)
	}
}

func TestRunBacksOff(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		failures int
		want     []time.Duration
	}{
		{name: "doubles, then back to the interval", interval: time.Second, failures: 4, want: []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, time.Second, time.Second}},
		{name: "up to MaxBackoff", interval: time.Minute, failures: 3, want: []time.Duration{MaxBackoff, MaxBackoff, MaxBackoff, time.Minute}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.setState()
			failures := 0
			h.c.PrependReactor("patch", "ciliumbgpnodeconfigs", func(k8stesting.Action) (bool, runtime.Object, error) {
				if failures < tc.failures {
					failures++
					return true, nil, apierrors.NewServiceUnavailable("etcd is sad")
				}
				return false, nil, nil
			})
			h.run(len(tc.want), tc.interval)
			if !slices.Equal(h.waits, tc.want) {
				t.Errorf("waits = %v, want %v", h.waits, tc.want)
			}
			if !strings.Contains(h.logs.String(), "etcd is sad") || !strings.Contains(h.logs.String(), "written again") {
				t.Errorf("logs = %s, want the error and the recovery", h.logs.String())
			}
		})
	}
}

// A deleted object is created again at the next change of status.
func TestRunRecreatesADeletedObject(t *testing.T) {
	h := newHarness(t)
	h.setState()
	h.between = func(round int) {
		if round == 1 {
			if err := h.c.Resource(GVR).Delete(t.Context(), testNode, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			h.c.ClearActions()
			h.setState("inst: something new")
		}
	}
	h.run(2, time.Second)
	if c := h.perRound[1]; !slices.Equal(c, []string{"patch/status", "get", "create", "patch/status"}) {
		t.Errorf("calls = %v, want patch (not found), get, create, patch", c)
	}
	if u := getObject(t, h.c); u.Object["status"] == nil {
		t.Error("recreated without status")
	}
}

func TestLatest(t *testing.T) {
	var l Latest
	if _, ok := l.Get(); ok {
		t.Fatal("Get before Set: ok")
	}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() { l.Set(State{Problems: []string{fmt.Sprint(i)}}) })
		wg.Go(func() { l.Get() })
	}
	wg.Wait()
	l.Set(State{Owner: &model.CiliumBGPClusterConfig{}})
	if s, ok := l.Get(); !ok || s.Owner == nil {
		t.Errorf("Get = %+v, %v; want the State set last", s, ok)
	}
}

// Run returns when its context ends.
func TestRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	rounds := make(chan struct{}, 1)
	in := Inputs{
		State: func() (State, bool) {
			select {
			case rounds <- struct{}{}:
			default:
			}
			return State{}, false
		},
		Sessions: func(context.Context) ([]vtysh.Session, error) { return nil, nil },
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, time.Millisecond, 0, NewWriter(newFakeClient(), testNode), in, funcr.New(func(string, string) {}, funcr.Options{}))
	}()
	<-rounds
	cancel()
	<-done
}
