#!/usr/bin/env bash
# Builds (once) kube-apiserver and etcd from the Go module proxy, for the end-to-end tests that
# run a real API server on loopback, and prints the directory holding both binaries.
# With --node it builds, in a directory of their own, what a cluster with real nodes needs
# beside them: kubelet, kube-controller-manager, kube-scheduler and kubectl (test/cluster).
# No container image and no setup-envtest download: neither is reachable here. Each binary is
# built in a throwaway wrapper module under the cache directory (never in the repository),
# because k8s.io/kubernetes' go.mod replaces its staging modules with ./staging/... paths, which
# `go install pkg@version` refuses. The binaries are cached, keyed by version; the Go build
# cache (3+ GB) is left where it is. The marker file is written last: a half-built directory is
# rebuilt, never used. First build: ~10-12 min and ~2.5 GB of RAM on 2 cores.
set -euo pipefail

KUBE_VERSION=v1.37.2
ETCD_VERSION=v3.7.0

cache=${FRR_RENDERER_CACHE:-/var/cache/frr-renderer}
dir=$cache/kube/$KUBE_VERSION-etcd-$ETCD_VERSION
node=
if [ "${1:-}" = --node ]; then
	node=1
	dir=$cache/kube/$KUBE_VERSION-node
fi
marker=$dir/.complete
if [ -f "$marker" ]; then
	echo "$dir"
	exit 0
fi

go=${GO:-go}
mkdir -p "$cache/kube"
# One builder at a time; a second caller waits, then finds the marker.
exec 9>"$cache/kube/.lock"
flock 9
if [ -f "$marker" ]; then
	echo "$dir"
	exit 0
fi

work=$(mktemp -d "$cache/kube/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf "$dir"
mkdir -p "$dir"

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
go_version=$("$go" env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1.0/')

# wrapper DIR MODULE REQUIRE_PATH REQUIRE_VERSION PACKAGE: a module whose tools.go imports
# PACKAGE; the caller appends its replace lines.
wrapper() {
	mkdir -p "$1"
	printf 'module %s\n\ngo %s\n\nrequire %s %s\n' "$2" "$go_version" "$3" "$4" >"$1/go.mod"
	printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$5" >"$1/tools.go"
}

# kube-apiserver. Its staging modules are the `k8s.io/... v0.0.0` requirements of
# k8s.io/kubernetes' own go.mod; each is published as v0.<minor>.<patch>.
staging_version=v0.${KUBE_VERSION#v1.}
minor=${KUBE_VERSION#v1.}
minor=${minor%%.*}
kw=$work/kube
wrapper "$kw" kubewrap k8s.io/kubernetes "$KUBE_VERSION" k8s.io/kubernetes/cmd/kube-apiserver
kube_gomod=$(cd "$kw" && "$go" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" |
	sed -n -E 's/^[[:space:]]*"GoMod": "(.*)",?$/\1/p')
[ -f "$kube_gomod" ] || { echo "kube-binaries: no go.mod for k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }
mapfile -t staging < <(awk '{ for (i = 1; i < NF; i++) if ($i ~ /^k8s\.io\// && $(i + 1) == "v0.0.0") print $i }' "$kube_gomod" | sort -u)
[ "${#staging[@]}" -gt 0 ] || { echo "kube-binaries: no staging modules in $kube_gomod" >&2; exit 1; }
echo "kube-binaries: $KUBE_VERSION with ${#staging[@]} staging modules at $staging_version" >&2
{
	printf '\nreplace (\n'
	for m in "${staging[@]}"; do
		printf '\t%s => %s %s\n' "$m" "$m" "$staging_version"
	done
	printf ')\n'
} >>"$kw/go.mod"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean"
done
commands=(kube-apiserver)
[ -z "$node" ] || commands=(kubelet kube-controller-manager kube-scheduler kubectl)
{
	printf '//go:build tools\n\npackage tools\n\nimport (\n'
	for c in "${commands[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
	printf ')\n'
} >"$kw/tools.go"
(cd "$kw" && "$go" mod tidy >&2)
for c in "${commands[@]}"; do
	start=$SECONDS
	(cd "$kw" && "$go" build -trimpath -ldflags "$ldflags" -o "$dir/$c" "k8s.io/kubernetes/cmd/$c" >&2)
	echo "kube-binaries: $c built in $((SECONDS - start)) s" >&2
done

if [ -z "$node" ]; then
	# etcd: the server module, with its sibling modules at the same version.
	ew=$work/etcd
	wrapper "$ew" etcdwrap go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
	{
		printf '\nreplace (\n'
		for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do
			printf '\tgo.etcd.io/etcd/%s => go.etcd.io/etcd/%s %s\n' "$m" "$m" "$ETCD_VERSION"
		done
		printf ')\n'
	} >>"$ew/go.mod"
	start=$SECONDS
	(
		cd "$ew"
		"$go" mod tidy >&2
		"$go" build -trimpath -ldflags "-s -w" -o "$dir/etcd" go.etcd.io/etcd/server/v3 >&2
	)
	echo "kube-binaries: etcd built in $((SECONDS - start)) s" >&2
fi

# Check the stamps before declaring the directory complete.
if [ -n "$node" ]; then
	for c in kubelet kube-controller-manager kube-scheduler; do
		v=$("$dir/$c" --version)
		[ "$v" = "Kubernetes $KUBE_VERSION" ] || { echo "kube-binaries: $c --version: $v" >&2; exit 1; }
	done
	# Read whole, not piped into grep -q: grep exits at the match, kubectl dies of SIGPIPE on
	# its next line, and pipefail fails the check (on a fresh machine, now and then).
	v=$("$dir/kubectl" version --client)
	[[ $v == *"Client Version: $KUBE_VERSION"* ]] || { echo "kube-binaries: kubectl version --client: $v" >&2; exit 1; }
	touch "$marker"
	echo "$dir"
	exit 0
fi
v=$("$dir/kube-apiserver" --version)
[ "$v" = "Kubernetes $KUBE_VERSION" ] || { echo "kube-binaries: kube-apiserver --version: $v" >&2; exit 1; }
v=$("$dir/etcd" --version)
case $v in
*"etcd Version: ${ETCD_VERSION#v}"*) ;;
*) echo "kube-binaries: etcd --version: $v" >&2; exit 1 ;;
esac
touch "$marker"
echo "$dir"
