#!/usr/bin/env bash
# avedge_turn.sh: TURN interop with clients nobody here wrote (coturn's
# turnutils_uclient, turnutils_peer, turnutils_stunclient): UDP, TCP and TLS
# client transports, channels and Send indications, REST credentials, IPv6
# and dual relays, DONT-FRAGMENT, client-to-client, TCP relay (RFC 6062),
# coturn's negative tests, and a few refusals (R10-R15). Everything runs in
# a private network namespace made here: nothing clashes with the host's
# ports and nothing leaves it.
#
# Addresses (all on the namespace's lo):
#   10.99.0.1 / 2001:db8:99::1  avedge listeners
#   10.99.0.2 / 2001:db8:99::2  relayed addresses (--relay-ip)
#   10.99.0.3 / 2001:db8:99::3  turnutils_peer (echo)
#   10.99.0.4                   a client's own address (stunclient)
. "$(dirname "$0")/../lib/lib.sh"
lib_init avedge_turn
need_bin avedge
need_cmd ip timeout turnutils_uclient turnutils_peer turnutils_stunclient

WORK=$T_TMP
N=${UCLIENT_MSGS:-100} # messages per client session

show_logs() { # at exit, after a failure: avedge's own account
	t_failed || return 0
	echo "  avedge's log (every uclient run's is in $WORK: KEEP_LOGS=1 keeps it):"
	grep -v 'info: allocation for' "$WORK/avedge.log" 2>/dev/null | sed 's/^/    /' | tail -20
}
defer show_logs

setup_ns NS
nsx() { in_ns "$NS" "$@"; }
for a in 10.99.0.1 10.99.0.2 10.99.0.3 10.99.0.4; do nsx ip addr add "$a/32" dev lo; done
for a in 2001:db8:99::1 2001:db8:99::2 2001:db8:99::3; do nsx ip addr add "$a/128" dev lo nodad; done

make_cert

spawn ip netns exec "$NS" "$BIN/avedge" \
	--listen 10.99.0.1:3478/udp --listen 10.99.0.1:3478/tcp --listen 10.99.0.1:5349/tls \
	--listen '[2001:db8:99::1]:3478/udp' --listen '[2001:db8:99::1]:3478/tcp' \
	--cert "$WORK/cert.pem" --key "$WORK/key.pem" \
	--relay-ip 10.99.0.2 --relay-ip 2001:db8:99::2 \
	--user alice:secret --auth-secret s3cret --realm edge.lab --grace 2 \
	--log-level info 2>"$WORK/avedge.log"
AVEDGE_PID=$SPAWNED
spawn ip netns exec "$NS" turnutils_peer -L 10.99.0.3 -L 2001:db8:99::3 >"$WORK/peer.log" 2>&1

# Alive: a Binding from coturn's stunclient gets a reflexive address.
stun_ok() { # [local address] [server]
	local out # (not a pipe into grep -q: with pipefail, SIGPIPE fails it)
	out=$(nsx timeout -k 1 3 turnutils_stunclient -L "${1:-10.99.0.4}" "${2:-10.99.0.1}" 2>&1)
	grep -q 'UDP reflexive addr' <<<"$out"
}
alive() {
	running "$AVEDGE_PID" && stun_ok
}
# (first the socket: a Binding sent before it exists is lost, not refused)
listening() { local o; o=$(nsx ss -Hlun); grep -qF "$1" <<<"$o"; }
slowwait 10 listening '10.99.0.1:3478' && slowwait 10 stun_ok ||
	{ cat "$WORK/avedge.log"; bail "avedge did not start"; }
slowwait 10 listening '10.99.0.3:3480' || bail "turnutils_peer did not start"

# ---- STUN ----
out=$(nsx timeout -k 2 10 turnutils_stunclient -L 10.99.0.4 10.99.0.1 2>&1)
echo "$out" | sed "s/^/    /" | head -4
check "stunclient (IPv4): mapped address is the client's own" \
	grep -qE 'UDP reflexive addr: 10\.99\.0\.4:[0-9]+' <<<"$out"
out=$(nsx timeout -k 2 10 turnutils_stunclient -L 2001:db8:99::3 2001:db8:99::1 2>&1)
check "stunclient (IPv6): mapped address is the client's own" \
	grep -qE 'UDP reflexive addr: 2001:db8:99::3:[0-9]+' <<<"$out"

# ---- uclient runs ----
# uclient NAME SECONDS ARGS...: one bounded run, its output in $WORK/NAME.log;
# sets RC, SENT, RECV, LOST (the verdict line: "Total lost packets N (x%)").
uclient() {
	local name=$1 secs=$2
	shift 2
	nsx timeout -k 3 "$secs" turnutils_uclient -v "$@" >"$WORK/$name.log" 2>&1
	RC=$?
	uclient_result "$name"
}

uclient_result() { # NAME: SENT, RECV and LOST from its log, and one line
	local tot
	tot=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\1 \2/p' \
		"$WORK/$1.log" | tail -1)
	SENT=${tot% *} RECV=${tot#* }
	LOST=$(grep -o 'Total lost packets [0-9]* ([0-9.]*%)' "$WORK/$1.log" | tail -1)
	printf '    %-14s rc=%s sent=%s recv=%s  %s\n' "$1" "$RC" "${SENT:-?}" "${RECV:-?}" \
		"${LOST:-(no verdict line)}"
}

# relayed_all NAME: the last run relayed everything: exit 0, traffic both
# ways, "Total lost packets 0".
relayed_all() {
	check "$1: uclient finishes (exit 0)" test "$RC" -eq 0
	check "$1: packets went through ($SENT sent, $RECV back)" \
		test "${SENT:-0}" -gt 0 -a "${SENT:-0}" = "${RECV:-x}"
	check "$1: zero loss" grep -q '^Total lost packets 0 (0' <<<"$LOST"
}

# relay_case NAME RELAY_PREFIX ARGS...: a run that must relay everything:
# exit 0, traffic both ways, "Total lost packets 0", relayed address from
# --relay-ip (R11) when RELAY_PREFIX is given.
relay_case() {
	local name=$1 relay=$2
	shift 2
	uclient "$name" 90 -n "$N" -z 2 "$@"
	relayed_all "$name"
	if [ -n "$relay" ]; then
		check "$name: relayed address is $relay (R11)" \
			grep -q "Received relay addr: $relay:[0-9]" "$WORK/$name.log"
	fi
}

U=(-u alice -w secret)
P4=(-e 10.99.0.3)
P6=(-e 2001:db8:99::3)

relay_case udp-channels 10.99.0.2 "${U[@]}" "${P4[@]}" 10.99.0.1
relay_case udp-send-ind 10.99.0.2 "${U[@]}" "${P4[@]}" -s 10.99.0.1
relay_case tcp 10.99.0.2 -t "${U[@]}" "${P4[@]}" 10.99.0.1
relay_case tcp-send-ind 10.99.0.2 -t -s "${U[@]}" "${P4[@]}" 10.99.0.1
relay_case tls 10.99.0.2 -t -S -p 5349 "${U[@]}" "${P4[@]}" 10.99.0.1
check "tls: a TLS session was made" grep -q 'client session connected with cipher' "$WORK/tls.log"
relay_case rest 10.99.0.2 -W s3cret -u bob "${P4[@]}" 10.99.0.1
relay_case dont-fragment 10.99.0.2 -g "${U[@]}" "${P4[@]}" 10.99.0.1
relay_case client-to-client 10.99.0.2 -y "${U[@]}" 10.99.0.1
relay_case v6-client 10.99.0.2 "${U[@]}" "${P4[@]}" 2001:db8:99::1
relay_case v6-client-tcp 10.99.0.2 -t "${U[@]}" "${P4[@]}" 2001:db8:99::1
# IPv6 relay (REQUESTED-ADDRESS-FAMILY IPv6), one session (-c: no RTCP)...
relay_case v6-relay 2001:db8:99::2 -x -c "${U[@]}" "${P6[@]}" 10.99.0.1
# ...and with the RTP/RTCP pair: EVEN-PORT with R, then RESERVATION-TOKEN
# for the second; the reserved port must come back in the reserved family.
relay_case v6-relay-pair 2001:db8:99::2 -x "${U[@]}" "${P6[@]}" 10.99.0.1
check "v6-relay-pair: both relayed addresses are IPv6" \
	test "$(grep -c 'Received relay addr: 2001:db8:99::2:' "$WORK/v6-relay-pair.log")" -ge 2

# Dual allocation (-Z). coturn's client sends ADDITIONAL-ADDRESS-FAMILY with
# the pre-RFC code point 0x8032 (RFC 8656 assigned 0x8000), then refreshes
# with a random REQUESTED-ADDRESS-FAMILY (none, IPv4 or IPv6): a server that
# does not take 0x8032 makes an IPv4-only allocation and answers 443 to one
# refresh in three. 20 sessions make that all but certain to show.
uclient dual 90 -Z -m 20 -n 20 -z 2 "${U[@]}" "${P4[@]}" 10.99.0.1
relayed_all dual
check "dual: no refresh answered 443 (0x8032 taken: the allocations are dual)" \
	not grep -q 'error 443' "$WORK/dual.log"

# TCP relay (RFC 6062): Connect, ConnectionBind, ConnectionAttempt.
uclient tcp-relay 90 -T -n "$N" -z 2 "${U[@]}" "${P4[@]}" 10.99.0.1
relayed_all tcp-relay
check "tcp-relay: no Allocate answered 442 (TCP relaying taken)" \
	not grep -q 'error 442' "$WORK/tcp-relay.log"

# ---- refusals ----
uclient bad-password 20 -n 5 -u alice -w wrong "${P4[@]}" 10.99.0.1
# (uclient takes each 401 for a new challenge and gives up after 32.)
check "bad password: no allocation" grep -q 'Cannot complete Allocation' "$WORK/bad-password.log"
check "bad password: no relayed address" not grep -q 'Received relay addr' "$WORK/bad-password.log"
uclient bad-rest 20 -n 5 -W notthesecret -u bob "${P4[@]}" 10.99.0.1
check "REST with a wrong secret: no allocation" grep -q 'Cannot complete Allocation' "$WORK/bad-rest.log"
uclient peer-self 20 -n 5 "${U[@]}" -e 10.99.0.2 10.99.0.1
check "peer = the relay's own address: 403 (R15)" grep -q 'error 403' "$WORK/peer-self.log"
uclient peer-loopback 20 -n 5 "${U[@]}" -e 127.0.0.1 10.99.0.1
check "peer = loopback: 403 (R15)" grep -q 'error 403' "$WORK/peer-loopback.log"

# ---- coturn's negative tests ----
# -N: channel numbers at random, rebinding a bound peer to another number:
# RFC 8656 §12 says 400; the server must stay up.
uclient negative 60 -N -n 20 -z 2 "${U[@]}" "${P4[@]}" 10.99.0.1
check "-N: uclient did not hang" test "$RC" -ne 124
check "-N: bad requests answered 400" grep -q 'error 400' "$WORK/negative.log"
check "-N: avedge still answers a Binding" alive

# -R: uclient overwrites up to nine random bytes of one message in ten
# that it sends (coturn's uclient.c, send_buffer), which breaks the
# FINGERPRINT: a server must drop the message and stay up. uclient resends
# a dropped request with the same bytes, so one hit during its setup
# (Allocate twice, Refresh, again on a second connection, CreatePermission,
# ChannelBind: about ten requests) hangs it there: 6 tries in 10, against
# coturn's own server too. A try whose setup has not ended ("Total connect
# time") within 5 s hung that way: it is stopped and tried again, up to
# 24 times (all 24 hanging by chance: 0.65^24, about 3 in 100000; here
# it means avedge does not answer). Once set up, the run must finish (its
# own 1-6 s start, 200 messages, at most 10 s for stragglers) and lose at
# most 5%: the corrupted ChannelData whose header was hit are dropped, 2%
# on average, the rest carry a damaged payload through.
protocol_try() { # TRY: 0 set up (RC, LOST... then set), 1 hung in its setup
	local name=protocol-$1 pid
	spawn ip netns exec "$NS" timeout -k 3 40 turnutils_uclient -v -R -c -n 200 -z 2 \
		"${U[@]}" "${P4[@]}" 10.99.0.1 >"$WORK/$name.log" 2>&1
	pid=$SPAWNED
	if ! slowwait 5 grep -q 'Total connect time' "$WORK/$name.log"; then
		stop_pids "$pid"
		return 1
	fi
	slowwait 45 not_running "$pid"
	reap "$pid"
	RC=$?
	uclient_result "$name"
}
hung=0
for try in $(seq 24); do
	protocol_try "$try" && break
	hung=$((hung + 1))
done
echo "    -R: $hung tries hung in their setup on a corrupted request, as expected of some"
check "-R: uclient got through its setup in 24 tries" test "$hung" -lt 24
if [ "$hung" -lt 24 ]; then
	check "-R: the run finished with a loss verdict (exit $RC)" test "$RC" -eq 0 -a -n "$LOST"
	pct=$(sed -n 's/.*(\([0-9]*\)\..*/\1/p' <<<"$LOST")
	check "-R: loss at most 5% (${pct:-?}%)" test "${pct:-100}" -le 5
fi
check "-R: avedge still answers a Binding" alive

# Last: still the same process; it leaves cleanly on SIGTERM (within its
# --grace 2, allocations being held), and nothing bad in its log (a
# sanitizer build reports leaks at exit).
check "avedge never restarted or died" running "$AVEDGE_PID"
kill -TERM "$AVEDGE_PID"
check "avedge left on SIGTERM" slowwait 10 not_running "$AVEDGE_PID"
reap "$AVEDGE_PID"
check_eq "avedge exit status" 0 "$?"
check "avedge logged no crash, assertion or sanitizer report" \
	not grep -Eqi 'assert|sanitizer|segv|abort|leak' "$WORK/avedge.log"

lib_exit
