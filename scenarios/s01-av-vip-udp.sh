#!/usr/bin/env bash
# S1: STUN Binding to the A/V VIP over UDP
# seed: "If the client sends a request to the HLB, the response must come back from the HLB VIP"
# seed: "For the A/V Edge service, the VIP must NOT change the source IP address"
# seed: "SNAT cannot be configured on the A/V Edge service"
# rows: row_extvip_07 (A/V/STUN,MSTURN/UDP/3478 Any -> A/V VIP)
# segments: inet dmzext edgeext
# asserts: the answer comes from VIP:3478 as the client's socket saw it; XOR-MAPPED-ADDRESS is the client's own address and port
# catches: M1 (SNAT on A/V), M2 (asymmetric return), M6 (port rewritten), M8 (3478 closed), M12 (DSR), M13 (hairpin)
. "$(dirname "$0")/lib.sh"
sc_init S1

VIP=$(sc_hostport "$VIP_AV" 3478)
ANSWER=''   # the Binding's JSON, shared by the two checks
NOANSWER='' # or why there was none

# bind_vip: one Binding from the client to the A/V VIP (once).
bind_vip() {
	[ -n "$ANSWER$NOANSWER" ] && return 0
	if sc_binding client "$VIP"; then
		ANSWER=$SC_J
	else
		NOANSWER="no answer to $SC_SRC from VIP $VIP/udp ($(sc_probe_error)): $(sc_why_no_answer udp "$SC_SRC" "$VIP")"
	fi
	CLIENT=$SC_SRC
}

# The answer's source, as the client's socket saw it, is the VIP:3478.
check_answer_from_vip() {
	local from why
	bind_vip
	sc_flow client "$VIP" udp
	[ -z "$NOANSWER" ] || { sc_fail "$NOANSWER"; return 1; }
	sc_flow_answered "$(sc_node_of "$(sc_host "$(sc_json response_origin "$ANSWER")")")"
	from=$(sc_json from "$ANSWER")
	[ "$from" = "$VIP" ] && return 0
	case $(sc_node_of "$(sc_host "$from")") in
	edge1 | edge2)
		if ip -n "$SC_PREFIX-client" route get "$(sc_host "$from")" 2>/dev/null | grep -qv ' via '; then
			why="the client ($(sc_host "$CLIENT")) is on the edges' own subnet, so the real server's answer bypassed the HLB (hairpin)"
		else
			why="the real server's own address: the HLB did not translate the answer back (direct server return)"
		fi ;;
	hlbext) why="the VIP's address with another port: the HLB translated the service port" ;;
	*) why="an address that is not the VIP" ;;
	esac
	sc_fail "answer to $VIP came from $from, expected the VIP: $why"
}

# No SNAT: the server saw the client as the client is, address and port.
check_mapped_is_client() {
	local mapped
	bind_vip
	sc_flow client "$VIP" udp
	[ -z "$NOANSWER" ] || { sc_fail "$NOANSWER"; return 1; }
	mapped=$(sc_json xor_mapped "$ANSWER")
	[ "$mapped" = "$CLIENT" ] && return 0
	if [ "$(sc_host "$mapped")" != "$(sc_host "$CLIENT")" ]; then
		sc_fail "XOR-MAPPED-ADDRESS of the answer from VIP $VIP is $mapped, expected the client's own $CLIENT: the HLB changed the client's source address (SNAT on the A/V service)"
	else
		sc_fail "XOR-MAPPED-ADDRESS of the answer from VIP $VIP is $mapped, expected the client's own $CLIENT: the HLB rewrote the client's source port"
	fi
}

sc_main check_answer_from_vip check_mapped_is_client
