#!/usr/bin/env bash
# Prints a directory holding the CustomResourceDefinitions frr-renderer reads, exactly as a Cilium
# release ships them: taken from Cilium's released Go module (go mod download, a ~32 MB zip
# through the module proxy) and cached by version. Usage: cilium-crds.sh [VERSION], default the
# newest supported release.
# The marker file is written last: a half-copied directory is copied again, never used.
set -euo pipefail

# The Cilium releases frr-renderer supports: the oldest and the newest minor release.
SUPPORTED=(v1.18.4 v1.20.2)
version=${1:-${SUPPORTED[-1]}}

cache=${FRR_RENDERER_CACHE:-/var/cache/frr-renderer}
dir=$cache/cilium-crds/$version
marker=$dir/.complete
if [ -f "$marker" ]; then
	echo "$dir"
	exit 0
fi
mkdir -p "$cache/cilium-crds"
exec 9>"$cache/cilium-crds/.lock"
flock 9
if [ -f "$marker" ]; then
	echo "$dir"
	exit 0
fi

go=${GO:-go}
# Outside any module: the download must not touch this repository's go.mod or go.sum.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$(cd "$work" && GOFLAGS=-mod=mod GOWORK=off "$go" mod download -json "github.com/cilium/cilium@$version" |
	sed -n -E 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')
crds=$src/pkg/k8s/apis/cilium.io/client/crds
[ -d "$crds" ] || { echo "cilium-crds: no $crds in github.com/cilium/cilium@$version" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir"
# The kinds frr-renderer reads or writes, and the IP pool the seed's Service takes its address from.
for name in ciliumbgpclusterconfigs ciliumbgppeerconfigs ciliumbgpadvertisements \
	ciliumbgpnodeconfigoverrides ciliumbgpnodeconfigs ciliumnodes ciliumpodippools \
	ciliumloadbalancerippools; do
	f=$(find "$crds" -name "$name.yaml" | sort | head -n 1)
	[ -n "$f" ] || { echo "cilium-crds: $name.yaml is not in github.com/cilium/cilium@$version" >&2; exit 1; }
	install -m 0644 "$f" "$dir/$name.yaml"
done
touch "$marker"
echo "$dir"
