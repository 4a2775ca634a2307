#!/usr/bin/env bash
# hlb_monitor.sh: hlb's stun and tls monitors (R23) against a live
# server, a real avedge, in two namespaces:
#   lb (203.0.113.10, 2001:db8:3::10) -- srv (203.0.113.23, 2001:db8:3::23)
# avedge listens on 3478/udp (IPv4 and IPv6) and 443/tls. For each
# monitor: up while avedge runs, with no flap over rise + fall probes;
# down once it is killed, within interval x fall (+ one timeout) and not
# sooner than fall probes allow; up again once it is back, after rise
# good probes and not sooner. Servers that answer but speak the wrong
# protocol (a plain UDP echo for stun, a plain TCP greeter for tls) must
# be down: the monitors check the protocol, not only that something
# listens.
#
# The timing is the lab's own A/V monitor, read from lb/conf/hlbext.conf
# (service av-udp), not a test's invention. The bounds are the monitor's
# promises computed from it, plus SLACK for this script's own polling.
# Exit 0 pass, 77 skip, other fail.
set -uo pipefail

. "$(dirname "$0")/../lib/lib.sh"
lib_init hlb_monitor
need_tun
need_bin hlb lbecho avedge
setup_ns LB SRV
SOCK=$T_TMP/hlb.sock

# "monitor stun interval 1 timeout 0.5 rise 2 fall 3" in the av-udp block.
MON=$(awk '/^service /{ svc = $2 } svc == "av-udp" && $1 == "monitor" {
	$1 = $2 = ""; print; exit }' "$EDGELAB_ROOT/lb/conf/hlbext.conf")
mon_key() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$MON"; }
IVL=$(mon_key interval) TMO=$(mon_key timeout) RISE=$(mon_key rise) FALL=$(mon_key fall)
[ -n "$IVL" ] && [ -n "$TMO" ] && [ -n "$RISE" ] && [ -n "$FALL" ] ||
	bail "no av-udp monitor timing in lb/conf/hlbext.conf ('$MON')"
# This script's own observation: it polls every 0.05 s, each poll a
# `hlb ctl` run, on a machine that may be busy.
SLACK=0.5

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
ctl() { "$BIN/hlb" ctl --socket "$SOCK" "$@"; }

# A link is ready for IPv6 once the kernel has taken its carrier in
# (linkwatch, asynchronous, at most once a second when other links are
# changing, as they are on a machine running other labs): state UP, and
# addrconf has set the device up, which adds its multicast route. Before
# that, even with nodad, the device drops incoming IPv6 multicast (no
# route), so the first neighbour solicitation is lost and resolution
# waits for its retransmission, a second later: the monitor's first
# probes to the IPv6 real would fail for reasons that are the test's.
link_ready() { # ns dev
	ip -n "$1" -o link show dev "$2" | grep -q ' state UP ' &&
		ip -n "$1" -6 route show table local dev "$2" | grep -q '^multicast ff00::/8'
}
links_ready() { link_ready $LB l1 && link_ready $SRV s0; }

setup() {
	ip link add s0 netns $SRV type veth peer name l1 netns $LB || return 1
	in_ns $LB ip addr add 203.0.113.10/24 dev l1
	in_ns $LB ip addr add 203.0.113.12/32 dev l1
	in_ns $LB ip addr add 2001:db8:3::10/64 dev l1 nodad
	in_ns $LB ip addr add 2001:db8:3::12/128 dev l1 nodad
	in_ns $LB ip link set l1 up
	in_ns $SRV ip addr add 203.0.113.23/24 dev s0
	in_ns $SRV ip addr add 2001:db8:3::23/64 dev s0 nodad
	in_ns $SRV ip link set s0 up
	in_ns $SRV ip route add default via 203.0.113.10
	in_ns $SRV ip route add default via 2001:db8:3::10
	make_cert
	slowwait 5 links_ready || {
		echo "    links not ready for IPv6 after 5 s:"
		ip -n $LB -o link show dev l1; ip -n $SRV -o link show dev s0
		return 1
	}
	# The wrong protocols, on ports of their own.
	in_ns $SRV "$BIN/lbecho" serve udp 203.0.113.23 3479 echo >/dev/null 2>&1 & disown
	in_ns $SRV "$BIN/lbecho" serve tcp 203.0.113.23 8443 greeter >/dev/null 2>&1 & disown
	cat >"$T_TMP/hlb.conf" <<CONF
socket $SOCK
tun hlbm0
service av-udp 203.0.113.12:3478/udp
	mode dnat
	real edge1 203.0.113.23
	monitor stun $MON
service av6-udp [2001:db8:3::12]:3478/udp
	mode dnat
	real edge1 2001:db8:3::23
	monitor stun $MON
service av-tls 203.0.113.12:443/tcp
	mode dnat
	real edge1 203.0.113.23
	monitor tls $MON
service udp-echo 203.0.113.12:3479/udp
	mode dnat
	real edge1 203.0.113.23
	monitor stun $MON
service tcp-greeter 203.0.113.12:8443/tcp
	mode dnat
	real edge1 203.0.113.23
	monitor tls $MON
service greeter-tcp 203.0.113.12:8444/tcp
	mode dnat
	real edge1 203.0.113.23
	monitor tcp $MON port 8443
CONF
	start_avedge || return 1
	in_ns $LB "$BIN/hlb" --config "$T_TMP/hlb.conf" 2>"$T_TMP/hlb.log" & disown
	slowwait 5 ctl list >/dev/null 2>&1 && return 0
	cat "$T_TMP/hlb.log"
	return 1
}

start_avedge() {
	# ip netns exec, not in_ns: $! must be avedge itself (ip execs it).
	ip netns exec $SRV "$BIN/avedge" --listen 203.0.113.23:3478/udp \
		--listen '[2001:db8:3::23]:3478/udp' --listen 203.0.113.23:443/tls \
		--cert "$T_TMP/cert.pem" --key "$T_TMP/key.pem" \
		--relay-ip 203.0.113.23 --relay-ip 2001:db8:3::23 --user alice:secret \
		--threads 1 --grace 0 2>>"$T_TMP/avedge.log" &
	AVEDGE=$!
	slowwait 5 listening && return 0
	echo "    avedge did not start"; cat "$T_TMP/avedge.log"
	return 1
}

listening() { # every avedge socket is bound
	local u t
	u=$(in_ns $SRV ss -Hlun) t=$(in_ns $SRV ss -Hltn)
	grep -qF '203.0.113.23:3478' <<<"$u" && grep -qF '[2001:db8:3::23]:3478' <<<"$u" &&
		grep -qF '203.0.113.23:443' <<<"$t"
}

# "SERVICE up|down", one line per service (its one real), one ctl call.
healths() {
	ctl list | awk '/^service /{ svc = $2 } / real edge1 /{
		for (i = 1; i < NF; i++) if ($i == "health") print svc, $(i + 1) }'
}
health() { healths | awk -v s="$1" '$1 == s { print $2 }'; }
all_in() { # state service...: every one of them in state, now
	local state=$1 h s
	shift
	h=$(healths)
	for s in "$@"; do grep -qx "$s $state" <<<"$h" || return 1; done
}
show() { local s; for s in "$@"; do printf '%s %s ' "$s" "$(health "$s")"; done; }

# The real's monitor counters (hlb ctl stats): "ok fail retx late".
probes() {
	ctl stats | awk -v s="$1" '/^service /{ svc = $2 } svc == s && / real edge1 /{
		for (i = 1; i < NF; i++) c[$i] = $(i + 1)
		print c["mon_ok"] + 0, c["mon_fail"] + 0, c["mon_retx"] + 0, c["mon_late"] + 0 }'
}
probed_at_least() { # n service...: each has had n results
	local n=$1 s r
	shift
	for s in "$@"; do
		r=$(probes "$s")
		[ -n "$r" ] && [ $(( ${r%% *} + $(cut -d' ' -f2 <<<"$r") )) -ge "$n" ] || return 1
	done
}

# Results of one kind (ok|fail) per service, "svc n" lines.
results() { # ok|fail service...
	local col s
	col=$([ "$1" = ok ] && echo 1 || echo 2)
	shift
	for s in "$@"; do echo "$s $(probes "$s" | cut -d' ' -f"$col")"; done
}
# Each service had at least n results of that kind since the snapshot.
counted_since() { # ok|fail n snapshot service...
	local kind=$1 n=$2 snap=$3 s c0 c1
	shift 3
	for s in "$@"; do
		c0=$(awk -v s="$s" '$1 == s { print $2 }' <<<"$snap")
		c1=$(probes "$s" | cut -d' ' -f"$([ "$kind" = ok ] && echo 1 || echo 2)")
		[ $((c1 - c0)) -ge "$n" ] ||
			{ echo "    $s changed state after $((c1 - c0)) $kind result(s), not $n"; return 1; }
	done
}

# Wait, bounded, until every service given is in state. A check counts
# if it began within the bound: on a busy machine one `hlb ctl` run can
# take a while, and that is this script's delay, not the monitor's.
# Prints "E S": the seconds from t0 at the end of the check that saw the
# state (it was there by then) and at its start.
wait_health() { # state seconds t0 service...
	local state=$1 limit=$2 t0=$3 s
	shift 3
	while :; do
		s=$(since "$t0")
		le "$s" "$limit" || { echo "$s $s"; return 1; }
		all_in "$state" "$@" && { echo "$(since "$t0") $s"; return 0; }
		sleep 0.05
	done
}
# ", seen by a check begun at S s" when E is past the bound.
begun() { le "$1" "$3" || echo ", seen by a check begun at ${2}s"; } # E S bound

MONITORED="av-udp av6-udp av-tls"

t_up_while_running() {
	local n s bound ok fail retx late
	# Long enough for a flap to show: rise + fall results each.
	n=$((RISE + FALL))
	bound=$(calc "($n + 1) * $IVL + $TMO + $SLACK")
	slowwait "$bound" probed_at_least $n $MONITORED ||
		{ echo "    fewer than $n probe results in ${bound}s:"; for s in $MONITORED; do echo "    $s $(probes "$s")"; done; return 1; }
	all_in up $MONITORED || { echo "    $(show $MONITORED)"; return 1; }
	for s in $MONITORED; do
		if grep -q "$s/edge1 down" "$T_TMP/hlb.log"; then
			echo "    $s went down while avedge ran"
			return 1
		fi
		read -r ok fail retx late <<<"$(probes "$s")"
		echo "    $s probes: ok $ok fail $fail (retransmitted $retx, answer seen at the timer $late)"
	done
}

t_wrong_protocol_down() {
	local t bound
	bound=$(calc "$FALL * $IVL + $TMO + $SLACK")
	t=$(wait_health down "$bound" "$(now)" udp-echo tcp-greeter) ||
		{ echo "    $(show udp-echo tcp-greeter)"; return 1; }
	# The greeter does accept TCP: the tcp monitor says up.
	[ "$(health greeter-tcp)" = up ] || { echo "    tcp monitor on the greeter: $(health greeter-tcp)"; return 1; }
}

t_down_after_kill() {
	local lower upper t ts t0 s snap
	# The fall-th failure comes at most fall intervals (and one timeout,
	# had the server gone silent instead of refusing) after the kill,
	# and at least fall - 1 intervals after it, less half a timeout (a
	# probe in flight at the kill is refused when it is sent again).
	upper=$(calc "$IVL * $FALL + $TMO + $SLACK")
	lower=$(calc "$IVL * ($FALL - 1) - $TMO / 2 - 0.05")
	snap=$(results fail $MONITORED)
	t0=$(now)
	kill -9 "$AVEDGE"
	wait "$AVEDGE" 2>/dev/null
	listening && { echo "    avedge still listens after kill -9"; return 1; }
	t=$(wait_health down "$upper" "$t0" $MONITORED) ||
		{ echo "    not all down within ${upper}s: $(show $MONITORED)"; return 1; }
	read -r t ts <<<"$t"
	echo "    all down ${t}s after the kill (interval x fall = $(calc "$IVL * $FALL")s, bound ${upper}s$(begun "$t" "$ts" "$upper"))"
	ge "$t" "$lower" || { echo "    down after ${t}s: sooner than fall ($FALL) probes allow (${lower}s)"; return 1; }
	counted_since fail "$FALL" "$snap" $MONITORED || return 1
	monitors_logged down
}

# monitors_logged up|down: hlb logged edge1 going that way by each monitor.
monitors_logged() {
	local s
	for s in av-udp/edge1:stun av6-udp/edge1:stun av-tls/edge1:tls; do
		grep -q "${s%:*} $1 by ${s#*:} monitor" "$T_TMP/hlb.log" ||
			{ echo "    no '${s%:*} $1 by ${s#*:} monitor'"; return 1; }
	done
}

t_up_after_rise() {
	local lower upper t ts t0 t1 s snap
	# Not before rise good probes: the first can come as soon as avedge
	# listens, the rise-th (rise - 1) intervals later. At the latest:
	# a probe within an interval of avedge listening, rise - 1 more,
	# each answered within the timeout.
	lower=$(calc "$IVL * ($RISE - 1) - 0.05")
	upper=$(calc "$IVL * $RISE + $TMO + $SLACK")
	snap=$(results ok $MONITORED)
	t0=$(now)
	start_avedge || return 1
	t1=$(now)
	t=$(wait_health up "$upper" "$t1" $MONITORED) ||
		{ echo "    not all up within ${upper}s of avedge listening: $(show $MONITORED)"; return 1; }
	read -r t ts <<<"$t"
	echo "    all up ${t}s after avedge listened (rise x interval = $(calc "$IVL * $RISE")s, bound ${upper}s$(begun "$t" "$ts" "$upper"))"
	t=$(since "$t0")
	ge "$t" "$lower" || { echo "    up ${t}s after avedge started: sooner than rise ($RISE) probes allow (${lower}s)"; return 1; }
	counted_since ok "$RISE" "$snap" $MONITORED || return 1
	monitors_logged up
}

main() {
	echo "  monitor timing (lb/conf/hlbext.conf, av-udp): interval ${IVL}s timeout ${TMO}s rise $RISE fall $FALL"
	setup || { cat "$T_TMP/hlb.log" "$T_TMP/avedge.log" 2>/dev/null; bail "setup"; }
	check "stun (IPv4, IPv6), tls monitors: up, no flap, while avedge runs" t_up_while_running
	check "wrong protocol: stun on a UDP echo, tls on plain TCP: down"        t_wrong_protocol_down
	check "avedge killed: all down within interval x fall, not sooner"       t_down_after_kill
	check "avedge back: up after rise good probes, not sooner"               t_up_after_rise
	t_failed && { echo "hlb log:"; sed 's/^/    /' "$T_TMP/hlb.log"; }
	lib_exit
}
main
