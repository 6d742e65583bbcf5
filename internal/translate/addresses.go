package translate

import "net/netip"

// Why an address is no one's to advertise or to peer with: a value no correct controller
// writes, but one a mistaken or hostile status or spec can hold. FRR would announce such a
// prefix, or try to connect to such a peer, as told.
const (
	AddressUnspecified = "unspecified"
	AddressLoopback    = "loopback"
	AddressLinkLocal   = "link-local"
	AddressMulticast   = "multicast"
	AddressBroadcast   = "broadcast"
)

var ipv4Broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// UnroutableAddress says why a Service address (LoadBalancer IP, external IP, cluster IP) must
// not be advertised: the unspecified address (0.0.0.0, ::), loopback (127.0.0.0/8, ::1),
// link-local (169.254.0.0/16, fe80::/10), multicast (224.0.0.0/4, ff00::/8) or the IPv4
// broadcast address; "" for any other. Interface advertisements follow Cilium's own filter,
// UsableAddress, which keeps IPv4 link-local addresses.
func UnroutableAddress(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsUnspecified():
		return AddressUnspecified
	case a.IsLoopback():
		return AddressLoopback
	case a.IsLinkLocalUnicast():
		return AddressLinkLocal
	case a.IsMulticast():
		return AddressMulticast
	case a == ipv4Broadcast:
		return AddressBroadcast
	}
	return ""
}

// UnusablePeerAddress says why no BGP speaker can be at a peer address: the unspecified
// address, multicast, the IPv4 broadcast address; "" for any other. (A loopback address can
// be a speaker's: one beside FRR on the node.)
func UnusablePeerAddress(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsUnspecified():
		return AddressUnspecified
	case a.IsMulticast():
		return AddressMulticast
	case a == ipv4Broadcast:
		return AddressBroadcast
	}
	return ""
}

// addressKind is a reason of UnroutableAddress or UnusablePeerAddress with its article.
func addressKind(why string) string {
	switch why {
	case AddressUnspecified:
		return "an unspecified"
	case AddressBroadcast:
		return "the broadcast"
	}
	return "a " + why
}
