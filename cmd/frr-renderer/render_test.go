package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const node = `apiVersion: cilium.io/v2
kind: CiliumNode
metadata: {name: n1}
spec:
  addresses: [{type: InternalIP, ip: 10.0.0.11}]
`

const clusterConfig = `apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata: {name: cc}
spec:
  bgpInstances:
  - name: main
    localASN: 65001
    peers:
    - {name: tor, peerASN: 65000, peerAddress: 10.0.0.1, peerConfigRef: {name: pc}}
`

const peerConfig = `apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: pc}
spec:
  authSecretRef: md5
`

func TestRenderCommand(t *testing.T) {
	emptyFacts := writeFile(t, "facts.yaml", "{}\n")
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: md5, namespace: kube-system}\nstringData: {password: Very-Secret-1}\n"
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantOut    []string
		wantErr    []string
		notInOut   []string
		notInErrOr []string
	}{
		{
			name:     "seed with no input renders every node",
			args:     []string{"render"},
			wantCode: 0,
			wantOut:  []string{"! ===== node cp-1 =====", "! ===== node worker-2 =====", " bgp router-id 192.168.10.13", "  network 172.20.0.1/32 route-map CILIUM-ORIGIN-"},
		},
		{
			name:     "one node of the seed",
			args:     []string{"render", "--node", "worker-1"},
			wantCode: 0,
			wantOut:  []string{" bgp router-id 192.168.10.12", " neighbor 192.168.10.1 remote-as 65000"},
			notInOut: []string{"=====", "192.168.10.13"},
		},
		{
			name:       "stdin with a password: on stdout, never on stderr",
			args:       []string{"render", "--node", "n1", "--host-facts", emptyFacts, "-f", "-"},
			stdin:      node + "---\n" + clusterConfig + "---\n" + peerConfig + "---\n" + secret,
			wantCode:   0,
			wantOut:    []string{" neighbor pc password Very-Secret-1"},
			notInErrOr: []string{"Very-Secret-1"},
		},
		{
			name:     "missing Secret: empty password, error line naming the object and field, exit 0",
			args:     []string{"render", "--node", "n1", "--host-facts", emptyFacts, "-f", "-"},
			stdin:    node + "---\n" + clusterConfig + "---\n" + peerConfig,
			wantCode: 0,
			wantErr:  []string{`error: CiliumBGPPeerConfig/pc: spec.authSecretRef: failed to fetch Secret "kube-system/md5": not found`},
			notInOut: []string{"password"},
		},
		{
			name:     "secrets namespace flag",
			args:     []string{"render", "--node", "n1", "--host-facts", emptyFacts, "--secrets-namespace", "bgp", "-f", "-"},
			stdin:    node + "---\n" + clusterConfig + "---\n" + peerConfig + "---\n" + secret,
			wantCode: 0,
			wantErr:  []string{`Secret "bgp/md5": not found`},
		},
		{
			name:     "missing PeerConfig is a warning",
			args:     []string{"render", "--node", "n1", "--host-facts", emptyFacts, "-f", "-"},
			stdin:    node + "---\n" + clusterConfig,
			wantCode: 0,
			wantErr:  []string{"warning: CiliumBGPClusterConfig/cc: spec.bgpInstances[0].peers[0].peerConfigRef.name: CiliumBGPPeerConfig \"pc\" not found"},
			notInOut: []string{"10.0.0.1 remote-as"},
		},
		{
			name:     "unknown node",
			args:     []string{"render", "--node", "nope", "--host-facts", emptyFacts, "-f", "-"},
			stdin:    node,
			wantCode: 1,
			wantErr:  []string{`render: node "nope" not found`},
		},
		{
			name:     "unparseable YAML",
			args:     []string{"render", "--node", "n1", "-f", "-"},
			stdin:    "kind: [unclosed\n",
			wantCode: 1,
			wantErr:  []string{"render: <stdin>"},
		},
		{
			name:     "FRR 8 dialect",
			args:     []string{"render", "--node", "worker-1", "--frr-version", "8.4"},
			wantCode: 0,
			wantOut:  []string{"router bgp 65001"},
		},
		{name: "bad FRR version", args: []string{"render", "--frr-version", "7"}, wantCode: 2, wantErr: []string{"not supported"}},
		{name: "-f needs --node", args: []string{"render", "-f", "-"}, wantCode: 2, wantErr: []string{"--node is required"}},
		{name: "no command", args: nil, wantCode: 2, wantErr: []string{"Usage:"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantErr: []string{`unknown command "frobnicate"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tt.wantCode, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notInOut {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			for _, w := range tt.notInErrOr {
				if strings.Contains(errOut, w) {
					t.Errorf("stderr has %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// Cilium's agent options are flags of render (and run), with Cilium's defaults.
func TestRenderAgentFlags(t *testing.T) {
	facts := writeFile(t, "facts.yaml", "{}\n")
	pc := "apiVersion: cilium.io/v2\nkind: CiliumBGPPeerConfig\nmetadata: {name: pc}\nspec:\n  families: [{afi: ipv4, safi: unicast, advertisements: {matchLabels: {a: b}}}]\n"
	adv := "apiVersion: cilium.io/v2\nkind: CiliumBGPAdvertisement\nmetadata: {name: adv, labels: {a: b}}\nspec:\n  advertisements: [{advertisementType: Service, service: {addresses: [LoadBalancerIP]}, selector: {matchLabels: {app: web}}}]\n"
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {app: web}}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: 172.20.0.1}]}}\n"
	in := strings.Join([]string{node, clusterConfig, pc, adv, svc}, "---\n")
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
		absent   string
	}{
		{name: "defaults: ORIGIN IGP", want: "network 172.20.0.1/32 route-map CILIUM-ORIGIN-", absent: "INCOMPLETE"},
		{name: "legacy origin", args: []string{"--enable-bgp-legacy-origin-attribute"}, want: "set origin incomplete"},
		{name: "no endpoints, not routable", args: []string{"--enable-no-service-endpoints-routable=false"}, absent: "172.20.0.1"},
		{name: "another proxy's Services only", args: []string{"--k8s-service-proxy-name", "other"}, absent: "172.20.0.1"},
		{name: "a bad allocation mode", args: []string{"--bgp-router-id-allocation-mode", "random"}, wantCode: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, in, append([]string{"render", "--node", "n1", "-f", "-", "--host-facts", facts}, tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, errOut)
			}
			if tc.want != "" && !strings.Contains(out, tc.want) {
				t.Errorf("no %q in:\n%s", tc.want, out)
			}
			if tc.absent != "" && strings.Contains(out, tc.absent) {
				t.Errorf("%q in:\n%s", tc.absent, out)
			}
		})
	}
}

// An instance left out for an error in its input (here an IPv6-only node with no router ID) is
// an error no one can miss: render prints the rest and exits 1, apply sends nothing, diff shows
// the change and calls it trouble.
func TestDroppedInstanceFails(t *testing.T) {
	facts := writeFile(t, "facts.yaml", "{}\n")
	v6Node := "apiVersion: cilium.io/v2\nkind: CiliumNode\nmetadata: {name: n1}\nspec:\n  addresses: [{type: InternalIP, ip: \"fd00::11\"}]\n"
	in := writeFile(t, "in.yaml", v6Node+"---\n"+clusterConfig)
	const why = `BGP instances not configured for errors in their input (above): "main"`

	out, errOut, code := runCmd(t, "", "render", "--node", "n1", "-f", in, "--host-facts", facts)
	if code != 1 || !strings.Contains(errOut, `render: node "n1": `+why) || !strings.Contains(errOut, "no IPv4 address to use as router ID") {
		t.Errorf("render: exit %d, want 1 with %q\nstderr:\n%s", code, why, errOut)
	}
	if !strings.Contains(out, `! BGP instance "main" is NOT configured`) || strings.Contains(out, "router bgp") {
		t.Errorf("render's output does not say the instance is missing:\n%s", out)
	}

	// No FRR at the socket: a refused apply never gets as far as looking for one.
	dir := t.TempDir()
	out, errOut, code = runCmd(t, "", "apply", "--node", "n1", "-f", in, "--host-facts", facts, "--vty-socket", dir)
	if code != 1 || !strings.Contains(errOut, why+": nothing applied") || strings.Contains(errOut, "bgpd is not running") || out != "" {
		t.Errorf("apply: exit %d, want 1 having sent nothing\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	good := writeFile(t, "good.yaml", node+"---\n"+clusterConfig)
	before, errOut, code := runCmd(t, "", "render", "--node", "n1", "-f", good, "--host-facts", facts)
	if code != 0 {
		t.Fatalf("render: exit %d: %s", code, errOut)
	}
	out, errOut, code = runCmd(t, "", "diff", "--node", "n1", "-f", in, "--host-facts", facts, "--against", writeFile(t, "before.conf", before))
	if code != 2 || !strings.Contains(errOut, why+": apply would refuse it") || !strings.Contains(out, "-router bgp 65001") {
		t.Errorf("diff: exit %d, want 2 with the diff shown\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestRenderFailsWhenAnInstanceIsMissing: `render > frr.conf` must not succeed with a file that
// lacks an instance the input asks for (issue 13, item 8): FRR given it would drop the instance
// and withdraw its routes. The other instances are still printed.
func TestRenderFailsWhenAnInstanceIsMissing(t *testing.T) {
	facts := writeFile(t, "facts.yaml", "{}\n")
	secret := func(password string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: md5, namespace: kube-system}\nstringData: {password: " + password + "}\n"
	}
	second := `apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata: {name: cc}
spec:
  bgpInstances:
  - name: main
    localASN: 65001
    peers:
    - {name: tor, peerASN: 65000, peerAddress: 10.0.0.1, peerConfigRef: {name: pc}}
  - name: other
    localASN: 65002
    peers:
    - {name: tor2, peerASN: 65000, peerAddress: 10.0.0.2}
`
	tests := []struct {
		name     string
		input    []string
		wantCode int
		missing  string // the instance the output must say is missing
		wantErr  string
		wantOut  string
	}{
		{
			name:     "localASN 0, the only instance",
			input:    []string{node, strings.Replace(clusterConfig, "localASN: 65001", "localASN: 0", 1)},
			wantCode: 1,
			missing:  "main",
			wantErr:  "spec.bgpInstances[0].localASN: 0 is not an ASN",
		},
		{
			name:     "a password FRR cannot take, the only instance",
			input:    []string{node, clusterConfig, peerConfig, secret(`"has space"`)},
			wantCode: 1,
			missing:  "main",
			wantErr:  `key "password": must be printable ASCII without spaces`,
		},
		{
			name:     "a password with a newline, the only instance",
			input:    []string{node, clusterConfig, peerConfig, secret(`"a\nrouter bgp 1"`)},
			wantCode: 1,
			missing:  "main",
			wantErr:  `key "password": must be printable ASCII without spaces`,
		},
		{
			name:     "one of two instances fails: the other is printed, exit 1 all the same",
			input:    []string{node, second, peerConfig, secret(`"has space"`)},
			wantCode: 1,
			missing:  "main",
			wantOut:  "router bgp 65002\n",
		},
		{
			name:     "every instance configured",
			input:    []string{node, clusterConfig, peerConfig, secret("Very-Secret-1")},
			wantCode: 0,
			wantOut:  "router bgp 65001",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := writeFile(t, "in.yaml", strings.Join(tt.input, "---\n"))
			out, errOut, code := runCmd(t, "", "render", "--node", "n1", "-f", in, "--host-facts", facts)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			if tt.missing != "" {
				if want := "BGP instances not configured for errors in their input (above): " + strconv.Quote(tt.missing); !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
				if want := `! BGP instance "` + tt.missing + `" is NOT configured`; !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if tt.wantErr != "" && !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errOut)
			}
			if tt.wantOut != "" && !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, out)
			}
			if strings.Contains(errOut, "has space") || strings.Contains(errOut, "Very-Secret-1") {
				t.Errorf("stderr quotes the password:\n%s", errOut)
			}
		})
	}
}

// TestRenderNeverPrintsAPassword feeds a recognisable password through the ways a Secret can
// be spelled that its text does not show, each with errors and warnings that quote values:
// whatever render says on stderr, the password is not in it.
func TestRenderNeverPrintsAPassword(t *testing.T) {
	const password = "Rndr-Pw-7q2Z"
	encoded := base64.StdEncoding.EncodeToString([]byte(password))
	facts := writeFile(t, "facts.yaml", "{}\n")
	spellings := map[string]string{
		"plain":                      "apiVersion: v1\nkind: Secret\n",
		"kind with an escape":        "apiVersion: v1\nkind: \"Secre\\u0074\"\n",
		"kind across a continuation": "apiVersion: v1\nkind: \"Sec\\\n  ret\"\n",
		"in a List spelled so":       "apiVersion: v1\nkind: \"Lis\\u0074\"\nitems:\n- apiVersion: v1\n  kind: \"Secre\\u0074\"\n",
		"in a SecretList, kind-less": "apiVersion: v1\nkind: SecretLis\\x74\nitems:\n- ",
	}
	bodies := map[string]string{
		"a tag that does not fit":     "metadata: {name: md5, namespace: kube-system}\nstringData:\n  password: !!int " + password + "\n",
		"a mapping used as a key":     "metadata: {name: md5, namespace: kube-system}\nstringData:\n  ? {password: " + password + "}\n  : x\n",
		"base64 with a tag":           "metadata: {name: md5, namespace: kube-system}\ndata:\n  password: !!int " + encoded + "\n",
		"a time that does not parse":  "metadata: {name: md5, namespace: kube-system, creationTimestamp: \"" + password + "\"}\n",
		"unknown field and duplicate": "metadata: {name: md5, namespace: kube-system}\nstringData:\n  password: " + password + "\n  password: " + password + "\npasswrd: " + password + "\n",
	}
	for sname, spelling := range spellings {
		for bname, body := range bodies {
			t.Run(sname+"/"+bname, func(t *testing.T) {
				if strings.HasSuffix(spelling, "\n") && strings.Contains(spelling, "items:") {
					body = "  " + strings.ReplaceAll(strings.TrimSuffix(body, "\n"), "\n", "\n  ") + "\n"
				} else if strings.HasSuffix(spelling, "- ") {
					body = strings.ReplaceAll(strings.TrimSuffix(body, "\n"), "\n", "\n  ") + "\n"
				}
				in := writeFile(t, "in.yaml", node+"---\n"+clusterConfig+"---\n"+peerConfig+"---\n"+spelling+body)
				_, stderr, _ := runCmd(t, "", "render", "--node", "n1", "--host-facts", facts, "-f", in)
				if stderr == "" {
					t.Fatalf("nothing said on stderr about\n%s", spelling+body)
				}
				if strings.Contains(stderr, password) || strings.Contains(stderr, encoded) {
					t.Errorf("stderr quotes the password:\n%s", stderr)
				}
			})
		}
	}
}
