package translate

import (
	"net/netip"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// DeriveNodeConfig computes the spec Cilium's operator writes into the node's
// CiliumBGPNodeConfig (operator/pkg/bgp/cluster.go, toNodeBGPInstance), and the
// CiliumBGPClusterConfig that owns it, for a sidecar that has to create the object when no
// operator does.
//
// The owner is the ClusterConfig Translate uses for the node, chosen by the same function.
// Every instance and peer of the owner is copied, valid or not: the operator does not
// validate them, the speaker does (Translate reports what it rejects). The node's
// CiliumBGPNodeConfigOverride replaces routerID, localPort and localASN only where it sets
// them and gives peers their localAddress, nothing else (its peers' localPort is dead in
// Cilium); entries naming no instance or peer are ignored. autoDiscovery is copied through.
// Nothing is shared with the snapshot.
//
// ok is false when no ClusterConfig selects the node, when the node is unknown, and when the
// override's routerID for one of the instances is not an IP address: the operator then writes
// no NodeConfig for the node at all.
func DeriveNodeConfig(snap *model.Snapshot, node string) (spec model.CiliumBGPNodeConfigSpec, owner *model.CiliumBGPClusterConfig, ok bool) {
	// A throwaway translation, for its node lookup and ClusterConfig selection: one rule for
	// both. Its diagnostics are dropped; Translate reports the same ones.
	t := newTranslation(snap, model.HostFacts{}, Options{Node: node, SecretsNamespace: DefaultSecretsNamespace})
	if t.findNode() != nil {
		return spec, nil, false
	}
	cc := t.selectClusterConfig()
	if cc == nil {
		return spec, nil, false
	}
	override := t.findOverride(cc)
	for i := range cc.Spec.BGPInstances {
		ci := &cc.Spec.BGPInstances[i]
		inst := model.CiliumBGPNodeInstance{
			Name:      ci.Name,
			LocalASN:  clonePtr(ci.LocalASN),
			LocalPort: clonePtr(ci.LocalPort),
		}
		ov, _ := overrideInstance(override, ci.Name)
		if ov != nil {
			if ov.RouterID != nil {
				if _, err := netip.ParseAddr(*ov.RouterID); err != nil {
					return model.CiliumBGPNodeConfigSpec{}, nil, false
				}
				inst.RouterID = clonePtr(ov.RouterID)
			}
			if ov.LocalPort != nil {
				inst.LocalPort = clonePtr(ov.LocalPort)
			}
			if ov.LocalASN != nil {
				inst.LocalASN = clonePtr(ov.LocalASN)
			}
		}
		for j := range ci.Peers {
			cp := &ci.Peers[j]
			p := model.CiliumBGPNodePeer{
				Name:          cp.Name,
				PeerAddress:   clonePtr(cp.PeerAddress),
				PeerASN:       clonePtr(cp.PeerASN),
				AutoDiscovery: cloneAutoDiscovery(cp.AutoDiscovery),
			}
			if cp.PeerConfigRef != nil {
				// v2 references have a name only; v2alpha1's group and kind stay behind.
				p.PeerConfigRef = &model.PeerConfigReference{Name: cp.PeerConfigRef.Name}
			}
			if op := overridePeer(ov, cp.Name); op != nil {
				p.LocalAddress = clonePtr(op.LocalAddress)
			}
			inst.Peers = append(inst.Peers, p)
		}
		spec.BGPInstances = append(spec.BGPInstances, inst)
	}
	return spec, cc, true
}

// overridePeer returns the first peer override of that name, as the operator takes it.
func overridePeer(ov *model.CiliumBGPNodeConfigInstanceOverride, name string) *model.CiliumBGPNodeConfigPeerOverride {
	if ov == nil {
		return nil
	}
	for i := range ov.Peers {
		if ov.Peers[i].Name == name {
			return &ov.Peers[i]
		}
	}
	return nil
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneAutoDiscovery(a *model.BGPAutoDiscovery) *model.BGPAutoDiscovery {
	if a == nil {
		return nil
	}
	out := &model.BGPAutoDiscovery{Mode: a.Mode}
	if a.DefaultGateway != nil {
		out.DefaultGateway = &model.DefaultGatewayDiscovery{AddressFamily: a.DefaultGateway.AddressFamily}
	}
	return out
}
