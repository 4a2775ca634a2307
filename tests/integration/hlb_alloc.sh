#!/usr/bin/env bash
# hlb_alloc.sh: nothing is allocated per packet or per flow (issue 5).
# hlb runs under valgrind twice, once passing N packets and once 10 N
# (and ten times the flows), in three namespaces (tests/lib/hlbtopo.sh):
#   cli (198.51.100.10) -- lb (VIP 203.0.113.12) -- srv (203.0.113.23)
# Traffic: UDP request/answer pairs through the dnat VIP (both
# directions of one flow) and short TCP connections through it (a new
# flow each). valgrind's "total heap usage: X allocs" must be the same,
# within a few, for both runs; and memcheck must find no errors. Both
# packet loops are checked: io_uring and read/write (HLB_NO_URING=1).
# Exit 0 pass, 77 skip, other fail.
set -uo pipefail

. "$(dirname "$0")/../lib/hlbtopo.sh"
N=${N:-300}      # request/answer pairs in the small run
K=${K:-5}        # TCP connections in the small run
SLACK=${SLACK:-8} # allocations the two runs may differ by
topo_need hlb lbecho
command -v valgrind >/dev/null || { echo "skip: no valgrind"; exit 77; }
topo_init hlba

setup() {
	topo_up 23 || return 1
	in_ns $SRV "$BIN/lbecho" serve udp 203.0.113.23 3478 edge1 >/dev/null 2>&1 & disown
	in_ns $SRV "$BIN/lbecho" serve tcp 203.0.113.23 443 edge1 >/dev/null 2>&1 & disown
	cat >"$TMP/hlb.conf" <<CONF
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

# run NAME PAIRS CONNS [env...]: hlb under valgrind passes PAIRS
# request/answer pairs and CONNS TCP connections; sets ALLOCS, PKTS, ERRS.
run() {
	local name=$1 pairs=$2 conns=$3 vg
	shift 3
	ALLOCS= PKTS= ERRS=
	# Not through in_ns: $! must be valgrind itself (ip execs it).
	ip netns exec $LB env "$@" valgrind --tool=memcheck --leak-check=full \
		"$BIN/hlb" --config "$TMP/hlb.conf" >"$TMP/$name.vg" 2>&1 &
	vg=$!
	wait_for 200 ctl list || { echo "    hlb did not start"; cat "$TMP/$name.vg"; return 1; }
	in_ns $CLI "$BIN/lbecho" rtt udp 203.0.113.12 3478 "$pairs" >"$TMP/$name.rtt" ||
		{ echo "    udp: $(cat "$TMP/$name.rtt")"; }
	for _ in $(seq "$conns"); do
		in_ns $CLI "$BIN/lbecho" ask tcp 203.0.113.12 443 3000 >/dev/null ||
			echo "    a tcp connection failed"
	done
	PKTS=$(ctl stats | awk '/^engine/{ print $3 }')
	kill "$vg"
	wait "$vg"
	ALLOCS=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$TMP/$name.vg" | tr -d ,)
	ERRS=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$TMP/$name.vg" | tr -d ,)
	[ -n "$ALLOCS" ] && [ -n "$ERRS" ] || { echo "    no valgrind summary"; cat "$TMP/$name.vg"; return 1; }
	grep -q "(io_uring)" "$TMP/$name.vg" && io=io_uring || io=read/write
	printf '    %-10s %6s packets, %4s flows: %s allocs (%s)\n' "$name" "$PKTS" \
		"$((conns + 1))" "$ALLOCS" "$io"
}

compare() { # io: small and large runs, then the verdict
	local a1 p1 e1
	run "$1-N" "$N" "$K" ${2:+"$2"} || return 1
	a1=$ALLOCS p1=$PKTS e1=$ERRS
	run "$1-10N" "$((10 * N))" "$((10 * K))" ${2:+"$2"} || return 1
	[ "$e1" = 0 ] && [ "$ERRS" = 0 ] || { echo "    memcheck errors: $e1 and $ERRS"; return 1; }
	[ "$PKTS" -ge $((9 * p1)) ] || { echo "    the large run passed only $PKTS packets"; return 1; }
	awk -v a="$a1" -v b="$ALLOCS" -v s="$SLACK" -v n="$((PKTS - p1))" 'BEGIN {
		d = b - a; if (d < 0) d = -d
		printf "    %d more packets, %d allocations apart\n", n, d
		exit !(d <= s) }'
}

main() {
	setup || { echo "FAIL: setup"; exit 1; }
	check "io_uring loop: 10x the packets, the same allocations" compare uring
	check "read/write loop: 10x the packets, the same allocations" compare rw HLB_NO_URING=1
	[ $fails -eq 0 ] || exit 1
}
main
