#!/usr/bin/env bash
# Builds (once) a Debian 13 root file system with FRR 10.3, the deploy image's major version,
# so that tests can run it beside Debian 12's FRR 8.4. Prints the directory.
# The marker file is written last: a half-built tree is rebuilt, never used.
set -euo pipefail

cache=${FRR_RENDERER_CACHE:-/var/cache/frr-renderer}
dir=$cache/trixie-frr
marker=$dir/.complete
if [ -f "$marker" ]; then
	echo "$dir"
	exit 0
fi
mkdir -p "$cache"
# One builder at a time: two would debootstrap into the same directory. A second caller waits,
# then finds the marker.
exec 9>"$cache/.trixie-frr.lock"
flock 9
if [ -f "$marker" ]; then
	echo "$dir"
	exit 0
fi
command -v debootstrap >/dev/null 2>&1 || "$(dirname "$0")/install-deps.sh"
mirror=$("$(dirname "$0")/debian-mirror.sh")
rm -rf "$dir"
# Two stages: a one-shot debootstrap --include=frr fails here (systemd's pre-dependency
# breaks debootstrap's dpkg batch).
debootstrap --variant=minbase --include=iproute2 trixie "$dir" "$mirror" >&2
printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
chmod +x "$dir/usr/sbin/policy-rc.d"
unshare -m sh -c '
	mount -t proc proc "$1/proc"
	DEBIAN_FRONTEND=noninteractive chroot "$1" apt-get install -y -qq --no-install-recommends frr frr-pythontools iproute2
	chroot "$1" apt-get clean
' sh "$dir" >&2
chroot "$dir" /usr/lib/frr/bgpd --version | head -1 >&2
touch "$marker"
echo "$dir"
