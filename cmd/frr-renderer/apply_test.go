package main

import (
	"strings"
	"testing"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
)

// TestApplyCommand applies the seed's rendering for cp-1 to a real FRR: the first run prints
// the lines it sent, the second "no change"; FRR then runs what render prints.
func TestApplyCommand(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			r := frrtest.Start(t, v, "cmdapply")
			version := map[frrtest.Version]string{frrtest.FRR8: "8", frrtest.FRR10: "10"}[v]
			facts := writeFile(t, "facts.yaml", "{}\n")
			args := []string{"apply", "--node", "cp-1", "-f", "../../examples/seed/hands-on", "--host-facts", facts,
				"--frr-version", version, "--vty-socket", r.RunDir()}

			out, errOut, code := runCmd(t, "", args...)
			if code != 0 || !strings.Contains(out, "router bgp 65001\n") || !strings.Contains(out, "  network 172.20.0.1/32 route-map CILIUM-ORIGIN-") {
				t.Fatalf("first apply: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			out, errOut, code = runCmd(t, "", args...)
			if code != 0 || out != "no change\n" {
				t.Fatalf("second apply: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}

			rendered, errOut, code := runCmd(t, "", "render", "--node", "cp-1", "-f", "../../examples/seed/hands-on", "--host-facts", facts, "--frr-version", version)
			if code != 0 {
				t.Fatalf("render: exit %d: %s", code, errOut)
			}
			got, err := r.RunningConfig()
			if err != nil {
				t.Fatal(err)
			}
			if d := frrtest.DiffBlocks(rendered, got); d != "" {
				t.Errorf("FRR runs (-rendered +running):\n%s", d)
			}
		})
	}
}

func TestApplyCommandErrors(t *testing.T) {
	dir := t.TempDir()
	facts := writeFile(t, "facts.yaml", "{}\n")
	seed := []string{"-f", "../../examples/seed/hands-on", "--host-facts", facts}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no node", []string{"apply", "--vty-socket", dir}, 2, "--node is required"},
		{"bad version", append([]string{"apply", "--node", "cp-1", "--frr-version", "7", "--vty-socket", dir}, seed...), 2, "not supported"},
		{"no -f", []string{"apply", "--node", "cp-1", "--vty-socket", dir}, 2, "-f is required"},
		{"no bgpd", append([]string{"apply", "--node", "cp-1", "--vty-socket", dir}, seed...), 1, "bgpd is not running: no vty socket " + dir + "/bgpd.vty"},
		{"no pathspace", append([]string{"apply", "--node", "cp-1", "--pathspace", "frr-renderer-test-missing"}, seed...), 1, "FRR run directory /var/run/frr/frr-renderer-test-missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", tc.args...)
			if code != tc.wantCode || !strings.Contains(errOut, tc.wantErr) || out != "" {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s\nwant stderr with %q", code, tc.wantCode, out, errOut, tc.wantErr)
			}
		})
	}
}

// TestApplyCommandMasksPasswords: what apply prints never shows a password; a BGP instance that
// frr-renderer did not render in the way makes it fail.
func TestApplyCommandMasksPasswords(t *testing.T) {
	r := frrtest.Start(t, frrtest.FRR8, "cmdmask")
	secret := writeFile(t, "secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: md5, namespace: kube-system}\nstringData: {password: Very-Secret-1}\n")
	manifests := writeFile(t, "in.yaml", node+"---\n"+clusterConfig+"---\n"+peerConfig)
	facts := writeFile(t, "facts.yaml", "{}\n")
	args := []string{"apply", "--node", "n1", "-f", manifests, "-f", secret, "--host-facts", facts, "--frr-version", "8", "--vty-socket", r.RunDir()}
	if err := r.Load("router bgp 65099\n"); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCmd(t, "", args...)
	if code != 1 || !strings.Contains(errOut, `"router bgp 65001" cannot be configured: FRR runs "router bgp 65099"`) {
		t.Errorf("a foreign instance in the way: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if _, err := r.Vtysh("-c", "configure terminal", "-c", "no router bgp 65099"); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCmd(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "Very-Secret-1") || !strings.Contains(out, "password <redacted>") {
		t.Errorf("the password is not masked:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
}
