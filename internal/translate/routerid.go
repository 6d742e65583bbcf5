package translate

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// Router IDs and listening ports, as Cilium's agent takes them (getRouterID and getLocalPort
// in pkg/bgpv1/manager/manager.go of 1.18, pkg/bgp/manager/manager.go of 1.20).

// Cilium's router ID allocation modes (bgpControlPlane.routerIDAllocation.mode).
const (
	// RouterIDAllocationDefault takes the router ID from the node: its IPv4 address, or on an
	// IPv6-only node the last four bytes of cilium_host's link-layer address.
	RouterIDAllocationDefault = "default"
	// RouterIDAllocationIPPool takes the router ID Cilium's operator allocated from a pool and
	// wrote into the node's CiliumBGPNodeConfig.
	RouterIDAllocationIPPool = "ip-pool"
)

const (
	// virtualRouterAnnotation + "." + ASN: "router-id=IPv4,local-port=N" for the instance of
	// that local ASN (Cilium 1.18; 1.19 and later no longer read it).
	virtualRouterAnnotation = "cilium.io/bgp-virtual-router"
	// ciliumHostDevice is the device whose link-layer address names an IPv6-only node.
	ciliumHostDevice = "cilium_host"
	// ciliumInternalIP is the CiliumNode address type that never names the node.
	ciliumInternalIP = "CiliumInternalIP"
)

// virtualRouter is one parsed cilium.io/bgp-virtual-router.ASN annotation.
type virtualRouter struct {
	key       string
	routerID  string
	localPort int32
}

// virtualRouters parses the node's cilium.io/bgp-virtual-router annotations. Like Cilium, one
// malformed annotation spoils them all (err names it); the agent then fails the instances that
// would read them.
func virtualRouters(annotations map[string]string) (map[int64]virtualRouter, error) {
	out := map[int64]virtualRouter{}
	keys := make([]string, 0, len(annotations))
	for k := range annotations {
		if strings.HasPrefix(k, virtualRouterAnnotation) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		parts := strings.Split(key, ".")
		if len(parts) != 3 {
			return nil, fmt.Errorf("annotation %q: want %s.<local ASN>", key, virtualRouterAnnotation)
		}
		asn, err := strconv.ParseUint(parts[2], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("annotation %q: %q is not a 32-bit ASN", key, parts[2])
		}
		vr := virtualRouter{key: key}
		for _, attr := range strings.Split(annotations[key], ",") {
			k, v, ok := strings.Cut(attr, "=")
			if !ok || strings.Contains(v, "=") {
				continue // Cilium skips what is not key=value
			}
			switch k {
			case "router-id":
				a, err := netip.ParseAddr(v)
				if err != nil || !a.Is4() {
					return nil, fmt.Errorf("annotation %q: router-id %q is not an IPv4 address", key, v)
				}
				vr.routerID = v
			case "local-port":
				// Cilium parses it as a signed 16-bit number.
				p, err := strconv.ParseInt(v, 10, 16)
				if err != nil {
					return nil, fmt.Errorf("annotation %q: local-port %q is not a port Cilium accepts (1..32767)", key, v)
				}
				vr.localPort = int32(p)
			}
		}
		out[int64(asn)] = vr
	}
	return out, nil
}

// nodeAnnotations are the annotations Cilium reads the virtual router attributes from: the
// CiliumNode's (which mirror the Node's), or the Node's when there is no CiliumNode.
func (t *translation) nodeAnnotations() (map[string]string, model.ObjectRef) {
	if t.ciliumNode != nil {
		return t.ciliumNode.Annotations, model.ObjectRef{Kind: model.KindCiliumNode, Name: t.ciliumNode.Name}
	}
	if t.node != nil {
		return t.node.Annotations, model.ObjectRef{Kind: model.KindNode, Name: t.node.Name}
	}
	return nil, model.ObjectRef{}
}

// annotatedRouter returns the node's cilium.io/bgp-virtual-router annotation for asn, if any;
// false with an error reported when the annotations cannot be read, which fails the instance
// as it fails Cilium 1.18's.
func (t *translation) annotatedRouter(inst string, asn uint32) (virtualRouter, model.ObjectRef, bool) {
	annotations, ref := t.nodeAnnotations()
	vrs, err := virtualRouters(annotations)
	if err != nil {
		t.error(ref, "metadata.annotations", "%v: instance %q not configured", err, inst)
		return virtualRouter{}, ref, false
	}
	vr, found := vrs[int64(asn)]
	if found {
		t.warn(ref, "metadata.annotations", "%q: Cilium 1.18 reads it for instance %q; 1.19 and later ignore it (use a CiliumBGPNodeConfigOverride)", vr.key, inst)
	}
	return vr, ref, true
}

// routerID sets the instance's router ID: the override's, then (ip-pool) the one Cilium's
// operator allocated, or (default) the node's annotation, IPv4 address or cilium_host's
// link-layer address. False when there is none: an error fails the instance.
func (t *translation) routerID(inst *model.Instance, ov *model.CiliumBGPNodeConfigInstanceOverride, ovRef model.ObjectRef, ovField string) bool {
	if ov != nil && ov.RouterID != nil {
		a, err := netip.ParseAddr(*ov.RouterID)
		if err != nil || !a.Is4() {
			t.error(ovRef, ovField+".routerID", "%q is not an IPv4 address: instance not configured", *ov.RouterID)
			return false
		}
		inst.RouterID = a
		inst.Sources["routerID"] = model.Source{Object: ovRef, Field: ovField + ".routerID"}
		return true
	}
	vr, annRef, ok := t.annotatedRouter(inst.Name, inst.LocalASN)
	if !ok {
		return false
	}
	if vr.routerID != "" {
		inst.RouterID = netip.MustParseAddr(vr.routerID)
		inst.Sources["routerID"] = model.Source{Object: annRef, Field: "metadata.annotations[" + vr.key + "]"}
		return true
	}
	switch mode := t.opts.RouterIDAllocation; mode {
	case "", RouterIDAllocationDefault:
		return t.nodeRouterID(inst)
	case RouterIDAllocationIPPool:
		return t.allocatedRouterID(inst)
	default:
		t.error(model.ObjectRef{Kind: model.KindCiliumNode, Name: t.opts.Node}, "", "router ID allocation mode %q is not default or ip-pool: instance %q not configured", mode, inst.Name)
		return false
	}
}

// nodeRouterID is the default mode: the node's IPv4 address as Cilium picks it
// (addressing.ExtractNodeIP: the first InternalIP, else the last ExternalIP, else the first
// other address that is not a CiliumInternalIP), else the last four bytes of cilium_host's
// link-layer address.
func (t *translation) nodeRouterID(inst *model.Instance) bool {
	type address struct{ typ, ip, field string }
	var addrs []address
	var ref model.ObjectRef
	switch {
	case t.ciliumNode != nil:
		ref = model.ObjectRef{Kind: model.KindCiliumNode, Name: t.ciliumNode.Name}
		for i, a := range t.ciliumNode.Spec.Addresses {
			addrs = append(addrs, address{a.Type, a.IP, fmt.Sprintf("spec.addresses[%d].ip", i)})
		}
	case t.node != nil:
		// No CiliumNode (manifests written without one): the Node's addresses, which the
		// agent copies into the CiliumNode.
		ref = model.ObjectRef{Kind: model.KindNode, Name: t.node.Name}
		for i, a := range t.node.Status.Addresses {
			addrs = append(addrs, address{string(a.Type), a.Address, fmt.Sprintf("status.addresses[%d].address", i)})
		}
	}
	var pick, backup *address
	for i := range addrs {
		a := &addrs[i]
		ip, err := netip.ParseAddr(strings.TrimSpace(a.ip))
		if err != nil || !ip.Unmap().Is4() {
			continue
		}
		if a.typ == string(corev1.NodeInternalIP) {
			pick = a
			break
		}
		if a.typ == string(corev1.NodeExternalIP) || (a.typ != ciliumInternalIP && backup == nil) {
			backup = a
		}
	}
	if pick == nil {
		pick = backup
	}
	if pick != nil {
		inst.RouterID = netip.MustParseAddr(strings.TrimSpace(pick.ip)).Unmap()
		inst.Sources["routerID"] = model.Source{Object: ref, Field: pick.field}
		return true
	}
	return t.macRouterID(inst, ref)
}

// macRouterID is an IPv6-only node's router ID: the last four bytes of cilium_host's
// link-layer address, as Cilium's agent reads it on the node.
func (t *translation) macRouterID(inst *model.Instance, nodeRef model.ObjectRef) bool {
	for _, ifc := range t.host.Interfaces {
		if ifc.Name != ciliumHostDevice || ifc.HardwareAddr == "" {
			continue
		}
		mac, err := net.ParseMAC(ifc.HardwareAddr)
		if err != nil || len(mac) < 4 {
			break
		}
		inst.RouterID = netip.AddrFrom4([4]byte(mac[len(mac)-4:]))
		inst.Sources["routerID"] = model.Source{Object: model.ObjectRef{Kind: "Interface", Name: ciliumHostDevice}, Field: "hardwareAddr"}
		return true
	}
	if nodeRef.Kind == "" {
		nodeRef = model.ObjectRef{Kind: model.KindCiliumNode, Name: t.opts.Node}
	}
	t.error(nodeRef, "spec.addresses",
		"no IPv4 address to use as router ID for instance %q, and no %s device with a link-layer address on the host to derive one from (as Cilium does on IPv6-only nodes): instance not configured; set routerID in a CiliumBGPNodeConfigOverride named %q",
		inst.Name, ciliumHostDevice, t.opts.Node)
	return false
}

// allocatedRouterID is the ip-pool mode: the router ID Cilium's operator wrote into the
// node's CiliumBGPNodeConfig for the instance.
func (t *translation) allocatedRouterID(inst *model.Instance) bool {
	ref := model.ObjectRef{Kind: model.KindCiliumBGPNodeConfig, Name: t.opts.Node}
	if nc := t.ownNodeConfig(); nc != nil {
		for i, ni := range nc.Spec.BGPInstances {
			if ni.Name != inst.Name || ni.RouterID == nil {
				continue
			}
			field := fmt.Sprintf("spec.bgpInstances[%d].routerID", i)
			a, err := netip.ParseAddr(*ni.RouterID)
			if err != nil || !a.Is4() {
				t.error(ref, field, "the router-id %q is not a valid IPv4 address: instance %q not configured", *ni.RouterID, inst.Name)
				return false
			}
			inst.RouterID = a
			inst.Sources["routerID"] = model.Source{Object: ref, Field: field}
			return true
		}
	}
	t.error(ref, "spec.bgpInstances", "router ID allocation mode ip-pool: no routerID for instance %q (Cilium's operator allocates it): instance not configured", inst.Name)
	return false
}

// ownNodeConfig returns the node's CiliumBGPNodeConfig, nil when the snapshot has none.
func (t *translation) ownNodeConfig() *model.CiliumBGPNodeConfig {
	for _, nc := range t.snap.NodeConfigs {
		if nc.Name == t.opts.Node {
			return nc
		}
	}
	return nil
}

// annotatedLocalPort is the listening port of Cilium 1.18's annotation for an instance that
// sets none itself; 0 for none.
func (t *translation) annotatedLocalPort(inst *model.Instance) (int32, bool) {
	vr, ref, ok := t.annotatedRouter(inst.Name, inst.LocalASN)
	if !ok || vr.localPort == 0 {
		return 0, ok
	}
	inst.Sources["listenPort"] = model.Source{Object: ref, Field: "metadata.annotations[" + vr.key + "]"}
	return vr.localPort, true
}
