package sidecar

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8stesting "k8s.io/client-go/testing"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/kube"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
)

// TestStateFileUnwritable runs the Kubernetes mode with its state file on a read-only disk:
// bgpd gets the configuration all the same, and the operator sees the failure as
// frr_renderer_state_file_write_failing 1, a failing /readyz and one FRRStateFileUnwritable
// Warning on the Node; once the disk is writable again the applier writes the file without a
// new configuration, and the gauge, /readyz and an FRRStateFileWritten Event say so.
func TestStateFileUnwritable(t *testing.T) {
	frrtest.Require(t, frrtest.FRR10)
	r := frrtest.Start(t, frrtest.FRR10, "sidestate")
	disk := testbin.NewDisk(t)
	disk.Remount("ro")
	stateFile := filepath.Join(disk.Path(), "frr-renderer.state")

	obj := func(o map[string]any) *unstructured.Unstructured { return &unstructured.Unstructured{Object: o} }
	client := fakeAPI(
		obj(map[string]any{"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]any{"name": "n1", "labels": map[string]any{"kubernetes.io/os": "linux"}},
			"status":   map[string]any{"addresses": []any{map[string]any{"type": "InternalIP", "address": "10.0.0.5"}}}}),
		obj(map[string]any{"apiVersion": "cilium.io/v2", "kind": "CiliumBGPClusterConfig",
			"metadata": map[string]any{"name": "bgp"},
			"spec": map[string]any{
				"nodeSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/os": "linux"}},
				"bgpInstances": []any{map[string]any{"name": "main", "localASN": int64(65001), "peers": []any{
					map[string]any{"name": "tor", "peerASN": int64(65000), "peerAddress": "192.0.2.1"}}}},
			}}),
	)
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
			RunDir: r.RunDir(), StateFile: stateFile, HostFacts: facts, MetricsAddr: addr, StatusInterval: -1,
			Settle: DefaultSettle, MaxSettle: DefaultMaxSettle, Log: testr.New(t),
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	// nodeEvents are the reasons of the Events written about Node n1, in order.
	nodeEvents := func() []string {
		var reasons []string
		for _, a := range client.Actions() {
			c, ok := a.(k8stesting.CreateAction)
			if !ok || a.GetResource().Resource != "events" {
				continue
			}
			b, _ := json.Marshal(c.GetObject())
			var ev struct {
				Reason, Message string
				InvolvedObject  struct{ Kind, Name string }
			}
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.InvolvedObject.Kind == "Node" && ev.InvolvedObject.Name == "n1" && strings.HasPrefix(ev.Reason, "FRRStateFile") {
				reasons = append(reasons, ev.Reason)
			}
		}
		return reasons
	}
	expect := func(what, gauge string, ready int, events []string) {
		t.Helper()
		frrtest.WaitFor(t, 30*time.Second, func() error {
			_, metrics := get(t, "http://"+addr+"/metrics")
			if !strings.Contains(metrics, "\nfrr_renderer_state_file_write_failing "+gauge+"\n") {
				return fmt.Errorf("%s: no frr_renderer_state_file_write_failing %s", what, gauge)
			}
			if code, body := get(t, "http://"+addr+"/readyz"); code != ready {
				return fmt.Errorf("%s: /readyz %d %q, want %d", what, code, body, ready)
			}
			if got := nodeEvents(); strings.Join(got, " ") != strings.Join(events, " ") {
				return fmt.Errorf("%s: Events %q on the Node, want %q", what, got, events)
			}
			return nil
		})
	}

	expect("read-only disk", "1", http.StatusServiceUnavailable, []string{"FRRStateFileUnwritable"})
	if got, err := r.RunningConfig(); err != nil || !strings.Contains(got, "\nrouter bgp 65001\n") {
		t.Errorf("bgpd does not run the configuration while the state file cannot be written (%v):\n%s", err, got)
	}
	if _, err := os.Stat(stateFile); !os.IsNotExist(err) {
		t.Fatalf("a state file on a read-only disk: %v", err)
	}
	if _, body := get(t, "http://"+addr+"/readyz"); !strings.Contains(body, "state file") {
		t.Errorf("/readyz does not say the state file is why: %q", body)
	}

	disk.Remount("rw")
	expect("disk writable again", "0", http.StatusOK, []string{"FRRStateFileUnwritable", "FRRStateFileWritten"})
	// It names what frr-renderer owns: the instance of AS 65001.
	if b, err := os.ReadFile(stateFile); err != nil || !strings.Contains(string(b), `"65001"`) {
		t.Errorf("the state file once the disk is writable: %v\n%s", err, b)
	}
}
