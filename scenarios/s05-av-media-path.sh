#!/usr/bin/env bash
# S5: Media path: an external and an internal client relay to each other through the real addresses
# seed: "Once established, client to A/V Edge service communication is to the real server, not the HLB"
# seed: "STUN/MSTURN/UDP/3478 Any -> Edge Server Internal VIP interface: Preferred path for A/V media transfer between internal and external users"
# rows: row_extvip_07, row_intvip_04
# segments: inet dmzext edgeext edgeint dmzint lan1
# asserts: the external client allocates through the A/V VIP, the internal client through the internal VIP; each mapped address is the client's own (no SNAT); both relayed addresses are real nodes' public A/V addresses (R13); each permits the other and data flows both ways with no loss; the media between the two relayed addresses is seen on the wire where it belongs (on edgeext between the two edges' own MACs when the relays are on two nodes; inside the node, over its loopback, when both are on one), each way; and none of it crosses an HLB (no packet to or from a relayed address on dmzext or dmzint, nor to or from an HLB's MAC on edgeext or edgeint); the captures must hold the clients' own requests to the VIPs, or they prove nothing
# catches: M4 (VIP as relayed address), M1 (SNAT)
. "$(dirname "$0")/lib.sh"
sc_init S5

A=$(sc_hostport "$VIP_AV" 3478)
B=$(sc_hostport "$VIP_INT" 3478)
REALS="203.0.113.23 203.0.113.33"

# edgeprobe relay runs both clients in one process (run in client's
# namespace); client B opens its socket in inclient's namespace. The edges
# capture the relay ports inside their own namespaces too: two relays on
# one node talk over its loopback, which no segment sees.
RELAY=''
NODE_CAPS=''
run_relay() {
	[ -n "$RELAY" ] && return 0
	NODE_CAPS=1
	sc_capture_node edge1 udp src portrange 50000-59999 and dst portrange 50000-59999 || NODE_CAPS=''
	sc_capture_node edge2 udp src portrange 50000-59999 and dst portrange 50000-59999 || NODE_CAPS=''
	sc_next_port
	in_node client "$BIN/edgeprobe" relay --a "$A" --a-bind "$(sc_addr client):$SC_PORT" \
		--b "$B" --b-bind 10.10.1.50:$SC_PORT --b-netns "$SC_PREFIX-inclient" \
		--user "$LAB_USER" --pass "$LAB_PASSWORD" --count 20 --json \
		--timeout "$((SC_TIMEOUT * 2))" >"$SC_OUT/relay.json" 2>"$SC_OUT/relay.err"
	RELAY_RC=$?
	RELAY=$(cat "$SC_OUT/relay.json")
}

# Why the relay run failed: its own error field, else its last stderr line.
relay_why() {
	local e
	e=$(sc_json error "$RELAY")
	echo "${e:-$(tail -n1 "$SC_OUT/relay.err")}"
}

# setup_failure: when a client could not allocate, one line naming it, its
# address, the VIP it asked and, for a missing answer, where the request
# and the answer went (from the captures). Worked out once.
SETUP_WHY=''
setup_failure() {
	local side node target why
	side=$(sc_json failed "$RELAY")
	[ -n "$side" ] || return 1
	if [ -z "$SETUP_WHY" ]; then
		if [ "$side" = a ]; then node=client target=$A; else node=inclient target=$B; fi
		why=$(relay_why)
		SETUP_WHY="client ${side^^} ($node, $(sc_addr $node):$SC_PORT) got no allocation through VIP $target (${why#client ?: })"
		[[ $why == *"no answer"* ]] &&
			SETUP_WHY+=": $(sc_why_no_answer udp "$(sc_addr $node):$SC_PORT" "$target")"
	fi
	sc_fail "$SETUP_WHY"
}

check_relayed_addresses() {
	local side r
	run_relay
	sc_flow client "$A" udp
	sc_flow inclient "$B" udp
	setup_failure && return 1
	for side in a b; do
		r=$(sc_json ${side}_relayed "$RELAY")
		[ -n "$r" ] || { sc_fail "client ${side^^} got no relayed address ($(relay_why))"; return 1; }
		sc_assert_in "$(sc_host "$r")" "$REALS" \
			"client ${side^^}'s relayed address is $r, expected a real node's own public A/V address ($REALS)$(sc_relayed_why "$r")" || return 1
	done
}

# ICE hands each side's mapped address to the other, so it must be the
# client's own: each request kept its source through the HLB (no SNAT).
check_mapped_addresses() {
	local side node m want
	run_relay
	setup_failure && return 1
	for side in a b; do
		node=client
		[ $side = b ] && node=inclient
		m=$(sc_json ${side}_mapped "$RELAY")
		want=$(sc_addr $node):$SC_PORT
		[ -n "$m" ] || { sc_fail "client ${side^^} got no mapped address ($(relay_why))"; return 1; }
		sc_assert_eq "$m" "$want" \
			"client ${side^^}'s XOR-MAPPED-ADDRESS is $m, expected its own $want: $(sc_mapped_why "$m" "$want")" || return 1
	done
}

check_media_both_ways() {
	local dir sent got ra rb
	run_relay
	setup_failure && return 1
	ra=$(sc_json a_relayed "$RELAY")
	rb=$(sc_json b_relayed "$RELAY")
	sc_flow "$(sc_node_of "$(sc_host "$ra")")" "$rb" udp "$(sc_node_of "$(sc_host "$rb")")"
	for dir in a_to_b b_to_a; do
		sent=$(sc_json ${dir}_sent "$RELAY")
		got=$(sc_json ${dir}_received "$RELAY")
		sc_assert_eq "${got:-0}" "${sent:-?}" \
			"media ${dir//_/ } through relays $ra and $rb: ${got:-0} of ${sent:-?} messages arrived ($(relay_why))" || return 1
	done
	# Counts can agree on a run that failed otherwise (an answer from an
	# address other than the relayed one): the client's verdict counts too.
	[ "$RELAY_RC" = 0 ] ||
		{ sc_fail "media through relays $ra and $rb: the relay run failed (exit $RELAY_RC): $(relay_why)"; return 1; }
}

# seen_any FILTER SEGMENT...: a packet of one of the segments' captures matches.
seen_any() {
	local f=$1 seg
	shift
	for seg; do
		[ -n "$(sc_seen "$seg" "$f" | head -n 1)" ] && return 0
	done
	return 1
}

# media_seen NODE-A NODE-B FILTER: packets of the media between relays on
# NODE-A and NODE-B: inside the node when they are one, else on edgeext
# between the two edges' own MACs.
media_seen() {
	if [ "$1" = "$2" ]; then
		sc_pcap_count "$SC_OUT/pcap/$1.pcap" "$3"
	else
		sc_seen edgeext "$3" | awk '($3 == "edge1" || $3 == "edge2") && ($4 == "edge1" || $4 == "edge2")' | wc -l
	fi
}

# arrived_direct SRC-NODE DST-NODE FILTER: how many frames matching FILTER
# DST-NODE's own capture took in straight from SRC-NODE's MAC (a balancer
# between them would be the sender on the wire). The segment's capture
# is the first witness; this one, from the receiving end, stands in when
# the bridge's capture lost frames (seen once on a busy machine: both
# nodes' captures held all 40 of a run, the bridge's 18).
arrived_direct() {
	local f=$SC_OUT/pcap/$2.pcap mac n=0
	[ -s "$f" ] || { echo 0; return; }
	sc_macs_load
	while read -r mac; do
		[ "${SC_MACS[$mac]:-}" = "$1" ] && n=$((n + 1))
	done < <(tcpdump -r "$f" -n -e "$3" 2>/dev/null | awk -v hex='^[0-9a-f][0-9a-f]$' '{
		got = 0
		for (i = 1; i <= NF; i++)
			if ($i == "In") got = 1
			else if (got && split($i, b, ":") == 6 && b[1] ~ hex && b[6] ~ hex) { print $i; break } }')
	echo $n
}

# The media between the relays, judged on the captures: it was seen where
# it belongs, both ways, and nowhere near an HLB. A capture that missed
# even the clients' requests to the VIPs, or a relay run that failed,
# proves nothing and fails.
check_media_not_through_hlb() {
	local ra rb ha hb pa pb na nb seg hlb line key src dst sn dn n where
	run_relay
	[ ${#SC_CAPS[@]} -gt 0 ] && [ -n "$NODE_CAPS" ] || { sc_skip "no packet capture (SC_CAPTURE=0 or no tcpdump): nothing to judge on"; return; }
	setup_failure && return 1
	ra=$(sc_json a_relayed "$RELAY")
	rb=$(sc_json b_relayed "$RELAY")
	[ -n "$ra" ] && [ -n "$rb" ] ||
		{ sc_fail "no media to look for: the relay run gave no relayed addresses ($(relay_why))"; return 1; }
	sc_capture_settle
	# The captures ran: each client's requests to its VIP are in them (on
	# the client's own segment, or on edgeext for a client placed there).
	seen_any "udp and dst host $VIP_AV and dst port 3478" inet edgeext ||
		{ sc_fail "the captures of inet and edgeext hold none of client A's requests to VIP $A: no evidence of where the media went"; return 1; }
	seen_any "udp and dst host $VIP_INT and dst port 3478" lan1 dmzint ||
		{ sc_fail "the captures of lan1 and dmzint hold none of client B's requests to VIP $B: no evidence of where the media went"; return 1; }
	ha=$(sc_host "$ra") pa=$(sc_port_of "$ra") hb=$(sc_host "$rb") pb=$(sc_port_of "$rb")
	na=$(sc_node_of "$ha") nb=$(sc_node_of "$hb")
	# 1. Seen where it belongs, each way.
	for dir in "a_to_b $ha $pa $hb $pb" "b_to_a $hb $pb $ha $pa"; do
		read -r key src sn dst dn <<<"$dir"
		if [ "$na" = "$nb" ]; then where="inside $na (loopback)"; else where="on edgeext between $na and $nb"; fi
		# A busy machine's capture can lag the relay: look again, 3 s at most.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			n=$(media_seen "$na" "$nb" "udp and src host $src and src port $sn and dst host $dst and dst port $dn")
			[ "$n" -gt 0 ] && break
			sleep 0.3
		done
		if [ "$n" -eq 0 ] && [ "$na" != "$nb" ]; then
			n=$(arrived_direct "$(sc_node_of "$src")" "$(sc_node_of "$dst")" \
				"udp and src host $src and src port $sn and dst host $dst and dst port $dn")
			[ "$n" -gt 0 ] && sc_remark "media from relay $src:$sn to relay $dst:$dn: the capture of edgeext missed it; $(sc_node_of "$dst")'s own capture took in $n frames straight from $(sc_node_of "$src")'s MAC"
		fi
		[ "$n" -gt 0 ] || {
			sc_fail "media from relay $src:$sn to relay $dst:$dn: none of it seen $where, where it belongs ($(sc_json ${key}_received "$RELAY") messages arrived): it went another way"
			return 1
		}
	done
	# 2. Nowhere near an HLB.
	for seg in dmzext dmzint; do
		line=$(sc_seen $seg "udp and ((host $ha and port $pa) or (host $hb and port $pb))" | head -n 1)
		[ -z "$line" ] && continue
		read -r src dst sn dn <<<"$line"
		sc_fail "media between relays $ra and $rb went through the HLB: $src -> $dst on $seg (from $sn to $dn)"
		return 1
	done
	for seg in edgeext:hlbext edgeint:hlbint; do
		hlb=${seg#*:} seg=${seg%:*}
		line=$(sc_seen $seg "udp and ((host $ha and port $pa) or (host $hb and port $pb))" |
			awk -v h="$hlb" '$3 == h || $4 == h' | head -n 1)
		[ -z "$line" ] && continue
		read -r src dst sn dn <<<"$line"
		sc_fail "media between relays $ra and $rb went through the HLB: $src -> $dst from $sn to $dn on $seg"
		return 1
	done
}

sc_main check_relayed_addresses check_mapped_addresses check_media_both_ways check_media_not_through_hlb
