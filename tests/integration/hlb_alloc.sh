#!/usr/bin/env bash
# hlb_alloc.sh: nothing is allocated per packet or per flow (issue 5).
# hlb runs under valgrind twice, once passing N request/answer pairs and
# K connections and once 10 N and 10 K, in three namespaces
# (tests/lib/hlbtopo.sh):
#   cli (198.51.100.10) -- lb (VIP 203.0.113.12) -- srv (203.0.113.23)
# Traffic: UDP request/answer pairs through the dnat VIP (both
# directions of one flow) and short TCP connections through it (a new
# flow each). What passed is what the client saw: every pair answered
# (lbecho rtt: n = N, lost 0) and every connection answered from the VIP
# by the real (lbecho ask), so lost traffic fails the run; hlb's own
# packet counter is only printed. Then valgrind's "total heap usage: X
# allocs" must be the same, within SLACK, for both runs, and memcheck
# must find no errors. Both packet loops are checked: io_uring and
# read/write (HLB_NO_URING=1), each seen in use: an io_uring instance is
# an anon_inode:[io_uring] descriptor in hlb's process (and ctl stats
# says which loop runs). Where the kernel refuses io_uring
# (kernel.io_uring_disabled), the first loop must be read/write, and says so.
# Exit 0 pass, 77 skip, other fail.
set -uo pipefail

. "$(dirname "$0")/../lib/hlbtopo.sh"
N=${N:-300}      # request/answer pairs in the small run
K=${K:-5}        # TCP connections in the small run
SLACK=${SLACK:-8} # allocations the two runs may differ by
topo_init hlb_alloc hlb lbecho
need_cmd valgrind

setup() {
	topo_up 23 || return 1
	in_ns $SRV "$BIN/lbecho" serve udp 203.0.113.23 3478 edge1 >/dev/null 2>&1 & disown
	in_ns $SRV "$BIN/lbecho" serve tcp 203.0.113.23 443 edge1 >/dev/null 2>&1 & disown
	cat >"$T_TMP/hlb.conf" <<CONF
socket $SOCK
tun hlba0
conntrack-size 4096
service av-udp 203.0.113.12:3478/udp
	mode dnat
	real edge1 203.0.113.23
service av-tcp 203.0.113.12:443/tcp
	mode dnat
	real edge1 203.0.113.23
CONF
}

# answered_tcp: one connection to the VIP, answered from the VIP by the
# real, which saw the client's own address.
answered_tcp() {
	local out
	out=$(in_ns $CLI "$BIN/lbecho" ask tcp 203.0.113.12 443 3000) &&
		[[ $out == "from 203.0.113.12 443: edge1 seen 198.51.100.10 "* ]] ||
		{ echo "      tcp: ${out:-no answer}"; return 1; }
}

# run NAME PAIRS CONNS [env...]: hlb under valgrind passes PAIRS
# request/answer pairs and CONNS TCP connections; false unless the
# client saw every one answered. Sets ALLOCS and ERRS (valgrind's).
run() {
	local name=$1 pairs=$2 conns=$3 rtt n lost ok=0 pkts io rings
	shift 3
	ALLOCS= ERRS= IO=
	# ip execs env, env execs valgrind: SPAWNED is valgrind itself.
	spawn ip netns exec $LB env "$@" valgrind --tool=memcheck --leak-check=full \
		"$BIN/hlb" --config "$T_TMP/hlb.conf" >"$T_TMP/$name.vg" 2>&1
	slowwait 20 ctl list || { echo "      hlb did not start"; cat "$T_TMP/$name.vg"; return 1; }
	rtt=$(in_ns $CLI "$BIN/lbecho" rtt udp 203.0.113.12 3478 "$pairs")
	read -r _ _ n _ lost _ <<<"$rtt" # "rtt n N lost L p50 ..."
	for _ in $(seq "$conns"); do answered_tcp && ok=$((ok + 1)); done
	pkts=$(ctl stats | awk '/^engine/{ print $3 }')
	io=$(ctl stats | awk '/^engine/{ for (i = 1; i < NF; i++) if ($i == "io") print $(i + 1) }')
	# valgrind runs hlb in its own process: the descriptors are hlb's.
	rings=$(find "/proc/$SPAWNED/fd" -lname 'anon_inode:\[io_uring\]' 2>/dev/null | wc -l)
	IO="$io, $rings io_uring descriptor(s)"
	kill "$SPAWNED" # then memcheck writes its report: bounded, generously
	slowwait 60 not_running "$SPAWNED" || kill -9 "$SPAWNED"
	reap "$SPAWNED"
	ALLOCS=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$T_TMP/$name.vg" | tr -d ,)
	ERRS=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$T_TMP/$name.vg" | tr -d ,)
	printf '    %-9s client: %s/%s pairs answered (%s lost), %s/%s connections; hlb counted %s packets; %s allocs (%s)\n' \
		"$name" "${n:-0}" "$pairs" "${lost:-?}" "$ok" "$conns" "${pkts:-?}" "${ALLOCS:-?}" "$IO"
	[ -n "$ALLOCS" ] && [ -n "$ERRS" ] || { echo "      no valgrind summary"; cat "$T_TMP/$name.vg"; return 1; }
	[ "${n:-0}" = "$pairs" ] && [ "$lost" = 0 ] && [ "$ok" = "$conns" ]
}

same_allocs() { # A B: at most SLACK apart
	local d=$(($2 - $1))
	echo "    $1 and $2 allocations: ${d#-} apart"
	[ ${d#-} -le "$SLACK" ]
}

# ran_on WANT: the last run's loop was WANT (io_uring or read/write), by
# hlb's descriptors and by its ctl stats.
ran_on() {
	case $1 in
	io_uring) [[ $IO == "io_uring, "[1-9]* ]] ;;
	*) [ "$IO" = "read/write, 0 io_uring descriptor(s)" ] ;;
	esac || { echo "      ran on: ${IO:-nothing read}"; return 1; }
}

loop() { # NAME WANT [env]: both runs through one packet loop, then the verdicts
	local name=$1 want=$2 a1 e1
	shift 2
	if [ "$want" = io_uring ] && [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" != 0 ]; then
		echo "    kernel.io_uring_disabled is set: hlb must fall back to read/write"
		want=read/write
	fi
	check "$name loop: $N pairs, $K connections, every one answered" run "$name-N" "$N" "$K" "$@"
	check "$name loop: the packets went through $want" ran_on "$want"
	a1=$ALLOCS e1=$ERRS
	check "$name loop: $((10 * N)) pairs, $((10 * K)) connections, every one answered" \
		run "$name-10N" "$((10 * N))" "$((10 * K))" "$@"
	check_eq "$name loop: memcheck errors in both runs" "0 0" "${e1:-?} ${ERRS:-?}"
	if [ -n "$a1" ] && [ -n "$ALLOCS" ]; then
		check "$name loop: 10x the traffic, the same allocations (within $SLACK)" same_allocs "$a1" "$ALLOCS"
	else
		check "$name loop: 10x the traffic, the same allocations" false
	fi
}

setup || bail "setup"
loop uring io_uring
loop rw read/write HLB_NO_URING=1
lib_exit
