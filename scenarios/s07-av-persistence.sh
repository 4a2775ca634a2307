#!/usr/bin/env bash
# S7: Persistence: a client's TURN requests through the VIP reach the node that holds its allocation
# seed: "Once established, client to A/V Edge service communication is to the real server, not the HLB"
# spec: R22 source-address affinity (persistence) with a timeout, on the A/V service
# rows: row_extvip_07, row_extvip_08
# segments: inet dmzext edgeext
# asserts: Allocate, Refresh, CreatePermission, ChannelBind and ChannelData in one session through VIP:3478 all succeed (they reach the node holding the allocation); every new flow from the same client address (new source ports, UDP and TLS) lands on that same node, so a client whose flow the HLB forgot still finds its allocation; after the client's allocations are gone and it kept silent for a gap (2 s; with --long 610 s, longer than an allocation's 600 s and the HLB's 300 s UDP flows), its new flows land on that node again, observed on every balancer; an affinity timeout the balancer lists must be at least 600 s (read, not observed)
# catches: M5 (no source affinity)
. "$(dirname "$0")/lib.sh"
sc_init S7

VIP=$(sc_hostport "$VIP_AV" 3478)
VIPT=$(sc_hostport "$VIP_AV" 443)
PEER=$(sc_hostport 198.51.100.20 50010)

check_session_through_vip() {
	local r
	sc_bg partner "$SC_OUT/echo.log" "$BIN/edgeprobe" echo "$PEER" --seconds 20
	slowwait 3 sc_listening partner udp 50010 ||
		{ sc_fail "edgeprobe echo did not start in partner"; return 1; }
	sc_flow client "$VIP" udp
	if ! sc_turn client turn "$VIP" --peer "$PEER" --refresh --permit --channel 0x4000 \
		--send s07-ping --expect-echo; then
		sc_fail "a session through VIP $VIP failed at $(sc_probe_error): Refresh, CreatePermission and ChannelBind must reach the node holding the allocation"
		return 1
	fi
	r=$(sc_json relayed)
	sc_flow_answered "$(sc_node_of "$(sc_host "$r")")"
	local step
	for step in refresh permit channel; do
		sc_assert_eq "$(sc_json $step)" ok \
			"$step through VIP $VIP answered '$(sc_json $step)', expected ok: it did not reach the node holding the allocation at $r" || return 1
	done
}

# landing TRANSPORT N: the nodes N new allocations from the client (each
# from a new source port) land on, as "edge1 edge1 ...".
landing() {
	local tp=$1 n=$2 t=$VIP out='' r args=()
	[ "$tp" = tls ] && { t=$VIPT; args=(--tls); }
	for ((i = 0; i < n; i++)); do
		if sc_turn client allocate "$t" "${args[@]}"; then
			r=$(sc_json relayed)
			out+=" $(sc_node_of "$(sc_host "$r")")"
		else
			out+=" none($(sc_probe_error | tr ' ' '_'))"
			break # no answer: the rest would say nothing more
		fi
	done
	echo "${out# }"
}

# The node each transport's allocations landed on, and when the last one
# ended (check_affinity_udp/tls), for check_affinity_timeout.
declare -A AFF_NODE=() AFF_END=()

affinity() {
	local tp=$1 t nodes first n
	[ "$tp" = tls ] && t=$VIPT || t=$VIP
	nodes=$(landing "$tp" 4)
	SC_PORT=$((SC_PORT + 4)) # the ports the subshell used: never again
	AFF_END[$tp]=$EPOCHSECONDS
	first=${nodes%% *}
	for n in $nodes; do
		sc_flow client "$t" "${tp/tls/tcp}" "$n"
	done
	case $nodes in
	*none*) sc_fail "allocations over $tp from $(sc_addr client) through VIP $t got: $nodes"; return 1 ;;
	esac
	for n in $nodes; do
		[ "$n" = "$first" ] && continue
		sc_fail "4 allocations over $tp from $(sc_addr client) through VIP $t (new source ports) landed on: $nodes; expected one node (source-address affinity)"
		return 1
	done
	AFF_NODE[$tp]=$first
}

check_affinity_udp() { affinity udp; }
check_affinity_tls() { affinity tls; }

# R22's timeout on the wire: the client's allocations of the checks above
# were deleted when each ended; after AFF_GAP s in which the client sent
# nothing to that service, a new allocation over each transport, from a
# new source port, lands on the node the earlier ones did. --long waits
# past an allocation's
# lifetime (600 s) and the HLB's UDP flows (300 s), so that only the
# affinity itself can remember the client. How long the balancer would
# keep it, where it lists that, is read, not observed.
if [ "$SC_LONG" = 1 ]; then AFF_GAP=${SC_AFF_GAP:-610}; else AFF_GAP=${SC_AFF_GAP:-2}; fi
check_affinity_timeout() {
	local tp t n bad=0 gap secs
	for tp in udp tls; do
		[ "$tp" = tls ] && t=$VIPT || t=$VIP
		[ -n "${AFF_NODE[$tp]:-}" ] ||
			{ sc_fail "no node to compare with over $tp: the allocations of check_affinity_$tp did not land on one node"; bad=1; continue; }
		while [ $EPOCHSECONDS -lt $((AFF_END[$tp] + AFF_GAP)) ]; do sleep 0.2; done
		gap=$((EPOCHSECONDS - AFF_END[$tp]))
		n=$(landing "$tp" 1)
		SC_PORT=$((SC_PORT + 1))
		sc_flow client "$t" "${tp/tls/tcp}" "$n"
		case $n in
		none*) sc_fail "after $gap s of silence, an allocation over $tp from $(sc_addr client) through VIP $t got no answer ($n)"; bad=1 ;;
		"${AFF_NODE[$tp]}") ;;
		*) sc_fail "after $gap s of silence, a new allocation over $tp from $(sc_addr client) through VIP $t landed on $n, the client's earlier ones on ${AFF_NODE[$tp]}: the balancer forgot the client within $gap s (without source-address affinity over that time, a client returning to its allocation finds another node; R22 wants it kept longer than an allocation's 600 s)"; bad=1 ;;
		esac
	done
	[ $bad = 0 ] || return 1
	# What the balancer says of the timeout, where it says it (list --json:
	# null when it keeps no affinity, left out when it cannot say).
	local why
	if sc_lb_json ext; then
		secs=$(sc_lb_field "$VIP_AV" 3478 udp 'if has("affinity_timeout") then (.affinity_timeout // "none") else null end')
		why="its list --json gives no affinity_timeout for $VIP/udp"
	else
		secs='' why=$SC_LB_WHY
	fi
	if [ "$secs" = none ]; then
		sc_fail "the balancer lists no source affinity for $VIP/udp (affinity_timeout null, read from its list, not observed): R22 wants a client kept on its node longer than an allocation's 600 s"
		return 1
	fi
	if [ -z "$secs" ]; then
		local more=''
		[ "$SC_LONG" = 1 ] || more=" (scenarios/run --long observes 610 s)"
		sc_unreported "the affinity timeout of $VIP/udp: $why; affinity was observed over ${AFF_GAP} s of silence only$more"
		return 0
	fi
	sc_assert_ge "$secs" 600 \
		"the A/V service's affinity timeout is ${secs}s (read from the balancer's list, not observed), shorter than a TURN allocation's 600 s lifetime: a quiet client loses its node" || return 1
	sc_unobserved "the affinity timeout of $VIP/udp, ${secs} s, at least an allocation's 600 s, from the balancer's list --json; on the wire affinity held over ${AFF_GAP} s of silence"
}

sc_main check_session_through_vip check_affinity_udp check_affinity_tls check_affinity_timeout
