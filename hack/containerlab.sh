#!/usr/bin/env bash
# Prints the path of the containerlab binary the lab tests use (test/containerlab), after
# building it once from its release in the Go module proxy and caching it (~7 min cold, ~40 s
# with a warm Go cache). Debian has no containerlab package, and `go install` refuses its module
# (its go.mod has replace directives), so it is built in a copy of the module.
#
# One change is made to it: on a kernel without loadable modules there is no /proc/modules,
# and containerlab's check for the modules it needs fails with "no such file or directory";
# such a kernel has everything built in, so the check says "loaded" (later releases reworked
# this check: srl-labs/containerlab#3218).
set -euo pipefail
CLAB_VERSION=v0.69.3

tools=${FRR_RENDERER_CACHE:-/var/cache/frr-renderer}/tools
bin=$tools/containerlab-$CLAB_VERSION
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi
mkdir -p "$tools"
exec 9>"$tools/.containerlab.lock"
flock 9
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

go=${GO:-go}
work=$(mktemp -d "$tools/.containerlab.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
src=$(cd "$work" && GOFLAGS=-mod=mod GOWORK=off "$go" mod download -json "github.com/srl-labs/containerlab@$CLAB_VERSION" |
	sed -n -E 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')
[ -d "$src" ] || { echo "containerlab: the module did not download" >&2; exit 1; }
cp -r "$src" "$work/src"
chmod -R u+w "$work/src"
f=$work/src/utils/kernel_module.go
perl -0pi -e 's/(\tf, err := os\.Open\("\/proc\/modules"\)\n)(\tif err != nil \{)/$1\tif os.IsNotExist(err) {\n\t\t\/\/ No loadable modules: the kernel has everything built in.\n\t\treturn true, nil\n\t}\n$2/' "$f"
grep -q 'No loadable modules' "$f" || { echo "containerlab: $f did not take the /proc/modules change" >&2; exit 1; }
start=$SECONDS
(cd "$work/src" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off "$go" build -trimpath \
	-ldflags "-s -w -X github.com/srl-labs/containerlab/cmd/version.Version=${CLAB_VERSION#v}" -o "$work/containerlab" .) >&2
echo "containerlab: built in $((SECONDS - start)) s" >&2
mv "$work/containerlab" "$bin"
echo "$bin"
