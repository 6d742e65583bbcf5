#!/usr/bin/env bash
# Usage: module-files.sh MODULE VERSION SUBDIR DEST NAME...
# Copies the files NAME... (each found below SUBDIR of Go module MODULE@VERSION, downloaded once
# through the module proxy) into $cache/DEST and prints that directory. For data a project
# releases in its Go module: Cilium's CRDs, the Prometheus Operator's CRDs.
# The marker file is written last: a half-copied directory is copied again, never used.
set -euo pipefail
[ $# -ge 5 ] || { echo "usage: $0 MODULE VERSION SUBDIR DEST NAME..." >&2; exit 2; }
module=$1 version=$2 subdir=$3 dest=$4
shift 4

cache=${FRR_RENDERER_CACHE:-/var/cache/frr-renderer}
dir=$cache/$dest
# The marker holds the names copied: a directory made for other names is made again.
marker=$dir/.complete
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$*" ]; then
	echo "$dir"
	exit 0
fi
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$*" ]; then
	echo "$dir"
	exit 0
fi

# Outside any module: the download must not touch this repository's go.mod or go.sum.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$(cd "$work" && GOFLAGS=-mod=mod GOWORK=off "${GO:-go}" mod download -json "$module@$version" |
	sed -n -E 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')
[ -d "$src/$subdir" ] || { echo "module-files: no $subdir in $module@$version" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir"
for name in "$@"; do
	f=$(find "$src/$subdir" -name "$name" | sort | head -n 1)
	[ -n "$f" ] || { echo "module-files: $name is not in $module@$version/$subdir" >&2; exit 1; }
	install -m 0644 "$f" "$dir/$name"
done
echo "$*" >"$marker"
echo "$dir"
