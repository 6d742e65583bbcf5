package manifest_test

import (
	"maps"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// seedDir is the seed scenario in the repository (go test runs in the package directory).
const seedDir = "../../examples/seed"

// seedFiles returns the seed scenario's manifests. It fails the test when there are none: the
// seed is in the repository, and a test over none of its files would pass without testing.
func seedFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(seedDir, "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed manifests in %s/*/*.yaml (err %v)", seedDir, err)
	}
	return files
}

// eachObject calls f for every object of the Snapshot, by kind.
func eachObject(s *model.Snapshot, f func(kind string, o metav1.Object)) {
	for _, o := range s.ClusterConfigs {
		f("CiliumBGPClusterConfig", o)
	}
	for _, o := range s.PeerConfigs {
		f("CiliumBGPPeerConfig", o)
	}
	for _, o := range s.Advertisements {
		f("CiliumBGPAdvertisement", o)
	}
	for _, o := range s.NodeOverrides {
		f("CiliumBGPNodeConfigOverride", o)
	}
	for _, o := range s.CiliumNodes {
		f("CiliumNode", o)
	}
	for _, o := range s.PodIPPools {
		f("CiliumPodIPPool", o)
	}
	for _, o := range s.Nodes {
		f("Node", o)
	}
	for _, o := range s.Services {
		f("Service", o)
	}
	for _, o := range s.EndpointSlices {
		f("EndpointSlice", o)
	}
	for _, o := range s.Secrets {
		f("Secret", o)
	}
	for _, o := range s.NodeConfigs {
		f("CiliumBGPNodeConfig", o)
	}
	for _, o := range s.EnvoyConfigs {
		f("CiliumEnvoyConfig", o)
	}
	for _, o := range s.ClusterwideEnvoyConfigs {
		f("CiliumClusterwideEnvoyConfig", o)
	}
}

// counts returns the number of objects of each kind present.
func counts(s *model.Snapshot) map[string]int {
	c := map[string]int{}
	eachObject(s, func(kind string, _ metav1.Object) { c[kind]++ })
	return c
}

// names returns the namespace/name of every object of a kind, in Snapshot order.
func names(s *model.Snapshot, kind string) []string {
	var n []string
	eachObject(s, func(k string, o metav1.Object) {
		if k != kind {
			return
		}
		if o.GetNamespace() != "" {
			n = append(n, o.GetNamespace()+"/"+o.GetName())
			return
		}
		n = append(n, o.GetName())
	})
	return n
}

func assertCounts(t *testing.T, s *model.Snapshot, want map[string]int) {
	t.Helper()
	if got := counts(s); !maps.Equal(got, want) {
		t.Errorf("counts = %v, want %v", got, want)
	}
}

// decode decodes in as x.yaml into a new Snapshot and fails the test on error.
func decode(t *testing.T, in string) (*model.Snapshot, []model.Diagnostic) {
	t.Helper()
	s := &model.Snapshot{}
	diags, err := decodeInto(s, in)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return s, diags
}
