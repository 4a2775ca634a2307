#!/usr/bin/env bash
# avedge_msturn.sh: the A/V Edge's own dialect, [MS-TURN] (R19, issue 12),
# against a client nobody here wrote: libnice in OC2007R2 mode (the client
# pidgin-sipe uses against real Lync Edges), through tests/tools/nice_turn.c
# (built when libnice-dev is installed; tests/setup.sh installs it). Two ICE
# agents pass data both ways through avedge over UDP:
#   - an MS-TURN relay to a peer's host address (Allocate with the digest
#     challenge, Send requests, Set Active Destination, raw datagrams);
#   - two MS-TURN relays, one per agent;
#   - an MS-TURN relay and an IETF TURN relay (RFC 8656) relaying to each
#     other;
#   - with TURN REST credentials (--auth-secret), as IETF TURN has them;
#   - a wrong password gets no allocation;
#   - over TCP and over pseudo-TLS on 443, two MS-TURN relays: TCP
#     allocations ([MS-TURN] 3.2.5.1), libnice's TCP-ACT/TCP-PASS relayed
#     candidates, a TCP connection between the relayed addresses.
# Then edgeprobe's own MS-TURN client: UDP, MS-Version 6 with SHA-256
# integrity and an IPv6 relay; MS-Version 4, 5 and 6 over UDP and TCP and
# what multiplexing each brings (a session id in the answer, data in
# 0xFF10 packets, wrong ids dropped and counted in /metrics); TCP with
# the 2.1.4 framing, the pseudo-TLS
# exchange on a TLS listener (443's) and on a plain TCP one, each with data
# through an echo peer (a Send request back as a Data Indication, then raw
# data both ways after Set Active Destination; over TCP a TCP allocation,
# its peer a TCP echo, the payloads RFC 4571 frames); IETF TURN
# on the same listeners still works; edgeprobe load --ms-turn relays raw
# datagrams through 5 allocations at a low rate with zero loss.
#
# Everything runs in a private network namespace on its loopback,
# 127.0.0.x (and ::1): nothing clashes with the host's ports, nothing
# leaves. Missing pieces are failures, never skips.
#   127.0.0.1  avedge's listeners and relayed addresses
#   127.0.0.2  agent A (the MS-TURN client)
#   127.0.0.3  agent B (the peer)
#   127.0.0.4  B's IETF TURN client (--ietf-peer)
#   127.0.0.5  edgeprobe echo (UDP and TCP), the peer of edgeprobe's MS-TURN client
. "$(dirname "$0")/../lib/lib.sh"

BUILD=${BUILD:-$EDGELAB_ROOT/build}
NICE=${NICE_TURN:-$BUILD/tests/nice_turn}
for tool in ip openssl timeout valgrind; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (Debian: iproute2, openssl, coreutils, valgrind)"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root for a network namespace"; exit 1; }
[ -x "$BIN/avedge" ] && [ -x "$BIN/edgeprobe" ] || { echo "FAIL: no $BIN/avedge or edgeprobe (build first)"; exit 1; }
[ -x "$NICE" ] || { echo "FAIL: no $NICE: libnice-dev missing when CMake ran (tests/setup.sh installs it)"; exit 1; }

NS=elms$$
WORK=$(mktemp -d /tmp/avedge_msturn.XXXXXX)
N=${MSTURN_MSGS:-50} # messages each way per run

cleanup() {
	local p
	stop_pids "${T_PIDS[@]}"
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	if [ "$T_FAIL" -ne 0 ] && [ -z "${KEEP_LOGS:-}" ]; then
		echo "  logs: avedge stderr and every client run were in $WORK (set KEEP_LOGS=1 to keep)"
		tail -20 "$WORK/avedge.log" 2>/dev/null | sed 's/^/    /'
	fi
	[ -n "${KEEP_LOGS:-}" ] && echo "  logs kept in $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 143" TERM
trap "exit 130" INT

nsx() { ip netns exec "$NS" "$@"; }
not() { ! "$@"; }

ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
nsx ip link set lo up

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=edge.lab \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 ||
	{ echo "FAIL: openssl could not make a certificate"; exit 1; }

# Peers on loopback are refused by default (R15): the test allows them.
spawn ip netns exec "$NS" "$BIN/avedge" \
	--listen 127.0.0.1:3478/udp --listen 127.0.0.1:3478/tcp --listen 127.0.0.1:443/tls \
	--cert "$WORK/cert.pem" --key "$WORK/key.pem" \
	--relay-ip 127.0.0.1 --relay-ip ::1 --allow-peer 127.0.0.0/8 \
	--user alice:secret --auth-secret s3cret --realm edge.lab --grace 2 \
	--metrics 127.0.0.1:9100 --log-level info 2>"$WORK/avedge.log"
AVEDGE_PID=${T_PIDS[-1]}
spawn ip netns exec "$NS" "$BIN/edgeprobe" echo 127.0.0.5:7000 --seconds 300 >"$WORK/echo.log" 2>&1
# The TCP allocations' peer (an Allocate over TCP gets a TCP relayed
# address), on a port of its own with nothing on UDP: an echo from it
# proves the data crossed a TCP relayed connection.
spawn ip netns exec "$NS" "$BIN/edgeprobe" echo --tcp 127.0.0.5:7001 --seconds 300 >"$WORK/echotcp.log" 2>&1
listening() { local o; o=$(nsx ss -Hlun); grep -qF "$1" <<<"$o"; }
listening_tcp() { local o; o=$(nsx ss -Hltn); grep -qF "$1" <<<"$o"; }
slowwait 10 listening 127.0.0.1:3478 || { echo "FAIL: avedge did not start"; cat "$WORK/avedge.log"; exit 1; }
slowwait 10 listening 127.0.0.5:7000 || { echo "FAIL: edgeprobe echo did not start"; exit 1; }
slowwait 10 listening_tcp 127.0.0.5:7001 || { echo "FAIL: edgeprobe echo --tcp did not start"; exit 1; }
sleep 0.2

# nice NAME ARGS...: one nice_turn run, its output in $WORK/NAME.log; RC set.
nice_run() {
	local name=$1
	shift
	nsx timeout -k 2 40 "$NICE" --server 127.0.0.1:3478 --count "$N" --timeout 25 "$@" \
		>"$WORK/$name.log" 2>&1
	RC=$?
	grep -E '^(A candidate|B candidate|B.s IETF|A selected|A received|IETF allocation|ok:|FAIL)' \
		"$WORK/$name.log" | sed 's/^/    /'
}
all_through() { grep -q "^A received $N/$N pings and $N/$N pongs; B received $N/$N pings and $N/$N pongs" "$WORK/$1.log"; }
relayed_local() { grep -qE '^A selected pair: local relay 127\.0\.0\.1:(5[0-9]{4})' "$WORK/$1.log"; }

echo "libnice (OC2007R2) through MS-TURN over UDP:"
nice_run host --user alice --pass secret
check "to a host peer: nice_turn exits 0" test "$RC" -eq 0
check "to a host peer: $N messages each way, all answered" all_through host
check "to a host peer: A's pair is its relayed candidate, 127.0.0.1:50000-59999 (R11, R12)" relayed_local host

nice_run relays --user alice --pass secret --peer-relay
check "relay to relay: nice_turn exits 0" test "$RC" -eq 0
check "relay to relay: $N messages each way, all answered" all_through relays
check "relay to relay: the remote end is B's MS-TURN relay" \
	grep -qE '^A selected pair: local relay 127\.0\.0\.1:[0-9]+ -> remote relay 127\.0\.0\.1:' "$WORK/relays.log"

nice_run ietf --user alice --pass secret --ietf-peer 127.0.0.4
check "MS-TURN to IETF TURN: nice_turn exits 0" test "$RC" -eq 0
check "MS-TURN to IETF TURN: $N messages each way, all answered" all_through ietf
check "MS-TURN to IETF TURN: datagrams crossed the IETF allocation both ways" \
	grep -qE '^IETF allocation: [1-9][0-9]* datagrams sent to A.s MS-TURN relay, [1-9][0-9]* received' "$WORK/ietf.log"

# TURN REST (R14): EXPIRY:NAME, password base64(HMAC-SHA1(secret, name)).
ruser="$(($(date +%s) + 3600)):carol"
rpass=$(printf '%s' "$ruser" | openssl dgst -sha1 -hmac s3cret -binary | base64)
nice_run rest --user "$ruser" --pass "$rpass"
check "REST credentials: nice_turn exits 0" test "$RC" -eq 0
check "REST credentials: $N messages each way, all answered" all_through rest

nsx timeout -k 2 20 "$NICE" --server 127.0.0.1:3478 --count 2 --timeout 4 --user alice --pass wrong \
	>"$WORK/wrong.log" 2>&1
RC=$?
check "a wrong password: no allocation, nice_turn fails" test "$RC" -ne 0
check "a wrong password: avedge made no allocation for it" \
	test "$(grep -c 'MS-TURN allocation for alice' "$WORK/avedge.log")" -eq 4

echo "libnice (OC2007R2) through MS-TURN over TCP and pseudo-TLS on 443 (TCP allocations):"
# Over TCP libnice relays ICE-TCP: its relayed candidates are TCP-ACT and
# TCP-PASS ([MS-TURN] 3.2.5.1: an Allocate received over TCP gets a TCP
# allocated transport address). Both sides relay, so the checks and the
# data cross a TCP connection that avedge opens from A's relayed address to
# B's (and every frame comes back whole: RFC 4571 inside the Sends).
tcp_pair() { grep -qE '^A selected pair: local relay 127\.0\.0\.1:5[0-9]{4} tcp-(act|pass) -> remote relay 127\.0\.0\.1:5[0-9]{4} tcp-(act|pass)$' "$WORK/$1.log"; }
for how in "tcp 3478 tcp" "tls 443 pseudo-TLS"; do
	set -- $how
	nsx timeout -k 2 40 "$NICE" --server "127.0.0.1:$2" --count "$N" --timeout 25 --user alice \
		--pass secret --relay-type "$1" --peer-relay >"$WORK/nice_$1.log" 2>&1
	RC=$?
	grep -E '^(A candidate|B candidate|A selected|A received|ok:|FAIL)' "$WORK/nice_$1.log" | sed 's/^/    /'
	check "over $3 (:$2): nice_turn exits 0" test "$RC" -eq 0
	check "over $3 (:$2): $N messages each way, all answered" all_through "nice_$1"
	check "over $3 (:$2): the pair is TCP relay to TCP relay (TCP-ACT/TCP-PASS, 50000-59999)" tcp_pair "nice_$1"
done
check "over TCP: avedge made four TCP allocations (two per run)" \
	test "$(grep -c 'MS-TURN allocation for alice from .*: TCP port' "$WORK/avedge.log")" -eq 4

echo "edgeprobe's MS-TURN client:"
# probe NAME ARGS...: one edgeprobe run; its report in $WORK/NAME.log.
probe() {
	local name=$1
	shift
	nsx timeout -k 2 20 "$BIN/edgeprobe" allocate "$@" >"$WORK/$name.log" 2>&1
	RC=$?
	sed 's/^/    /' "$WORK/$name.log" | grep -vE '^    +(local|username|realm|rtt_ms) '
}
field() { awk -v k="$2" '$1 == k { print $2 }' "$WORK/$1.log"; }
ms_ok() { # NAME: allocated, signed answer, relayed in range, released
	test "$RC" -eq 0 && test "$(field "$1" integrity)" = ok &&
		grep -qE '^ +relayed +127\.0\.0\.1:5[0-9]{4}$' "$WORK/$1.log" &&
		test "$(field "$1" delete)" = ok
}
echoed() { test "$(field "$1" send_echo)" = ok && test "$(field "$1" active_echo)" = ok; }
probe udp --ms-turn --user alice --pass secret --echo 127.0.0.5:7000 127.0.0.1:3478
check "UDP: allocated, answer signed, relayed 127.0.0.1:5xxxx, released" ms_ok udp
check "UDP: XOR Mapped Address (0x8020) is the client's own address" \
	grep -qE '^ +xor_mapped +127\.0\.0\.1:[0-9]+$' "$WORK/udp.log"
check "UDP: MS-Sequence Number in the answer" test "$(field udp sequence_number)" = present
check "UDP: Send request echoed back in a Data Indication; raw both ways after Set Active Destination" echoed udp
probe v6 --ms-turn=6 --sha256 --family 6 --user alice --pass secret 127.0.0.1:3478
check "MS-Version 6 with HMAC-SHA256 and IPv6 asked: allocated, answer signed" ms_ok v6
check "MS-Version 6: the answer speaks version 6" test "$(field v6 ms_version)" = 6
check "MS-Version 6: the IPv6 relay in MS-Alternate Mapped Address" \
	grep -qE '^ +relayed2 +\[::1\]:5[0-9]{4}$' "$WORK/v6.log"

# MS-Version 5 and 6: multiplexed sessions ([MS-TURN] 2.2.2.17, 2.2.3,
# 3.2.4.6). The answer names a random 8-byte session (0x8095) when the
# version multiplexes over the transport (5: UDP, 6: UDP and TCP); the
# client's active-destination data goes in 0xFF10 packets naming it; a
# packet naming another id goes nowhere and is counted.
# GET /metrics with bash's /dev/tcp (no curl needed); one metric's value.
metric() { # NAME{labels} [PORT]
	nsx timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
		printf "GET /metrics HTTP/1.0\r\nHost: avedge\r\n\r\n" >&3
		cat <&3' "${2:-9100}" | tr -d '\r' | awk -v k="$1" '$1 == k { print $2; exit }'
}
MUXDROP='avedge_drops_total{reason="mux_unknown_session"}'
mux_before=$(metric "$MUXDROP")
check "/metrics has the mux_unknown_session drop counter" test -n "$mux_before"
mux_ok() { # NAME SENT_AS: a session id, data through the echo sent so, wrong ids not echoed
	grep -qE '^ +mux_session +[0-9a-f]{16}$' "$WORK/$1.log" && echoed "$1" &&
		test "$(field "$1" active_sent_as)" = "$2" &&
		test "$(field "$1" mux_wrong_sent)" = 3 -a "$(field "$1" mux_wrong_echoed)" = 0
}
probe v4 --ms-turn=4 --user alice --pass secret 127.0.0.1:3478
check "MS-Version 4: no Multiplexed TURN Session ID" test "$(field v4 mux_session)" = absent
probe mux5 --ms-turn=5 --user alice --pass secret --echo 127.0.0.5:7000 127.0.0.1:3478
check "MS-Version 5 over UDP: allocated, answer signed, released" ms_ok mux5
check "MS-Version 5 over UDP: the answer speaks version 5" test "$(field mux5 ms_version)" = 5
check "MS-Version 5 over UDP: a session id; data in 0xFF10 packets to the peer and back; a wrong id goes nowhere" \
	mux_ok mux5 multiplexed
probe mux5b --ms-turn=5 --user alice --pass secret 127.0.0.1:3478
check "MS-Version 5: another allocation, another session id" \
	test -n "$(field mux5b mux_session)" -a "$(field mux5b mux_session)" != "$(field mux5 mux_session)"
probe mux5tcp --ms-turn=5 --tcp --user alice --pass secret --echo 127.0.0.5:7001 127.0.0.1:3478
check "MS-Version 5 over TCP: no session id (5 multiplexes UDP only), data framed bare" \
	test "$RC" -eq 0 -a "$(field mux5tcp mux_session)" = absent -a "$(field mux5tcp active_sent_as)" = bare
probe mux6tcp --ms-turn=6 --tcp --user alice --pass secret --echo 127.0.0.5:7001 127.0.0.1:3478
check "MS-Version 6 over TCP: allocated, answer signed, released" ms_ok mux6tcp
check "MS-Version 6 over TCP: a session id; 0xFF10 packets in data frames to the peer and back; a wrong id goes nowhere" \
	mux_ok mux6tcp multiplexed
probe mux6 --ms-turn=6 --user alice --pass secret --echo 127.0.0.5:7000 127.0.0.1:3478
check "MS-Version 6 over UDP: multiplexed as with 5" mux_ok mux6 multiplexed
probe muxkeep --ms-turn=5 --keep --user alice --pass secret 127.0.0.1:3478
check "a kept MS-Version 5 allocation: the one multiplexed session in /metrics (avedge_ms_mux_sessions)" \
	test "$RC" -eq 0 -a "$(metric avedge_ms_mux_sessions)" = 1
mux_after=$(metric "$MUXDROP")
check_eq "the 9 packets naming wrong session ids: dropped and counted (mux_unknown_session)" \
	9 "$(( ${mux_after:-0} - ${mux_before:-0} ))"

probe tcp --ms-turn --tcp --user alice --pass secret --echo 127.0.0.5:7001 127.0.0.1:3478
check "TCP with the 2.1.4 framing: allocated, answer signed, released" ms_ok tcp
check "TCP: Send/Data Indication as control frames, raw data as data frames, both ways" echoed tcp
check "TCP: a TCP allocation (its peer the TCP-only echo answered; avedge's log agrees)" \
	grep -q "MS-TURN allocation for alice from $(field tcp xor_mapped): TCP port" "$WORK/avedge.log"
probe ptls443 --ms-turn --pseudo-tls --user alice --pass secret --echo 127.0.0.5:7001 127.0.0.1:443
check "pseudo-TLS on the TLS listener (443): the fixed ServerHello" test "$(field ptls443 pseudo_tls)" = ok
check "pseudo-TLS on 443: allocated, answer signed, released" ms_ok ptls443
check "pseudo-TLS on 443: data both ways, framed" echoed ptls443
check "pseudo-TLS on 443: a TCP allocation" \
	grep -q "MS-TURN allocation for alice from $(field ptls443 xor_mapped): TCP port" "$WORK/avedge.log"
probe ptlstcp --ms-turn --pseudo-tls --user alice --pass secret 127.0.0.1:3478
check "pseudo-TLS on a plain TCP listener: allocated, answer signed, released" ms_ok ptlstcp
probe rest --ms-turn --secret s3cret --user dave 127.0.0.1:3478
check "REST credentials: allocated" ms_ok rest
probe wrong --ms-turn --user alice --pass wrong 127.0.0.1:3478
check "a wrong password: 401" grep -q 'Allocate: error 401' "$WORK/wrong.log"
probe ietf_tls --tls --user alice --pass secret 127.0.0.1:443
check "IETF TURN over real TLS on the same 443 listener still works" \
	test "$RC" -eq 0 -a "$(field ietf_tls tls)" != ""
probe ietf_udp --user alice --pass secret 127.0.0.1:3478
check "IETF TURN over UDP on the same 3478 listener still works" test "$RC" -eq 0

echo "edgeprobe load --ms-turn (the MS-TURN bench's client), at a low rate:"
# Each allocation sets its active destination to load's own echo peer, then
# sends raw datagrams; every one must come back raw and stamped.
nsx timeout -k 2 30 "$BIN/edgeprobe" load 127.0.0.1:3478 --ms-turn --user alice --pass secret \
	--peer 127.0.0.6:7001 --allocations 5 --rate 200 --seconds 2 >"$WORK/load.log" 2>&1
RC=$?
sed 's/^/    /' "$WORK/load.log" | grep -E '^ +(dialect|sent|received|loss_pct|error|load) '
check "load --ms-turn: exits 0, dialect ms-turn" test "$RC" -eq 0 -a "$(field load dialect)" = ms-turn
check "load --ms-turn: 300+ raw datagrams sent, every one back (zero loss)" \
	test "$(field load sent)" -ge 300 -a "$(field load received)" = "$(field load sent)" \
	-a "$(field load loss_pct)" = 0.000
check "load --ms-turn: no garbled datagram came back" test -z "$(field load garbled)"

echo "valgrind: heap allocations against packets relayed:"
declare -A VG_ALLOCS=()
for n in 20 400; do
	# ip netns exec execs valgrind, so $! is valgrind itself.
	ip netns exec "$NS" valgrind --error-exitcode=3 --leak-check=full \
		--errors-for-leak-kinds=definite "$BIN/avedge" --listen 127.0.0.1:3479/udp \
		--relay-ip 127.0.0.1 --allow-peer 127.0.0.0/8 --user alice:secret --realm edge.lab \
		--threads 1 --grace 1 --metrics 127.0.0.1:9101 --log-level warn 2>"$WORK/vg$n.log" &
	vg=$!
	slowwait 30 listening 127.0.0.1:3479 || { echo "FAIL: avedge under valgrind did not start"; exit 1; }
	nsx timeout -k 2 120 "$NICE" --server 127.0.0.1:3479 --user alice --pass secret --count "$n" \
		--timeout 90 >"$WORK/vgnice$n.log" 2>&1
	RC=$?
	grep -E '^(A received|FAIL)' "$WORK/vgnice$n.log" | sed 's/^/    /'
	check "under valgrind, $n messages each way: all answered" test "$RC" -eq 0
	probe "vgmux$n" --ms-turn=5 --user alice --pass secret --echo 127.0.0.5:7000 127.0.0.1:3479
	check "under valgrind, MS-Version 5: multiplexed packets through the echo, a wrong id dropped" \
		mux_ok "vgmux$n" multiplexed
	# n multiplexed packets naming random session ids, each from its own
	# port (paced: valgrind reads slowly): a lookup and a counter each, no
	# state (the heap count below).
	before=$(metric "$MUXDROP" 9101)
	nsx bash -c 'for ((i = 0; i < $0; i++)); do
		printf "\xff\x10\x00\x0c\x$((RANDOM % 90 + 10))\x$((RANDOM % 90 + 10))\x$((RANDOM % 90 + 10))\x$((RANDOM % 90 + 10))\x00\x00\x00\x00abcd" \
			>/dev/udp/127.0.0.1/3479
		((i % 20 == 19)) && sleep 0.05
	done' "$n"
	mux_counted() { test "$(( $(metric "$MUXDROP" 9101) - before ))" -ge "$1"; }
	slowwait 20 mux_counted "$n"
	check_eq "under valgrind, $n packets naming random session ids: each dropped and counted" \
		"$n" "$(( $(metric "$MUXDROP" 9101) - before ))"
	kill -TERM "$vg"
	wait "$vg"
	check_eq "under valgrind ($n): no memory error or definite leak (exit status)" 0 "$?"
	VG_ALLOCS[$n]=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$WORK/vg$n.log" | tr -d ,)
	slowwait 10 not listening 127.0.0.1:3479
done
echo "    avedge's heap allocations: ${VG_ALLOCS[20]:-?} with 20 messages each way (and 20 random session ids), ${VG_ALLOCS[400]:-?} with 400"
check "allocations do not grow with packets (+$((${VG_ALLOCS[400]:-0} - ${VG_ALLOCS[20]:-0})))" \
	test -n "${VG_ALLOCS[20]}" -a -n "${VG_ALLOCS[400]}" -a \
	"$((${VG_ALLOCS[400]:-99999} - ${VG_ALLOCS[20]:-0}))" -lt 100

# TCP allocations under valgrind: libnice relay to relay over TCP (peer
# connections opened and accepted, frames both ways), then edgeprobe's TCP
# allocation to the TCP echo, and the allocations torn down at exit.
ip netns exec "$NS" valgrind --error-exitcode=3 --leak-check=full \
	--errors-for-leak-kinds=definite "$BIN/avedge" --listen 127.0.0.1:3479/tcp \
	--relay-ip 127.0.0.1 --allow-peer 127.0.0.0/8 --user alice:secret --realm edge.lab \
	--threads 1 --grace 1 --log-level warn 2>"$WORK/vgtcp.log" &
vg=$!
slowwait 30 listening_tcp 127.0.0.1:3479 || { echo "FAIL: avedge under valgrind did not start"; exit 1; }
nsx timeout -k 2 120 "$NICE" --server 127.0.0.1:3479 --user alice --pass secret --count 20 \
	--relay-type tcp --peer-relay --timeout 90 >"$WORK/vgnicetcp.log" 2>&1
RC=$?
grep -E '^(A selected|A received|FAIL)' "$WORK/vgnicetcp.log" | sed 's/^/    /'
check "under valgrind, over TCP relay to relay, 20 messages each way: all answered" test "$RC" -eq 0
probe vgtcp --ms-turn --tcp --user alice --pass secret --echo 127.0.0.5:7001 127.0.0.1:3479
check "under valgrind, edgeprobe's TCP allocation: data both ways through the TCP echo" echoed vgtcp
probe vgmuxtcp --ms-turn=6 --tcp --user alice --pass secret --echo 127.0.0.5:7001 127.0.0.1:3479
check "under valgrind, MS-Version 6 over TCP: multiplexed packets through the TCP echo, a wrong id dropped" \
	mux_ok vgmuxtcp multiplexed
kill -TERM "$vg"
wait "$vg"
check_eq "under valgrind (TCP allocations): no memory error or definite leak (exit status)" 0 "$?"

running() { local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; }
check "avedge never restarted or died" running "$AVEDGE_PID"
kill -TERM "$AVEDGE_PID"
deadline=$((SECONDS + 10))
while running "$AVEDGE_PID" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
check "avedge left on SIGTERM" not running "$AVEDGE_PID"
wait "$AVEDGE_PID" 2>/dev/null
check_eq "avedge exit status" 0 "$?"
check "avedge logged no crash, assertion or sanitizer report" \
	not grep -Eqi 'assert|sanitizer|segv|abort|leak' "$WORK/avedge.log"

lib_exit
