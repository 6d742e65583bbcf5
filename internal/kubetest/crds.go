package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// crdTimeout bounds the wait for one CRD to be Established and served (~0.1 s here).
const crdTimeout = 30 * time.Second

var crdResource = schema.GroupVersionResource{
	Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions",
}

// CiliumVersions are the Cilium releases whose CRDs the tests check against: the oldest and the
// newest supported minor release (hack/cilium-crds.sh's SUPPORTED, in the same order).
var CiliumVersions = []string{"v1.18.4", "v1.20.2"}

// CiliumCRDs returns the paths of the CustomResourceDefinitions frr-renderer reads, as Cilium
// release version ships them ("" for the newest supported), from hack/cilium-crds.sh: Cilium's
// released Go module, downloaded once through the module proxy and cached by version.
func CiliumCRDs(t testing.TB, version string) []string {
	t.Helper()
	if version == "" {
		version = CiliumVersions[len(CiliumVersions)-1]
	}
	return crdFiles(t, "cilium-crds.sh", version)
}

// MonitoringCRDs returns the paths of the Prometheus Operator's ServiceMonitor and
// PrometheusRule CustomResourceDefinitions (hack/monitoring-crds.sh), for the chart's optional
// objects.
func MonitoringCRDs(t testing.TB) []string {
	t.Helper()
	return crdFiles(t, "monitoring-crds.sh")
}

// crdFiles runs a hack script that prints a directory of CRDs (memoized per arguments for the
// test binary) and returns its YAML files. It fails the test when they cannot be had (without
// root, where the cache is not writable, it skips unless CI=true).
func crdFiles(t testing.TB, script string, args ...string) []string {
	t.Helper()
	key := strings.Join(append([]string{script}, args...), " ")
	crdsMu.Lock()
	defer crdsMu.Unlock()
	dir, ok := crdsDirs[key]
	if !ok {
		var err error
		if dir, err = HackScript(script, args...); err != nil {
			if os.Geteuid() != 0 && os.Getenv("CI") != "true" {
				t.Skipf("kubetest: %s: %v", key, err)
			}
			t.Fatalf("kubetest: %s: %v", key, err)
		}
		crdsDirs[key] = dir
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("kubetest: no CRDs in %s (%v)", dir, err)
	}
	return files
}

// crdsDirs memoizes the CRD scripts per arguments for the test binary.
var (
	crdsMu   sync.Mutex
	crdsDirs = map[string]string{}
)

// InstallCRDs applies the CustomResourceDefinitions in the YAML files (several documents each
// allowed; server-side apply, so installing again updates them) and waits until each is
// Established and every served version of its resource is in discovery, so that a client
// started next finds them. A document of another kind fails the test.
//
// It speaks unstructured objects through the dynamic client: the apiextensions types are not
// a dependency of this module.
func (s *Server) InstallCRDs(t testing.TB, paths ...string) {
	t.Helper()
	var crds []*unstructured.Unstructured
	for _, path := range paths {
		objs, err := readObjects(path)
		if err != nil {
			t.Fatalf("kubetest: %v", err)
		}
		for _, o := range objs {
			if o.GroupVersionKind() != crdResource.GroupVersion().WithKind("CustomResourceDefinition") {
				t.Fatalf("kubetest: %s: %s %q is not an apiextensions.k8s.io/v1 CustomResourceDefinition",
					path, o.GroupVersionKind(), o.GetName())
			}
			crds = append(crds, o)
		}
	}
	client, err := dynamic.NewForConfig(s.admin)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(s.admin)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	ctx := t.Context()
	for _, crd := range crds {
		_, err := client.Resource(crdResource).Apply(ctx, crd.GetName(), crd,
			metav1.ApplyOptions{FieldManager: "kubetest", Force: true})
		if err != nil {
			t.Fatalf("kubetest: apply CRD %s: %v", crd.GetName(), err)
		}
	}
	for _, crd := range crds {
		if err := waitForCRD(ctx, client, disco, crd.GetName()); err != nil {
			t.Fatalf("kubetest: CRD %s: %v", crd.GetName(), err)
		}
	}
}

// readObjects reads the YAML documents of a file as objects, skipping empty documents.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeObjects(path, data)
}

// decodeObjects decodes the YAML documents of data (named name in errors) as objects, skipping
// empty documents.
func decodeObjects(name string, data []byte) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
			continue // a comment or an empty document between ---
		}
		o := &unstructured.Unstructured{}
		if err := o.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		objs = append(objs, o)
	}
}

// waitForCRD polls until the CRD is Established and each served version lists its plural in
// discovery.
func waitForCRD(ctx context.Context, client dynamic.Interface, disco discovery.DiscoveryInterface, name string) error {
	ctx, cancel := context.WithTimeout(ctx, crdTimeout)
	defer cancel()
	for {
		err := crdReady(ctx, client, disco, name)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v: %w", crdTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func crdReady(ctx context.Context, client dynamic.Interface, disco discovery.DiscoveryInterface, name string) error {
	crd, err := client.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	established := slices.ContainsFunc(conditions, func(c any) bool {
		m, _ := c.(map[string]any)
		return m["type"] == "Established" && m["status"] == "True"
	})
	if !established {
		return errors.New("not Established")
	}
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		m, _ := v.(map[string]any)
		version, _ := m["name"].(string)
		if served, _ := m["served"].(bool); !served {
			continue
		}
		gv := group + "/" + version
		list, err := disco.ServerResourcesForGroupVersion(gv)
		if err != nil {
			return fmt.Errorf("discovery of %s: %w", gv, err)
		}
		if !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == plural }) {
			return fmt.Errorf("%s not served in %s yet", plural, gv)
		}
	}
	return nil
}
