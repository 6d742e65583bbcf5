// Package incremental translates a node again after a change, redoing only the work of the
// Services that changed: with 10,000 Services, one Service's edit costs what a hundred cost.
//
// It works around translate.Translate, never inside it: the rules are translate's alone. The
// Services (with their EndpointSlices) are split into shards by name; after a change, only the
// shards whose Services changed are translated again, each with every other object of the
// snapshot and its own Services only, and what they advertise replaces what they advertised
// before. That is sound because a Service's prefixes depend on nothing but itself, its
// EndpointSlices and the other kinds, and every prefix says which Service it comes from
// (model.Origin). Whatever does not fit that shape falls back to translating the whole node: a
// change of another kind or of the host's facts, a prefix two shards (or a shard and the rest)
// both advertise (a shared or aggregated address), diagnostics or sessions that come out
// otherwise than the whole node's, an export policy ID that the whole node could have numbered
// otherwise (translate numbers policies by a hash of their rules, probing upwards on a clash).
//
// A Translator's result is translate.Translate's on the same input, but for the order of the
// diagnostics; TestRandomEdits in this package checks it after every step of random edits.
//
// It must never modify a snapshot, an object or a result it handed out: the pipeline keeps the
// last result while the next one is worked out.
package incremental

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"reflect"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// ShardSize is the number of Services a shard is made for: small enough that translating a
// shard costs little more than translating the node without Services, large enough that the
// shards a burst touches are not too many to translate one by one. Against 128 (64 peers, the
// two builds run in turn): one change at 10,000 Services 1.7 instead of 1.9 ms
// (BenchmarkChange), 300 changes at once 58-66 instead of 50-53 ms at 10,000 and 106-116
// instead of 213 ms at 100,000 (a shard touched translates fewer Services that did not change).
const ShardSize = 32

// Stats say what one Translate did.
type Stats struct {
	// Whole: the node was translated whole; Why says why.
	Whole bool
	Why   string
	// Shards is the number of shards translated again (when not Whole), of Of.
	Shards, Of int
}

// Translator keeps the last translation of a node. It is not safe for concurrent use.
type Translator struct {
	opts      translate.Options
	shardSize int // ShardSize; tests make it smaller

	valid bool   // the state below is the last result's
	why   string // why it is not
	host  model.HostFacts
	k     int // shards

	services   []map[types.NamespacedName]*corev1.Service
	slices     []map[types.NamespacedName]*discoveryv1.EndpointSlice
	sliceShard map[types.NamespacedName]int // shard of each labelled slice
	// Shards whose Services share a prefix are translated together: groups of shards, a
	// union-find over shard numbers. Groups are joined as sharing appears, and split again
	// only by a whole translation.
	parent  []int
	members map[int][]int // by root

	result    translate.Result
	instances []*instanceState
	// Diagnostics: those of other objects (the same in every shard) and each shard's own.
	baseDiags  []model.Diagnostic
	baseSet    map[model.Diagnostic]bool
	shardDiags []map[model.Diagnostic]bool
}

// instanceState is one instance's prefixes and policies, by owner.
type instanceState struct {
	prefixes map[netip.Prefix]owned
	byShard  []map[netip.Prefix]bool // a group's prefixes are filed under one of its shards
	base     int                     // prefixes owned by no shard
	policies map[uint32]*policyRef
	// What the update in progress changed: the prefix now, or nil when it went.
	changed map[netip.Prefix]*model.AdvertisedPrefix
}

type owned struct {
	shard int // where it is filed; noShard for the other kinds' prefixes
	ap    model.AdvertisedPrefix
}

type policyRef struct {
	pol  model.ExportPolicy
	refs int
}

const noShard = -1

// New returns a Translator for the node and options opts.
func New(opts translate.Options) *Translator {
	return &Translator{opts: opts, shardSize: ShardSize, why: "first translation"}
}

// Translate returns translate.Translate(snap, host, opts), reusing the last call's work for
// what changes (what changed in snap since the snapshot of the last call) leaves alone.
func (t *Translator) Translate(snap *model.Snapshot, host model.HostFacts, changes model.Changes) (translate.Result, Stats, error) {
	why := ""
	switch {
	case !t.valid:
		why = t.why
	case changes.All:
		why = "everything may have changed"
	case changes.Other:
		why = "an object of another kind than Service and EndpointSlice changed"
	case !reflect.DeepEqual(host, t.host):
		why = "the host's facts changed"
	}
	if why == "" {
		res, st, ok := t.update(snap, host, changes)
		if ok {
			return res, st, nil
		}
		why = st.Why
	}
	res, err := t.whole(snap, host)
	return res, Stats{Whole: true, Why: why}, err
}

// shardOf is the shard of a Service's name.
func (t *Translator) shardOf(key types.NamespacedName) int {
	h := fnv.New32a()
	h.Write([]byte(key.Namespace))
	h.Write([]byte{'/'})
	h.Write([]byte(key.Name))
	return int(h.Sum32() % uint32(t.k))
}

// group is the root of a shard's group.
func (t *Translator) group(k int) int {
	for t.parent[k] != k {
		t.parent[k] = t.parent[t.parent[k]]
		k = t.parent[k]
	}
	return k
}

// join makes one group of the groups of a and b and returns its root.
func (t *Translator) join(a, b int) int {
	a, b = t.group(a), t.group(b)
	if a == b {
		return a
	}
	if len(t.members[a]) < len(t.members[b]) {
		a, b = b, a
	}
	t.parent[b] = a
	t.members[a] = append(t.members[a], t.members[b]...)
	delete(t.members, b)
	return a
}

// sliceService is the Service an EndpointSlice belongs to; false when its label does not say.
func sliceService(es *discoveryv1.EndpointSlice) (types.NamespacedName, bool) {
	name := es.Labels[discoveryv1.LabelServiceName]
	return types.NamespacedName{Namespace: es.Namespace, Name: name}, name != ""
}

// whole translates the whole node and keeps the result, split by group.
func (t *Translator) whole(snap *model.Snapshot, host model.HostFacts) (translate.Result, error) {
	t.valid, t.why = false, "the last translation failed"
	res, err := translate.Translate(snap, host, t.opts)
	if err != nil {
		return res, err
	}
	t.k = max(1, (len(snap.Services)+t.shardSize-1)/t.shardSize)
	t.host = host
	t.services = make([]map[types.NamespacedName]*corev1.Service, t.k)
	t.slices = make([]map[types.NamespacedName]*discoveryv1.EndpointSlice, t.k)
	t.shardDiags = make([]map[model.Diagnostic]bool, t.k)
	t.parent = make([]int, t.k)
	t.members = make(map[int][]int, t.k)
	for i := range t.k {
		t.services[i] = map[types.NamespacedName]*corev1.Service{}
		t.slices[i] = map[types.NamespacedName]*discoveryv1.EndpointSlice{}
		t.shardDiags[i] = map[model.Diagnostic]bool{}
		t.parent[i] = i
		t.members[i] = []int{i}
	}
	for _, svc := range snap.Services {
		key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
		t.services[t.shardOf(key)][key] = svc
	}
	t.sliceShard = map[types.NamespacedName]int{}
	for _, es := range snap.EndpointSlices {
		if svc, ok := sliceService(es); ok {
			k := t.shardOf(svc)
			key := types.NamespacedName{Namespace: es.Namespace, Name: es.Name}
			t.slices[k][key] = es
			t.sliceShard[key] = k
		}
	}

	t.result = res
	t.baseDiags, t.baseSet = nil, map[model.Diagnostic]bool{}
	for _, d := range res.Diagnostics {
		if k := t.diagShard(d); k != noShard {
			t.shardDiags[k][d] = true
		} else {
			t.baseDiags = append(t.baseDiags, d)
			t.baseSet[d] = true
		}
	}
	t.instances = make([]*instanceState, len(res.Config.Instances))
	for i := range res.Config.Instances {
		inst := &res.Config.Instances[i]
		st := &instanceState{
			prefixes: make(map[netip.Prefix]owned, len(inst.Prefixes)),
			byShard:  make([]map[netip.Prefix]bool, t.k),
			policies: make(map[uint32]*policyRef, len(inst.Policies)),
		}
		for _, pol := range inst.Policies {
			st.policies[pol.ID] = &policyRef{pol: pol}
		}
		for _, ap := range inst.Prefixes {
			shards, others := t.origins(ap)
			if len(shards) > 0 && others {
				t.why = fmt.Sprintf("prefix %s comes from a Service and from another object", ap.Prefix)
				return res, nil
			}
			k := noShard
			for _, s := range shards {
				k = t.join(s, shards[0])
			}
			st.file(ap, k)
			if ref := st.policies[ap.Policy]; ref != nil {
				ref.refs++
			}
		}
		t.instances[i] = st
	}
	if !policyIDsNatural(t.instances) {
		t.why = "export policy IDs that shards could number otherwise"
		return res, nil
	}
	t.valid = true
	return res, nil
}

// file records a prefix under shard k (noShard: the other objects').
func (st *instanceState) file(ap model.AdvertisedPrefix, k int) {
	st.prefixes[ap.Prefix] = owned{shard: k, ap: ap}
	if k == noShard {
		st.base++
		return
	}
	if st.byShard[k] == nil {
		st.byShard[k] = map[netip.Prefix]bool{}
	}
	st.byShard[k][ap.Prefix] = true
}

// note records that p changed in the update in progress: it is ap now, or gone.
func (st *instanceState) note(p netip.Prefix, ap *model.AdvertisedPrefix) {
	if st.changed == nil {
		st.changed = map[netip.Prefix]*model.AdvertisedPrefix{}
	}
	st.changed[p] = ap
}

// diagShard is the shard a diagnostic is about (a Service's, an EndpointSlice's), or noShard.
func (t *Translator) diagShard(d model.Diagnostic) int {
	key := types.NamespacedName{Namespace: d.Object.Namespace, Name: d.Object.Name}
	switch d.Object.Kind {
	case model.KindService:
		return t.shardOf(key)
	case model.KindEndpointSlice:
		if k, ok := t.sliceShard[key]; ok {
			return k
		}
	}
	return noShard
}

// origins returns the shards of the Services a prefix comes from, and whether other objects
// give it too.
func (t *Translator) origins(ap model.AdvertisedPrefix) (shards []int, others bool) {
	for _, o := range ap.Origins {
		if o.Object.Kind != model.KindService {
			others = true
			continue
		}
		s := t.shardOf(types.NamespacedName{Namespace: o.Object.Namespace, Name: o.Object.Name})
		if !slices.Contains(shards, s) {
			shards = append(shards, s)
		}
	}
	return shards, others
}

// update translates again the groups of shards changes touches. false (with Stats.Why) when
// the result cannot be had that way: the caller translates the whole node, which resets the
// state.
func (t *Translator) update(snap *model.Snapshot, host model.HostFacts, changes model.Changes) (translate.Result, Stats, bool) {
	st := Stats{Of: t.k}
	if len(snap.Services) > 4*t.shardSize*t.k {
		st.Why = "the Services outgrew their shards"
		return translate.Result{}, st, false
	}
	touched := map[int]bool{}
	for key, svc := range changes.Services {
		k := t.shardOf(key)
		touched[k] = true
		if svc == nil {
			delete(t.services[k], key)
		} else {
			t.services[k][key] = svc
		}
	}
	for key, es := range changes.EndpointSlices {
		if old, ok := t.sliceShard[key]; ok {
			touched[old] = true
			delete(t.slices[old], key)
			delete(t.sliceShard, key)
		}
		if es == nil {
			continue
		}
		svc, ok := sliceService(es)
		if !ok {
			// Not a Service's: no shard holds it, and it may count for the rest.
			return t.fail(st, "an EndpointSlice without a Service name changed")
		}
		k := t.shardOf(svc)
		t.slices[k][key] = es
		t.sliceShard[key] = k
		touched[k] = true
	}
	if len(touched) == 0 {
		return t.result, st, true
	}
	var queue []int
	for k := range touched {
		if g := t.group(k); !slices.Contains(queue, g) {
			queue = append(queue, g)
		}
	}
	sort.Ints(queue)

	changedInst := make([]bool, len(t.instances))
	for len(queue) > 0 {
		g := t.group(queue[0])
		queue = queue[1:]
		r, err := translate.Translate(t.groupSnapshot(snap, g), host, t.opts)
		if err != nil {
			return t.fail(st, "a shard fails to translate: "+err.Error())
		}
		if why := t.sameScaffold(r); why != "" {
			return t.fail(st, why)
		}
		// Prefixes another group has too: the groups are joined and translated together.
		joined, why := t.sharing(r, g)
		if why != "" {
			return t.fail(st, why)
		}
		if joined {
			g = t.group(g)
			queue = slices.DeleteFunc(queue, func(q int) bool { return t.group(q) == g })
			queue = append(queue, g)
			continue
		}
		// Diagnostics: the other objects' must be the node's.
		own := make([]model.Diagnostic, 0)
		others := 0
		for _, d := range r.Diagnostics {
			if k := t.diagShard(d); k != noShard && t.group(k) == g {
				own = append(own, d)
				continue
			}
			if !t.baseSet[d] {
				return t.fail(st, fmt.Sprintf("a shard has a diagnostic the node has not: %s", d))
			}
			others++
		}
		if others != len(t.baseSet) {
			return t.fail(st, "a shard lacks a diagnostic of the node")
		}
		for _, k := range t.members[g] {
			clear(t.shardDiags[k])
		}
		for _, d := range own {
			t.shardDiags[t.diagShard(d)][d] = true
		}
		for i := range r.Config.Instances {
			changed, why := t.replaceGroup(t.instances[i], &r.Config.Instances[i], g)
			if why != "" {
				return t.fail(st, why)
			}
			changedInst[i] = changedInst[i] || changed
		}
		st.Shards += len(t.members[g])
	}
	if !policyIDsNatural(t.instances) {
		return t.fail(st, "export policy IDs the whole node could number otherwise")
	}
	t.result = t.assemble(changedInst)
	return t.result, st, true
}

func (t *Translator) fail(st Stats, why string) (translate.Result, Stats, bool) {
	t.valid = false
	st.Why = why
	return translate.Result{}, st, false
}

// groupSnapshot is snap with the Services and EndpointSlices of group g's shards only.
func (t *Translator) groupSnapshot(snap *model.Snapshot, g int) *model.Snapshot {
	s := *snap
	s.Services, s.EndpointSlices = nil, nil
	for _, k := range t.members[g] {
		for _, svc := range t.services[k] {
			s.Services = append(s.Services, svc)
		}
		for _, es := range t.slices[k] {
			s.EndpointSlices = append(s.EndpointSlices, es)
		}
	}
	return &s
}

// sharing joins group g with every group that has a prefix of r's Services, and reports
// whether it joined any; why is set when a prefix comes from a Service and from another object.
func (t *Translator) sharing(r translate.Result, g int) (joined bool, why string) {
	for i := range r.Config.Instances {
		st := t.instances[i]
		for _, ap := range r.Config.Instances[i].Prefixes {
			shards, others := t.origins(ap)
			if len(shards) == 0 {
				continue
			}
			cur, ok := st.prefixes[ap.Prefix]
			switch {
			case others || ok && cur.shard == noShard:
				return joined, fmt.Sprintf("prefix %s comes from a Service and from another object", ap.Prefix)
			case ok && t.group(cur.shard) != t.group(g):
				t.join(g, cur.shard)
				joined = true
			}
		}
	}
	return joined, ""
}

// sameScaffold says how a shard's result differs from the node's beyond prefixes, policies and
// diagnostics, or "".
func (t *Translator) sameScaffold(r translate.Result) string {
	cur := &t.result
	if r.Config.Node != cur.Config.Node || r.Config.ClusterConfig != cur.Config.ClusterConfig {
		return "a shard selects another ClusterConfig"
	}
	if !slices.Equal(r.FailedInstances, cur.FailedInstances) {
		return "a shard fails other instances"
	}
	if len(r.Config.Instances) != len(cur.Config.Instances) {
		return "a shard has other instances"
	}
	for i := range r.Config.Instances {
		a, b := r.Config.Instances[i], cur.Config.Instances[i]
		a.Prefixes, a.Policies, b.Prefixes, b.Policies = nil, nil, nil, nil
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("a shard configures instance %q otherwise", b.Name)
		}
	}
	return ""
}

// replaceGroup replaces group g's prefixes in st by those of inst, the group's translation of
// the instance. It reports whether the instance changed, or why it cannot be done.
func (t *Translator) replaceGroup(st *instanceState, inst *model.Instance, g int) (bool, string) {
	policies := make(map[uint32]*model.ExportPolicy, len(inst.Policies))
	for i := range inst.Policies {
		policies[inst.Policies[i].ID] = &inst.Policies[i]
	}
	now := map[netip.Prefix]model.AdvertisedPrefix{}
	base := 0
	for _, ap := range inst.Prefixes {
		if shards, _ := t.origins(ap); len(shards) > 0 {
			now[ap.Prefix] = ap
			continue
		}
		cur, ok := st.prefixes[ap.Prefix]
		if !ok || cur.shard != noShard || cur.ap.Policy != ap.Policy || !reflect.DeepEqual(cur.ap.Origins, ap.Origins) {
			return false, fmt.Sprintf("prefix %s of other objects comes out otherwise in a shard", ap.Prefix)
		}
		base++
	}
	if base != st.base {
		return false, "a prefix of other objects is missing in a shard"
	}
	changed := false
	for _, k := range t.members[g] {
		for p := range st.byShard[k] {
			cur := st.prefixes[p]
			if ap, ok := now[p]; ok && ap.Policy == cur.ap.Policy && reflect.DeepEqual(ap.Origins, cur.ap.Origins) {
				delete(now, p) // unchanged
				continue
			}
			t.unref(st, cur.ap.Policy)
			delete(st.prefixes, p)
			delete(st.byShard[k], p)
			st.note(p, nil)
			changed = true
		}
	}
	for p, ap := range now {
		if cur, ok := st.prefixes[p]; ok {
			return false, fmt.Sprintf("prefix %s comes from group %d and from %d", p, g, t.group(cur.shard))
		}
		pol := policies[ap.Policy]
		if pol == nil {
			return false, fmt.Sprintf("prefix %s names policy %d, which its shard lacks", p, ap.Policy)
		}
		if ref := st.policies[ap.Policy]; ref != nil {
			if !reflect.DeepEqual(ref.pol, *pol) {
				return false, fmt.Sprintf("two export policies numbered %d", ap.Policy)
			}
			ref.refs++
		} else {
			st.policies[ap.Policy] = &policyRef{pol: *pol, refs: 1}
		}
		st.file(ap, g)
		st.note(p, &ap)
		changed = true
	}
	return changed, ""
}

func (t *Translator) unref(st *instanceState, id uint32) {
	if ref := st.policies[id]; ref != nil {
		if ref.refs--; ref.refs <= 0 {
			delete(st.policies, id)
		}
	}
}

// policyIDsNatural reports whether every export policy ID is surely the hash translate starts
// from, with no probing: no two IDs are neighbours and none is 1 (0 probes to 1). Then the shards
// and the whole node number every policy alike.
// Instances number their policies each on its own.
func policyIDsNatural(instances []*instanceState) bool {
	for _, st := range instances {
		if st == nil {
			return false
		}
		ids := make([]uint32, 0, len(st.policies))
		for id := range st.policies {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for i, id := range ids {
			if id <= 1 || i > 0 && id-ids[i-1] < 2 {
				return false
			}
		}
	}
	return true
}

// assemble builds the result from the state, sharing what did not change with the last result.
func (t *Translator) assemble(changed []bool) translate.Result {
	cur := t.result
	res := translate.Result{Config: cur.Config, FailedInstances: cur.FailedInstances}
	res.Config.Instances = slices.Clone(cur.Config.Instances)
	for i, st := range t.instances {
		notes := st.changed
		st.changed = nil
		if !changed[i] {
			continue
		}
		inst := &res.Config.Instances[i]
		inst.Prefixes = mergePrefixes(inst.Prefixes, notes)
		inst.Policies = make([]model.ExportPolicy, 0, len(st.policies))
		for _, ref := range st.policies {
			inst.Policies = append(inst.Policies, ref.pol)
		}
		slices.SortFunc(inst.Policies, func(a, b model.ExportPolicy) int {
			switch {
			case a.ID < b.ID:
				return -1
			case a.ID > b.ID:
				return 1
			}
			return 0
		})
	}
	res.Diagnostics = slices.Clone(t.baseDiags)
	for k := range t.shardDiags {
		own := make([]model.Diagnostic, 0, len(t.shardDiags[k]))
		for d := range t.shardDiags[k] {
			own = append(own, d)
		}
		sort.Slice(own, func(i, j int) bool { return own[i].String() < own[j].String() })
		res.Diagnostics = append(res.Diagnostics, own...)
	}
	return res
}

// mergePrefixes returns sorted (an instance's prefixes: sorted, each once) with the changes
// applied; sorted is not modified. The changes are few and the prefixes many: each change is
// found by a binary search, and the runs between them are copied whole.
func mergePrefixes(sorted []model.AdvertisedPrefix, changes map[netip.Prefix]*model.AdvertisedPrefix) []model.AdvertisedPrefix {
	changed := make([]netip.Prefix, 0, len(changes))
	for p := range changes {
		changed = append(changed, p)
	}
	slices.SortFunc(changed, prefixCmp)
	out := make([]model.AdvertisedPrefix, 0, len(sorted)+len(changes))
	for _, p := range changed {
		i, found := slices.BinarySearchFunc(sorted, p, func(ap model.AdvertisedPrefix, p netip.Prefix) int { return prefixCmp(ap.Prefix, p) })
		out = append(out, sorted[:i]...)
		if found {
			i++ // p as it was: replaced or gone
		}
		sorted = sorted[i:]
		if ap := changes[p]; ap != nil {
			out = append(out, *ap)
		}
	}
	return append(out, sorted...)
}

// prefixCmp is the order of an instance's prefixes (model.Instance.Prefixes): IPv4 before IPv6,
// then by address, then by length.
func prefixCmp(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
