#!/usr/bin/env bash
# S18: MS-TURN over UDP 3478 through the A/V VIP and direct to each node
# seed: "A/V/STUN,MSTURN/UDP/3478 Any -> Edge Server A/V Edge service public VIP address: STUN/TURN negotiation of candidates over UDP/3478"
# seed: "If the client sends a request to the HLB, the response must come back from the HLB VIP"
# seed: "If the client sends a request to the Edge, the response must come back from the Edge IP"
# seed: "the A/V Edge service must respond with the real server address, not the HLB virtual IP (VIP)"
# spec: R19 [MS-TURN] on the same listeners; R11 the relayed address is the node's own; R13 internal clients relay on the public side
# rows: row_extvip_07, row_ext_09, row_intvip_04, row_ext_05, row_ext_07
# segments: inet dmzext edgeext lan0 dmzint edgeint
# asserts: an [MS-TURN] Allocate (MS-Version 1, after the digest challenge of 3.1.12) sent to VIP:3478 is answered from the VIP, one sent to a node's own address from that address; XOR Mapped Address (0x8020, 2.2.2) is the client's own address and port; MAPPED-ADDRESS (the relayed address) is the answering node's own public A/V address, port 50000-59999, never the VIP (R11); a Send request (2.2.1) to an outside echo peer comes back as a Data Indication from that peer, and after Set Active Destination (3.3.5) raw datagrams go both ways, each from the address the client sent to; MS-Version 4 over IPv6 through the IPv6 VIP with an IPv6 relayed address in MS-Alternate Mapped Address (2.2.2); the Front End through the internal VIP gets the internal VIP as answerer and a public relayed address
# catches: M1 (SNAT on A/V), M2 (asymmetric return), M3 (direct answers from the VIP), M4 (VIP as relayed address), M6 (port rewritten), M8 (3478 closed), M12 (DSR), M13 (hairpin)
. "$(dirname "$0")/lib.sh"
sc_init S18

VIP=$(sc_hostport "$VIP_AV" 3478)
REALS="203.0.113.23 203.0.113.33"
PEER=$(sc_hostport 198.51.100.20 50018)
PEER6=$(sc_hostport "$(sc_v6 198.51.100.20)" 50018)
ECHO_UP=''

# echo_peer: the partner's echo (a federated edge's media port), once.
echo_peer() {
	[ -n "$ECHO_UP" ] && return 0
	sc_bg partner "$SC_OUT/echo.log" "$BIN/edgeprobe" echo "$PEER" --seconds 20
	sc_bg partner "$SC_OUT/echo6.log" "$BIN/edgeprobe" echo "$PEER6" --seconds 20
	slowwait 3 sc_listening partner udp 50018 ||
		{ sc_fail "edgeprobe echo did not start in partner: $(head -c 200 "$SC_OUT/echo.log")"; return 1; }
	ECHO_UP=1
}

# from_why FROM CLIENT-NODE: why an answer came from FROM instead of the
# address the request went to.
from_why() {
	case $(sc_node_of "$(sc_host "$1")") in
	edge1 | edge2)
		if ip -n "$SC_PREFIX-$2" route get "$(sc_host "$1")" 2>/dev/null | grep -qv ' via '; then
			echo "the client is on the edges' own subnet, so the real server's answer bypassed the HLB (hairpin)"
		else
			echo "the real server's own address: the HLB did not translate the answer back (direct server return)"
		fi ;;
	hlbext | hlbint) echo "the HLB rewrote the source of a direct flow's answer to a VIP" ;;
	*) echo "an address the request was not sent to" ;;
	esac
}

# ms_allocate NODE TARGET WANT-FROM WANT-RELAY FAMILY [ARGS...]: one
# MS-TURN allocation with the data path through the echo peer, judged.
# WANT-RELAY is a node's address or "any" (one of REALS).
ms_allocate() {
	local node=$1 t=$2 want_from=$3 want_relay=$4 fam=$5 r host port from mapped peer=$PEER
	shift 5
	[ "$fam" = 6 ] && peer=$PEER6
	echo_peer || return 1
	sc_flow "$node" "$t" udp
	if ! sc_turn "$node" allocate "$t" --echo "$peer" "$@"; then
		r=$(sc_json relayed)
		[ -n "$r" ] || { sc_fail "MS-TURN Allocate to $t failed ($(sc_alloc_why udp "$t"))"; return 1; }
		sc_flow_answered "$(sc_node_of "$(sc_host "$r")")"
		sc_fail "MS-TURN data through $t, relayed $r, to the echo $peer: $(sc_probe_error)"
		return 1
	fi
	r=$(sc_json relayed)
	# Asked for IPv6, the relay allocates both families: IPv4 in
	# MAPPED-ADDRESS, IPv6 in MS-Alternate Mapped Address.
	if [ "$fam" = 6 ]; then
		r=$(sc_json relayed2)
		[ -n "$r" ] || { sc_fail "an MS-TURN Allocate to $t asking for IPv6 (MS-Version 4, REQUESTED-ADDRESS-FAMILY) got no MS-Alternate Mapped Address (relayed: $(sc_json relayed))"; return 1; }
	fi
	host=$(sc_host "$r")
	port=$(sc_port_of "$r")
	from=$(sc_json from)
	mapped=$(sc_json xor_mapped)
	sc_flow_answered "$(sc_node_of "$host")"
	sc_flow "$(sc_node_of "$host")" "$peer" udp partner
	[ "$from" = "$want_from" ] ||
		{ sc_fail "MS-TURN answer to $t came from $from, expected $want_from: $(from_why "$from" "$node")"; return 1; }
	sc_assert_eq "$mapped" "$SC_SRC" \
		"XOR Mapped Address of the MS-TURN answer from $t is $mapped, expected the client's own $SC_SRC: $(sc_mapped_why "$mapped" "$SC_SRC")" || return 1
	if [ "$want_relay" = any ]; then
		[ "$fam" = 6 ] && want_relay="$(sc_v6 203.0.113.23) $(sc_v6 203.0.113.33)" || want_relay=$REALS
		sc_assert_in "$host" "$want_relay" \
			"relayed address of an MS-TURN Allocate to $t is $r, expected a real node's own A/V address ($want_relay)$(sc_relayed_why "$r")" || return 1
	else
		sc_assert_eq "$host" "$want_relay" \
			"relayed address of an MS-TURN Allocate to $t is $r, expected that node's own $want_relay$(sc_relayed_why "$r")" || return 1
	fi
	[ "$port" -ge 50000 ] && [ "$port" -le 59999 ] ||
		{ sc_fail "relayed address $r has port $port, expected 50000-59999 (the port tables' media range)"; return 1; }
	sc_assert_eq "$(sc_json send_echo_from)/$(sc_json active_echo_from)" "$want_from/$want_from" \
		"MS-TURN data through $t came back from $(sc_json send_echo_from) (Data Indication) and $(sc_json active_echo_from) (raw, after Set Active Destination), expected $want_from: $(from_why "$(sc_json active_echo_from)" "$node")"
}

check_ms_vip() { ms_allocate client "$VIP" "$VIP" any 4 --ms-turn; }
check_ms_direct_edge1() { ms_allocate client 203.0.113.23:3478 203.0.113.23:3478 203.0.113.23 4 --ms-turn; }
check_ms_direct_edge2() { ms_allocate client 203.0.113.33:3478 203.0.113.33:3478 203.0.113.33 4 --ms-turn; }

# MS-Version 4 brings IPv6 (REQUESTED-ADDRESS-FAMILY, [MS-TURN] 2.2.2).
check_ms_v6_vip() {
	local v6
	v6=$(sc_hostport "$VIP_AV6" 3478)
	ms_allocate client "$v6" "$v6" any 6 --ms-turn=4 --family 6
}

# The Front End's side (row_intvip_04): the internal VIP answers, the
# relay is on the public side (R13).
check_ms_internal_vip() {
	local t
	t=$(sc_hostport "$VIP_INT" 3478)
	ms_allocate fe "$t" "$t" any 4 --ms-turn
}

sc_main check_ms_vip check_ms_direct_edge1 check_ms_direct_edge2 check_ms_v6_vip check_ms_internal_vip
