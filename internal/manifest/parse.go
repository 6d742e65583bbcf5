package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

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
	if loc.doc == 0 {
		return loc.file
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: document %d", loc.file, loc.doc)
	for _, i := range loc.items {
		fmt.Fprintf(&b, ", item %d", i)
	}
	return b.String()
}

func (loc location) item(i int) location {
	loc.items = append(loc.items[:len(loc.items):len(loc.items)], i)
	return loc
}

// parseDocument decodes the objects of kept kinds in one document. It depends on nothing but
// its arguments, so that documents can be parsed in parallel.
func parseDocument(loc location, doc []byte) ([]parsed, error) {
	if blank(doc) {
		return nil, nil
	}
	// ToJSON passes JSON through untouched so that JSON syntax errors come from the JSON
	// parser, as with kubectl.
	js, err := utilyaml.ToJSON(doc)
	if err != nil {
		// The kind is unknown until the document parses, so whether the error may quote a
		// Secret has to be guessed from the text.
		return nil, fmt.Errorf("%s: %w", loc, withholdIf(mayHoldSecret(doc), err))
	}
	return parseObject(nil, loc, js, doc, typeKey{})
}

// header is the part of a document read before its kind is known.
type header struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   json.RawMessage `json:"metadata"`
	Items      json.RawMessage `json:"items"`
}

// parseObject appends to out the object in js, or the items of a List. A typed List
// (ServiceList...) may leave apiVersion and kind out of its items: listType supplies them.
// doc is the text of the whole document, which tells whether errors may quote a Secret.
func parseObject(out []parsed, loc location, js, doc []byte, listType typeKey) ([]parsed, error) {
	js = bytes.TrimSpace(js)
	if string(js) == "null" { // an empty document, or one explicitly null
		return out, nil
	}
	if len(js) == 0 || js[0] != '{' {
		return nil, fmt.Errorf("%s: not a Kubernetes object (a mapping with apiVersion and kind)", loc)
	}
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, fmt.Errorf("%s: %w", loc, withholdIf(mayHoldSecret(doc), err))
	}
	if h.APIVersion == "" {
		h.APIVersion = listType.apiVersion
	}
	if h.Kind == "" {
		h.Kind = listType.kind
	}
	ref := model.ObjectRef{Kind: h.Kind}
	// Best effort: the name only makes errors clearer, and a malformed metadata fails the
	// full decoding below with a better message.
	_ = json.Unmarshal(h.Metadata, &struct {
		Name      *string `json:"name"`
		Namespace *string `json:"namespace"`
	}{&ref.Name, &ref.Namespace})
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
	case h.APIVersion == "" && h.Kind == "":
		return nil, at(errors.New("apiVersion and kind are missing"))
	case h.APIVersion == "":
		return nil, at(errors.New("apiVersion is missing"))
	case h.Kind == "":
		return nil, at(errors.New("kind is missing"))
	}

	if strings.HasSuffix(h.Kind, "List") && h.Items != nil {
		var items []json.RawMessage
		if err := json.Unmarshal(h.Items, &items); err != nil {
			return nil, at(withholdIf(mayHoldSecret(doc), err))
		}
		var itemType typeKey
		if h.Kind != "List" {
			itemType = typeKey{h.APIVersion, strings.TrimSuffix(h.Kind, "List")}
		}
		for i, item := range items {
			var err error
			if out, err = parseObject(out, loc.item(i+1), item, doc, itemType); err != nil {
				return nil, err
			}
		}
		return out, nil
	}

	k := kindsByType[typeKey{h.APIVersion, h.Kind}]
	if k == nil {
		return out, nil
	}
	o := k.newObject()
	if err := json.Unmarshal(js, o); err != nil {
		return nil, at(withholdIf(k == secretKind || mayHoldSecret(doc), err))
	}
	// Items of a typed List may lack a type; the translator may still want it.
	o.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(h.APIVersion, h.Kind))
	return append(out, parsed{from: loc, kind: k, obj: o}), nil
}
