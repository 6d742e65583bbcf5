package manifest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
)

func decodeInto(s *model.Snapshot, in string) ([]model.Diagnostic, error) {
	return manifest.Decode("x.yaml", []byte(in), s)
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  map[string]int
		check func(t *testing.T, s *model.Snapshot)
	}{
		{
			name: "JSON object",
			in:   `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"type": "LoadBalancer"}}`,
			want: map[string]int{"Service": 1},
			check: func(t *testing.T, s *model.Snapshot) {
				if s.Services[0].Spec.Type != corev1.ServiceTypeLoadBalancer {
					t.Errorf("type = %q", s.Services[0].Spec.Type)
				}
			},
		},
		{
			name: "JSON List",
			in: `{"apiVersion": "v1", "kind": "List", "items": [
				{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}},
				{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}},
				{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}]}`,
			want: map[string]int{"Service": 1, "Node": 1},
		},
		{
			name: "YAML List",
			in: `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: s, namespace: kube-system}
- apiVersion: cilium.io/v2
  kind: CiliumNode
  metadata: {name: node-1}
  spec: {ipam: {podCIDRs: [10.0.0.0/24]}}
`,
			want: map[string]int{"Secret": 1, "CiliumNode": 1},
			check: func(t *testing.T, s *model.Snapshot) {
				if got := s.CiliumNodes[0].Spec.IPAM.PodCIDRs; !slices.Equal(got, []string{"10.0.0.0/24"}) {
					t.Errorf("podCIDRs = %v", got)
				}
			},
		},
		{
			name: "typed List items take the List's type",
			in:   `{"apiVersion": "v1", "kind": "ServiceList", "items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]}`,
			want: map[string]int{"Service": 2},
			check: func(t *testing.T, s *model.Snapshot) {
				if s.Services[1].Kind != "Service" || s.Services[1].APIVersion != "v1" {
					t.Errorf("type = %v", s.Services[1].TypeMeta)
				}
			},
		},
		{
			name: "empty documents",
			in:   "---\n---\n\n---\n" + service("a") + "---\n---\n" + service("b") + "---\n",
			want: map[string]int{"Service": 2},
		},
		{
			name: "comment-only documents",
			in:   "# header\n---\n# nothing here\n  # indented\n---\n" + service("a") + "--- # trailer\n# end\n",
			want: map[string]int{"Service": 1},
		},
		{
			name: "CRLF line endings",
			in:   strings.ReplaceAll(service("a")+"---\n"+service("b"), "\n", "\r\n"),
			want: map[string]int{"Service": 2},
		},
		{
			name: "other kinds and versions are skipped, even malformed",
			in: `apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata: {name: public-pool}
spec: {blocks: [{cidr: 172.20.0.0/24}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {replicas: three}
---
apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata: {name: p}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
`,
			want: map[string]int{},
		},
		{
			name: "v2alpha1 decodes into the model, keeping its extra fields",
			in: `apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeerConfig
metadata: {name: p}
spec:
  transport: {localPort: 1790, peerPort: 179}
---
apiVersion: cilium.io/v2alpha1
kind: CiliumPodIPPool
metadata: {name: pool}
spec:
  ipv4: {cidrs: [10.20.0.0/16], maskSize: 24}
`,
			want: map[string]int{"CiliumBGPPeerConfig": 1, "CiliumPodIPPool": 1},
			check: func(t *testing.T, s *model.Snapshot) {
				if lp := s.PeerConfigs[0].Spec.Transport.LocalPort; lp == nil || *lp != 1790 {
					t.Errorf("transport.localPort = %v", lp)
				}
			},
		},
		{
			name: "v2 CiliumPodIPPool with CIDR objects",
			in: `apiVersion: cilium.io/v2
kind: CiliumPodIPPool
metadata: {name: pool}
spec:
  ipv4:
    cidrs: [{cidr: 10.20.0.0/16, reservedRange: {start: 10.20.0.1, end: 10.20.0.9}}]
    maskSize: 24
  ipv6:
    cidrs: [{cidr: "fd00::/104"}]
    maskSize: 120
`,
			want: map[string]int{"CiliumPodIPPool": 1},
			check: func(t *testing.T, s *model.Snapshot) {
				if spec := s.PodIPPools[0].Spec; spec.IPv4.MaskSize != 24 || spec.IPv6.MaskSize != 120 {
					t.Errorf("mask sizes = %d, %d", spec.IPv4.MaskSize, spec.IPv6.MaskSize)
				}
			},
		},
		{
			name: "namespaced kinds default to the default namespace",
			in: service("a") + `---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: web}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: e}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1], nodeName: node-1}]
`,
			want: map[string]int{"Service": 2, "Secret": 1, "EndpointSlice": 1},
			check: func(t *testing.T, s *model.Snapshot) {
				got := slices.Concat(names(s, "Service"), names(s, "Secret"), names(s, "EndpointSlice"))
				if want := []string{"default/a", "web/b", "default/s", "default/e"}; !slices.Equal(got, want) {
					t.Errorf("names = %v, want %v", got, want)
				}
			},
		},
		{
			name: "cluster-scoped kinds have no namespace",
			in:   "apiVersion: v1\nkind: Node\nmetadata: {name: node-1, namespace: kube-system}\n",
			want: map[string]int{"Node": 1},
			check: func(t *testing.T, s *model.Snapshot) {
				if ns := s.Nodes[0].Namespace; ns != "" {
					t.Errorf("namespace = %q", ns)
				}
			},
		},
		{
			name: "Secret stringData is merged into data and wins",
			in: `apiVersion: v1
kind: Secret
metadata: {name: bgp-auth, namespace: kube-system}
type: kubernetes.io/basic-auth
data:
  password: b2xk   # "old"
  username: dXNlcg== # "user"
stringData:
  password: new
  extra: more
`,
			want: map[string]int{"Secret": 1},
			check: func(t *testing.T, s *model.Snapshot) {
				sec := s.Secrets[0]
				got := map[string]string{}
				for k, v := range sec.Data {
					got[k] = string(v)
				}
				if want := map[string]string{"password": "new", "username": "user", "extra": "more"}; !maps.Equal(got, want) {
					t.Errorf("data = %v, want %v", got, want)
				}
				if sec.StringData != nil {
					t.Errorf("stringData = %v, want it merged away", sec.StringData)
				}
				if sec.Type != corev1.SecretTypeBasicAuth {
					t.Errorf("type = %q", sec.Type)
				}
			},
		},
		{
			name: "Secret with stringData only",
			in:   "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: pw}\n",
			want: map[string]int{"Secret": 1},
			check: func(t *testing.T, s *model.Snapshot) {
				if got := string(s.Secrets[0].Data["password"]); got != "pw" {
					t.Errorf("password = %q", got)
				}
			},
		},
		{
			name: "unknown fields are tolerated",
			in:   "apiVersion: cilium.io/v2\nkind: CiliumNode\nmetadata: {name: node-1}\nspec: {future: {field: 1}}\nstatus: {anything: true}\n",
			want: map[string]int{"CiliumNode": 1},
		},
		{
			name: "markers followed by comments or blanks",
			in:   "--- # comment\n" + service("a") + "---\t\n" + service("b") + "--- \r\n" + service("c"),
			want: map[string]int{"Service": 3},
		},
		{
			name: "a node's CiliumBGPNodeConfig and the Envoy configurations",
			in: `apiVersion: cilium.io/v2
kind: CiliumBGPNodeConfig
metadata: {name: node-1}
spec: {bgpInstances: [{name: inst, routerID: 10.0.0.1}]}
---
apiVersion: cilium.io/v2
kind: CiliumEnvoyConfig
metadata: {name: ingress}
spec: {services: [{name: web}], resources: []}
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideEnvoyConfig
metadata: {name: gw}
spec: {services: [{name: web, namespace: prod}], resources: []}
`,
			want: map[string]int{"CiliumBGPNodeConfig": 1, "CiliumEnvoyConfig": 1, "CiliumClusterwideEnvoyConfig": 1},
			check: func(t *testing.T, s *model.Snapshot) {
				if s.EnvoyConfigs[0].Namespace != "default" || s.ClusterwideEnvoyConfigs[0].Spec.Services[0].Namespace != "prod" {
					t.Errorf("envoy configs: %+v %+v", s.EnvoyConfigs[0], s.ClusterwideEnvoyConfigs[0])
				}
			},
		},
		{
			name: "a UTF-8 byte order mark",
			in:   "\ufeff" + service("a"),
			want: map[string]int{"Service": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, diags := decode(t, tt.in)
			if len(diags) != 0 {
				t.Errorf("unexpected diagnostics: %v", diags)
			}
			assertCounts(t, s, tt.want)
			if tt.check != nil && !t.Failed() {
				tt.check(t, s)
			}
		})
	}
}

func TestDecodeDuplicates(t *testing.T) {
	node := func(apiVersion, kind, name string) string {
		return "apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: " + name + "}\n"
	}
	svc := func(ns, name string, port int) string {
		b, _ := json.Marshal(map[string]any{
			"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]string{"name": name, "namespace": ns},
			"spec":     map[string]any{"ports": []map[string]int{{"port": port}}},
		})
		return string(b) + "\n"
	}
	tests := []struct {
		name     string
		before   string // decoded first, as another input
		in       string
		want     []string // Services, or Nodes and CiliumNodes
		wantDiag []string // one warning per entry, with its message fragments separated by |
	}{
		{
			name:     "later document wins and keeps its place",
			in:       svc("", "a", 1) + "---\n" + svc("", "b", 2) + "---\n" + svc("default", "a", 3),
			want:     []string{"default/b:2", "default/a:3"},
			wantDiag: []string{"Service/default/a|x.yaml: document 3|x.yaml: document 1"},
		},
		{
			name:     "three definitions, two warnings",
			in:       svc("", "a", 1) + "---\n" + svc("", "a", 2) + "---\n" + svc("", "a", 3),
			want:     []string{"default/a:3"},
			wantDiag: []string{"document 2|document 1", "document 3|document 2"},
		},
		{
			name: "namespaces and kinds tell objects apart",
			in: svc("", "a", 1) + "---\n" + svc("web", "a", 2) + "---\n" +
				node("v1", "Node", "node-1") + "---\n" + node("cilium.io/v2", "CiliumNode", "node-1"),
			want: []string{"default/a:1", "web/a:2", "node-1", "node-1"},
		},
		{
			name:     "v2alpha1 and v2 are the same resource",
			in:       node("cilium.io/v2alpha1", "CiliumNode", "node-1") + "---\n" + node("cilium.io/v2", "CiliumNode", "node-1"),
			want:     []string{"node-1"},
			wantDiag: []string{"CiliumNode/node-1|document 2|document 1"},
		},
		{
			name:     "objects already in the snapshot count as an earlier input",
			before:   svc("", "a", 1) + "---\n" + svc("", "b", 2),
			in:       svc("", "a", 3),
			want:     []string{"default/b:2", "default/a:3"},
			wantDiag: []string{"x.yaml: document 1|an earlier input"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &model.Snapshot{}
			if tt.before != "" {
				if _, err := decodeInto(s, tt.before); err != nil {
					t.Fatal(err)
				}
			}
			diags, err := decodeInto(s, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, svc := range s.Services {
				got = append(got, fmt.Sprintf("%s/%s:%d", svc.Namespace, svc.Name, svc.Spec.Ports[0].Port))
			}
			got = append(got, slices.Concat(names(s, "Node"), names(s, "CiliumNode"))...)
			if !slices.Equal(got, tt.want) {
				t.Errorf("objects = %v, want %v", got, tt.want)
			}
			if len(diags) != len(tt.wantDiag) {
				t.Fatalf("diagnostics = %v, want %d", diags, len(tt.wantDiag))
			}
			for i, d := range diags {
				if d.Severity != model.Warning {
					t.Errorf("severity = %v", d.Severity)
				}
				for _, frag := range strings.Split(tt.wantDiag[i], "|") {
					if !strings.Contains(d.String(), frag) {
						t.Errorf("diagnostic %q does not contain %q", d, frag)
					}
				}
			}
		})
	}
}

func TestDecodeNameDiagnostics(t *testing.T) {
	long := strings.Repeat("a", 254)
	tests := []struct {
		name      string
		in        string
		wantObj   model.ObjectRef
		wantField string
		wantMsg   string // the message, or a fragment of it when wantField is set
	}{
		{
			name:    "empty name",
			in:      "apiVersion: v1\nkind: Service\nmetadata: {namespace: web}\n",
			wantObj: model.ObjectRef{Kind: "Service", Namespace: "web"},
			wantMsg: "metadata.name is empty",
		},
		{
			name:    "no metadata at all",
			in:      "apiVersion: cilium.io/v2\nkind: CiliumBGPClusterConfig\nspec: {}\n",
			wantObj: model.ObjectRef{Kind: "CiliumBGPClusterConfig"},
			wantMsg: "metadata.name is empty",
		},
		{
			name:      "upper case Node",
			in:        "apiVersion: v1\nkind: Node\nmetadata: {name: Worker-1}\n",
			wantObj:   model.ObjectRef{Kind: "Node", Name: "Worker-1"},
			wantField: "metadata.name",
			wantMsg:   "x.yaml: document 1: a lowercase RFC 1123 subdomain",
		},
		{
			name:      "underscore in a PeerConfig",
			in:        "apiVersion: cilium.io/v2\nkind: CiliumBGPPeerConfig\nmetadata: {name: cilium_peer}\n",
			wantObj:   model.ObjectRef{Kind: "CiliumBGPPeerConfig", Name: "cilium_peer"},
			wantField: "metadata.name",
			wantMsg:   "RFC 1123",
		},
		{
			name:      "too long for a CiliumNode",
			in:        "apiVersion: cilium.io/v2\nkind: CiliumNode\nmetadata: {name: " + long + "}\n",
			wantObj:   model.ObjectRef{Kind: "CiliumNode", Name: long},
			wantField: "metadata.name",
			wantMsg:   "no more than 253 characters",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, diags := decode(t, tt.in+"---\n"+service("kept"))
			if len(diags) != 1 {
				t.Fatalf("diagnostics = %v, want one", diags)
			}
			d := diags[0]
			if d.Severity != model.Error || d.Object != tt.wantObj || d.Field != tt.wantField {
				t.Errorf("diagnostic = %+v, want an error about %v field %q", d, tt.wantObj, tt.wantField)
			}
			if tt.wantField == "" && d.Message != tt.wantMsg || !strings.Contains(d.Message, tt.wantMsg) {
				t.Errorf("message = %q, want %q", d.Message, tt.wantMsg)
			}
			if want := map[string]int{"Service": 1}; !maps.Equal(counts(s), want) {
				t.Errorf("counts = %v, want only the valid Service", counts(s))
			}
		})
	}

	t.Run("names of namespaced kinds are not checked", func(t *testing.T) {
		_, diags := decode(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: Bgp_Auth}\n")
		if len(diags) != 0 {
			t.Errorf("diagnostics = %v", diags)
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		in         string
		wantPrefix string
	}{
		{
			name: "type mismatch names file, document, kind and name",
			file: "manifests/peer.yaml",
			in: service("a") + `---
apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata:
  name: cilium-peer
spec:
  timers:
    holdTimeSeconds: "90"
`,
			wantPrefix: "manifests/peer.yaml: document 2 (CiliumBGPPeerConfig/cilium-peer): json: cannot unmarshal string into Go struct field ",
		},
		{
			name:       "namespaced object",
			in:         "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: web}\nspec: {ports: 80}\n",
			wantPrefix: "x.yaml: document 1 (Service/web/a): json: cannot unmarshal number into Go struct field ",
		},
		{
			name:       "kind without name",
			in:         "# header\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: 5\n",
			wantPrefix: "x.yaml: document 1 (Node): json: cannot unmarshal number into Go struct field ",
		},
		{
			name:       "unparseable YAML",
			in:         service("a") + "---\n" + service("b") + "---\nkind: Service\nmetadata: {name: [\n",
			wantPrefix: "x.yaml: document 3: yaml: line ",
		},
		{
			name:       "empty documents are numbered",
			in:         "---\n---\napiVersion: v1\nkind: Service\nspec: {ports: 5}\n",
			wantPrefix: "x.yaml: document 2 (Service): json: ",
		},
		{
			name:       "JSON syntax error",
			file:       "x.json",
			in:         `{"apiVersion": "v1", "kind": "Service",}`,
			wantPrefix: "x.json: document 1: invalid character '}'",
		},
		{
			name:       "List item",
			in:         "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a}}\n- {apiVersion: v1, kind: Service, metadata: {name: b}, spec: {type: [x]}}\n",
			wantPrefix: "x.yaml: document 1, item 2 (Service/b): json: cannot unmarshal array",
		},
		{
			name:       "missing apiVersion",
			in:         service("a") + "---\nkind: Service\nmetadata: {name: b}\n",
			wantPrefix: "x.yaml: document 2 (Service/b): apiVersion is missing",
		},
		{
			name:       "missing kind",
			in:         "apiVersion: v1\nmetadata: {name: b}\n",
			wantPrefix: "x.yaml: document 1: kind is missing",
		},
		{
			name:       "missing both",
			in:         "metadata: {name: b}\n",
			wantPrefix: "x.yaml: document 1: apiVersion and kind are missing",
		},
		{
			name:       "not a mapping",
			in:         "- apiVersion: v1\n  kind: Service\n",
			wantPrefix: "x.yaml: document 1: not a Kubernetes object",
		},
		{
			name:       "List items must be a list",
			in:         "apiVersion: v1\nkind: List\nitems: {a: b}\n",
			wantPrefix: "x.yaml: document 1 (List): items is not a list",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = "x.yaml"
			}
			s := &model.Snapshot{}
			_, err := manifest.Decode(file, []byte(tt.in), s)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Fatalf("error = %v\nwant prefix %q", err, tt.wantPrefix)
			}
			if len(counts(s)) != 0 {
				t.Errorf("snapshot modified on error: %v", counts(s))
			}
		})
	}
}

func TestDecodeLeavesSnapshotOnError(t *testing.T) {
	s := &model.Snapshot{}
	if _, err := decodeInto(s, service("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeInto(s, service("a")+"---\n"+service("b")+"---\nkind: [\n"); err == nil {
		t.Fatal("Decode succeeded")
	}
	if got := names(s, "Service"); !slices.Equal(got, []string{"default/a"}) {
		t.Errorf("services = %v, want the snapshot as it was", got)
	}
}

func TestDecodeWithholdsSecretValues(t *testing.T) {
	const (
		value  = "s3cr3t-md5"
		secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: bgp-auth, namespace: kube-system}\n"
	)
	tests := []struct {
		name string
		in   string
		// leak is what the parsers' own error quotes.
		leak string
		// wantPrefix checks that the error still says where the problem is.
		wantPrefix string
	}{
		{
			name:       "YAML alias named after the value",
			in:         secret + "stringData:\n  password: *" + value + "\n",
			leak:       value,
			wantPrefix: "x.yaml: document 1: yaml: invalid YAML (details withheld",
		},
		{
			name:       "null key, whose value the conversion to JSON quotes",
			in:         secret + "stringData:\n  ~: " + value + "\n",
			leak:       value,
			wantPrefix: "x.yaml: document 1: a mapping key is not a string",
		},
		{
			name:       "complex key",
			in:         secret + "data:\n  ? [" + value + "]\n  : x\n",
			leak:       value,
			wantPrefix: "x.yaml: document 1: yaml: invalid YAML (details withheld",
		},
		{
			name:       "in a List",
			in:         "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  stringData: {password: *" + value + "}\n",
			leak:       value,
			wantPrefix: "x.yaml: document 1: yaml: invalid YAML (details withheld",
		},
		{
			// Only numeric fields quote numbers, and a Secret's numeric fields hold no
			// secret; the number stands for what a future field might hold.
			name:       "number out of range",
			in:         `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bgp-auth", "generation": 1999999999999999999999}}`,
			leak:       "1999999999999999999999",
			wantPrefix: "x.yaml: document 1 (Secret/bgp-auth): json: cannot unmarshal number into Go struct field ",
		},
		{
			name:       "JSON syntax error",
			in:         `{"apiVersion": "v1", "kind": "Secret", "stringData": {"password": ` + value + `}}`,
			leak:       "'s'",
			wantPrefix: "x.yaml: document 1: invalid JSON at offset ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The case tests something only if the parsers themselves quote the value.
			if naive := naiveError(tt.in); !strings.Contains(naive, tt.leak) {
				t.Fatalf("the parsers' own error %q does not quote %q", naive, tt.leak)
			}
			_, err := decodeInto(&model.Snapshot{}, tt.in)
			if err == nil {
				t.Fatal("Decode succeeded")
			}
			if strings.Contains(err.Error(), tt.leak) {
				t.Errorf("error quotes the secret: %v", err)
			}
			if !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Errorf("error = %v\nwant prefix %q", err, tt.wantPrefix)
			}
		})
	}
}

// naiveError is the error of decoding a Secret document without withholding anything.
func naiveError(doc string) string {
	js, err := utilyaml.ToJSON([]byte(doc))
	if err != nil {
		return err.Error()
	}
	if err := json.Unmarshal(js, &corev1.Secret{}); err != nil {
		return err.Error()
	}
	return ""
}

// secretSpellings are ways to write a Secret that its text does not show: what may be quoted
// in an error must follow from the decoded kind. Each makes a Secret of fields, which hold its
// metadata.
var secretSpellings = []struct {
	name string
	doc  func(fields string) string
}{
	{"plain", func(f string) string { return "apiVersion: v1\nkind: Secret\n" + f }},
	{"kind with an escape", func(f string) string { return "apiVersion: v1\nkind: \"Secre\\u0074\"\n" + f }},
	{"kind across a line continuation", func(f string) string { return "apiVersion: v1\nkind: \"Sec\\\n  ret\"\n" + f }},
	{"in a List spelled with an escape", func(f string) string {
		return "apiVersion: v1\nkind: \"Lis\\u0074\"\nitems:\n- apiVersion: v1\n  kind: \"Secre\\u0074\"\n" + indent(f, "  ")
	}},
	{"in a SecretList, items without a kind", func(f string) string {
		return "apiVersion: v1\nkind: \"SecretLis\\x74\"\nitems:\n- " + indent(f, "  ")[2:]
	}},
	{"JSON with an escape", func(f string) string {
		js, err := utilyaml.ToJSON([]byte(f))
		if err != nil {
			return "{" // the fields have no JSON form: a syntax error
		}
		return `{"apiVersion": "v1", "kind": "Secre\u0074", ` + string(js[1:])
	}},
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix) + "\n"
}

// TestDecodeWithholdsSecretValuesHowever: a password in a Secret, whatever its spelling,
// never reaches an error or a warning, whatever the error.
func TestDecodeWithholdsSecretValuesHowever(t *testing.T) {
	const (
		password = "Pw-0f-T3st-9x"
		meta     = "metadata: {name: bgp-auth}\n"
	)
	encoded := base64.StdEncoding.EncodeToString([]byte(password))
	fields := []struct {
		name, fields string
	}{
		{"a tag that does not fit", meta + "stringData:\n  password: !!int " + password + "\n"},
		{"a mapping used as a key", meta + "stringData:\n  ? {password: " + password + "}\n  : x\n"},
		{"base64 data with a tag that does not fit", meta + "data:\n  password: !!int " + encoded + "\n"},
		{"an alias named after it", meta + "stringData:\n  password: *" + password + "\n"},
		{"a time that does not parse", "metadata: {name: bgp-auth, creationTimestamp: \"" + password + "\"}\n"},
		{"a number out of range", "metadata: {name: bgp-auth, generation: 1" + strings.Repeat("0", 30) + "}\nstringData: {password: " + password + "}\n"},
		{"an unknown field and a key set twice", meta + "stringData:\n  password: " + password + "\n  password: " + password + "\npasswrd: " + password + "\n"},
	}
	for _, sp := range secretSpellings {
		for _, f := range fields {
			t.Run(sp.name+"/"+f.name, func(t *testing.T) {
				in := sp.doc(f.fields)
				diags, err := decodeInto(&model.Snapshot{}, in)
				var said []string
				if err != nil {
					said = append(said, err.Error())
				}
				for _, d := range diags {
					said = append(said, d.String())
				}
				if len(said) == 0 {
					t.Fatalf("no error and no warning for\n%s", in)
				}
				for _, s := range said {
					if strings.Contains(s, password) || strings.Contains(s, encoded) {
						t.Errorf("the password is quoted: %s\ninput:\n%s", s, in)
					}
				}
			})
		}
	}
}

// TestDecodeWarnsAsStrictDecoders: what kubectl apply's strict validation would refuse is
// read as a lax decoder reads it, with a warning naming the object, the file and the field.
func TestDecodeWarnsAsStrictDecoders(t *testing.T) {
	const peer = "apiVersion: cilium.io/v2\nkind: CiliumBGPPeerConfig\nmetadata: {name: p}\n"
	tests := []struct {
		name      string
		in        string
		wantObj   model.ObjectRef
		wantField string
		wantMsg   string
		check     func(t *testing.T, s *model.Snapshot)
	}{
		{
			name:      "unknown field",
			in:        peer + "spec:\n  timers: {holdTimeSecond: 9}\n",
			wantObj:   model.ObjectRef{Kind: "CiliumBGPPeerConfig", Name: "p"},
			wantField: "spec.timers.holdTimeSecond",
			wantMsg:   `x.yaml: document 1: unknown field "spec.timers.holdTimeSecond"; it is ignored`,
		},
		{
			name:      "a field name in another case is another field",
			in:        `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}, "spec": {"Type": "LoadBalancer"}}`,
			wantObj:   model.ObjectRef{Kind: "Service", Name: "a"},
			wantField: "spec.Type",
			wantMsg:   `unknown field "spec.Type"`,
		},
		{
			name:    "YAML key set twice: the last value is used",
			in:      peer + "spec:\n  timers:\n    holdTimeSeconds: 9\n    holdTimeSeconds: 30\n",
			wantObj: model.ObjectRef{Kind: "CiliumBGPPeerConfig", Name: "p"},
			wantMsg: `x.yaml: document 1: key "holdTimeSeconds" (line 7) is set twice; the last value is used`,
			check: func(t *testing.T, s *model.Snapshot) {
				if h := s.PeerConfigs[0].Spec.Timers.HoldTimeSeconds; h == nil || *h != 30 {
					t.Errorf("holdTimeSeconds = %v, want the last value, 30", h)
				}
			},
		},
		{
			name:      "JSON field set twice: the last value is used",
			in:        `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "name": "b"}}`,
			wantObj:   model.ObjectRef{Kind: "Service", Name: "b"},
			wantField: "metadata.name",
			wantMsg:   "x.yaml: document 1: the field is set twice; the last value is used",
		},
		{
			name:    "a kind that is read, of an apiVersion that is not",
			in:      "apiVersion: cilium.io/v3\nkind: CiliumBGPPeerConfig\nmetadata: {name: p}\n",
			wantObj: model.ObjectRef{Kind: "CiliumBGPPeerConfig", Name: "p"},
			wantMsg: `x.yaml: document 1: apiVersion "cilium.io/v3" is not one this renderer reads for CiliumBGPPeerConfig (cilium.io/v2, cilium.io/v2alpha1); the object is ignored`,
			check: func(t *testing.T, s *model.Snapshot) {
				if len(s.PeerConfigs) != 0 {
					t.Errorf("the object was kept")
				}
			},
		},
		{
			name:    "a Secret's apiVersion is not quoted",
			in:      "apiVersion: v9\nkind: Secret\nmetadata: {name: s}\n",
			wantObj: model.ObjectRef{Kind: "Secret", Name: "s"},
			wantMsg: "x.yaml: document 1: apiVersion (withheld: the object is a Secret) is not one this renderer reads for Secret (v1)",
		},
		{
			name:      "in a List",
			in:        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata: {name: n1, labelz: {a: b}}\n",
			wantObj:   model.ObjectRef{Kind: "Node", Name: "n1"},
			wantField: "metadata.labelz",
			wantMsg:   `x.yaml: document 1, item 1: unknown field "metadata.labelz"`,
		},
		{
			name:      "a value with a newline is quoted",
			in:        "apiVersion: \"cilium.io/v3\\nerror: forged\"\nkind: CiliumNode\nmetadata: {name: node}\n",
			wantObj:   model.ObjectRef{Kind: "CiliumNode", Name: "node"},
			wantMsg:   `apiVersion "cilium.io/v3\nerror: forged" is not one`,
			wantField: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, diags := decode(t, tt.in)
			if len(diags) != 1 {
				t.Fatalf("diagnostics = %v, want one warning", diags)
			}
			d := diags[0]
			if d.Severity != model.Warning || d.Object != tt.wantObj || d.Field != tt.wantField {
				t.Errorf("diagnostic = %+v, want a warning about %v field %q", d, tt.wantObj, tt.wantField)
			}
			if !strings.Contains(d.Message, tt.wantMsg) {
				t.Errorf("message = %q, want it to hold %q", d.Message, tt.wantMsg)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

// TestDecodeLeavesUnwarned what a strict decoder accepts, and what the model holds only in part.
func TestDecodeLeavesUnwarned(t *testing.T) {
	for name, in := range map[string]string{
		"status of a Cilium kind, which the model leaves out": "apiVersion: cilium.io/v2\nkind: CiliumBGPClusterConfig\nmetadata: {name: c}\nspec: {bgpInstances: []}\nstatus: {conditions: []}\n",
		"a kind the model holds in part":                      "apiVersion: cilium.io/v2\nkind: CiliumNode\nmetadata: {name: node}\nspec: {health: {ipv4: 10.0.0.1}}\n",
		"a key set twice in a kind that is not read":          "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1, replicas: 2}\n",
		"the same key in two mappings":                        "apiVersion: v1\nkind: Service\nmetadata: {name: a, labels: {name: a}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, diags := decode(t, in); len(diags) != 0 {
				t.Errorf("diagnostics = %v, want none", diags)
			}
		})
	}
}

// TestDecodeLimits: input past a limit is refused, before it costs more than its size.
func TestDecodeLimits(t *testing.T) {
	// deepYAML nests depth mappings in a document's root mapping.
	deepYAML := func(depth int) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: " + strings.Repeat("{a: ", depth) + "x" + strings.Repeat("}", depth) + "\n"
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr string // "" when the input is read
	}{
		{name: "Lists as deep as the limit allows", in: nestedList(manifest.MaxDepth / 2)},
		{name: "Lists one deeper", in: nestedList(manifest.MaxDepth/2 + 1), wantErr: "nested.json: document 1: mappings and lists nest deeper than 100 levels"},
		{name: "Lists 4,000 deep", in: nestedList(4000), wantErr: "nest deeper than 100 levels"},
		{name: "YAML mappings as deep as allowed", in: []byte(deepYAML(manifest.MaxDepth - 1))},
		{name: "YAML mappings one deeper", in: []byte(deepYAML(manifest.MaxDepth)), wantErr: "nested.json: document 1: mappings and lists nest deeper than 100 levels"},
		{
			name:    "a document too large",
			in:      []byte(service("a") + "---\n" + service("b") + "metadata: {annotations: {a: " + strings.Repeat("x", manifest.MaxDocumentBytes) + "}}\n"),
			wantErr: "nested.json: document 2: 16777296 bytes, more than the 16777216 a document may hold",
		},
		{name: "a file too large", in: bytes.Repeat([]byte(" "), manifest.MaxFileBytes+1), wantErr: "nested.json: more than the 67108864 bytes a file may hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifest.Decode("nested.json", tt.in, &model.Snapshot{})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Decode: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
