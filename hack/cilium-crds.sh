#!/usr/bin/env bash
# Prints a directory holding the CustomResourceDefinitions frr-renderer reads, exactly as a Cilium
# release ships them: from Cilium's released Go module (a ~32 MB zip through the module proxy),
# cached by version. Usage: cilium-crds.sh [VERSION], default the newest supported release.
set -euo pipefail

# The Cilium releases frr-renderer supports: the oldest and the newest minor release.
SUPPORTED=(v1.18.4 v1.20.2)
version=${1:-${SUPPORTED[-1]}}

# The kinds frr-renderer reads or writes, and the IP pool the seed's Service takes its address from.
exec "$(dirname "$0")/module-files.sh" github.com/cilium/cilium "$version" pkg/k8s/apis/cilium.io/client/crds \
	"cilium-crds/$version" \
	ciliumbgpclusterconfigs.yaml ciliumbgppeerconfigs.yaml ciliumbgpadvertisements.yaml \
	ciliumbgpnodeconfigoverrides.yaml ciliumbgpnodeconfigs.yaml ciliumnodes.yaml ciliumpodippools.yaml \
	ciliumloadbalancerippools.yaml ciliumenvoyconfigs.yaml ciliumclusterwideenvoyconfigs.yaml
