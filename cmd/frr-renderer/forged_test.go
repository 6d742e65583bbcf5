package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// forged is what hostile input appends to a value: a line of its own that reads as a
// diagnostic.
const forged = "\nerror: CiliumBGPClusterConfig/forged: spec: FORGED"

// diagnosticLine is every line render may write to stderr: a diagnostic naming its object, or
// the command's own error line.
var diagnosticLine = regexp.MustCompile(`^((error|warning): [A-Za-z]+/\S|render: )`)

// TestNoForgedStderrLines feeds values that hold a line break through render (object names and
// spec values, Secret references, interface names, flags) and checks that every stderr line is
// one diagnostic: none of them starts a line of its own (issue 13, item 4).
func TestNoForgedStderrLines(t *testing.T) {
	facts := writeFile(t, "facts.yaml", "interfaces:\n- {name: eth0, adminUp: true, operState: up, addresses: [10.0.0.11/24]}\n")
	q := func(s string) string { return strings.ReplaceAll(s, "\n", `\n`) } // as a YAML double-quoted string
	manifests := strings.Join([]string{
		node,
		`apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata: {name: cc}
spec:
  bgpInstances:
  - name: main
    localASN: 65001
    peers:
    - {name: "tor` + q(forged) + `", peerASN: 65000, peerAddress: 10.0.0.1, peerConfigRef: {name: pc}}
    - {name: "src` + q(forged) + `", peerASN: 65000, peerAddress: 10.0.0.2, peerConfigRef: {name: src}}
    - {name: ghost, peerASN: 65000, peerAddress: 10.0.0.3, peerConfigRef: {name: "missing` + q(forged) + `"}}
    - {name: "bad address", peerASN: 65000, peerAddress: "10.0.0.4` + q(forged) + `"}
    - {name: fam, peerASN: 65000, peerAddress: 10.0.0.5, peerConfigRef: {name: fam}}
  - name: "blue team` + q(forged) + `"
    localASN: 4294967296
`,
		`apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: pc}
spec:
  authSecretRef: "md5` + q(forged) + `"
  families: [{afi: ipv4, safi: unicast, advertisements: {matchLabels: {adv: "yes"}}}]
`,
		`apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: src}
spec:
  transport: {sourceInterface: "eth9` + q(forged) + `"}
`,
		`apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: fam}
spec:
  families: [{afi: "ipv4` + q(forged) + `", safi: unicast}]
`,
		`apiVersion: cilium.io/v2
kind: CiliumBGPAdvertisement
metadata: {name: adv, labels: {adv: "yes"}}
spec:
  advertisements:
  - advertisementType: Service
    service: {addresses: [LoadBalancerIP, "NodeIP` + q(forged) + `"]}
    selector: {matchLabels: {app: web}}
    attributes:
      communities: {standard: ["65000:1` + q(forged) + `"], wellKnown: ["no-export` + q(forged) + `"], large: ["1:2:3` + q(forged) + `"]}
  - advertisementType: Interface
    interface: {name: "lo` + q(forged) + `"}
`,
		`apiVersion: v1
kind: Service
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
status: {loadBalancer: {ingress: [{ip: "172.20.0.1` + q(forged) + `"}, {ip: 172.20.0.2}]}}
`,
		`apiVersion: v1
kind: Service
metadata: {name: "api` + q(forged) + `", namespace: "default` + q(forged) + `", labels: {app: web}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
status: {loadBalancer: {ingress: [{ip: 0.0.0.0}]}}
`,
	}, "---\n")
	in := writeFile(t, "in.yaml", manifests)
	// opening quotes s followed by the forged line, up to where the quoted value goes on.
	opening := func(s string) string { q := strconv.Quote(s + forged); return q[:len(q)-1] }
	for _, tc := range []struct {
		name   string
		args   []string
		quoted []string // values that stderr must show quoted
	}{
		{name: "values in the input", args: []string{"--node", "n1"}, quoted: []string{
			"Secret " + opening("kube-system/md5") + `"`,
			"interface " + opening("eth9") + `"`,
			"family " + opening("ipv4") + `/unicast"`,
			"CiliumBGPPeerConfig " + opening("missing") + `"`,
			"(above): " + opening("blue team") + `"`, // an instance name FRR cannot take is mapped, not refused: its failure quotes it
			"Service/" + opening("default") + `"/` + opening("api") + `"`,
		}},
		{name: "and in flags", args: []string{"--node", "n1", "--secrets-namespace", "kube" + forged, "--k8s-service-proxy-name", "proxy" + forged}, quoted: []string{
			"Secret " + opening("kube") + "/md5",
		}},
		{name: "a node name", args: []string{"--node", "n1" + forged}, quoted: []string{"node " + opening("n1") + `"`}},
		{name: "a flag value", args: []string{"--node", "n1", "--ipam", "pool" + forged}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, _ := runCmd(t, "", append([]string{"render", "-f", in, "--host-facts", facts}, tc.args...)...)
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			if len(lines) < 2 && tc.name == "values in the input" {
				t.Fatalf("want diagnostics, got:\n%s", errOut)
			}
			for i, l := range lines {
				if strings.HasPrefix(l, "Run '") && i == len(lines)-1 {
					continue // usage hint after a flag error
				}
				if !diagnosticLine.MatchString(l) || strings.HasPrefix(l, "error: CiliumBGPClusterConfig/forged") {
					t.Errorf("stderr line %d is no diagnostic of its own: %q", i+1, l)
				}
			}
			for _, want := range tc.quoted {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr does not quote %s", want)
				}
			}
			if t.Failed() {
				t.Logf("stderr:\n%s", errOut)
			}
		})
	}
}
