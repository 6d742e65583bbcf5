#!/usr/bin/env bash
# Builds frr-renderer's two container images as `docker save` archives, with no container
# engine and no registry (hack/mkimage), and prints their paths:
#   frr-renderer/frr-renderer:VERSION  the sidecar: the static binary on an empty base, non-root
#   frr-renderer/frr:VERSION           FRR 10 from Debian 13's packages (hack/frr10-rootfs.sh)
#                                      with deploy/images/frr/frr-start as its entrypoint
# Import them with `ctr -n k8s.io images import FILE` (containerd) or `docker load -i FILE`.
# The FRR image is cached by the digest of its inputs (~10 s to write); the sidecar image is
# rebuilt each time (a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

go=${GO:-go}
version=$(cat VERSION)
cache=${FRR_RENDERER_CACHE:-/var/cache/frr-renderer}
out=$cache/images
mkdir -p "$out" bin
export CGO_ENABLED=0 GOFLAGS=${GOFLAGS:-}

# The FRR image's vty sockets are group frrvty; the chart gives the sidecar that group
# (frr.vtyGroupID). Debian's system groups are numbered as packages are installed: check.
rootfs=$(./hack/frr10-rootfs.sh)
want_gid=$(sed -n -E 's/^[[:space:]]*vtyGroupID:[[:space:]]*([0-9]+).*/\1/p' deploy/helm/frr-renderer/values.yaml)
gid=$(awk -F: '$1 == "frrvty" { print $3 }' "$rootfs/etc/group")
if [ "$gid" != "$want_gid" ]; then
	echo "images: frrvty is gid $gid in $rootfs, the chart's frr.vtyGroupID is $want_gid: make them agree" >&2
	exit 1
fi
frr_version=$(chroot "$rootfs" /usr/lib/frr/bgpd --version | sed -n -E 's/^bgpd version ([^ ]+).*/\1/p')

"$go" build -trimpath -o bin/mkimage ./hack/mkimage
"$go" build -trimpath -ldflags "-s -w -X github.com/frr-renderer/frr-renderer/internal/version.Version=$version" \
	-o bin/frr-renderer-static ./cmd/frr-renderer

labels=(-label "org.opencontainers.image.version=$version" -label "org.opencontainers.image.licenses=Apache-2.0"
	-label "org.opencontainers.image.title=frr-renderer")
sidecar=$out/frr-renderer-$version.tar
bin/mkimage -o "$sidecar" -tag "frr-renderer/frr-renderer:$version" "${labels[@]}" \
	-user 65532:65532 -entrypoint '["/usr/bin/frr-renderer"]' -cmd '["run"]' \
	-layer "bin/frr-renderer-static=/usr/bin/frr-renderer:0755:0:0,deploy/images/frr-renderer/passwd=/etc/passwd:0644:0:0,deploy/images/frr-renderer/group=/etc/group:0644:0:0"

key=$(cat deploy/images/frr/frr-start hack/mkimage/main.go <(stat -c %Y "$rootfs/.complete"; echo "$version $frr_version") |
	sha256sum | cut -c1-16)
frr=$out/frr-$version-$key.tar
if [ ! -f "$frr" ]; then
	# Left out: documentation, package lists, and what the pod mounts or the runtime provides.
	bin/mkimage -o "$frr" -tag "frr-renderer/frr:$version" "${labels[@]}" -label "org.frrouting.version=$frr_version" \
		-entrypoint '["/usr/lib/frr-renderer/frr-start"]' \
		-exclude 'usr/share/doc/*' -exclude 'usr/share/man/*' -exclude 'usr/share/info/*' \
		-exclude 'usr/share/locale/*' -exclude 'var/lib/apt/lists/*' -exclude 'var/cache/apt/*' \
		-exclude 'var/cache/debconf/*' -exclude 'dev/*' -exclude 'proc/*' -exclude 'sys/*' -exclude 'run/*' \
		-exclude 'tmp/*' -exclude 'var/tmp/*' -exclude 'etc/frr/*' -exclude 'var/log/*' \
		-exclude usr/sbin/policy-rc.d -exclude .complete \
		-layer "$rootfs" \
		-layer "deploy/images/frr/frr-start=/usr/lib/frr-renderer/frr-start:0755:0:0"
	# Older builds of this version are stale.
	find "$out" -maxdepth 1 -name "frr-$version-*.tar" ! -name "$(basename "$frr")" -delete
fi
echo "$sidecar"
echo "$frr"
