#!/usr/bin/env bash
# hlb_flood.sh (stress): issue 11's attack at full size against hlb with
# its default limits and the lab's table size (65536), in three
# namespaces of its own (tests/lib/hlbtopo.sh; never the host's):
#   1. one source sends a UDP datagram from each of its 64512 ports to a
#      VIP port nothing answers, as fast as the sender goes (bounded by
#      RATE): the source is held to source-flows (4096);
#   2. then 64 other sources (spoofed, 198.51.100.100-163) send 2000 each:
#      128000 unanswered flows for a 65536 table, so it is full and new
#      flows must evict unanswered ones;
#   3. throughout, a client that is not flooding (198.51.100.11) gets an
#      answer to a new flow through the VIP, and hlb's control answers;
#   4. afterwards the table empties within the unreplied timeout.
# Exit 0 pass, 1 fail (77 skip: not root, no TUN); one line of figures.
set -uo pipefail

. "$(dirname "$0")/../lib/hlbtopo.sh"
topo_need hlb lbecho
topo_init hlbs
RATE=${RATE:-100000}   # packets per second the sprays aim at
SOURCES=${SOURCES:-64} # spoofed sources in phase 2
PER=${PER:-2000}       # datagrams each

setup() {
	topo_up 23 || return 1
	in_ns $CLI ip addr add 198.51.100.11/24 dev c0
	in_ns $SRV "$BIN/lbecho" serve udp 203.0.113.23 3478 edge1 >/dev/null 2>&1 & disown
	cat >"$TMP/hlb.conf" <<CONF
socket $SOCK
tun hlbs0
service av-udp 203.0.113.12:3478/udp
	mode dnat
	real edge1 203.0.113.23
service silent 203.0.113.12:9999/udp
	mode dnat
	real edge1 203.0.113.23
CONF
	in_ns $LB "$BIN/hlb" --config "$TMP/hlb.conf" 2>>"$TMP/hlb.log" & disown
	wait_for 50 ctl list || { cat "$TMP/hlb.log"; return 1; }
	wait_for 50 in_ns $CLI "$BIN/lbecho" ask udp 203.0.113.12 3478 200 0 198.51.100.11
}

stat_of() { ctl stats | awk -v w="$1" '{ for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }'; }
flows() { ctl stats | awk '/^conntrack/ { print $3 }'; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# A new flow from .11 answered, with its own new source port each time.
other_ok() {
	OTHER_PORT=$((${OTHER_PORT:-40000} + 1))
	in_ns $CLI "$BIN/lbecho" ask udp 203.0.113.12 3478 1000 "$OTHER_PORT" 198.51.100.11 |
		grep -q 'edge1 seen'
}

probe_during() { # PID: while it runs, try the other client once every 0.2 s
	local ok=0 tried=0
	while kill -0 "$1" 2>/dev/null; do
		tried=$((tried + 1))
		other_ok && ok=$((ok + 1))
		sleep 0.2
	done
	echo "$ok/$tried"
}

main() {
	local t0 pid rc=0
	setup || { echo "hlb_flood: FAIL setup"; exit 1; }

	t0=$(now)
	in_ns $CLI "$BIN/lbecho" spray udp 198.51.100.10 203.0.113.12 9999 64512 "$RATE" >"$TMP/p1" &
	pid=$!
	P1_OTHER=$(probe_during $pid)
	wait $pid
	P1_S=$(since "$t0")
	sleep 0.3
	P1_FLOWS=$(flows)
	P1_CAP=$(stat_of source_cap)
	[ "$P1_FLOWS" -le 4200 ] || { echo "  one source holds $P1_FLOWS flows"; rc=1; }
	other_ok || { echo "  other client refused after phase 1"; rc=1; }

	t0=$(now)
	(for i in $(seq 0 $((SOURCES - 1))); do
		in_ns $CLI "$BIN/lbecho" spray udp "198.51.100.$((100 + i))" 203.0.113.12 9999 "$PER" "$RATE" >/dev/null
	done) &
	pid=$!
	P2_OTHER=$(probe_during $pid)
	wait $pid
	P2_S=$(since "$t0")
	P2_FLOWS=$(flows)
	P2_EVICTED=$(stat_of evicted)
	P2_FULL=$(stat_of full)
	other_ok || { echo "  other client refused after phase 2"; rc=1; }
	[ "${P2_OTHER%/*}" -ge 1 ] && [ "${P1_OTHER%/*}" -ge 1 ] || rc=1

	t0=$(now)
	while [ "$(flows)" -ge 50 ]; do
		awk -v s="$(since "$t0")" 'BEGIN { exit !(s >= 20) }' && break
		sleep 0.2
	done
	DRAIN_S=$(since "$t0")
	[ "$(flows)" -lt 50 ] || { echo "  table still holds $(flows) flows"; rc=1; }

	echo "hlb_flood: one source 64512 ports in ${P1_S}s -> flows $P1_FLOWS source_cap $P1_CAP other-client $P1_OTHER;" \
		"$SOURCES sources x $PER in ${P2_S}s -> flows $P2_FLOWS evicted $P2_EVICTED full $P2_FULL other-client $P2_OTHER;" \
		"drained in ${DRAIN_S}s; $([ $rc -eq 0 ] && echo PASS || echo FAIL)"
	exit $rc
}
main
