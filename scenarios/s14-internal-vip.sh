#!/usr/bin/env bash
# S14: Internal STUN/TURN through the internal VIP; A/V authentication 5062
# seed: "STUN/MSTURN/UDP/3478 Any -> Edge Server Internal VIP interface: Preferred path for A/V media transfer between internal and external users"
# seed: "SIP/MTLS/TCP/5062 Any -> Edge Server Internal VIP interface: Authentication of A/V users (A/V authentication service)"
# spec: R20 the A/V authentication service; R13 an internal client that allocates through the internal interface gets a relayed address on the public side
# rows: row_intvip_03, row_intvip_04, row_intvip_05
# segments: lan0 dmzint edgeint
# asserts: a Binding from the Front End to the internal VIP is answered from the internal VIP with the Front End's own address mapped; an Allocate through the internal VIP (UDP, and TLS 443) relays at a node's public A/V address; the Front End gets relay credentials from 5062 through the internal VIP with its lab-CA client certificate ([MS-AVEDGEA] SERVICE over mutual TLS, issued by an edge's avedge; the relay list names the A/V VIP and the internal VIP, UDP 3478, TCP 443), a TLS client without a certificate gets no answer, and those credentials allocate (IETF TURN and MS-TURN) through the internal VIP, the VIP the Front End can reach (it has no route to the A/V VIP), relaying at a node's public A/V address
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

# The Front End's side of a call ([MS-AVEDGEA], R20): credentials from
# 5062 through the internal VIP with fe's certificate, none without one,
# and an allocation signed with them through the internal VIP (the
# intranet relay the answer names: fe has no route to the A/V VIP).
check_avauth_5062() {
	local t id node want got
	t=$(sc_hostport "$VIP_INT" 5062)
	id=sip:s14-$$@$LAB_REALM
	sc_flow fe "$t" tcp
	sc_mras fe "$t" --identity "$id" --location intranet ||
		{ sc_fail "no credentials from the A/V authentication service through the internal VIP $t ($(sc_mras_why "$t"))"; return 1; }
	node=$(sc_mras_node "$id") ||
		{ sc_fail "credentials came through $t but neither edge's avedge logged issuing them: not the lab's A/V authentication service"; return 1; }
	sc_flow_answered "$node"
	for want in "internet $VIP_AV 3478 443" "intranet $VIP_INT 3478 443"; do
		got=$(sc_mras_relay "${want%% *}")
		sc_assert_eq "${want%% *} $got" "$want" \
			"the media relay list from $t names ${want%% *} as '$got', expected the configured VIP and ports '${want#* }'" || return 1
	done
	sc_mras_nocert fe "$t" || {
		if [[ $SC_E == *SIP/2.0* ]]; then
			sc_fail "5062 through $t answered a TLS client that has no certificate: '$(head -n 1 <<<"SIP/2.0${SC_E#*SIP/2.0}")' (mutual TLS not required)"
		else
			sc_fail "5062 through $t: a TLS client with no certificate was not refused for it (no 'certificate required' alert): $(tail -n 1 <<<"$SC_E")"
		fi
		return 1
	}
}

# allocate_mras DIALECT-ARGS...: an allocation through the internal VIP
# signed with the credentials check_avauth_5062 fetched.
allocate_mras() {
	local t r
	t=$(sc_hostport "$VIP_INT" 3478)
	[ -n "${MRAS_USER:-}" ] || { sc_fail "no MRAS credentials to allocate with (see the 5062 check)"; return 1; }
	sc_flow fe "$t" udp
	sc_edgeprobe fe allocate "$t" --user "$MRAS_USER" --pass "$MRAS_PASS" --timeout "$((SC_TIMEOUT * 2))" "$@" ||
		{ sc_fail "Allocate${1:+ $1} through the internal VIP $t with the MRAS credentials failed ($(sc_alloc_why udp "$t"))"; return 1; }
	r=$(sc_json relayed)
	sc_flow_answered "$(sc_node_of "$(sc_host "$r")")"
	sc_assert_in "$(sc_host "$r")" "$REALS" \
		"an Allocate${1:+ $1} with MRAS credentials through $t relays at $r, expected a node's own public A/V address ($REALS)$(sc_relayed_why "$r")"
}

check_allocate_mras_ietf() { allocate_mras; }
check_allocate_mras_msturn() { allocate_mras --ms-turn; }

sc_main check_binding_internal_vip check_allocate_internal_udp check_allocate_internal_tls check_avauth_5062 \
	check_allocate_mras_ietf check_allocate_mras_msturn
