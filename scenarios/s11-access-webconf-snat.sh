#!/usr/bin/env bash
# S11: Access Edge (TLS 443, 5061) and Web Conferencing (443) through their VIPs with SNAT
# seed: "Source Network Address Translation (SNAT) can be configured on the hardware load balancer (HLB) for Access Edge service and Web Conferencing Edge service"
# seed: "For the Access Edge service and Web Conferencing Edge service, (and using NAT on the HLB) the client contacts the VIP, the VIP changes the source IP address from the client to its own IP address"
# spec: R24 connection tracking with TCP idle timeouts of 1800 s; R25 an edge's XMPP federation leaves from the Access VIP
# rows: row_extvip_03, row_extvip_04, row_extvip_06, row_extvip_02
# segments: inet dmzext edgeext
# asserts: a TLS connection to each VIP:port is answered by an edge's service on that edge's own Access/Web Conferencing address; the edge saw the HLB's address, not the client's (SNAT); TCP flows through the Access VIP held idle survive on the wire (edge1's XMPP connections to the partner, which leave from the VIP: idle 1 s and 3 s side by side; with --long 60, 300 and 700 s, past M10's 660 s) and carry data both ways after the gap; the balancer says it keeps idle TCP flows at least 1800 s (R24; read, not observed)
# catches: M10 (short TCP idle timeout: read in the normal run, observed with --long)
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

# ---------------------------------------------------------------- idle TCP

# R24 on the wire: TCP connections through the Access VIP held idle, one per
# gap, side by side. They are edge1's XMPP connections to the partner (R25:
# they leave the HLB from the Access VIP, SNAT with a port of its own): an
# HLB that forgot such a flow sends the edge's next segment on from a new
# port, and the partner resets it. (Inbound A/V flows would not show it: the
# HLB's source affinity picks the same node again and, without SNAT, the
# node takes the segment as its own.) The normal run holds the flows idle
# while the other checks run; --long holds them past M10's 660 s.
PARTNER=198.51.100.20
if [ "$SC_LONG" = 1 ]; then IDLE_GAPS=${SC_IDLE_GAPS:-60 300 700}; else IDLE_GAPS=${SC_IDLE_GAPS:-1 3}; fi
IDLE_MAX=0
for g in $IDLE_GAPS; do [ "$g" -gt $IDLE_MAX ] && IDLE_MAX=$g; done
IDLE_OPEN=''  # the connections' ports on the VIP, as the partner saw them

# idle_holder GAP: in edge1, one connection to the partner's 5269: a line
# and its echo, GAP s of silence, another line and its echo. Prints
# "opened", then "alive" or "dead: WHY". Waits with the socket's own read,
# so a connection that dies during the gap says so at once.
idle_holder() {
	local gap=$1
	exec 3<>"/dev/tcp/$PARTNER/5269" 2>/dev/null || { echo "dead: did not open"; return; }
	echo open >&3
	IFS= read -r -t 3 l <&3 && [ "$l" = open ] || { echo "dead: no echo of the first line"; return; }
	echo opened
	local t0=$EPOCHSECONDS rc
	IFS= read -r -t "$gap" l <&3 2>/dev/null
	rc=$?
	if [ $rc -le 128 ]; then
		echo "dead: closed by the far side after $((EPOCHSECONDS - t0)) s of silence"
		return
	fi
	l=''
	{ echo "after $gap" >&3; } 2>/dev/null || { echo "dead: the write after the gap failed"; return; }
	IFS= read -r -t 3 l <&3 2>"$IDLE_DIR/err.$gap"
	rc=$?
	if [ "$l" = "after $gap" ]; then echo alive; return; fi
	if grep -q 'reset' "$IDLE_DIR/err.$gap"; then echo "dead: reset (Connection reset by peer)"
	elif [ $rc = 1 ]; then echo "dead: closed"
	else echo "dead: no echo within 3 s"; fi
}

# The partner's echo and one holder per gap; each must open (and get its
# first line back) within 5 s.
check_idle_flows_open() {
	local g r peers bad='' t0
	IDLE_DIR=$SC_OUT/idle
	mkdir -p "$IDLE_DIR"
	sc_flow edge1 "$PARTNER:5269" tcp partner
	sc_bg partner "$IDLE_DIR/echo.log" "$BIN/edgeprobe" echo --tcp "$PARTNER:5269" --seconds $((IDLE_MAX + 30))
	slowwait 3 sc_listening partner tcp 5269 ||
		{ sc_fail "edgeprobe echo --tcp did not start on the partner's $PARTNER:5269"; return 1; }
	for g in $IDLE_GAPS; do
		export -f idle_holder
		sc_bg edge1 "$IDLE_DIR/holder.$g" env IDLE_DIR="$IDLE_DIR" PARTNER=$PARTNER bash -c 'idle_holder "$1"' _ "$g"
	done
	for g in $IDLE_GAPS; do
		slowwait 5 grep -q -e '^opened' -e '^dead' "$IDLE_DIR/holder.$g"
		grep -q '^opened' "$IDLE_DIR/holder.$g" && continue
		r=$(head -n 1 "$IDLE_DIR/holder.$g")
		bad+="${bad:+;} the ${g} s one: ${r:-no connection within 5 s}"
		bad=${bad/: dead: /: }
	done
	t0=$EPOCHSECONDS
	[ -z "$bad" ] || { sc_fail "edge1's TCP connections to the partner $PARTNER:5269, to be held idle, did not open:$bad"; return 1; }
	# only connections that opened are watched (check_idle_flows_survive
	# would blame the idle timeout for ones that never did)
	IDLE_T0=$t0
	peers=$(in_node partner ss -Htn state established "( sport = :5269 )" | awk '{ print $NF }' | sort)
	IDLE_OPEN=$(paste -sd' ' <<<"$peers")
	# The holder that opened last is inside its silence now, so at least
	# its connection is there (shorter gaps may have ended already).
	[ -n "$peers" ] ||
		{ sc_fail "the partner $PARTNER:5269 shows no established connection from edge1's holders, which all said they opened: R25 (from the Access VIP) cannot be judged"; return 1; }
	for g in $peers; do
		[ "$(sc_host "$g")" = "$VIP_ACCESS" ] ||
			{ sc_fail "edge1's connection to the partner $PARTNER:5269 arrived from $g, not from the Access VIP $VIP_ACCESS (R25): it does not cross the HLB as a flow through the VIP"; return 1; }
	done
}

# forgotten_why: when a held connection died, whether the capture shows
# the edge's segment after the gap leaving the HLB from a new VIP port.
forgotten_why() {
	local src
	[ ${#SC_CAPS[@]} -gt 0 ] || return 0
	sc_capture_settle
	while read -r src _; do
		[[ " $IDLE_OPEN " == *" $src "* ]] && continue
		echo ": after the gap the edge's segment left the HLB from $src, not from the flow's own VIP port ($IDLE_OPEN): the HLB had forgotten the flow"
		return
	done < <(sc_seen dmzext "tcp and dst host $PARTNER and dst port 5269")
}

# Every held connection carries data after its gap.
check_idle_flows_survive() {
	local g r alive='' dead='' why
	[ -n "${IDLE_T0:-}" ] || { sc_fail "no idle connection was opened to watch"; return 1; }
	sc_flow edge1 "$PARTNER:5269" tcp partner
	for g in $IDLE_GAPS; do
		slowwait $((IDLE_T0 + g + 8 - EPOCHSECONDS)) grep -q -e '^alive' -e '^dead' "$IDLE_DIR/holder.$g"
		r=$(grep -m1 -e '^alive' -e '^dead' "$IDLE_DIR/holder.$g")
		case $r in
		alive) alive+="${alive:+, }${g} s" ;;
		dead*) dead+="${dead:+; }idle ${g} s: ${r#dead: }" ;;
		*) dead+="${dead:+; }idle ${g} s: no result from the holder" ;;
		esac
	done
	if [ -n "$dead" ]; then
		why=$(forgotten_why)
		sc_fail "edge1's TCP connections to the partner $PARTNER:5269 through the Access VIP, held idle, died ($dead)${alive:+, while those idle $alive lived}$why: the balancer's TCP idle timeout is shorter than the gap; the edge guidance wants at least 1800 s (R24)"
		return 1
	fi
	IDLE_SURVIVED=$IDLE_MAX
}

# What the balancer says of its idle timeout: read, not observed.
check_tcp_idle_timeout() {
	sc_check_tcp_idle ${IDLE_SURVIVED:+--observed "$IDLE_SURVIVED"} ext "$VIP_ACCESS" "$VIP_WEBCONF"
}

sc_main check_idle_flows_open check_access_tls_443 check_access_sip_5061 check_webconf_443 \
	check_idle_flows_survive check_tcp_idle_timeout
