package e2e

// TestSoak is the soak of issue 13: cp-1's sidecar in Kubernetes mode (the environment of
// TestSidecar) under random changes for E2E_SOAK (a duration; `make soak` one hour, `make test`
// five minutes; without it the test skips): Services and their LoadBalancer IPs added and
// removed, an advertisement's selector, communities and local preference changed, the
// PeerConfig's timers changed, the peers' password rotated (the ToR first, then the Secret: the
// operator's order, see the README), bgpd killed and started again, the sidecar killed with
// SIGKILL and started again. The changes come from a seeded RNG: the log prints the seed and
// E2E_SEED repeats the sequence (not its timing). At the end, once things settle: the ToR's
// table is what the manifests ask for (prefixes, communities, the negotiated hold time), FRR
// runs exactly what `frr-renderer diff` renders from the API server's final objects (no
// change), and the sidecar's memory and goroutines were flat over its last process (sampled from
// its /metrics; the slopes are logged). E2E_FRR=8 runs it on FRR 8.4 (default 10.3).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

const (
	soakSecret     = "bgp-auth" // in kube-system, the sidecar's secrets namespace
	soakAdvert     = "soak-adv"
	soakPassword   = "soak-pw-" // every password starts so: the logs and metrics must never hold it
	soakMaxSvcs    = 50
	soakMaxIPs     = 3 // LoadBalancer IPs per Service
	soakConverge   = 3 * time.Minute
	goroutineSlack = 20 // goroutines the sidecar may have more at the end than after its warm-up
	rssGrowthLimit = 1.5
)

// The kinds of change, as counted and printed.
const (
	kindServiceAdded     = "Service added"
	kindServiceDeleted   = "Service deleted"
	kindIPAdded          = "LB IP added"
	kindIPRemoved        = "LB IP removed"
	kindRelabelled       = "Service relabelled"
	kindSelector         = "advertisement selector"
	kindCommunities      = "advertisement communities"
	kindLocalPref        = "advertisement local-pref"
	kindTimers           = "PeerConfig timers"
	kindPassword         = "password rotated"
	kindBgpdRestart      = "bgpd killed and started"
	kindSidecarRestart   = "sidecar SIGKILLed and started"
	firstHalfOnlySidecar = 0.5 // sidecar restarts stop here: the rest of the run measures one process
	forceEveryKindAt     = 0.4 // a kind that has not happened by then is made to happen
)

var (
	soakPasswords = regexp.MustCompile(soakPassword + `[0-9]+`)
	soakTiers     = []string{"gold", "silver", "bronze"}
	soakSelectors = []metav1.LabelSelector{
		{MatchLabels: map[string]string{"tier": "gold"}},
		{MatchLabels: map[string]string{"tier": "silver"}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"gold", "silver"}}}},
		{MatchLabels: map[string]string{"soak": "true"}, MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"bronze"}}}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpExists}}},
	}
	soakCommunities = []communities{
		{},
		{standard: []string{"65001:100"}},
		{standard: []string{"65001:100", "65001:200"}},
		{standard: []string{"65001:300"}, large: []string{"65001:1:1"}},
		{large: []string{"65001:2:2"}},
	}
	soakLocalPrefs = []int64{0, 100, 150, 200} // 0: none
	soakHolds      = [][2]int64{{90, 30}, {60, 20}, {45, 15}, {30, 10}}
	soakRetries    = []int64{5, 10, 30, 120} // 120: Cilium's default
)

type communities struct{ standard, large []string }

// soakService is what the test wrote for one Service.
type soakService struct {
	tier string
	ips  []string
}

// soakTimers are the PeerConfig's timers as written.
type soakTimers struct{ hold, keepalive, connectRetry int64 }

type soak struct {
	t      *testing.T
	e      *env
	v      frrtest.Version
	bin    string
	rng    *rand.Rand
	length time.Duration
	began  time.Time

	services  map[string]*soakService
	usedIPs   map[string]bool
	nextSvc   int
	selector  int // index in soakSelectors
	comms     int // index in soakCommunities
	localPref int64
	timers    soakTimers
	password  string // never printed
	passwords int
	postponed int // rotations not made: the session was not steady within a minute
	counts    map[string]int
	sampler   *sampler
}

func TestSoak(t *testing.T) {
	raw := os.Getenv("E2E_SOAK")
	if raw == "" {
		t.Skip("E2E_SOAK (a duration) is not set: `make soak` runs the soak for an hour, `make test` for five minutes")
	}
	length, err := time.ParseDuration(raw)
	if err != nil || length <= 0 {
		t.Fatalf("E2E_SOAK=%q: want a positive duration such as 5m", raw)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("E2E_SEED"); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("E2E_SEED=%q: want an unsigned integer", s)
		}
	}
	v := frrtest.FRR10
	if os.Getenv("E2E_FRR") == "8" {
		v = frrtest.FRR8
	}
	t.Logf("soak: seed %d (E2E_SEED=%d repeats these changes), %v, FRR %s", seed, seed, length, v)

	s := &soak{t: t, v: v, bin: binary(t), rng: rand.New(rand.NewPCG(seed, seed)), length: length,
		services: map[string]*soakService{}, usedIPs: map[string]bool{seedIP: true}, counts: map[string]int{},
		localPref: 0, timers: soakTimers{hold: 90, keepalive: 30, connectRetry: 120}}
	s.e = setupWith(t, v, s.populate)
	s.sampler = startSampler(t, "http://"+s.e.metricsAddr+"/metrics", clamp(length/100, 2*time.Second, 30*time.Second))
	s.run()
	t.Logf("soak: %d changes in %v: %s; %d password rotations postponed (the session not steady within a minute)",
		s.total(), time.Since(s.began).Round(time.Second), s.countLine(), s.postponed)
	s.converge()
	s.checkSecrets()
	s.checkFlat()
}

// populate runs before the sidecar's first start: the password (on the ToR first), the
// soak's advertisement and a few Services.
func (s *soak) populate(e *env) {
	s.e = e
	s.passwords++
	s.password = fmt.Sprintf("%s%d", soakPassword, s.passwords)
	s.torPassword()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: soakSecret, Namespace: "kube-system"},
		Data: map[string][]byte{"password": []byte(s.password)}}
	if _, err := e.kube.CoreV1().Secrets("kube-system").Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
	e.mutate(object("cilium.io/v2", "CiliumBGPPeerConfig", "", "cilium-peer"), func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, soakSecret, "spec", "authSecretRef")
		_ = unstructured.SetNestedField(u.Object, s.timers.connectRetry, "spec", "timers", "connectRetryTimeSeconds")
	}, false)
	adv := object("cilium.io/v2", "CiliumBGPAdvertisement", "", soakAdvert)
	adv.SetLabels(map[string]string{"advertise": "bgp"}) // what the PeerConfig's family selects
	_ = unstructured.SetNestedSlice(adv.Object, []any{s.advertisement()}, "spec", "advertisements")
	e.create(adv)
	for range 8 {
		s.addService()
	}
}

// ---- the run ----

// run makes random changes until the soak's length has passed.
func (s *soak) run() {
	type change struct {
		kind   string
		weight int
		do     func() bool // false: not possible now (nothing to delete, ...)
	}
	changes := []change{
		{kindServiceAdded, 20, s.addService},
		{kindServiceDeleted, 12, s.deleteService},
		{kindIPAdded, 12, s.addIP},
		{kindIPRemoved, 12, s.removeIP},
		{kindRelabelled, 8, s.relabel},
		{kindSelector, 6, s.changeSelector},
		{kindCommunities, 6, s.changeCommunities},
		{kindLocalPref, 5, s.changeLocalPref},
		{kindTimers, 3, s.changeTimers},
		{kindPassword, 3, s.rotatePassword},
		{kindBgpdRestart, 3, s.restartBgpd},
		{kindSidecarRestart, 3, s.restartSidecar},
	}
	total := 0
	for _, c := range changes {
		total += c.weight
	}
	gaveUp := map[string]bool{} // kinds forced once and not possible then: left to chance
	s.began = time.Now()
	end := s.began.Add(s.length)
	for time.Now().Before(end) {
		s.checkSidecarAlive()
		var next *change
		if s.progress() >= forceEveryKindAt {
			for i := range changes {
				if k := changes[i].kind; s.counts[k] == 0 && !gaveUp[k] {
					next = &changes[i]
					gaveUp[k] = true
					break
				}
			}
		}
		if next == nil {
			n := s.rng.IntN(total)
			for i := range changes {
				if n -= changes[i].weight; n < 0 {
					next = &changes[i]
					break
				}
			}
		}
		if next.do() {
			s.counts[next.kind]++
		}
		time.Sleep(time.Duration(500+s.rng.IntN(2500)) * time.Millisecond)
	}
}

// progress is the share of the run that has passed.
func (s *soak) progress() float64 { return float64(time.Since(s.began)) / float64(s.length) }

func (s *soak) total() int {
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

func (s *soak) countLine() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, s.counts[k]))
	}
	return strings.Join(parts, ", ")
}

func (s *soak) checkSidecarAlive() {
	select {
	case err := <-s.e.sidecar.exited:
		s.t.Fatalf("the sidecar exited on its own (%v); its log:\n%s", err, tail(s.e.sidecar.log, 60))
	default:
	}
}

// serviceNames returns the soak's Services in a stable order: the RNG picks by index.
func (s *soak) serviceNames() []string { return slices.Sorted(maps.Keys(s.services)) }

func (s *soak) pickService(ok func(*soakService) bool) (string, *soakService) {
	var names []string
	for _, n := range s.serviceNames() {
		if ok(s.services[n]) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	n := names[s.rng.IntN(len(names))]
	return n, s.services[n]
}

// newIP is an unused LoadBalancer IP of the seed's pool (172.20.0.0/24).
func (s *soak) newIP() string {
	for {
		ip := fmt.Sprintf("172.20.0.%d", 2+s.rng.IntN(253))
		if !s.usedIPs[ip] {
			s.usedIPs[ip] = true
			return ip
		}
	}
}

func (s *soak) addService() bool {
	if len(s.services) >= soakMaxSvcs {
		return false
	}
	s.nextSvc++
	name := fmt.Sprintf("soak-%d", s.nextSvc)
	svc := &soakService{tier: soakTiers[s.rng.IntN(len(soakTiers))], ips: []string{s.newIP()}}
	s.services[name] = svc
	s.e.createService(lbService(name, map[string]string{"soak": "true", "tier": svc.tier}, svc.ips[0], false))
	return true
}

func (s *soak) deleteService() bool {
	name, svc := s.pickService(func(*soakService) bool { return true })
	if svc == nil {
		return false
	}
	if err := s.e.kube.CoreV1().Services("default").Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		s.t.Fatal(err)
	}
	for _, ip := range svc.ips {
		delete(s.usedIPs, ip)
	}
	delete(s.services, name)
	return true
}

func (s *soak) addIP() bool {
	name, svc := s.pickService(func(v *soakService) bool { return len(v.ips) < soakMaxIPs })
	if svc == nil {
		return false
	}
	svc.ips = append(svc.ips, s.newIP())
	s.writeIngress(name, svc.ips)
	return true
}

func (s *soak) removeIP() bool {
	name, svc := s.pickService(func(v *soakService) bool { return len(v.ips) > 0 })
	if svc == nil {
		return false
	}
	i := s.rng.IntN(len(svc.ips))
	delete(s.usedIPs, svc.ips[i])
	svc.ips = slices.Delete(svc.ips, i, i+1)
	s.writeIngress(name, svc.ips)
	return true
}

// writeIngress writes a Service's LoadBalancer IPs, as the LB IPAM does.
func (s *soak) writeIngress(name string, ips []string) {
	services := s.e.kube.CoreV1().Services("default")
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		svc, err := services.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		svc.Status.LoadBalancer.Ingress = nil
		for _, ip := range ips {
			svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		_, err = services.UpdateStatus(context.Background(), svc, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		s.t.Fatalf("Service %s's LoadBalancer IPs: %v", name, err)
	}
}

func (s *soak) relabel() bool {
	name, svc := s.pickService(func(*soakService) bool { return true })
	if svc == nil {
		return false
	}
	svc.tier = soakTiers[(slices.Index(soakTiers, svc.tier)+1+s.rng.IntN(len(soakTiers)-1))%len(soakTiers)]
	s.e.mutate(object("v1", "Service", "default", name), func(u *unstructured.Unstructured) {
		u.SetLabels(map[string]string{"soak": "true", "tier": svc.tier})
	}, false)
	return true
}

// another returns an index in [0, n) other than cur.
func (s *soak) another(cur, n int) int { return (cur + 1 + s.rng.IntN(n-1)) % n }

func (s *soak) changeSelector() bool {
	s.selector = s.another(s.selector, len(soakSelectors))
	s.writeAdvertisement()
	return true
}

func (s *soak) changeCommunities() bool {
	s.comms = s.another(s.comms, len(soakCommunities))
	s.writeAdvertisement()
	return true
}

func (s *soak) changeLocalPref() bool {
	s.localPref = soakLocalPrefs[s.another(slices.Index(soakLocalPrefs, s.localPref), len(soakLocalPrefs))]
	s.writeAdvertisement()
	return true
}

// advertisement is the soak advertisement's one entry as written.
func (s *soak) advertisement() map[string]any {
	sel, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&soakSelectors[s.selector])
	if err != nil {
		s.t.Fatal(err)
	}
	a := map[string]any{
		"advertisementType": "Service",
		"selector":          sel,
		"service":           map[string]any{"addresses": []any{"LoadBalancerIP"}},
	}
	attrs := map[string]any{}
	c := soakCommunities[s.comms]
	comms := map[string]any{}
	if len(c.standard) > 0 {
		comms["standard"] = toAny(c.standard)
	}
	if len(c.large) > 0 {
		comms["large"] = toAny(c.large)
	}
	if len(comms) > 0 {
		attrs["communities"] = comms
	}
	if s.localPref != 0 {
		attrs["localPreference"] = s.localPref
	}
	if len(attrs) > 0 {
		a["attributes"] = attrs
	}
	return a
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, x := range ss {
		out[i] = x
	}
	return out
}

func (s *soak) writeAdvertisement() {
	s.e.mutate(object("cilium.io/v2", "CiliumBGPAdvertisement", "", soakAdvert), func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedSlice(u.Object, []any{s.advertisement()}, "spec", "advertisements")
	}, false)
}

func (s *soak) changeTimers() bool {
	cur := s.timers
	for s.timers == cur {
		hk := soakHolds[s.rng.IntN(len(soakHolds))]
		s.timers = soakTimers{hold: hk[0], keepalive: hk[1], connectRetry: soakRetries[s.rng.IntN(len(soakRetries))]}
	}
	s.e.mutate(object("cilium.io/v2", "CiliumBGPPeerConfig", "", "cilium-peer"), func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, s.timers.hold, "spec", "timers", "holdTimeSeconds")
		_ = unstructured.SetNestedField(u.Object, s.timers.keepalive, "spec", "timers", "keepAliveTimeSeconds")
		_ = unstructured.SetNestedField(u.Object, s.timers.connectRetry, "spec", "timers", "connectRetryTimeSeconds")
	}, false)
	return true
}

// rotatePassword changes the password on the ToR first, then in the Secret: in the other order
// the node's NOTIFICATION is signed with the new key and dropped, and the session stays down
// until the ToR's hold timer and the node's connect retry have passed (README, "The ToR side").
//
// Only while the session is up: a change of a listen range's peer-group password while the
// ToR's dynamic peer exists but is not Established (a reset, bgpd restarting) leaves FRR's
// listening socket with a TCP-MD5 key for the node's /32 that no peer owns any more (seen on
// FRR 10.3 in this soak): it outranks the range's key, the node's SYNs are dropped and the
// session never returns. The soak then postpones the rotation, as an operator would wait.
func (s *soak) rotatePassword() bool {
	deadline := time.Now().Add(time.Minute)
	for !s.sessionSteady() {
		if time.Now().After(deadline) {
			s.postponed++
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.passwords++
	s.password = fmt.Sprintf("%s%d", soakPassword, s.passwords)
	s.torPassword()
	secrets := s.e.kube.CoreV1().Secrets("kube-system")
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sec, err := secrets.Get(context.Background(), soakSecret, metav1.GetOptions{})
		if err != nil {
			return err
		}
		sec.Data = map[string][]byte{"password": []byte(s.password)}
		_, err = secrets.Update(context.Background(), sec, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		s.t.Fatalf("the Secret: %v", err)
	}
	return true
}

// sessionSteady: the sidecar is ready (it has applied what it read: no reset of its own is
// coming) and the ToR's session is Established and stays so for a second.
func (s *soak) sessionSteady() bool {
	if code, _, err := s.e.ready(); err != nil || code != http.StatusOK {
		return false
	}
	before, err := s.e.torNeighbor()
	if err != nil || before.State != "Established" {
		return false
	}
	time.Sleep(time.Second)
	after, err := s.e.torNeighbor()
	return err == nil && after == before
}

// torPassword sets the ToR's peer-group password. vtysh's errors quote the command: not shown.
func (s *soak) torPassword() {
	if _, err := s.e.tor.Vtysh("-c", "configure terminal", "-c", "router bgp 65000", "-c", "neighbor K8S-NODES password "+s.password); err != nil {
		s.t.Fatal("the ToR refused the new password (vtysh's message not shown: it holds the password)")
	}
}

// restartBgpd kills the node's bgpd (SIGKILL: no NOTIFICATION, as a crash) and starts it again,
// as watchfrr would; the sidecar configures the new one.
func (s *soak) restartBgpd() bool {
	b, err := os.ReadFile(filepath.Join(s.e.node.RunDir(), "bgpd.pid"))
	if err != nil {
		s.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		s.t.Fatalf("bgpd.pid: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		s.t.Fatalf("kill bgpd %d: %v", pid, err)
	}
	frrtest.WaitFor(s.t, 10*time.Second, func() error {
		if syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("bgpd %d still runs", pid)
		}
		return nil
	})
	time.Sleep(time.Duration(s.rng.IntN(2000)) * time.Millisecond) // down a while, as watchfrr's restart delay
	if err := s.e.node.StartDaemon("bgpd"); err != nil {
		s.t.Fatal(err)
	}
	return true
}

// restartSidecar kills the sidecar with SIGKILL and starts a new one, as the kubelet restarts a
// crashed container; only in the run's first half, so that its second half measures one process.
func (s *soak) restartSidecar() bool {
	if s.progress() >= firstHalfOnlySidecar {
		return false
	}
	old := s.e.sidecar
	if err := old.cmd.Process.Kill(); err != nil {
		s.t.Fatal(err)
	}
	<-old.exited
	s.e.startSidecar(s.bin)
	return true
}

// ---- the end ----

// converge waits for the ToR and FRR to be what the final objects ask for, and prints what
// there was when they are not.
func (s *soak) converge() {
	t := s.t
	start := time.Now()
	manifests := s.dumpManifests()
	var err error
	for time.Since(start) < soakConverge {
		if err = s.converged(manifests); err == nil {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		t.Errorf("not converged within %v of the last change: %v", soakConverge, err)
		s.dumpState()
		t.FailNow()
	}
	t.Logf("soak: converged %v after the last change: the ToR has the %d prefixes the objects ask for, with their communities; FRR runs what `frr-renderer diff` renders (no change)",
		time.Since(start).Round(100*time.Millisecond), len(s.expected()))
}

// expected is what the ToR must have from the node: each prefix's standard and large
// communities (sorted; "" for none), the union of every advertisement's that selects it.
func (s *soak) expected() map[string][2]string {
	type advert struct {
		sel labels.Selector
		c   communities
	}
	soakSel, err := metav1.LabelSelectorAsSelector(&soakSelectors[s.selector])
	if err != nil {
		s.t.Fatal(err)
	}
	adverts := []advert{
		{labels.SelectorFromSet(labels.Set{"app": "http-test"}), communities{}}, // the seed's
		{soakSel, soakCommunities[s.comms]},
	}
	services := map[string]struct {
		labels labels.Set
		ips    []string
	}{"http-test": {labels.Set{"app": "http-test"}, []string{seedIP}}}
	for name, svc := range s.services {
		services[name] = struct {
			labels labels.Set
			ips    []string
		}{labels.Set{"soak": "true", "tier": svc.tier}, svc.ips}
	}
	want := map[string][2]string{}
	for _, svc := range services {
		var std, large []string
		selected := false
		for _, a := range adverts {
			if a.sel.Matches(svc.labels) {
				selected = true
				std = append(std, a.c.standard...)
				large = append(large, a.c.large...)
			}
		}
		if !selected {
			continue
		}
		for _, ip := range svc.ips {
			want[ip+"/32"] = [2]string{sortedSet(std), sortedSet(large)}
		}
	}
	return want
}

func sortedSet(ss []string) string {
	ss = slices.Clone(ss)
	slices.Sort(ss)
	return strings.Join(slices.Compact(ss), " ")
}

func (s *soak) converged(manifests string) error {
	e := s.e
	n, err := e.torNeighbor()
	if err != nil {
		return err
	}
	if n.State != "Established" {
		return fmt.Errorf("the ToR's session with %s is %q", nodeAddr, n.State)
	}
	if n.HoldMsecs != int(s.timers.hold)*1000 {
		return fmt.Errorf("the ToR negotiated hold time %d ms, the PeerConfig asks for %d s", n.HoldMsecs, s.timers.hold)
	}
	want := s.expected()
	got, err := e.torRoutes()
	if err != nil {
		return err
	}
	if missing, extra := setDiff(want, got); len(missing)+len(extra) > 0 {
		return fmt.Errorf("the ToR's prefixes from the node: missing %v, extra %v", missing, extra)
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		c, err := s.torCommunities(p)
		if err != nil {
			return err
		}
		if c != want[p] {
			return fmt.Errorf("the ToR has %s with communities %q large %q, want %q large %q", p, c[0], c[1], want[p][0], want[p][1])
		}
	}
	out, err := s.diff(manifests)
	if err != nil {
		return fmt.Errorf("frr-renderer diff: %v\n%s", err, out)
	}
	return nil
}

func setDiff(want map[string][2]string, got map[string]bool) (missing, extra []string) {
	for p := range want {
		if !got[p] {
			missing = append(missing, p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			extra = append(extra, p)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return missing, extra
}

// torCommunities is the standard and large communities of the ToR's path to prefix from the
// node, each sorted.
func (s *soak) torCommunities(prefix string) ([2]string, error) {
	out, err := s.e.show(s.e.torVty, "show bgp ipv4 unicast "+prefix+" json")
	if err != nil {
		return [2]string{}, err
	}
	var r struct {
		Paths []struct {
			Community *struct {
				String string `json:"string"`
			} `json:"community"`
			LargeCommunity *struct {
				String string `json:"string"`
			} `json:"largeCommunity"`
			Nexthops []struct {
				IP string `json:"ip"`
			} `json:"nexthops"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return [2]string{}, fmt.Errorf("%s: %w: %.200s", prefix, err, out)
	}
	for _, p := range r.Paths {
		for _, nh := range p.Nexthops {
			if nh.IP != nodeAddr {
				continue
			}
			var c [2]string
			if p.Community != nil {
				c[0] = sortedSet(strings.Fields(p.Community.String))
			}
			if p.LargeCommunity != nil {
				c[1] = sortedSet(strings.Fields(p.LargeCommunity.String))
			}
			return c, nil
		}
	}
	return [2]string{}, fmt.Errorf("the ToR has no path to %s from %s", prefix, nodeAddr)
}

// soakKinds are what the sidecar reads, to hand the final state to `frr-renderer diff`.
var soakKinds = []struct {
	gvr       schema.GroupVersionResource
	kind      string
	namespace string // "" every one
}{
	{schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumbgpclusterconfigs"}, "CiliumBGPClusterConfig", ""},
	{schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumbgppeerconfigs"}, "CiliumBGPPeerConfig", ""},
	{schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumbgpadvertisements"}, "CiliumBGPAdvertisement", ""},
	{schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumbgpnodeconfigoverrides"}, "CiliumBGPNodeConfigOverride", ""},
	{nodeConfigGVR, "CiliumBGPNodeConfig", ""},
	{schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnodes"}, "CiliumNode", ""},
	{schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, "Node", ""},
	{schema.GroupVersionResource{Version: "v1", Resource: "services"}, "Service", ""},
	{schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}, "EndpointSlice", ""},
	{schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "Secret", "kube-system"},
}

// dumpManifests writes the API server's objects the sidecar reads to a folder (0700: a Secret
// is among them) and returns it.
func (s *soak) dumpManifests() string {
	dir := filepath.Join(s.t.TempDir(), "final")
	if err := os.Mkdir(dir, 0o700); err != nil {
		s.t.Fatal(err)
	}
	for i, k := range soakKinds {
		list, err := s.e.dyn.Resource(k.gvr).Namespace(k.namespace).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			s.t.Fatalf("list %s: %v", k.gvr.Resource, err)
		}
		for j, item := range list.Items {
			item.SetAPIVersion(k.gvr.GroupVersion().String())
			item.SetKind(k.kind)
			item.SetManagedFields(nil)
			b, err := json.Marshal(item.Object)
			if err != nil {
				s.t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%03d.json", i, j)), b, 0o600); err != nil {
				s.t.Fatal(err)
			}
		}
	}
	return dir
}

// diff runs `frr-renderer diff` for the node against its bgpd: nil when it finds no change.
func (s *soak) diff(manifests string) (string, error) {
	cmd := exec.Command(s.bin, "diff", "--node", nodeName, "-f", manifests, "--host-facts", s.e.hostFacts,
		"--frr-version", frrVersionFlag[s.v], "--vty-socket", s.e.node.RunDir())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return string(out), errors.New("FRR does not run the desired configuration")
	}
	return string(out), err
}

// dumpState prints what the ToR and the node have, and the sidecar's last lines.
func (s *soak) dumpState() {
	t, e := s.t, s.e
	for _, c := range []string{"show bgp summary", "show bgp ipv4 unicast"} {
		out, err := e.tor.Vtysh("-c", c)
		t.Logf("the ToR's %q (%v):\n%s", c, err, out)
	}
	out, err := e.tor.Vtysh("-c", "show bgp peer-group")
	t.Logf("the ToR's \"show bgp peer-group\" (%v):\n%s", err, out)
	for _, c := range []string{"show bgp summary", "show bgp neighbors " + torAddr} {
		out, err := e.node.Vtysh("-c", c)
		t.Logf("the node's %q (%v):\n%s", c, err, out)
	}
	for _, r := range []*frrtest.Router{e.tor, e.node} {
		// -i shows the sockets' TCP-MD5 keys (in clear): masked.
		out, err := r.Exec("ss", "-tanoi")
		t.Logf("%s's TCP sockets (%v):\n%s", r.Name, err, soakPasswords.ReplaceAllString(out, "<password>"))
		if _, nerr := e.torNeighbor(); r == e.tor && nerr != nil && strings.Contains(out, nodeAddr+"/32=") {
			t.Logf("the ToR has no neighbor %s but its listening socket has a TCP-MD5 key for %s/32 (stale: it outranks the listen range's)", nodeAddr, nodeAddr)
		}
	}
	torConf, _ := e.tor.RunningConfig()
	nodeConf, _ := e.node.RunningConfig()
	t.Logf("the password (not shown) in the ToR's running configuration: %v; in the node's: %v",
		strings.Contains(torConf, "password "+s.password+"\n"), strings.Contains(nodeConf, "password "+s.password+"\n"))
	t.Logf("the ToR is expected to have (prefix: communities, large): %v", s.expected())
	t.Logf("the sidecar's log %s, last lines:\n%s", e.sidecar.log, tail(e.sidecar.log, 80))
}

// checkSecrets fails when a password reached the sidecar's logs or metrics.
func (s *soak) checkSecrets() {
	for _, log := range s.e.sidecarLogs {
		if strings.Contains(readFile(s.t, log), soakPassword) {
			s.t.Errorf("%s holds a password", log)
		}
	}
	if m, _ := s.e.metrics(); strings.Contains(m, soakPassword) {
		s.t.Error("the metrics hold a password")
	}
}

// ---- memory and goroutines ----

type sample struct {
	at         time.Time
	started    float64 // process_start_time_seconds: which sidecar process answered
	goroutines float64
	heap       float64 // go_memstats_heap_inuse_bytes
	rss        float64 // process_resident_memory_bytes
}

type sampler struct {
	url     string
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	samples []sample
}

func startSampler(t *testing.T, url string, every time.Duration) *sampler {
	sp := &sampler{url: url, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(sp.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if smp, err := sp.take(); err == nil { // a restarting sidecar answers nothing: skipped
				sp.mu.Lock()
				sp.samples = append(sp.samples, smp)
				sp.mu.Unlock()
			}
			select {
			case <-sp.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(sp.halt)
	t.Logf("soak: the sidecar's goroutines and memory sampled every %v", every)
	return sp
}

func (sp *sampler) halt() {
	select {
	case <-sp.stop:
	default:
		close(sp.stop)
	}
	<-sp.done
}

var metricsClient = &http.Client{Timeout: 5 * time.Second}

func (sp *sampler) take() (sample, error) {
	resp, err := metricsClient.Get(sp.url)
	if err != nil {
		return sample{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return sample{}, err
	}
	smp := sample{at: time.Now()}
	want := map[string]*float64{
		"process_start_time_seconds":    &smp.started,
		"go_goroutines":                 &smp.goroutines,
		"go_memstats_heap_inuse_bytes":  &smp.heap,
		"process_resident_memory_bytes": &smp.rss,
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 2 {
			if p, ok := want[f[0]]; ok {
				if *p, err = strconv.ParseFloat(f[1], 64); err != nil {
					return sample{}, fmt.Errorf("%s: %w", f[0], err)
				}
				delete(want, f[0])
			}
		}
	}
	if len(want) > 0 {
		return sample{}, fmt.Errorf("the metrics lack %v", slices.Sorted(maps.Keys(want)))
	}
	return smp, nil
}

// checkFlat reports the slopes of the sidecar's goroutines, heap and RSS over its last process
// (least squares, after its warm-up) and fails on growth: goroutines more than goroutineSlack
// above the second sample after the warm-up, RSS more than rssGrowthLimit times the warm-up's
// highest. A run shorter than five minutes (CI's length) only reports.
func (s *soak) checkFlat() {
	t := s.t
	time.Sleep(3 * time.Second) // quiet after the convergence
	end, err := s.sampler.take()
	if err != nil {
		t.Fatalf("the last sample: %v", err)
	}
	s.sampler.halt()
	s.sampler.mu.Lock()
	all := append(slices.Clone(s.sampler.samples), end)
	s.sampler.mu.Unlock()

	warmUp := clamp(s.length/20, 30*time.Second, 3*time.Minute)
	started := time.Unix(0, int64(end.started*1e9))
	var last, post []sample
	for _, x := range all {
		if x.started != end.started {
			continue
		}
		last = append(last, x)
		if x.at.Sub(started) >= warmUp {
			post = append(post, x)
		}
	}
	processes := map[float64]bool{}
	for _, x := range all {
		processes[x.started] = true
	}
	t.Logf("soak: %d samples of %d sidecar processes; the last process ran %v, %d samples after its %v warm-up",
		len(all), len(processes), end.at.Sub(started).Round(time.Second), len(post), warmUp)
	judge := s.length >= 5*time.Minute
	fail := func(format string, args ...any) {
		if judge {
			t.Errorf(format, args...)
		} else {
			t.Logf("(not failing a run shorter than 5m) "+format, args...)
		}
	}
	if len(post) < 3 {
		fail("too few samples after the warm-up to judge the last process: %d", len(post))
		return
	}
	const mib = 1 << 20
	g, h, r := slopePerHour(post, func(x sample) float64 { return x.goroutines }),
		slopePerHour(post, func(x sample) float64 { return x.heap / mib }),
		slopePerHour(post, func(x sample) float64 { return x.rss / mib })
	t.Logf("soak: slopes over the last process after warm-up (least squares, per hour): goroutines %+.1f/h, heap in use %+.2f MiB/h, RSS %+.2f MiB/h",
		g, h, r)
	pg, ph, pr := pooledSlopes(all, warmUp)
	t.Logf("soak: slopes pooled over every process after its warm-up (per hour): goroutines %+.1f/h, heap in use %+.2f MiB/h, RSS %+.2f MiB/h", pg, ph, pr)

	ref := post[1]
	baseRSS := 0.0
	for _, x := range last {
		if x.at.After(ref.at) {
			break
		}
		baseRSS = max(baseRSS, x.rss)
	}
	t.Logf("soak: goroutines %.0f after the warm-up, %.0f at the end; RSS %.1f MiB after the warm-up (highest), %.1f MiB at the end; heap in use %.1f -> %.1f MiB",
		ref.goroutines, end.goroutines, baseRSS/mib, end.rss/mib, ref.heap/mib, end.heap/mib)
	if end.goroutines > ref.goroutines+goroutineSlack {
		fail("the sidecar's goroutines grew from %.0f to %.0f (more than %d)", ref.goroutines, end.goroutines, goroutineSlack)
	}
	if end.rss > rssGrowthLimit*baseRSS {
		fail("the sidecar's RSS grew from %.1f to %.1f MiB (more than %.0f%%)", baseRSS/mib, end.rss/mib, (rssGrowthLimit-1)*100)
	}
}

// slopePerHour is the least-squares slope of y over the samples' times, per hour.
func slopePerHour(xs []sample, y func(sample) float64) float64 {
	var st, sy float64
	for _, x := range xs {
		st += x.at.Sub(xs[0].at).Hours()
		sy += y(x)
	}
	n := float64(len(xs))
	mt, my := st/n, sy/n
	var num, den float64
	for _, x := range xs {
		dt := x.at.Sub(xs[0].at).Hours() - mt
		num += dt * (y(x) - my)
		den += dt * dt
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// pooledSlopes is the least-squares slope common to every process (each its own intercept),
// over the samples after each one's warm-up: goroutines, heap and RSS (MiB) per hour.
func pooledSlopes(all []sample, warmUp time.Duration) (g, h, r float64) {
	groups := map[float64][]sample{}
	for _, x := range all {
		if x.at.Sub(time.Unix(0, int64(x.started*1e9))) >= warmUp {
			groups[x.started] = append(groups[x.started], x)
		}
	}
	ys := []func(sample) float64{
		func(x sample) float64 { return x.goroutines },
		func(x sample) float64 { return x.heap / (1 << 20) },
		func(x sample) float64 { return x.rss / (1 << 20) },
	}
	var out [3]float64
	for i, y := range ys {
		var num, den float64
		for _, xs := range groups {
			if len(xs) < 2 {
				continue
			}
			var st, sy float64
			for _, x := range xs {
				st += x.at.Sub(xs[0].at).Hours()
				sy += y(x)
			}
			n := float64(len(xs))
			for _, x := range xs {
				dt := x.at.Sub(xs[0].at).Hours() - st/n
				num += dt * (y(x) - sy/n)
				den += dt * dt
			}
		}
		if den != 0 {
			out[i] = num / den
		}
	}
	return out[0], out[1], out[2]
}

func clamp(d, lo, hi time.Duration) time.Duration { return min(max(d, lo), hi) }
