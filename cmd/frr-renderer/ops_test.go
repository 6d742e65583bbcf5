package main

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/nodestatus"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// The unit tests of the operator commands: exact tables and JSON from fixed data. Their output
// from a real FRR is ops_frr_test.go's.

var goldenNow = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func TestPeersOutput(t *testing.T) {
	sessions := []vtysh.Session{
		{LocalAS: 65001, Peer: netip.MustParseAddr("192.168.10.1"), RemoteAS: 65000, State: "Established", Uptime: 33*time.Minute + 26*time.Second,
			Families: []vtysh.FamilyCount{{AFI: "ipv4", SAFI: "unicast", Advertised: 2}, {AFI: "ipv6", SAFI: "unicast", Advertised: 1}}},
		{LocalAS: 65001, Peer: netip.MustParseAddr("fd00:10::1"), RemoteAS: 65000, State: "Active",
			Families: []vtysh.FamilyCount{{AFI: "ipv6", SAFI: "unicast"}}},
		{View: "blue", LocalAS: 65010, Peer: netip.MustParseAddr("10.0.0.1"), RemoteAS: 65010, State: "OpenSent"},
	}
	rows := peersFromSessions("cp-1", sessions)
	for _, format := range []outputFormat{outputTable, outputJSON, outputYAML} {
		var b bytes.Buffer
		if err := writeOutput(&b, format, rows, func(w io.Writer) error { return writePeersTable(w, rows) }); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "peers/local."+string(format), b.String())
	}
}

// TestPeersFromNodeConfigs is the Kubernetes mode: every node's row from the CiliumBGPNodeConfig
// statuses, listed through a (fake) dynamic client.
func TestPeersFromNodeConfigs(t *testing.T) {
	status := func(node, established string, adv int32) *unstructured.Unstructured {
		nc := model.CiliumBGPNodeConfig{Status: model.CiliumBGPNodeConfigStatus{BGPInstances: []model.CiliumBGPNodeInstanceStatus{{
			Name: "main", LocalASN: ptr[int64](65001),
			PeerStatuses: []model.CiliumBGPNodePeerStatus{{
				Name: "tor", PeerAddress: "192.168.10.1", PeerASN: ptr[int64](65000), PeeringState: ptr(model.PeeringStateEstablished),
				EstablishedTime: ptr(established),
				RouteCount:      []model.BGPFamilyRouteCount{{AFI: "ipv4", SAFI: "unicast", Received: ptr[int32](0), Advertised: ptr(adv)}},
			}},
		}}}}
		nc.APIVersion, nc.Kind, nc.Name = "cilium.io/v2", model.KindCiliumBGPNodeConfig, node
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&nc)
		if err != nil {
			t.Fatal(err)
		}
		return &unstructured.Unstructured{Object: obj}
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{nodestatus.GVR: "CiliumBGPNodeConfigList"},
		status("worker-2", "2026-12-05T09:00:00Z", 3), status("worker-1", "2026-12-05T09:59:30Z", 2))
	ncs, err := listNodeConfigs(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	rows := peersFromNodeConfigs(ncs, goldenNow)
	for _, format := range []outputFormat{outputTable, outputJSON} {
		var b bytes.Buffer
		if err := writeOutput(&b, format, rows, func(w io.Writer) error { return writePeersTable(w, rows) }); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "peers/cluster."+string(format), b.String())
	}
}

func TestRoutesOutput(t *testing.T) {
	sessions := []vtysh.Session{{LocalAS: 65001}, {View: "blue", LocalAS: 65010}}
	lp := uint32(200)
	routes := []vtysh.Route{
		{Prefix: netip.MustParsePrefix("172.20.0.1/32"), AFI: "ipv4", SAFI: "unicast", Peer: netip.MustParseAddr("192.168.10.1"),
			NextHop: "192.168.10.11", LastUpdate: goldenNow.Add(-75 * time.Second), Best: true, ASPath: "65001", Origin: "IGP",
			Communities: []string{"65000:100", "no-export"}, LargeCommunities: []string{"65000:1:1"}},
		{Prefix: netip.MustParsePrefix("2001:db8::/64"), AFI: "ipv6", SAFI: "unicast", Peer: netip.MustParseAddr("fd00::2"),
			NextHop: "fd00::11", LastUpdate: goldenNow.Add(-2 * time.Hour), Best: true, Origin: "IGP", LocalPref: &lp},
		{View: "blue", Prefix: netip.MustParsePrefix("10.1.0.0/24"), AFI: "ipv4", SAFI: "unicast", Peer: netip.MustParseAddr("10.0.0.1"),
			NextHop: "10.0.0.11", Best: true, Origin: "incomplete", Unresolved: `route-map X entry 10: "match ip address prefix-list L" is not evaluated here`},
	}
	rows := routeRows("cp-1", routes, sessions, goldenNow)
	for _, format := range []outputFormat{outputTable, outputJSON} {
		var b bytes.Buffer
		if err := writeOutput(&b, format, rows, func(w io.Writer) error { return writeRoutesTable(w, tableAdvertised, rows) }); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "routes/advertised."+string(format), b.String())
	}
	var b bytes.Buffer
	for i := range routes {
		routes[i].Peer = netip.Addr{}
	}
	rows = routeRows("cp-1", routes, sessions, goldenNow)
	if err := writeRoutesTable(&b, tableAvailable, rows); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "routes/available.table", b.String())
}

func TestRoutesUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args    []string
		code    int
		wantErr string
	}{
		{[]string{"routes", "received"}, 2, `"received" is not a route table`},
		{[]string{"routes", "--peer", "x"}, 2, `--peer "x" is not an IP address`},
		{[]string{"routes", "available", "--peer", "10.0.0.1"}, 2, "--peer applies to advertised routes only"},
		{[]string{"routes", "--family", "l2vpn"}, 2, `--family "l2vpn" is not ipv4 or ipv6`},
		{[]string{"routes", "-o", "xml"}, 2, `"xml" is not one of table, json, yaml`},
		{[]string{"routes", "--vty-socket", dir}, 1, "bgpd does not answer on " + dir + "/bgpd.vty"},
		{[]string{"peers", "--vty-socket", dir}, 1, "bgpd does not answer on " + dir + "/bgpd.vty"},
	} {
		t.Setenv("KUBERNETES_SERVICE_HOST", "")
		t.Setenv("KUBECONFIG", "")
		out, errOut, code := runCmd(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.wantErr) || out != "" {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d and %q", tc.args, code, out, errOut, tc.code, tc.wantErr)
		}
	}
}

const (
	explainManifests = "../../internal/explain/testdata/base.yaml"
	explainFacts     = "../../internal/explain/testdata/facts.yaml"
)

func TestExplainOutput(t *testing.T) {
	for _, tc := range []struct{ name, query string }{
		{"advertised", "172.20.0.1"},
		{"not-advertised", "172.20.0.5"},
		{"peer", "tor"},
	} {
		for _, format := range []outputFormat{outputTable, outputJSON} {
			out, errOut, code := runCmd(t, "", "explain", "--node", "n1", "-f", explainManifests, "--host-facts", explainFacts, "-o", string(format), tc.query)
			if code != 0 {
				t.Fatalf("%s: exit %d\n%s", tc.name, code, errOut)
			}
			if strings.Contains(out+errOut, "Explain-Secret-42") {
				t.Fatalf("%s: the password shows:\n%s\n%s", tc.name, out, errOut)
			}
			checkGolden(t, "explain/"+tc.name+"."+string(format), out)
		}
	}
	_, errOut, code := runCmd(t, "", "explain", "--node", "n1", "-f", explainManifests, "--host-facts", explainFacts, "nobody")
	if code != 1 || !strings.Contains(errOut, `node n1 has no peer named or addressed "nobody"`) {
		t.Errorf("an unknown peer: exit %d: %s", code, errOut)
	}
	_, errOut, code = runCmd(t, "", "explain", "--node", "n1", "-f", explainManifests)
	if code != 2 || !strings.Contains(errOut, "explain takes one prefix, address or peer name") {
		t.Errorf("no query: exit %d: %s", code, errOut)
	}
}

// TestDiffAgainst compares two renderings without FRR: a changed password shows masked on both
// sides of the diff and in the lines apply would send, never in clear.
func TestDiffAgainst(t *testing.T) {
	const (
		oldPassword = "Old-Secret-Word-1"
		newPassword = "New-Secret-Word-2"
	)
	facts := writeFile(t, "facts.yaml", "{}\n")
	secret := func(p string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: md5, namespace: kube-system}\nstringData: {password: " + p + "}\n"
	}
	before := writeFile(t, "before.yaml", node+"---\n"+clusterConfig+"---\n"+peerConfig+"---\n"+secret(oldPassword))
	after := writeFile(t, "after.yaml", node+"---\n"+clusterConfig+"---\n"+peerConfig+"---\n"+secret(newPassword))
	rendered, errOut, code := runCmd(t, "", "render", "--node", "n1", "-f", before, "--host-facts", facts)
	if code != 0 || !strings.Contains(rendered, oldPassword) {
		t.Fatalf("render: exit %d: %s", code, errOut)
	}
	againstFile := writeFile(t, "before.conf", rendered)

	out, errOut, code := runCmd(t, "", "diff", "--node", "n1", "-f", before, "--host-facts", facts, "--against", againstFile)
	if code != 0 || out != "no change\n" {
		t.Errorf("the same rendering: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runCmd(t, "", "diff", "--node", "n1", "-f", after, "--host-facts", facts, "--against", againstFile)
	if code != 1 {
		t.Fatalf("a new password: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, oldPassword) || strings.Contains(out+errOut, newPassword) {
		t.Fatalf("a password shows:\n%s\n%s", out, errOut)
	}
	checkGolden(t, "diff/password.txt", strings.ReplaceAll(out, againstFile, "before.conf"))

	_, errOut, code = runCmd(t, "", "diff", "--node", "n1", "-f", after, "--against", "/nonexistent.conf", "--host-facts", facts)
	if code != 2 || !strings.Contains(errOut, "/nonexistent.conf") {
		t.Errorf("a missing file: exit %d: %s", code, errOut)
	}
	_, errOut, code = runCmd(t, "", "diff", "--node", "n1", "--against", againstFile)
	if code != 2 || !strings.Contains(errOut, "-f is required") {
		t.Errorf("no -f: exit %d: %s", code, errOut)
	}
}

// TestHelpAndVersion: --help exits 0 with examples on every command; version names FRR or says
// it cannot reach it.
func TestHelpAndVersion(t *testing.T) {
	for _, c := range []string{"render", "apply", "run", "diff", "peers", "routes", "explain", "version"} {
		out, errOut, code := runCmd(t, "", c, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--") || errOut != "" {
			t.Errorf("%s --help: exit %d\n%s\n%s", c, code, out, errOut)
		}
	}
	out, _, code := runCmd(t, "", "version", "--vty-socket", t.TempDir())
	if code != 0 || !strings.HasPrefix(out, "frr-renderer ") || !strings.Contains(out, "FRR: unknown: bgpd is not running here") {
		t.Errorf("version: exit %d\n%s", code, out)
	}
	_, errOut, code := runCmd(t, "", "bogus")
	if code != 2 || !strings.Contains(errOut, `unknown command "bogus"`) {
		t.Errorf("an unknown command: exit %d\n%s", code, errOut)
	}
	t.Setenv(nodeFromEnv, "worker-1")
	out, errOut, code = runCmd(t, "", "render")
	if code != 0 || !strings.Contains(out, "frr.conf for node worker-1") || strings.Contains(out, "node cp-1") {
		t.Errorf("render with $NODE_NAME: exit %d\n%s\n%s", code, out, errOut)
	}
}
