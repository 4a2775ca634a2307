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
. "$(dirname "$0")/../lib/common.sh"

for tool in ip openssl timeout turnutils_uclient turnutils_peer turnutils_stunclient; do
	command -v "$tool" >/dev/null || { echo "skip: $tool missing (Debian: coturn, iproute2)"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root for network namespaces"; exit 77; }
[ -x "$BIN/avedge" ] || { echo "FAIL: no $BIN/avedge (build first)"; exit 1; }

NS=elt$$
WORK=$(mktemp -d /tmp/avedge_turn.XXXXXX)
N=${UCLIENT_MSGS:-100} # messages per client session

cleanup() {
	local p
	cleanup_pids
	# Anything still inside the namespace was started by this script.
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	if [ "$T_FAILS" -ne 0 ] && [ -z "${KEEP_LOGS:-}" ]; then
		echo "  logs: avedge stderr and every uclient run were in $WORK (set KEEP_LOGS=1 to keep)"
		grep -v 'info: allocation for' "$WORK/avedge.log" 2>/dev/null | sed 's/^/    /' | tail -20
	fi
	[ -n "${KEEP_LOGS:-}" ] && echo "  logs kept in $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 143" TERM
trap "exit 130" INT

nsx() { ip netns exec "$NS" "$@"; }
not() { ! "$@"; }

ip netns add "$NS" || { echo "FAIL: cannot create namespace $NS"; exit 1; }
nsx ip link set lo up
for a in 10.99.0.1 10.99.0.2 10.99.0.3 10.99.0.4; do nsx ip addr add "$a/32" dev lo; done
for a in 2001:db8:99::1 2001:db8:99::2 2001:db8:99::3; do nsx ip addr add "$a/128" dev lo nodad; done

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=edge.lab \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 ||
	{ echo "FAIL: openssl could not make a certificate"; exit 1; }

spawn ip netns exec "$NS" "$BIN/avedge" \
	--listen 10.99.0.1:3478/udp --listen 10.99.0.1:3478/tcp --listen 10.99.0.1:5349/tls \
	--listen '[2001:db8:99::1]:3478/udp' --listen '[2001:db8:99::1]:3478/tcp' \
	--cert "$WORK/cert.pem" --key "$WORK/key.pem" \
	--relay-ip 10.99.0.2 --relay-ip 2001:db8:99::2 \
	--user alice:secret --auth-secret s3cret --realm edge.lab --grace 2 \
	--log-level info 2>"$WORK/avedge.log"
AVEDGE_PID=${T_PIDS[-1]}
spawn ip netns exec "$NS" turnutils_peer -L 10.99.0.3 -L 2001:db8:99::3 >"$WORK/peer.log" 2>&1

# Alive: a Binding from coturn's stunclient gets a reflexive address.
stun_ok() { # [local address] [server]
	local out # (not a pipe into grep -q: with pipefail, SIGPIPE fails it)
	out=$(nsx timeout -k 1 3 turnutils_stunclient -L "${1:-10.99.0.4}" "${2:-10.99.0.1}" 2>&1)
	grep -q 'UDP reflexive addr' <<<"$out"
}
running() { # PID: alive and not a zombie
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]
}
alive() {
	running "$AVEDGE_PID" && stun_ok
}
# (first the socket: a Binding sent before it exists is lost, not refused)
listening() { local o; o=$(nsx ss -Hlun); grep -qF "$1" <<<"$o"; }
wait_for 10 listening '10.99.0.1:3478' && wait_for 10 stun_ok ||
	{ echo "FAIL: avedge did not start"; cat "$WORK/avedge.log"; exit 1; }
wait_for 10 listening '10.99.0.3:3480' ||
	{ echo "FAIL: turnutils_peer did not start"; exit 1; }

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
	local tot
	tot=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\1 \2/p' \
		"$WORK/$name.log" | tail -1)
	SENT=${tot% *} RECV=${tot#* }
	LOST=$(grep -o 'Total lost packets [0-9]* ([0-9.]*%)' "$WORK/$name.log" | tail -1)
	printf '    %-14s rc=%s sent=%s recv=%s  %s\n' "$name" "$RC" "${SENT:-?}" "${RECV:-?}" \
		"${LOST:-(no verdict line)}"
}

# relay_case NAME RELAY_PREFIX ARGS...: a run that must relay everything:
# exit 0, traffic both ways, "Total lost packets 0", relayed address from
# --relay-ip (R11) when RELAY_PREFIX is given.
relay_case() {
	local name=$1 relay=$2
	shift 2
	uclient "$name" 90 -n "$N" -z 2 "$@"
	check "$name: uclient finishes (exit 0)" test "$RC" -eq 0
	check "$name: packets went through ($SENT sent, $RECV back)" \
		test "${SENT:-0}" -gt 0 -a "${SENT:-0}" = "${RECV:-x}"
	check "$name: zero loss" grep -q '^Total lost packets 0 (0' <<<"$LOST"
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
if grep -q 'error 443' "$WORK/dual.log"; then
	echo "  gap   dual: $(grep -c 'error 443' "$WORK/dual.log") of 20 refreshes answered 443: the allocations are not dual (coturn's 0x8032 not taken)"
else
	check "dual: uclient finishes (exit 0)" test "$RC" -eq 0
	check "dual: packets went through ($SENT sent, $RECV back)" \
		test "${SENT:-0}" -gt 0 -a "${SENT:-0}" = "${RECV:-x}"
	check "dual: zero loss" grep -q '^Total lost packets 0 (0' <<<"$LOST"
fi

# TCP relay (RFC 6062): Connect, ConnectionBind, ConnectionAttempt.
uclient tcp-relay 90 -T -n "$N" -z 2 "${U[@]}" "${P4[@]}" 10.99.0.1
if grep -q 'error 442' "$WORK/tcp-relay.log"; then
	echo "  gap   tcp-relay: avedge answers 442 (RFC 6062 not in yet)"
else
	check "tcp-relay: uclient finishes (exit 0)" test "$RC" -eq 0
	check "tcp-relay: packets went through ($SENT sent, $RECV back)" \
		test "${SENT:-0}" -gt 0 -a "${SENT:-0}" = "${RECV:-x}"
	check "tcp-relay: zero loss" grep -q '^Total lost packets 0 (0' <<<"$LOST"
fi

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

# -R: one message in ten has up to nine random bytes overwritten, which
# breaks its FINGERPRINT, so a server must drop it; uclient never
# retransmits, so a dropped request hangs it (against coturn's own server
# too, most runs). One session (-c) has fewer requests to lose: bound each
# try, and accept up to 5% loss (corrupted ChannelData) when one finishes.
finished=0
for try in 1 2 3 4 5; do
	uclient "protocol-$try" 12 -R -c -n "$N" -z 2 "${U[@]}" "${P4[@]}" 10.99.0.1
	if [ "$RC" -eq 0 ] && [ -n "$LOST" ]; then
		finished=1
		pct=$(sed 's/.*(\([0-9]*\)\..*/\1/' <<<"$LOST")
		check "-R: loss at most 5% when it finishes" test "$pct" -le 5
		break
	fi
	check "-R: avedge still answers a Binding after try $try" alive
done
[ $finished -eq 1 ] || echo "  note  -R: uclient hung in every try (it does against coturn's turnserver too)"
check "-R: avedge still answers a Binding" alive

# Last: still the same process; it leaves cleanly on SIGTERM (within its
# --grace 2, allocations being held), and nothing bad in its log (a
# sanitizer build reports leaks at exit).
check "avedge never restarted or died" running "$AVEDGE_PID"
kill -TERM "$AVEDGE_PID"
deadline=$((SECONDS + 10))
while running "$AVEDGE_PID" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
check "avedge left on SIGTERM" not running "$AVEDGE_PID"
wait "$AVEDGE_PID" 2>/dev/null
expect_eq "avedge exit status" 0 "$?"
check "avedge logged no crash, assertion or sanitizer report" \
	not grep -Eqi 'assert|sanitizer|segv|abort|leak' "$WORK/avedge.log"

finish
