package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/frr-renderer/frr-renderer/internal/kubetest"
)

// seedClusterIPs is where the Services written to etcd get their ClusterIPs: a /16 of the
// service range (10.96.0.0/12) that the API server's random allocation of the few Services it
// creates itself is unlikely to touch.
var seedClusterIPs = netip.MustParseAddr("10.110.0.0")

// seedServices puts n LoadBalancer Services like createServices' into the API server: the
// first created through it, the others cloned from how it stored that one (each with its own
// name, UID, ClusterIP and IPAddress object, so that the API server's repair loop finds
// nothing to fix) and written to its etcd directly. The API server's watch cache sees them as
// created. The sidecar cannot tell: it lists and watches what the API server serves.
//
// Why: each Service the API server creates lists every IPAddress object for its allocation
// metrics, so creating n costs O(n²): 20,000 took 12 minutes, 100,000 would take hours.
func seedServices(b *testing.B, e *env, admin kubernetes.Interface, n int) time.Duration {
	b.Helper()
	start := time.Now()
	createServices(b, admin, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	served := func() (int, error) {
		l, err := admin.CoreV1().Services("default").List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil || l.RemainingItemCount == nil {
			return 0, err
		}
		return int(*l.RemainingItemCount) + len(l.Items), nil
	}
	before, err := served()
	if err != nil {
		b.Fatal(err)
	}
	codec := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	decode := func(key string, into runtime.Object) {
		raw, err := e.api.EtcdGet(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := codec.Decode(raw, nil, into); err != nil {
			b.Fatalf("%s: %v", key, err)
		}
	}
	var svc corev1.Service
	decode("/registry/services/specs/default/scale-000000", &svc)
	var ipa networkingv1.IPAddress
	decode("/registry/ipaddresses/"+svc.Spec.ClusterIP, &ipa)
	if ipa.Spec.ParentRef == nil || ipa.Spec.ParentRef.Name != svc.Name {
		b.Fatalf("IPAddress %s is not the Service's: %+v", ipa.Name, ipa.Spec.ParentRef)
	}

	encode := func(o runtime.Object) []byte {
		var buf bytes.Buffer
		if err := codec.Encode(o, &buf); err != nil {
			b.Fatal(err)
		}
		return buf.Bytes()
	}
	var batch []kubetest.KV
	flush := func() {
		if err := e.api.EtcdPut(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	ip := seedClusterIPs
	for i := 1; i < n; i++ {
		ip = ip.Next()
		// Created now: the repair loop gives an IPAddress whose Service it has not seen yet a
		// minute from its creation before it deletes it as leaked.
		now := metav1.Now()
		s := svc.DeepCopy()
		s.Name, s.UID, s.CreationTimestamp = fmt.Sprintf("scale-%06d", i), uuid.NewUUID(), now
		s.Spec.ClusterIP, s.Spec.ClusterIPs = ip.String(), []string{ip.String()}
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: scaleIP(i, 0)}}
		a := ipa.DeepCopy()
		a.Name, a.UID, a.CreationTimestamp = ip.String(), uuid.NewUUID(), now
		a.Spec.ParentRef.Name = s.Name
		batch = append(batch,
			kubetest.KV{Key: "/registry/services/specs/default/" + s.Name, Value: encode(s)},
			kubetest.KV{Key: "/registry/ipaddresses/" + a.Name, Value: encode(a)})
		if len(batch) >= 1024 {
			flush()
		}
	}
	flush()
	// Served once the API server's watch cache has them all.
	for {
		got, err := served()
		if err == nil && got >= before+n-1 {
			break
		}
		select {
		case <-ctx.Done():
			b.Fatalf("the API server does not serve the %d Services written to etcd: %v", n, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return time.Since(start)
}
