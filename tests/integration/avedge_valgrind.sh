#!/usr/bin/env bash
# avedge under valgrind: no memory errors, no leaks, and no heap
# allocation per relayed packet. Two runs of coturn's uclient that differ
# only in how many packets they relay (channels, then Send indications);
# the server's allocation counts must not grow with the packet count.
. "$(dirname "$0")/../lib/common.sh"
command -v valgrind >/dev/null || { echo "valgrind missing"; exit 77; }
NS=elvg$$
TMP=$(mktemp -d)
cleanup() {
	cleanup_pids
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# A private namespace: fixed addresses, no clash with anything on the host.
ip netns add "$NS" && ip -n "$NS" link set lo up &&
	for a in 10.99.0.1 10.99.0.2 10.99.0.3; do ip -n "$NS" addr add $a/32 dev lo; done || exit 1
in_ns() { ip netns exec "$NS" "$@"; }

spawn ip netns exec "$NS" turnutils_peer -L 10.99.0.3 -p 3480 # exec: $! is the peer itself
PEER_PID=${T_PIDS[-1]}

# run LABEL UCLIENT-ARGS...: one avedge under valgrind, one uclient run.
# Prints "allocs errors leaked" from valgrind's summary.
run() {
	local label=$1 log=$TMP/$1.vg pid
	shift
	# ip netns exec execs valgrind, so $! is valgrind itself.
	ip netns exec "$NS" valgrind --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite \
		--log-file="$log" "$BIN/avedge" --threads 1 --listen 10.99.0.1:3478/udp \
		--relay-ip 10.99.0.2 --user alice:secret --realm edge.lab --log-level warn &
	pid=$!
	wait_for 30 in_ns "$BIN/edgeprobe" binding 10.99.0.1:3478 --timeout 300 || return 1
	timeout 120 ip netns exec "$NS" turnutils_uclient -u alice -w secret -e 10.99.0.3 -m 2 -l 120 \
		-z 1 "$@" 10.99.0.1 >"$TMP/$label.uc" 2>&1
	kill -INT $pid
	timeout 60 tail --pid=$pid -f /dev/null || kill -9 $pid
	echo "    $label: $(grep -E 'Total lost' "$TMP/$label.uc" | tail -1 | sed 's/^[0-9]*: : //')"
	echo "$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$log" | tr -d ,)" \
		"$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log")" \
		"$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tr -d ,)"
}

for mode in channel send; do
	flag=; [ $mode = send ] && flag=-s
	out=$(run ${mode}100 $flag -n 100)
	sed '$d' <<<"$out"
	read -r a_allocs a_err a_lost <<<"$(tail -1 <<<"$out")"
	out=$(run ${mode}1000 $flag -n 1000)
	sed '$d' <<<"$out"
	read -r b_allocs b_err b_lost <<<"$(tail -1 <<<"$out")"
	echo "    $mode: heap allocations with 100 packets per client: $a_allocs, with 1000: $b_allocs"
	expect_eq "$mode: valgrind errors (100)" 0 "${a_err:-?}"
	expect_eq "$mode: valgrind errors (1000)" 0 "${b_err:-?}"
	expect_eq "$mode: definitely lost bytes" "0" "${b_lost:-0}"
	# 3600 more relayed packets; allow a little noise from timing (nonce
	# refresh, a retransmitted request), never one per packet.
	check "$mode: allocations do not grow with packets (+$((b_allocs - a_allocs)))" \
		test "$((b_allocs - a_allocs))" -lt 100
	check "$mode: zero loss" grep -q 'Total lost packets 0 ' "$TMP/${mode}1000.uc"
done
finish
