// Package deploy tests what users install: the Helm chart, the plain manifests rendered from
// it, the images, and the DaemonSet running on real kubelets (cluster_test.go).
package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/frr-renderer/frr-renderer/internal/kubetest"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
)

const (
	repoRoot  = "../.."
	chartDir  = "../../deploy/helm/frr-renderer"
	manifests = "../../deploy/manifests/frr-renderer.yaml"
	valuesAll = "testdata/values-all.yaml"
	releaseNS = "kube-system"
	otherNS   = "frr-system"
)

// helm returns the Helm binary (hack/helm.sh installs it once).
func helm(t testing.TB) string {
	t.Helper()
	helmOnce.Do(func() { helmPath, helmErr = kubetest.HackScript("helm.sh") })
	if helmErr != nil {
		if os.Geteuid() != 0 && os.Getenv("CI") != "true" {
			t.Skipf("no helm: %v", helmErr)
		}
		t.Fatalf("no helm: %v", helmErr)
	}
	return helmPath
}

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

func runHelm(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	// Helm's caches and configuration in the test's temp dir, not the user's home.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// The chart, the binary and the images name one release: the VERSION file's.
func TestChartVersion(t *testing.T) {
	version := strings.TrimSpace(readFile(t, filepath.Join(repoRoot, "VERSION")))
	var chart struct{ Version, AppVersion string }
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(chartDir, "Chart.yaml"))), &chart); err != nil {
		t.Fatal(err)
	}
	if chart.Version != version || chart.AppVersion != version {
		t.Errorf("Chart.yaml has version %q and appVersion %q; VERSION says %q", chart.Version, chart.AppVersion, version)
	}
	if !strings.Contains(readFile(t, filepath.Join(repoRoot, "CHANGELOG.md")), "## "+version) {
		t.Errorf("CHANGELOG.md has no section for %s", version)
	}
}

func TestChartLint(t *testing.T) {
	for _, values := range []string{"", valuesAll} {
		args := []string{"lint", "--strict", chartDir}
		if values != "" {
			args = append(args, "-f", values)
		}
		out := runHelm(t, args...)
		if !strings.Contains(out, "0 chart(s) failed") {
			t.Errorf("helm %s:\n%s", strings.Join(args, " "), out)
		}
	}
}

// deploy/manifests/frr-renderer.yaml is what `make manifests` writes today.
func TestManifestsCurrent(t *testing.T) {
	helm(t) // skip or fail as helm does
	out, err := kubetest.HackScript("manifests.sh")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(readFile(t, manifests)); got != out {
		t.Errorf("%s is not the chart's rendering: run `make manifests`", manifests)
	}
}

// The rendered objects, with default and with every other value, are what a real API server
// takes: a wrong field, kind or schema fails here, before any user sees it.
func TestChartAppliesToAPIServer(t *testing.T) {
	defaults := runHelm(t, "template", "frr-renderer", chartDir, "--namespace", releaseNS)
	all := runHelm(t, "template", "bgp", chartDir, "--namespace", otherNS, "-f", valuesAll)

	api := kubetest.Start(t, kubetest.Options{})
	api.InstallCRDs(t, append(kubetest.CiliumCRDs(t, ""), kubetest.MonitoringCRDs(t)...)...)
	api.Apply(t, "namespace", []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: "+otherNS+"}\n"), "test")

	objs := api.Apply(t, "default values", []byte(defaults), "helm")
	kinds := kindsOf(objs)
	want := []string{"ClusterRole", "ClusterRoleBinding", "DaemonSet", "Role", "RoleBinding", "ServiceAccount"}
	if !slices.Equal(kinds, want) {
		t.Errorf("default values make %q, want %q", kinds, want)
	}
	ds := find(t, objs, "DaemonSet", "frr-renderer")
	checkDaemonSet(t, ds, releaseNS, 9253)

	objs = api.Apply(t, "values-all.yaml", []byte(all), "helm")
	kinds = kindsOf(objs)
	want = []string{"ClusterRole", "ClusterRoleBinding", "DaemonSet", "Namespace", "PrometheusRule", "Role", "RoleBinding", "Service", "ServiceAccount", "ServiceMonitor"}
	if !slices.Equal(kinds, want) {
		t.Errorf("values-all.yaml makes %q, want %q", kinds, want)
	}
	checkDaemonSet(t, find(t, objs, "DaemonSet", "bgp-frr-renderer"), "bgp-secrets", 19253)
	if role := find(t, objs, "Role", "bgp-frr-renderer-secrets"); role.GetNamespace() != "bgp-secrets" {
		t.Errorf("the Secrets Role is in %q, want the secrets namespace bgp-secrets", role.GetNamespace())
	}
	rule := find(t, objs, "PrometheusRule", "bgp-frr-renderer")
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	if len(groups) != 1 {
		t.Fatalf("PrometheusRule groups: %v", groups)
	}
	rules, _, _ := unstructured.NestedSlice(groups[0].(map[string]any), "rules")
	var alerts []string
	for _, r := range rules {
		alerts = append(alerts, r.(map[string]any)["alert"].(string))
	}
	if !slices.Equal(alerts, []string{"FrrRendererBGPSessionDown", "FrrRendererApplyFailing", "FrrRendererConfigStale", "FrrRendererBGPInstanceFailed", "FrrRendererStateFileUnwritable"}) {
		t.Errorf("alerts %q", alerts)
	}
	if y, _ := yaml.Marshal(rules); !strings.Contains(string(y), "for: 2m") || !strings.Contains(string(y), "for: 4m") || !strings.Contains(string(y), "for: 7m") || !strings.Contains(string(y), "> 60") {
		t.Errorf("the alert rules do not take the values' durations and threshold:\n%s", y)
	}

	// An unknown field is refused: the checks above would catch a misspelt one.
	bad := strings.Replace(defaults, "hostNetwork: true", "hostNetwork: true\n      hostNetwrk: true", 1)
	if _, err := api.ApplyObjects(t.Context(), "a misspelt field", []byte(bad), "helm"); err == nil || !strings.Contains(err.Error(), "hostNetwrk") {
		t.Errorf("a DaemonSet with an unknown field was applied (%v): the test cannot catch a wrong field", err)
	}
}

// The values that mirror Cilium's agent options reach the sidecar as its flags, with Cilium's
// defaults, and every argument the chart gives the sidecar is one frr-renderer run takes.
func TestChartAgentOptions(t *testing.T) {
	bin := testbin.FrrRenderer(t, "DEPLOY_FRR_RENDERER")
	for _, tc := range []struct {
		name   string
		values string
		want   []string
	}{
		{name: "default values", want: []string{
			"--enable-no-service-endpoints-routable=true", "--k8s-service-proxy-name=",
			"--enable-bgp-legacy-origin-attribute=false", "--ipam=cluster-pool", "--bgp-router-id-allocation-mode=default",
		}},
		{name: "values-all.yaml", values: valuesAll, want: []string{
			"--enable-no-service-endpoints-routable=false", "--k8s-service-proxy-name=frr-lab",
			"--enable-bgp-legacy-origin-attribute=true", "--ipam=kubernetes", "--bgp-router-id-allocation-mode=ip-pool",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			helmArgs := []string{"template", "frr-renderer", chartDir, "--namespace", releaseNS}
			if tc.values != "" {
				helmArgs = append(helmArgs, "-f", tc.values)
			}
			args := sidecarArgs(t, runHelm(t, helmArgs...))
			for _, w := range tc.want {
				if !slices.Contains(args, w) {
					t.Errorf("the sidecar's arguments lack %q: %q", w, args)
				}
			}
			// cobra parses every flag before it looks at --help: an unknown flag or a value a
			// flag refuses fails here.
			out, err := exec.Command(bin, append(args, "--help")...).CombinedOutput()
			if err != nil {
				t.Errorf("frr-renderer %s --help: %v\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
}

// sidecarArgs returns the arguments of the frr-renderer container of the chart's DaemonSet.
func sidecarArgs(t *testing.T, rendered string) []string {
	t.Helper()
	for _, doc := range strings.Split(rendered, "\n---") {
		var obj struct {
			Kind string
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Name string
							Args []string
						}
					}
				}
			}
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("the chart's rendering: %v", err)
		}
		if obj.Kind != "DaemonSet" {
			continue
		}
		for _, c := range obj.Spec.Template.Spec.Containers {
			if c.Name == "frr-renderer" {
				return c.Args
			}
		}
	}
	t.Fatal("no frr-renderer container in the chart's DaemonSet")
	return nil
}

// checkDaemonSet checks what the chart must always say of the pod.
func checkDaemonSet(t *testing.T, ds *unstructured.Unstructured, secretsNS string, metricsPort int64) {
	t.Helper()
	y, _ := yaml.Marshal(ds.Object)
	spec := string(y)
	for _, want := range []string{
		"hostNetwork: true",
		"--secrets-namespace=" + secretsNS,
		"--node=$(NODE_NAME)",
		"fieldPath: spec.nodeName",
		"name: FRR_RENDERER_MEMORY_LIMIT", // the Go runtime's soft limit: 90% of the sidecar's
		"resource: limits.memory",
		"path: /healthz",
		"path: /readyz",
	} {
		if !strings.Contains(spec, want) {
			t.Errorf("DaemonSet %s lacks %q", ds.GetName(), want)
		}
	}
	containers, _, _ := unstructured.NestedSlice(ds.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		c := c.(map[string]any)
		caps, _, _ := unstructured.NestedStringSlice(c, "securityContext", "capabilities", "add")
		drop, _, _ := unstructured.NestedStringSlice(c, "securityContext", "capabilities", "drop")
		if !slices.Equal(drop, []string{"ALL"}) {
			t.Errorf("container %s drops %q, want ALL", c["name"], drop)
		}
		switch c["name"] {
		case "frr-renderer":
			if len(caps) != 0 {
				t.Errorf("the sidecar adds capabilities %q, want none", caps)
			}
			if nonRoot, _, _ := unstructured.NestedBool(c, "securityContext", "runAsNonRoot"); !nonRoot {
				t.Error("the sidecar may run as root")
			}
			ports, _, _ := unstructured.NestedSlice(c, "ports")
			if len(ports) != 1 || ports[0].(map[string]any)["name"] != "metrics" || ports[0].(map[string]any)["containerPort"] != metricsPort {
				t.Errorf("the sidecar's ports %v, want metrics %d", ports, metricsPort)
			}
		case "frr":
			if slices.Contains(caps, "SYS_RESOURCE") || slices.Contains(caps, "ALL") {
				t.Errorf("FRR adds %q", caps)
			}
		default:
			t.Errorf("unexpected container %v", c["name"])
		}
	}
}

func kindsOf(objs []*unstructured.Unstructured) []string {
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind())
	}
	slices.Sort(kinds)
	return kinds
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among the applied objects", kind, name)
	return nil
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
