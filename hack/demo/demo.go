package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/frr-renderer/frr-renderer/examples"
	"github.com/frr-renderer/frr-renderer/internal/frrtest"
	"github.com/frr-renderer/frr-renderer/internal/manifest/manifesttest"
	"github.com/frr-renderer/frr-renderer/internal/testbin"
)

// The seed's addresses: the ToR of tor-frr.conf (the PeerConfig's peerAddress) and the nodes'
// InternalIPs (06-nodes.yaml) on 192.168.10.0/24; the Service's LoadBalancer IP before and after
// the demo's edit; a client subnet of the demo's own behind the ToR.
const (
	torAddr    = "192.168.10.1"
	oldVIP     = "172.20.0.1"
	newVIP     = "172.20.0.2"
	clientAddr = "10.99.0.2"
	clientGW   = "10.99.0.1"

	serviceFile = "05-http-test.yaml"
	requests    = 12 // connections the client opens to show that flows spread over the nodes
)

var seedNodes = []struct{ name, addr string }{
	{"cp-1", "192.168.10.11"},
	{"worker-1", "192.168.10.12"},
	{"worker-2", "192.168.10.13"},
}

// demo is one run: its settings, and what it made, for the teardown.
type demo struct {
	name             string // prefix of the namespaces
	interactive      bool
	bin              string // frr-renderer; built when empty
	timeout          time.Duration
	begin            time.Time
	watch            string // the manifests the renderers follow: /run/frr-renderer-NAME
	bold, red, plain string // terminal colours, or ""

	mu     sync.Mutex // for tor and the nodes' routers, which start side by side
	tor    *frrtest.Router
	nodes  []*node
	client *frrtest.Host
}

// node is one of the seed's nodes in the lab.
type node struct {
	name, addr string
	r          *frrtest.Router
	renderer   *process
	web        *http.Server
}

func (d *demo) netns(role string) string { return d.name + "-" + role }

// run is the demo, step by step. What it made stays for the teardown.
func (d *demo) run(ctx context.Context) error {
	d.step("1/11 Installing Debian's FRR (if missing) and building bin/frr-renderer")
	if err := d.prepare(ctx); err != nil {
		return err
	}

	d.step("2/11 Copying examples/seed/hands-on to a folder frr-renderer will watch")
	if err := d.removeLeftovers(); err != nil {
		return err
	}
	if err := os.Mkdir(d.watch, 0o755); err != nil {
		return err
	}
	if err := manifesttest.CopySeed(d.watch); err != nil {
		return err
	}
	entries, _ := os.ReadDir(d.watch)
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	d.say("%s: %s", d.watch, strings.Join(files, " "))

	d.step("3/11 Starting FRR 8.4 (zebra, bgpd) in a network namespace per router, pathspace = namespace")
	t0 := time.Now()
	if err := d.startFRR(); err != nil {
		return err
	}
	d.say("%d x (zebra + bgpd) answering, bgpd connected to zebra, in %s", 1+len(d.nodes), seconds(time.Since(t0)))

	d.step("4/11 Wiring the segment (bridge br0, %s/24, in %s, a veth per node) and a client behind the ToR", torAddr, d.tor.Netns)
	if err := d.wire(); err != nil {
		return err
	}

	d.step("5/11 Serving HTTP on the LoadBalancer IPs in each node, as Cilium's datapath would")
	for _, n := range d.nodes {
		if err := d.serve(n); err != nil {
			return err
		}
	}

	d.step("6/11 Configuring the ToR with examples/seed/tor-frr.conf (AS 65000, listen range 192.168.10.0/24)")
	torConf, err := fs.ReadFile(examples.Seed, "seed/tor-frr.conf")
	if err != nil {
		return err
	}
	// The ToR first: a node whose first connection is refused waits out its connect-retry timer.
	if err := d.tor.Load(string(torConf)); err != nil {
		return fmt.Errorf("the ToR rejected tor-frr.conf: %w", err)
	}
	d.say("loaded")

	d.step("7/11 Starting frr-renderer run for each node (watching %s)", d.watch)
	started := time.Now()
	for _, n := range d.nodes {
		if err := d.startRenderer(n); err != nil {
			return err
		}
	}

	d.step("8/11 Waiting for the ToR: 3 sessions Established, %s/32 via 3 next hops (timeout %v)", oldVIP, d.timeout)
	if err := d.converge(ctx, started); err != nil {
		return err
	}

	d.step("9/11 Each node's peers")
	for _, n := range d.nodes {
		out, err := n.r.Vtysh("-c", "show bgp summary")
		if err != nil {
			return err
		}
		d.shell(fmt.Sprintf("vtysh -N %s -c 'show bgp summary'", n.r.Netns), out)
	}

	d.step("10/11 From the client behind the ToR: curl http://%s/", oldVIP)
	if err := d.curlSpread(oldVIP); err != nil {
		return err
	}

	d.step("11/11 Changing the Service's LoadBalancer IP in %s: %s -> %s", filepath.Join(d.watch, serviceFile), oldVIP, newVIP)
	if err := d.changeVIP(ctx); err != nil {
		return err
	}
	if d.interactive {
		d.handOver(ctx)
	}
	return nil
}

// prepare installs FRR when missing and builds frr-renderer unless one was given.
func (d *demo) prepare(ctx context.Context) error {
	root, err := testbin.ModuleRoot()
	if err != nil {
		return err
	}
	commands := [][]string{{filepath.Join(root, "hack/install-deps.sh")}}
	if d.bin == "" {
		d.bin = filepath.Join(root, "bin/frr-renderer")
		commands = append(commands, []string{cmp.Or(os.Getenv("GO"), "go"), "build", "-o", d.bin, "./cmd/frr-renderer"})
	}
	for _, c := range commands {
		cmd := exec.CommandContext(ctx, c[0], c[1:]...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(c, " "), err)
		}
	}
	out, err := exec.Command("/usr/lib/frr/bgpd", "--version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("bgpd --version: %w\n%s", err, out)
	}
	version := regexp.MustCompile(`bgpd version (\S+)`).FindSubmatch(out)
	if version == nil {
		return fmt.Errorf("bgpd --version printed no version:\n%s", out)
	}
	d.say("FRR %s, %s, frr-renderer %s", version[1], runtime.Version(), d.bin)
	return nil
}

// startFRR starts the ToR's and the nodes' FRR side by side.
func (d *demo) startFRR() error {
	var wg sync.WaitGroup
	errs := make([]error, 1+len(seedNodes))
	start := func(i int, role string, keep func(*frrtest.Router)) {
		defer wg.Done()
		r, err := frrtest.NewRouter(frrtest.FRR8, role, frrtest.Options{Netns: d.netns(role)})
		errs[i] = err
		if err == nil {
			d.mu.Lock()
			keep(r)
			d.mu.Unlock()
		}
	}
	wg.Add(1 + len(seedNodes))
	go start(0, "tor", func(r *frrtest.Router) { d.tor = r })
	for i, sn := range seedNodes {
		n := &node{name: sn.name, addr: sn.addr}
		d.nodes = append(d.nodes, n)
		go start(1+i, sn.name, func(r *frrtest.Router) { n.r = r })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// wire builds the seed's segment (the nodes' veths bridged in the ToR) and the client's link,
// and makes the ToR a router: it forwards, and spreads flows over its ECMP next hops by ports
// too, as a ToR hashing on five tuples does.
func (d *demo) wire() error {
	var ports []string
	for _, n := range d.nodes {
		torIf, nodeIf, err := frrtest.Connect(d.tor, n.r, netip.Prefix{}, netip.MustParsePrefix(n.addr+"/24"))
		if err != nil {
			return err
		}
		ports = append(ports, torIf)
		// Replies to the client go back through the ToR, the node's gateway.
		if _, err := n.r.Exec("ip", "route", "add", "default", "via", torAddr); err != nil {
			return err
		}
		d.say("%s: %s %s/24, default via %s <-> %s: %s in br0", n.r.Netns, nodeIf, n.addr, torAddr, d.tor.Netns, torIf)
	}
	if err := frrtest.AddBridge(d.tor, "br0", netip.MustParsePrefix(torAddr+"/24"), ports...); err != nil {
		return err
	}
	client, err := frrtest.NewHost("client", frrtest.Options{Netns: d.netns("client")})
	if err != nil {
		return err
	}
	d.client = client
	torIf, clientIf, err := frrtest.Connect(d.tor, client, netip.MustParsePrefix(clientGW+"/24"), netip.MustParsePrefix(clientAddr+"/24"))
	if err != nil {
		return err
	}
	if _, err := client.Exec("ip", "route", "add", "default", "via", clientGW); err != nil {
		return err
	}
	d.say("%s: %s %s/24, default via %s <-> %s: %s %s/24", client.Netns, clientIf, clientAddr, clientGW, d.tor.Netns, torIf, clientGW)
	if _, err := d.tor.Exec("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1"); err != nil {
		return err
	}
	d.say("%s: net.ipv4.ip_forward=1 (it routes), net.ipv4.fib_multipath_hash_policy=1 (ECMP by ports too)", d.tor.Netns)
	return nil
}

// serve gives node n the Service's LoadBalancer IPs, before and after the edit, and answers
// HTTP on them with the node's name: what Cilium's datapath does for a LoadBalancer IP, with the
// node for a backend.
func (d *demo) serve(n *node) error {
	n.web = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, n.name) }),
		ReadHeaderTimeout: 5 * time.Second,
	}
	for _, ip := range []string{oldVIP, newVIP} {
		if _, err := n.r.Exec("ip", "addr", "add", ip+"/32", "dev", "lo"); err != nil {
			return err
		}
		l, err := n.r.Listen(ip + ":80")
		if err != nil {
			return fmt.Errorf("%s: %w", n.r.Netns, err)
		}
		go func() { _ = n.web.Serve(l) }()
	}
	d.say("%s: %s and %s on lo, port 80 answers %q", n.r.Netns, oldVIP, newVIP, n.name)
	return nil
}

func (d *demo) startRenderer(n *node) error {
	log := filepath.Join(n.r.RunDir(), "frr-renderer.log")
	args := []string{"run", "--node", n.name, "--watch", d.watch, "--pathspace", n.r.Netns, "--frr-version", "8"}
	p, err := startIn(n.r.Netns, log, d.bin, args...)
	if err != nil {
		return err
	}
	n.renderer = p
	d.say("ip netns exec %s frr-renderer %s (pid %d, log %s)", n.r.Netns, strings.Join(args, " "), p.cmd.Process.Pid, log)
	return nil
}

// converge waits for the ToR to reach the Service through the three nodes, in BGP and in its
// kernel, and shows it and how long it took since the renderers started.
func (d *demo) converge(ctx context.Context, started time.Time) error {
	took, err := d.waitAll(ctx, started,
		wait{"3 Established sessions on the ToR", d.timeout, 200 * time.Millisecond, d.sessionsUp},
		wait{oldVIP + "/32 via the 3 nodes in the ToR's BGP table", d.timeout, 200 * time.Millisecond, d.bgpVia(oldVIP, d.nodeAddrs())},
		wait{oldVIP + " via the 3 nodes in the ToR's kernel", 10 * time.Second, 50 * time.Millisecond, d.kernelVia(oldVIP, d.nodeAddrs())})
	if err != nil {
		return err
	}
	fmt.Println()
	d.torShow("show bgp summary")
	d.torShow("show bgp ipv4 unicast " + oldVIP + "/32")
	d.torRoutes(oldVIP)
	fmt.Println()
	d.say("since the renderers started: 3 sessions Established in %s, 3 BGP paths in %s, ECMP route in the ToR's kernel in %s",
		seconds(took[0]), seconds(took[1]), seconds(took[2]))
	return nil
}

// curlSpread fetches http://ip/ from the client, once to show it, then requests times more
// (each connection from a new source port), and fails unless several nodes answered.
func (d *demo) curlSpread(ip string) error {
	node, err := d.curl(ip)
	if err != nil {
		return err
	}
	d.shell(fmt.Sprintf("ip netns exec %s curl http://%s/", d.client.Netns, ip), node)
	count := map[string]int{}
	for range requests {
		node, err := d.curl(ip)
		if err != nil {
			return err
		}
		count[node]++
	}
	var spread []string
	for _, n := range slices.Sorted(maps.Keys(count)) {
		spread = append(spread, fmt.Sprintf("%s %d", n, count[n]))
	}
	if len(count) < 2 {
		return fmt.Errorf("all %d connections to %s went to one node (%s): the ToR does not spread flows over its next hops", requests, ip, spread[0])
	}
	d.say("%d more connections, each from a new source port, answered by: %s", requests, strings.Join(spread, ", "))
	return nil
}

// curl fetches http://ip/ from the client and returns who answered.
func (d *demo) curl(ip string) (string, error) {
	out, err := d.client.Exec("curl", "-sS", "--max-time", "2", "http://"+ip+"/")
	if err != nil {
		return "", fmt.Errorf("curl http://%s/ from %s: %w", ip, d.client.Netns, err)
	}
	return strings.TrimSpace(out), nil
}

// changeVIP edits the Service's LoadBalancer IP in the watched manifests and times the ToR's
// kernel and BGP table as they follow; then the client's path.
func (d *demo) changeVIP(ctx context.Context) error {
	offsets := map[*node]int64{}
	for _, n := range d.nodes {
		offsets[n] = n.renderer.logSize()
	}
	edited, err := manifesttest.Replace(filepath.Join(d.watch, serviceFile), "- ip: "+oldVIP+"\n", "- ip: "+newVIP+"\n")
	if err != nil {
		return err
	}
	d.say("edited (written to a temporary file, then renamed over it)")
	// The kernel is cheap to poll (no vtysh): watch it closely for the times, then confirm in BGP.
	took, err := d.waitAll(ctx, edited,
		wait{newVIP + " via the 3 nodes in the ToR's kernel", d.timeout, 10 * time.Millisecond, d.kernelVia(newVIP, d.nodeAddrs())},
		wait{oldVIP + " to leave the ToR's kernel", d.timeout, 10 * time.Millisecond, d.kernelVia(oldVIP, nil)},
		wait{newVIP + "/32 via the 3 nodes in the ToR's BGP table", 10 * time.Second, 50 * time.Millisecond, d.bgpVia(newVIP, d.nodeAddrs())},
		wait{oldVIP + "/32 to leave the ToR's BGP table", 10 * time.Second, 50 * time.Millisecond, d.bgpVia(oldVIP, nil)})
	if err != nil {
		return err
	}

	fmt.Println()
	d.torShow("show bgp ipv4 unicast")
	d.torShow("show bgp ipv4 unicast " + newVIP + "/32")
	d.torRoutes(newVIP, oldVIP)
	first := d.nodes[0]
	d.shell("what frr-renderer on "+first.name+" logged since the edit", strings.Join(first.renderer.logSince(offsets[first], 10), "\n"))
	fmt.Println()
	d.say("milliseconds after the edit:")
	ms := func(d time.Duration) string { return fmt.Sprintf("+%d", d.Milliseconds()) }
	for _, n := range d.nodes {
		applied := "+?"
		if at, ok := n.renderer.firstApplied(offsets[n]); ok {
			applied = ms(at.Sub(edited))
		}
		d.say("%6s  frr-renderer on %s applied the change (time from its log)", applied, n.name)
	}
	d.say("%6s  the ToR's kernel routes %s via the 3 nodes", ms(took[0]), newVIP)
	d.say("%6s  the ToR's kernel no longer has %s", ms(took[1]), oldVIP)
	d.say("%6s  the ToR's BGP table agrees (checked with vtysh once the kernel did)", ms(took[3]))

	fmt.Println()
	if err := d.curlSpread(newVIP); err != nil {
		return err
	}
	if _, err := d.curl(oldVIP); err == nil {
		return fmt.Errorf("curl http://%s/ from %s still answers: the ToR still routes it", oldVIP, d.client.Netns)
	}
	d.say("curl http://%s/ from %s fails now: the ToR has no route to it", oldVIP, d.client.Netns)
	return nil
}

// handOver leaves the lab up for the user until Enter (or Ctrl-C, or the end of stdin).
func (d *demo) handOver(ctx context.Context) {
	d.step("The lab is yours: try it, then press Enter to tear it down")
	d.say("ip netns exec %s curl http://%s/", d.client.Netns, newVIP)
	d.say("vtysh -N %s -c 'show bgp summary'   (the nodes: -N %s, ...)", d.tor.Netns, d.nodes[0].r.Netns)
	d.say("ip -n %s route", d.tor.Netns)
	d.say("edit %s: each frr-renderer follows, and the ToR with them", filepath.Join(d.watch, serviceFile))
	d.say("(the nodes serve HTTP on %s and %s; the logs are in %s)", oldVIP, newVIP, filepath.Join(filepath.Dir(d.tor.RunDir()), d.name+"-*"))
	enter := make(chan struct{})
	go func() {
		var b [1]byte
		for {
			if n, err := os.Stdin.Read(b[:]); err != nil || (n == 1 && b[0] == '\n') {
				close(enter)
				return
			}
		}
	}()
	select {
	case <-enter:
	case <-ctx.Done():
	}
}
