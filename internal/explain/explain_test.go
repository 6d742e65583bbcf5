package explain

import (
	"encoding/json"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/frr-renderer/frr-renderer/internal/hostfacts"
	"github.com/frr-renderer/frr-renderer/internal/manifest"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// input reads testdata/base.yaml and facts.yaml, then lets mutate change the snapshot.
func input(t *testing.T, node string, mutate func(*model.Snapshot)) Input {
	t.Helper()
	data, err := os.ReadFile("testdata/base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	snap := &model.Snapshot{}
	if _, err := manifest.Decode("testdata/base.yaml", data, snap); err != nil {
		t.Fatal(err)
	}
	facts, err := hostfacts.FromFile("testdata/facts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(snap)
	}
	return Input{Snapshot: snap, Host: facts, Options: translate.Options{Node: node}}
}

func codes(rs []Reason) []string {
	var out []string
	for _, r := range rs {
		if !slices.Contains(out, r.Code) {
			out = append(out, r.Code)
		}
	}
	slices.Sort(out)
	return out
}

// TestPrefixNotAdvertised has a case for every reason a prefix is not advertised. Each checks
// translate's verdict too: explain never contradicts it.
func TestPrefixNotAdvertised(t *testing.T) {
	tests := []struct {
		name   string
		node   string
		mutate func(*model.Snapshot)
		skip   bool // Options.SkipServicesWithoutEndpoints
		query  string
		want   []string // the reason codes, sorted; no-peer-config (the peer "bare") comes with every one
		detail string   // a part of one message
	}{
		{name: "no object has the address", query: "198.51.100.7", want: []string{CodeNoObject}, detail: "no object of node n1 has an address in 198.51.100.7/32"},
		{name: "no ClusterConfig selects the node", node: "unselected", query: "172.20.0.1", want: []string{CodeNoClusterConfig}, detail: "no CiliumBGPClusterConfig selects node unselected"},
		{name: "the instance fails", node: "no-router-id", query: "172.20.0.1", want: []string{CodeInstanceFailed}, detail: "no IPv4 address to use as router ID"},
		{name: "family not negotiated", query: "2001:db8::1", want: []string{CodeFamily, CodeNoPeerConfig}, detail: "CiliumBGPPeerConfig/pc spec.families has no ipv6/unicast"},
		{name: "advertisement not selected, address type", query: "10.96.0.10", want: []string{CodeAddressType, CodeAdvertNotSelected, CodeNoPeerConfig, CodeRuleInvalid},
			detail: "does not select CiliumBGPAdvertisement/cluster-ips (labels adv=other)"},
		{name: "rule selector", query: "172.20.0.2", want: []string{CodeNoPeerConfig, CodeRuleInvalid, CodeSelector}, detail: "spec.advertisements[0].selector (app=web) does not select Service/shop/other"},
		{name: "service type", query: "172.20.0.3", want: []string{CodeNoPeerConfig, CodeRuleInvalid, CodeServiceType}, detail: `is of type \"NodePort\", not LoadBalancer`},
		{name: "loadBalancerClass", query: "172.20.0.4", want: []string{CodeLoadBalancerClass, CodeNoPeerConfig, CodeRuleInvalid}, detail: `has spec.loadBalancerClass \"metallb.io/metallb\"`},
		{name: "externalTrafficPolicy Local without a local endpoint", query: "172.20.0.5", want: []string{CodeNoPeerConfig, CodeRuleInvalid, CodeTrafficPolicyLocal},
			detail: "spec.externalTrafficPolicy is Local and no ready endpoint of it is on node n1"},
		{name: "no endpoints, not routable", skip: true, query: "172.20.0.6", want: []string{CodeNoEndpoints, CodeNoPeerConfig, CodeRuleInvalid},
			detail: "has no ready endpoint on any node"},
		{name: "invalid rule", query: "172.20.0.7", want: []string{CodeNoPeerConfig, CodeRuleInvalid, CodeSelector},
			detail: "spec.advertisements[4].service.addresses: required for advertisementType Service: rule ignored"},
		{name: "pool allocation of another mask size", query: "10.10.0.0/26", want: []string{CodeNoPeerConfig, CodePoolMask}, detail: "10.10.0.0/26 is not a /27"},
		{name: "pool not selected", query: "10.11.0.0/27", want: []string{CodeNoPeerConfig, CodeSelector}, detail: "does not select CiliumPodIPPool/hidden"},
		{name: "interface down", query: "192.0.2.10", want: []string{CodeInterface, CodeNoPeerConfig}, detail: `interface \"dummy0\" is not up`},
		{name: "no rule of the type", query: "10.244.1.0/24", want: []string{CodeNoPeerConfig, CodeNoRule},
			mutate: func(s *model.Snapshot) {
				for _, a := range s.Advertisements {
					a.Spec.Advertisements = slices.DeleteFunc(a.Spec.Advertisements, func(r model.BGPAdvertisement) bool { return r.AdvertisementType == model.AdvertPodCIDR })
				}
			},
			detail: "no CiliumBGPAdvertisement has a rule of advertisementType PodCIDR"},
		{name: "labelled for another proxy: no frontend", query: "172.20.0.1", want: []string{CodeNoFrontend, CodeNoPeerConfig, CodeRuleInvalid},
			mutate: func(s *model.Snapshot) {
				service(s, "web").Labels["service.kubernetes.io/service-proxy-name"] = "other"
			},
			detail: `has no frontend for Service/shop/web: it is labelled service.kubernetes.io/service-proxy-name=\"other\"`},
		{name: "service.cilium.io/type ClusterIP: no LoadBalancer frontend", query: "172.20.0.1", want: []string{CodeNoPeerConfig, CodeRuleInvalid, CodeServiceType},
			mutate: func(s *model.Snapshot) {
				service(s, "web").Annotations = map[string]string{"service.cilium.io/type": "ClusterIP"}
			},
			detail: `service.cilium.io/type \"ClusterIP\" leaves it no LoadBalancer frontend`},
		{name: "ipMode Proxy", query: "172.20.0.1", want: []string{CodeNoPeerConfig, CodeRuleInvalid, CodeServiceType},
			mutate: func(s *model.Snapshot) {
				service(s, "web").Status.LoadBalancer.Ingress[0].IPMode = ptr.To(corev1.LoadBalancerIPModeProxy)
			},
			detail: `has ipMode \"Proxy\"`},
		{name: "a loopback LoadBalancer IP", query: "127.0.0.1", want: []string{CodeNoPeerConfig, CodeRuleInvalid, CodeUnroutable},
			mutate: func(s *model.Snapshot) { service(s, "web").Status.LoadBalancer.Ingress[0].IP = "127.0.0.1" },
			detail: "LoadBalancerIP 127.0.0.1: loopback addresses are no one's to advertise"},
		{name: "a multicast external IP", query: "ff05::2", want: []string{CodeFamily, CodeNoPeerConfig},
			mutate: func(s *model.Snapshot) { service(s, "web").Spec.ExternalIPs = []string{"ff05::2"} },
			detail: "spec.families has no ipv6/unicast"},
		{name: "an unspecified external IP", query: "0.0.0.0", want: []string{CodeNoPeerConfig, CodeRuleInvalid, CodeUnroutable},
			mutate: func(s *model.Snapshot) { service(s, "web").Spec.ExternalIPs = []string{"0.0.0.0"} },
			detail: "ExternalIP 0.0.0.0: unspecified addresses"},
		{name: "family selector unset", query: "172.20.0.1", want: []string{CodeAdvertNotSelected, CodeNoPeerConfig},
			mutate: func(s *model.Snapshot) { s.PeerConfigs[0].Spec.Families[0].Advertisements = nil },
			detail: "spec.families[0].advertisements is not set: it selects no CiliumBGPAdvertisement"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := input(t, cmpOr(tc.node, "n1"), tc.mutate)
			in.Options.SkipServicesWithoutEndpoints = tc.skip
			q := netip.MustParsePrefix(hostPrefix(tc.query))
			ans, err := Prefix(in, q)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := json.MarshalIndent(ans, "", "  ")
			if len(ans.Advertised) > 0 {
				t.Fatalf("advertised:\n%s", out)
			}
			if got := codes(ans.NotAdvertised); !slices.Equal(got, tc.want) {
				t.Errorf("reasons %v, want %v:\n%s", got, tc.want, out)
			}
			if !strings.Contains(string(out), tc.detail) {
				t.Errorf("no reason says %q:\n%s", tc.detail, out)
			}
			if strings.Contains(string(out), "Explain-Secret-42") {
				t.Errorf("the password shows:\n%s", out)
			}
			// translate agrees: nothing overlapping the query is advertised.
			res, err := translate.Translate(in.Snapshot, in.Host, in.Options)
			if err != nil {
				t.Fatal(err)
			}
			for _, inst := range res.Config.Instances {
				for _, p := range inst.Prefixes {
					if p.Prefix.Overlaps(q) {
						t.Errorf("translate advertises %s", p.Prefix)
					}
				}
			}
		})
	}
}

// TestPrefixAdvertised: the origins, the peers per PeerConfig and the attributes, with the
// note that the eBGP peer gets no local preference.
func TestPrefixAdvertised(t *testing.T) {
	ans, err := Prefix(input(t, "n1", nil), netip.MustParsePrefix("172.20.0.1/32"))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(ans, "", "  ")
	if len(ans.Advertised) != 1 || len(ans.NotAdvertised) != 0 {
		t.Fatalf("want one advertised prefix and no reason:\n%s", out)
	}
	a := ans.Advertised[0]
	if a.Instance != "main" || a.Prefix != "172.20.0.1/32" || len(a.Origins) != 1 || a.Origins[0].Object.String() != "Service/shop/web" ||
		a.Origins[0].Rule.Advertisement != "services" || a.Origins[0].Rule.Index != 0 {
		t.Errorf("origins:\n%s", out)
	}
	if len(a.Exports) != 1 || a.Exports[0].PeerConfig != "pc" || !slices.Equal(a.Exports[0].Peers, []string{"tor (10.0.0.1)", "rr (10.0.0.2)"}) ||
		!slices.Equal(a.Exports[0].Communities, []string{"65000:100"}) || !slices.Equal(a.Exports[0].LargeCommunities, []string{"65000:1:1"}) ||
		a.Exports[0].LocalPreference == nil || *a.Exports[0].LocalPreference != 200 || !strings.Contains(a.Exports[0].LocalPreferenceNote, "not sent to the eBGP peers tor") {
		t.Errorf("exports:\n%s", out)
	}
	// An address inside an advertised prefix finds it too.
	ans, err = Prefix(input(t, "n1", nil), netip.MustParsePrefix("10.244.1.77/32"))
	if err != nil || len(ans.Advertised) != 1 || ans.Advertised[0].Prefix != "10.244.1.0/24" {
		t.Errorf("the pod CIDR holding 10.244.1.77: %+v %v", ans, err)
	}
}

// TestPeer: every setting names its source, the password its Secret and never its value.
// TestPeerOfAView: a peer of an instance after the first says which FRR view it is in, the
// instance's name mapped when FRR cannot take it as it is (vtysh -c 'show bgp view NAME ...').
func TestPeerOfAView(t *testing.T) {
	for _, tt := range []struct{ name, view string }{{"blue", "blue"}, {"blue team", model.MappedName("blue team")}} {
		in := input(t, "n1", func(s *model.Snapshot) {
			asn, addr := int64(65010), "10.0.9.1"
			s.ClusterConfigs[0].Spec.BGPInstances = append(s.ClusterConfigs[0].Spec.BGPInstances, model.CiliumBGPInstance{
				Name: tt.name, LocalASN: &asn, Peers: []model.CiliumBGPPeer{{Name: "tor-2", PeerAddress: &addr, PeerASN: &asn}},
			})
		})
		for q, want := range map[string]string{"tor": "", "tor-2": tt.view} {
			ans, err := Peer(in, q)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, s := range ans.Settings {
				if s.Name == "FRR view" {
					got = s.Value + " from " + s.From
				}
			}
			if want != "" {
				want += " from frr-renderer"
			}
			if got != want {
				t.Errorf("instance %q, peer %s: FRR view %q, want %q", tt.name, q, got, want)
			}
		}
	}
}

func TestPeer(t *testing.T) {
	in := input(t, "n1", nil)
	for _, q := range []string{"tor", "10.0.0.1"} {
		ans, err := Peer(in, q)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := json.MarshalIndent(ans, "", "  ")
		if strings.Contains(string(out), "Explain-Secret-42") {
			t.Fatalf("the password shows:\n%s", out)
		}
		want := map[string]string{
			"local ASN":        "CiliumBGPClusterConfig/cc spec.bgpInstances[0].localASN",
			"router ID":        "CiliumNode/n1 spec.addresses[0].ip",
			"peer ASN":         "CiliumBGPClusterConfig/cc spec.bgpInstances[0].peers[0].peerASN",
			"hold time":        "CiliumBGPPeerConfig/pc spec.timers.holdTimeSeconds",
			"connect retry":    "Cilium default",
			"TCP-MD5 password": "Secret/kube-system/md5 data.password",
		}
		for _, s := range ans.Settings {
			if w, ok := want[s.Name]; ok && s.From != w {
				t.Errorf("%s from %q, want %q", s.Name, s.From, w)
			}
			delete(want, s.Name)
		}
		if len(want) > 0 {
			t.Errorf("missing settings %v:\n%s", want, out)
		}
		if len(ans.Families) != 1 || !slices.Equal(ans.Families[0].Advertisements, []string{"CiliumBGPAdvertisement/services"}) {
			t.Errorf("families:\n%s", out)
		}
	}
	if _, err := Peer(in, "nobody"); err == nil || !strings.Contains(err.Error(), "its peers: tor (10.0.0.1), rr (10.0.0.2), bare (10.0.0.3)") {
		t.Errorf("an unknown peer: %v", err)
	}
}

func hostPrefix(q string) string {
	if strings.Contains(q, "/") {
		return q
	}
	a := netip.MustParseAddr(q)
	return netip.PrefixFrom(a, a.BitLen()).String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// service returns the Service of that name in s.
func service(s *model.Snapshot, name string) *corev1.Service {
	for _, svc := range s.Services {
		if svc.Name == name {
			if svc.Labels == nil {
				svc.Labels = map[string]string{}
			}
			return svc
		}
	}
	panic("no Service " + name)
}
