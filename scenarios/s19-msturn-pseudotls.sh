#!/usr/bin/env bash
# S19: MS-TURN over TCP 443 with pseudo-TLS through the A/V VIP
# seed: "A/V/STUN,MSTURN/TCP/443 Any -> Edge Server A/V Edge service public VIP address: STUN/TURN negotiation of candidates over TCP/443"
# seed: "For the A/V Edge service, the VIP must NOT change the source IP address"
# spec: R19 [MS-TURN] on TCP 443 with its framing and the pseudo-TLS exchange; R11
# rows: row_extvip_08, row_ext_04
# segments: inet dmzext edgeext
# asserts: a TCP connection to VIP:443 answers the fixed pseudo-TLS ClientHello with the fixed ServerHello ([MS-TURN] 2.1.4: what a Lync client sends when UDP is blocked); over the 2.1.4 framing the Allocate with the digest challenge succeeds, the answer verifies, XOR Mapped Address is the client's own address and port, MAPPED-ADDRESS (relayed) a real node's own public A/V address (R11), a TCP one ([MS-TURN] 3.2.5.1: an Allocate over TCP gets a TCP allocated transport address); a Send request to an outside TCP echo peer (the relay connects to it from the relayed address, row_ext_04) comes back as a Data Indication, and after Set Active Destination raw data frames come back raw
# catches: M14 (genuine TLS only on A/V 443), M1 (SNAT on A/V TCP), M2, M3 (the relay's media from the VIP), M4, M6, M8 (media range closed), M12, M13
. "$(dirname "$0")/lib.sh"
sc_init S19

VIP=$(sc_hostport "$VIP_AV" 443)
REALS="203.0.113.23 203.0.113.33"
PEER=$(sc_hostport 198.51.100.20 50019)

# ptls_why: why the pseudo-TLS exchange failed, when the VIP took the TCP
# handshake (the balancer is there and answering) but reset the connection
# on the pseudo-TLS hello, while a real TLS handshake through the same VIP
# goes through: a balancer that lets only genuine TLS through (M14).
ptls_why() {
	local e
	e=$(sc_probe_error)
	case $e in
	*"reset before the pseudo-TLS"* | *"closed before the pseudo-TLS"*) ;;
	*) return 0 ;;
	esac
	local j=$SC_J ej=$SC_E src=$SC_SRC
	if sc_binding client "$VIP" --tls; then
		echo ": a real TLS handshake to $VIP goes through, so the HLB lets only genuine TLS through on A/V 443 (protocol validation or SSL inspection), which breaks the MS-TURN pseudo-TLS fallback"
	fi
	SC_J=$j SC_E=$ej SC_SRC=$src
}

# peer_why RELAYED: where the relay's TCP connection (its SYN) to the echo
# peer went, from the captures, when the data did not come back; nothing
# when it went out from the relayed address as it should.
peer_why() {
	local r=$1 pp out dmz syn
	pp=$(sc_port_of "$PEER")
	[ ${#SC_CAPS[@]} -gt 0 ] && [ -n "$r" ] || return 0
	sc_capture_settle
	syn="tcp[tcpflags] == tcp-syn"
	[ -n "$(sc_seen edgeext "tcp and src port $(sc_port_of "$r") and dst port $pp and $syn")" ] || return 0
	dmz=$(sc_seen dmzext "tcp and dst port $pp and $syn" | awk '{ print $1; exit }')
	out=$(sc_seen inet "tcp and dst port $pp and $syn" | awk '{ print $1; exit }')
	if [ -z "$dmz" ]; then
		echo ": the relay's connection from $r to the peer never left the HLB"
	elif [ "$(sc_host "$dmz")" != "$(sc_host "$r")" ]; then
		echo ": the relay's connection to the peer left the HLB from $dmz instead of $r: the HLB rewrote the source of an edge's own flow to a VIP"
	elif [ -z "$out" ]; then
		echo ": the relay's connection from $r to the peer never got past fwext (TCP 50000-59999 out, row_ext_04)"
	fi
}

check_ms_pseudo_tls_vip() {
	local r host mapped
	# A TCP allocation's peer is a TCP one.
	sc_bg partner "$SC_OUT/echo.log" "$BIN/edgeprobe" echo --tcp "$PEER" --seconds 20
	slowwait 3 sc_listening partner tcp 50019 ||
		{ sc_fail "edgeprobe echo --tcp did not start in partner: $(head -c 200 "$SC_OUT/echo.log")"; return 1; }
	sc_flow client "$VIP" tcp
	if ! sc_turn client allocate "$VIP" --ms-turn --pseudo-tls --echo "$PEER"; then
		r=$(sc_json relayed)
		if [ -z "$(sc_json pseudo_tls)" ]; then
			if sc_probe_timed_out; then
				sc_fail "MS-TURN pseudo-TLS exchange with $VIP failed ($(sc_probe_error): $(sc_why_no_answer tcp "$SC_SRC" "$VIP"))$(ptls_why)"
			else
				sc_fail "MS-TURN pseudo-TLS exchange with $VIP failed ($(sc_probe_error))$(ptls_why)"
			fi
		elif [ -z "$r" ]; then
			sc_fail "MS-TURN Allocate over pseudo-TLS to $VIP failed ($(sc_alloc_why tcp "$VIP"))"
		else
			sc_flow_answered "$(sc_node_of "$(sc_host "$r")")"
			sc_fail "MS-TURN data over pseudo-TLS through $VIP, relayed $r, to the echo $PEER: $(sc_probe_error)$(peer_why "$r")"
		fi
		return 1
	fi
	r=$(sc_json relayed)
	host=$(sc_host "$r")
	mapped=$(sc_json xor_mapped)
	sc_flow_answered "$(sc_node_of "$host")"
	sc_flow "$(sc_node_of "$host")" "$PEER" tcp partner
	# A stream: the answers come on the connection made to the VIP.
	sc_assert_eq "$(sc_json from)" "$VIP" \
		"the MS-TURN pseudo-TLS connection to $VIP is with $(sc_json from), expected the VIP" || return 1
	sc_assert_eq "$mapped" "$SC_SRC" \
		"XOR Mapped Address over pseudo-TLS through $VIP is $mapped, expected the client's own $SC_SRC: $(sc_mapped_why "$mapped" "$SC_SRC")" || return 1
	sc_assert_in "$host" "$REALS" \
		"MAPPED-ADDRESS (relayed) of an MS-TURN Allocate over pseudo-TLS through $VIP is $r, expected a real node's own A/V address ($REALS)$(sc_relayed_why "$r")" || return 1
	sc_assert_eq "$(sc_json integrity)/$(sc_json send_echo)/$(sc_json active_echo)" ok/ok/ok \
		"MS-TURN over pseudo-TLS through $VIP: integrity/Send echo/raw echo $(sc_json integrity)/$(sc_json send_echo)/$(sc_json active_echo), expected ok/ok/ok"
}

sc_main check_ms_pseudo_tls_vip
