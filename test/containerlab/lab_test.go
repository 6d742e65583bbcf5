// Package containerlab tests the seed's lab (seed.clab.yml) the way a network engineer tries a
// BGP design: deployed with containerlab from the project's images, checked from the ToR's
// tables and from a client behind the ToR that fetches the LoadBalancer IP over the routes the
// nodes advertise.
package containerlab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frr-renderer/frr-renderer/internal/testbin"
)

const (
	lab      = "clab-frr-renderer-seed-"
	seedIP   = "172.20.0.1"
	secondIP = "172.20.0.2"
	waitLong = 2 * time.Minute
	svcFile  = "manifests/05-http-test.yaml"
)

var nodes = []struct{ name, addr, torPort string }{
	{"cp-1", "192.168.10.11", "eth1"},
	{"worker-1", "192.168.10.12", "eth2"},
	{"worker-2", "192.168.10.13", "eth3"},
}

type labEnv struct {
	t    *testing.T
	dir  string
	env  []string
	mu   sync.Mutex
	pids map[string]string // container -> its process, for nsenter: faster than docker exec
}

func TestSeedLab(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the containerlab lab needs root")
		}
		t.Skip("the containerlab lab needs root")
	}
	root, err := testbin.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	l := &labEnv{t: t, dir: t.TempDir(), pids: map[string]string{}}
	out, err := exec.Command(filepath.Join(root, "hack/clab.sh"), "env").Output()
	if err != nil {
		t.Fatal(err)
	}
	l.env = append(os.Environ(), strings.Fields(strings.TrimPrefix(strings.TrimSpace(string(out)), "export "))...)

	begin := time.Now()
	t.Cleanup(func() {
		if t.Failed() {
			l.logState()
		}
		cmd := exec.Command(filepath.Join(root, "hack/clab.sh"), "down", l.dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("clab.sh down: %v\n%s", err, out)
		}
	})
	cmd := exec.Command(filepath.Join(root, "hack/clab.sh"), "up", l.dir)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("clab.sh up: %v\n%s", err, stderr.String())
	}
	deployed := time.Since(begin)

	l.eventually("three Established sessions at the ToR", l.torSessions)
	for _, n := range nodes {
		l.eventually(n.name+"'s web server answers on the node", func() error {
			out, err := l.inNetns(n.name, "curl", "-sS", "--max-time", "2", "http://"+seedIP+"/")
			if err == nil && strings.TrimSpace(out) != n.name {
				err = fmt.Errorf("%s answered %q", n.name, out)
			}
			return err
		})
	}
	l.eventually("a first answer from "+seedIP, func() error { _, err := l.curl(seedIP); return err })
	t.Logf("clab.sh up (images, engine, deploy) took %v; the first answer from http://%s/ came %v after the start",
		deployed.Round(time.Millisecond), seedIP, time.Since(begin).Round(time.Millisecond))

	t.Run("1 sessions at the ToR and on every node", l.checkSessions)
	t.Run("2 ECMP at the ToR", func(t *testing.T) { l.eventually("3 next hops", func() error { return l.nextHops(seedIP, 3) }) })
	t.Run("3 curl from the client reaches several nodes", l.checkCurl)
	t.Run("4 a second LoadBalancer IP comes and goes", l.checkSecondIP)
	t.Run("5 a node's link goes down and comes back", l.checkLinkDown)
	t.Run("6 killing a node's bgpd loses nothing", l.checkBGPDKill)
	t.Run("7 peers on every node", l.checkPeers)
}

func (l *labEnv) eventually(what string, fn func() error) {
	l.t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("not within %v: %s: %v", waitLong, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// docker runs the docker client against the lab's engine.
func (l *labEnv) docker(args ...string) (string, error) {
	cmd := exec.Command("docker", args...)
	cmd.Env = l.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func (l *labEnv) exec(node string, args ...string) (string, error) {
	return l.docker(append([]string{"exec", lab + node}, args...)...)
}

// inNetns runs a command of this machine in the network namespace of a node's container.
func (l *labEnv) inNetns(node string, args ...string) (string, error) {
	l.mu.Lock()
	pid, ok := l.pids[node]
	l.mu.Unlock()
	if !ok {
		out, err := l.docker("inspect", "-f", "{{.State.Pid}}", lab+node)
		if err != nil {
			return "", err
		}
		pid = strings.TrimSpace(out)
		l.mu.Lock()
		l.pids[node] = pid
		l.mu.Unlock()
	}
	out, err := exec.Command("nsenter", append([]string{"--net=/proc/" + pid + "/ns/net", "--"}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s in %s: %w: %s", strings.Join(args, " "), node, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// curl fetches http://ip/ from the client's network namespace with this machine's curl, and
// returns the node that answered.
func (l *labEnv) curl(ip string) (string, error) {
	out, err := l.inNetns("client", "curl", "-sS", "--max-time", "2", "http://"+ip+"/")
	return strings.TrimSpace(out), err
}

type summary struct {
	IPv4Unicast struct {
		Peers map[string]struct {
			State string `json:"state"`
		} `json:"peers"`
	} `json:"ipv4Unicast"`
}

func (l *labEnv) bgpSummary(node string) (summary, error) {
	var s summary
	out, err := l.exec(node, "vtysh", "-c", "show bgp summary json")
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal([]byte(out), &s)
}

func (l *labEnv) torSessions() error {
	s, err := l.bgpSummary("tor")
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if got := s.IPv4Unicast.Peers[n.addr].State; got != "Established" {
			return fmt.Errorf("%s (%s) is %q at the ToR", n.name, n.addr, got)
		}
	}
	return nil
}

// nextHops checks that the ToR's kernel routes ip/32 through want next hops.
func (l *labEnv) nextHops(ip string, want int) error {
	n, out, err := l.countNextHops(ip)
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("the ToR's kernel has %d next hops for %s/32, want %d:\n%s", n, ip, want, out)
	}
	return nil
}

func (l *labEnv) countNextHops(ip string) (int, string, error) {
	out, err := l.inNetns("tor", "ip", "-4", "route", "show", ip+"/32")
	if err != nil {
		return 0, out, err
	}
	switch {
	case strings.TrimSpace(out) == "":
		return 0, out, nil
	case strings.Contains(out, "nexthop via"):
		return strings.Count(out, "nexthop via"), out, nil
	}
	return 1, out, nil
}

func (l *labEnv) checkSessions(t *testing.T) {
	if err := l.torSessions(); err != nil {
		t.Error(err)
	}
	for _, n := range nodes {
		out, err := l.exec(n.name, "vtysh", "-c", "show bgp summary")
		if err != nil {
			t.Errorf("%s: %v", n.name, err)
			continue
		}
		t.Logf("%s: vtysh -c 'show bgp summary':\n%s", n.name, out)
		s, err := l.bgpSummary(n.name)
		if err != nil || s.IPv4Unicast.Peers["192.168.10.1"].State != "Established" {
			t.Errorf("%s: the ToR is not Established (%v): %+v", n.name, err, s)
		}
	}
}

func (l *labEnv) checkCurl(t *testing.T) {
	answered := map[string]int{}
	for range 40 {
		node, err := l.curl(seedIP)
		if err != nil {
			t.Fatal(err)
		}
		answered[node]++
	}
	t.Logf("40 requests to http://%s/ answered by %v", seedIP, answered)
	if len(answered) < 2 {
		t.Errorf("only %v answered: the ToR does not spread flows over its next hops", answered)
	}
}

// setLB writes the Service's LoadBalancer IPs into the watched manifests, as a tool would
// (a new file renamed into place). The temporary file is not a *.yaml: the sidecar never reads
// half of it.
func (l *labEnv) setLB(t *testing.T, ips ...string) {
	path := filepath.Join(l.dir, svcFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, "    ingress:\n")
	if i < 0 {
		t.Fatalf("%s has no status.loadBalancer.ingress", path)
	}
	s = s[:i+len("    ingress:\n")]
	for _, ip := range ips {
		s += "    - ip: " + ip + "\n"
	}
	// Readable by the sidecar's user (65532), as kubectl or an editor would leave it.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func (l *labEnv) checkSecondIP(t *testing.T) {
	if _, err := l.curl(secondIP); err == nil {
		t.Fatalf("%s answers before any Service has it: the test cannot tell routing from the lab's addresses", secondIP)
	}
	begin := time.Now()
	l.setLB(t, seedIP, secondIP)
	l.eventually("an answer from "+secondIP, func() error { _, err := l.curl(secondIP); return err })
	added := time.Since(begin)
	// Each node applies on its own: the first answer may come before the last node's route.
	l.eventually("3 next hops for "+secondIP, func() error { return l.nextHops(secondIP, 3) })
	begin = time.Now()
	l.setLB(t, seedIP)
	l.eventually("the ToR withdraws "+secondIP, func() error { return l.nextHops(secondIP, 0) })
	removed := time.Since(begin)
	if node, err := l.curl(secondIP); err == nil {
		t.Errorf("%s still answers on %s, which no Service has", node, secondIP)
	}
	t.Logf("second LoadBalancer IP in the manifest -> curl answered in %v; removed -> gone from the ToR's kernel in %v",
		added.Round(time.Millisecond), removed.Round(time.Millisecond))
	if _, err := l.curl(seedIP); err != nil {
		t.Error(err)
	}
}

// checkLinkDown takes worker-2's port on the ToR down and up again.
func (l *labEnv) checkLinkDown(t *testing.T) {
	port := nodes[2].torPort
	begin := time.Now()
	if _, err := l.exec("tor", "ip", "link", "set", port, "down"); err != nil {
		t.Fatal(err)
	}
	l.eventually("the ToR drops worker-2's next hop", func() error { return l.nextHops(seedIP, 2) })
	down := time.Since(begin)
	failed := 0
	for range 30 {
		if node, err := l.curl(seedIP); err != nil || node == "worker-2" {
			failed++
		}
	}
	if failed > 0 {
		t.Errorf("%d of 30 requests failed or reached worker-2 with its link down", failed)
	}
	begin = time.Now()
	if _, err := l.exec("tor", "ip", "link", "set", port, "up"); err != nil {
		t.Fatal(err)
	}
	l.eventually("three next hops again", func() error { return l.nextHops(seedIP, 3) })
	t.Logf("link down -> the ToR's kernel dropped the next hop in %v; 30 requests meanwhile, %d failed; link up -> 3 next hops in %v",
		down.Round(time.Millisecond), failed, time.Since(begin).Round(time.Millisecond))
}

// checkBGPDKill kills worker-1's bgpd: watchfrr starts it again, frr-renderer configures it, and
// with graceful restart the ToR keeps worker-1's path: no next hop and no request is lost.
func (l *labEnv) checkBGPDKill(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var requests, failures, polls, fewest int
	fewest = 3
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			requests++
			if _, err := l.curl(seedIP); err != nil {
				failures++
			}
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			n, _, err := l.countNextHops(seedIP)
			if err != nil {
				n = 0
			}
			polls, fewest = polls+1, min(fewest, n)
		}
	})
	before, _ := l.exec("worker-1", "cat", "/run/frr/bgpd.pid")
	begin := time.Now()
	if _, err := l.exec("worker-1", "sh", "-c", "kill -KILL $(cat /run/frr/bgpd.pid)"); err != nil {
		t.Fatal(err)
	}
	l.eventually("bgpd runs again on worker-1, configured", func() error {
		pid, err := l.exec("worker-1", "cat", "/run/frr/bgpd.pid")
		if err != nil || pid == before {
			return fmt.Errorf("no new bgpd yet (%v)", err)
		}
		out, err := l.exec("worker-1", "vtysh", "-c", "show running-config")
		if err != nil || !strings.Contains(out, "router bgp 65001") {
			return fmt.Errorf("bgpd is not configured again (%v)", err)
		}
		return nil
	})
	restarted := time.Since(begin)
	l.eventually("worker-1's path at the ToR is fresh", func() error { return l.pathFresh(seedIP, nodes[1].addr) })
	close(stop)
	wg.Wait()
	t.Logf("bgpd killed on worker-1 -> running and configured again in %v, path fresh at the ToR in %v; %d requests meanwhile, %d failed; next hops fewest %d in %d polls",
		restarted.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond), requests, failures, fewest, polls)
	if failures > 0 || fewest != 3 {
		t.Errorf("%d requests failed, fewest next hops %d: want 0 and 3 (graceful restart)", failures, fewest)
	}
}

// pathFresh checks that the ToR's path for ip from nexthop is there and not stale.
func (l *labEnv) pathFresh(ip, nexthop string) error {
	out, err := l.exec("tor", "vtysh", "-c", "show bgp ipv4 unicast "+ip+"/32 json")
	if err != nil {
		return err
	}
	var r struct {
		Paths []struct {
			Stale    bool `json:"stale"`
			Nexthops []struct {
				IP string `json:"ip"`
			} `json:"nexthops"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return err
	}
	for _, p := range r.Paths {
		for _, nh := range p.Nexthops {
			if nh.IP == nexthop {
				if p.Stale {
					return fmt.Errorf("the path via %s is stale", nexthop)
				}
				return nil
			}
		}
	}
	return fmt.Errorf("no path via %s", nexthop)
}

// checkPeers runs `frr-renderer peers` in each node's sidecar, as an operator would.
func (l *labEnv) checkPeers(t *testing.T) {
	for _, n := range nodes {
		out, err := l.exec(n.name+"-renderer", "/usr/bin/frr-renderer", "peers")
		if err != nil {
			t.Errorf("%s: %v", n.name, err)
			continue
		}
		t.Logf("%s: frr-renderer peers:\n%s", n.name, out)
		out, err = l.exec(n.name+"-renderer", "/usr/bin/frr-renderer", "peers", "-o", "json")
		if err != nil {
			t.Errorf("%s: %v", n.name, err)
			continue
		}
		var peers []struct {
			Node, PeerAddress, SessionState string
			Families                        []struct{ Advertised int }
		}
		if err := json.Unmarshal([]byte(out), &peers); err != nil || len(peers) != 1 {
			t.Errorf("%s: frr-renderer peers -o json: %v\n%s", n.name, err, out)
			continue
		}
		p := peers[0]
		if p.Node != n.name || p.PeerAddress != "192.168.10.1" || p.SessionState != "established" || len(p.Families) != 1 || p.Families[0].Advertised != 1 {
			t.Errorf("%s: frr-renderer peers shows %+v, want the ToR established with 1 route advertised", n.name, p)
		}
	}
}

// logState logs what a failed run needs: each container's state and log tail, the ToR's view.
func (l *labEnv) logState() {
	if out, err := l.docker("ps", "-a", "--format", "{{.Names}} {{.Status}}"); err == nil {
		l.t.Logf("containers:\n%s", out)
		for _, name := range strings.Fields(out) {
			if strings.HasPrefix(name, lab) {
				cmd := exec.Command("docker", "logs", "--tail", "30", name)
				cmd.Env = l.env
				logs, _ := cmd.CombinedOutput()
				l.t.Logf("docker logs %s:\n%s", name, logs)
			}
		}
	}
	if out, err := l.exec("tor", "vtysh", "-c", "show bgp summary"); err == nil {
		l.t.Logf("the ToR's sessions:\n%s", out)
	}
}
