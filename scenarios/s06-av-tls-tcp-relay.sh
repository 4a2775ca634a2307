#!/usr/bin/env bash
# S6: TURN over TLS 443, through the VIP and direct, and TCP relay allocations (RFC 6062)
# seed: "A/V/STUN,MSTURN/TCP/443 Any -> Edge Server A/V Edge service public VIP address: STUN/TURN negotiation of candidates over TCP/443"
# seed: "A/V/RTP/TCP/50,000-59,999 Edge Server A/V Edge service IP address -> Any: Required for federating with partners"
# rows: row_extvip_08, row_ext_10, row_ext_04
# segments: inet dmzext edgeext
# asserts: TURN over TLS through VIP:443 allocates a relayed address on a real node; the same directly on each node's 443; data through a TLS-carried allocation reaches an outside peer and comes back; a TCP relay allocation (RFC 6062, REQUESTED-TRANSPORT TCP) through VIP:443 connects to an outside TCP peer, and bytes sent on its ConnectionBind data connection come back
# catches: M1 (SNAT on A/V TCP), M4, M5 (the data connection lands on the other node), M8
. "$(dirname "$0")/lib.sh"
sc_init S6

VIP=$(sc_hostport "$VIP_AV" 443)
REALS="203.0.113.23 203.0.113.33"
PEER=$(sc_hostport 198.51.100.20 50010)

# tls_allocate TARGET NODE-EXPECTED|any
tls_allocate() {
	local t=$1 want=$2 r
	sc_flow client "$t" tcp
	sc_turn client allocate "$t" --tls ||
		{ sc_fail "TURN Allocate over TLS to $t failed ($(sc_alloc_why tcp "$t"))"; return 1; }
	r=$(sc_json relayed)
	sc_flow_answered "$(sc_node_of "$(sc_host "$r")")"
	sc_assert_in "$(sc_host "$r")" "$REALS" \
		"relayed address of a TLS Allocate to $t is $r, expected a real node's own A/V address ($REALS)$(sc_relayed_why "$r")" || return 1
	[ "$want" = any ] || sc_assert_eq "$(sc_host "$r")" "$want" \
		"relayed address of a TLS Allocate to $t is $r, expected that node's own $want$(sc_relayed_why "$r")" || return 1
	sc_assert_eq "$(sc_json xor_mapped)" "$SC_SRC" \
		"XOR-MAPPED-ADDRESS over TLS to $t is $(sc_json xor_mapped), expected the client's own $SC_SRC: $(sc_mapped_why "$(sc_json xor_mapped)" "$SC_SRC")"
}

check_tls_through_vip() { tls_allocate "$VIP" any; }
check_tls_direct_edge1() { tls_allocate 203.0.113.23:443 203.0.113.23; }
check_tls_direct_edge2() { tls_allocate 203.0.113.33:443 203.0.113.33; }

# UDP relaying for a client that reaches the relay over TLS.
check_tls_data_to_peer() {
	local r
	sc_bg partner "$SC_OUT/echo.log" "$BIN/edgeprobe" echo "$PEER" --seconds 20
	slowwait 3 sc_listening partner udp 50010 ||
		{ sc_fail "edgeprobe echo did not start in partner"; return 1; }
	sc_flow client "$VIP" tcp
	sc_turn client turn "$VIP" --tls --peer "$PEER" --permit --send s06-ping --expect-echo ||
		{ sc_fail "data over a TLS-carried allocation through $VIP to the echo $PEER did not come back ($(sc_probe_error))"; return 1; }
	r=$(sc_json relayed)
	sc_flow_answered "$(sc_node_of "$(sc_host "$r")")"
	sc_flow "$(sc_node_of "$(sc_host "$r")")" "$PEER" udp partner
}

# tcp_relay_why RELAYED: after a ConnectionBind the relay did not know,
# which node the data connection reached (from the capture), if not the
# allocation's node.
tcp_relay_why() {
	local d has got
	d=$(sc_json data_local)
	[[ $(sc_probe_error) == *"unknown CONNECTION-ID"* ]] && [ -n "$d" ] || return 0
	[ ${#SC_CAPS[@]} -gt 0 ] || return 0
	sc_capture_settle
	has=$(sc_node_of "$(sc_host "$1")")
	# its SYN only: sc_seen names each packet's nodes at some cost
	got=$(sc_seen edgeext "tcp and src port $(sc_port_of "$d") and tcp[tcpflags] == tcp-syn" |
		awk '{ print $4; exit }')
	[ -n "$got" ] && [ "$got" != "$has" ] || return 0
	echo ": the data connection through $VIP went to $got, the allocation is on $has; the HLB must keep one client's connections on one node (source-address affinity, R22)"
}

# RFC 6062: a TCP allocation through the VIP over TLS 443, Connect to a TCP
# echo peer outside, a second connection (to the VIP again: the HLB's
# affinity must bring it to the same node) bound with ConnectionBind, and
# the bytes sent on it coming back from the peer.
check_tcp_relay_allocation() {
	local r peer text=s06-tcp-relay
	peer=$(sc_hostport 198.51.100.20 50011)
	sc_bg partner "$SC_OUT/echo-tcp.log" "$BIN/edgeprobe" echo --tcp "$peer" --seconds 20
	slowwait 3 sc_listening partner tcp 50011 ||
		{ sc_fail "edgeprobe echo --tcp did not start in partner: $(head -c 200 "$SC_OUT/echo-tcp.log")"; return 1; }
	sc_flow client "$VIP" tcp
	if ! sc_turn client turn "$VIP" --tls --relay-tcp --peer "$peer" --send "$text" --expect-echo; then
		r=$(sc_json relayed)
		[ -n "$r" ] || { sc_fail "TCP relay (RFC 6062) Allocate over TLS to $VIP failed ($(sc_alloc_why tcp "$VIP"))"; return 1; }
		sc_flow_answered "$(sc_node_of "$(sc_host "$r")")"
		sc_flow "$(sc_node_of "$(sc_host "$r")")" "$peer" tcp partner
		sc_fail "TCP relay (RFC 6062) through $VIP, relayed $r, to the echo $peer: expected '$text' back, got: $(sc_probe_error)$(tcp_relay_why "$r")"
		return 1
	fi
	r=$(sc_json relayed)
	sc_flow_answered "$(sc_node_of "$(sc_host "$r")")"
	sc_flow "$(sc_node_of "$(sc_host "$r")")" "$peer" tcp partner
	sc_assert_in "$(sc_host "$r")" "$REALS" \
		"relayed address of a TCP (RFC 6062) Allocate through $VIP is $r, expected a real node's own A/V address ($REALS)$(sc_relayed_why "$r")" || return 1
	sc_assert_eq "$(sc_json echo)/$(sc_json echoed)" "ok/${#text}" \
		"the echo of '$text' through the TCP relay $r: expected ok/${#text} (echo/bytes back), got $(sc_json echo)/$(sc_json echoed)"
}

sc_main check_tls_through_vip check_tls_direct_edge1 check_tls_direct_edge2 check_tls_data_to_peer check_tcp_relay_allocation
