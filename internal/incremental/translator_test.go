package incremental

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"reflect"
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
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

const node = "n1"

// TestRandomEdits makes random edits to a node's Services and EndpointSlices (and now and then
// to another kind or the host's facts), as a source reports them, and after every step checks
// that the Translator's result is translate.Translate's on the same snapshot, rendered byte for
// byte the same, and that an edit of one Service (or of one of its EndpointSlices) translated
// no more than its group of shards again. The shards are small so that edits meet several of
// them; addresses come from a small pool so that Services share some, and an advertisement
// aggregates now and then.
//
// RANDOM_SEED replays a run; RANDOM_STEPS makes it longer.
func TestRandomEdits(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("RANDOM_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	steps := 250
	if s := os.Getenv("RANDOM_STEPS"); s != "" {
		steps, _ = strconv.Atoi(s)
	}
	t.Logf("RANDOM_SEED=%d", seed)
	for _, tc := range []struct {
		name string
		pool int // addresses Services take theirs from
	}{
		{"distinct-addresses", 1 << 20},
		{"shared-addresses", 1000},
	} {
		for _, shardSize := range []int{1, 16, ShardSize} {
			t.Run(fmt.Sprintf("%s/shard=%d", tc.name, shardSize), func(t *testing.T) {
				randomEdits(t, seed, steps, tc.pool, shardSize)
			})
		}
	}
}

func randomEdits(t *testing.T, seed uint64, steps, pool, shardSize int) {
	w := newWorld(rand.New(rand.NewPCG(seed, uint64(shardSize))), pool, 300)
	tr := New(translate.Options{Node: node})
	tr.shardSize = shardSize
	// The pipeline renders each result with a Renderer that copies unchanged network lines
	// from its last rendering: the whole incremental path, compared with Render from scratch.
	r := frrconfig.NewRenderer(frrconfig.FRR10)
	counts := map[string]int{}
	alone := 0 // one-Service steps not translated whole whose Service's shard was a group alone
	for step := range steps {
		var ch model.Changes
		if step == 0 {
			ch = model.AllChanged
		} else {
			ch = w.edit()
		}
		snap := w.snapshot()
		got, st, err := tr.Translate(snap, w.host, ch)
		want, werr := translate.Translate(snap, w.host, translate.Options{Node: node})
		if (err != nil) != (werr != nil) {
			t.Fatalf("step %d: error %v, from scratch %v", step, err, werr)
		}
		if err != nil {
			continue
		}
		if svc, ok := oneService(ch); ok && !st.Whole {
			// A group is the shards whose Services have shared a prefix since the last whole
			// translation: one Service's edit translates its group again, no more.
			group := len(tr.members[tr.group(tr.shardOf(svc))])
			if st.Shards > group {
				t.Errorf("step %d, after %s: %d shards translated, the Service's group has %d", step, w.last, st.Shards, group)
			}
			if group == 1 {
				alone++
			}
		}
		switch {
		case st.Whole:
			counts["whole: "+st.Why]++
		case st.Shards <= 1:
			counts[fmt.Sprintf("shards: %d", st.Shards)]++
		case st.Shards <= 4:
			counts["shards: 2-4"]++
		default:
			counts["shards: more"]++
		}
		if d := compare(r, got, want); d != "" {
			t.Fatalf("step %d (%+v), after %s: %s", step, st, w.last, d)
		}
	}
	t.Logf("%d steps: %v", steps, counts)
	if pool > 100000 && shardSize < 100 && alone == 0 {
		t.Errorf("with distinct addresses, no one-Service step had its shard alone: %v", counts)
	}
}

// oneService is the Service a change is about when it changes that Service alone, or one
// EndpointSlice of it (a slice's name is its Service's, then -a or -b).
func oneService(ch model.Changes) (types.NamespacedName, bool) {
	if ch.Other || len(ch.Services)+len(ch.EndpointSlices) != 1 {
		return types.NamespacedName{}, false
	}
	for k := range ch.Services {
		return k, true
	}
	for k, es := range ch.EndpointSlices {
		if es != nil {
			return sliceService(es)
		}
		name, ok := strings.CutSuffix(k.Name, "-a")
		if !ok {
			name, ok = strings.CutSuffix(k.Name, "-b")
		}
		return types.NamespacedName{Namespace: k.Namespace, Name: name}, ok
	}
	return types.NamespacedName{}, false
}

// compare says how two results differ: configuration, failed instances, diagnostics (in any
// order), rendering (got's by r, want's from scratch).
func compare(r *frrconfig.Renderer, got, want translate.Result) string {
	if !reflect.DeepEqual(got.Config, want.Config) {
		return "configuration differs: " + configDiff(got.Config, want.Config)
	}
	if !slices.Equal(got.FailedInstances, want.FailedInstances) {
		return fmt.Sprintf("failed instances %v, want %v", got.FailedInstances, want.FailedInstances)
	}
	set := func(ds []model.Diagnostic) map[model.Diagnostic]int {
		m := map[model.Diagnostic]int{}
		for _, d := range ds {
			m[d]++
		}
		return m
	}
	if g, w := set(got.Diagnostics), set(want.Diagnostics); !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("diagnostics differ:\n got %v\nwant %v", got.Diagnostics, want.Diagnostics)
	}
	gt, _, gerr := r.Render(got.Config)
	wt, _, werr := frrconfig.Render(want.Config, frrconfig.FRR10)
	if string(gt) != string(wt) || (gerr == nil) != (werr == nil) {
		return fmt.Sprintf("renderings differ (%v, %v; -from scratch +incremental):\n%s", gerr, werr, frrtest.LineDiff(string(wt), string(gt)))
	}
	return ""
}

// configDiff names the first difference of two configurations.
func configDiff(got, want model.NodeConfig) string {
	if len(got.Instances) != len(want.Instances) {
		return fmt.Sprintf("%d instances, want %d", len(got.Instances), len(want.Instances))
	}
	for i := range got.Instances {
		g, w := got.Instances[i], want.Instances[i]
		for j := range max(len(g.Prefixes), len(w.Prefixes)) {
			switch {
			case j >= len(g.Prefixes):
				return fmt.Sprintf("instance %s: prefix %d missing: want %+v", w.Name, j, w.Prefixes[j])
			case j >= len(w.Prefixes):
				return fmt.Sprintf("instance %s: prefix %d extra: %+v", w.Name, j, g.Prefixes[j])
			case !reflect.DeepEqual(g.Prefixes[j], w.Prefixes[j]):
				a, b := g.Prefixes[j], w.Prefixes[j]
				if a.Prefix == b.Prefix && a.Policy == b.Policy {
					return fmt.Sprintf("instance %s: prefix %s: origins\n got %v\nwant %v", w.Name, a.Prefix, originDiff(a.Origins, b.Origins), originDiff(b.Origins, a.Origins))
				}
				return fmt.Sprintf("instance %s: prefix %d:\n got %+v\nwant %+v", w.Name, j, a, b)
			}
		}
		if !reflect.DeepEqual(g.Policies, w.Policies) {
			return fmt.Sprintf("instance %s: policies\n got %+v\nwant %+v", w.Name, g.Policies, w.Policies)
		}
		g.Prefixes, w.Prefixes, g.Policies, w.Policies = nil, nil, nil, nil
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("instance %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	return fmt.Sprintf("\n got %+v\nwant %+v", got, want)
}

// originDiff lists the origins of a that b lacks (as many times as they are lacking).
func originDiff(a, b []model.Origin) []model.Origin {
	left := slices.Clone(b)
	var out []model.Origin
	for _, o := range a {
		if i := slices.Index(left, o); i >= 0 {
			left = slices.Delete(left, i, i+1)
		} else {
			out = append(out, o)
		}
	}
	return out
}

// world is a node's cluster, edited at random.
type world struct {
	r         *rand.Rand
	base      model.Snapshot // everything but Services and EndpointSlices
	services  map[types.NamespacedName]*corev1.Service
	slices    map[types.NamespacedName]*discoveryv1.EndpointSlice
	host      model.HostFacts
	pool      int  // addresses
	aggregate bool // an advertisement aggregates
	next      int
	last      string // the last edit, for failures
}

func ptr[T any](v T) *T { return &v }

func newWorld(r *rand.Rand, pool, services int) *world {
	w := &world{r: r, pool: pool, services: map[types.NamespacedName]*corev1.Service{}, slices: map[types.NamespacedName]*discoveryv1.EndpointSlice{}}
	lbls := map[string]string{"bgp": "on"}
	w.base.CiliumNodes = []*model.CiliumNode{{
		ObjectMeta: metav1.ObjectMeta{Name: node, Labels: lbls},
		Spec: model.CiliumNodeSpec{
			Addresses: []model.CiliumNodeAddress{{Type: string(corev1.NodeInternalIP), IP: "192.168.10.11"}},
			IPAM:      model.CiliumNodeIPAMSpec{PodCIDRs: []string{"10.244.1.0/24", "fd00:244:1::/64"}},
		},
	}}
	asn := func(v int64) *int64 { return &v }
	w.base.ClusterConfigs = []*model.CiliumBGPClusterConfig{{
		ObjectMeta: metav1.ObjectMeta{Name: "cc"},
		Spec: model.CiliumBGPClusterConfigSpec{
			NodeSelector: &metav1.LabelSelector{MatchLabels: lbls},
			BGPInstances: []model.CiliumBGPInstance{
				{Name: "main", LocalASN: asn(65001), Peers: []model.CiliumBGPPeer{
					{Name: "tor-a", PeerAddress: ptr("192.168.10.1"), PeerASN: asn(65000), PeerConfigRef: &model.PeerConfigReference{Name: "pc-a"}},
					{Name: "tor-b", PeerAddress: ptr("192.168.10.2"), PeerASN: asn(65000), PeerConfigRef: &model.PeerConfigReference{Name: "pc-b"}},
				}},
				{Name: "second", LocalASN: asn(65002), Peers: []model.CiliumBGPPeer{
					{Name: "tor-c", PeerAddress: ptr("192.168.20.1"), PeerASN: asn(65000), PeerConfigRef: &model.PeerConfigReference{Name: "pc-b"}},
				}},
			},
		},
	}}
	sel := func(kv ...string) *metav1.LabelSelector {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return &metav1.LabelSelector{MatchLabels: m}
	}
	fams := func(s *metav1.LabelSelector, f ...string) []model.CiliumBGPFamilyWithAdverts {
		var out []model.CiliumBGPFamilyWithAdverts
		for _, afi := range f {
			out = append(out, model.CiliumBGPFamilyWithAdverts{AFI: afi, SAFI: "unicast", Advertisements: s})
		}
		return out
	}
	w.base.PeerConfigs = []*model.CiliumBGPPeerConfig{
		{ObjectMeta: metav1.ObjectMeta{Name: "pc-a"}, Spec: model.CiliumBGPPeerConfigSpec{Families: fams(sel("to", "a"), "ipv4", "ipv6")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "pc-b"}, Spec: model.CiliumBGPPeerConfigSpec{Families: fams(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "to", Operator: metav1.LabelSelectorOpExists}}}, "ipv4")}},
	}
	w.setAdverts(false)
	for range services {
		w.addService()
	}
	w.host = model.HostFacts{Interfaces: []model.Interface{{Name: "lo", AdminUp: true, OperState: "unknown", Addresses: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}}}}
	return w
}

// setAdverts (re)makes the advertisements; aggregate makes one aggregate LoadBalancer IPs.
func (w *world) setAdverts(aggregate bool) {
	w.aggregate = aggregate
	comm := func(c ...string) *model.BGPAttributes {
		return &model.BGPAttributes{Communities: &model.BGPCommunities{Standard: c}}
	}
	svcRule := func(sel *metav1.LabelSelector, attrs *model.BGPAttributes, addrs ...string) model.BGPAdvertisement {
		return model.BGPAdvertisement{AdvertisementType: model.AdvertService, Selector: sel, Service: &model.BGPServiceOptions{Addresses: addrs}, Attributes: attrs}
	}
	web := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}}}}
	front := &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}
	all := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "never", Operator: metav1.LabelSelectorOpDoesNotExist}}}
	third := svcRule(all, comm("65000:300"), model.ServiceLoadBalancerIP)
	if aggregate {
		third.Service.AggregationLengthIPv4 = ptr(int16(24))
	}
	w.base.Advertisements = []*model.CiliumBGPAdvertisement{
		{ObjectMeta: metav1.ObjectMeta{Name: "adv-1", Labels: map[string]string{"to": "a"}}, Spec: model.CiliumBGPAdvertisementSpec{Advertisements: []model.BGPAdvertisement{
			svcRule(web, comm("65000:100"), model.ServiceLoadBalancerIP),
			{AdvertisementType: model.AdvertPodCIDR},
		}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "adv-2", Labels: map[string]string{"to": "a"}}, Spec: model.CiliumBGPAdvertisementSpec{Advertisements: []model.BGPAdvertisement{
			svcRule(front, &model.BGPAttributes{LocalPreference: ptr(int64(200))}, model.ServiceLoadBalancerIP, model.ServiceExternalIP),
		}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "adv-3", Labels: map[string]string{"to": "b"}}, Spec: model.CiliumBGPAdvertisementSpec{Advertisements: []model.BGPAdvertisement{third}}},
	}
}

func (w *world) snapshot() *model.Snapshot {
	s := w.base
	s.Services = nil
	for _, svc := range w.services {
		s.Services = append(s.Services, svc)
	}
	s.EndpointSlices = nil
	for _, es := range w.slices {
		s.EndpointSlices = append(s.EndpointSlices, es)
	}
	return &s
}

func (w *world) pick(of []string) string { return of[w.r.IntN(len(of))] }

// ip is an address of the pool, IPv4 or IPv6.
func (w *world) ip() string {
	n := w.r.IntN(w.pool)
	if w.r.IntN(8) == 0 {
		return fmt.Sprintf("2001:db8::%x:%x", n>>16, n&0xffff)
	}
	return netip.AddrFrom4([4]byte{172, byte(16 + n>>16), byte(n >> 8), byte(n)}).String()
}

func (w *world) service(key types.NamespacedName) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: map[string]string{
			"app": w.pick([]string{"web", "api", "db"}), "tier": w.pick([]string{"front", "back"})}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster},
	}
	if w.r.IntN(5) == 0 {
		svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}
	if w.r.IntN(10) == 0 {
		svc.Spec.Type = corev1.ServiceTypeClusterIP
	}
	if w.r.IntN(15) == 0 {
		svc.Spec.LoadBalancerClass = ptr("other.example/lb")
	}
	if w.r.IntN(6) == 0 {
		svc.Spec.ExternalIPs = []string{w.ip()}
	}
	for range 1 + w.r.IntN(2) {
		in := corev1.LoadBalancerIngress{IP: w.ip()}
		if w.r.IntN(20) == 0 {
			in.IPMode = ptr(corev1.LoadBalancerIPModeProxy)
		}
		svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, in)
	}
	// Cilium's rules on Services (translate's servicerules.go): some drop the Service, one
	// warns about it.
	switch w.r.IntN(40) {
	case 0:
		svc.Annotations = map[string]string{"service.cilium.io/node-selector": "bgp in (on"} // not a selector: a warning
	case 1:
		svc.Annotations = map[string]string{"service.cilium.io/node-selector": "bgp=off"}
	case 2:
		svc.Labels["service.kubernetes.io/service-proxy-name"] = "other"
	case 3:
		svc.Spec.ClusterIP = corev1.ClusterIPNone
	case 4:
		svc.Annotations = map[string]string{"service.cilium.io/type": "ClusterIP"}
	}
	return svc
}

func (w *world) addService() (types.NamespacedName, *corev1.Service) {
	key := types.NamespacedName{Namespace: fmt.Sprintf("ns-%d", w.r.IntN(4)), Name: fmt.Sprintf("svc-%d", w.next)}
	w.next++
	svc := w.service(key)
	w.services[key] = svc
	return key, svc
}

func (w *world) anyService() (types.NamespacedName, bool) {
	if len(w.services) == 0 {
		return types.NamespacedName{}, false
	}
	keys := make([]types.NamespacedName, 0, len(w.services))
	for k := range w.services {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b types.NamespacedName) int {
		if a.Namespace != b.Namespace {
			return compareStrings(a.Namespace, b.Namespace)
		}
		return compareStrings(a.Name, b.Name)
	})
	return keys[w.r.IntN(len(keys))], true
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// slice is an EndpointSlice of svc with one endpoint, ready or not, here or elsewhere.
func (w *world) slice(svc types.NamespacedName, name string, labelled bool) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: svc.Namespace, Name: name},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(w.r.IntN(4) != 0)},
			NodeName:   ptr(w.pick([]string{node, node, "n2"})),
		}},
	}
	if labelled {
		es.Labels = map[string]string{discoveryv1.LabelServiceName: svc.Name}
	}
	if w.r.IntN(10) == 0 {
		es.Annotations = map[string]string{"service.cilium.io/weight": "0"}
	}
	return es
}

// edit makes one random edit and returns its Changes, as a source would.
func (w *world) edit() model.Changes {
	var ch model.Changes
	setSvc := func(k types.NamespacedName, s *corev1.Service) {
		ch.Services = map[types.NamespacedName]*corev1.Service{k: s}
	}
	setSlice := func(k types.NamespacedName, es *discoveryv1.EndpointSlice) {
		ch.EndpointSlices = map[types.NamespacedName]*discoveryv1.EndpointSlice{k: es}
	}
	switch n := w.r.IntN(100); {
	case n < 45: // a Service changes
		if k, ok := w.anyService(); ok {
			s := w.service(k)
			w.services[k] = s
			setSvc(k, s)
			w.last = "change of Service " + k.String()
		}
	case n < 55:
		k, s := w.addService()
		setSvc(k, s)
		w.last = "new Service " + k.String()
	case n < 65:
		if k, ok := w.anyService(); ok {
			delete(w.services, k)
			setSvc(k, nil)
			w.last = "Service " + k.String() + " removed"
		}
	case n < 88: // an EndpointSlice appears, changes or goes
		if k, ok := w.anyService(); ok {
			key := types.NamespacedName{Namespace: k.Namespace, Name: k.Name + "-" + w.pick([]string{"a", "b"})}
			if _, ok := w.slices[key]; ok && w.r.IntN(3) == 0 {
				delete(w.slices, key)
				setSlice(key, nil)
				w.last = "EndpointSlice " + key.String() + " removed"
			} else {
				es := w.slice(k, key.Name, true)
				w.slices[key] = es
				setSlice(key, es)
				w.last = "EndpointSlice " + key.String() + " set"
			}
		}
	case n < 90: // an EndpointSlice of no Service
		key := types.NamespacedName{Namespace: "ns-0", Name: fmt.Sprintf("orphan-%d", w.r.IntN(3))}
		es := w.slice(key, key.Name, false)
		w.slices[key] = es
		setSlice(key, es)
		w.last = "orphan EndpointSlice " + key.String()
	case n < 95: // another kind: aggregation on or off
		w.setAdverts(w.r.IntN(2) == 0)
		ch.Other = true
		w.last = "advertisements"
	case n < 97: // the host
		w.host.Interfaces[0].OperState = w.pick([]string{"unknown", "up"})
		w.last = "host facts"
	default: // several at once
		var all model.Changes
		for range 2 + w.r.IntN(4) {
			all.Add(w.edit())
		}
		w.last = "several edits"
		return all
	}
	return ch
}
