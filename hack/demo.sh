#!/usr/bin/env bash
# The live demo (`make demo`): the seed's Hands-On on one machine. A ToR and three nodes, each in
# a network namespace of its own with its own FRR 8.4, on one bridged segment; one
# `frr-renderer run` per node watches a copy of examples/seed/hands-on and configures its node's
# bgpd live. The demo waits until the ToR reaches the Service's LoadBalancer IP through all three
# nodes, then changes that IP in the watched manifests and times how long the ToR takes to follow.
# Everything it made is removed on exit, on failure and on Ctrl-C too.
#
# Needs root on Debian 12 and Go; installs Debian's FRR 8.4 when it is missing. Addresses exist
# only inside the namespaces demo-tor, demo-cp-1, demo-worker-1 and demo-worker-2.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly REPO=$PWD
readonly GO=${GO:-go}
readonly BIN=$REPO/bin/frr-renderer
readonly TIMEOUT=60 # seconds, for every wait that involves BGP

readonly TOR=demo-tor
readonly TOR_ADDR=192.168.10.1 # tor-frr.conf's router-id; the PeerConfig's peerAddress
readonly NODES=(cp-1 worker-1 worker-2)
declare -rA NODE_ADDR=([cp-1]=192.168.10.11 [worker-1]=192.168.10.12 [worker-2]=192.168.10.13)
readonly OLD_VIP=172.20.0.1 NEW_VIP=172.20.0.2 # Service http-test's LoadBalancer IP, before and after

WATCH=""               # the watched copy of the manifests
declare -A RENDERER=() # node -> pid of its frr-renderer run
BEGIN_MS=0             # when the demo started
FAILURE=""             # why the demo failed, repeated after the logs

# --- helpers -----------------------------------------------------------------------------------

if [ -t 1 ]; then BOLD=$'\e[1m' RED=$'\e[31m' OFF=$'\e[0m'; else BOLD="" RED="" OFF=""; fi
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$OFF"; }
say() { printf '    %s\n' "$*"; }
fail() {
	FAILURE=$*
	printf '\n%sFAILED: %s%s\n' "$RED" "$*" "$OFF" >&2
	exit 1
}

# now_ms prints the wall clock in milliseconds (no fork: bash's $EPOCHREALTIME has microseconds).
now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}
	echo $((us / 1000))
}

# since MS prints the time elapsed since MS as seconds with milliseconds, e.g. 4.213 s.
since() {
	local d=$(($(now_ms) - $1))
	printf '%d.%03d s' $((d / 1000)) $((d % 1000))
}

# wait_until SECONDS INTERVAL COMMAND... runs COMMAND every INTERVAL seconds until it succeeds;
# false once SECONDS have passed.
wait_until() {
	local deadline=$(($(now_ms) + $1 * 1000)) interval=$2
	shift 2
	until "$@"; do
		if (($(now_ms) > deadline)); then
			return 1
		fi
		sleep "$interval"
	done
}

# alive PID: the process exists and is not a zombie (an exited child the shell has not reaped).
alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat:0:1}" != Z ]
}

# demo_pids NS prints the pids of what this demo starts for namespace NS: its FRR daemons
# (`/usr/lib/frr/DAEMON ... -N NS`) and its frr-renderer (`.../frr-renderer run ... --pathspace
# NS`). They are found by their command lines, so that the leftovers of an interrupted run are
# found too, wherever they are, and nothing else is.
demo_pids() {
	local ns=$1 dir i flag
	local -a argv
	for dir in /proc/[0-9]*; do
		mapfile -d '' argv 2>/dev/null <"$dir/cmdline" || continue
		((${#argv[@]} > 2)) || continue
		case ${argv[0]} in
		/usr/lib/frr/*) flag=-N ;;
		*/frr-renderer) flag=--pathspace ;;
		*) continue ;;
		esac
		for ((i = 1; i < ${#argv[@]} - 1; i++)); do
			if [ "${argv[i]}" = "$flag" ] && [ "${argv[i + 1]}" = "$ns" ]; then
				echo "${dir#/proc/}"
				break
			fi
		done
	done
}

# stop_pids TIMEOUT PID...: SIGTERM, then SIGKILL whatever is left after TIMEOUT seconds.
stop_pids() {
	local timeout=$1
	shift
	local -a pids=("$@")
	((${#pids[@]})) || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	if wait_until "$timeout" 0.05 none_alive; then
		return 0
	fi
	kill -KILL "${pids[@]}" 2>/dev/null || true
	wait_until 2 0.05 none_alive || true
}

# none_alive: no process of the caller's pids array is alive.
none_alive() {
	local pid
	for pid in "${pids[@]}"; do
		if alive "$pid"; then
			return 1
		fi
	done
}

# remove_namespace NS stops NS's daemons and frr-renderer, deletes the namespace (and with it
# its veths and bridge) and its FRR pathspace folders.
remove_namespace() {
	local ns=$1
	local -a pids
	mapfile -t pids < <(demo_pids "$ns")
	stop_pids 5 "${pids[@]}"
	if [ -e "/var/run/netns/$ns" ]; then
		ip netns del "$ns"
	fi
	rm -rf "/etc/frr/$ns" "/var/run/frr/$ns"
}

all_namespaces() { printf '%s\n' "$TOR" "${NODES[@]/#/demo-}"; }

# show_logs prints what can tell why a step failed: the ToR's sessions and the last lines of
# every frr-renderer and bgpd log. It keeps a copy of all the logs in a folder of its own, since
# the pathspace folders go with the teardown.
show_logs() {
	local ns f keep
	if vtysh -N "$TOR" -d bgpd -c 'show version' >/dev/null 2>&1; then
		printf '\n%s--- vtysh -N %s -c "show bgp summary"%s\n' "$BOLD" "$TOR" "$OFF"
		tor_vtysh -c 'show bgp summary' 2>&1
	fi
	for ns in $(all_namespaces); do
		for f in "/var/run/frr/$ns/frr-renderer.log" "/var/run/frr/$ns/bgpd.log"; do
			[ -s "$f" ] || continue
			printf '\n%s--- tail of %s%s\n' "$BOLD" "$f" "$OFF"
			tail -n 25 "$f"
		done
	done
	keep=$(mktemp -d /tmp/frr-renderer-demo-logs.XXXXXX)
	for ns in $(all_namespaces); do
		if [ -d "/var/run/frr/$ns" ]; then
			mkdir -p "$keep/$ns"
			cp /var/run/frr/"$ns"/*.log "$keep/$ns/" 2>/dev/null
		fi
	done
	FAILURE+=" (all logs kept in $keep)"
}

cleanup() {
	local rc=$? node pid status t0 ns
	trap '' INT TERM # finish the clean-up whatever happens
	set +e
	case $rc in
	0) ;;
	130 | 143) printf '\n%sInterrupted.%s\n' "$BOLD" "$OFF" ;;
	*)
		FAILURE=${FAILURE:-"a command failed with status $rc (above)"}
		show_logs
		;;
	esac
	step "Tearing down"
	# The renderers first, by the pids we started, to show that each ends on SIGTERM.
	if ((${#RENDERER[@]})); then
		t0=$(now_ms)
		stop_pids 5 "${RENDERER[@]}"
		for node in "${NODES[@]}"; do
			pid=${RENDERER[$node]:-}
			[ -n "$pid" ] || continue
			status=0
			wait "$pid" 2>/dev/null || status=$?
			say "frr-renderer run --node $node: exited with status $status ($(since "$t0") after SIGTERM)"
		done
	fi
	for ns in $(all_namespaces); do
		remove_namespace "$ns"
	done
	say "stopped FRR, deleted the namespaces $(all_namespaces | tr '\n' ' ')and their /etc/frr and /var/run/frr folders"
	if [ -n "$WATCH" ]; then
		rm -rf "$WATCH"
	fi
	if ((rc == 0)); then
		printf '\n%sDemo complete in %s.%s\n' "$BOLD" "$(since "$BEGIN_MS")" "$OFF"
	elif [ -n "$FAILURE" ]; then
		printf '\n%sFAILED: %s%s\n' "$RED" "$FAILURE" "$OFF" >&2
	fi
	exit "$rc"
}

# --- checks on the ToR ---------------------------------------------------------------------------

tor_vtysh() { vtysh -N "$TOR" "$@"; }

# WANT is the nodes' addresses, sorted, one per line: the peers and next hops the ToR must have.
# (Compared with a variable rather than a second "$(...)": bash 5.2 fails to parse its INT trap
# when Ctrl-C interrupts the first of two command substitutions in one command.)
WANT=$(printf '%s\n' "${NODE_ADDR[@]}" | sort)
readonly WANT

# established_peers prints the ToR's Established peers, sorted. `show bgp summary json` is one
# key per line, and a peer's "state" follows its address.
established_peers() {
	tor_vtysh -d bgpd -c 'show bgp ipv4 unicast summary json' 2>/dev/null | awk '
		match($0, /"[0-9.]+":\{/) { peer = substr($0, RSTART + 1, RLENGTH - 4) }
		/"state":"Established"/ && peer != "" { print peer; peer = "" }' | sort
}

# sessions_up: the ToR has the three nodes as peers, all Established.
sessions_up() {
	local got
	got=$(established_peers) || return 1
	[ "$got" = "$WANT" ]
}

# bgp_nexthops PREFIX prints the next hops of the ToR's BGP paths to PREFIX, sorted; fails when
# bgpd does not answer.
bgp_nexthops() {
	local out
	out=$(tor_vtysh -d bgpd -c "show bgp ipv4 unicast $1 json" 2>&1) || return 1
	grep -o '"ip":"[0-9.]*"' <<<"$out" | cut -d'"' -f4 | sort -u || true
}

# kernel_nexthops ADDR prints the next hops of the ToR kernel's route to ADDR, sorted.
kernel_nexthops() {
	ip -n "$TOR" route show "$1" | grep -o 'via [0-9.]*' | cut -d' ' -f2 | sort -u
}

bgp_ecmp() { [ "$(bgp_nexthops "$1/32")" = "$WANT" ]; }
kernel_ecmp() { [ "$(kernel_nexthops "$1")" = "$WANT" ]; }
kernel_gone() { [ -z "$(ip -n "$TOR" route show "$1")" ]; }
bgp_gone() {
	local nh
	nh=$(bgp_nexthops "$1/32") && [ -z "$nh" ]
}

# applied_ms NODE OFFSET prints the milliseconds from the edit to the first change NODE's
# frr-renderer logged as applied after byte OFFSET of its log; nothing when it cannot tell.
applied_ms() {
	local line ts t
	line=$(tail -c +"$(($2 + 1))" "/var/run/frr/demo-$1/frr-renderer.log" | grep '"msg":"applied"' | sed -n 1p) || return 0
	ts=$(sed -n 's/.*"time":"\([^"]*\)".*/\1/p' <<<"$line")
	t=$(date -d "$ts" +%s%3N 2>/dev/null) || return 0
	echo $((t - edited))
}

# renderers_alive fails the demo if a frr-renderer has exited.
renderers_alive() {
	local node
	for node in "${NODES[@]}"; do
		alive "${RENDERER[$node]}" || fail "frr-renderer run --node $node exited early (log: /var/run/frr/demo-$node/frr-renderer.log)"
	done
}

# until_or_fail WHAT SECONDS INTERVAL COMMAND...: wait_until, checking the renderers are alive.
until_or_fail() {
	local what=$1 timeout=$2 interval=$3
	shift 3
	check() {
		renderers_alive
		"$@"
	}
	wait_until "$timeout" "$interval" check "$@" || fail "timed out after ${timeout}s waiting for $what"
}

# --- the demo ------------------------------------------------------------------------------------

[ "$(id -u)" = 0 ] || fail "run me as root: the demo creates network namespaces and runs FRR"
if ! command -v "$GO" >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH=$PATH:/usr/local/go/bin; fi
command -v "$GO" >/dev/null ||
	fail "Go is needed to build frr-renderer (https://go.dev/dl/; set GO=/path/to/go)"
BEGIN_MS=$(now_ms)
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "1/8 Installing Debian's FRR (if missing) and building bin/frr-renderer"
./hack/install-deps.sh
"$GO" build -o "$BIN" ./cmd/frr-renderer
frr_version=$(/usr/lib/frr/bgpd --version 2>&1 | sed -n 's/^bgpd version //p')
say "FRR $frr_version, $("$GO" version | cut -d' ' -f3)"
help=$(timeout 10 "$BIN" run --help 2>&1 || true)
[[ $help != *"unknown command"* ]] || fail "this frr-renderer has no 'run' command yet"

step "2/8 Copying examples/seed/hands-on to a folder frr-renderer will watch"
WATCH=$(mktemp -d /tmp/frr-renderer-demo.XXXXXX)
cp examples/seed/hands-on/*.yaml "$WATCH/"
say "$WATCH: $(cd "$WATCH" && echo *.yaml)"

step "3/8 Building the segment: bridge br0 (192.168.10.1/24) in $TOR, a veth per node"
for ns in $(all_namespaces); do
	if [ -e "/var/run/netns/$ns" ] || [ -e "/var/run/frr/$ns" ] || [ -n "$(demo_pids "$ns")" ]; then
		say "removing $ns, left over from an earlier run"
		remove_namespace "$ns"
	fi
done
ip netns add "$TOR"
ip -n "$TOR" link set lo up
ip -n "$TOR" link add br0 type bridge # no STP: ports forward at once
ip -n "$TOR" addr add "$TOR_ADDR/24" dev br0
ip -n "$TOR" link set br0 up
for node in "${NODES[@]}"; do
	ns=demo-$node
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	# Both ends are born in their namespaces: no interface ever appears on the host.
	ip -n "$TOR" link add "p-$node" type veth peer name eth0 netns "$ns"
	ip -n "$TOR" link set "p-$node" master br0 up
	ip -n "$ns" addr add "${NODE_ADDR[$node]}/24" dev eth0
	ip -n "$ns" link set eth0 up
	say "$ns: eth0 ${NODE_ADDR[$node]}/24 <-> $TOR: p-$node in br0"
done

step "4/8 Starting FRR 8.4 (zebra, bgpd) in each namespace, pathspace = namespace"
t0=$(now_ms)
for ns in $(all_namespaces); do
	install -d -o frr -g frr "/etc/frr/$ns" "/var/run/frr/$ns"
	# Without it vtysh starts every output with "% Can't open configuration file".
	printf 'service integrated-vtysh-config\n' >"/etc/frr/$ns/vtysh.conf"
	for daemon in zebra bgpd; do
		ip netns exec "$ns" "/usr/lib/frr/$daemon" -d -N "$ns" -P 0 \
			--log "file:/var/run/frr/$ns/$daemon.log" >"/var/run/frr/$ns/$daemon.out" 2>&1 ||
			fail "$daemon did not start in $ns: $(cat "/var/run/frr/$ns/$daemon.out")"
	done
done
# bgpd_ready NS: bgpd answers vtysh and is zebra's client (graceful-restart commands fail before).
bgpd_ready() {
	vtysh -N "$1" -d bgpd -c 'show version' >/dev/null 2>&1 &&
		vtysh -N "$1" -d zebra -c 'show zebra client summary' 2>/dev/null | grep -q '^bgp[[:space:]]'
}
for ns in $(all_namespaces); do
	wait_until 15 0.1 bgpd_ready "$ns" || fail "FRR in $ns did not answer within 15 s (logs in /var/run/frr/$ns/)"
done
say "4 x (zebra + bgpd) answering, bgpd connected to zebra, in $(since "$t0")"

step "5/8 Configuring the ToR with examples/seed/tor-frr.conf (AS 65000, listen range 192.168.10.0/24)"
# The ToR first: a node whose first connection is refused waits out its connect-retry timer.
out=$(vtysh -N "$TOR" -f examples/seed/tor-frr.conf 2>&1) || fail "the ToR rejected tor-frr.conf:
$out"
say "loaded"

step "6/8 Starting frr-renderer run for each node (watching $WATCH)"
started=$(now_ms)
for node in "${NODES[@]}"; do
	ns=demo-$node
	log=/var/run/frr/$ns/frr-renderer.log
	ip netns exec "$ns" "$BIN" run --node "$node" --watch "$WATCH" --pathspace "$ns" \
		--frr-version 8 </dev/null >"$log" 2>&1 &
	RENDERER[$node]=$!
	say "ip netns exec $ns frr-renderer run --node $node --watch $WATCH --pathspace $ns --frr-version 8 (pid ${RENDERER[$node]}, log $log)"
done

step "7/8 Waiting for the ToR: 3 sessions Established, $OLD_VIP/32 via 3 next hops (timeout ${TIMEOUT}s)"
until_or_fail "3 Established sessions on the ToR" "$TIMEOUT" 0.2 sessions_up
t_sessions=$(since "$started")
until_or_fail "$OLD_VIP/32 via the 3 nodes in the ToR's BGP table" "$TIMEOUT" 0.2 bgp_ecmp "$OLD_VIP"
t_bgp=$(since "$started")
until_or_fail "$OLD_VIP via the 3 nodes in the ToR's kernel" 10 0.05 kernel_ecmp "$OLD_VIP"
t_kernel=$(since "$started")
echo
echo "# vtysh -N $TOR -c 'show bgp summary'"
tor_vtysh -c 'show bgp summary'
echo "# vtysh -N $TOR -c 'show bgp ipv4 unicast $OLD_VIP/32'"
tor_vtysh -c "show bgp ipv4 unicast $OLD_VIP/32"
echo "# ip -n $TOR route show $OLD_VIP"
ip -n "$TOR" route show "$OLD_VIP"
echo
say "since the renderers started: 3 sessions Established in $t_sessions, 3 BGP paths in $t_bgp, ECMP route in the ToR's kernel in $t_kernel"

step "8/8 Changing the Service's LoadBalancer IP in $WATCH/05-http-test.yaml: $OLD_VIP -> $NEW_VIP"
svc=$WATCH/05-http-test.yaml
tmp=$WATCH/.05-http-test.yaml.tmp # not *.yaml: the watcher does not read it
sed "s/- ip: ${OLD_VIP//./\\.}\$/- ip: $NEW_VIP/" "$svc" >"$tmp"
grep -q -- "- ip: $NEW_VIP\$" "$tmp" || fail "could not find '- ip: $OLD_VIP' in $svc"
declare -A log_size
for node in "${NODES[@]}"; do
	log_size[$node]=$(stat -c %s "/var/run/frr/demo-$node/frr-renderer.log")
done
edited=$(now_ms)
mv -f "$tmp" "$svc" # a rename: the watcher sees the old file or the new one, never half of one
say "edited (write to a temporary file, then mv)"
# The kernel is cheap to poll (no vtysh): watch it closely for the times, then confirm in BGP.
until_or_fail "$NEW_VIP via the 3 nodes in the ToR's kernel" "$TIMEOUT" 0.01 kernel_ecmp "$NEW_VIP"
t_new=$(($(now_ms) - edited))
until_or_fail "$OLD_VIP to leave the ToR's kernel" "$TIMEOUT" 0.01 kernel_gone "$OLD_VIP"
t_gone=$(($(now_ms) - edited))
until_or_fail "$NEW_VIP/32 via the 3 nodes in the ToR's BGP table" 10 0.05 bgp_ecmp "$NEW_VIP"
until_or_fail "$OLD_VIP/32 to leave the ToR's BGP table" 10 0.05 bgp_gone "$OLD_VIP"
t_bgp=$(($(now_ms) - edited))
echo
echo "# vtysh -N $TOR -c 'show bgp ipv4 unicast'"
tor_vtysh -c 'show bgp ipv4 unicast'
echo "# vtysh -N $TOR -c 'show bgp ipv4 unicast $NEW_VIP/32'"
tor_vtysh -c "show bgp ipv4 unicast $NEW_VIP/32"
echo "# ip -n $TOR route show $NEW_VIP; ip -n $TOR route show $OLD_VIP"
ip -n "$TOR" route show "$NEW_VIP"
ip -n "$TOR" route show "$OLD_VIP"
node=${NODES[0]}
echo "# what frr-renderer on $node logged since the edit"
tail -c +$((${log_size[$node]} + 1)) "/var/run/frr/demo-$node/frr-renderer.log" | head -n 10 || true
echo
say "milliseconds after the edit:"
for node in "${NODES[@]}"; do
	ms=$(applied_ms "$node" "${log_size[$node]}")
	printf '    %6s  %s\n' "+${ms:-?}" "frr-renderer on $node applied the change (time from its log)"
done
printf '    %6s  %s\n' "+$t_new" "the ToR's kernel routes $NEW_VIP via the 3 nodes" \
	"+$t_gone" "the ToR's kernel no longer has $OLD_VIP" \
	"+$t_bgp" "the ToR's BGP table agrees (checked with vtysh once the kernel did)"
