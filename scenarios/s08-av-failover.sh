#!/usr/bin/env bash
# S8: Failover: one node's relay dies; new allocations through the VIP land on the other node within the monitor's fall time
# seed: "Hardware load balancers have specific requirements when deployed to provide availability and load balancing for Lync Server"
# spec: R23 health monitors (STUN Binding over UDP) with interval, rise and fall; a failed node takes no new flows
# rows: row_extvip_07, row_ext_05, row_ext_07
# lab: own (it kills a relay)
# segments: inet dmzext edgeext
# asserts: the client's node X is found through the VIP; a media session on the other node Y runs throughout; X's avedge is killed; within the monitor's fall time (interval x (fall + 1), plus 4 s of slack for a busy machine) an Allocate through the VIP lands on Y; Y's session loses nothing
# catches: M9 (health monitor off)
. "$(dirname "$0")/lib.sh"
sc_init S8

VIP=$(sc_hostport "$VIP_AV" 3478)
BOUND=12   # seconds: the longest any monitor may take here
SLACK=4000 # ms on top of the monitor's nominal fall time: our polling, and a
           # balancer's work to take the node out, on a busy 2-core machine

# The monitor's fall time for the A/V UDP service, interval x (fall + 1),
# plus SLACK, from the balancer's list --json ("MS listed"); "BOUND-MS
# bound" when it cannot say, and FALL_WHY then says why. Read, not
# observed: the failover itself is timed on the wire.
fall_time() {
	local iv f kind
	FALL_LIMIT=$((BOUND * 1000)) FALL_FROM=bound FALL_WHY=''
	if ! sc_lb_json ext; then
		FALL_WHY=$SC_LB_WHY
		return 0
	fi
	kind=$(sc_lb_field "$VIP_AV" 3478 udp .monitor.kind)
	iv=$(sc_lb_field "$VIP_AV" 3478 udp .monitor.interval_ms)
	f=$(sc_lb_field "$VIP_AV" 3478 udp .monitor.fall)
	if [[ $iv =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]]; then
		FALL_LIMIT=$((iv * (f + 1) + SLACK)) FALL_FROM=listed
	elif [ "$kind" = none ]; then
		FALL_WHY="its list --json says the service has no monitor (monitor.kind none)"
	else
		FALL_WHY="its list --json gives no monitor.interval_ms and monitor.fall for $VIP/udp${kind:+ (monitor.kind $kind)}"
	fi
}

node_of_relayed() { sc_node_of "$(sc_host "$(sc_json relayed)")"; }

avedge_pid() { # NODE -> avedge's pid, if its start time still matches
	local name node pid start
	while read -r name node pid start; do
		[ "$name" = "avedge-$1" ] || continue
		[ "$(awk '{ print $22 }' "/proc/$pid/stat" 2>/dev/null)" = "$start" ] && echo "$pid"
	done <"$SC_STATE/pids"
}

check_failover() {
	local x y pid t0 t1 limit limit_from landed='' load_pid peer
	sc_flow client "$VIP" udp
	sc_turn client allocate "$VIP" ||
		{ sc_fail "no Allocate through VIP $VIP before the failure ($(sc_probe_error))"; return 1; }
	x=$(node_of_relayed)
	case $x in edge1) y=edge2 ;; edge2) y=edge1 ;; *) sc_fail "the Allocate through the VIP was relayed at $(sc_json relayed), not on an edge$(sc_relayed_why "$(sc_json relayed)")"; return 1 ;; esac
	sc_flow_answered "$x"
	# A media session on Y, directly at its own address, runs across the
	# failure: 40 packets a second for 4 s, echoed by the client's peer.
	peer=$(sc_hostport "$(sc_addr client)" 50020)
	sc_flow client "$(sc_addr "$y"):3478" udp "$y"
	sc_bg client "$SC_OUT/load-$y.json" "$BIN/edgeprobe" load "$(sc_addr "$y"):3478" --allocations 2 \
		--rate 40 --seconds 4 --drain 2000 --peer "$peer" --user "$LAB_USER" --pass "$LAB_PASSWORD" --json
	load_pid=$SC_BG_PID
	pid=$(avedge_pid "$x")
	[ -n "$pid" ] || { sc_fail "cannot find avedge's pid on $x in $SC_STATE/pids"; return 1; }
	kill -KILL "$pid"
	t0=$(sc_now_ms)
	fall_time
	limit=$FALL_LIMIT limit_from=$FALL_FROM
	[ "$limit_from" = listed ] || sc_unreported "the monitor's interval and fall for $VIP/udp: $FALL_WHY; the failover is held to the scenario's fixed $BOUND s bound instead"
	sc_note "avedge on $x (pid $pid) killed; the monitor's fall time is at most $limit ms"
	while [ $(($(sc_now_ms) - t0)) -lt $((BOUND * 1000)) ]; do
		SC_RETRY=0 SC_TIMEOUT=300 sc_turn client allocate "$VIP" --timeout 300 && landed=$(node_of_relayed)
		[ "$landed" = "$y" ] && break
		sleep 0.2
	done
	t1=$(sc_now_ms)
	sc_flow client "$VIP" udp "$landed"
	if [ "$landed" != "$y" ]; then
		sc_fail "$BOUND s after avedge on $x died, Allocates through VIP $VIP still get ${landed:+an answer from $landed}${landed:-no answer} ($(sc_probe_error)): the HLB keeps sending new flows to the dead node (no health monitor?)"
		return 1
	fi
	sc_note "new allocations through the VIP land on $y after $((t1 - t0)) ms"
	sc_assert_ge "$limit" "$((t1 - t0))" \
		"new allocations through VIP $VIP reached $y only $((t1 - t0)) ms after $x died, later than the monitor's fall time ($limit ms, $([ "$limit_from" = listed ] && echo "read from the balancer's list, not observed" || echo "the scenario's bound"))" || return 1
	if [ "$limit_from" = listed ]; then
		sc_unobserved "the monitor's fall time for $VIP/udp, $((limit - SLACK)) ms (interval x (fall + 1)) + $SLACK ms of slack, from the balancer's list --json: the limit the failover was held to; the failover itself took $((t1 - t0)) ms on the wire"
	fi
	# Y's session carried on untouched.
	slowwait $BOUND sh -c "! kill -0 $load_pid 2>/dev/null"
	reap "$load_pid" 2>/dev/null # no longer ours to stop at exit
	local j loss
	j=$(grep '^{' "$SC_OUT/load-$y.json" | tail -n 1)
	loss=$(sc_json loss_pct "$j")
	if [ -z "$loss" ]; then
		local e
		e=$(sc_json error "$j")
		[ -n "$e" ] || e=$(grep -v '^{' "$SC_OUT/load-$y.json" | tail -n 1)
		sc_fail "the media session on $y (directly at $(sc_addr "$y"):3478) failed while $x failed over: $e"
		return 1
	fi
	# Untouched: a disruption (flows flushed, the node taken out too)
	# loses most of it; a busy machine may lose an echo or two.
	[ "$loss" = 0.000 ] || sc_remark "the media session on $y lost $loss% while $x failed over"
	awk -v l="$loss" 'BEGIN { exit !(l <= 5) }' ||
		sc_fail "the media session on $y lost $loss% of its packets while $x failed over ($(sc_json received "$j") of $(sc_json sent "$j") echoed): the other node's sessions must carry on untouched"
}

sc_main check_failover
