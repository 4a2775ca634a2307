#!/usr/bin/env bash
# S9: Drain: a node drained in the HLB takes no new flows; its existing allocations keep working
# spec: R26 runtime control: drain a real server; R22 persistence keeps existing flows where they are
# rows: row_extvip_07
# lab: own (it drains a node)
# segments: inet dmzext edgeext
# asserts: the client's node X is found through the VIP; a media session through the VIP runs on X; X is drained (ctl drain * X); new allocations through the VIP (new source ports) land on the other node; X's session through the VIP loses nothing
# catches: (a balancer whose drain drops flows or keeps scheduling the node)
. "$(dirname "$0")/lib.sh"
sc_init S9

VIP=$(sc_hostport "$VIP_AV" 3478)

check_drain() {
	local x y load_pid peer j out n nodes=''
	sc_flow client "$VIP" udp
	sc_turn client allocate "$VIP" ||
		{ sc_fail "no Allocate through VIP $VIP before the drain ($(sc_probe_error))"; return 1; }
	x=$(sc_node_of "$(sc_host "$(sc_json relayed)")")
	case $x in edge1) y=edge2 ;; edge2) y=edge1 ;; *) sc_fail "the Allocate through the VIP was relayed at $(sc_json relayed), not on an edge$(sc_relayed_why "$(sc_json relayed)")"; return 1 ;; esac
	sc_flow_answered "$x"
	# A session through the VIP (so on X, by affinity), set up before the
	# drain and sending during and after it.
	peer=$(sc_hostport "$(sc_addr client)" 50020)
	sc_next_port
	sc_bg client "$SC_OUT/load.json" "$BIN/edgeprobe" load "$VIP" --allocations 2 --rate 40 \
		--seconds 2 --idle 1 --drain 2000 --peer "$peer" --bind "$(sc_addr client)" \
		--user "$LAB_USER" --pass "$LAB_PASSWORD" --json
	load_pid=$SC_BG_PID
	slowwait 5 grep -q ready "$SC_OUT/load.json" ||
		{ sc_fail "the session through the VIP did not start: $(tail -c 300 "$SC_OUT/load.json")"; return 1; }
	out=$(sc_hlb ext drain '*' "$x" 2>&1)
	case $? in
	0) ;;
	2) sc_unreported "no drain: the external balancer's control cannot drain $x (exit 2${out:+: $(tail -n 1 <<<"$out")}); R26's drain is not checked"
		sc_skip "no control to drain the external balancer${out:+: $(tail -n 1 <<<"$out")} (vips file: ctl-ext)"; return ;;
	*) sc_fail "drain of $x failed: $out"; return 1 ;;
	esac
	sc_note "drained $x: $(tail -n 1 <<<"$out")"
	for n in 1 2 3; do
		if sc_turn client allocate "$VIP"; then
			nodes+=" $(sc_node_of "$(sc_host "$(sc_json relayed)")")"
		else
			nodes+=" none($(sc_probe_error | tr ' ' _))"
		fi
		sc_flow client "$VIP" udp "${nodes##* }"
		[ "${nodes##* }" = "$y" ] || break
	done
	for n in $nodes; do
		[ "$n" = "$y" ] && continue
		sc_fail "after $x was drained, new allocations through VIP $VIP landed on:$nodes; expected $y only (a drained node takes no new flows)"
		return 1
	done
	slowwait 10 sh -c "! kill -0 $load_pid 2>/dev/null"
	reap "$load_pid" 2>/dev/null # no longer ours to stop at exit
	j=$(grep '^{' "$SC_OUT/load.json" | tail -n 1)
	sc_flow client "$VIP" udp "$x"
	if [ -z "$(sc_json loss_pct "$j")" ]; then
		local e
		e=$(sc_json error "$j")
		[ -n "$e" ] || e=$(grep -v '^{' "$SC_OUT/load.json" | tail -n 1)
		sc_fail "the session on $x through the VIP failed after $x was drained: $e"
		return 1
	fi
	local loss
	loss=$(sc_json loss_pct "$j")
	[ "$loss" = 0.000 ] || sc_remark "the session on $x through the VIP lost $loss% after the drain"
	awk -v l="$loss" 'BEGIN { exit !(l <= 5) }' ||
		sc_fail "the session on $x through the VIP lost $loss% of its packets after $x was drained ($(sc_json received "$j") of $(sc_json sent "$j") echoed): a drain must let existing flows run on"
}

sc_main check_drain
