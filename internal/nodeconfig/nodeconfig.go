// Package nodeconfig is one node's frr.conf from the cluster's objects: the translation
// (package translate) followed by the rendering (package frrconfig), with what both said. The
// reconcile loop does the same by stages, incrementally and timed; everything else calls Render.
package nodeconfig

import (
	"fmt"
	"slices"

	"github.com/frr-renderer/frr-renderer/internal/frrconfig"
	"github.com/frr-renderer/frr-renderer/internal/model"
	"github.com/frr-renderer/frr-renderer/internal/translate"
)

// Rendered is one node's frr.conf and what translating and rendering it said.
type Rendered struct {
	Text []byte
	// Diagnostics are the translator's, then the renderer's.
	Diagnostics []model.Diagnostic
	// FailedInstances are the BGP instances the translator left out (translate.Result's).
	FailedInstances []string
}

// Render translates snap for opts.Node and renders the result for d: what `frr-renderer
// render` prints, for the callers that need neither stage alone (the reconcile loop, which
// translates incrementally and times each stage, does). The error is the translator's (the
// snapshot cannot describe the node) or the renderer's, which names the node; Diagnostics
// holds what both said before it.
func Render(snap *model.Snapshot, host model.HostFacts, opts translate.Options, d frrconfig.Dialect) (Rendered, error) {
	res, err := translate.Translate(snap, host, opts)
	if err != nil {
		return Rendered{}, err
	}
	text, diags, err := frrconfig.Render(res.Config, d)
	out := Rendered{Diagnostics: slices.Concat(res.Diagnostics, diags), FailedInstances: res.FailedInstances}
	if err != nil {
		return out, fmt.Errorf("node %q: %w", opts.Node, err)
	}
	out.Text = text
	return out, nil
}
