// Package examples embeds the seed scenario, so that `frr-renderer render` with no input
// renders it on any machine, without a cluster or a checkout.
package examples

import "embed"

// Seed holds the Hands-On of the seed scenario (seed/hands-on) and its top-of-rack router's
// configuration (seed/tor-frr.conf).
//
//go:embed seed/hands-on seed/tor-frr.conf
var Seed embed.FS

// SeedDir is the Hands-On folder within Seed.
const SeedDir = "seed/hands-on"
