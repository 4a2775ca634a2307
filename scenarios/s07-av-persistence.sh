#!/usr/bin/env bash
# S7: Persistence: a client's TURN requests through the VIP reach the node that holds its allocation
# seed: "Once established, client to A/V Edge service communication is to the real server, not the HLB"
# spec: R22 source-address affinity (persistence) with a timeout, on the A/V service
# rows: row_extvip_07, row_extvip_08
# segments: inet dmzext edgeext
# asserts: Allocate, Refresh, CreatePermission, ChannelBind and ChannelData in one session through VIP:3478 all succeed (they reach the node holding the allocation); every new flow from the same client address (new source ports, UDP and TLS) lands on that same node, so a client whose flow the HLB forgot still finds its allocation; the affinity outlives the allocation's lifetime
# catches: M5 (no source affinity)
. "$(dirname "$0")/lib.sh"
sc_init S7

VIP=$(sc_hostport "$VIP_AV" 3478)
VIPT=$(sc_hostport "$VIP_AV" 443)
PEER=$(sc_hostport 198.51.100.20 50010)

check_session_through_vip() {
	local r
	sc_bg partner "$SC_OUT/echo.log" "$BIN/edgeprobe" echo "$PEER" --seconds 20
	sc_wait 3 sc_in partner ss -Hlun "sport = :50010" ||
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

affinity() {
	local tp=$1 t nodes first n
	[ "$tp" = tls ] && t=$VIPT || t=$VIP
	nodes=$(landing "$tp" 4)
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
}

check_affinity_udp() { affinity udp; }
check_affinity_tls() { affinity tls; }

# The HLB keeps the client's affinity longer than an allocation lives
# (default lifetime 600 s), where the balancer can say.
check_affinity_timeout() {
	local list t
	list=$(sc_hlb ext list 2>/dev/null) || { sc_skip "the balancer has no list of its services"; return; }
	t=$(awk -v v="$(sc_hostport "$VIP_AV" 3478)/udp" '$1 == "service" && $3 == v {
		for (i = 1; i < NF; i++) if ($i == "affinity-timeout") print $(i + 1) }' <<<"$list")
	[ -n "$t" ] || { sc_skip "the balancer does not list an affinity timeout for $VIP/udp"; return; }
	sc_assert_ge "$t" 600 \
		"the A/V service's affinity timeout is ${t}s, shorter than a TURN allocation's 600 s lifetime: a quiet client loses its node"
}

sc_main check_session_through_vip check_affinity_udp check_affinity_tls check_affinity_timeout
