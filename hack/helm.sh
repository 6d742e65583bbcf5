#!/usr/bin/env bash
# Prints the path of the Helm binary the project uses, after installing it once from the Go
# module proxy (~3 min) into the cache.
set -euo pipefail
HELM_VERSION=v4.3.2
tools=${FRR_RENDERER_CACHE:-/var/cache/frr-renderer}/tools
bin=$tools/helm-$HELM_VERSION
if [ ! -x "$bin" ]; then
	mkdir -p "$tools"
	exec 9>"$tools/.helm.lock"
	flock 9
	if [ ! -x "$bin" ]; then
		work=$(mktemp -d "$tools/.helm.XXXXXX")
		trap 'rm -rf "$work"' EXIT
		(cd "$work" && GOBIN=$work GOFLAGS=-mod=mod GOWORK=off "${GO:-go}" install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION") >&2
		mv "$work/helm" "$bin"
	fi
fi
echo "$bin"
