#!/usr/bin/env bash
# S3: STUN over TCP 443 through the A/V VIP
# seed: "A/V/STUN,MSTURN/TCP/443 Any -> Edge Server A/V Edge service public VIP address: STUN/TURN negotiation of candidates over TCP/443"
# seed: "For the A/V Edge service, the VIP must NOT change the source IP address"
# rows: row_extvip_08
# segments: inet dmzext edgeext
# asserts: a TLS connection to VIP:443 is answered (the handshake completes with the VIP); XOR-MAPPED-ADDRESS is the client's own address and port; the HLB keeps idle TCP flows at least 1800 s (R24)
# catches: M1 (SNAT on A/V), M6 (port rewritten), M10 (short TCP idle timeout), M2/M8/M12 (no answer, with where it went)
. "$(dirname "$0")/lib.sh"
sc_init S3

VIP=$(sc_hostport "$VIP_AV" 443)

# The lab's relays serve 443 with TLS (R10). edgeprobe's binding speaks
# TCP and, once it has it, TLS; until then a TURN Allocate over TLS
# carries the same XOR-MAPPED-ADDRESS.
stun_over_tls() {
	if "$BIN/edgeprobe" binding --help 2>&1 | grep -q -- '--tls'; then
		sc_binding client "$VIP" --tls
	else
		sc_turn client allocate "$VIP" --tls
	fi
}

check_tls_via_vip() {
	local mapped
	sc_flow client "$VIP" tcp
	if ! stun_over_tls; then
		sc_fail "no STUN answer over TLS from VIP $VIP ($(sc_alloc_why tcp "$VIP"))"
		return 1
	fi
	local relayed
	relayed=$(sc_json relayed)
	[ -n "$relayed" ] && sc_flow_answered "$(sc_node_of "$(sc_host "$relayed")")"
	mapped=$(sc_json xor_mapped)
	[ "$mapped" = "$SC_SRC" ] && return 0
	if [ "$(sc_host "$mapped")" != "$(sc_host "$SC_SRC")" ]; then
		sc_fail "XOR-MAPPED-ADDRESS over TLS through VIP $VIP is $mapped, expected the client's own $SC_SRC: the HLB changed the client's source address (SNAT on the A/V service)"
	else
		sc_fail "XOR-MAPPED-ADDRESS over TLS through VIP $VIP is $mapped, expected the client's own $SC_SRC: the HLB rewrote the client's source port"
	fi
}

# R24/M10: idle TCP flows to the A/V VIP kept at least 1800 s.
check_tcp_idle_timeout() {
	sc_check_tcp_idle ext "$VIP_AV"
}

sc_main check_tls_via_vip check_tcp_idle_timeout
