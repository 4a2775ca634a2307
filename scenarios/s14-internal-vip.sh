#!/usr/bin/env bash
# S14: Internal STUN/TURN through the internal VIP; A/V authentication 5062
# seed: "STUN/MSTURN/UDP/3478 Any -> Edge Server Internal VIP interface: Preferred path for A/V media transfer between internal and external users"
# seed: "SIP/MTLS/TCP/5062 Any -> Edge Server Internal VIP interface: Authentication of A/V users (A/V authentication service)"
# spec: R13 an internal client that allocates through the internal interface gets a relayed address on the public side
# rows: row_intvip_03, row_intvip_04, row_intvip_05
# segments: lan0 dmzint edgeint
# asserts: a Binding from the Front End to the internal VIP is answered from the internal VIP with the Front End's own address mapped; an Allocate through the internal VIP (UDP, and TLS 443) relays at a node's public A/V address; 5062 on the internal VIP is answered by an edge's A/V authentication service
# catches: M1 (SNAT on the internal A/V service), M4
. "$(dirname "$0")/lib.sh"
sc_init S14

VIP=$(sc_hostport "$VIP_INT" 3478)
REALS="203.0.113.23 203.0.113.33"

check_binding_internal_vip() {
	local from mapped
	sc_flow fe "$VIP" udp
	sc_binding fe "$VIP" ||
		{ sc_fail "no answer to $SC_SRC from the internal VIP $VIP/udp ($(sc_probe_error)): $(sc_why_no_answer udp "$SC_SRC" "$VIP")"; return 1; }
	sc_flow_answered "$(sc_node_of "$(sc_host "$(sc_json response_origin)")")"
	from=$(sc_json from)
	mapped=$(sc_json xor_mapped)
	sc_assert_eq "$from" "$VIP" "answer to the internal VIP $VIP came from $from, expected the VIP" || return 1
	sc_assert_eq "$mapped" "$SC_SRC" \
		"XOR-MAPPED-ADDRESS of the answer from the internal VIP $VIP is $mapped, expected the Front End's own $SC_SRC: $(sc_mapped_why "$mapped" "$SC_SRC" | sed 's/A\/V service/internal A\/V service/')"
}

# allocate_internal TARGET [--tls]: relayed on the public side (R13).
allocate_internal() {
	local t=$1 r
	shift
	sc_flow fe "$t" "$([ $# -gt 0 ] && echo tcp || echo udp)"
	sc_turn fe allocate "$t" "$@" ||
		{ sc_fail "Allocate${1:+ over TLS} through the internal VIP $t failed ($(sc_alloc_why "$([ $# -gt 0 ] && echo tcp || echo udp)" "$t"))"; return 1; }
	r=$(sc_json relayed)
	sc_flow_answered "$(sc_node_of "$(sc_host "$r")")"
	sc_assert_in "$(sc_host "$r")" "$REALS" \
		"an Allocate through the internal VIP $t relays at $r, expected a node's own public A/V address ($REALS, R13)$(sc_relayed_why "$r")"
}

check_allocate_internal_udp() { allocate_internal "$VIP"; }
check_allocate_internal_tls() { allocate_internal "$(sc_hostport "$VIP_INT" 443)" --tls; }

check_avauth_5062() {
	local t
	t=$(sc_hostport "$VIP_INT" 5062)
	sc_flow fe "$t" tcp
	sc_lprobe fe tls "$VIP_INT" 5062 ||
		{ sc_fail "no answer from A/V authentication through the internal VIP $t ($SC_E)"; return 1; }
	sc_flow_answered "$R_NODE"
	sc_assert_eq "$R_SERVICE" av-auth \
		"the answer through $t came from '$R_SERVICE' on $R_NODE, expected the A/V authentication service (av-auth)" || return 1
	sc_assert_in "$R_NODE" "edge1 edge2" "the answer through $t came from $R_NODE, not an edge"
}

sc_main check_binding_internal_vip check_allocate_internal_udp check_allocate_internal_tls check_avauth_5062
