// Package templates embeds the text/template files that render frr.conf. They only lay out
// lines: every name, number, order and check is computed in Go (internal/frrconfig).
package templates

import "embed"

//go:embed *.tmpl
var FS embed.FS
