#!/usr/bin/env bash
# hlb_flood.sh: one client cannot take hlb's flow table from the others
# (issue 11, item 12), in three namespaces of its own (tests/lib/hlbtopo.sh):
#   cli (198.51.100.10 flooder, .11 and .12 other clients) -- lb (VIP
#   203.0.113.12) -- srv (203.0.113.23)
# The limits are hlb's defaults (the config uses no key older hlbs lack,
# so the old behaviour can be shown to fail):
#   1. UDP_N UDP datagrams from .10, each from its own port, to a VIP
#      port nothing answers (one source filling the table): .10 holds at
#      most source-flows (4096), the rest is counted as source_cap, and
#      meanwhile .11 gets answers to new flows;
#   2. a new flow from .11 still gets an answer through the VIP;
#   3. ACK_N bare TCP ACKs from .12, each from its own port: dropped,
#      counted as tcp_no_syn, no flow made; a real connection from .12
#      still works;
#   4. (stress only) SOURCES spoofed sources x PER datagrams: more
#      unanswered flows than the table holds; .11 still gets in, by
#      evicting unanswered ones;
#   5. the flood's flows, never answered, are gone within the unreplied
#      timeout (5 s) and a sweep, not udp-timeout (300 s); then .10 can
#      start flows again.
# Sizes: the integration test uses an 8192-flow table and 12000 packets
# at 20000/s; HLB_FLOOD_STRESS=1 (tests/stress/hlb_flood.sh) the lab's
# 65536 table, all 64512 ports of one source at 100000/s and step 4.
# Exit 0 pass, 77 skip, other fail; the last line gives the figures.
set -uo pipefail

. "$(dirname "$0")/../lib/hlbtopo.sh"
topo_init hlb_flood hlb lbecho
STRESS=${HLB_FLOOD_STRESS:-}
if [ -n "$STRESS" ]; then
	TABLE=65536 UDP_N=64512 RATE=${RATE:-100000} SOURCES=${SOURCES:-64} PER=${PER:-2000}
else
	TABLE=8192 UDP_N=10000 RATE=20000 SOURCES=0 PER=0
fi
ACK_N=2000

setup() {
	topo_up 23 || return 1
	in_ns $CLI ip addr add 198.51.100.11/24 dev c0
	in_ns $CLI ip addr add 198.51.100.12/24 dev c0
	in_ns $SRV "$BIN/lbecho" serve udp 203.0.113.23 3478 edge1 >/dev/null 2>&1 & disown
	in_ns $SRV "$BIN/lbecho" serve tcp 203.0.113.23 443 edge1 >/dev/null 2>&1 & disown
	cat >"$T_TMP/hlb.conf" <<CONF
socket $SOCK
tun hlbf0
conntrack-size $TABLE
service av-udp 203.0.113.12:3478/udp
	mode dnat
	real edge1 203.0.113.23
service silent 203.0.113.12:9999/udp
	mode dnat
	real edge1 203.0.113.23
service av-tcp 203.0.113.12:443/tcp
	mode dnat
	real edge1 203.0.113.23
CONF
	in_ns $LB "$BIN/hlb" --config "$T_TMP/hlb.conf" 2>>"$T_TMP/hlb.log" & disown
	slowwait 5 ctl list || { cat "$T_TMP/hlb.log"; return 1; }
	slowwait 5 ask_from 198.51.100.11 udp 3478
}

stat_of() { # WORD: the number after WORD in `ctl stats` (0 when absent)
	ctl stats | awk -v w="$1" '{ for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }' |
		grep . || echo 0
}
flows() { ctl stats | awk '/^conntrack/ { print $3 }'; }
flows_still() { # the flow count holds still over 0.1 s: hlb took in what was sent
	local a
	a=$(flows)
	sleep 0.1
	[ -n "$a" ] && [ "$a" = "$(flows)" ]
}
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

ask_from() { # ADDR PROTO PORT: a new flow from ADDR answered through the VIP
	local sport
	# A new source port each time, subshells included: a counter file.
	sport=$(($(cat "$T_TMP/sport" 2>/dev/null || echo 40000) + 1))
	echo $sport >"$T_TMP/sport"
	in_ns $CLI "$BIN/lbecho" ask "$2" 203.0.113.12 "$3" 1000 "$sport" "$1" | grep -q 'edge1 seen'
}

during() { # PID: while it runs, a new flow from .11 every 0.2 s; "answered/tried"
	local ok=0 tried=0
	while kill -0 "$1" 2>/dev/null; do
		tried=$((tried + 1))
		ask_from 198.51.100.11 udp 3478 && ok=$((ok + 1))
		sleep 0.2
	done
	echo "$ok/$tried"
}

check_acks() {
	local before after
	before=$(flows)
	in_ns $CLI "$BIN/lbecho" spray tcp 198.51.100.12 203.0.113.12 443 "$ACK_N" 20000 0x10 >/dev/null
	slowwait 3 flows_still
	after=$(flows)
	NOSYN=$(stat_of tcp_no_syn)
	ACK_GROWTH=$((after - before))
	echo "    $ACK_N ACKs: flows $before -> $after, tcp_no_syn $NOSYN"
	[ "$ACK_GROWTH" -lt 10 ] && [ "$NOSYN" -ge $((ACK_N * 9 / 10)) ]
}

check_udp_flood() {
	local t0=$EPOCHREALTIME pid
	in_ns $CLI "$BIN/lbecho" spray udp 198.51.100.10 203.0.113.12 9999 "$UDP_N" "$RATE" >/dev/null &
	pid=$!
	DURING=$(during $pid)
	wait $pid
	FLOOD_S=$(since "$t0")
	slowwait 3 flows_still
	PEAK=$(flows)
	CAPPED=$(stat_of source_cap)
	FULL=$(stat_of full)
	echo "    $UDP_N datagrams from one source in $FLOOD_S s: flows $PEAK, source_cap $CAPPED, full $FULL; .11 answered $DURING"
	[ "$PEAK" -le 4200 ] && [ "$CAPPED" -ge $((UDP_N - 4096 - UDP_N / 10)) ] &&
		[ "${DURING%/*}" -ge 1 ]
}

check_many_sources() { # stress: a table full of unanswered flows
	local t0=$EPOCHREALTIME pid
	(for i in $(seq 0 $((SOURCES - 1))); do
		in_ns $CLI "$BIN/lbecho" spray udp "198.51.100.$((100 + i))" 203.0.113.12 9999 "$PER" "$RATE" >/dev/null
	done) &
	pid=$!
	DURING2=$(during $pid)
	wait $pid
	MANY_S=$(since "$t0")
	MANY_FLOWS=$(flows)
	EVICTED=$(stat_of evicted)
	echo "    $SOURCES sources x $PER in $MANY_S s: flows $MANY_FLOWS, evicted $EVICTED, full $(stat_of full); .11 answered $DURING2"
	[ "${DURING2%/*}" -ge 1 ] && ask_from 198.51.100.11 udp 3478
}

check_gone() { # the flood's flows expire as unanswered ones: 20 s at most
	local t0=$EPOCHREALTIME n
	while :; do
		n=$(flows)
		GONE_S=$(since "$t0")
		[ "$n" -lt 50 ] && break
		awk -v s="$GONE_S" 'BEGIN { exit !(s >= 20) }' && break
		sleep 0.2
	done
	echo "    flows $n after $GONE_S s"
	[ "$n" -lt 50 ]
}

main() {
	setup || { cat "$T_TMP/hlb.log"; bail "setup"; }
	check "udp flood from one source's ports: capped, counted" check_udp_flood
	check "another source's new flow still answered" ask_from 198.51.100.11 udp 3478
	check "tcp ACKs without a flow: dropped, counted, no state" check_acks
	check "tcp connection from that source still works" ask_from 198.51.100.12 tcp 443
	[ -n "$STRESS" ] &&
		check "many spoofed sources: new flows evict unanswered ones" check_many_sources
	check "unanswered flood flows gone within 20 s" check_gone
	check "the flooding source may start flows again" ask_from 198.51.100.10 udp 3478
	echo "hlb_flood${STRESS:+ (stress)}: table $TABLE;" \
		"udp $UDP_N in ${FLOOD_S:-?}s peak ${PEAK:-?} source_cap ${CAPPED:-?} full ${FULL:-?} other ${DURING:-?};" \
		"acks $ACK_N no_syn ${NOSYN:-?} growth ${ACK_GROWTH:-?};" \
		"${STRESS:+$SOURCES sources x $PER evicted ${EVICTED:-?} other ${DURING2:-?}; }flood gone in ${GONE_S:-?}s;" \
		"$(t_failed && echo "FAIL ($T_FAIL)" || echo PASS)"
	lib_exit
}
main
