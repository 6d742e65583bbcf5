package frrtest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

const configA = `frr defaults traditional
!
router bgp 65001
 bgp router-id 10.255.0.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 10.255.0.2 remote-as 65000
 neighbor 10.255.0.2 timers 3 9
 !
 address-family ipv4 unicast
  network 10.99.0.0/24
 exit-address-family
exit
!
`

const configB = `router bgp 65000
 bgp router-id 10.255.0.2
 no bgp ebgp-requires-policy
 neighbor 10.255.0.1 remote-as 65001
 neighbor 10.255.0.1 timers 3 9
exit
`

// TestRouters proves the harness against real FRR. It runs every supported version, not just
// Versions(): Require then fails under CI when one is missing instead of hiding it.
func TestRouters(t *testing.T) {
	for _, v := range Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			testRouters(t, v)
		})
	}
}

func testRouters(t *testing.T, v Version) {
	t0 := time.Now()
	a := Start(t, v, "a")
	t1 := time.Now()
	b := Start(t, v, "b")
	t.Logf("Start took %v and %v", t1.Sub(t0), time.Since(t1))
	Link(t, a, b, netip.MustParsePrefix("10.255.0.1/30"), netip.MustParsePrefix("10.255.0.2/30"))

	for _, r := range []struct {
		*Router
		config string
	}{{a, configA}, {b, configB}} {
		if err := r.Load(r.config); err != nil {
			t.Fatalf("Load: %v", err)
		}
		got, err := r.RunningConfig()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s show running-config:\n%s", r.Name, got)
		if d := DiffBlocks(r.config, got); d != "" {
			t.Errorf("%s read back differs:\n%s", r.Name, d)
		}
	}

	t2 := time.Now()
	WaitFor(t, 20*time.Second, func() error {
		var nbrs map[string]struct {
			BgpState string `json:"bgpState"`
		}
		if err := a.ShowJSON("show bgp neighbors 10.255.0.2 json", &nbrs); err != nil {
			return err
		}
		if s := nbrs["10.255.0.2"].BgpState; s != "Established" {
			return fmt.Errorf("session a-b is %q", s)
		}
		return nil
	})
	t.Logf("Established %v after the loads", time.Since(t2))
	WaitFor(t, 10*time.Second, func() error {
		var route struct {
			Paths []struct {
				Nexthops []struct {
					IP string `json:"ip"`
				} `json:"nexthops"`
			} `json:"paths"`
		}
		if err := b.ShowJSON("show bgp ipv4 unicast 10.99.0.0/24 json", &route); err != nil {
			return err
		}
		if len(route.Paths) != 1 || len(route.Paths[0].Nexthops) == 0 || route.Paths[0].Nexthops[0].IP != "10.255.0.1" {
			return fmt.Errorf("b's paths to 10.99.0.0/24: %+v", route.Paths)
		}
		return nil
	})
	t.Logf("10.99.0.0/24 on b %v after the loads", time.Since(t2))
	// zebra installed it in b's namespace: Exec reaches the kernel there.
	WaitFor(t, 5*time.Second, func() error {
		out, err := b.Exec("ip", "-4", "route", "show", "10.99.0.0/24")
		if err == nil && !strings.Contains(out, "via 10.255.0.1") {
			err = fmt.Errorf("kernel route: %q", out)
		}
		return err
	})

	t.Run("rejected line", func(t *testing.T) {
		err := a.Load("router bgp 65001\n neighbor 10.255.0.2 bogus-option 3\n neighbor 10.255.0.2 description peer-b\nexit\n")
		var lerr *LoadError
		if !errors.As(err, &lerr) {
			t.Fatalf("Load of a bogus line: got %v, want a *LoadError", err)
		}
		t.Logf("Load error: %v", err)
		// FRR 10 prints each complaint once per daemon; Load reports it once.
		if len(lerr.Rejected) != 1 || !strings.HasPrefix(lerr.Rejected[0], "line 2: ") || !strings.Contains(lerr.Rejected[0], "bogus-option 3") {
			t.Errorf("Rejected = %q, want line 2 with bogus-option", lerr.Rejected)
		}
		got, err := a.RunningConfig()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, "\n neighbor 10.255.0.2 description peer-b\n") {
			t.Errorf("the line after the rejected one was not applied:\n%s", got)
		}
	})

	t.Run("ipv6 link usable at once", func(t *testing.T) {
		aIf, _ := Link(t, a, b, netip.MustParsePrefix("fd00:255::1/64"), netip.MustParsePrefix("fd00:255::2/64"))
		out, err := a.Exec("ip", "-6", "addr", "show", "dev", aIf)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "fd00:255::1/64") || strings.Contains(out, "tentative") {
			t.Errorf("%s in %s:\n%s", aIf, a.Netns, out)
		}
	})

	// Last: it leaves b without bgpd.
	t.Run("bgpd down", func(t *testing.T) {
		if err := syscall.Kill(b.pid("bgpd"), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		WaitFor(t, 5*time.Second, func() error {
			if _, err := b.Vtysh("-d", "bgpd", "-c", "show version"); err == nil {
				return errors.New("bgpd still answers")
			}
			return nil
		})
		err := b.Load(configB)
		var lerr *LoadError
		if !errors.As(err, &lerr) || !strings.Contains(err.Error(), "bgpd is not answering") {
			t.Errorf("Load with bgpd down: got %v, want a *LoadError saying bgpd is down", err)
		}
	})
}

func TestBGPBlocks(t *testing.T) {
	config := `Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname vm
log syslog informational
service integrated-vtysh-config
!
interface eth0
 ip address 10.0.0.1/24
exit
!
router bgp 65001
 neighbor 10.0.0.2 remote-as 65000   
 !
 address-family ipv4 unicast
  network 10.99.0.0/24
 exit-address-family
exit
!
ip prefix-list PL seq 5 permit 10.99.0.0/24
ip prefix-list PL seq 10 deny any
ipv6 prefix-list PL6 seq 5 permit ::/0
bgp community-list standard CL seq 5 permit 65000:1
bgp large-community-list expanded LCL seq 5 permit ^1:
bgp as-path access-list AP seq 5 permit ^65000$
!
route-map RM permit 10
 match ip address prefix-list PL
exit
!
end
`
	want := []Block{
		{"router bgp 65001", []string{"router bgp 65001", " neighbor 10.0.0.2 remote-as 65000", " address-family ipv4 unicast", "  network 10.99.0.0/24"}},
		{"ip prefix-list PL", []string{"ip prefix-list PL seq 5 permit 10.99.0.0/24", "ip prefix-list PL seq 10 deny any"}},
		{"ipv6 prefix-list PL6", []string{"ipv6 prefix-list PL6 seq 5 permit ::/0"}},
		{"bgp community-list standard CL", []string{"bgp community-list standard CL seq 5 permit 65000:1"}},
		{"bgp large-community-list expanded LCL", []string{"bgp large-community-list expanded LCL seq 5 permit ^1:"}},
		{"bgp as-path access-list AP", []string{"bgp as-path access-list AP seq 5 permit ^65000$"}},
		{"route-map RM permit 10", []string{"route-map RM permit 10", " match ip address prefix-list PL"}},
	}
	got := BGPBlocks(config)
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("BGPBlocks:\ngot  %q\nwant %q", got, want)
	}
}

func TestDiffBlocks(t *testing.T) {
	const bgp = "router bgp 65001\n neighbor 10.0.0.2 remote-as 65000\n neighbor 10.0.0.2 timers 3 9\n neighbor 10.0.0.2 description tor\nexit\n"
	const rm = "route-map RM permit 10\n set local-preference 200\nexit\n"

	// 8.4 prints route-maps after router bgp, 10.3 before.
	if d := DiffBlocks("frr version 8.4.4\n"+bgp+"!\n"+rm, "frr version 10.3\n"+rm+"!\n"+bgp); d != "" {
		t.Errorf("same blocks in another order differ:\n%s", d)
	}

	changed := strings.Replace(bgp, "timers 3 9", "timers 3 10", 1)
	d := DiffBlocks(bgp+rm, changed+rm)
	if !strings.HasPrefix(d, `block "router bgp 65001" differs (-want +got):`) ||
		!hasDiffLine(d, "-", `" neighbor 10.0.0.2 timers 3 9"`) || !hasDiffLine(d, "+", `" neighbor 10.0.0.2 timers 3 10"`) {
		t.Errorf("changed line: want the block named, the old line removed and the new one added:\n%s", d)
	}
	if strings.Contains(d, "route-map") {
		t.Errorf("changed line: the unchanged route-map shows in the diff:\n%s", d)
	}

	d = DiffBlocks(bgp+rm, bgp+"route-map RM permit 20\nexit\n")
	wantDiff := `missing block "route-map RM permit 10":
-route-map RM permit 10
- set local-preference 200
unexpected block "route-map RM permit 20":
+route-map RM permit 20
`
	if d != wantDiff {
		t.Errorf("missing and extra blocks:\ngot\n%s\nwant\n%s", d, wantDiff)
	}

	// Order within a block is significant.
	swapped := "router bgp 65001\n neighbor 10.0.0.2 timers 3 9\n neighbor 10.0.0.2 remote-as 65000\n neighbor 10.0.0.2 description tor\nexit\n"
	if d := DiffBlocks(bgp, swapped); d == "" {
		t.Error("reordered lines within a block compare equal")
	}
}

// hasDiffLine reports whether a line of diff starts with mark and holds text (go-cmp's layout
// of a line is deliberately unstable).
func hasDiffLine(diff, mark, text string) bool {
	for _, l := range strings.Split(diff, "\n") {
		if strings.HasPrefix(l, mark) && strings.Contains(l, text) {
			return true
		}
	}
	return false
}

// TestHostAndLeftovers: a Host behind a Router reaches a server in the Router's namespace over
// Connect, and RemoveNetns takes away all that a process that never closed its router left:
// daemons, namespace, pathspace.
func TestHostAndLeftovers(t *testing.T) {
	for _, v := range Supported() {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			Require(t, v)
			name := fmt.Sprintf("frrt-left%s-%d", strings.ReplaceAll(string(v), ".", ""), os.Getpid())
			r, err := NewRouter(v, "left", Options{Netns: name})
			if err != nil {
				t.Fatal(err)
			}
			// A failing test must not leave it behind; after the RemoveNetns below, a no-op.
			t.Cleanup(func() { _ = RemoveNetns(name) })
			if r.Netns != name {
				t.Fatalf("Netns = %q, want %q", r.Netns, name)
			}
			h, err := NewHost("client", Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := h.Close(); err != nil {
					t.Error(err)
				}
			})
			if _, _, err := Connect(h, r, netip.MustParsePrefix("10.255.1.2/30"), netip.MustParsePrefix("10.255.1.1/30")); err != nil {
				t.Fatal(err)
			}
			// A server in the router's namespace, reached from the host over the link. Listen
			// must leave this process where it was, however often it is called.
			self, err := os.Readlink("/proc/self/ns/net")
			if err != nil {
				t.Fatal(err)
			}
			for range 20 {
				l, err := r.Listen("10.255.1.1:0")
				if err != nil {
					t.Fatal(err)
				}
				l.Close()
			}
			if now, _ := os.Readlink("/proc/self/ns/net"); now != self {
				t.Fatalf("after Listen the process is in network namespace %s, not %s", now, self)
			}
			l, err := r.Listen("10.255.1.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go func() {
				if c, err := l.Accept(); err == nil {
					c.Write([]byte("hello\n"))
					c.Close()
				}
			}()
			port := l.Addr().(*net.TCPAddr).Port
			out, err := h.Exec("timeout", "5", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/10.255.1.1/%d && cat <&3", port))
			if err != nil || out != "hello\n" {
				t.Fatalf("from the host to a server in the router's namespace: %v, %q", err, out)
			}

			bgpd := r.pid("bgpd")
			if bgpd == 0 {
				t.Fatal("no bgpd pid file")
			}
			if err := RemoveNetns(name); err != nil {
				t.Fatal(err)
			}
			// Gone, or a zombie that init has not reaped yet.
			if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", bgpd)); err == nil {
				if _, state, _ := strings.Cut(string(stat), ") "); !strings.HasPrefix(state, "Z") {
					t.Errorf("bgpd (pid %d) survived RemoveNetns: %s", bgpd, stat)
				}
			}
			for _, p := range []string{"/var/run/netns/" + name, r.runDir(), r.confDir()} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s survived RemoveNetns (stat: %v)", p, err)
				}
			}
			if err := RemoveNetns(name); err != nil {
				t.Errorf("RemoveNetns of nothing: %v", err)
			}
		})
	}
}
