package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/manifest/manifesttest"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
	"github.com/frr-renderer/frr-renderer/internal/vtysh"
)

// Recognisable passwords: wherever one shows outside FRR, it leaked.
const (
	canary        = "Pw-Canary-7f3a9c"
	canaryRotated = "Pw-Canary-Rotated-5e1d"
)

// canaries are every password (usable or not) the secrets test feeds in.
var canaries = []string{canary, canaryRotated, canary + " spaced", strings.Repeat(canary, 6)}

// noCanary fails when text holds any of the passwords.
func noCanary(t *testing.T, what, text string) {
	t.Helper()
	for _, c := range canaries {
		if i := strings.Index(text, c); i >= 0 {
			t.Errorf("%s shows the password %q at byte %d:\n%s", what, c, i, text)
		}
	}
}

// secretManifest is the Secret of the seed's PeerConfig with password p.
func secretManifest(p string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata: {name: md5, namespace: kube-system}\nstringData:\n  password: \"" + p + "\"\n"
}

// TestPasswordOnlyInFRR feeds a recognisable password through every path frr-renderer has
// without a cluster (render, run at every verbosity with its health endpoints, diff against
// bgpd and against a file, explain, peers, routes, the applier's errors from FRR, and the
// files frr-renderer writes) and finds it only in FRR's running configuration and in render's
// neighbor password line.
//
// Each supported FRR version in turn, not in parallel: run stops on this process's SIGINT.
func TestPasswordOnlyInFRR(t *testing.T) {
	for _, v := range frrtest.Supported() {
		t.Run(string(v), func(t *testing.T) { testPasswordOnlyInFRR(t, v) })
	}
}

func testPasswordOnlyInFRR(t *testing.T, v frrtest.Version) {
	frrtest.Require(t, v)
	r := frrtest.Start(t, v, "secrets")
	version := map[frrtest.Version]string{frrtest.FRR8: "8", frrtest.FRR10: "10"}[v]
	dir := manifesttest.SeedCopy(t)
	manifesttest.Edit(t, filepath.Join(dir, "02-peer-config.yaml"), "spec:\n", "spec:\n  authSecretRef: md5\n")
	secretFile := filepath.Join(dir, "07-secret.yaml")
	setPassword := func(p string) {
		t.Helper()
		// Through a rename, so that the watcher never reads half a file.
		tmp := filepath.Join(t.TempDir(), "secret.yaml")
		if err := os.WriteFile(tmp, []byte(secretManifest(p)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, secretFile); err != nil {
			t.Fatal(err)
		}
	}
	setPassword(canary)
	facts := writeFile(t, "facts.yaml", "{}\n")
	input := []string{"--node", seedNode, "-f", dir, "--host-facts", facts, "--frr-version", version}
	target := []string{"--vty-socket", r.RunDir()}

	// render: the password is on stdout once, in the neighbor's password line, and nowhere else.
	out, errOut, code := runCmd(t, "", slices.Concat([]string{"render"}, input)...)
	if code != 0 {
		t.Fatalf("render: exit %d\n%s", code, errOut)
	}
	if got, want := strings.Count(out, canary), 1; got != want || !strings.Contains(out, " password "+canary+"\n") {
		t.Errorf("render prints the password %d times, want %d, in a password line:\n%s", got, want, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, canary) && !strings.HasPrefix(strings.TrimSpace(l), "neighbor ") {
			t.Errorf("render prints the password outside a neighbor line: %q", l)
		}
	}
	noCanary(t, "render's stderr", errOut)
	beforeConf := writeFile(t, "before.conf", out)

	// Passwords FRR cannot take: neither output quotes them.
	for _, bad := range canaries[2:] {
		setPassword(bad)
		out, errOut, _ := runCmd(t, "", slices.Concat([]string{"render"}, input)...)
		noCanary(t, "render of an unusable password", out+errOut)
		if !strings.Contains(errOut, "spec.authSecretRef") {
			t.Errorf("render of an unusable password does not say why:\n%s", errOut)
		}
	}

	// run, standalone, at each verbosity up to beyond the highest the code logs at (V(2)), in
	// both formats; each stops on SIGINT.
	stateFile := filepath.Join(r.RunDir(), "frr-renderer.state")
	portFile := filepath.Join(t.TempDir(), "listen-port")
	for verbosity := range 5 {
		logArgs := []string{"-v", fmt.Sprint(verbosity), "--log-format", []string{"json", "text"}[verbosity%2]}
		setPassword(canary)
		addr := freeAddr(t)
		var stderr testbin.SyncBuffer
		done := make(chan int, 1)
		args := slices.Concat([]string{"run", "--node", seedNode, "--watch", dir, "--host-facts", facts, "--frr-version", version,
			"--health-addr", addr, "--listen-port-file", portFile}, target, logArgs)
		go func() { done <- run(args, nil, io.Discard, &stderr) }()
		health := func() string {
			var b strings.Builder
			for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
				resp, err := http.Get("http://" + addr + p)
				if err != nil {
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				b.WriteString(p + ": " + string(body) + "\n")
			}
			return b.String()
		}
		runs := func(p string) func() error {
			return func() error {
				noCanary(t, "the health endpoints", health())
				got, err := r.RunningConfig()
				if err != nil {
					return err
				}
				if !strings.Contains(got, " password "+p+"\n") {
					return fmt.Errorf("bgpd does not run password %q yet", p)
				}
				return nil
			}
		}
		frrtest.WaitFor(t, waitLimit, runs(canary))
		setPassword(canaryRotated)
		frrtest.WaitFor(t, waitLimit, runs(canaryRotated))
		for i, bad := range canaries[2:] {
			setPassword(bad)
			frrtest.WaitFor(t, waitLimit, func() error {
				noCanary(t, "the health endpoints", health())
				if n := strings.Count(stderr.String(), "spec.authSecretRef"); n <= i {
					return fmt.Errorf("%d diagnostics about spec.authSecretRef logged, want %d", n, i+1)
				}
				return nil
			})
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-done:
			if c != 0 {
				t.Errorf("run %v: exit %d", logArgs, c)
			}
		case <-time.After(waitLimit):
			t.Fatalf("run %v did not stop on SIGINT", logArgs)
		}
		noCanary(t, "run's log "+strings.Join(logArgs, " "), stderr.String())
		// V(1) logs the lines sent, masked; V(2) is the highest level the code logs at.
		if verbosity >= 1 && !strings.Contains(stderr.String(), "password <redacted>") {
			t.Errorf("run %v logs no masked password line: the test sees no line that could leak:\n%s", logArgs, stderr.String())
		}
		if verbosity >= 2 && !strings.Contains(stderr.String(), "V2") {
			t.Errorf("run %v logs no V(2) record:\n%s", logArgs, stderr.String())
		}
	}
	if got, _ := r.RunningConfig(); !strings.Contains(got, " password "+canaryRotated+"\n") {
		t.Errorf("bgpd lost the last usable password:\n%s", got)
	}

	// diff against bgpd and against render's file, the password changed: masked on both sides.
	setPassword(canary)
	out, errOut, code = runCmd(t, "", slices.Concat([]string{"diff"}, input, target)...)
	if code != exitDiffChanges || !strings.Contains(out, "password <redacted>") {
		t.Errorf("diff against bgpd, the password changed: exit %d\n%s\n%s", code, out, errOut)
	}
	noCanary(t, "diff against bgpd", out+errOut)
	setPassword(canaryRotated)
	out, errOut, code = runCmd(t, "", slices.Concat([]string{"diff", "--against", beforeConf}, input)...)
	if code != exitDiffChanges || !strings.Contains(out, "password <redacted>") {
		t.Errorf("diff --against, the password changed: exit %d\n%s\n%s", code, out, errOut)
	}
	noCanary(t, "diff --against", out+errOut)

	// apply, the password changed back: what it prints is masked.
	setPassword(canary)
	out, errOut, code = runCmd(t, "", slices.Concat([]string{"apply"}, input, target)...)
	if code != 0 || !strings.Contains(out+errOut, "password <redacted>") {
		t.Errorf("apply, the password changed: exit %d\n%s\n%s", code, out, errOut)
	}
	noCanary(t, "apply", out+errOut)
	if got, _ := r.RunningConfig(); !strings.Contains(got, " password "+canary+"\n") {
		t.Errorf("apply did not change bgpd's password:\n%s", got)
	}

	// The operator's commands.
	for _, args := range [][]string{
		slices.Concat([]string{"explain", "FRRouter"}, input),
		slices.Concat([]string{"explain", seedToRIP, "-o", "json"}, input),
		slices.Concat([]string{"peers", "-o", "json"}, target),
		slices.Concat([]string{"peers"}, target),
		slices.Concat([]string{"routes", "-o", "json"}, target),
		slices.Concat([]string{"routes", "available"}, target),
	} {
		out, errOut, code := runCmd(t, "", args...)
		if code != 0 {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
		noCanary(t, strings.Join(args[:1], " "), out+errOut)
	}

	// An error from FRR about a password line (a neighbor that does not exist): the applier's
	// error, status and log quote it masked.
	rendered, err := os.ReadFile(beforeConf)
	if err != nil {
		t.Fatal(err)
	}
	desired := strings.Replace(string(rendered), " neighbor "+seedToRIP+" ", " neighbor 192.0.2.9 password "+canary+"\n neighbor "+seedToRIP+" ", 1)
	if desired == string(rendered) {
		t.Fatalf("render's configuration has no neighbor %s:\n%s", seedToRIP, rendered)
	}
	var applierLog testbin.SyncBuffer
	app := vtysh.NewApplier(vtysh.ApplierOptions{RunDir: r.RunDir(), Log: (&logFlags{verbosity: 4, format: "json"}).logger(&applierLog)})
	defer app.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_, err = app.Apply(ctx, []byte(desired))
	if err == nil {
		t.Errorf("bgpd took a password for a neighbor that does not exist")
	} else {
		noCanary(t, "the applier's error", err.Error())
		noCanary(t, "the applier's status", app.Status().Err.Error())
		t.Logf("bgpd refused: %v", err)
	}
	noCanary(t, "the applier's log", applierLog.String())

	// Files frr-renderer wrote (the state file, the listen-port file, temporary files) and the
	// manifests folder it watched: none holds a password; the state file is 0600.
	for _, root := range []string{r.RunDir(), filepath.Dir(portFile), dir} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			// FRR's own logs are FRR's: bgpd logs a line it refuses in full, password and all.
			if err != nil || !d.Type().IsRegular() || p == secretFile || strings.HasSuffix(p, ".log") || strings.HasSuffix(p, ".out") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			noCanary(t, p, string(b))
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
	if fi, err := os.Stat(stateFile); err != nil {
		t.Errorf("the state file: %v", err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("the state file %s has mode %v, want 0600", stateFile, fi.Mode().Perm())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
