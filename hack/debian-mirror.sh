#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt already uses (the first URIs: of its deb822
# sources, or the first deb line of sources.list), so that no script names a mirror host.
set -euo pipefail
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	uri=$(awk '/^URIs:/ { print $2; exit }' "$f")
	[ -n "$uri" ] && { echo "$uri"; exit 0; }
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	uri=$(awk '$1 == "deb" { opts = 0
		for (i = 2; i <= NF; i++) {
			if ($i ~ /^\[/) opts = 1
			if (!opts) { print $i; exit }
			if ($i ~ /\]$/) opts = 0
		} }' "$f")
	[ -n "$uri" ] && { echo "$uri"; exit 0; }
done
echo "debian-mirror: no Debian mirror in /etc/apt/sources.list*" >&2
exit 1
