#!/usr/bin/env bash
# S12: XMPP 5269 to the Access Edge VIP (the address it shares with the Access Edge service)
# seed: "XMPP/TCP/5269 Any -> XMPP Proxy service (shares IP address with Access Edge service): XMPP Proxy service accepts traffic from XMPP contacts in defined XMPP federations"
# rows: row_extvip_01
# segments: inet dmzext edgeext
# asserts: a TCP connection from the partner to the Access VIP on 5269 is answered by an edge's XMPP proxy on that edge's own Access Edge address, port 5269
# catches: (an HLB without the XMPP service on the shared Access VIP)
. "$(dirname "$0")/lib.sh"
sc_init S12

check_xmpp_inbound() {
	local t want
	t=$(sc_hostport "$VIP_ACCESS" 5269)
	sc_flow partner "$t" tcp
	sc_lprobe partner tcp "$VIP_ACCESS" 5269 ||
		{ sc_fail "no answer from the XMPP proxy through the Access VIP $t ($SC_E)"; return 1; }
	sc_flow_answered "$R_NODE"
	sc_assert_eq "$R_SERVICE" xmpp "the answer through $t came from '$R_SERVICE' on $R_NODE, expected the XMPP proxy" || return 1
	case $R_NODE in edge1) want=203.0.113.21 ;; edge2) want=203.0.113.31 ;; *) want='an edge' ;; esac
	sc_assert_eq "$R_LOCAL" "$want:5269" \
		"the XMPP proxy on $R_NODE took the connection through $t on $R_LOCAL, expected the Access Edge address it shares, $want:5269"
}

sc_main check_xmpp_inbound
