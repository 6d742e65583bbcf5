package hostfacts

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// signalWithin is how long a change may take to be signalled.
const signalWithin = time.Second

type watchHarness struct {
	t      *testing.T
	w      *Watcher
	h      *netlink.Handle
	ns     string
	mu     sync.Mutex
	errors []error
}

func startWatch(t *testing.T, rcvbuf int, stall chan struct{}) *watchHarness {
	t.Helper()
	name, ns := testNamespace(t)
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("netlink handle in the test namespace: %v", err)
	}
	t.Cleanup(h.Close)
	wh := &watchHarness{t: t, h: h, ns: name}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := Watch(ctx, WatchOptions{Namespace: &ns, rcvbuf: rcvbuf, stall: stall, OnError: func(err error) {
		wh.mu.Lock()
		wh.errors = append(wh.errors, err)
		wh.mu.Unlock()
	}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	wh.w = w
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.Done():
		case <-time.After(5 * time.Second):
			t.Error("the watcher did not end with its context")
		}
	})
	select {
	case <-w.Changes():
	default:
		t.Fatal("no token at the start")
	}
	return wh
}

func (wh *watchHarness) errs() []error {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	return slices.Clone(wh.errors)
}

// change runs ip commands in the test namespace and waits, as a consumer does, for tokens
// until the facts read again satisfy ok; it fails after signalWithin. It returns the time
// from the change to the token after which the facts showed it.
func (wh *watchHarness) change(what string, ok func(model.HostFacts) bool, cmds ...[]string) time.Duration {
	wh.t.Helper()
	// Tokens of earlier changes are behind us: the facts are read after each token anyway.
	select {
	case <-wh.w.Changes():
	default:
	}
	begin := time.Now()
	for _, c := range cmds {
		ipIn(wh.t, wh.ns, c...)
	}
	deadline := time.After(signalWithin)
	for {
		select {
		case <-wh.w.Changes():
			facts, err := FromHandle(wh.h)
			if err != nil {
				wh.t.Fatal(err)
			}
			if ok(facts) {
				return time.Since(begin)
			}
		case <-deadline:
			facts, _ := FromHandle(wh.h)
			wh.t.Fatalf("%s: not signalled with the change within %v; facts now: %s", what, signalWithin, summary(facts))
		}
	}
}

func summary(f model.HostFacts) string {
	var b strings.Builder
	for _, i := range f.Interfaces {
		fmt.Fprintf(&b, "%s (adminUp %v, %s, %d addresses) ", i.Name, i.AdminUp, i.OperState, len(i.Addresses))
	}
	fmt.Fprintf(&b, "default routes: %+v", f.DefaultRoutes)
	return b.String()
}

func iface(f model.HostFacts, name string) (model.Interface, bool) {
	for _, i := range f.Interfaces {
		if i.Name == name {
			return i, true
		}
	}
	return model.Interface{}, false
}

func hasAddr(f model.HostFacts, name, prefix string) bool {
	i, _ := iface(f, name)
	return slices.ContainsFunc(i.Addresses, func(p netip.Prefix) bool { return p.String() == prefix })
}

func TestWatch(t *testing.T) {
	wh := startWatch(t, 0, nil)
	steps := []struct {
		name string
		cmds [][]string
		ok   func(model.HostFacts) bool
	}{
		{
			name: "veth pair added",
			cmds: [][]string{
				{"link", "add", "va", "type", "veth", "peer", "name", "vb"},
				{"link", "set", "va", "addrgenmode", "none"},
				{"link", "set", "vb", "addrgenmode", "none"},
			},
			ok: func(f model.HostFacts) bool { _, ok := iface(f, "vb"); return ok },
		},
		{
			name: "links up",
			cmds: [][]string{{"link", "set", "va", "up"}, {"link", "set", "vb", "up"}},
			ok: func(f model.HostFacts) bool {
				a, _ := iface(f, "va")
				return a.AdminUp && a.OperState == "up"
			},
		},
		{
			name: "address added",
			cmds: [][]string{{"addr", "add", "10.20.0.2/24", "dev", "va"}},
			ok:   func(f model.HostFacts) bool { return hasAddr(f, "va", "10.20.0.2/24") },
		},
		{
			name: "IPv6 address added",
			cmds: [][]string{{"addr", "add", "fd00:20::2/64", "dev", "va", "nodad"}},
			ok:   func(f model.HostFacts) bool { return hasAddr(f, "va", "fd00:20::2/64") },
		},
		{
			name: "default route added",
			cmds: [][]string{{"route", "add", "default", "via", "10.20.0.1", "metric", "100"}},
			ok: func(f model.HostFacts) bool {
				return len(f.DefaultRoutes) == 1 && f.DefaultRoutes[0].Gateway.String() == "10.20.0.1" && f.DefaultRoutes[0].LinkUp
			},
		},
		{
			name: "IPv6 default route added",
			cmds: [][]string{{"-6", "route", "add", "default", "via", "fd00:20::1", "metric", "100"}},
			ok:   func(f model.HostFacts) bool { return len(f.DefaultRoutes) == 2 },
		},
		{
			name: "default route replaced by a blackhole",
			cmds: [][]string{{"route", "replace", "blackhole", "default", "metric", "100"}},
			ok: func(f model.HostFacts) bool {
				return len(f.DefaultRoutes) == 1 && f.DefaultRoutes[0].Family == "ipv6"
			},
		},
		{
			name: "default route added again",
			cmds: [][]string{
				{"route", "del", "blackhole", "default", "metric", "100"},
				{"route", "add", "default", "via", "10.20.0.1", "metric", "100"},
			},
			ok: func(f model.HostFacts) bool { return len(f.DefaultRoutes) == 2 },
		},
		{
			name: "peer down: no carrier",
			cmds: [][]string{{"link", "set", "vb", "down"}},
			ok: func(f model.HostFacts) bool {
				a, _ := iface(f, "va")
				return a.OperState == "lowerlayerdown" && !f.DefaultRoutes[0].LinkUp
			},
		},
		{
			name: "link down",
			cmds: [][]string{{"link", "set", "va", "down"}},
			ok: func(f model.HostFacts) bool {
				// The kernel drops va's IPv4 routes, and says so for none of them.
				a, _ := iface(f, "va")
				return !a.AdminUp && len(f.DefaultRoutes) == 0
			},
		},
		{
			name: "link up again, default route back",
			cmds: [][]string{
				{"link", "set", "va", "up"}, {"link", "set", "vb", "up"},
				{"route", "add", "default", "via", "10.20.0.1", "metric", "100"},
			},
			ok: func(f model.HostFacts) bool {
				return len(f.DefaultRoutes) == 1 && f.DefaultRoutes[0].LinkUp
			},
		},
		{
			name: "default route removed",
			cmds: [][]string{{"route", "del", "default", "via", "10.20.0.1", "metric", "100"}},
			ok:   func(f model.HostFacts) bool { return len(f.DefaultRoutes) == 0 },
		},
		{
			name: "address removed",
			cmds: [][]string{{"addr", "del", "10.20.0.2/24", "dev", "va"}},
			ok:   func(f model.HostFacts) bool { return !hasAddr(f, "va", "10.20.0.2/24") },
		},
		{
			name: "link removed",
			cmds: [][]string{{"link", "del", "va"}},
			ok:   func(f model.HostFacts) bool { _, ok := iface(f, "vb"); return !ok },
		},
	}
	for _, s := range steps {
		d := wh.change(s.name, s.ok, s.cmds...)
		t.Logf("%-40s seen after %v", s.name, d.Round(time.Microsecond))
	}
	if errs := wh.errs(); len(errs) > 0 {
		t.Errorf("OnError: %v", errs)
	}
}

func TestFactRoute(t *testing.T) {
	_, v4default, _ := net.ParseCIDR("0.0.0.0/0")
	_, v6default, _ := net.ParseCIDR("::/0")
	_, other, _ := net.ParseCIDR("10.40.0.0/16")
	main := unix.RT_TABLE_MAIN
	for _, c := range []struct {
		r    netlink.Route
		want bool
	}{
		{netlink.Route{Table: main, Dst: v4default, Type: unix.RTN_UNICAST}, true},
		{netlink.Route{Table: main, Dst: v6default, Type: unix.RTN_UNICAST}, true},
		{netlink.Route{Table: main, Type: unix.RTN_UNICAST}, true},                   // no RTA_DST
		{netlink.Route{Table: main, Dst: v4default, Type: unix.RTN_BLACKHOLE}, true}, // replaced a unicast one
		{netlink.Route{Table: main, Dst: other, Type: unix.RTN_UNICAST}, false},
		{netlink.Route{Table: 100, Dst: v4default, Type: unix.RTN_UNICAST}, false},
		{netlink.Route{Table: unix.RT_TABLE_LOCAL, Dst: other, Type: unix.RTN_LOCAL}, false},
	} {
		if got := factRoute(c.r); got != c.want {
			t.Errorf("factRoute(table %d dst %v type %d) = %v, want %v", c.r.Table, c.r.Dst, c.r.Type, got, c.want)
		}
	}
}

// TestWatchOverflow drowns subscriptions with a tiny receive buffer in a burst of updates
// while the watcher is held: the kernel drops updates (ENOBUFS), the watcher signals,
// subscribes again, and signals the changes that follow.
func TestWatchOverflow(t *testing.T) {
	stall := make(chan struct{})
	wh := startWatch(t, 1, stall) // the kernel rounds the buffer up to its minimum, about 2 KiB
	ipIn(t, wh.ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
	var batch strings.Builder
	const n = 500
	for i := range n {
		fmt.Fprintf(&batch, "addr add 10.%d.%d.1/32 dev va\n", 100+i/250, i%250)
	}
	file := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(file, []byte(batch.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ipIn(t, wh.ns, "-batch", file)
	close(stall)
	// Not wh.change: the token of the burst is the one to wait for.
	deadline := time.After(signalWithin)
	for done := false; !done; {
		select {
		case <-wh.w.Changes():
			facts, err := FromHandle(wh.h)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := iface(facts, "va")
			done = len(a.Addresses) == n
		case <-deadline:
			t.Fatalf("the burst was not signalled within %v", signalWithin)
		}
	}
	overflowed := func() bool {
		return slices.ContainsFunc(wh.errs(), func(err error) bool {
			return strings.Contains(err.Error(), unix.ENOBUFS.Error())
		})
	}
	// The error callback runs in the netlink package's goroutine: wait for it.
	for end := time.Now().Add(signalWithin); !overflowed() && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	if !overflowed() {
		t.Fatalf("the subscription did not overflow (errors: %v): the test proves nothing", wh.errs())
	}
	// Subscribed again: changes are signalled.
	wh.change("link up after the overflow", func(f model.HostFacts) bool {
		a, _ := iface(f, "va")
		return a.AdminUp
	}, []string{"link", "set", "va", "up"})
	wh.change("address after the overflow", func(f model.HostFacts) bool {
		return hasAddr(f, "va", "10.99.0.1/32")
	}, []string{"addr", "add", "10.99.0.1/32", "dev", "va"})
}
