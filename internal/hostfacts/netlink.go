// Package hostfacts gathers the facts about the host that the BGP translator needs but cannot
// find in the cluster: the host's interfaces (for Interface advertisements and
// transport.sourceInterface) and its default routes (for DefaultGateway auto-discovery).
//
// In the sidecar the facts come from the kernel over netlink; offline they come from a YAML
// file, so that a node's configuration can be rendered away from the node.
package hostfacts

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// dumpAttempts bounds the retries of a netlink dump that the kernel interrupted because the
// tables changed under it: such a dump may miss or repeat entries.
const dumpAttempts = 5

// FromNetlink reads the facts of the network namespace the calling thread is in.
func FromNetlink() (model.HostFacts, error) {
	// NewHandle binds its socket to the namespace now, so later reads cannot drift into
	// another namespace if the goroutine moves to another thread.
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return model.HostFacts{}, fmt.Errorf("host facts: open netlink socket: %w", err)
	}
	defer h.Close()
	return FromHandle(h)
}

// FromHandle is FromNetlink on a given netlink handle (tests use a handle bound to a test
// namespace via netlink.NewHandleAt(ns)).
func FromHandle(h *netlink.Handle) (model.HostFacts, error) {
	var err error
	for range dumpAttempts {
		var facts model.HostFacts
		facts, err = read(h)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return facts, err
		}
	}
	return model.HostFacts{}, fmt.Errorf("host facts: gave up after %d attempts: %w", dumpAttempts, err)
}

func read(h *netlink.Handle) (model.HostFacts, error) {
	links, err := h.LinkList()
	if err != nil {
		return model.HostFacts{}, fmt.Errorf("host facts: list links: %w", err)
	}
	addrs, err := h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return model.HostFacts{}, fmt.Errorf("host facts: list addresses: %w", err)
	}
	routes, err := h.RouteListFiltered(netlink.FAMILY_ALL,
		&netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return model.HostFacts{}, fmt.Errorf("host facts: list routes: %w", err)
	}

	byIndex := make(map[int]*netlink.LinkAttrs, len(links))
	ifaces := make(map[int]*model.Interface, len(links))
	for _, l := range links {
		a := l.Attrs()
		byIndex[a.Index] = a
		ifaces[a.Index] = &model.Interface{
			Name:      a.Name,
			AdminUp:   a.RawFlags&unix.IFF_UP != 0,
			OperState: operState(a.OperState),
		}
		// lo's is all zeros: no address at all.
		if slices.ContainsFunc(a.HardwareAddr, func(b byte) bool { return b != 0 }) {
			ifaces[a.Index].HardwareAddr = a.HardwareAddr.String()
		}
	}
	for _, a := range addrs {
		// The three dumps are not one snapshot: an address of a link created after the link
		// dump has no interface to go to, and is as absent as that link.
		iface, ok := ifaces[a.LinkIndex]
		if !ok || a.IPNet == nil {
			continue
		}
		// The kernel sends 4 bytes for IPv4 and 16 for IPv6, so the slice carries the family.
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		iface.Addresses = append(iface.Addresses, netip.PrefixFrom(ip, ones))
	}

	facts := model.HostFacts{Interfaces: make([]model.Interface, 0, len(ifaces))}
	for _, iface := range ifaces {
		slices.SortFunc(iface.Addresses, netip.Prefix.Compare)
		facts.Interfaces = append(facts.Interfaces, *iface)
	}
	slices.SortFunc(facts.Interfaces, func(a, b model.Interface) int { return strings.Compare(a.Name, b.Name) })

	for _, r := range routes {
		family, ok := defaultRouteFamily(r)
		if !ok {
			continue
		}
		hops := []netlink.NexthopInfo{{LinkIndex: r.LinkIndex, Gw: r.Gw}}
		if len(r.MultiPath) > 0 {
			hops = hops[:0]
			for _, nh := range r.MultiPath {
				hops = append(hops, *nh)
			}
		}
		for _, nh := range hops {
			dr := model.DefaultRoute{Family: family, Metric: uint32(r.Priority)}
			dr.Gateway, _ = netip.AddrFromSlice(nh.Gw) // no gateway: the invalid Addr
			if l, ok := byIndex[nh.LinkIndex]; ok {
				dr.Interface = l.Name
				dr.LinkUp = l.OperState == netlink.OperUp
			}
			facts.DefaultRoutes = append(facts.DefaultRoutes, dr)
		}
	}
	slices.SortFunc(facts.DefaultRoutes, func(a, b model.DefaultRoute) int {
		return cmp.Or(
			strings.Compare(a.Family, b.Family),
			cmp.Compare(a.Metric, b.Metric),
			a.Gateway.Compare(b.Gateway),
			strings.Compare(a.Interface, b.Interface),
		)
	})
	return facts, nil
}

// defaultRouteFamily reports whether r is a default route the host would forward by, and its
// family. Blackhole, unreachable and prohibit defaults are not: they name no way out.
func defaultRouteFamily(r netlink.Route) (string, bool) {
	if r.Type != unix.RTN_UNICAST {
		return "", false
	}
	// netlink v1.3 fills in 0.0.0.0/0 or ::/0 for a route without RTA_DST, as iproute2
	// does; earlier versions left Dst nil.
	if r.Dst != nil {
		if ones, _ := r.Dst.Mask.Size(); ones != 0 || !r.Dst.IP.IsUnspecified() {
			return "", false
		}
	}
	switch r.Family {
	case netlink.FAMILY_V4:
		return "ipv4", true
	case netlink.FAMILY_V6:
		return "ipv6", true
	}
	return "", false
}

// operStates are the kernel's names (as in /sys/class/net/*/operstate), not those of
// netlink.LinkOperState.String, which hyphenates "lower-layer-down" and "not-present".
var operStates = [...]string{
	netlink.OperUnknown:        "unknown",
	netlink.OperNotPresent:     "notpresent",
	netlink.OperDown:           "down",
	netlink.OperLowerLayerDown: "lowerlayerdown",
	netlink.OperTesting:        "testing",
	netlink.OperDormant:        "dormant",
	netlink.OperUp:             "up",
}

func operState(s netlink.LinkOperState) string {
	if int(s) < len(operStates) {
		return operStates[s]
	}
	return "unknown"
}
