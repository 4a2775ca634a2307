#!/usr/bin/env bash
# hlb_monitor.sh: hlb's stun and tls monitors (R23) against a live
# server, a real avedge, in two namespaces:
#   lb (203.0.113.10, 2001:db8:3::10) -- srv (203.0.113.23, 2001:db8:3::23)
# avedge listens on 3478/udp (IPv4 and IPv6) and 443/tls. For each
# monitor: up while avedge runs; down within interval x fall once it is
# killed; up again after rise good probes once it is back (no sooner).
# Servers that answer but speak the wrong protocol (a plain UDP echo
# for stun, a plain TCP greeter for tls) must be down: the monitors check
# the protocol, not only that something listens.
# Exit 0 pass, 77 skip, other fail.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
[ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }
command -v openssl >/dev/null || { echo "skip: no openssl"; exit 77; }
for b in hlb lbecho avedge; do
	[ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
done

P=hlbm$$-$RANDOM
LB=$P-lb SRV=$P-srv
TMP=$(mktemp -d)
SOCK=$TMP/hlb.sock
fails=0
# Monitor timing: every 0.3 s, each probe bounded by 0.25 s; down after 3
# bad results in a row, up after 3 good ones.
IVL=0.3 FALL=3 RISE=3
# Scheduling slack on a loaded machine, on top of the bound itself.
SLACK=1.5

cleanup() {
	local ns pid
	for ns in $LB $SRV; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
	done
	for _ in $(seq 20); do
		[ -z "$(ip netns pids "$LB" 2>/dev/null)$(ip netns pids "$SRV" 2>/dev/null)" ] && break
		sleep 0.1
	done
	for ns in $LB $SRV; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

check() { # name, then the command; prints one aligned line
	local name=$1; shift
	if "$@"; then printf '  %-62s ok\n' "$name"
	else printf '  %-62s FAIL\n' "$name"; fails=$((fails + 1)); fi
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

setup() {
	ip netns add $LB && ip netns add $SRV || return 1
	for ns in $LB $SRV; do
		in_ns $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
		in_ns $ns ip link set lo up
	done
	ip link add s0 netns $SRV type veth peer name l1 netns $LB
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
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=edge.lab \
		-keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1 || return 1
	# The wrong protocols, on ports of their own.
	in_ns $SRV "$BIN/lbecho" serve udp 203.0.113.23 3479 echo >/dev/null 2>&1 & disown
	in_ns $SRV "$BIN/lbecho" serve tcp 203.0.113.23 8443 greeter >/dev/null 2>&1 & disown
	cat >"$TMP/hlb.conf" <<CONF
socket $SOCK
tun hlbm0
service av-udp 203.0.113.12:3478/udp
	mode dnat
	real edge1 203.0.113.23
	monitor stun interval $IVL timeout 0.25 rise $RISE fall $FALL
service av6-udp [2001:db8:3::12]:3478/udp
	mode dnat
	real edge1 2001:db8:3::23
	monitor stun interval $IVL timeout 0.25 rise $RISE fall $FALL
service av-tls 203.0.113.12:443/tcp
	mode dnat
	real edge1 203.0.113.23
	monitor tls interval $IVL timeout 0.25 rise $RISE fall $FALL
service udp-echo 203.0.113.12:3479/udp
	mode dnat
	real edge1 203.0.113.23
	monitor stun interval $IVL timeout 0.25 rise $RISE fall $FALL
service tcp-greeter 203.0.113.12:8443/tcp
	mode dnat
	real edge1 203.0.113.23
	monitor tls interval $IVL timeout 0.25 rise $RISE fall $FALL
service greeter-tcp 203.0.113.12:8444/tcp
	mode dnat
	real edge1 203.0.113.23
	monitor tcp interval $IVL timeout 0.25 rise $RISE fall $FALL port 8443
CONF
	start_avedge || return 1
	in_ns $LB "$BIN/hlb" --config "$TMP/hlb.conf" 2>"$TMP/hlb.log" & disown
	for _ in $(seq 50); do "$BIN/hlb" ctl --socket "$SOCK" list >/dev/null 2>&1 && return 0; sleep 0.1; done
	cat "$TMP/hlb.log"
	return 1
}

start_avedge() {
	# ip netns exec, not in_ns: $! must be avedge itself (ip execs it).
	ip netns exec $SRV "$BIN/avedge" --listen 203.0.113.23:3478/udp \
		--listen '[2001:db8:3::23]:3478/udp' --listen 203.0.113.23:443/tls \
		--cert "$TMP/cert.pem" --key "$TMP/key.pem" \
		--relay-ip 203.0.113.23 --relay-ip 2001:db8:3::23 --user alice:secret \
		--threads 1 --grace 0 2>>"$TMP/avedge.log" &
	AVEDGE=$!
	for _ in $(seq 100); do
		listening && return 0
		sleep 0.05
	done
	echo "    avedge did not start"; cat "$TMP/avedge.log"
	return 1
}

listening() { # every avedge socket is bound
	local u t
	u=$(in_ns $SRV ss -Hlun) t=$(in_ns $SRV ss -Hltn)
	grep -qF '203.0.113.23:3478' <<<"$u" && grep -qF '[2001:db8:3::23]:3478' <<<"$u" &&
		grep -qF '203.0.113.23:443' <<<"$t"
}

health() { # service -> up|down (its one real)
	"$BIN/hlb" ctl --socket "$SOCK" list |
		awk -v s="$1" '/^service /{ svc = $2 } svc == s && / real edge1 /{
			for (i = 1; i < NF; i++) if ($i == "health") print $(i + 1) }'
}

# Wait, bounded, until every service given is in state; prints the
# seconds it took.
wait_health() { # state seconds service...
	local state=$1 limit=$2 t0 s ok
	shift 2
	t0=$(now)
	while :; do
		ok=1
		for s in "$@"; do [ "$(health "$s")" = "$state" ] || ok=0; done
		[ $ok -eq 1 ] && { since "$t0"; return 0; }
		le "$(since "$t0")" "$limit" || { since "$t0"; return 1; }
		sleep 0.02
	done
}

MONITORED="av-udp av6-udp av-tls"

t_up_while_running() {
	local t
	t=$(wait_health up 5 $MONITORED) || { echo "    not up after ${t}s: $("$BIN/hlb" ctl --socket "$SOCK" list)"; return 1; }
	# And they stay up: a few more intervals of good probes.
	sleep 1
	for s in $MONITORED; do [ "$(health "$s")" = up ] || { echo "    $s went down"; return 1; }; done
}

t_wrong_protocol_down() {
	local t
	t=$(wait_health down 5 udp-echo tcp-greeter) ||
		{ echo "    udp-echo $(health udp-echo), tcp-greeter $(health tcp-greeter)"; return 1; }
	# The greeter does accept TCP: the tcp monitor says up.
	[ "$(health greeter-tcp)" = up ] || { echo "    tcp monitor on the greeter: $(health greeter-tcp)"; return 1; }
}

t_down_after_kill() {
	local bound t
	bound=$(calc "$IVL * $FALL + $SLACK")
	kill -9 "$AVEDGE"
	wait "$AVEDGE" 2>/dev/null
	listening && { echo "    avedge still listens after kill -9"; return 1; }
	t=$(wait_health down "$bound" $MONITORED) ||
		{ echo "    not all down within ${bound}s: $(for s in $MONITORED; do printf '%s %s ' "$s" "$(health "$s")"; done)"; return 1; }
	echo "    down ${t}s after the kill (interval x fall = $(calc "$IVL * $FALL")s)"
	grep -q 'av-udp/edge1 down by stun monitor' "$TMP/hlb.log" &&
		grep -q 'av-tls/edge1 down by tls monitor' "$TMP/hlb.log"
}

t_up_after_rise() {
	local lower upper t
	# Not before rise good probes: the first can come at once, the
	# rise-th (rise - 1) intervals later.
	lower=$(calc "$IVL * ($RISE - 1) - 0.05")
	upper=$(calc "$IVL * $RISE + 0.25 + $SLACK")
	start_avedge || return 1
	t=$(wait_health up "$upper" $MONITORED) ||
		{ echo "    not all up within ${upper}s of avedge listening"; return 1; }
	echo "    up ${t}s after avedge listened (rise x interval = $(calc "$IVL * $RISE")s)"
	ge "$t" "$lower" || { echo "    up after ${t}s: sooner than rise ($RISE) probes allow"; return 1; }
	grep -q 'av-udp/edge1 up by stun monitor' "$TMP/hlb.log" &&
		grep -q 'av-tls/edge1 up by tls monitor' "$TMP/hlb.log"
}

main() {
	setup || { echo "FAIL: setup"; cat "$TMP/hlb.log" "$TMP/avedge.log" 2>/dev/null; exit 1; }
	check "stun (IPv4, IPv6) and tls monitors: up while avedge runs"   t_up_while_running
	check "wrong protocol: stun on a UDP echo, tls on plain TCP: down"  t_wrong_protocol_down
	check "avedge killed: all down within interval x fall (+ slack)" t_down_after_kill
	check "avedge back: up after rise good probes, not sooner"       t_up_after_rise
	[ $fails -eq 0 ] || { echo "hlb log:"; sed 's/^/    /' "$TMP/hlb.log"; exit 1; }
}
main
