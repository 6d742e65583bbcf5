package manifest

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// Decode parses one stream (for tests, fuzzing and stdin); name is used in error messages.
//
// Objects already in into take part in the duplicate rule as if read before the stream. On
// error into is left as it was.
func Decode(name string, data []byte, into *model.Snapshot) ([]model.Diagnostic, error) {
	if into == nil {
		return nil, errors.New("manifest.Decode: nil snapshot")
	}
	l := newLoader(into)
	if err := l.decodeStream(name, data); err != nil {
		return nil, err
	}
	l.finish()
	return l.diags, nil
}

// loader accumulates the objects of one or more streams, so that a later definition of an
// object can replace an earlier one found in another file.
type loader struct {
	into *model.Snapshot
	// objects holds each kind's definitions in input order. A replaced definition stays in
	// place as a nil entry, so that replacing costs O(1) and the survivors keep their order.
	objects map[*kind][]entry
	index   map[objectKey]int
	diags   []model.Diagnostic
}

type entry struct {
	obj object
	// from says where obj was defined, for duplicate warnings.
	from location
}

type objectKey struct {
	kind            *kind
	namespace, name string
}

// newLoader returns a loader that knows the objects already in into, so that the stream it
// reads may replace them.
func newLoader(into *model.Snapshot) *loader {
	l := &loader{into: into, objects: make(map[*kind][]entry), index: make(map[objectKey]int)}
	for _, k := range kinds {
		for _, o := range k.get(into) {
			l.add(k, o, location{file: "an earlier input"})
		}
	}
	return l
}

// decodeStream parses the documents of a stream in parallel, YAML parsing being most of the
// cost of large inputs, then keeps their objects in input order. The first error in input
// order wins, as if documents were parsed one after the other.
func (l *loader) decodeStream(name string, data []byte) error {
	if len(data) > MaxFileBytes {
		return fmt.Errorf("%s: more than the %d bytes a file may hold", name, MaxFileBytes)
	}
	docs := documents(data)
	type result struct {
		objs  []parsed
		diags []model.Diagnostic
		err   error
	}
	results := make([]result, len(docs))
	parallel(len(docs), func(i int) {
		r := &results[i]
		r.objs, r.diags, r.err = parseDocument(location{file: name, doc: i + 1}, docs[i])
	})
	for _, r := range results {
		if r.err != nil {
			return r.err
		}
	}
	for _, r := range results {
		l.diags = append(l.diags, r.diags...)
		for _, p := range r.objs {
			l.keep(p)
		}
	}
	return nil
}

// parallel calls f(0) to f(n-1) on up to GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// keep applies the rules of the API server that the translator relies on, then adds the
// object.
func (l *loader) keep(p parsed) {
	loc, k, o := p.from, p.kind, p.obj
	if k.Namespaced && o.GetNamespace() == "" {
		o.SetNamespace("default") // as kubectl apply does
	}
	if !k.Namespaced {
		// The API server ignores a namespace on cluster-scoped objects; so must keys.
		o.SetNamespace("")
	}
	if o.GetName() == "" {
		l.diags = append(l.diags, model.Diagnostic{
			Severity: model.Error,
			Object:   refOf(k, o),
			Message:  "metadata.name is empty",
		})
		return
	}
	if !k.Namespaced {
		if errs := validation.IsDNS1123Subdomain(o.GetName()); len(errs) > 0 {
			l.diags = append(l.diags, model.Diagnostic{
				Severity: model.Error,
				Object:   refOf(k, o),
				Field:    "metadata.name",
				Message: fmt.Sprintf("%s: %s; Kubernetes would refuse the object, so it is ignored",
					loc, strings.Join(errs, "; ")),
			})
			return
		}
	}
	if k.normalize != nil {
		k.normalize(o)
	}
	l.add(k, o, loc)
}

// add records a definition of o; a definition of the same object read before loses its place.
func (l *loader) add(k *kind, o object, from location) {
	key := objectKey{k, o.GetNamespace(), o.GetName()}
	entries := l.objects[k]
	if i, ok := l.index[key]; ok {
		l.diags = append(l.diags, model.Diagnostic{
			Severity: model.Warning,
			Object:   refOf(k, o),
			Message:  fmt.Sprintf("defined again at %s, which replaces the definition at %s", from, entries[i].from),
		})
		entries[i].obj = nil
	}
	l.index[key] = len(entries)
	l.objects[k] = append(entries, entry{obj: o, from: from})
}

func refOf(k *kind, o object) model.ObjectRef {
	return model.ObjectRef{Kind: k.Name, Namespace: o.GetNamespace(), Name: o.GetName()}
}

// finish writes the surviving definitions into the Snapshot.
func (l *loader) finish() {
	for k, entries := range l.objects {
		objs := make([]object, 0, len(entries))
		for _, e := range entries {
			if e.obj != nil {
				objs = append(objs, e.obj)
			}
		}
		k.set(l.into, objs)
	}
}
