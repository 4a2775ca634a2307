#!/usr/bin/env bash
# avedge_ops.sh: operating avedge (R16, R15 quotas): --config FILE, errors
# naming FILE:LINE, Prometheus text at --metrics, SIGHUP reloading users
# without dropping allocations, SIGTERM draining (508 for new allocations,
# exit within --grace), --quota-user (486) and --quota-total (508), and a
# flood of unauthenticated Allocates that must not grow memory. coturn's
# turnutils_uclient and turnutils_peer are the clients. Everything runs in
# a private network namespace made here.
#
# Addresses (on the namespace's lo): 10.99.0.1 listeners and metrics,
# 10.99.0.2 relayed addresses, 10.99.0.3 turnutils_peer.
. "$(dirname "$0")/../lib/lib.sh"
lib_init avedge_ops
need_bin avedge
need_cmd ip timeout turnutils_uclient turnutils_peer turnutils_stunclient

WORK=$T_TMP
MADDR=10.99.0.1
MPORT=9100
GRACE=4
RSS_SLACK_KB=${RSS_SLACK_KB:-4096} # "a few MB"

show_logs() { # at exit, after a failure: avedge's own account
	t_failed || return 0
	grep -v 'info: allocation for' "$WORK/avedge.log" 2>/dev/null | sed 's/^/    /' | tail -25
}
defer show_logs

setup_ns NS
nsx() { in_ns "$NS" "$@"; }
for a in 10.99.0.1 10.99.0.2 10.99.0.3 10.99.0.4; do nsx ip addr add "$a/32" dev lo; done

spawn ip netns exec "$NS" turnutils_peer -L 10.99.0.3 >"$WORK/peer.log" 2>&1

stun_ok() { # PORT: a Binding from coturn's stunclient is answered
	local out # (captured, not piped into grep -q: pipefail would see SIGPIPE)
	out=$(nsx timeout -k 1 3 turnutils_stunclient -p "${1:-3478}" -L 10.99.0.4 10.99.0.1 2>&1)
	grep -q 'UDP reflexive addr' <<<"$out"
}

# GET /metrics with bash's /dev/tcp (no curl needed); body only, no CRs.
http_get() { # PATH
	nsx timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: avedge\r\n\r\n" "$2" >&3
		cat <&3' "$MADDR" "$MPORT" "$1" | tr -d '\r'
}
http_status() { # PRINTF-FORMAT: the status line avedge answers those bytes with
	nsx timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
		printf "$2" >&3
		head -1 <&3' "$MADDR" "$MPORT" "$1" | tr -d '\r'
}
metrics() { http_get /metrics | sed '1,/^$/d'; }
metric() { # NAME{labels} -> value (empty when absent)
	metrics | awk -v k="$1" '$1 == k { print $2; exit }'
}

# uclient NAME SECONDS ARGS...: a bounded run, output in $WORK/NAME.log;
# sets RC, SENT, RECV and LOST (the "Total lost packets N (x%)" verdict).
uclient() {
	local name=$1 secs=$2 tot
	shift 2
	nsx timeout -k 3 "$secs" turnutils_uclient -v "$@" >"$WORK/$name.log" 2>&1
	RC=$?
	tot=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\1 \2/p' \
		"$WORK/$name.log" | tail -1)
	SENT=${tot% *} RECV=${tot#* }
	LOST=$(grep -o 'Total lost packets [0-9]* ([0-9.]*%)' "$WORK/$name.log" | tail -1)
	printf '    %-16s rc=%s sent=%s recv=%s  %s\n' "$name" "$RC" "${SENT:-?}" "${RECV:-?}" \
		"${LOST:-(no verdict line)}"
}
relayed_ok() { # the last uclient run relayed everything
	[ "$RC" -eq 0 ] && [ "${SENT:-0}" -gt 0 ] && [ "$SENT" = "$RECV" ] &&
		grep -q '^Total lost packets 0 (0' <<<"$LOST"
}
errored() { # NAME CODE: uclient's log shows an error response CODE
	grep -q "error $2\b" "$WORK/$1.log"
}
# Up: first the socket (a Binding sent before it exists is lost, not
# refused), then an answer.
listening() { local o; o=$(nsx ss -Hlun); grep -qF "$1" <<<"$o"; }
up() { slowwait 10 listening "10.99.0.1:$1" && slowwait 10 stun_ok "$1"; }
allocations_held() { [ "$(metric avedge_allocations)" -gt 0 ]; }
# The relay has taken in all it was sent: its request count holds still.
quiescent() {
	local a b
	a=$(metric avedge_requests_total)
	sleep 0.2
	b=$(metric avedge_requests_total)
	[ -n "$a" ] && [ "$a" = "$b" ]
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Wait up to SECONDS for PID to end; then reap it and set RC to its status.
wait_exit() { # PID SECONDS
	slowwait "$2" not_running "$1" || { RC=124; return 1; }
	reap "$1"
	RC=$?
}

# ==== 1. --config FILE: errors name FILE:LINE ====
echo "config errors"
bad_config() { # DESCRIPTION, LINE, then the file's lines
	local what=$1 line=$2 f="$WORK/bad$RANDOM.conf" out rc
	shift 2
	printf '%s\n' "$@" >"$f"
	out=$(nsx timeout 5 "$BIN/avedge" --config "$f" 2>&1)
	rc=$?
	printf '    %s\n' "$out"
	check "$what: exit 2" test "$rc" -eq 2
	check "$what: message names $(basename "$f"):$line" grep -q "$f:$line: " <<<"$out"
	check "$what: one line" test "$(wc -l <<<"$out")" -eq 1
}
bad_config "unknown key" 4 '# avedge' '' 'listen = 10.99.0.1:3490/udp' 'bogus-key = 1'
bad_config "bad number" 2 'listen = 10.99.0.1:3490/udp' 'quota-user = lots'
bad_config "bad listen" 3 '# x' 'realm = r' 'listen = 10.99.0.1:99999/udp'
bad_config "unterminated quote" 2 'listen = 10.99.0.1:3490/udp' 'realm = "edge.lab'
bad_config "no key" 1 '= value' 'listen = 10.99.0.1:3490/udp'
bad_config "nested config" 2 'listen = 10.99.0.1:3490/udp' "config = $WORK/other.conf"
out=$(nsx timeout 5 "$BIN/avedge" --config "$WORK/missing.conf" 2>&1); rc=$?
printf '    %s\n' "$out"
check "missing file: exit 2" test "$rc" -eq 2
check "missing file: message names it" grep -q "$WORK/missing.conf" <<<"$out"

# ==== 2. a good config file runs the relay ====
echo "config file"
printf 'carol:carolpw\n' >"$WORK/users"
cat >"$WORK/avedge.conf" <<EOF
# avedge for the ops test: every setting from this file
listen = 10.99.0.1:3478/udp
listen = 10.99.0.1:3478/tcp

relay-ip = 10.99.0.2
ports = 52000-52999
realm = edge.lab
user = alice:secret
user = "bob:pass with spaces #1"
userfile = $WORK/users
auth-secret = oldsecret
metrics = $MADDR:$MPORT
threads = 2
grace = $GRACE
software = "avedge ops test"
log-level = info
EOF
spawn ip netns exec "$NS" "$BIN/avedge" --config "$WORK/avedge.conf" 2>"$WORK/avedge.log"
AV=$SPAWNED # ip netns exec execs: this is avedge itself
up 3478 || { cat "$WORK/avedge.log"; bail "avedge did not start from its config"; }
slowwait 10 listening '10.99.0.3:3480' || bail "turnutils_peer did not start"
tcp_listening() { local o; o=$(nsx ss -Hlnt); grep -qF "$1" <<<"$o"; }
check "the pid signalled and measured below is avedge's" test "$(cat "/proc/$AV/comm")" = avedge
check "started from --config alone, listening on UDP and TCP" tcp_listening '10.99.0.1:3478'


uclient cfg-user 60 -n 50 -z 2 -u alice -w secret -e 10.99.0.3 10.99.0.1
check "user from the file relays with zero loss" relayed_ok
check "relay port from the file's range (52000-52999)" \
	grep -qE 'Received relay addr: 10\.99\.0\.2:52[0-9]{3}$' "$WORK/cfg-user.log"
uclient cfg-quoted 60 -t -n 20 -z 2 -u bob -w 'pass with spaces #1' -e 10.99.0.3 10.99.0.1
check "quoted password with spaces and '#' works" relayed_ok
uclient cfg-userfile 60 -n 20 -z 2 -u carol -w carolpw -e 10.99.0.3 10.99.0.1
check "user from the userfile works" relayed_ok
uclient cfg-rest 60 -n 20 -z 2 -W oldsecret -u rest -e 10.99.0.3 10.99.0.1
check "REST secret from the file works" relayed_ok

# ==== 3. metrics ====
echo "metrics"
page=$(http_get /metrics)
check "HTTP 200" grep -q '^HTTP/1.0 200' <<<"$page"
check "Prometheus text content type" grep -qi '^Content-Type: text/plain; version=0.0.4' <<<"$page"
body=$(sed '1,/^$/d' <<<"$page")
for name in avedge_allocations avedge_permissions avedge_channels avedge_allocations_total \
	avedge_auth_failures_total 'avedge_relayed_packets_total{direction="to_peer"}' \
	'avedge_relayed_packets_total{direction="to_client"}' \
	'avedge_relayed_bytes_total{direction="to_peer"}' \
	'avedge_relayed_bytes_total{direction="to_client"}'; do
	check "has $name" grep -qF "$name " <<<"$body"
done
check "has drops by reason" grep -qE '^avedge_drops_total\{reason="[a-z_]+"\} [0-9]+$' <<<"$body"
not_prometheus() { # lines that are neither a comment nor NAME{LABELS} VALUE
	grep -vE '^(# (TYPE|HELP) .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+)$' <<<"$body"
}
check "every line is a comment or NAME{LABELS} VALUE" not not_prometheus
check "no per-user label" not grep -qiE 'alice|carol|user=' <<<"$body"
check "other paths: 404" grep -q '^HTTP/1.0 404' <<<"$(http_get /nothing)"
check "a query after /metrics: 200" grep -q '^HTTP/1.0 200' <<<"$(http_get '/metrics?x=1')"
check "a malformed request: 400" grep -q '^HTTP/1.0 400' <<<"$(http_status 'GET /metrics HTTP/9\r\n\r\n')"
check "a header without a colon: 400" \
	grep -q '^HTTP/1.0 400' <<<"$(http_status 'GET /metrics HTTP/1.0\r\nHost avedge\r\n\r\n')"
check "POST: 405" grep -q '^HTTP/1.0 405' <<<"$(http_status 'POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n')"

to_peer='avedge_relayed_packets_total{direction="to_peer"}'
to_client='avedge_relayed_packets_total{direction="to_client"}'
bytes_peer='avedge_relayed_bytes_total{direction="to_peer"}'
p0=$(metric "$to_peer") c0=$(metric "$to_client") b0=$(metric "$bytes_peer")
a0=$(metric avedge_allocations_total) f0=$(metric avedge_auth_failures_total)
uclient metrics-run 60 -n 100 -z 2 -l 120 -u alice -w secret -e 10.99.0.3 10.99.0.1
check "relayed run: zero loss" relayed_ok
p1=$(metric "$to_peer") c1=$(metric "$to_client") b1=$(metric "$bytes_peer")
a1=$(metric avedge_allocations_total)
echo "    to_peer $p0 -> $p1, to_client $c0 -> $c1, bytes to_peer $b0 -> $b1, allocations $a0 -> $a1"
check "packets to peers counted ($((p1 - p0)) >= $SENT)" test $((p1 - p0)) -ge "${SENT:-1}"
check "packets to the client counted ($((c1 - c0)) >= $RECV)" test $((c1 - c0)) -ge "${RECV:-1}"
check "bytes to peers counted (>= $SENT x 120)" test $((b1 - b0)) -ge $((${SENT:-1} * 120))
# (a uclient session allocates for RTP, for RTCP with the reservation
# token, and once more: count what it got)
got=$(grep -c 'Received relay addr' "$WORK/metrics-run.log")
check "allocations counted ($((a1 - a0)) = $got relayed addresses handed out)" \
	test $((a1 - a0)) -eq "$got" -a "$got" -gt 0
uclient metrics-badpw 30 -n 5 -u alice -w wrong -e 10.99.0.3 10.99.0.1
f1=$(metric avedge_auth_failures_total)
check "auth failures counted ($f0 -> $f1)" test "$f1" -gt "$f0"

# ==== 4. SIGHUP: users re-read, allocations kept ====
echo "SIGHUP reload"
# Hold one allocation (-c: no RTCP) for ~25 s of traffic in the background.
spawn ip netns exec "$NS" timeout -k 3 60 turnutils_uclient -v -c -n 1250 -z 20 -u alice -w secret \
	-e 10.99.0.3 10.99.0.1 >"$WORK/held.log" 2>&1
HELD=$SPAWNED
slowwait 10 grep -q 'Received relay addr' "$WORK/held.log"
slowwait 10 allocations_held
uclient hup-before 30 -n 5 -u dave -w davepw -e 10.99.0.3 10.99.0.1
check "dave unknown before the reload" grep -q 'Cannot complete Allocation' "$WORK/hup-before.log"
printf 'carol:carolpw\ndave:davepw\n' >"$WORK/users"
printf 'user = erin:erinpw\n' >>"$WORK/avedge.conf"
sed -i 's/^auth-secret = oldsecret$/auth-secret = newsecret/' "$WORK/avedge.conf" # rotation
n_before=$(metric avedge_allocations)
kill -HUP "$AV"
slowwait 5 grep -q 'reloaded' "$WORK/avedge.log"
n_after=$(metric avedge_allocations)
check "reload logged" grep -q 'reloaded users, secrets and limits' "$WORK/avedge.log"
check "no allocation dropped by the reload ($n_before -> $n_after)" test "$n_after" -ge "$n_before" -a "$n_after" -gt 0
uclient hup-dave 30 -n 20 -z 2 -u dave -w davepw -e 10.99.0.3 10.99.0.1
check "user added to the userfile works after SIGHUP" relayed_ok
uclient hup-erin 30 -n 20 -z 2 -u erin -w erinpw -e 10.99.0.3 10.99.0.1
check "user added to the config file works after SIGHUP" relayed_ok
uclient hup-alice 30 -n 20 -z 2 -u alice -w secret -e 10.99.0.3 10.99.0.1
check "existing users still work after SIGHUP" relayed_ok
uclient hup-newsecret 30 -n 20 -z 2 -W newsecret -u rest -e 10.99.0.3 10.99.0.1
check "rotated REST secret: the new one works after SIGHUP" relayed_ok
uclient hup-oldsecret 30 -n 5 -W oldsecret -u rest -e 10.99.0.3 10.99.0.1
check "rotated REST secret: the old one is refused after SIGHUP" \
	grep -q 'Cannot complete Allocation' "$WORK/hup-oldsecret.log"
# Removing users revokes them (new allocations; held ones stay): from the
# userfile, a config line added by the last reload, and one there from the
# start.
printf 'dave:davepw\n' >"$WORK/users"
sed -i '/^user = erin:erinpw$/d; /^user = "bob:/d' "$WORK/avedge.conf"
kill -HUP "$AV"
reloads() { [ "$(grep -c 'reloaded users' "$WORK/avedge.log")" -ge "$1" ]; }
slowwait 5 reloads 2
uclient hup-carol-gone 30 -n 5 -u carol -w carolpw -e 10.99.0.3 10.99.0.1
check "user removed from the userfile is refused after SIGHUP" \
	grep -q 'Cannot complete Allocation' "$WORK/hup-carol-gone.log"
uclient hup-erin-gone 30 -n 5 -u erin -w erinpw -e 10.99.0.3 10.99.0.1
check "user added then removed from the config file is refused after SIGHUP" \
	grep -q 'Cannot complete Allocation' "$WORK/hup-erin-gone.log"
uclient hup-bob-gone 30 -n 5 -u bob -w 'pass with spaces #1' -e 10.99.0.3 10.99.0.1
check "user in the config file at start, then removed, is refused after SIGHUP" \
	grep -q 'Cannot complete Allocation' "$WORK/hup-bob-gone.log"
# A broken file on reload: refused, old settings kept, still running.
cp "$WORK/avedge.conf" "$WORK/avedge.conf.good"
printf 'quota-user = many\n' >>"$WORK/avedge.conf"
kill -HUP "$AV"
slowwait 5 grep -q 'reload failed' "$WORK/avedge.log"
check "bad reload: logged with FILE:LINE" \
	grep -q "reload failed.*$WORK/avedge.conf:[0-9]*:" "$WORK/avedge.log"
check "bad reload: still running" running "$AV"
uclient hup-bad-dave 30 -n 10 -z 2 -u dave -w davepw -e 10.99.0.3 10.99.0.1
check "bad reload: old users kept" relayed_ok
cp "$WORK/avedge.conf.good" "$WORK/avedge.conf"
# The held allocation lived through three reloads without losing a packet.
reap "$HELD"
RC=$?
tot=$(sed -n 's/.*start_mclient: tot_send_msgs=\([0-9]*\), tot_recv_msgs=\([0-9]*\)$/\1 \2/p' "$WORK/held.log" | tail -1)
SENT=${tot% *} RECV=${tot#* }
LOST=$(grep -o 'Total lost packets [0-9]* ([0-9.]*%)' "$WORK/held.log" | tail -1)
printf '    %-16s rc=%s sent=%s recv=%s  %s\n' held "$RC" "${SENT:-?}" "${RECV:-?}" "${LOST:-(no verdict line)}"
check "allocation held across the reloads relayed everything" relayed_ok

# ==== 5. flood of unauthenticated Allocates: memory stays flat ====
echo "unauthenticated flood"
# Allocate, REQUESTED-TRANSPORT UDP, no credentials: each gets a 401 with a
# stateless nonce. From fresh sockets (a new source port each: a new
# "client" each) and from one socket.
flood() { # COUNT
	nsx bash -c '
		for ((i = 0; i < $0; i++)); do
			printf -v t "\\\\x%02x\\\\x%02x\\\\x%02x" $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255))
			printf "\x00\x03\x00\x08\x21\x12\xa4\x42\x66\x6c\x6f\x6f\x64\x21\x66\x6c\x00$t\x00\x19\x00\x04\x11\x00\x00\x00" \
				>/dev/udp/10.99.0.1/3478
		done
		exec 3>/dev/udp/10.99.0.1/3478
		for ((i = 0; i < $0; i++)); do
			printf -v t "\\\\x%02x\\\\x%02x\\\\x%02x" $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255))
			printf "\x00\x03\x00\x08\x21\x12\xa4\x42\x66\x6c\x6f\x6f\x64\x22\x66\x6c\x00$t\x00\x19\x00\x04\x11\x00\x00\x00" >&3
		done' "$1"
}
flood 500 # warm up: buffers, caches
slowwait 10 quiescent
rss0=$(rss_kb "$AV") r0=$(metric avedge_requests_total)
d0=$(metric 'avedge_drops_total{reason="rate_limit"}')
flood 10000
slowwait 10 quiescent
rss1=$(rss_kb "$AV") r1=$(metric avedge_requests_total)
d1=$(metric 'avedge_drops_total{reason="rate_limit"}')
echo "    VmRSS ${rss0} kB -> ${rss1} kB after 20000 unauthenticated Allocates; requests_total $r0 -> $r1"
check "the flood reached avedge (requests counted or rate-limited)" \
	test $((r1 - r0)) -gt 0 -o $((d1 - d0)) -gt 0
check "RSS grew by less than $RSS_SLACK_KB kB ($((rss1 - rss0)) kB)" test $((rss1 - rss0)) -lt "$RSS_SLACK_KB"
check "still answers a Binding after the flood" stun_ok 3478
uclient after-flood 30 -n 20 -z 2 -u alice -w secret -e 10.99.0.3 10.99.0.1
check "still relays after the flood" relayed_ok

# ==== 6. quotas ====
echo "quotas"
spawn ip netns exec "$NS" "$BIN/avedge" --listen 10.99.0.1:3479/udp --relay-ip 10.99.0.2 --ports 53000-53999 \
	--user alice:secret --user bob:secret --quota-user 1 --threads 1 --grace 1 --log-level warn 2>"$WORK/quota-user.log"
spawn ip netns exec "$NS" "$BIN/avedge" --listen 10.99.0.1:3481/udp --relay-ip 10.99.0.2 --ports 54000-54999 \
	--user alice:secret --user bob:secret --quota-total 1 --threads 1 --grace 1 --log-level warn 2>"$WORK/quota-total.log"
up_quota() { up 3479 && up 3481; }
check "quota instances started" up_quota
# One uclient session (-c) makes two allocations, one after the other.
relays() { grep -c 'Received relay addr' "$WORK/$1.log"; }
uclient quota-user-1 30 -p 3479 -c -n 5 -u alice -w secret -e 10.99.0.3 10.99.0.1
check "--quota-user 1: alice gets one allocation" test "$(relays quota-user-1)" -eq 1
check "--quota-user 1: alice's second is answered 486" errored quota-user-1 486
uclient quota-user-2 30 -p 3479 -c -n 5 -u bob -w secret -e 10.99.0.3 10.99.0.1
check "--quota-user 1: bob gets one of his own" test "$(relays quota-user-2)" -eq 1
check "--quota-user 1: bob's second is answered 486" errored quota-user-2 486
uclient quota-total-1 30 -p 3481 -c -n 5 -u alice -w secret -e 10.99.0.3 10.99.0.1
check "--quota-total 1: alice gets one allocation" test "$(relays quota-total-1)" -eq 1
check "--quota-total 1: alice's second is answered 508" errored quota-total-1 508
uclient quota-total-2 30 -p 3481 -c -n 5 -u bob -w secret -e 10.99.0.3 10.99.0.1
check "--quota-total 1: bob gets none" test "$(relays quota-total-2)" -eq 0
check "--quota-total 1: bob's first is answered 508" errored quota-total-2 508

# ==== 7. SIGTERM: drain ====
echo "SIGTERM drain (--grace $GRACE)"
# An idle relay leaves at once.
spawn ip netns exec "$NS" "$BIN/avedge" --listen 10.99.0.1:3482/udp --relay-ip 10.99.0.2 --user alice:secret \
	--grace 30 --log-level info 2>"$WORK/idle.log"
IDLE=$SPAWNED
check "idle instance started" up 3482
t0=$(date +%s%N)
kill -TERM "$IDLE"
wait_exit "$IDLE" 10
rc=$RC
ms=$((($(date +%s%N) - t0) / 1000000))
echo "    idle avedge: exit $rc after $ms ms"
check "no allocations: exits at once on SIGTERM (${ms} ms < 2 s)" test "$ms" -lt 2000
check "no allocations: exit status 0" test "$rc" -eq 0
# The main one holds allocations (uclient leaves them behind, and one more
# runs now): new ones get 508, and it leaves within the grace period.
spawn ip netns exec "$NS" timeout -k 3 60 turnutils_uclient -v -c -n 2000 -z 20 -u alice -w secret \
	-e 10.99.0.3 10.99.0.1 >"$WORK/held2.log" 2>&1
slowwait 10 grep -q 'Received relay addr' "$WORK/held2.log"
held=$(metric avedge_allocations)
echo "    allocations held at SIGTERM: $held"
t0=$(date +%s%N)
kill -TERM "$AV"
uclient drain-new 10 -c -n 5 -u alice -w secret -e 10.99.0.3 10.99.0.1
check "draining: a new allocation is answered 508" errored drain-new 508
check "draining: still answers a Binding" stun_ok 3478
wait_exit "$AV" $((GRACE + 5))
rc=$RC
ms=$((($(date +%s%N) - t0) / 1000000))
echo "    avedge: exit $rc after $ms ms"
check "left within --grace $GRACE s (+1 s) with allocations held (${ms} ms)" \
	test "$ms" -le $((GRACE * 1000 + 1000))
check "stayed for the grace period while allocations were held" test "$ms" -ge $((GRACE * 1000 - 500))
check "exit status 0" test "$rc" -eq 0
check "drain logged" grep -q 'SIGTERM: draining' "$WORK/avedge.log"

check "no crash or sanitizer report in avedge's logs" not grep -Eqi 'assert|sanitizer|segv|abort' \
	"$WORK/avedge.log" "$WORK/quota-user.log" "$WORK/quota-total.log" "$WORK/idle.log"
lib_exit
