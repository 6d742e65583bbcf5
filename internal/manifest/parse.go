package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"

	"github.com/frr-renderer/frr-renderer/internal/model"
)

// parsed is an object of a kept kind, decoded but not yet checked against the API server's
// rules.
type parsed struct {
	from location
	kind *kind
	obj  object
}

// location names a document of a stream, and an item when the document is a List.
type location struct {
	file string
	doc  int
	// items is the path of item numbers within nested Lists, usually empty.
	items []int
}

func (loc location) String() string {
	file := PathForMessage(loc.file)
	if loc.doc == 0 {
		return file
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: document %d", file, loc.doc)
	for _, i := range loc.items {
		fmt.Fprintf(&b, ", item %d", i)
	}
	return b.String()
}

func (loc location) item(i int) location {
	loc.items = append(loc.items[:len(loc.items):len(loc.items)], i)
	return loc
}

// parseDocument decodes the objects of kept kinds in one document, with warnings about what a
// strict decoder would refuse. It depends on nothing but its arguments, so that documents can
// be parsed in parallel.
//
// The document is decoded once, into a tree, and the tree is then walked: the cost is linear
// in the document, however deep Lists nest. What may be quoted in an error is decided by the
// decoded kind, never by the text.
func parseDocument(loc location, doc []byte) ([]parsed, []model.Diagnostic, error) {
	if blank(doc) {
		return nil, nil, nil
	}
	if len(doc) > MaxDocumentBytes {
		return nil, nil, fmt.Errorf("%s: %d bytes, more than the %d a document may hold", loc, len(doc), MaxDocumentBytes)
	}
	t, err := decodeTree(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", loc, err)
	}
	p := &docParser{}
	if err := p.object(loc, t.root, typeKey{}); err != nil {
		return nil, nil, err
	}
	if len(t.duplicates) > 0 && len(p.out) > 0 {
		// The document holds an object that is read: it matters which of the values is used.
		ref := topRef(t.root)
		for _, d := range t.duplicates {
			p.diags = append(p.diags, model.Diagnostic{
				Severity: model.Warning,
				Object:   ref,
				Field:    d.field,
				Message:  fmt.Sprintf("%s: %s is set twice; the last value is used, and the API server would refuse the object", loc, d.what),
			})
		}
	}
	return p.out, p.diags, nil
}

// docParser collects the objects and warnings of one document.
type docParser struct {
	out   []parsed
	diags []model.Diagnostic
}

// object reads the object v, or the items of a List. A typed List (ServiceList...) may leave
// apiVersion and kind out of its items: listType supplies them.
func (p *docParser) object(loc location, v any, listType typeKey) error {
	if v == nil { // an empty document, or one explicitly null
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: not a Kubernetes object (a mapping with apiVersion and kind)", loc)
	}
	ref := refOfTree(m)
	apiVersion, avOK := m["apiVersion"].(string)
	kind, kindOK := m["kind"].(string)
	if kind == "" && kindOK || m["kind"] == nil {
		kind, kindOK, ref.Kind = listType.kind, true, listType.kind
	}
	if apiVersion == "" && avOK || m["apiVersion"] == nil {
		apiVersion, avOK = listType.apiVersion, true
	}
	at := func(err error) error {
		switch {
		case ref.Kind == "":
			return fmt.Errorf("%s: %w", loc, err)
		case ref.Name == "":
			return fmt.Errorf("%s (%s): %w", loc, ref.Kind, err)
		}
		return fmt.Errorf("%s (%s): %w", loc, ref, err)
	}

	switch {
	case !kindOK:
		return at(errors.New("kind is not a string"))
	case !avOK:
		return at(errors.New("apiVersion is not a string"))
	case apiVersion == "" && kind == "":
		return at(errors.New("apiVersion and kind are missing"))
	case apiVersion == "":
		return at(errors.New("apiVersion is missing"))
	case kind == "":
		return at(errors.New("kind is missing"))
	}

	if items, ok := m["items"]; ok && strings.HasSuffix(kind, "List") {
		list, ok := items.([]any)
		if !ok && items != nil {
			return at(errors.New("items is not a list"))
		}
		var itemType typeKey
		if kind != "List" {
			itemType = typeKey{apiVersion, strings.TrimSuffix(kind, "List")}
		}
		for i, item := range list {
			if err := p.object(loc.item(i+1), item, itemType); err != nil {
				return err
			}
		}
		return nil
	}

	k := kindsByType[typeKey{apiVersion, kind}]
	if k == nil {
		if k := kindsByName[kind]; k != nil {
			p.warn(ref, "", fmt.Sprintf("%s: apiVersion %s is not one this renderer reads for %s (%s); the object is ignored",
				loc, k.quote(apiVersion), kind, strings.Join(k.apiVersions, ", ")))
		}
		return nil
	}
	secret := k == secretKind
	js, err := marshalTree(m)
	if err != nil {
		// Only a YAML .nan or .inf has no JSON form.
		return at(errors.New("a number is not finite (.nan or .inf), which JSON cannot hold"))
	}
	o := k.newObject()
	// Decoded as the API server decodes: field names are case-sensitive.
	unknown, err := sigsjson.UnmarshalStrict(js, o, sigsjson.DisallowUnknownFields)
	if err != nil {
		return at(decodeError(secret, js, k, err))
	}
	if k.strict {
		for _, e := range unknown {
			field, ok := strictField(e, "unknown field ")
			if !ok || k.ignoreUnknown(field) {
				continue
			}
			p.warn(ref, field, fmt.Sprintf("%s: unknown field %q; it is ignored, and the API server would refuse the object", loc, field))
		}
	}
	// Items of a typed List may lack a type; the translator may still want it.
	o.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(apiVersion, kind))
	p.out = append(p.out, parsed{from: loc, kind: k, obj: o})
	return nil
}

func (p *docParser) warn(ref model.ObjectRef, field, msg string) {
	p.diags = append(p.diags, model.Diagnostic{Severity: model.Warning, Object: ref, Field: field, Message: msg})
}

// decodeError is the error of decoding an object of kind k, from the JSON js: withheld when
// the object is a Secret.
func decodeError(secret bool, js []byte, k *kind, err error) error {
	if !secret {
		return err
	}
	// The strict decoder's errors are of types of its own; the standard library's, which
	// withholdIf knows, say the same for the same input.
	if stdErr := json.Unmarshal(js, k.newObject()); stdErr != nil {
		err = stdErr
	}
	return withholdIf(true, err)
}

// refOfTree names the object m as far as its metadata says: it only makes errors clearer, and
// a malformed metadata fails the full decoding with a better message.
func refOfTree(m map[string]any) model.ObjectRef {
	var ref model.ObjectRef
	ref.Kind, _ = m["kind"].(string)
	if meta, ok := m["metadata"].(map[string]any); ok {
		ref.Name, _ = meta["name"].(string)
		ref.Namespace, _ = meta["namespace"].(string)
	}
	return ref
}

// topRef names a document's root object, for warnings about the document as a whole.
func topRef(root any) model.ObjectRef {
	m, _ := root.(map[string]any)
	return refOfTree(m)
}

// strictField is the field path of a strict decoder's error that starts with prefix.
func strictField(err error, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(err.Error(), prefix)
	if !ok {
		return "", false
	}
	return unquote(rest), true
}

// PathForMessage is path as messages name it: quoted when it holds what could pass for
// something else (a newline starting a forged line, a quote, a control character), else as
// it is, so that the usual message reads as before.
func PathForMessage(path string) string {
	if q := strconv.Quote(path); q[1:len(q)-1] != path {
		return q
	}
	return path
}
