package hostfacts

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// TestFromHandle builds a network in a namespace of its own, step by step, reading the facts
// after each step. Everything is created with `ip -n`, inside that namespace: the test never
// changes the host's own namespace.
func TestFromHandle(t *testing.T) {
	name, ns := testNamespace(t)
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("netlink handle in the test namespace: %v", err)
	}
	t.Cleanup(h.Close)

	lo := model.Interface{Name: "lo", AdminUp: true, OperState: "unknown", Addresses: prefixes("127.0.0.1/8", "::1/128")}
	// The veths get fixed link-layer addresses (the kernel would pick random ones): 02:00:00:00:00:0X.
	mac := func(name string) string { return "02:00:00:00:00:0" + name[1:] }
	up := func(name string, addrs ...string) model.Interface {
		return model.Interface{Name: name, AdminUp: true, OperState: "up", Addresses: prefixes(addrs...), HardwareAddr: mac(name)}
	}
	route := func(family, gw string, metric uint32, iface string, linkUp bool) model.DefaultRoute {
		r := model.DefaultRoute{Family: family, Metric: metric, Interface: iface, LinkUp: linkUp}
		if gw != "" {
			r.Gateway = netip.MustParseAddr(gw)
		}
		return r
	}
	aAddrs := []string{"10.20.0.2/24", "10.99.0.1/32", "fd00:20::2/64", "fe80::2/64"}

	steps := []struct {
		name string
		cmds [][]string // `ip -n <ns>` arguments
		want model.HostFacts
	}{
		{
			name: "fresh namespace",
			want: model.HostFacts{Interfaces: []model.Interface{{Name: "lo", OperState: "down"}}},
		},
		{
			name: "lo up",
			cmds: [][]string{{"link", "set", "lo", "up"}},
			want: model.HostFacts{Interfaces: []model.Interface{lo}},
		},
		{
			name: "veths with default routes",
			cmds: [][]string{
				// va-vb is up; vc is up but its peer vd is not, so vc has no carrier.
				// addrgenmode none: no link-local address from a random MAC, so the
				// addresses are known.
				{"link", "add", "va", "address", mac("va"), "type", "veth", "peer", "name", "vb", "address", mac("vb")},
				{"link", "add", "vc", "address", mac("vc"), "type", "veth", "peer", "name", "vd", "address", mac("vd")},
				{"link", "set", "va", "addrgenmode", "none"},
				{"link", "set", "vb", "addrgenmode", "none"},
				{"link", "set", "vc", "addrgenmode", "none"},
				// Out of order, for the sorting to show.
				{"addr", "add", "fe80::2/64", "dev", "va", "nodad"},
				{"addr", "add", "fd00:20::2/64", "dev", "va", "nodad"},
				{"addr", "add", "10.99.0.1/32", "dev", "va"},
				{"addr", "add", "10.20.0.2/24", "dev", "va"},
				{"addr", "add", "10.30.0.2/24", "dev", "vc"},
				{"link", "set", "va", "up"},
				{"link", "set", "vb", "up"},
				{"link", "set", "vc", "up"},
				{"route", "add", "default", "via", "10.20.0.254", "metric", "200"},
				{"route", "add", "default", "via", "10.20.0.1", "metric", "100"},
				{"route", "add", "default", "via", "10.30.0.1", "dev", "vc", "metric", "400"},
				{"route", "add", "default", "dev", "va", "metric", "600"},
				{"route", "add", "default", "metric", "50", "nexthop", "via", "10.20.0.6", "nexthop", "via", "10.20.0.5"},
				{"-6", "route", "add", "default", "via", "fd00:20::1", "metric", "300"},
				{"-6", "route", "add", "default", "metric", "500", "nexthop", "via", "fd00:20::4", "dev", "va", "nexthop", "via", "fd00:20::3", "dev", "va"},
				{"-6", "route", "add", "default", "via", "fd00:20::9"}, // the kernel's default IPv6 metric
				// Not default routes of the main table, so not facts.
				{"route", "add", "blackhole", "default", "metric", "700"},
				{"route", "add", "default", "via", "10.20.0.1", "table", "100"},
				{"route", "add", "10.40.0.0/16", "via", "10.20.0.1"},
				{"-6", "route", "add", "fd00:40::/48", "via", "fd00:20::1"},
			},
			want: model.HostFacts{
				Interfaces: []model.Interface{
					lo,
					up("va", aAddrs...),
					up("vb"),
					{Name: "vc", AdminUp: true, OperState: "lowerlayerdown", Addresses: prefixes("10.30.0.2/24"), HardwareAddr: mac("vc")},
					{Name: "vd", OperState: "down", HardwareAddr: mac("vd")},
				},
				DefaultRoutes: []model.DefaultRoute{
					route("ipv4", "10.20.0.5", 50, "va", true),
					route("ipv4", "10.20.0.6", 50, "va", true),
					route("ipv4", "10.20.0.1", 100, "va", true),
					route("ipv4", "10.20.0.254", 200, "va", true),
					route("ipv4", "10.30.0.1", 400, "vc", false),
					route("ipv4", "", 600, "va", true),
					route("ipv6", "fd00:20::1", 300, "va", true),
					route("ipv6", "fd00:20::3", 500, "va", true),
					route("ipv6", "fd00:20::4", 500, "va", true),
					route("ipv6", "fd00:20::9", 1024, "va", true),
				},
			},
		},
		{
			name: "peer of va down",
			cmds: [][]string{{"link", "set", "vb", "down"}},
			want: model.HostFacts{
				Interfaces: []model.Interface{
					lo,
					{Name: "va", AdminUp: true, OperState: "lowerlayerdown", Addresses: prefixes(aAddrs...), HardwareAddr: mac("va")},
					{Name: "vb", OperState: "down", HardwareAddr: mac("vb")},
					{Name: "vc", AdminUp: true, OperState: "lowerlayerdown", Addresses: prefixes("10.30.0.2/24"), HardwareAddr: mac("vc")},
					{Name: "vd", OperState: "down", HardwareAddr: mac("vd")},
				},
				DefaultRoutes: []model.DefaultRoute{
					route("ipv4", "10.20.0.5", 50, "va", false),
					route("ipv4", "10.20.0.6", 50, "va", false),
					route("ipv4", "10.20.0.1", 100, "va", false),
					route("ipv4", "10.20.0.254", 200, "va", false),
					route("ipv4", "10.30.0.1", 400, "vc", false),
					route("ipv4", "", 600, "va", false),
					route("ipv6", "fd00:20::1", 300, "va", false),
					route("ipv6", "fd00:20::3", 500, "va", false),
					route("ipv6", "fd00:20::4", 500, "va", false),
					route("ipv6", "fd00:20::9", 1024, "va", false),
				},
			},
		},
	}
	for _, step := range steps {
		ok := t.Run(step.name, func(t *testing.T) {
			for _, args := range step.cmds {
				ipIn(t, name, args...)
			}
			// The kernel reports a carrier change through its link watch, up to a second
			// after the command that caused it (vb down: va's lowerlayerdown): read until
			// the facts are the expected ones, or twice that has passed.
			var got model.HostFacts
			for deadline := time.Now().Add(2 * time.Second); ; {
				var err error
				if got, err = FromHandle(h); err != nil {
					t.Fatalf("FromHandle: %v", err)
				}
				same := reflect.DeepEqual(got.Interfaces, step.want.Interfaces) && reflect.DeepEqual(got.DefaultRoutes, step.want.DefaultRoutes)
				if same || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if !reflect.DeepEqual(got.Interfaces, step.want.Interfaces) {
				t.Errorf("interfaces:\n got %+v\nwant %+v", got.Interfaces, step.want.Interfaces)
			}
			if !reflect.DeepEqual(got.DefaultRoutes, step.want.DefaultRoutes) {
				t.Errorf("default routes:\n got %+v\nwant %+v", got.DefaultRoutes, step.want.DefaultRoutes)
			}
		})
		if !ok {
			break // later steps build on this one
		}
	}
}

// The kernel's dumps in TestFromHandle give netlink v1.3's form of a default route only;
// this covers the forms other versions use and the near misses, without root.
func TestDefaultRouteFamily(t *testing.T) {
	cidr := func(s string) *net.IPNet {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	tests := []struct {
		name       string
		route      netlink.Route
		wantFamily string
		wantOK     bool
	}{
		{"ipv4 without Dst", netlink.Route{Family: netlink.FAMILY_V4, Type: unix.RTN_UNICAST}, "ipv4", true},
		{"ipv6 without Dst", netlink.Route{Family: netlink.FAMILY_V6, Type: unix.RTN_UNICAST}, "ipv6", true},
		{"ipv4 0.0.0.0/0", netlink.Route{Family: netlink.FAMILY_V4, Type: unix.RTN_UNICAST, Dst: cidr("0.0.0.0/0")}, "ipv4", true},
		{"ipv4 0.0.0.0/0 in 16 bytes", netlink.Route{Family: netlink.FAMILY_V4, Type: unix.RTN_UNICAST,
			Dst: &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}}, "ipv4", true},
		{"ipv6 ::/0", netlink.Route{Family: netlink.FAMILY_V6, Type: unix.RTN_UNICAST, Dst: cidr("::/0")}, "ipv6", true},
		{"ipv4 0.0.0.0/8", netlink.Route{Family: netlink.FAMILY_V4, Type: unix.RTN_UNICAST, Dst: cidr("0.0.0.0/8")}, "", false},
		{"ipv4 10.0.0.0/8", netlink.Route{Family: netlink.FAMILY_V4, Type: unix.RTN_UNICAST, Dst: cidr("10.0.0.0/8")}, "", false},
		{"ipv6 2000::/3", netlink.Route{Family: netlink.FAMILY_V6, Type: unix.RTN_UNICAST, Dst: cidr("2000::/3")}, "", false},
		{"blackhole", netlink.Route{Family: netlink.FAMILY_V4, Type: unix.RTN_BLACKHOLE, Dst: cidr("0.0.0.0/0")}, "", false},
		{"unreachable", netlink.Route{Family: netlink.FAMILY_V6, Type: unix.RTN_UNREACHABLE}, "", false},
		{"mpls", netlink.Route{Family: netlink.FAMILY_MPLS, Type: unix.RTN_UNICAST}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			family, ok := defaultRouteFamily(tt.route)
			if family != tt.wantFamily || ok != tt.wantOK {
				t.Errorf("defaultRouteFamily = %q, %v; want %q, %v", family, ok, tt.wantFamily, tt.wantOK)
			}
		})
	}
}

// FromNetlink reads the namespace of the calling thread, whichever that is: read from inside
// the test namespace, it must see what a handle bound to that namespace sees.
func TestFromNetlink(t *testing.T) {
	name, ns := testNamespace(t)
	ipIn(t, name, "link", "set", "lo", "up")
	ipIn(t, name, "link", "add", "va", "type", "veth", "peer", "name", "vb")
	ipIn(t, name, "addr", "add", "10.20.0.2/24", "dev", "va")
	ipIn(t, name, "link", "set", "va", "up")
	ipIn(t, name, "link", "set", "vb", "up")
	ipIn(t, name, "route", "add", "default", "via", "10.20.0.1")

	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("netlink handle in the test namespace: %v", err)
	}
	defer h.Close()
	want, err := FromHandle(h)
	if err != nil {
		t.Fatalf("FromHandle: %v", err)
	}
	if len(want.Interfaces) != 3 || len(want.DefaultRoutes) != 1 {
		t.Fatalf("FromHandle = %+v, want lo, va, vb and one default route", want)
	}

	var got model.HostFacts
	inNamespace(t, ns, func() { got, err = FromNetlink() })
	if err != nil {
		t.Fatalf("FromNetlink: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromNetlink in the test namespace:\n got %+v\nwant %+v", got, want)
	}
}

// inNamespace runs f on a thread moved into ns and back. The thread stays locked, to die with
// the goroutine, if it cannot be moved back: no other goroutine may run in the wrong namespace.
func inNamespace(t *testing.T, ns netns.NsHandle, f func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			done <- fmt.Errorf("current namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("enter test namespace: %w", err)
			return
		}
		f()
		if err := netns.Set(orig); err != nil {
			done <- fmt.Errorf("back to the original namespace: %w", err)
			return
		}
		runtime.UnlockOSThread()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// testNamespace creates a named network namespace for the test and removes it afterwards.
// A named one (rather than netns.New) leaves the test's threads where they are.
func testNamespace(t *testing.T) (string, netns.NsHandle) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip")
	}
	name := fmt.Sprintf("frrr-hf-%08x", rand.Uint32())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("open namespace %s: %v", name, err)
	}
	t.Cleanup(func() { ns.Close() })
	return name, ns
}

// ipIn runs ip in the named namespace: -n is what keeps the host's own namespace untouched.
func ipIn(t *testing.T, ns string, args ...string) {
	t.Helper()
	args = append([]string{"-n", ns}, args...)
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %v: %v: %s", args, err, out)
	}
}
