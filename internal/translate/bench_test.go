package translate

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// benchSnapshot has n LoadBalancer Services with distinct IPv4 addresses in 10/8, one
// advertisement selecting all of them with a community, one PeerConfig and 64 peers in one
// instance.
func benchSnapshot(n int) *model.Snapshot {
	snap := baseSnapshot()
	var peers []model.CiliumBGPPeer
	for i := 0; i < 64; i++ {
		peers = append(peers, bgpPeer(fmt.Sprintf("peer-%02d", i), fmt.Sprintf("192.168.0.%d", i+1), 65000, "pc"))
	}
	snap.ClusterConfigs[0].Spec.BGPInstances[0].Peers = peers
	snap.Advertisements = []*model.CiliumBGPAdvertisement{
		advertisement("all-lb", bgpLabels, withCommunities(serviceRule(&metav1.LabelSelector{}, model.ServiceLoadBalancerIP), "65000:100")),
	}
	for i := 0; i < n; i++ {
		ip := fmt.Sprintf("10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff)
		snap.Services = append(snap.Services, lbService(fmt.Sprintf("ns-%d", i%50), fmt.Sprintf("svc-%d", i), map[string]string{"app": "bench"}, ip))
	}
	return snap
}

func BenchmarkTranslate10kServices(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			snap := benchSnapshot(n)
			res, err := Translate(snap, model.HostFacts{}, Options{Node: testNode})
			if err != nil || len(res.Config.Instances) != 1 || len(res.Config.Instances[0].Prefixes) != n || len(res.Config.Instances[0].Peers) != 64 {
				b.Fatalf("unexpected result: err %v, %d diagnostics", err, len(res.Diagnostics))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := Translate(snap, model.HostFacts{}, Options{Node: testNode}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/service")
		})
	}
}
