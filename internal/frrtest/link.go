package frrtest

import (
	"fmt"
	"net/netip"
	"testing"
)

// Link connects routers a and b with a veth pair, gives each end its address (an invalid
// prefix leaves that end without one) and sets both ends up. It returns the interface names in
// a's and b's namespaces. The pair goes away with the namespaces.
func Link(t testing.TB, a, b *Router, aAddr, bAddr netip.Prefix) (aIf, bIf string) {
	t.Helper()
	aIf, bIf = a.newIfName(), b.newIfName()
	// Created directly in the two namespaces: no name ever exists in the host namespace, where
	// parallel tests would collide.
	if _, err := run("ip", "link", "add", aIf, "netns", a.Netns, "type", "veth", "peer", "name", bIf, "netns", b.Netns); err != nil {
		t.Fatalf("frrtest: %v", err)
	}
	for _, end := range []struct {
		r    *Router
		name string
		addr netip.Prefix
	}{{a, aIf, aAddr}, {b, bIf, bAddr}} {
		if err := end.r.setUp(end.name, end.addr); err != nil {
			t.Fatalf("frrtest: %v", err)
		}
	}
	return aIf, bIf
}

func (r *Router) newIfName() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := fmt.Sprintf("eth%d", r.nextIf)
	r.nextIf++
	return name
}

func (r *Router) setUp(ifName string, addr netip.Prefix) error {
	// Without duplicate address detection an IPv6 address (the link-local one too) is usable the
	// moment the link is up, instead of "tentative" for a second or more; it must be off before
	// the link goes up.
	if _, err := r.Exec("sysctl", "-qw", "net.ipv6.conf."+ifName+".accept_dad=0"); err != nil {
		return err
	}
	if addr.IsValid() {
		if _, err := run("ip", "-n", r.Netns, "addr", "add", addr.String(), "dev", ifName); err != nil {
			return err
		}
	}
	_, err := run("ip", "-n", r.Netns, "link", "set", ifName, "up")
	return err
}

// Bridge makes a Linux bridge name in r's namespace, enslaves ports (interfaces of r, up and
// without an address), gives the bridge addr and sets it up: one L2 segment for several
// routers (Link one pair per router, then Bridge r's ends), or a segment other namespaces
// attach to.
func Bridge(t testing.TB, r *Router, name string, addr netip.Prefix, ports ...string) {
	t.Helper()
	cmds := [][]string{{"ip", "link", "add", name, "type", "bridge"}}
	for _, p := range ports {
		cmds = append(cmds, []string{"ip", "link", "set", p, "master", name})
	}
	// With STP off (the default) the ports forward at once: no forwarding delay to wait out.
	cmds = append(cmds,
		[]string{"ip", "addr", "add", addr.String(), "dev", name},
		[]string{"ip", "link", "set", name, "up"})
	for _, c := range cmds {
		if _, err := r.Exec(c...); err != nil {
			t.Fatalf("frrtest: bridge %s in %s: %v", name, r.Name, err)
		}
	}
}
