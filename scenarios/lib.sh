# scenarios/lib.sh: what every scenario script shares (SPEC section 5), in
# the manner of the kernel's net selftests: a lab of its own under a fresh
# prefix, torn down on exit; one function per check; one aligned verdict
# line per check; every wait bounded; fixed exit codes (0 pass, 1 fail,
# 77 skip).
#
# A scenario script reads:
#
#   #!/usr/bin/env bash
#   # S1: STUN Binding to the A/V VIP over UDP
#   # seed: "If the client sends a request to the HLB, the response must ..."
#   # rows: row_extvip_07
#   # segments: inet dmzext edgeext
#   # asserts: the answer comes from VIP:3478; ...
#   . "$(dirname "$0")/lib.sh"
#   sc_init S1
#   check_answer_from_vip() { ...; sc_assert_eq "$got" "$want" "message"; }
#   sc_main check_answer_from_vip ...
#
# Run alone (sudo scenarios/s01-av-vip-udp.sh) it builds its own lab with
# the emulated HLB; scenarios/run sets the SC_* variables below.
#
# Environment (all optional):
#   SC_LB        emulated (default) | nft | external
#   SC_VIPS      the VIPs/HLB addresses file (default scenarios/vips/lab.vips)
#   SC_FAULTS    faults for `netns/lab up --fault` (M1..M13, comma separated)
#   SC_PREFIX    the lab's prefix (default: a fresh random one)
#   SC_SHARED=1  the lab SC_PREFIX is up already and stays up: scenarios/run
#                --mutations runs the scenarios that leave a lab as they
#                found it one after another on one lab per fault; those that
#                break a node ("# lab: own") always get their own
#   SC_OUT       where this scenario writes (default results/ID)
#   SC_KEEP=1    leave the lab up (its prefix is printed)
#   SC_CAPTURE=0 no packet capture (the diagnoses then say less)
#   SC_TIMEOUT   milliseconds one request may take (default 1000)
#   SC_RETRY=0   no second try for a probe that got no answer

SC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SC_ROOT=$(cd "$SC_DIR/.." && pwd)
LAB=$SC_ROOT/netns/lab
BIN=${BIN:-${EDGELAB_BIN:-$SC_ROOT/build/bin}}
export EDGELAB_BIN=$BIN
SC_LB=${SC_LB:-emulated}
SC_FAULTS=${SC_FAULTS:-}
SC_VIPS=${SC_VIPS:-$SC_DIR/vips/lab.vips}
SC_KEEP=${SC_KEEP:-0}
SC_CAPTURE=${SC_CAPTURE:-1}
SC_TIMEOUT=${SC_TIMEOUT:-1000}
SC_RETRY=${SC_RETRY:-1}  # a probe that gets no answer is tried once more
SC_CAPS=()     # capture pids (processes this scenario started)
SC_BG=()       # other background pids this scenario started
SC_PORT=41000  # next client source port: every probe gets its own, so a
               # capture can be searched for exactly that probe's packets
               # (sc_init moves it to 40000 + 100 x the scenario's number)
SC_SHARED=${SC_SHARED:-0}
SC_FAILS=0
SC_STATUS=init

# ---------------------------------------------------------------- metadata

# sc_meta FILE KEY: the text after "# KEY:" in FILE's header, lines joined.
sc_meta() {
	awk -v k="$2" 'NR > 1 && !/^#/ { exit }
		{ if (index($0, "# " k ": ") == 1) { v = v (v ? " " : "") substr($0, length(k) + 5) } }
		END { print v }' "$1"
}

# sc_title FILE: the title from the header's "# Sn: title" line.
sc_title() {
	sed -n '2s/^# S[0-9]*: //p' "$1"
}

# ---------------------------------------------------------------- output

sc_log() { printf '%s\n' "$*"; }

# sc_fail MESSAGE: one line, "Sn: MESSAGE", on stdout and in the failures
# file (the runner's TAP and the mutation table quote the first one).
sc_fail() {
	SC_FAILS=$((SC_FAILS + 1))
	SC_CHECK_FAILED=1
	printf '%s: %s\n' "$SC_ID" "$*" | tee -a "$SC_OUT/failures"
	return 1
}

# sc_note TEXT: a remark worth a reader's eye that is no failure (kept in
# SC_OUT/notes: the runner prints them with the scenario's TAP line).
sc_note() { printf '      note: %s\n' "$*"; }
sc_remark() {
	printf '      note: %s\n' "$*"
	echo "$SC_ID: $*" >>"$SC_OUT/notes"
}

# sc_skip REASON; return  -- inside a check: the check is skipped (77).
sc_skip() {
	SC_SKIP_REASON=$*
	return 77
}

# sc_assert_eq GOT WANT MESSAGE: quiet when equal, else one line.
sc_assert_eq() {
	[ "$1" = "$2" ] && return 0
	sc_fail "$3"
}

# sc_assert_in GOT "A B C" MESSAGE: GOT is one of the words.
sc_assert_in() {
	local w
	for w in $2; do
		[ "$1" = "$w" ] && return 0
	done
	sc_fail "$3"
}

# sc_assert_ge GOT MIN MESSAGE (integers; an empty GOT fails)
sc_assert_ge() {
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && return 0
	sc_fail "$3"
}

# sc_flow FROM-NODE DEST PROTO [ANSWERED-BY]: a flow this check sends, for
# the report's drawing; it takes the check's verdict when the check ends.
# DEST is ADDR:PORT ([V6]:PORT); ANSWERED-BY the node that answered (for a
# VIP, the real server behind it).
sc_flow() {
	SC_PENDING+=("$1 $2/$3 ${4:--}")
}

# sc_flow_answered NODE: the last flow's answering node, once known.
sc_flow_answered() {
	local n=$((${#SC_PENDING[@]} - 1)) f
	[ $n -ge 0 ] || return 0
	f=${SC_PENDING[$n]}
	SC_PENDING[$n]="${f% *} ${1:--}"
}

# sc_flow_verdict FROM DEST PROTO VERDICT [ANSWERED-BY]: a flow whose
# verdict is its own, not its check's (S16: one flow per table row).
sc_flow_verdict() {
	echo "FLOW $SC_ID $1 $2/$3 $4 ${5:--}" >>"$SC_OUT/flows"
}

# ---------------------------------------------------------------- the lab

sc_prefix_new() { # ID -> a prefix no lab uses (1-8 of [a-z0-9])
	local id=${1,,} p
	for _ in 1 2 3 4 5 6 7 8; do
		p=$(printf '%s%s' "${id:0:3}" "$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')")
		p=${p:0:8}
		[ -e "/run/edgelab/$p" ] || [ -e "/run/netns/$p-sw" ] || { echo "$p"; return 0; }
	done
	return 1
}

# sc_vips_load: the addresses the scenarios expect of the balancer. The
# file's lines are "KEY VALUE..." (see scenarios/vips/lab.vips); keys it
# leaves out keep the lab's reference plan.
sc_vips_load() {
	VIP_ACCESS=203.0.113.10 VIP_WEBCONF=203.0.113.11 VIP_AV=203.0.113.12 VIP_INT=10.20.0.10
	VIP_AV6=2001:db8:203:0:113::12 VIP_INT6=2001:db8:10:20::10
	GW_EXT=203.0.113.10 GW_INT=10.20.0.1
	SNAT_EXT="203.0.113.10 203.0.113.11" SNAT_INT="10.20.0.10"
	VIPS_LAB_LB='' VIPS_TCP_IDLE='' VIPS_WIRE_UP='' VIPS_WIRE_DOWN='' VIPS_CTL_EXT='' VIPS_CTL_INT=''
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
		lab-lb) VIPS_LAB_LB=$val ;;
		tcp-idle) VIPS_TCP_IDLE=$val ;;
		wire-up) VIPS_WIRE_UP=$val ;;
		wire-down) VIPS_WIRE_DOWN=$val ;;
		ctl-ext) VIPS_CTL_EXT=$val ;;
		ctl-int) VIPS_CTL_INT=$val ;;
		esac
	done < <(sed 's/[[:space:]]#.*//' "$SC_VIPS")
}

# The balancer the lab itself brings up: ours (emulated), the kernel's
# (nft), or, for external, what the vips file asks for (none: bare HLB
# nodes, the vendor's device wired in by its wire-up command).
sc_lab_lb() {
	case $SC_LB in
	external) echo "${VIPS_LAB_LB:-none}" ;;
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
	if [ "$(id -u)" -ne 0 ]; then
		echo "skip: $SC_ID needs root" | tee "$SC_OUT/skip"
		exit 77
	fi
	SC_PORT=$((40000 + 100 * ${SC_ID#S}))
	SC_PREFIX=${SC_PREFIX:-$(sc_prefix_new "$SC_ID")}
	sc_vips_load
	trap sc_cleanup EXIT
	trap 'exit 143' TERM INT HUP
	if [ "$SC_SHARED" = 1 ]; then
		SC_STATE=/run/edgelab/$SC_PREFIX
		[ -f "$SC_STATE/env" ] || { sc_fail "shared lab $SC_PREFIX is not up"; exit 1; }
		# shellcheck disable=SC1091
		. "$SC_STATE/env"
		echo "# lab $SC_PREFIX (shared${SC_FAULTS:+, fault $SC_FAULTS})"
	else
		sc_lab_up || exit 1
	fi
	SC_STATUS=up
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

sc_cleanup() {
	local rc=$? p
	trap - EXIT TERM INT HUP
	for p in "${SC_BG[@]}"; do
		kill "$p" 2>/dev/null
	done
	sc_capture_stop
	if [ "$SC_SHARED" = 1 ]; then
		: # the runner's lab: it brings it down
	elif [ "$SC_STATUS" != init ] || [ -n "${SC_PREFIX:-}" ]; then
		if [ "$SC_KEEP" = 1 ]; then
			echo "# kept: lab $SC_PREFIX (netns/lab down --prefix $SC_PREFIX)"
		else
			if [ "$SC_LB" = external ] && [ -n "$VIPS_WIRE_DOWN" ]; then
				(cd "$SC_ROOT" && LAB_PREFIX=$SC_PREFIX timeout 60 bash -c "$VIPS_WIRE_DOWN") >>"$SC_OUT/lab.log" 2>&1
			fi
			"$LAB" down --prefix "$SC_PREFIX" >>"$SC_OUT/lab.log" 2>&1
		fi
	fi
	# Pcaps are kept for a failed scenario only.
	if [ -f "$SC_OUT/result" ] && [ "$(<"$SC_OUT/result")" != fail ]; then
		rm -rf "$SC_OUT/pcap"
	fi
	exit $rc
}

# sc_in NODE CMD...: CMD inside NODE of this lab (what `netns/lab exec`
# does, without its start-up cost: it runs hundreds of times per suite).
sc_in() {
	local node=$1
	shift
	ip netns exec "$SC_PREFIX-$node" "$@"
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

# ---------------------------------------------------------------- probes

# sc_json KEY [JSON]: a field of edgeprobe's flat JSON (default: the last
# probe's), strings without their quotes; empty when absent. Plain bash:
# it runs many times per scenario.
sc_json() {
	local j=${2-$SC_J} re
	re="\"$1\":(\"([^\"]*)\"|([^,}]*))"
	[[ $j =~ $re ]] || return 0
	echo "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
}

# sc_probe_error: why the last probe failed, in a few words.
sc_probe_error() {
	local e
	e=$(sc_json error)
	[ -z "$e" ] && e=$(tail -n 1 <<<"$SC_E" | sed 's/^edgeprobe: //; s/^lab-probe: //')
	case $e in
	*"no answer within "*) e="timed out after ${e##*no answer within }" ;;
	*"Operation now in progress"*) e="TCP connect timed out" ;;
	esac
	echo "${e:-no output}"
}

# sc_probe_timed_out: the last probe got no answer at all (as opposed to
# an error response): then the capture can say where things went.
sc_probe_timed_out() {
	case $(sc_probe_error) in
	"timed out"* | *"connect timed out"* | *"no answer"* | *"connection closed"* | *"refused"*) return 0 ;;
	esac
	return 1
}

# sc_probe_silent: nothing at all came back (worth a second try).
sc_probe_silent() {
	case $(sc_probe_error) in
	"timed out"* | *"connect timed out"* | *"no answer"*) return 0 ;;
	esac
	return 1
}

# sc_mapped_why MAPPED OWN: why XOR-MAPPED-ADDRESS is not the client's own.
sc_mapped_why() {
	if [ "$(sc_host "$1")" != "$(sc_host "$2")" ]; then
		echo "the HLB changed the client's source address (SNAT on the A/V service)"
	else
		echo "the HLB rewrote the client's source port"
	fi
}

# sc_relay_config: where avedge on each edge says it relays (its log), to
# name the cause when Allocates fail.
sc_relay_config() {
	local n a out=''
	for n in edge1 edge2; do
		a=$(grep -m1 -o 'relaying at [^,]*' "$SC_STATE/logs/avedge-$n.log" 2>/dev/null | cut -d' ' -f3)
		[ -n "$a" ] || continue
		out+="; avedge on $n relays at $a"
		case $a in "$VIP_AV" | "$VIP_AV6" | "$VIP_ACCESS" | "$VIP_WEBCONF" | "$VIP_INT") out+=" (a VIP)" ;; esac
	done
	echo "$out"
}

# sc_alloc_why PROTO TARGET: the reason an Allocate failed, in a phrase:
# where the packets went if nothing came back, the relays' addresses if
# the relay answered with an error.
sc_alloc_why() {
	if sc_probe_timed_out; then
		echo "$(sc_probe_error): $(sc_why_no_answer "$1" "$SC_SRC" "$2")"
	else
		echo "$(sc_probe_error)$(sc_relay_config)"
	fi
}

# sc_edgeprobe NODE CMD TARGET [ARGS...]: edgeprobe with --json in NODE,
# bound to the node's own address and the next free source port. Sets
# SC_J (the JSON), SC_E (stderr), SC_SRC (ADDR:PORT it bound), SC_RC.
sc_edgeprobe() {
	local try
	for try in 1 2; do
		sc_edgeprobe_once "$@" && return 0
		# Once more when nothing came back (a busy machine can lose a
		# race); never for an answer that said no, nor with SC_RETRY=0
		# (probes whose failure is expected).
		[ "$SC_RETRY" = 1 ] && [ $try = 1 ] && sc_probe_silent || break
		echo "      (no answer: once more)" >>"$SC_OUT/probes"
	done
	return $SC_RC
}

sc_edgeprobe_once() {
	local node=$1 cmd=$2 target=$3 fam=4 src
	shift 3
	[[ $target == \[* ]] && fam=6
	sc_next_port
	src=$(sc_addr "$node" $fam) && SC_SRC=$(sc_hostport "$src" $SC_PORT) || SC_SRC=
	local err=${SC_ERRF:-$SC_OUT/.err}
	SC_J=$(sc_in "$node" "$BIN/edgeprobe" "$cmd" "$target" --json ${SC_SRC:+--bind "$SC_SRC"} "$@" 2>"$err")
	SC_RC=$?
	SC_E=$(<"$err")
	printf '      %s %s %s -> %s\n' "$node" "$cmd" "$target" "${SC_J:-$SC_E}" >>"$SC_OUT/probes"
	return $SC_RC
}

# sc_binding NODE TARGET [--tcp|--tls]: one STUN Binding.
sc_binding() {
	local node=$1 target=$2
	shift 2
	sc_edgeprobe "$node" binding "$target" --timeout "$SC_TIMEOUT" "$@"
}

# sc_turn NODE CMD TARGET [ARGS...]: allocate/turn/relay with the lab's
# long-term credential.
sc_turn() {
	local node=$1 cmd=$2 target=$3
	shift 3
	sc_edgeprobe "$node" "$cmd" "$target" --user "$LAB_USER" --pass "$LAB_PASSWORD" \
		--timeout "$((SC_TIMEOUT * 2))" "$@"
}

# sc_lprobe NODE PROTO ADDR PORT [--from ADDR]: one lab-probe connection
# (the responders answer "NODE SERVICE CLIENT-ADDR:PORT LOCAL-ADDR:PORT").
# Sets SC_LINE and SC_E; the answer's fields in R_NODE R_SERVICE R_CLIENT
# R_LOCAL.
sc_lprobe() {
	local try
	for try in 1 2; do
		sc_lprobe_once "$@" && return 0
		[ "$SC_RETRY" = 1 ] && [ $try = 1 ] && sc_probe_silent || break
		echo "      (no answer: once more)" >>"$SC_OUT/probes"
	done
	return $SC_RC
}

sc_lprobe_once() {
	local node=$1 proto=$2 addr=$3 port=$4
	shift 4
	local err=${SC_ERRF:-$SC_OUT/.err}
	SC_J=''
	SC_LINE=$(sc_in "$node" "$BIN/lab-probe" --timeout "$SC_TIMEOUT" "$@" "$proto" "$addr" "$port" 2>"$err")
	SC_RC=$?
	SC_E=$(<"$err")
	read -r R_NODE R_SERVICE R_CLIENT R_LOCAL _ <<<"$SC_LINE"
	printf '      %s lab-probe %s %s %s %s -> %s\n' "$node" "$*" "$proto" "$addr" "$port" \
		"${SC_LINE:-$SC_E}" >>"$SC_OUT/probes"
	return $SC_RC
}

# sc_bg NODE LOGFILE CMD...: start CMD in NODE in the background; its pid
# in SC_BG_PID (stopped at exit if still running).
sc_bg() {
	local node=$1 log=$2
	shift 2
	ip netns exec "$SC_PREFIX-$node" "$@" >"$log" 2>&1 &
	SC_BG_PID=$!
	SC_BG+=("$SC_BG_PID")
}

# sc_responder NODE NAME SPEC...: start a lab-responder of this
# scenario's own (SPEC is SERVICE=ADDR:PORT/PROTO); sc_responders_ready
# waits until every one started so far has bound its sockets.
SC_RESPONDERS=()
sc_responder() {
	local node=$1 name=$2 s args=()
	shift 2
	for s; do args+=(--listen "$s"); done
	sc_bg "$node" "$SC_OUT/responder-$name.log" "$BIN/lab-responder" --name "$node" \
		--cert "$SC_STATE/cert.pem" --key "$SC_STATE/key.pem" "${args[@]}"
	SC_RESPONDERS+=("$node:$SC_OUT/responder-$name.log")
}

sc_responders_ready() {
	local r
	for r in "${SC_RESPONDERS[@]}"; do
		sc_wait 3 grep -q '^ready' "${r#*:}" ||
			{ sc_fail "lab-responder in ${r%%:*} did not start: $(head -c 200 "${r#*:}")"; return 1; }
	done
	SC_RESPONDERS=()
}

# ---------------------------------------------------------------- waits

# sc_wait SECONDS CMD...: CMD until it succeeds, every 0.1 s, at most
# SECONDS (the selftests' busywait).
sc_wait() {
	local n=$(($1 * 10))
	shift
	for ((; n > 0; n--)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

sc_now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# ---------------------------------------------------------------- firewalls

# sc_counter FW NAME: packets the firewall's named counter counted ("" if
# the ruleset has no such counter).
sc_counter() {
	sc_in "$1" nft list counter inet edgelab "$2" 2>/dev/null | awk '/packets/ { print $2; exit }'
}

# sc_counters FW: "NAME PACKETS" for every named counter of the firewall.
sc_counters() {
	sc_in "$1" nft list counters table inet edgelab 2>/dev/null |
		awk '$1 == "counter" { n = $2 } /packets/ { print n, $2 }'
}

# ---------------------------------------------------------------- the HLB

# sc_hlb ext|int CTL-ARGS...: the balancer's control (list, stats, drain,
# disable, enable). For external balancers the vips file's ctl-ext/ctl-int
# command, if any; returns 2 when there is no way to ask.
sc_hlb() {
	local side=$1 cmd
	shift
	case $SC_LB in
	external)
		[ "$side" = ext ] && cmd=$VIPS_CTL_EXT || cmd=$VIPS_CTL_INT
		[ -n "$cmd" ] || return 2
		(cd "$SC_ROOT" && LAB_PREFIX=$SC_PREFIX timeout 10 bash -c "$cmd $(printf '%q ' "$@")") ;;
	*)
		timeout 10 "$LAB" hlb --prefix "$SC_PREFIX" "$side" "$@" ;;
	esac
}

# sc_tcp_idle ext|int: "SERVICE VIP:PORT/tcp SECONDS" per TCP service of the balancer:
# its TCP idle timeout (R24, M10). Empty when the balancer cannot say.
sc_tcp_idle() {
	local side=$1 out
	if out=$(sc_hlb "$side" list 2>/dev/null) && grep -q 'tcp-timeout' <<<"$out"; then
		awk '$1 == "service" && $3 ~ /\/tcp$/ {
			for (i = 1; i < NF; i++) if ($i == "tcp-timeout") print $2, $3, $(i + 1) }' <<<"$out"
		return 0
	fi
	if [ "$SC_LB" = external ]; then
		[ -n "$VIPS_TCP_IDLE" ] || return 0
		out=$VIPS_TCP_IDLE
		# a number, or a command that prints one
		[[ $out =~ ^[0-9]+$ ]] || out=$(cd "$SC_ROOT" && LAB_PREFIX=$SC_PREFIX timeout 10 bash -c "$out" 2>/dev/null | grep -o '[0-9]*' | head -n 1)
		[ -n "$out" ] && echo "device * $out"
		return 0
	fi
	# A kernel balancer: conntrack's established timeout in the HLB node,
	# or the ct timeout policy the ruleset gives, whichever is shorter.
	local ns=hlb$side sysval pol
	[ "$side" = ext ] && ns=hlbext || ns=hlbint
	sysval=$(sc_in "$ns" sysctl -n net.netfilter.nf_conntrack_tcp_timeout_established 2>/dev/null)
	pol=$(sc_in "$ns" nft list ct timeouts 2>/dev/null | grep -o 'established *: *[0-9]*' | grep -o '[0-9]*$' | sort -n | head -1)
	[ -n "$pol" ] && echo "ct-timeout-policy * $pol"
	[ -n "$sysval" ] && echo "conntrack * $sysval"
}

# sc_check_tcp_idle ext|int VIP...: R24/M10, the balancer keeps idle TCP
# flows of the services on these VIPs at least 1800 s (the edge guidance);
# asked of the balancer, since nobody waits half an hour.
sc_check_tcp_idle() {
	local side=$1 list svc vp secs bad='' n=0 v match
	shift
	list=$(sc_tcp_idle "$side")
	[ -n "$list" ] || { sc_skip "the balancer does not say its TCP idle timeout (vips file: tcp-idle or ctl-$side)"; return; }
	while read -r svc vp secs; do
		match=0
		[ "$vp" = "*" ] && match=1
		for v; do [[ $vp == "$(sc_hostport "$v" '')"* ]] && match=1; done
		[ $match = 1 ] || continue
		n=$((n + 1))
		[ "$secs" -ge 1800 ] 2>/dev/null || bad+=" $svc ($vp) ${secs}s,"
	done <<<"$list"
	[ $n -gt 0 ] || { sc_skip "the balancer lists no TCP service on $*"; return; }
	[ -z "$bad" ] && return 0
	sc_fail "the $side HLB times out idle TCP flows too early:${bad%,}; expected at least 1800 s (R24, the edge guidance)"
}

# ---------------------------------------------------------------- captures

# Every segment named in the header's "# segments:" is captured while the
# scenario runs; the pcaps stay only if it fails, and the diagnoses below
# read them to say where a packet went. This is exactly what `netns/lab
# capture SEGMENT FILE` runs (tcpdump on the segment's bridge in the lab's
# sw namespace), without the lab script's start-up for each segment.
sc_capture_start() {
	[ "$SC_CAPTURE" = 1 ] && [ -n "$SC_SEGMENTS" ] || return 0
	command -v tcpdump >/dev/null || return 0
	mkdir -p "$SC_OUT/pcap"
	local seg
	for seg in $SC_SEGMENTS; do
		ip netns exec "$SC_PREFIX-sw" tcpdump -U --immediate-mode -n -Z root -i "$seg" \
			-w "$SC_OUT/pcap/$seg.pcap" 2>"$SC_OUT/pcap/$seg.err" &
		SC_CAPS+=($!)
	done
	local i err
	for seg in $SC_SEGMENTS; do
		for ((i = 0; i < 150; i++)); do # bounded: 3 s
			err=''
			read -r -d '' err <"$SC_OUT/pcap/$seg.err"
			[[ $err == *"listening on"* ]] && continue 2
			sleep 0.02
		done
		echo "# capture of $seg did not start: $err"
	done
}

sc_capture_stop() {
	local p
	[ ${#SC_CAPS[@]} -gt 0 ] || return 0
	kill "${SC_CAPS[@]}" 2>/dev/null
	for p in "${SC_CAPS[@]}"; do wait "$p" 2>/dev/null; done
	SC_CAPS=()
	rm -f "$SC_OUT"/pcap/*.err
}

# The capture writes each packet at once (-U), but give the kernel's
# buffer a moment: wait until no pcap grows for 100 ms (at most 1 s).
sc_capture_settle() {
	local a b
	[ ${#SC_CAPS[@]} -gt 0 ] || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		a=$(stat -c %s "$SC_OUT"/pcap/*.pcap 2>/dev/null)
		sleep 0.1
		b=$(stat -c %s "$SC_OUT"/pcap/*.pcap 2>/dev/null)
		[ "$a" = "$b" ] && return 0
	done
}

# MAC address -> lab node, for "who sent this frame to whom". Read from
# the lab once per scenario into SC_OUT/macs: sc_seen mostly runs in a
# $(...), whose variables die with it.
declare -A SC_MACS=()
sc_macs_load() {
	local ns mac f=$SC_OUT/macs
	[ ${#SC_MACS[@]} -eq 0 ] || return 0
	if [ ! -s "$f" ]; then
		for ns in client partner fwext hlbext edge1 edge2 hlbint fwint fe inclient; do
			ip -n "$SC_PREFIX-$ns" -o link 2>/dev/null |
				grep -o 'link/ether [0-9a-f:]*' | sed "s/^link.ether //; s/\$/ $ns/"
		done >"$f"
	fi
	while read -r mac ns; do SC_MACS[$mac]=$ns; done <"$f"
}

# sc_seen SEGMENT FILTER: the packets of the capture matching the tcpdump
# FILTER, one per line: "SRC DST SRC-NODE DST-NODE" (SRC/DST as
# ADDR:PORT, the nodes from the frame's MAC addresses).
sc_seen() {
	local seg=$1 f=$SC_OUT/pcap/$1.pcap
	shift
	[ -s "$f" ] || return 0
	local smac dmac src dst
	sc_macs_load
	while read -r smac dmac src dst; do
		echo "$src $dst ${SC_MACS[$smac]:-device $smac} ${SC_MACS[$dmac]:-device $dmac}"
	done < <(tcpdump -r "$f" -n -e "$@" 2>/dev/null | awk '{
		smac = $2; dmac = $4; sub(/,$/, "", dmac)
		for (i = 1; i <= NF; i++) if ($i == ">" && i > 4) { src = $(i - 1); dst = $(i + 1); break }
		sub(/:$/, "", dst)
		print smac, dmac, hp(src), hp(dst) }
		function hp(s,   n, p) { n = split(s, p, "."); if (s ~ /:/) { port = p[n]; sub("\\." port "$", "", s); return "[" s "]:" port }
			port = p[n]; return p[1] "." p[2] "." p[3] "." p[4] ":" port }')
}

# sc_route_back_why EDGE CALLER: why EDGE does not route its answers to an
# internal CALLER (IPv4) through the internal next hop; nothing if it does.
sc_route_back_why() {
	local r
	[[ $2 == 10.* ]] || return 0
	r=$(sc_in "$1" ip -4 route get "$2" 2>&1 | head -n 1)
	r=${r% uid*}
	[[ $r == *"via $GW_INT dev edgeint"* ]] ||
		echo "$1 routes $2 as '$r', not via the internal next hop $GW_INT: no persistent route to $2's subnet (R3)"
}

# sc_why_no_answer PROTO CLIENT TARGET: where the request from CLIENT
# (ADDR:PORT) to TARGET (ADDR:PORT) and its answer went, in one phrase,
# read from the captures: the client's segment, the firewall-HLB segment
# (dmzext/dmzint) and the HLB-edges segment (edgeext/edgeint).
sc_why_no_answer() {
	local proto=$1 cl=$2 tg=$3 cport line src dst sn dn outer dmz edge hlb fw
	cport=$(sc_port_of "$cl")
	case $(sc_v4 "$(sc_host "$tg")") in
	10.*) dmz=dmzint edge=edgeint hlb=hlbint fw=fwint
		[ "$(sc_node_of "$(sc_host "$cl")")" = inclient ] && outer=lan1 || outer=lan0 ;;
	*) outer=inet dmz=dmzext edge=edgeext hlb=hlbext fw=fwext ;;
	esac
	[ ${#SC_CAPS[@]} -gt 0 ] || { echo "(no capture to say more)"; return; }
	sc_capture_settle
	local f="$proto port $cport"
	# 1. Did the request get past the firewall?
	if [[ " $SC_SEGMENTS " == *" $dmz "* ]] && [ -z "$(sc_seen $dmz "$f and src port $cport")" ]; then
		if [ -n "$(sc_seen $outer "$f and src port $cport")" ]; then
			echo "the request never got past $fw (its 'dropped' counter is $(sc_counter $fw dropped))"
			return
		fi
	fi
	# 2. Which edge got it, and where did that edge send its answer?
	line=$(sc_seen $edge "$f and dst port $cport" | head -n 1)
	if [ -z "$line" ]; then
		line=$(sc_seen $edge "$f and src port $cport" | head -n 1)
		if [ -n "$line" ]; then
			read -r src dst sn dn <<<"$line"
			local route
			route=$(sc_route_back_why "$dn" "$(sc_host "$cl")")
			if [ -n "$route" ]; then
				echo "the request reached $dn at $dst, but $route"
			else
				echo "the request reached $dn at $dst, which sent no answer"
			fi
		else
			echo "the request did not reach the edge segment ($edge)"
		fi
		return
	fi
	read -r src dst sn dn <<<"$line"
	if [ "$dn" = "$(sc_node_of "$(sc_host "$cl")")" ]; then
		echo "$sn answered from $src straight to the client, which is on the edges' own subnet: the answer bypassed the HLB (hairpin), so the client's socket, talking to $tg, dropped it"
		return
	fi
	if [ "$dn" != "$hlb" ]; then
		echo "$sn answered from $src but sent it to $dn, not back through the HLB: an asymmetric return path (the edges' gateway must be the HLB, R2/R3)"
		return
	fi
	# 3. What left the HLB toward the client?
	line=$(sc_seen $dmz "$f and dst port $cport" | head -n 1)
	if [ -z "$line" ]; then
		echo "$sn answered from $src through the HLB, which did not pass the answer on"
		return
	fi
	read -r src dst sn dn <<<"$line"
	if [ "$src" != "$tg" ]; then
		local what="another address"
		case $(sc_node_of "$(sc_host "$src")") in
		edge1 | edge2) [ "$(sc_node_of "$(sc_host "$tg")")" = "$hlb" ] &&
			what="the real server's own address: the HLB did not translate the answer back, as in direct server return" ;;
		"$hlb") what="a VIP: the HLB rewrote the source of a direct flow's answer" ;;
		esac
		echo "the answer left the HLB from $src instead of $tg ($what); $fw dropped it"
		return
	fi
	if [ -z "$(sc_seen $outer "$f and dst port $cport")" ] && [[ " $SC_SEGMENTS " == *" $outer "* ]]; then
		echo "the answer left the HLB from $src and $fw dropped it (its 'dropped' counter is $(sc_counter $fw dropped))"
		return
	fi
	echo "the answer from $src reached the client's segment, but not the client in time"
}

# ---------------------------------------------------------------- main

# sc_main CHECK...: runs each check function; one line per check:
#   ok    check_name
#   FAIL  check_name        (the check printed its one-line reason above)
#   skip  check_name: reason
# Writes SC_OUT/result (pass, fail or skip), SC_OUT/flows ("FLOW ID FROM
# DEST/PROTO VERDICT ANSWERED-BY"), and exits 0, 1 or 77.
sc_main() {
	local f rc verdict ok=0 fail=0 skip=0 fl t0 ms
	for f in "$@"; do
		SC_CHECK=$f SC_CHECK_FAILED=0 SC_SKIP_REASON='' SC_PENDING=()
		t0=$(sc_now_ms)
		"$f"
		rc=$?
		ms=$(($(sc_now_ms) - t0))
		if [ $rc -eq 77 ]; then
			verdict=skip
		elif [ $rc -ne 0 ] || [ $SC_CHECK_FAILED -ne 0 ]; then
			[ $SC_CHECK_FAILED -eq 0 ] && sc_fail "$f failed (no reason given)"
			verdict=fail
		else
			verdict=pass
		fi
		case $verdict in
		pass) ok=$((ok + 1)); printf '  ok    %-34s %6d ms\n' "$f" "$ms" ;;
		fail) fail=$((fail + 1)); printf '  FAIL  %-34s %6d ms\n' "$f" "$ms" ;;
		skip) skip=$((skip + 1)); printf '  skip  %s: %s\n' "$f" "$SC_SKIP_REASON"
			echo "$f: $SC_SKIP_REASON" >>"$SC_OUT/skips" ;;
		esac
		for fl in "${SC_PENDING[@]}"; do
			read -r fl_from fl_dest fl_by <<<"$fl"
			echo "FLOW $SC_ID $fl_from $fl_dest $verdict $fl_by" >>"$SC_OUT/flows"
		done
	done
	echo "# $SC_ID: $ok passed, $fail failed, $skip skipped"
	if [ $fail -gt 0 ]; then
		echo fail >"$SC_OUT/result"
		exit 1
	elif [ $ok -eq 0 ]; then
		echo skip >"$SC_OUT/result"
		exit 77
	fi
	echo pass >"$SC_OUT/result"
	exit 0
}
