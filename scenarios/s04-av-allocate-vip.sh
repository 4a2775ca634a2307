#!/usr/bin/env bash
# S4: TURN Allocate through the A/V VIP
# seed: "the A/V Edge service must respond with the real server address, not the HLB virtual IP (VIP), for simple traversal of UDP over NAT (STUN)/traversal using relay NAT (TURN)/federation TURN (FTURN) to work properly"
# seed: "Once established, client to A/V Edge service communication is to the real server, not the HLB"
# rows: row_extvip_07, row_ext_07 (A/V/RTP/UDP/50,000-59,999 Any -> A/V Edge service public IP address)
# segments: inet dmzext edgeext
# asserts: the Allocate through VIP:3478 succeeds; XOR-RELAYED-ADDRESS is a real node's own A/V address (never a VIP), port in 50000-59999; XOR-MAPPED-ADDRESS is the client's own; data sent through the relay to an outside peer comes back
# catches: M4 (VIP as relayed address), M1 (SNAT), M8 (ports closed)
. "$(dirname "$0")/lib.sh"
sc_init S4

VIP=$(sc_hostport "$VIP_AV" 3478)
REALS="203.0.113.23 203.0.113.33"

check_relayed_is_real() {
	local relayed host port
	sc_flow client "$VIP" udp
	if ! sc_turn client allocate "$VIP"; then
		sc_fail "Allocate through VIP $VIP failed ($(sc_alloc_why udp "$VIP"))"
		return 1
	fi
	relayed=$(sc_json relayed)
	host=$(sc_host "$relayed")
	port=$(sc_port_of "$relayed")
	sc_flow_answered "$(sc_node_of "$host")"
	case $host in
	"$VIP_AV" | "$VIP_ACCESS" | "$VIP_WEBCONF")
		sc_fail "XOR-RELAYED-ADDRESS of an Allocate through VIP $VIP is $relayed, a VIP; expected a real node's own A/V address ($REALS): the relay advertises the VIP"
		return 1 ;;
	esac
	sc_assert_in "$host" "$REALS" \
		"XOR-RELAYED-ADDRESS is $relayed, expected a real node's own A/V address ($REALS)" || return 1
	[ "$port" -ge 50000 ] && [ "$port" -le 59999 ] ||
		sc_fail "XOR-RELAYED-ADDRESS $relayed has port $port, expected 50000-59999 (the port tables' media range)"
	sc_assert_eq "$(sc_json xor_mapped)" "$SC_SRC" \
		"XOR-MAPPED-ADDRESS of the Allocate through VIP $VIP is $(sc_json xor_mapped), expected the client's own $SC_SRC: $(sc_mapped_why "$(sc_json xor_mapped)" "$SC_SRC")"
}

# The relayed address works from outside: the partner (a federated edge,
# listening in the media range the port tables open) echoes what the
# client sends through its relay (row_ext_05 out, row_ext_07 back in).
check_relay_reaches_peer() {
	local peer relayed
	peer=$(sc_hostport 198.51.100.20 50010)
	sc_bg partner "$SC_OUT/echo.log" "$BIN/edgeprobe" echo "$peer" --seconds 20
	slowwait 3 sc_listening partner udp 50010 ||
		{ sc_fail "edgeprobe echo did not start in partner: $(cat "$SC_OUT/echo.log")"; return 1; }
	sc_flow client "$VIP" udp
	if ! sc_turn client turn "$VIP" --peer "$peer" --permit --send s04-ping --expect-echo; then
		relayed=$(sc_json relayed)
		sc_fail "data through the relay ${relayed:+at $relayed }to the partner's echo $peer did not come back ($(sc_probe_error))"
		return 1
	fi
	relayed=$(sc_json relayed)
	sc_flow_answered "$(sc_node_of "$(sc_host "$relayed")")"
	sc_flow "$(sc_node_of "$(sc_host "$relayed")")" "$peer" udp partner
}

sc_main check_relayed_is_real check_relay_reaches_peer
