#!/usr/bin/env bash
# S13: Outbound: federation SIP and XMPP leave from the Access Edge VIP; A/V 3478 leaves from the node's own address
# seed: "Access/SIP(MTLS)/TCP/5061 Access Edge service public VIP address -> Federated partner: SIP signaling, federated and public IM connectivity using SIP"
# seed: "XMPP/TCP/5269 XMPP Proxy service (shares IP address with Access Edge service) -> Any: XMPP Proxy service sends traffic to XMPP contacts in defined XMPP federations"
# seed: "A/V/STUN,MSTURN/UDP/3478 Edge Server A/V Edge service public IP address -> Any: 3478 outbound is used to determine the version of Edge Server ... media traffic from Edge Server-to-Edge Server"
# spec: R25 outbound flows of a snat service leave from the VIP; A/V outbound leaves from the node's own address
# rows: row_extvip_05, row_extvip_02, row_ext_08
# segments: inet dmzext edgeext
# asserts: each edge's TLS connection to the partner's 5061 and TCP connection to its XMPP 5269 arrive from the Access VIP; each edge's UDP 3478 datagram to the partner arrives from that edge's own A/V address
# catches: M3 (all outbound rewritten to a VIP), M2
. "$(dirname "$0")/lib.sh"
sc_init S13

PARTNER=198.51.100.20

# last_seen_from SEG FILTER: the source of the latest such packet on SEG.
last_seen_from() {
	sc_capture_settle
	sc_seen "$1" "$2" | tail -n 1 | cut -d' ' -f1
}

# vip_out NODE FROM PROTO PORT ROW: NODE's connection to the partner's
# PORT, from its Access Edge address FROM, must arrive from the Access VIP.
vip_out() {
	local node=$1 from=$2 proto=$3 port=$4 row=$5 seen
	sc_flow "$node" "$PARTNER:$port" tcp partner
	if ! sc_lprobe "$node" "$proto" "$PARTNER" "$port" --from "$from"; then
		seen=$(last_seen_from dmzext "tcp and dst host $PARTNER and dst port $port")
		[ -n "$seen" ] && seen="; it left the HLB from $seen, and fwext admits only the Access Edge VIP $VIP_ACCESS ($row)"
		sc_fail "$node's connection to the partner $PARTNER:$port got no answer ($SC_E)$seen"
		return 1
	fi
	sc_assert_eq "$(sc_host "$R_CLIENT")" "$VIP_ACCESS" \
		"$node's connection to the partner $PARTNER:$port arrived from $R_CLIENT, expected the Access Edge VIP $VIP_ACCESS (R25, $row)"
}

# av_out_why NODE OWN: where NODE's unanswered A/V datagram went, from the
# captures: the source it left the HLB with, and whether it passed fwext.
av_out_why() {
	local node=$1 own=$2 seen
	seen=$(last_seen_from dmzext "udp and dst host $PARTNER and dst port 3478")
	[ -n "$seen" ] || return 0
	if [ "$(sc_host "$seen")" != "$own" ]; then
		echo "; it left the HLB from $seen, not from $node's own A/V address $own: the HLB rewrote the source of an edge's own flow (R25), and fwext admits 3478 out only from the A/V addresses (row_ext_08)"
	elif [ -z "$(sc_seen inet "udp and src host $own and dst host $PARTNER and dst port 3478")" ]; then
		echo "; it left the HLB from $node's own A/V address ($seen), as R25 asks, and fwext dropped it: row_ext_08 (3478 out from the A/V addresses) is not open"
	else
		echo "; it left $own and passed fwext, but nothing came back"
	fi
}

av_out() {
	local node=$1 own=$2 seen
	sc_flow "$node" "$PARTNER:3478" udp partner
	if ! sc_lprobe "$node" udp "$PARTNER" 3478 --from "$own"; then
		sc_fail "$node's A/V datagram to the partner $PARTNER:3478 got no answer ($SC_E)$(av_out_why "$node" "$own")"
		return 1
	fi
	sc_assert_eq "$(sc_host "$R_CLIENT")" "$own" \
		"$node's A/V datagram to the partner $PARTNER:3478 arrived from $R_CLIENT, expected $node's own A/V address $own (R25: A/V outbound is not NATed)"
}

start_partner_av() {
	[ -n "${AV_UP:-}" ] && return 0
	sc_responder partner av "av=$PARTNER:3478/udp"
	sc_responders_ready && AV_UP=1
}

start_partner_xmpp() {
	[ -n "${XMPP_UP:-}" ] && return 0
	sc_responder partner xmpp "xmpp=$PARTNER:5269/tcp"
	sc_responders_ready && XMPP_UP=1
}

check_federation_edge1() { vip_out edge1 203.0.113.21 tls 5061 row_extvip_05; }
check_federation_edge2() { vip_out edge2 203.0.113.31 tls 5061 row_extvip_05; }
check_xmpp_outbound_edge1() { start_partner_xmpp || return 1; vip_out edge1 203.0.113.21 tcp 5269 row_extvip_02; }
check_xmpp_outbound_edge2() { start_partner_xmpp || return 1; vip_out edge2 203.0.113.31 tcp 5269 row_extvip_02; }
check_av_outbound_edge1() { start_partner_av || return 1; av_out edge1 203.0.113.23; }
check_av_outbound_edge2() { start_partner_av || return 1; av_out edge2 203.0.113.33; }

sc_main check_federation_edge1 check_federation_edge2 check_xmpp_outbound_edge1 check_xmpp_outbound_edge2 check_av_outbound_edge1 check_av_outbound_edge2
