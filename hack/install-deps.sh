#!/usr/bin/env bash
# Installs what the tests need on a Debian 12 machine: FRR 8.4 (Debian's frr), iproute2, curl
# (the demo's client), debootstrap (for the FRR 10.3 root file system), and for the cluster of
# real nodes (internal/clustertest) containerd, runc, iptables and the CNI plugins. Idempotent and quiet
# when all is there. Nothing is started: the tests run their own daemons.
set -euo pipefail

need=()
command -v vtysh >/dev/null 2>&1 || need+=(frr frr-pythontools)
[ -x /usr/lib/frr/bgpd ] || need+=(frr)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v containerd >/dev/null 2>&1 || need+=(containerd)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
[ -x /usr/lib/cni/loopback ] || need+=(containernetworking-plugins)
if [ ${#need[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# policy-rc.d keeps the package from starting a system FRR: tests run their own daemons.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
