#!/usr/bin/env bash
# S15: Direct internal flows to each edge's internal address, from both internal subnets
# seed: "Internal edge to internal servers and clients must be routed, and persistent routes are set for all internal networks that host servers or clients"
# spec: R3a Web Conferencing (8057), XMPP (23456), replication (4443) and logging (50001-50003) go straight to each node
# rows: row_int_01, row_int_02, row_int_03, row_int_06, row_int_07, row_int_08
# segments: lan0 lan1 dmzint edgeint
# asserts: from the Front End (10.10.0.0/24) and from inclient (10.10.1.0/24), a TLS connection to each edge's internal address on 4443, 8057, 23456, 50001, 50002 and 50003 is answered by that very edge, which saw the caller's own address
# catches: M7 (no persistent route to 10.10.1.0/24), M11 (internal HLB balances 8057/23456)
. "$(dirname "$0")/lib.sh"
sc_init S15

PORTS="4443 8057 23456 50001 50002 50003"

# why_unanswered EDGE CALLER ADDR PORT: the edge's route back to the
# caller, and what the capture saw of its answer on dmzint.
why_unanswered() {
	local edge=$1 caller=$2 addr=$3 port=$4 r line src
	r=$(sc_route_back_why "$edge" "$caller")
	[ -n "$r" ] && { echo "$r"; return; }
	sc_capture_settle
	line=$(sc_seen dmzint "tcp and src port $port and dst host $caller" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$edge routes $caller through the internal HLB, but no answer left the HLB towards it"
		return
	fi
	src=${line%% *}
	if [ "$(sc_host "$src")" != "$addr" ]; then
		echo "$edge's answer left the internal HLB from $src instead of $addr:$port: the HLB rewrote a direct flow's answer, and fwint dropped it"
	else
		echo "$edge's answer left the internal HLB from $src and did not reach $caller"
	fi
}

# direct CALLER EDGE ADDR: every port, straight to that edge.
direct() {
	local caller=$1 edge=$2 addr=$3 me port svc
	me=$(sc_addr "$caller")
	for port in $PORTS; do
		sc_flow "$caller" "$addr:$port" tcp "$edge"
		if ! sc_lprobe "$caller" tls "$addr" "$port"; then
			sc_fail "$caller ($me) got no answer from $edge's own $addr:$port ($(sc_probe_error)): $(why_unanswered "$edge" "$me" "$addr" "$port")"
			return 1
		fi
		sc_flow_answered "$R_NODE"
		svc=$R_SERVICE
		if [ "$R_NODE" != "$edge" ]; then
			sc_fail "$caller's connection to $edge's own $addr:$port ($svc) was answered by $R_NODE, which saw the caller as $R_CLIENT: the internal HLB balanced a flow to the node's own address that R3a sends straight to the node"
			return 1
		fi
		sc_assert_eq "$(sc_host "$R_CLIENT")" "$me" \
			"$edge saw $caller's connection to $addr:$port ($svc) come from $R_CLIENT, expected $caller's own $me: the internal HLB intercepted (NATed) a flow to the node's own address that R3a sends straight to the node" || return 1
	done
}

check_fe_to_edge1() { direct fe edge1 10.20.0.21; }
check_fe_to_edge2() { direct fe edge2 10.20.0.31; }
check_inclient_to_edge1() { direct inclient edge1 10.20.0.21; }
check_inclient_to_edge2() { direct inclient edge2 10.20.0.31; }

sc_main check_fe_to_edge1 check_fe_to_edge2 check_inclient_to_edge1 check_inclient_to_edge2
