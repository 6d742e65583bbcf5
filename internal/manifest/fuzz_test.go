package manifest_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
)

// fuzzSecret is the value of the Secret FuzzDecode prepends to its input: whatever the input
// does to that document, no error or diagnostic may quote it.
const (
	fuzzSecret       = "Zq9-fuzz-secret"
	fuzzSecretPrefix = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bgp-auth\nstringData:\n  password: " + fuzzSecret
)

func FuzzDecode(f *testing.F) {
	for _, file := range seedFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "cHc="}}]}`))
	f.Add([]byte("\n---\napiVersion: v1\nkind: ServiceList\nitems:\n- metadata: {name: a}\n  spec: {ports: [{port: 80}]}\n"))
	f.Add([]byte("x\n  ? [a]\n  : *b\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		s := &model.Snapshot{}
		if _, err := manifest.Decode("fuzz.yaml", data, s); err == nil {
			eachObject(s, func(kind string, o metav1.Object) {
				if o.GetName() == "" {
					t.Errorf("%s without a name kept", kind)
				}
				if sec, ok := o.(*corev1.Secret); ok && (sec.StringData != nil || sec.Namespace == "") {
					t.Errorf("Secret not normalized: %+v", sec.ObjectMeta)
				}
			})
		}

		if bytes.Contains(data, []byte(fuzzSecret)) {
			return
		}
		diags, err := manifest.Decode("fuzz.yaml", append([]byte(fuzzSecretPrefix), data...), &model.Snapshot{})
		if err != nil && strings.Contains(err.Error(), fuzzSecret) {
			t.Errorf("error quotes the secret: %v", err)
		}
		for _, d := range diags {
			if strings.Contains(d.String(), fuzzSecret) {
				t.Errorf("diagnostic quotes the secret: %v", d)
			}
		}
	})
}

func BenchmarkDecode10kServices(b *testing.B) {
	var buf bytes.Buffer
	for i := range 10_000 {
		fmt.Fprintf(&buf, `---
apiVersion: v1
kind: Service
metadata:
  name: svc-%d
  namespace: ns-%d
  labels:
    app: http-test
spec:
  type: LoadBalancer
  selector:
    app: http-test
  ports:
  - protocol: TCP
    port: 80
    targetPort: 8080
  clusterIP: 10.96.%d.%d
  externalTrafficPolicy: Cluster
status:
  loadBalancer:
    ingress:
    - ip: 172.20.%d.%d
`, i, i%50, i/256, i%256, i/256, i%256)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s := &model.Snapshot{}
		if _, err := manifest.Decode("bench.yaml", data, s); err != nil {
			b.Fatal(err)
		}
		if len(s.Services) != 10_000 {
			b.Fatalf("%d services", len(s.Services))
		}
	}
}

// nestedList is a JSON List holding a List, depth levels deep: 44 bytes a level, the shape
// that made decoding quadratic (issue 13).
func nestedList(depth int) []byte {
	return []byte(strings.Repeat(`{"apiVersion":"v1","kind":"List","items":[`, depth) + strings.Repeat("]}", depth))
}

// BenchmarkDecodeNestedList decodes a List nested 4,000 deep (176 KB), which the nesting limit
// refuses, and one nested as deep as the limit allows, which is read: both cost what their
// size does.
func BenchmarkDecodeNestedList(b *testing.B) {
	for _, depth := range []int{4000, manifest.MaxDepth / 2} {
		data := nestedList(depth)
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = manifest.Decode("nested.json", data, &model.Snapshot{})
			}
		})
	}
}
