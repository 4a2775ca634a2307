#!/usr/bin/env bash
# S2: STUN Binding to edge1's and edge2's own A/V addresses
# seed: "If the client sends a request to the Edge, the response must come back from the Edge IP"
# seed: "For AV, the external firewall will retain the real server public IP address for all packets"
# rows: row_ext_09 (A/V/STUN,MSTURN/UDP/3478 Any -> A/V Edge service public IP address)
# segments: inet dmzext edgeext
# asserts: each answer comes from that node's own A/V address and port 3478; XOR-MAPPED-ADDRESS is the client's own; RESPONSE-ORIGIN is the node's address
# catches: M3 (direct answers rewritten to the VIP), M8 (3478 closed)
. "$(dirname "$0")/lib.sh"
sc_init S2

# direct NODE ADDR: a Binding to the node's own A/V address.
direct() {
	local node=$1 t from mapped
	t=$(sc_hostport "$2" 3478)
	sc_flow client "$t" udp "$node"
	if ! sc_binding client "$t"; then
		sc_fail "no answer to $SC_SRC from $node's own A/V address $t/udp ($(sc_probe_error)): $(sc_why_no_answer udp "$SC_SRC" "$t")"
		return 1
	fi
	from=$(sc_json from)
	mapped=$(sc_json xor_mapped)
	sc_assert_eq "$from" "$t" \
		"answer to $node's own address $t came from $from, expected $t (the Edge IP, not the HLB's)" || return 1
	sc_assert_eq "$mapped" "$SC_SRC" \
		"XOR-MAPPED-ADDRESS of $node's answer is $mapped, expected the client's own $SC_SRC: a direct flow was translated" || return 1
	sc_assert_eq "$(sc_json response_origin)" "$t" \
		"RESPONSE-ORIGIN of $node's answer is $(sc_json response_origin), expected $t"
}

check_edge1_direct() { direct edge1 203.0.113.23; }
check_edge2_direct() { direct edge2 203.0.113.33; }

sc_main check_edge1_direct check_edge2_direct
