package translate

import (
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// DefaultSecretsNamespace is Cilium's default for bgpControlPlane.secretNamespace.name.
const DefaultSecretsNamespace = "kube-system"

// Options are the agent settings that shape translation.
type Options struct {
	// Node is the name of the node to translate for (its CiliumNode and Node).
	Node string
	// SecretsNamespace holds the Secrets that authSecretRef names. Empty means kube-system.
	SecretsNamespace string
	// SkipServicesWithoutEndpoints withdraws Services that have no active backend anywhere,
	// as Cilium does with enableNoServiceEndpointsRoutable=false. The default advertises them.
	SkipServicesWithoutEndpoints bool
	// RouterIDAllocation is Cilium's bgp-router-id-allocation-mode: RouterIDAllocationDefault
	// (also "") or RouterIDAllocationIPPool.
	RouterIDAllocation string
	// ServiceProxyName is Cilium's k8s-service-proxy-name: "" takes the Services without the
	// service.kubernetes.io/service-proxy-name label, a name only those labelled with it.
	ServiceProxyName string
	// LegacyOriginAttribute is Cilium's enable-bgp-legacy-origin-attribute: LoadBalancer IPs
	// are advertised with ORIGIN INCOMPLETE (as MetalLB does) instead of IGP.
	LegacyOriginAttribute bool
	// IPAMMode is Cilium's ipam: PodCIDR advertisements work with IPAMKubernetes and
	// IPAMClusterPool only. "" means IPAMClusterPool, Cilium's default.
	IPAMMode string
}

// Cilium's IPAM modes that give a node its own PodCIDRs (types.CanAdvertisePodCIDR).
const (
	IPAMClusterPool = "cluster-pool"
	IPAMKubernetes  = "kubernetes"
)

// Result is the node's desired configuration and what was found wrong on the way.
type Result struct {
	Config      model.NodeConfig
	Diagnostics []model.Diagnostic
	// FailedInstances names the BGP instances left out because an error stops them, as an
	// error stops their reconciliation in Cilium. A caller that applies the result keeps
	// what such an instance ran before rather than withdrawing it.
	FailedInstances []string
}

// Translate computes the desired BGP configuration of opts.Node. It returns an error only
// when the input cannot describe that node at all.
func Translate(snap *model.Snapshot, host model.HostFacts, opts Options) (Result, error) {
	if opts.SecretsNamespace == "" {
		opts.SecretsNamespace = DefaultSecretsNamespace
	}
	t := newTranslation(snap, host, opts)
	if err := t.findNode(); err != nil {
		return Result{}, err
	}
	t.run()
	t.out.FailedInstances = t.failed
	return Result{Config: t.out, Diagnostics: t.diags, FailedInstances: t.failed}, nil
}

// translation carries the indexes built once per call and the output being assembled.
type translation struct {
	snap *model.Snapshot
	host model.HostFacts
	opts Options

	ciliumNode *model.CiliumNode
	node       *corev1.Node
	nodeLabels labels.Set

	peerConfigs map[string]*model.CiliumBGPPeerConfig
	resolved    map[string]*resolvedPeerConfig
	secrets     map[string]*corev1.Secret
	adverts     []*model.CiliumBGPAdvertisement // sorted by name
	rules       map[ruleKey]*ruleOutput
	ruleInfos   map[ruleRefKey]*ruleInfo
	services    *serviceIndex
	// own are the node's addresses, read once when a peer needs them (ownAddresses).
	own map[netip.Addr]string

	out      model.NodeConfig
	diags    []model.Diagnostic
	reported map[model.Diagnostic]bool
	failed   []string
}

func newTranslation(snap *model.Snapshot, host model.HostFacts, opts Options) *translation {
	t := &translation{
		snap:        snap,
		host:        host,
		opts:        opts,
		peerConfigs: map[string]*model.CiliumBGPPeerConfig{},
		resolved:    map[string]*resolvedPeerConfig{},
		secrets:     map[string]*corev1.Secret{},
		rules:       map[ruleKey]*ruleOutput{},
		ruleInfos:   map[ruleRefKey]*ruleInfo{},
		reported:    map[model.Diagnostic]bool{},
	}
	for _, pc := range snap.PeerConfigs {
		t.peerConfigs[pc.Name] = pc
	}
	for _, s := range snap.Secrets {
		if s.Namespace == opts.SecretsNamespace {
			t.secrets[s.Name] = s
		}
	}
	t.adverts = append(t.adverts, snap.Advertisements...)
	sort.Slice(t.adverts, func(i, j int) bool { return t.adverts[i].Name < t.adverts[j].Name })
	return t
}

func (t *translation) warn(obj model.ObjectRef, field, format string, args ...any) {
	t.report(model.Diagnostic{Severity: model.Warning, Object: obj, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (t *translation) error(obj model.ObjectRef, field, format string, args ...any) {
	t.report(model.Diagnostic{Severity: model.Error, Object: obj, Field: field, Message: fmt.Sprintf(format, args...)})
}

// report adds a diagnostic once: a value read for each family or rule that uses it (a pod
// CIDR, a pool allocation) would otherwise be reported as many times.
func (t *translation) report(d model.Diagnostic) {
	if t.reported[d] {
		return
	}
	t.reported[d] = true
	t.diags = append(t.diags, d)
}

// findNode looks up the node by name. Cilium selects on CiliumNode labels; a Node alone is
// accepted (with a warning) so that manifests written without CiliumNodes still render.
func (t *translation) findNode() error {
	for _, cn := range t.snap.CiliumNodes {
		if cn.Name == t.opts.Node {
			t.ciliumNode = cn
		}
	}
	for _, n := range t.snap.Nodes {
		if n.Name == t.opts.Node {
			t.node = n
		}
	}
	switch {
	case t.ciliumNode != nil:
		t.nodeLabels = labels.Set(t.ciliumNode.Labels)
	case t.node != nil:
		t.nodeLabels = labels.Set(t.node.Labels)
		t.warn(model.ObjectRef{Kind: model.KindNode, Name: t.node.Name}, "",
			"no CiliumNode of that name: selecting on the Node's labels, and no PodCIDR or pool is advertised")
	default:
		return fmt.Errorf("node %q not found: no CiliumNode or Node of that name in the input", t.opts.Node)
	}
	t.out.Node = t.opts.Node
	return nil
}

func (t *translation) run() {
	cc := t.selectClusterConfig()
	if cc == nil {
		return
	}
	t.out.ClusterConfig = cc.Name
	override := t.findOverride(cc)
	seen := map[string]bool{}
	views := map[string]string{} // FRR view name: instance name
	for i := range cc.Spec.BGPInstances {
		spec := &cc.Spec.BGPInstances[i]
		ref := clusterConfigRef(cc)
		field := fmt.Sprintf("spec.bgpInstances[%d]", i)
		if spec.Name == "" {
			// The CRD requires a name: Cilium never sees such an instance.
			t.error(ref, field+".name", "required: instance not configured")
			continue
		}
		if seen[spec.Name] {
			t.warn(ref, field+".name", "instance %q appears twice; the first one is used", spec.Name)
			continue
		}
		seen[spec.Name] = true
		// Every instance but the node's first is an FRR view, named after it (model.ViewName
		// maps a name FRR cannot take). Two names that map to one view: only by a name chosen
		// to meet another's mapped form.
		view := ""
		if len(t.out.Instances) > 0 {
			view = model.ViewName(spec.Name)
			if other, dup := views[view]; dup {
				t.error(ref, field+".name", "%q is FRR view %q, the name instance %q maps to: instance not configured", spec.Name, view, other)
				t.failed = append(t.failed, spec.Name)
				continue
			}
		}
		inst, ok := t.instance(cc, i, override)
		if !ok {
			t.failed = append(t.failed, spec.Name)
			continue
		}
		if view != "" {
			views[view] = spec.Name
		}
		t.out.Instances = append(t.out.Instances, inst)
	}
	t.checkListenPorts()
}

// checkListenPorts warns about instances whose localPort FRR cannot honour: bgpd has one
// listening port (its -p option), the first listening instance's.
func (t *translation) checkListenPorts() {
	port := t.out.ListenPort()
	for _, in := range t.out.Instances {
		if in.ListenPort != 0 && in.ListenPort != port {
			src := in.Sources["listenPort"]
			t.warn(src.Object, src.Field, "instance %q asks to listen on port %d, but bgpd listens on one port for every instance: %d is used",
				in.Name, in.ListenPort, port)
		}
	}
}

// selectClusterConfig returns the ClusterConfig that owns the node. When several select it,
// the one that owns the node's CiliumBGPNodeConfig keeps it, else the oldest (Cilium's
// operator gives the node's NodeConfig to the first one and marks the others
// ConflictingClusterConfig).
func (t *translation) selectClusterConfig() *model.CiliumBGPClusterConfig {
	ccs := append([]*model.CiliumBGPClusterConfig(nil), t.snap.ClusterConfigs...)
	sort.SliceStable(ccs, func(i, j int) bool {
		a, b := ccs[i].CreationTimestamp, ccs[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return ccs[i].Name < ccs[j].Name
	})
	var selecting []*model.CiliumBGPClusterConfig
	for _, cc := range ccs {
		sel, err := selectorOrEverything(cc.Spec.NodeSelector)
		if err != nil {
			t.error(clusterConfigRef(cc), "spec.nodeSelector", "invalid selector: %v", err)
			continue
		}
		if sel.Matches(t.nodeLabels) {
			selecting = append(selecting, cc)
		}
	}
	owner := t.nodeConfigOwner(selecting)
	for _, cc := range selecting {
		if owner == nil {
			owner = cc
			continue
		}
		if cc != owner {
			t.warn(clusterConfigRef(cc), "spec.nodeSelector",
				"also selects node %q, which %s already owns (ConflictingClusterConfig): ignored for this node",
				t.opts.Node, clusterConfigRef(owner))
		}
	}
	return owner
}

// nodeConfigOwner returns the ClusterConfig among selecting that owns the node's
// CiliumBGPNodeConfig (by UID, or by name where the input has no UIDs), nil if none does.
func (t *translation) nodeConfigOwner(selecting []*model.CiliumBGPClusterConfig) *model.CiliumBGPClusterConfig {
	nc := t.ownNodeConfig()
	if nc == nil {
		return nil
	}
	for _, ref := range nc.OwnerReferences {
		if ref.Kind != model.KindCiliumBGPClusterConfig {
			continue
		}
		for _, cc := range selecting {
			if ref.UID != "" && cc.UID != "" && ref.UID == cc.UID || (ref.UID == "" || cc.UID == "") && ref.Name == cc.Name {
				return cc
			}
		}
	}
	return nil
}

func (t *translation) findOverride(cc *model.CiliumBGPClusterConfig) *model.CiliumBGPNodeConfigOverride {
	var found *model.CiliumBGPNodeConfigOverride
	for _, o := range t.snap.NodeOverrides {
		if o.Name == t.opts.Node {
			found = o
		}
	}
	if found == nil {
		return nil
	}
	ref := model.ObjectRef{Kind: model.KindCiliumBGPNodeConfigOverride, Name: found.Name}
	names := map[string]*model.CiliumBGPInstance{}
	for i := range cc.Spec.BGPInstances {
		names[cc.Spec.BGPInstances[i].Name] = &cc.Spec.BGPInstances[i]
	}
	// Cilium ignores override entries that name no instance or peer; saying so saves an
	// operator the hunt of cilium/cilium#35066.
	for i, oi := range found.Spec.BGPInstances {
		field := fmt.Sprintf("spec.bgpInstances[%d]", i)
		inst, ok := names[oi.Name]
		if !ok {
			t.warn(ref, field+".name", "no instance %q in %s: ignored", oi.Name, clusterConfigRef(cc))
			continue
		}
		peers := map[string]bool{}
		for _, p := range inst.Peers {
			peers[p.Name] = true
		}
		for j, op := range oi.Peers {
			pfield := fmt.Sprintf("%s.peers[%d]", field, j)
			if !peers[op.Name] {
				t.warn(ref, pfield+".name", "no peer %q in instance %q: ignored", op.Name, oi.Name)
			}
			if op.LocalPort != nil {
				t.warn(ref, pfield+".localPort", "has no effect (Cilium does not use it)")
			}
		}
	}
	return found
}

func overrideInstance(o *model.CiliumBGPNodeConfigOverride, name string) (*model.CiliumBGPNodeConfigInstanceOverride, int) {
	if o == nil {
		return nil, -1
	}
	for i := range o.Spec.BGPInstances {
		if o.Spec.BGPInstances[i].Name == name {
			return &o.Spec.BGPInstances[i], i
		}
	}
	return nil, -1
}

func clusterConfigRef(cc *model.CiliumBGPClusterConfig) model.ObjectRef {
	return model.ObjectRef{Kind: model.KindCiliumBGPClusterConfig, Name: cc.Name}
}

// instance builds one BGP instance; false when an error stops it.
func (t *translation) instance(cc *model.CiliumBGPClusterConfig, idx int, o *model.CiliumBGPNodeConfigOverride) (model.Instance, bool) {
	spec := &cc.Spec.BGPInstances[idx]
	ccRef := clusterConfigRef(cc)
	field := fmt.Sprintf("spec.bgpInstances[%d]", idx)
	ov, ovIdx := overrideInstance(o, spec.Name)
	var ovRef model.ObjectRef
	var ovField string
	if ov != nil {
		ovRef = model.ObjectRef{Kind: model.KindCiliumBGPNodeConfigOverride, Name: o.Name}
		ovField = fmt.Sprintf("spec.bgpInstances[%d]", ovIdx)
	}
	inst := model.Instance{Name: spec.Name, Sources: model.Provenance{}}

	asn, asnSrc := spec.LocalASN, model.Source{Object: ccRef, Field: field + ".localASN"}
	if ov != nil && ov.LocalASN != nil {
		asn, asnSrc = ov.LocalASN, model.Source{Object: ovRef, Field: ovField + ".localASN"}
	}
	if asn == nil {
		t.error(ccRef, field+".localASN", "instance %q has no localASN (and no override sets one): instance not configured", spec.Name)
		return inst, false
	}
	if *asn < 1 || *asn > 4294967295 {
		t.error(asnSrc.Object, asnSrc.Field, "%d is not an ASN in 1..4294967295: instance not configured", *asn)
		return inst, false
	}
	inst.LocalASN = uint32(*asn)
	inst.Sources["localASN"] = asnSrc

	if !t.routerID(&inst, ov, ovRef, ovField) {
		return inst, false
	}
	if inst.RouterID.IsUnspecified() {
		// A BGP identifier is non-zero (RFC 6286): peers refuse the OPEN of a speaker without one.
		src := inst.Sources["routerID"]
		t.error(src.Object, src.Field, "router ID 0.0.0.0 is not a BGP identifier (it must be non-zero): instance %q not configured", spec.Name)
		return inst, false
	}

	port, portSrc := spec.LocalPort, model.Source{Object: ccRef, Field: field + ".localPort"}
	if ov != nil && ov.LocalPort != nil {
		port, portSrc = ov.LocalPort, model.Source{Object: ovRef, Field: ovField + ".localPort"}
	}
	if port == nil {
		p, ok := t.annotatedLocalPort(&inst)
		if !ok {
			return inst, false
		}
		if p != 0 {
			port, portSrc = &p, inst.Sources["listenPort"]
		}
	}
	if port != nil {
		if *port < 1 || *port > 65535 {
			t.error(portSrc.Object, portSrc.Field, "%d is not a port in 1..65535: instance not configured", *port)
			return inst, false
		}
		inst.ListenPort = uint16(*port)
		inst.Sources["listenPort"] = portSrc
	}

	if !t.peers(&inst, cc, idx, o) {
		return inst, false
	}
	t.advertisements(&inst)
	return inst, true
}
