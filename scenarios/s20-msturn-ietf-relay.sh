#!/usr/bin/env bash
# S20: A Lync-dialect client and an IETF TURN client relay to each other across the two edges, with MRAS credentials
# seed: "SIP/MTLS/TCP/5062 Any -> Edge Server Internal VIP interface: Authentication of A/V users (A/V authentication service)"
# seed: "A/V/STUN,MSTURN/UDP/3478 Any -> Edge Server A/V Edge service public IP address: STUN/TURN negotiation of candidates over UDP/3478"
# seed: "STUN/MSTURN/UDP/3478 Any -> Edge Server Internal interface: Preferred path for A/V media transfer between internal and external users"
# spec: R19 [MS-TURN] interworking with IETF TURN allocations; R20 credentials that every node accepts, for either dialect; R11
# rows: row_intvip_03, row_ext_09, row_int_04, row_ext_05, row_ext_07
# segments: inet dmzext edgeext lan0 dmzint edgeint
# asserts: the Front End fetches credentials from 5062 through the internal VIP (its lab-CA certificate); with them (decoded once from base64) an IETF TURN client on the Front End allocates on edge2's own internal address (10.20.0.31:3478) and permits edge1's relay address (TURN permissions are per IP), and an [MS-TURN] client on the Internet (client) allocates on edge1's own public A/V address (203.0.113.23:3478): the nodes are dialled directly to force one allocation on each, and each relays at its own A/V address; the MS-TURN client's Send request to the IETF relayed address reaches the Front End through both relays from the MS-TURN relayed address and comes back to it as a Data Indication naming the IETF relayed address, and after Set Active Destination a raw datagram makes the same round trip: data both ways through both relays, external to internal
# catches: M4 (VIP as relayed address), M12 (direct server return: no credentials through the internal VIP)
. "$(dirname "$0")/lib.sh"
sc_init S20

MS_NODE=203.0.113.23  # edge1: the Lync client's relay (external side)
IETF_NODE=10.20.0.31  # edge2: the Front End's relay (internal side)
IETF_RELAY_HOST=203.0.113.33

# fetch_credentials: from the Front End through the internal VIP (R20).
fetch_credentials() {
	local t
	t=$(sc_hostport "$VIP_INT" 5062)
	sc_flow fe "$t" tcp
	sc_mras fe "$t" --identity "sip:s20-$$@$LAB_REALM" ||
		{ sc_fail "no credentials from the A/V authentication service through the internal VIP $t ($(sc_mras_why "$t"))"; return 1; }
	sc_flow_answered "$(sc_mras_node "sip:s20-$$@$LAB_REALM" || echo '?')"
}

# leg_why REFLECTED: which leg lost the MS-TURN client's data, from what
# the IETF side saw.
leg_why() {
	if [ "${1:-0}" = 0 ]; then
		echo "nothing reached the Front End through edge2's relay $IETF_R: edge1's relay did not send it on, or edge2 did not let edge1's relay address in"
	else
		echo "the Front End got it through edge2's relay and sent it back (reflected $1), but edge1 did not bring the peer's data back to the MS-TURN client"
	fi
}

# ietf_ready LOG PID: the IETF side has its allocation, or gave up.
ietf_ready() { grep -q '^reflecting at ' "$1" || ! kill -0 "$2" 2>/dev/null; }

check_msturn_ietf_relay() {
	local src log ms_r j refl from
	fetch_credentials || return 1
	# The IETF side first: its relayed address is where the Lync client
	# sends. It lets edge1's relay in (the port is not known yet; a TURN
	# permission covers the IP) and sends back what comes through.
	sc_next_port
	src=$(sc_addr fe 4)
	log=$SC_OUT/ietf.log
	sc_flow fe "$IETF_NODE:3478" udp
	sc_bg fe "$log" "$BIN/edgeprobe" turn "$IETF_NODE:3478" --json --bind "$src:$SC_PORT" \
		--user "$MRAS_USER" --pass "$MRAS_PASS" --permit --peer "$MS_NODE:3478" --reflect 2 \
		--timeout "$((SC_TIMEOUT * 3))"
	local ietf_pid=$SC_BG_PID
	slowwait 5 ietf_ready "$log" "$ietf_pid"
	if ! grep -q '^reflecting at ' "$log"; then
		local why
		why=$(sc_json error "$(grep '^{' "$log" | tail -n 1)")
		[[ $why == *401* ]] && why+=": edge2 refuses credentials that $(sc_mras_node "sip:s20-$$@$LAB_REALM" || echo 'an edge') issued (the pool's nodes do not share one --auth-secret, R20)"
		sc_fail "the IETF client on fe got no allocation on edge2 ($IETF_NODE:3478) with the MRAS credentials: ${why:-$(tail -n 1 "$log" | head -c 200)}"
		return 1
	fi
	IETF_R=$(awk '$1 == "reflecting" { print $3; exit }' "$log")
	sc_flow_answered edge2
	sc_assert_eq "$(sc_host "$IETF_R")" "$IETF_RELAY_HOST" \
		"the IETF allocation on edge2 relays at $IETF_R, expected edge2's own A/V address $IETF_RELAY_HOST$(sc_relayed_why "$IETF_R")" || return 1
	# The Lync side: allocate on edge1, Send to the IETF relayed address,
	# Set Active Destination, raw data (edgeprobe allocate --echo).
	sc_flow client "$MS_NODE:3478" udp
	sc_edgeprobe client allocate "$MS_NODE:3478" --ms-turn --user "$MRAS_USER" --pass "$MRAS_PASS" \
		--echo "$IETF_R" --timeout "$((SC_TIMEOUT * 3))"
	local rc=$SC_RC
	ms_r=$(sc_json relayed)
	wait "$ietf_pid" 2>/dev/null
	j=$(grep '^{' "$log" | tail -n 1)
	printf '      fe turn %s --reflect 2 -> %s\n' "$IETF_NODE:3478" "${j:-$(tail -n 1 "$log")}" >>"$SC_OUT/probes"
	refl=$(sc_json reflected "$j")
	from=$(sc_json reflected_from "$j")
	if [ "$rc" != 0 ]; then
		[ -n "$ms_r" ] || { sc_fail "MS-TURN Allocate on edge1 ($MS_NODE:3478) with the MRAS credentials failed ($(sc_alloc_why udp "$MS_NODE:3478"))"; return 1; }
		sc_flow_answered edge1
		sc_fail "MS-TURN data from edge1's relay $ms_r to the IETF relay $IETF_R: $(sc_probe_error): $(leg_why "$refl")"
		return 1
	fi
	sc_flow_answered edge1
	sc_flow edge1 "$IETF_R" udp edge2
	sc_assert_eq "$(sc_host "$ms_r")" "$MS_NODE" \
		"the MS-TURN allocation on edge1 relays at $ms_r, expected edge1's own A/V address $MS_NODE$(sc_relayed_why "$ms_r")" || return 1
	sc_assert_eq "$from" "$ms_r" \
		"the Front End's client saw the Lync client's data come from ${from:-nowhere}, expected the MS-TURN relayed address $ms_r (its reflect: $(tail -n 1 "$log" | head -c 200))" || return 1
	sc_assert_ge "${refl:-0}" 2 \
		"the Front End's client sent back $refl datagrams, expected the Send request's and the raw one (2)"
}

sc_main check_msturn_ietf_relay
