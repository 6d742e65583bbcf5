package frrtest

import (
	"fmt"
	"net/netip"
	"testing"
)

// Namespace is a Host or a Router: what a link connects.
type Namespace interface{ host() *Host }

// Link connects a and b with a veth pair as Connect does, and fails the test if it cannot.
func Link(t testing.TB, a, b Namespace, aAddr, bAddr netip.Prefix) (aIf, bIf string) {
	t.Helper()
	aIf, bIf, err := Connect(a, b, aAddr, bAddr)
	if err != nil {
		t.Fatalf("frrtest: %v", err)
	}
	return aIf, bIf
}

// Connect connects a and b with a veth pair, gives each end its address (an invalid prefix
// leaves that end without one) and sets both ends up. It returns the interface names in a's and
// b's namespaces. The pair goes away with the namespaces.
func Connect(a, b Namespace, aAddr, bAddr netip.Prefix) (aIf, bIf string, err error) {
	ha, hb := a.host(), b.host()
	aIf, bIf = ha.newIfName(), hb.newIfName()
	// Created directly in the two namespaces: no name ever exists in the host namespace, where
	// parallel tests would collide.
	if _, err := run("ip", "link", "add", aIf, "netns", ha.Netns, "type", "veth", "peer", "name", bIf, "netns", hb.Netns); err != nil {
		return "", "", err
	}
	for _, end := range []struct {
		h    *Host
		name string
		addr netip.Prefix
	}{{ha, aIf, aAddr}, {hb, bIf, bAddr}} {
		if err := end.h.setUp(end.name, end.addr); err != nil {
			return "", "", err
		}
	}
	return aIf, bIf, nil
}

func (h *Host) setUp(ifName string, addr netip.Prefix) error {
	// Without duplicate address detection an IPv6 address (the link-local one too) is usable the
	// moment the link is up, instead of "tentative" for a second or more; it must be off before
	// the link goes up.
	if _, err := h.Exec("sysctl", "-qw", "net.ipv6.conf."+ifName+".accept_dad=0"); err != nil {
		return err
	}
	if addr.IsValid() {
		if _, err := run("ip", "-n", h.Netns, "addr", "add", addr.String(), "dev", ifName); err != nil {
			return err
		}
	}
	_, err := run("ip", "-n", h.Netns, "link", "set", ifName, "up")
	return err
}

// Bridge makes a bridge as AddBridge does, and fails the test if it cannot.
func Bridge(t testing.TB, ns Namespace, name string, addr netip.Prefix, ports ...string) {
	t.Helper()
	if err := AddBridge(ns, name, addr, ports...); err != nil {
		t.Fatalf("frrtest: %v", err)
	}
}

// AddBridge makes a Linux bridge name in ns, enslaves ports (interfaces of ns, up and without
// an address), gives the bridge addr and sets it up: one L2 segment for several routers
// (Connect one pair per router, then bridge ns's ends), or a segment other namespaces attach to.
func AddBridge(ns Namespace, name string, addr netip.Prefix, ports ...string) error {
	h := ns.host()
	cmds := [][]string{{"ip", "link", "add", name, "type", "bridge"}}
	for _, p := range ports {
		cmds = append(cmds, []string{"ip", "link", "set", p, "master", name})
	}
	// With STP off (the default) the ports forward at once: no forwarding delay to wait out.
	cmds = append(cmds,
		[]string{"ip", "addr", "add", addr.String(), "dev", name},
		[]string{"ip", "link", "set", name, "up"})
	for _, c := range cmds {
		if _, err := h.Exec(c...); err != nil {
			return fmt.Errorf("bridge %s in %s: %w", name, h.Name, err)
		}
	}
	return nil
}
