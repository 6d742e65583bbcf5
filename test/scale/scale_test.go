// Package scale measures how translation, rendering and loading into real FRR grow with the
// number of advertised Services. The snapshot is built in Go (no YAML decoding), so that the
// benchmarks time translate.Translate and frrconfig.Render alone.
//
//	go test -run '^$' -bench BenchmarkTranslateRender -benchmem -benchtime 5x ./test/scale/
//	go test -run '^$' -bench BenchmarkFRRLoad -benchmem -benchtime 3x ./test/scale/   (root, FRR)
package scale

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/incremental"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/nodeconfig"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

const (
	nodeName  = "node-1"
	podCIDR   = "10.244.1.0/24"
	localASN  = 65001
	peerASN   = 65000
	benchPeer = 64
	// localEvery: every tenth Service has externalTrafficPolicy Local and a ready endpoint on
	// node-1, so that the locality path of the translator runs.
	localEvery = 10
)

// serviceAddr is the LoadBalancer IP of Service i: 172.16.0.0/12 counted up from 172.16.0.1.
func serviceAddr(i int) netip.Addr {
	n := uint32(172)<<24 | uint32(16)<<16 + uint32(i) + 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// peerAddr is the address of peer i: 10.1.x.y with y in 1..250. These addresses exist
// nowhere: the sessions stay idle, which does not matter to configuration cost.
func peerAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(i%250 + 1)})
}

// scaleSnapshot is one node peering with `peers` peers (one PeerConfig) and advertising the
// LoadBalancer IPs of `services` Services (with a community) and its pod CIDR.
func scaleSnapshot(services, peers int) *model.Snapshot {
	ptr := func(s string) *string { return &s }
	asn := func(v int64) *int64 { return &v }
	ready := true

	snap := &model.Snapshot{
		CiliumNodes: []*model.CiliumNode{{
			ObjectMeta: metav1.ObjectMeta{Name: nodeName, Labels: map[string]string{
				"kubernetes.io/hostname": nodeName,
				"bgp":                    "enabled",
			}},
			Spec: model.CiliumNodeSpec{
				Addresses: []model.CiliumNodeAddress{{Type: string(corev1.NodeInternalIP), IP: "10.0.0.1"}},
				IPAM:      model.CiliumNodeIPAMSpec{PodCIDRs: []string{podCIDR}},
			},
		}},
		PeerConfigs: []*model.CiliumBGPPeerConfig{{
			ObjectMeta: metav1.ObjectMeta{Name: "tor"},
			Spec: model.CiliumBGPPeerConfigSpec{
				Families: []model.CiliumBGPFamilyWithAdverts{{
					AFI:            "ipv4",
					SAFI:           "unicast",
					Advertisements: &metav1.LabelSelector{MatchLabels: map[string]string{"advertise": "bgp"}},
				}},
			},
		}},
		Advertisements: []*model.CiliumBGPAdvertisement{
			{
				ObjectMeta: metav1.ObjectMeta{Name: "services", Labels: map[string]string{"advertise": "bgp"}},
				Spec: model.CiliumBGPAdvertisementSpec{Advertisements: []model.BGPAdvertisement{{
					AdvertisementType: model.AdvertService,
					Service:           &model.BGPServiceOptions{Addresses: []string{model.ServiceLoadBalancerIP}},
					Selector:          &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
					Attributes: &model.BGPAttributes{
						Communities: &model.BGPCommunities{Standard: []string{"65001:100"}},
					},
				}}},
			},
			{
				ObjectMeta: metav1.ObjectMeta{Name: "pod-cidr", Labels: map[string]string{"advertise": "bgp"}},
				Spec: model.CiliumBGPAdvertisementSpec{Advertisements: []model.BGPAdvertisement{{
					AdvertisementType: model.AdvertPodCIDR,
				}}},
			},
		},
	}

	inst := model.CiliumBGPInstance{Name: "instance-65001", LocalASN: asn(localASN)}
	for i := range peers {
		inst.Peers = append(inst.Peers, model.CiliumBGPPeer{
			Name:          fmt.Sprintf("tor-%d", i),
			PeerAddress:   ptr(peerAddr(i).String()),
			PeerASN:       asn(peerASN),
			PeerConfigRef: &model.PeerConfigReference{Name: "tor"},
		})
	}
	snap.ClusterConfigs = []*model.CiliumBGPClusterConfig{{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster"},
		Spec: model.CiliumBGPClusterConfigSpec{
			NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"bgp": "enabled"}},
			BGPInstances: []model.CiliumBGPInstance{inst},
		},
	}}

	for i := range services {
		name := fmt.Sprintf("web-%05d", i)
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"app": "web"}},
			Spec: corev1.ServiceSpec{
				Type:                  corev1.ServiceTypeLoadBalancer,
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
			},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{
				Ingress: []corev1.LoadBalancerIngress{{IP: serviceAddr(i).String()}},
			}},
		}
		if i%localEvery == 0 {
			svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			snap.EndpointSlices = append(snap.EndpointSlices, &discoveryv1.EndpointSlice{
				ObjectMeta: metav1.ObjectMeta{
					Namespace: "default",
					Name:      name + "-abcde",
					Labels:    map[string]string{discoveryv1.LabelServiceName: name},
				},
				AddressType: discoveryv1.AddressTypeIPv4,
				Endpoints: []discoveryv1.Endpoint{{
					Addresses:  []string{fmt.Sprintf("10.244.1.%d", i%250+2)},
					Conditions: discoveryv1.EndpointConditions{Ready: &ready},
					NodeName:   ptr(nodeName),
				}},
			})
		}
		snap.Services = append(snap.Services, svc)
	}
	return snap
}

// render translates and renders the snapshot for node-1.
func render(tb testing.TB, snap *model.Snapshot, d frrconfig.Dialect) []byte {
	tb.Helper()
	r, err := nodeconfig.Render(snap, model.HostFacts{}, translate.Options{Node: nodeName}, d)
	if err != nil {
		tb.Fatal(err)
	}
	if len(r.Diagnostics) > 0 || len(r.FailedInstances) > 0 {
		tb.Fatalf("rendering is not clean: diagnostics %v, failed instances %v", r.Diagnostics, r.FailedInstances)
	}
	return r.Text
}

// TestSnapshot checks that the scale input means what the benchmarks assume: every Service
// advertised (the Local ones through their node-local endpoint), plus the pod CIDR.
func TestSnapshot(t *testing.T) {
	const services, peers = 1000, 8
	text := render(t, scaleSnapshot(services, peers), frrconfig.FRR10)
	if got := countNetworks(text); got != services+1 {
		t.Errorf("%d network statements, want %d", got, services+1)
	}
	for _, want := range []string{
		"network " + podCIDR + " route-map ",
		"network " + serviceAddr(0).String() + "/32 route-map ", // Local, endpoint on node-1
		"network " + serviceAddr(1).String() + "/32 route-map ", // Cluster
		" set community 65001:100\n",
		"neighbor " + peerAddr(peers-1).String() + " remote-as 65000\n",
	} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("rendering lacks %q", want)
		}
	}

	// Without its local endpoint, a Local Service is withdrawn: the locality path is live.
	snap := scaleSnapshot(services, peers)
	snap.EndpointSlices = snap.EndpointSlices[1:]
	if got := countNetworks(render(t, snap, frrconfig.FRR10)); got != services {
		t.Errorf("without Service 0's endpoint: %d network statements, want %d", got, services)
	}
}

func countNetworks(text []byte) int {
	n := 0
	for line := range bytes.Lines(text) {
		if bytes.HasPrefix(bytes.TrimLeft(line, " "), []byte("network ")) {
			n++
		}
	}
	return n
}

// BenchmarkTranslateRender times Translate + Render (FRR 10 dialect) of the whole node.
// ns/prefix is ns/op divided by the advertised prefixes: flat when the cost is linear.
func BenchmarkTranslateRender(b *testing.B) {
	for _, services := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("services=%d/peers=%d", services, benchPeer), func(b *testing.B) {
			snap := scaleSnapshot(services, benchPeer)
			prefixes := services + 1
			var size int
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				res, err := translate.Translate(snap, model.HostFacts{}, translate.Options{Node: nodeName})
				if err != nil {
					b.Fatal(err)
				}
				text, _, err := frrconfig.Render(res.Config, frrconfig.FRR10)
				if err != nil {
					b.Fatal(err)
				}
				size = len(text)
			}
			b.StopTimer()
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(perOp/float64(prefixes), "ns/prefix")
			b.ReportMetric(float64(size), "config-bytes")
		})
	}
}

// frrVersions pairs each FRR the harness runs with the dialect written for it.
var frrVersions = []struct {
	version frrtest.Version
	dialect frrconfig.Dialect
}{
	{frrtest.FRR8, frrconfig.FRR8},
	{frrtest.FRR10, frrconfig.FRR10},
}

// BenchmarkFRRLoad times Router.Load (`vtysh -f` of the whole file) into a fresh FRR per
// iteration. Starting the router and checking bgpd's table afterwards are not timed; the time
// from Load's return until bgpd's table holds every prefix is reported as settle-s/op.
func BenchmarkFRRLoad(b *testing.B) {
	for _, v := range frrVersions {
		for _, services := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("frr=%s/services=%d", v.version, services), func(b *testing.B) {
				frrtest.Require(b, v.version)
				text := string(render(b, scaleSnapshot(services, benchPeer), v.dialect))
				want := services + 1
				var settle time.Duration
				var cpu float64
				var rss map[string]float64
				b.ResetTimer()
				for i := range b.N {
					b.StopTimer()
					router := frrtest.Start(b, v.version, fmt.Sprintf("scale%d", i))
					before := daemonStats(b, router)
					b.StartTimer()
					err := router.Load(text)
					b.StopTimer()
					loaded := time.Now()
					if err != nil {
						b.Fatal(err)
					}
					frrtest.WaitFor(b, 2*time.Minute, func() error {
						routes, best, err := localRoutes(router)
						if err != nil {
							return err
						}
						if routes != want || best != want {
							return fmt.Errorf("bgpd has %d IPv4 unicast routes, %d with a best path; want %d", routes, best, want)
						}
						return nil
					})
					settle += time.Since(loaded)
					after := daemonStats(b, router)
					for name, st := range after {
						cpu += st.cpu - before[name].cpu
					}
					rss = map[string]float64{}
					for name, st := range after {
						rss[name] = st.rssMB
					}
					for _, p := range []string{podCIDR, serviceAddr(0).String() + "/32", serviceAddr(services-1).String() + "/32"} {
						if err := checkTagged(router, p); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
				}
				b.StopTimer()
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/load")
				b.ReportMetric(settle.Seconds()/float64(b.N), "settle-s/op")
				// CPU the FRR daemons spent from before the load until the table was complete
				// (it includes the verification queries), and their resident memory after it.
				b.ReportMetric(cpu/float64(b.N), "frr-cpu-s/op")
				for name, mb := range rss {
					b.ReportMetric(mb, name+"-rss-MB")
				}
			})
		}
	}
}

type procStats struct {
	cpu   float64 // user + system seconds
	rssMB float64
}

// daemonStats reads the CPU time and resident memory of the FRR daemons in the router's
// namespace from /proc, by process name (zebra, bgpd, mgmtd).
func daemonStats(tb testing.TB, r *frrtest.Router) map[string]procStats {
	tb.Helper()
	out, err := exec.Command("ip", "netns", "pids", r.Netns).Output()
	if err != nil {
		tb.Fatalf("ip netns pids %s: %v", r.Netns, err)
	}
	stats := map[string]procStats{}
	for _, pid := range strings.Fields(string(out)) {
		stat, err1 := os.ReadFile("/proc/" + pid + "/stat")
		status, err2 := os.ReadFile("/proc/" + pid + "/status")
		if err1 != nil || err2 != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: utime and stime are fields 14 and 15, in clock ticks.
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || end < open {
			continue
		}
		name := string(stat[open+1 : end])
		f := strings.Fields(string(stat[end+1:]))
		if len(f) < 13 {
			continue
		}
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		var rssKB float64
		for line := range strings.Lines(string(status)) {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				rssKB, _ = strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			}
		}
		const clockTicks = 100 // USER_HZ on Linux
		st := stats[name]
		st.cpu += (utime + stime) / clockTicks
		st.rssMB += rssKB / 1024
		stats[name] = st
	}
	return stats
}

// localRoutes counts the prefixes in bgpd's IPv4 unicast table, and among them those with a
// best path. The `network` statements are in the local table whether or not any peer is up.
// (`show bgp ipv4 unicast summary json` has ribCount, but that counts the table's nodes,
// intermediate ones included: 7 for 4 prefixes.) FRR 10.3 lists a freshly configured prefix
// as "unsorted", without a best path, until its processing queue has run.
func localRoutes(r *frrtest.Router) (routes, best int, err error) {
	var table struct {
		Routes map[string][]struct {
			Bestpath bool `json:"bestpath"`
		} `json:"routes"`
	}
	if err := r.ShowJSON("show bgp ipv4 unicast json", &table); err != nil {
		return 0, 0, err
	}
	for _, paths := range table.Routes {
		for _, p := range paths {
			if p.Bestpath {
				best++
				break
			}
		}
	}
	return len(table.Routes), best, nil
}

// checkTagged checks that bgpd originated the prefix through its route-map: the marker tag is
// what the outbound route-maps match.
func checkTagged(r *frrtest.Router, prefix string) error {
	var route struct {
		Paths []struct {
			Tag uint32 `json:"tag"`
		} `json:"paths"`
	}
	if err := r.ShowJSON("show bgp ipv4 unicast "+prefix+" json", &route); err != nil {
		return err
	}
	if len(route.Paths) != 1 || route.Paths[0].Tag == 0 {
		return fmt.Errorf("%s: want one path with a route tag, got %+v", prefix, route.Paths)
	}
	return nil
}

// TestScaleLinear checks that the configuration grows with the Services and with nothing
// else: no route-map entry and no peer line per Service.
func TestScaleLinear(t *testing.T) {
	small := render(t, scaleSnapshot(1000, benchPeer), frrconfig.FRR10)
	large := render(t, scaleSnapshot(10000, benchPeer), frrconfig.FRR10)
	base := render(t, scaleSnapshot(0, benchPeer), frrconfig.FRR10)

	t.Logf("bytes: 0 services %d, 1,000 services %d, 10,000 services %d",
		len(base), len(small), len(large))
	// The part that depends on the Services must grow ten-fold, give or take the longer
	// addresses. The whole file's ratio says nothing: the fixed part (peers, route-maps) grows
	// with every session setting the rendering gains.
	if r := float64(len(large)-len(base)) / float64(len(small)-len(base)); r < 9.5 || r > 10.5 {
		t.Errorf("service-dependent bytes grow %.3f-fold from 1k to 10k Services, want ~10", r)
	}

	if s, l := countRouteMaps(small), countRouteMaps(large); s != l {
		t.Errorf("route-map lines: %d at 1k Services, %d at 10k: route-maps must not grow with Services", s, l)
	} else {
		t.Logf("route-map lines: %d at both sizes", s)
	}

	peers := map[string]bool{}
	for i := range benchPeer {
		peers[peerAddr(i).String()] = true
	}
	s, l := countPeerLines(small, peers), countPeerLines(large, peers)
	if s != l {
		t.Errorf("lines naming a peer address: %d at 1k Services, %d at 10k", s, l)
	}
	if s == 0 || s%benchPeer != 0 {
		t.Errorf("lines naming a peer address: %d, want a positive multiple of %d peers", s, benchPeer)
	}
	t.Logf("lines naming a peer address: %d at both sizes", s)
}

func countRouteMaps(text []byte) int {
	n := 0
	for line := range bytes.Lines(text) {
		if bytes.HasPrefix(line, []byte("route-map ")) {
			n++
		}
	}
	return n
}

// countPeerLines counts lines with a word that is one of the peer addresses.
func countPeerLines(text []byte, peers map[string]bool) int {
	n := 0
	for line := range strings.Lines(string(text)) {
		for _, w := range strings.Fields(line) {
			if peers[w] {
				n++
				break
			}
		}
	}
	return n
}

// BenchmarkChange times one Service's change (its LoadBalancer IP given, then taken back) on a
// node with N Services and 64 peers, translated and rendered: whole (translate.Translate and
// frrconfig.Render, as before issue 11) and incremental (the Translator and the Renderer the run
// loop keeps: the Service's shard translated again, the unchanged network lines copied).
// ns/service is ns/op per Service of the node: flat when the cost is linear in N, falling when
// it is not.
//
//	go test -run '^$' -bench BenchmarkChange -benchtime 200x ./test/scale/
func BenchmarkChange(b *testing.B) {
	for _, services := range []int{1000, 10000, 100000} {
		snap := scaleSnapshot(services, benchPeer)
		for _, mode := range []string{"whole", "incremental"} {
			b.Run(fmt.Sprintf("services=%d/%s", services, mode), func(b *testing.B) {
				s := *snap
				s.Services = slices.Clone(snap.Services)
				const probe = 1 // a Cluster Service (0 is Local)
				orig := s.Services[probe]
				changed := orig.DeepCopy()
				changed.Status.LoadBalancer.Ingress = append(changed.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: "192.0.2.1"})
				tr := incremental.New(translate.Options{Node: nodeName})
				r := frrconfig.NewRenderer(frrconfig.FRR10)
				if _, _, err := tr.Translate(&s, model.HostFacts{}, model.AllChanged); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					svc := orig
					if i%2 == 0 {
						svc = changed
					}
					s.Services[probe] = svc
					var res translate.Result
					var err error
					if mode == "whole" {
						res, err = translate.Translate(&s, model.HostFacts{}, translate.Options{Node: nodeName})
					} else {
						var st incremental.Stats
						res, st, err = tr.Translate(&s, model.HostFacts{}, model.Changes{Services: map[types.NamespacedName]*corev1.Service{{Namespace: svc.Namespace, Name: svc.Name}: svc}})
						if err == nil && st.Whole {
							b.Fatalf("translated whole: %s", st.Why)
						}
					}
					if err != nil {
						b.Fatal(err)
					}
					render := func(cfg model.NodeConfig) ([]byte, []model.Diagnostic, error) {
						return frrconfig.Render(cfg, frrconfig.FRR10)
					}
					if mode == "incremental" {
						render = r.Render
					}
					if _, _, err := render(res.Config); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(services), "ns/service")
			})
		}
	}
}
