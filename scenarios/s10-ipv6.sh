#!/usr/bin/env bash
# S10: IPv6: STUN Binding to the A/V VIP and to each node, and TURN Allocate through the VIP (S1, S2, S4 over IPv6)
# seed: "In addition to IPv4, the Edge Server now supports IPv6"
# seed: "If the client sends a request to the HLB, the response must come back from the HLB VIP"
# seed: "If the client sends a request to the Edge, the response must come back from the Edge IP"
# rows: row_extvip_07, row_ext_09 (their IPv6 rules)
# segments: inet dmzext edgeext
# asserts: over IPv6, the answer to the A/V VIP comes from the VIP with the client's own address mapped; answers to each node's own address come from that address; an Allocate through the VIP (REQUESTED-ADDRESS-FAMILY IPv6) relays at a node's own IPv6 A/V address, port 50000-59999
# catches: M1, M4, M6, M12 over IPv6
. "$(dirname "$0")/lib.sh"
sc_init S10

VIP=$(sc_hostport "$VIP_AV6" 3478)
REALS="$(sc_v6 203.0.113.23) $(sc_v6 203.0.113.33)"

check_v6_binding_vip() {
	local from mapped
	sc_flow client "$VIP" udp
	sc_binding client "$VIP" ||
		{ sc_fail "no answer to $SC_SRC from IPv6 VIP $VIP/udp ($(sc_probe_error)): $(sc_why_no_answer udp "$SC_SRC" "$VIP")"; return 1; }
	sc_flow_answered "$(sc_node_of "$(sc_host "$(sc_json response_origin)")")"
	from=$(sc_json from)
	mapped=$(sc_json xor_mapped)
	if [ "$from" != "$VIP" ]; then
		if ip -n "$SC_PREFIX-client" -6 route get "$(sc_host "$from")" 2>/dev/null | grep -qv ' via '; then
			sc_fail "answer to $VIP came from $from, expected the VIP: the client is on the edges' own subnet, so the real server's answer bypassed the HLB (hairpin)"
		else
			sc_fail "answer to $VIP came from $from, expected the VIP"
		fi
		return 1
	fi
	sc_assert_eq "$mapped" "$SC_SRC" \
		"XOR-MAPPED-ADDRESS of the answer from IPv6 VIP $VIP is $mapped, expected the client's own $SC_SRC: $(sc_mapped_why "$mapped" "$SC_SRC")"
}

direct6() {
	local node=$1 t from
	t=$(sc_hostport "$(sc_v6 "$2")" 3478)
	sc_flow client "$t" udp "$node"
	sc_binding client "$t" ||
		{ sc_fail "no answer to $SC_SRC from $node's own IPv6 address $t/udp ($(sc_probe_error)): $(sc_why_no_answer udp "$SC_SRC" "$t")"; return 1; }
	from=$(sc_json from)
	sc_assert_eq "$from" "$t" "answer to $node's own address $t came from $from, expected $t" || return 1
	sc_assert_eq "$(sc_json xor_mapped)" "$SC_SRC" \
		"XOR-MAPPED-ADDRESS of $node's IPv6 answer is $(sc_json xor_mapped), expected the client's own $SC_SRC"
}

check_v6_binding_edge1() { direct6 edge1 203.0.113.23; }
check_v6_binding_edge2() { direct6 edge2 203.0.113.33; }

check_v6_allocate_vip() {
	local r host port
	sc_flow client "$VIP" udp
	sc_turn client allocate "$VIP" --family 6 ||
		{ sc_fail "IPv6 Allocate through VIP $VIP failed ($(sc_alloc_why udp "$VIP"))"; return 1; }
	r=$(sc_json relayed)
	host=$(sc_host "$r")
	port=$(sc_port_of "$r")
	sc_flow_answered "$(sc_node_of "$host")"
	[ "$host" = "$VIP_AV6" ] && { sc_fail "XOR-RELAYED-ADDRESS of an IPv6 Allocate through VIP $VIP is $r, the VIP; expected a real node's own A/V address: the relay advertises the VIP"; return 1; }
	sc_assert_in "$host" "$REALS" \
		"XOR-RELAYED-ADDRESS of an IPv6 Allocate through VIP $VIP is $r, expected a real node's own IPv6 A/V address ($REALS)" || return 1
	[ "$port" -ge 50000 ] && [ "$port" -le 59999 ] ||
		sc_fail "XOR-RELAYED-ADDRESS $r has port $port, expected 50000-59999"
}

sc_main check_v6_binding_vip check_v6_binding_edge1 check_v6_binding_edge2 check_v6_allocate_vip
