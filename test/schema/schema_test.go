// Package schema checks every manifest of the repository (examples/ and the test scenarios)
// against the CustomResourceDefinitions of each supported Cilium release, in a real
// kube-apiserver: a field, a value or a kind a release does not have fails, as `kubectl apply`
// would fail on a cluster running it.
package schema

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/frr-renderer/frr-renderer/internal/kubetest"
)

const repoRoot = "../.."

// newerOnly are the manifests that use what the oldest supported release lacks, with what
// that is: they must be refused by the releases before `since`, and accepted from it on (the
// list stays true: a manifest that no longer needs a newer release fails the test too).
var newerOnly = map[string]struct{ since, why string }{
	"examples/seed/reference/advertisement-interface.yaml": {"v1.20.2", "advertisementType Interface"},
	"test/golden/testdata/unroutable-addresses.txtar":      {"v1.20.2", "advertisementType Interface"},
}

// refusedByDesign are documents of hostile-input scenarios that no API server accepts, for what
// the API server refuses: frr-renderer meets them in the folders of the standalone mode, where
// nothing validated them. Each must be refused by every release, with that reason.
var refusedByDesign = map[string]struct {
	doc    int
	reason string
}{
	"test/golden/testdata/unroutable-addresses.txtar": {4, "may not be in the loopback range"},
}

// doc is one YAML document of a manifest file.
type doc struct {
	file string // relative to the repository's root
	n    int    // 1-based document index
	obj  *unstructured.Unstructured
}

func TestManifestsAgainstCiliumReleases(t *testing.T) {
	docs := manifests(t)
	if len(docs) < 20 {
		t.Fatalf("only %d manifests found", len(docs))
	}
	for _, version := range kubetest.CiliumVersions {
		t.Run(version, func(t *testing.T) {
			// The scenarios' ClusterIPs are in 10.96.0.0/12 and fd00:96::/112.
			api := kubetest.Start(t, kubetest.Options{ExtraAPIServerArgs: []string{"--service-cluster-ip-range=10.96.0.0/12,fd00:96::/112"}})
			api.InstallCRDs(t, kubetest.CiliumCRDs(t, version)...)
			client := dynamic.NewForConfigOrDie(api.RESTConfig())
			disco := discovery.NewDiscoveryClientForConfigOrDie(api.RESTConfig())
			groups, err := restmapper.GetAPIGroupResources(disco)
			if err != nil {
				t.Fatal(err)
			}
			mapper := restmapper.NewDiscoveryRESTMapper(groups)
			ctx := t.Context()

			refused := map[string][]string{} // file -> errors
			for _, d := range docs {
				err := dryRunCreate(ctx, client, mapper, d.obj)
				if byDesign, ok := refusedByDesign[d.file]; ok && byDesign.doc == d.n {
					if err == nil || !strings.Contains(err.Error(), byDesign.reason) {
						t.Errorf("%s: document %d: Cilium %s's API server gave %v, want a refusal for %q", d.file, d.n, version, err, byDesign.reason)
					}
					continue
				}
				if err != nil {
					refused[d.file] = append(refused[d.file], fmt.Sprintf("document %d, %s %s: %v", d.n, d.obj.GetKind(), d.obj.GetName(), err))
				}
			}
			files := map[string]bool{}
			for _, d := range docs {
				files[d.file] = true
			}
			for _, f := range slices.Sorted(maps.Keys(files)) {
				errs := refused[f]
				newer, isNewer := newerOnly[f]
				switch {
				case isNewer && older(version, newer.since):
					if len(errs) == 0 {
						t.Errorf("%s: Cilium %s accepts it, though it is listed as needing %s (%s)", f, version, newer.since, newer.why)
					} else {
						t.Logf("%s: Cilium %s refuses it as expected (%s): %s", f, version, newer.why, errs[0])
					}
				case len(errs) > 0:
					t.Errorf("%s: Cilium %s refuses:\n  %s", f, version, strings.Join(errs, "\n  "))
				}
			}
		})
	}
}

// dryRunCreate creates o without storing it, with strict field validation: an unknown or
// duplicate field is an error, as are the schema's formats, enums, patterns and CEL rules.
func dryRunCreate(ctx context.Context, client dynamic.Interface, mapper meta.RESTMapper, o *unstructured.Unstructured) error {
	gvk := o.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	r := client.Resource(m.Resource)
	opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		_, err = r.Create(ctx, o, opts)
		return err
	}
	ns := o.GetNamespace()
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	nsObj := &unstructured.Unstructured{}
	nsObj.SetAPIVersion("v1")
	nsObj.SetKind("Namespace")
	nsObj.SetName(ns)
	if _, err := client.Resource(corev1.SchemeGroupVersion.WithResource("namespaces")).Create(ctx, nsObj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	_, err = r.Namespace(ns).Create(ctx, o, opts)
	return err
}

// manifests reads every YAML document of examples/ and of the test scenarios' manifest
// sections (test/golden/testdata/*.txtar).
func manifests(t *testing.T) []doc {
	t.Helper()
	var out []doc
	err := filepath.WalkDir(filepath.Join(repoRoot, "examples"), func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return appendDocs(&out, path, data)
	})
	if err != nil {
		t.Fatal(err)
	}
	scenarios, _ := filepath.Glob(filepath.Join(repoRoot, "test/golden/testdata/*.txtar"))
	for _, path := range scenarios {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := section(data, "manifests.yaml"); ok {
			if err := appendDocs(&out, path, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

func appendDocs(out *[]doc, path string, data []byte) error {
	rel, _ := filepath.Rel(repoRoot, path)
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		o := &unstructured.Unstructured{}
		if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096).Decode(&o.Object); err != nil {
			if errors.Is(err, io.EOF) {
				continue
			}
			return fmt.Errorf("%s: document %d: %w", rel, n, err)
		}
		if len(o.Object) == 0 {
			continue
		}
		*out = append(*out, doc{file: rel, n: n, obj: o})
	}
}

// section returns a txtar section's text.
func section(archive []byte, name string) (string, bool) {
	for _, f := range txtar.Parse(archive).Files {
		if f.Name == name {
			return string(f.Data), true
		}
	}
	return "", false
}

// older reports whether release a (vX.Y.Z) comes before release b.
func older(a, b string) bool {
	var x, y [3]int
	fmt.Sscanf(a, "v%d.%d.%d", &x[0], &x[1], &x[2])
	fmt.Sscanf(b, "v%d.%d.%d", &y[0], &y[1], &y[2])
	return slices.Compare(x[:], y[:]) < 0
}
