# shellcheck shell=bash
# scenarios/lib/lab.sh: each scenario's lab (up, its addresses and VIPs,
# teardown) and the address helpers. Sourced by scenarios/lib.sh.

# ---------------------------------------------------------------- the lab

# sc_vips_load: the addresses the scenarios expect of the balancer. The
# file's lines are "KEY VALUE..." (see scenarios/vips/lab.vips); keys it
# leaves out keep the lab's reference plan.
sc_vips_load() {
	VIP_ACCESS=203.0.113.10 VIP_WEBCONF=203.0.113.11 VIP_AV=203.0.113.12 VIP_INT=10.20.0.10
	VIP_AV6=2001:db8:203:0:113::12 VIP_INT6=2001:db8:10:20::10
	GW_EXT=203.0.113.10 GW_INT=10.20.0.1
	SNAT_EXT="203.0.113.10 203.0.113.11" SNAT_INT="10.20.0.10"
	VIPS_LAB_LB='' VIPS_TCP_IDLE='' VIPS_WIRE_UP='' VIPS_WIRE_DOWN='' VIPS_CTL_EXT='' VIPS_CTL_INT=''
	VIPS_EXPECT_FAIL='' # "ID REASON" lines: what the device is known not to do
	[ -f "$SC_VIPS" ] || return 0
	local key val
	while read -r key val; do
		case $key in
		'' | '#'*) continue ;;
		vip)
			case ${val%% *} in
			access) VIP_ACCESS=${val##* } ;; webconf) VIP_WEBCONF=${val##* } ;;
			av) VIP_AV=${val##* } ;; internal) VIP_INT=${val##* } ;;
			av6) VIP_AV6=${val##* } ;; internal6) VIP_INT6=${val##* } ;;
			esac ;;
		gateway)
			case ${val%% *} in ext) GW_EXT=${val##* } ;; int) GW_INT=${val##* } ;; esac ;;
		snat)
			case ${val%% *} in ext) SNAT_EXT=${val#* } ;; int) SNAT_INT=${val#* } ;; esac ;;
		lab-lb)
			VIPS_LAB_LB=$val
			# once, from scenarios/run (each scenario reads the file again)
			[ "$val" = external ] && [ -z "${SC_ID:-}" ] &&
				echo "scenarios: $SC_VIPS: 'lab-lb external' is deprecated: use 'lab-lb none' (the same lab: no balancer of ours)" >&2
			;;
		tcp-idle) VIPS_TCP_IDLE=$val ;;
		wire-up) VIPS_WIRE_UP=$val ;;
		wire-down) VIPS_WIRE_DOWN=$val ;;
		ctl-ext) VIPS_CTL_EXT=$val ;;
		ctl-int) VIPS_CTL_INT=$val ;;
		expect-fail) VIPS_EXPECT_FAIL+=$val$'\n' ;;
		esac
	done < <(sed 's/[[:space:]]#.*//' "$SC_VIPS")
}

# The balancer the lab itself brings up: ours (emulated), the kernel's
# (nft), or, for external, what the vips file asks for (none: bare HLB
# nodes, the vendor's device wired in by its wire-up command; "external",
# its deprecated name, is none).
sc_lab_lb() {
	case $SC_LB in
	external)
		case ${VIPS_LAB_LB:-none} in
		external) echo none ;;
		*) echo "${VIPS_LAB_LB:-none}" ;;
		esac ;;
	*) echo "$SC_LB" ;;
	esac
}

sc_init() {
	SC_ID=$1
	SC_SCRIPT=$(readlink -f "$0")
	SC_TITLE=$(sc_title "$SC_SCRIPT")
	SC_SEGMENTS=$(sc_meta "$SC_SCRIPT" segments)
	if [ -z "${SC_OUT:-}" ]; then
		SC_OUT=$SC_ROOT/results/$SC_ID
		rm -rf "$SC_OUT"
	fi
	mkdir -p "$SC_OUT"
	: >"$SC_OUT/failures"
	: >"$SC_OUT/flows"
	echo "# $SC_ID: $SC_TITLE"
	lib_init "$SC_ID" # not root: skip (77); a free prefix; the EXIT trap
	SC_PORT=$((40000 + 100 * ${SC_ID#S}))
	SC_PREFIX=${SC_PREFIX:-$T_PREFIX}
	T_PREFIX=$SC_PREFIX # in_node NODE: the lab's node
	sc_vips_load
	defer sc_cleanup
	if [ "$SC_SHARED" = 1 ]; then
		SC_STATE=/run/edgelab/$SC_PREFIX
		[ -f "$SC_STATE/env" ] || { sc_fail "shared lab $SC_PREFIX is not up"; exit 1; }
		# shellcheck disable=SC1091
		. "$SC_STATE/env"
		echo "# lab $SC_PREFIX (shared${SC_FAULTS:+, fault $SC_FAULTS})"
	else
		sc_lab_up || exit 1
	fi
	sc_capture_start
}

sc_lab_up() {
	local lb args t0 t1
	lb=$(sc_lab_lb)
	args=(up --prefix "$SC_PREFIX" --lb "$lb")
	[ -n "$SC_FAULTS" ] && args+=(--fault "$SC_FAULTS")
	t0=${EPOCHREALTIME/./}
	if ! "$LAB" "${args[@]}" >"$SC_OUT/lab.log" 2>&1; then
		sc_fail "lab up failed: $(tail -n 2 "$SC_OUT/lab.log" | tr '\n' ' ')"
		return 1
	fi
	t1=${EPOCHREALTIME/./}
	echo "# lab $SC_PREFIX up (lb $lb${SC_FAULTS:+, fault $SC_FAULTS}) in $(((t1 - t0) / 1000)) ms"
	SC_STATE=/run/edgelab/$SC_PREFIX
	# LAB_CLIENT_ADDR, LAB_USER, LAB_PASSWORD, LAB_REST_SECRET, ...
	# shellcheck disable=SC1091
	. "$SC_STATE/env"
	if [ "$SC_LB" = external ] && [ -n "$VIPS_WIRE_UP" ]; then
		(cd "$SC_ROOT" && LAB_PREFIX=$SC_PREFIX timeout 60 bash -c "$VIPS_WIRE_UP") >>"$SC_OUT/lab.log" 2>&1 || {
			sc_fail "the vips file's wire-up failed: $(tail -n 2 "$SC_OUT/lab.log" | tr '\n' ' ')"
			return 1
		}
	fi
}

# sc_cleanup, deferred (lib_cleanup runs it at exit): what the scenario
# spawned (its captures, listeners, loads) stops first, so that a shared
# lab goes on to the next scenario with their ports free again; then the
# lab goes, unless it is the runner's (shared) or to be kept.
sc_cleanup() {
	stop_pids "${T_PIDS[@]}"
	rm -f "$SC_OUT"/pcap/*.err
	if [ "$SC_SHARED" = 1 ]; then
		: # the runner's lab: it brings it down
	elif [ "$SC_KEEP" = 1 ]; then
		echo "# kept: lab $SC_PREFIX (netns/lab down --prefix $SC_PREFIX)"
	else
		if [ "$SC_LB" = external ] && [ -n "$VIPS_WIRE_DOWN" ]; then
			(cd "$SC_ROOT" && LAB_PREFIX=$SC_PREFIX timeout 60 bash -c "$VIPS_WIRE_DOWN") >>"$SC_OUT/lab.log" 2>&1
		fi
		"$LAB" down --prefix "$SC_PREFIX" >>"$SC_OUT/lab.log" 2>&1
	fi
	# Pcaps are kept for a failed scenario only.
	if [ -f "$SC_OUT/result" ] && [ "$(<"$SC_OUT/result")" != fail ]; then
		rm -rf "$SC_OUT/pcap"
	fi
}

# ---------------------------------------------------------------- addresses

# sc_v6 ADDR: the IPv6 mirror of an IPv4 address (netns/PLAN.md).
sc_v6() {
	local p
	IFS=. read -r -a p <<<"$1"
	local g=(2001 db8 "${p[0]}" "${p[1]}" "${p[2]}" 0 0 "${p[3]}")
	# RFC 5952: the longest run of zero groups (two or more) becomes "::".
	local i best=-1 bl=1 run=0 s=
	for i in 0 1 2 3 4 5 6 7; do
		if [ "${g[i]}" = 0 ]; then run=$((run + 1)); else run=0; fi
		[ $run -gt $bl ] && { bl=$run; best=$((i - run + 1)); }
	done
	for ((i = 0; i < 8; i++)); do
		if [ $i -eq $best ]; then s+="::"; i=$((i + bl - 1)); continue; fi
		[ -n "$s" ] && [ "${s: -1}" != : ] && s+=:
		s+=${g[i]}
	done
	echo "$s"
}

# sc_v4 ADDR: the IPv4 address an IPv6 lab address mirrors (or ADDR).
sc_v4() {
	local a=$1 head tail g=() h=() n
	[[ $a == *:* ]] || { echo "$a"; return; }
	if [[ $a == *::* ]]; then
		head=${a%%::*} tail=${a#*::}
		IFS=: read -r -a g <<<"$head"
		IFS=: read -r -a h <<<"$tail"
		n=$((8 - ${#g[@]} - ${#h[@]}))
		while [ $n -gt 0 ]; do g+=(0); n=$((n - 1)); done
		g+=("${h[@]}")
	else
		IFS=: read -r -a g <<<"$a"
	fi
	echo "$((10#${g[2]:-0})).$((10#${g[3]:-0})).$((10#${g[4]:-0})).$((10#${g[7]:-0}))"
}

# sc_node_of ADDR: the lab node that holds ADDR (VIPs: their HLB).
sc_node_of() {
	local a
	a=$(sc_v4 "${1#[}")
	a=${a%]}
	case $a in
	"$VIP_ACCESS" | "$VIP_WEBCONF" | "$VIP_AV" | "$GW_EXT") echo hlbext; return ;;
	"$VIP_INT" | "$GW_INT") echo hlbint; return ;;
	"${LAB_CLIENT_ADDR:-198.51.100.10}") echo client; return ;;
	esac
	case $a in
	198.51.100.10) echo client ;; 198.51.100.20) echo partner ;;
	198.51.100.1 | 192.0.2.1 | 203.0.113.1) echo fwext ;;
	192.0.2.2 | 203.0.113.1[0-2]) echo hlbext ;;
	203.0.113.2[1-3] | 10.20.0.21) echo edge1 ;;
	203.0.113.3[1-3] | 10.20.0.31) echo edge2 ;;
	10.20.0.1 | 10.20.0.10 | 10.30.0.2) echo hlbint ;;
	10.30.0.1 | 10.10.0.1 | 10.10.1.1) echo fwint ;;
	10.10.0.10) echo fe ;; 10.10.1.50) echo inclient ;;
	*) echo "?" ;;
	esac
}

# sc_addr NODE [6]: the node's own address a probe binds to.
sc_addr() {
	local a
	case $1 in
	client) a=${LAB_CLIENT_ADDR:-198.51.100.10} ;;
	partner) a=198.51.100.20 ;;
	fe) a=10.10.0.10 ;;
	inclient) a=10.10.1.50 ;;
	edge1) a=203.0.113.23 ;;
	edge2) a=203.0.113.33 ;;
	*) return 1 ;;
	esac
	if [ "${2:-4}" = 6 ]; then sc_v6 "$a"; else echo "$a"; fi
}

# sc_hostport HOST PORT: "H:P", or "[H]:P" for IPv6.
sc_hostport() {
	if [[ $1 == *:* ]]; then echo "[$1]:$2"; else echo "$1:$2"; fi
}

sc_host() { # "H:P" or "[H]:P" -> H
	local h=${1%:*}
	h=${h#[}
	echo "${h%]}"
}

sc_port_of() { echo "${1##*:}"; }

# sc_next_port: a client source port no other probe of this scenario used.
sc_next_port() {
	SC_PORT=$((SC_PORT + 1))
}
