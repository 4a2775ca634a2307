#!/usr/bin/env bash
# S11: Access Edge (TLS 443, 5061) and Web Conferencing (443) through their VIPs with SNAT
# seed: "Source Network Address Translation (SNAT) can be configured on the hardware load balancer (HLB) for Access Edge service and Web Conferencing Edge service"
# seed: "For the Access Edge service and Web Conferencing Edge service, (and using NAT on the HLB) the client contacts the VIP, the VIP changes the source IP address from the client to its own IP address"
# rows: row_extvip_03, row_extvip_04, row_extvip_06
# segments: inet dmzext edgeext
# asserts: a TLS connection to each VIP:port is answered by an edge's service on that edge's own Access/Web Conferencing address; the edge saw the HLB's address, not the client's (SNAT); the HLB keeps idle TCP flows at least 1800 s (R24)
# catches: M10 (short TCP idle timeout)
. "$(dirname "$0")/lib.sh"
sc_init S11

# snat_service VIP PORT SERVICE: one TLS connection through the VIP.
snat_service() {
	local vip=$1 port=$2 svc=$3 t want_local
	t=$(sc_hostport "$vip" "$port")
	sc_flow client "$t" tcp
	sc_lprobe client tls "$vip" "$port" ||
		{ sc_fail "no TLS answer from $svc VIP $t ($SC_E)"; return 1; }
	sc_flow_answered "$R_NODE"
	sc_assert_eq "$R_SERVICE" "$svc" "the answer through $t came from service '$R_SERVICE' on $R_NODE, expected $svc" || return 1
	case $svc:$R_NODE in
	webconf:edge1) want_local=203.0.113.22 ;; webconf:edge2) want_local=203.0.113.32 ;;
	*:edge1) want_local=203.0.113.21 ;; *:edge2) want_local=203.0.113.31 ;;
	*) sc_fail "the answer through $t came from '$R_NODE', not an edge"; return 1 ;;
	esac
	sc_assert_eq "$R_LOCAL" "$want_local:$port" \
		"$R_NODE took the connection through $t on $R_LOCAL, expected its own $svc address $want_local:$port" || return 1
	[ "$(sc_host "$R_CLIENT")" != "$(sc_addr client)" ] ||
		{ sc_fail "$R_NODE saw the client through $svc VIP $t as $R_CLIENT, the client's own address: no SNAT (the seed's NAT for $svc)"; return 1; }
	sc_assert_in "$(sc_host "$R_CLIENT")" "$SNAT_EXT" \
		"$R_NODE saw the client through $svc VIP $t as $R_CLIENT, expected one of the HLB's addresses ($SNAT_EXT)"
}

check_access_tls_443() { snat_service "$VIP_ACCESS" 443 access; }
check_access_sip_5061() { snat_service "$VIP_ACCESS" 5061 access-sip; }
check_webconf_443() { snat_service "$VIP_WEBCONF" 443 webconf; }
check_tcp_idle_timeout() { sc_check_tcp_idle ext "$VIP_ACCESS" "$VIP_WEBCONF"; }

sc_main check_access_tls_443 check_access_sip_5061 check_webconf_443 check_tcp_idle_timeout
