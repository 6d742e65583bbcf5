#!/usr/bin/env bash
# The seed's containerlab lab (test/containerlab) on this machine, with a docker engine of its
# own so that the machine's docker, if any, is never touched:
#   clab.sh up DIR     prepare DIR (the topology, the seed's manifests and ToR configuration),
#                      start the lab's engine, load the images (`make images`), deploy
#   clab.sh down DIR   destroy the lab and stop the engine
#   clab.sh env        print the variables that point docker and containerlab at the engine
# Needs root. Installs docker.io (dockerd, not started by the package) when missing, builds
# containerlab (hack/containerlab.sh) and the engine's runc wrapper (hack/runc-capfilter).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
cache=${FRR_RENDERER_CACHE:-/var/cache/frr-renderer}
export FRR_RENDERER_CACHE=$cache
go=${GO:-go}

sock=/run/frr-renderer-docker.sock
export DOCKER_HOST=unix://$sock CLAB_VERSION_CHECK=disable
export FRR_RENDERER_VERSION=$(cat VERSION)

engine_up() {
	if docker version >/dev/null 2>&1; then
		return
	fi
	if ! command -v dockerd >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
	fi
	mkdir -p "$cache/tools" /run/frr-renderer-docker
	"$go" build -trimpath -o "$cache/tools/runc-capfilter" ./hack/runc-capfilter
	echo '{}' >/run/frr-renderer-docker/daemon.json
	# No bridge, no iptables, no NAT: the lab's containers have no management network, only
	# the lab's own links (see test/containerlab/seed.clab.yml).
	setsid dockerd --config-file /run/frr-renderer-docker/daemon.json \
		--data-root "$cache/clab-docker" --exec-root /run/frr-renderer-docker \
		--pidfile /run/frr-renderer-docker/dockerd.pid -H "unix://$sock" \
		--bridge none --iptables=false --ip-masq=false --ip-forward=false --userland-proxy=false \
		--add-runtime "capfilter=$cache/tools/runc-capfilter" --default-runtime capfilter \
		--log-level warn >>/run/frr-renderer-docker/dockerd.log 2>&1 </dev/null &
	for _ in $(seq 1 300); do
		docker version >/dev/null 2>&1 && return
		sleep 0.1
	done
	echo "clab: the lab's dockerd did not start; its log:" >&2
	tail -20 /run/frr-renderer-docker/dockerd.log >&2
	exit 1
}

engine_down() {
	local pid
	pid=$(cat /run/frr-renderer-docker/dockerd.pid 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

# load ARCHIVE TAG: docker load, unless the engine already has TAG with the archive's image ID.
load() {
	local id
	id=sha256:$(tar -xOf "$1" manifest.json | sed -E 's/.*"Config":"([0-9a-f]+)\.json".*/\1/')
	[ "$(docker image inspect -f '{{.Id}}' "$2" 2>/dev/null)" = "$id" ] && return
	docker load -q -i "$1" >/dev/null
}

up() {
	local dir=$1 clab images
	clab=$(./hack/containerlab.sh)
	mapfile -t images < <(./hack/images.sh)
	engine_up
	load "${images[0]}" "frr-renderer/frr-renderer:$FRR_RENDERER_VERSION"
	load "${images[1]}" "frr-renderer/frr:$FRR_RENDERER_VERSION"

	mkdir -p "$dir"
	cp test/containerlab/seed.clab.yml test/containerlab/web.py "$dir/"
	cp examples/seed/tor-frr.conf "$dir/tor-frr.conf"
	echo 179 >"$dir/tor-port"
	rm -rf "$dir/manifests" && cp -r examples/seed/hands-on "$dir/manifests"
	for n in cp-1 worker-1 worker-2; do
		mkdir -p "$dir/run/$n" "$dir/port/$n" "$dir/state/$n"
		# The sidecar's user (65532) writes bgpd's port and its state.
		chown 65532 "$dir/port/$n" "$dir/state/$n"
		chmod 0700 "$dir/state/$n"
	done
	(cd "$dir" && "$clab" deploy --reconfigure -t seed.clab.yml) >&2
}

down() {
	local dir=$1 clab
	clab=$(./hack/containerlab.sh)
	if [ -f "$dir/seed.clab.yml" ] && docker version >/dev/null 2>&1; then
		(cd "$dir" && "$clab" destroy --cleanup -t seed.clab.yml) >&2 || true
	fi
	engine_down
}

case ${1:-} in
up) up "${2:?usage: clab.sh up DIR}" ;;
down) down "${2:?usage: clab.sh down DIR}" ;;
env) echo "export DOCKER_HOST=$DOCKER_HOST CLAB_VERSION_CHECK=disable FRR_RENDERER_VERSION=$FRR_RENDERER_VERSION" ;;
*)
	echo "usage: clab.sh up DIR | down DIR | env" >&2
	exit 2
	;;
esac
