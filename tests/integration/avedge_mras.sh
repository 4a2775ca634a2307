#!/usr/bin/env bash
# MRAS, the A/V authentication service ([MS-AVEDGEA], R20): avedge A hands
# out relay credentials over SIP SERVICE on mutual TLS; avedge B, a
# separate process with the same --auth-secret, accepts them in both
# dialects (IETF TURN; MS-TURN from libnice over UDP, TCP and pseudo-TLS
# on 443, and from edgeprobe over the same, data both ways; over TCP the
# allocations are TCP ones). No client certificate, or
# one from another CA: refused. Wrong method, content type or XML: the
# spec's answer. Expired or other-secret credentials: 401. The listener's
# connection cap: reached and counted. On the loopback of a namespace.
. "$(dirname "$0")/../lib/lib.sh"
lib_init avedge_mras
need_bin avedge edgeprobe
need_cmd openssl timeout python3 valgrind base64 ss nft
NICE=${NICE_TURN:-${BIN%/bin}/tests/nice_turn}
[ -x "$NICE" ] || bail "no $NICE: libnice-dev missing when CMake ran (tests/setup.sh installs it)"
setup_ns NS
ep() { in_ns "$NS" "$BIN/edgeprobe" "$@"; }
T=$T_TMP

# A lab CA that signs the Front End's certificate, and another CA.
ca() { openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
	-keyout "$T/$1.key" -out "$T/$1.pem" >/dev/null 2>&1; }
leaf() { openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$T/$2.key" \
	-out "$T/$2.csr" >/dev/null 2>&1 &&
	openssl x509 -req -in "$T/$2.csr" -CA "$T/$1.pem" -CAkey "$T/$1.key" \
		-CAcreateserial -days 2 -out "$T/$2.pem" >/dev/null 2>&1; }
ca labca && ca otherca && leaf labca fe && leaf otherca rogue || bail "openssl could not make certificates"
make_cert

SECRET=pool-secret
# A: MRAS on 5062 (at most 3 streams, to reach the cap below).
spawn ip netns exec "$NS" "$BIN/avedge" --listen 127.0.0.10:3478/udp --relay-ip 127.0.0.10 \
	--mras 127.0.0.10:5062 --mras-ca "$T/labca.pem" --cert "$T/cert.pem" --key "$T/key.pem" \
	--mras-relay internet=av.edge.lab:3478:443 --mras-relay intranet=127.0.0.11:3478:443 \
	--mras-duration 60 --auth-secret "$SECRET" --max-conns 3 --threads 1 \
	--metrics 127.0.0.10:9100 --log-level info 2>"$T/a.log"
# B: the other node, TURN only, the same secret.
spawn ip netns exec "$NS" "$BIN/avedge" --listen 127.0.0.11:3478/udp --listen 127.0.0.11:3478/tcp \
	--listen 127.0.0.11:443/tls --cert "$T/cert.pem" --key "$T/key.pem" --relay-ip 127.0.0.11 \
	--allow-peer 127.0.0.0/8 --auth-secret "$SECRET" --log-level info 2>"$T/b.log"
listening() { in_ns "$NS" ss -Hltn | grep -qF "$1"; }
slowwait 10 listening 127.0.0.10:5062 || bail "avedge A (MRAS) did not start: $(cat "$T/a.log")"
slowwait 10 listening 127.0.0.11:443 || bail "avedge B did not start: $(cat "$T/b.log")"

mras() { ep mras 127.0.0.10:5062 --ca "$T/cert.pem" --timeout 3000 "$@"; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
jtrue() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)" "$@"; }
b64d() { printf '%s' "$1" | base64 -d; }

echo "credentials from A:"
mras --cert "$T/fe.pem" --key "$T/fe.key" --identity sip:alice@edge.lab --duration 600 \
	>"$T/cred.json" 2>"$T/cred.err"
check "a Front End certificate from the lab CA gets credentials (exit 0)" test $? -eq 0
sed 's/^/    /' "$T/cred.json"
check "one JSON object with username, password, duration and relays" \
	jtrue "$T/cred.json" "len(d['username']) > 0 and len(d['password']) > 0 and len(d['relays']) == 2"
check_eq "duration: 600 asked, capped at --mras-duration 60" 60 "$(json "$T/cred.json" "d['duration']")"
check_eq "the media relay list as configured" \
	"internet av.edge.lab 3478 443|intranet 127.0.0.11 3478 443" \
	"$(json "$T/cred.json" "'|'.join('%s %s %d %d' % (r['location'], r['host'], r['udp'], r['tcp']) for r in d['relays'])")"
U64=$(json "$T/cred.json" "d['username']")
P64=$(json "$T/cred.json" "d['password']")
U=$(b64d "$U64")
P=$(b64d "$P64")
now=$(date +%s)
check "the TURN user name is EXPIRY:IDENTITY, EXPIRY about 60 min on" \
	python3 -c "import sys; e, n = sys.argv[1].split(':', 1); assert n == 'sip:alice@edge.lab' and abs(int(e) - $now - 3600) < 30, sys.argv[1]" "$U"
check_eq "the TURN password is base64(HMAC-SHA1(secret, user name))" \
	"$(printf '%s' "$U" | openssl dgst -sha1 -hmac "$SECRET" -binary | base64)" "$P"

echo "refused certificates:"
mras --cert "$T/rogue.pem" --key "$T/rogue.key" >/dev/null 2>"$T/rogue.err"
check "a certificate from another CA: refused (exit 1)" test $? -eq 1
sed 's/^/    /' "$T/rogue.err"

# raw NAME REQUEST: one request over mutual TLS with the lab certificate; the answer in T/NAME.out.
raw() {
	(printf '%s' "$2"; sleep 1) | in_ns "$NS" timeout 5 openssl s_client -quiet -connect 127.0.0.10:5062 \
		-cert "$T/fe.pem" -key "$T/fe.key" >"$T/$1.out" 2>/dev/null
	grep -E '^SIP/2.0|reasonPhrase|^Allow|^Accept' "$T/$1.out" | sed 's/^/    /'
}
sipreq() { # METHOD CONTENT-TYPE BODY
	printf '%s sip:127.0.0.10:5062;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bK77\r\nFrom: <sip:fe@edge.lab>;tag=9\r\nTo: <sip:127.0.0.10:5062>\r\nCall-ID: t1@fe\r\nCSeq: 1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s' \
		"$1" "$1" "$2" "${#3}" "$3"
}
CT=application/msrtc-media-relay-auth+xml
GOOD='<request requestID="5" version="1.0" from="sip:fe@edge.lab" to="sip:a" xmlns="http://schemas.microsoft.com/2006/09/sip/mrasp"><credentialsRequest credentialsRequestID="5"><identity>sip:bob@edge.lab</identity><location>intranet</location><duration>30</duration></credentialsRequest></request>'
# No client certificate at all: openssl's client, which can leave it out,
# with a request that would be answered (a malformed one is closed
# without a word, certificate or not, and would prove nothing).
(sipreq SERVICE "$CT" "$GOOD"; sleep 1) | in_ns "$NS" timeout 5 openssl s_client -quiet \
	-connect 127.0.0.10:5062 >"$T/nocert.out" 2>&1
check "no client certificate: refused for it ('certificate required'), nothing answered" \
	eval "! grep -q '^SIP/2.0' '$T/nocert.out' && grep -q 'certificate required' '$T/nocert.out'"
check "both refusals logged" test "$(grep -c 'TLS handshake from .* failed' "$T/a.log")" -ge 2
echo "the spec's errors:"
raw method "$(sipreq MESSAGE "$CT" "$GOOD")"
check "wrong method: 405 Method Not Allowed" grep -q '^SIP/2.0 405 Method Not Allowed' "$T/method.out"
check "... with Allow: SERVICE" grep -qi '^Allow: SERVICE' "$T/method.out"
raw ctype "$(sipreq SERVICE application/sdp "$GOOD")"
check "wrong content type: 415 Unsupported Media Type" grep -q '^SIP/2.0 415 Unsupported Media Type' "$T/ctype.out"
check "... with Accept: $CT" grep -qi "^Accept: $CT" "$T/ctype.out"
raw badxml "$(sipreq SERVICE "$CT" '<request xmlns="http://schemas.microsoft.com/2006/09/sip/mrasp"><credentialsRequest')"
check "bad XML: 200 OK with reasonPhrase Request Malformed" \
	grep -q 'reasonPhrase="Request Malformed"' "$T/badxml.out"
raw noident "$(sipreq SERVICE "$CT" "${GOOD/<identity>sip:bob@edge.lab<\/identity>/}")"
check "no identity: Request Malformed, no credentials" \
	eval 'grep -q "reasonPhrase=\"Request Malformed\"" "$T/noident.out" && ! grep -q "<username>" "$T/noident.out"'
raw good "$(sipreq SERVICE "$CT" "$GOOD")"
check "the same request, well formed: 200 OK with credentials" \
	eval 'grep -q "reasonPhrase=\"OK\"" "$T/good.out" && grep -q "<username>" "$T/good.out"'
check "each refusal logged (405, 415, two malformed)" \
	test "$(grep -cE 'MRAS: .*refused' "$T/a.log")" -ge 4
raw junk $'not SIP at all\r\n\r\n'
check "not SIP: no answer, closed and logged" \
	eval '! grep -q "^SIP" "$T/junk.out" && grep -q "are not a SIP request: closed" "$T/a.log"'

echo "credentials from A, on B:"
ep allocate 127.0.0.11:3478 --user "$U" --pass "$P" >"$T/ietf.out" 2>&1
check "IETF TURN Allocate on B (edgeprobe allocate --user/--pass)" grep -q '^  relayed' "$T/ietf.out"
ep allocate 127.0.0.11:3478 --ms-turn --user "$U" --pass "$P" >"$T/ms.out" 2>&1
check "MS-TURN Allocate on B (edgeprobe allocate --ms-turn)" grep -q '^  relayed' "$T/ms.out"
in_ns "$NS" timeout -k 2 40 "$NICE" --server 127.0.0.11:3478 --mras --user "$U64" --pass "$P64" \
	--local 127.0.0.2 --peer 127.0.0.3 --count 20 --timeout 25 >"$T/nice_udp.log" 2>&1
rc=$?
grep -E '^(A selected|A received|FAIL)' "$T/nice_udp.log" | sed 's/^/    /'
check "libnice OC2007R2 over UDP with the MRAS values as they come: data both ways" \
	eval "[ $rc -eq 0 ] && grep -q '^A received 20/20 pings and 20/20 pongs; B received 20/20 pings and 20/20 pongs' '$T/nice_udp.log'"
# Over TCP (and pseudo-TLS on 443) an Allocate gets a TCP allocated
# transport address ([MS-TURN] 3.2.5.1), libnice's relayed candidates are
# TCP-ACT/TCP-PASS (ice-tcp), and both agents relay: the checks and the
# data cross a TCP connection between the two relayed addresses.
for how in "tcp 3478 tcp" "tls 443 pseudo-TLS"; do
	set -- $how
	in_ns "$NS" timeout -k 2 40 "$NICE" --server "127.0.0.11:$2" --mras --user "$U64" --pass "$P64" \
		--relay-type "$1" --peer-relay --local 127.0.0.2 --peer 127.0.0.3 --count 20 --timeout 25 \
		>"$T/nice_$1.log" 2>&1
	rc=$?
	grep -E '^(A selected|A received|FAIL)' "$T/nice_$1.log" | sed 's/^/    /'
	check "libnice OC2007R2 over $3 (:$2) with the MRAS values: TCP relay to TCP relay, data both ways" \
		eval "[ $rc -eq 0 ] && grep -qE '^A selected pair: local relay [0-9.]+:[0-9]+ tcp-(act|pass) -> remote relay [0-9.]+:[0-9]+ tcp-(act|pass)$' '$T/nice_$1.log' && grep -q '^A received 20/20 pings and 20/20 pongs; B received 20/20 pings and 20/20 pongs' '$T/nice_$1.log'"
done
# edgeprobe's MS-TURN client over the same streams: a TCP allocation, its
# peer a TCP echo, data both ways.
spawn ip netns exec "$NS" "$BIN/edgeprobe" echo --tcp 127.0.0.5:7000 --seconds 120 >"$T/echo.log" 2>&1
slowwait 5 eval 'in_ns "$NS" ss -Hltn | grep -qF 127.0.0.5:7000' || bail "the echo peer did not start"
for how in "tcp --tcp 127.0.0.11:3478" "pseudo-TLS --pseudo-tls 127.0.0.11:443"; do
	set -- $how
	ep allocate --ms-turn "$2" --user "$U" --pass "$P" --echo 127.0.0.5:7000 "$3" >"$T/ms_$1.out" 2>&1
	check "MS-TURN over $1 ($3) on B: allocated, data both ways (Send/Data Indication, raw after Set Active Destination)" \
		eval "grep -qE '^ +send_echo +ok' '$T/ms_$1.out' && grep -qE '^ +active_echo +ok' '$T/ms_$1.out'"
done
check "B made MS-TURN allocations for the MRAS identity, TCP ones over TCP" \
	grep -q 'MS-TURN allocation for [0-9]*:sip:alice@edge.lab from .*: TCP port' "$T/b.log"

echo "refused credentials:"
expired_u="$((now - 10)):sip:alice@edge.lab"
expired_p=$(printf '%s' "$expired_u" | openssl dgst -sha1 -hmac "$SECRET" -binary | base64)
ep allocate 127.0.0.11:3478 --user "$expired_u" --pass "$expired_p" >"$T/exp.out" 2>&1
check "expired (EXPIRY in the past, right HMAC): 401" grep -qE 'Allocate: (error )?401' "$T/exp.out"
ep allocate 127.0.0.11:3478 --ms-turn --user "$expired_u" --pass "$expired_p" >"$T/exp_ms.out" 2>&1
check "expired, MS-TURN: 401" grep -qE 'Allocate: (error )?401' "$T/exp_ms.out"
other_p=$(printf '%s' "$U" | openssl dgst -sha1 -hmac other-secret -binary | base64)
ep allocate 127.0.0.11:3478 --user "$U" --pass "$other_p" >"$T/other.out" 2>&1
check "signed with another secret: 401" grep -qE 'Allocate: (error )?401' "$T/other.out"
ep allocate 127.0.0.11:3478 --ms-turn --user "$U" --pass "$other_p" >"$T/other_ms.out" 2>&1
check "another secret, MS-TURN: 401" grep -qE 'Allocate: (error )?401' "$T/other_ms.out"

echo "the connection cap (--max-conns 3):"
metric() { # NAME: from A's /metrics (bash's /dev/tcp)
	in_ns "$NS" timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.10/9100 || exit 1
		printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3' |
		tr -d '\r' | awk -v k="$1" '$1 == k { print $2; exit }'
}
before=$(metric 'avedge_limit_total{limit="max_conns"}')
pids=()
for _ in 1 2 3; do
	(sleep 4) | in_ns "$NS" timeout 6 openssl s_client -quiet -connect 127.0.0.10:5062 \
		-cert "$T/fe.pem" -key "$T/fe.key" >/dev/null 2>&1 &
	pids+=($!)
done
held() { [ "$(in_ns "$NS" ss -Htn state established "( sport = :5062 )" | wc -l)" -ge 3 ]; }
slowwait 5 held
mras --cert "$T/fe.pem" --key "$T/fe.key" >/dev/null 2>"$T/cap.err"
check "a fourth connection while three are held: refused" test $? -ne 0
after=$(metric 'avedge_limit_total{limit="max_conns"}')
check "... and counted: avedge_limit_total{limit=\"max_conns\"} $before -> $after" test "$after" -gt "$before"
check "... and logged" grep -q 'refused: --max-conns reached' "$T/a.log"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
check "MRAS counters in /metrics: requests, credentials, errors" \
	eval '[ "$(metric avedge_mras_credentials_total)" -ge 2 ] && [ "$(metric avedge_mras_errors_total)" -ge 4 ] && [ "$(metric avedge_tls_handshake_failures_total)" -ge 2 ]'

echo "a secret rotated by SIGHUP:"
# D: the secret from a config file; the file changes, SIGHUP: the next
# credentials are signed with the new secret, which TURN now accepts.
printf 'auth-secret = first-secret\n' >"$T/d.conf"
spawn ip netns exec "$NS" "$BIN/avedge" --listen 127.0.0.14:3478/udp --relay-ip 127.0.0.14 \
	--allow-peer 127.0.0.0/8 --mras 127.0.0.14:5062 --mras-ca "$T/labca.pem" --cert "$T/cert.pem" \
	--key "$T/key.pem" --mras-relay internet=av.edge.lab:3478:443 --config "$T/d.conf" \
	--threads 1 --log-level info 2>"$T/d.log"
DP=$SPAWNED
slowwait 10 listening 127.0.0.14:5062 || bail "avedge D did not start: $(cat "$T/d.log")"
dcred() { # SECRET: the password D issues is base64(HMAC-SHA1(SECRET, user))
	ep mras 127.0.0.14:5062 --ca "$T/cert.pem" --timeout 3000 --cert "$T/fe.pem" --key "$T/fe.key" \
		>"$T/d.json" 2>&1 || return 1
	local u p
	u=$(b64d "$(json "$T/d.json" "d['username']")")
	p=$(b64d "$(json "$T/d.json" "d['password']")")
	[ "$p" = "$(printf '%s' "$u" | openssl dgst -sha1 -hmac "$1" -binary | base64)" ] || return 1
	ep allocate 127.0.0.14:3478 --user "$u" --pass "$p" >"$T/d.alloc" 2>&1 && grep -q '^  relayed' "$T/d.alloc"
}
check "before: signed with the file's secret, and D's TURN takes them" dcred first-secret
printf 'auth-secret = second-secret\n' >"$T/d.conf"
kill -HUP "$DP"
slowwait 5 grep -q "reloaded users, secrets and limits" "$T/d.log" || bail "D did not reload"
check "after SIGHUP: signed with the new secret, and TURN takes them" dcred second-secret
stop_pids "$DP"

echo "under valgrind:"
# C: MRAS alone under memcheck; every kind of exchange once, then SIGINT.
spawn ip netns exec "$NS" valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=3 --log-file="$T/c.vg" "$BIN/avedge" --threads 1 \
	--listen 127.0.0.13:3478/udp --mras 127.0.0.13:5062 --mras-ca "$T/labca.pem" \
	--cert "$T/cert.pem" --key "$T/key.pem" --mras-relay internet=av.edge.lab:3478:443 \
	--auth-secret "$SECRET" --log-level warn 2>"$T/c.log"
VG=$SPAWNED
slowwait 60 listening 127.0.0.13:5062 || bail "avedge C did not start under valgrind"
vmras() { ep mras 127.0.0.13:5062 --ca "$T/cert.pem" --timeout 20000 "$@"; }
vmras --cert "$T/fe.pem" --key "$T/fe.key" >"$T/vg1.json" 2>&1
check "valgrind: credentials issued" jtrue "$T/vg1.json" "len(d['username']) > 0"
vmras --cert "$T/rogue.pem" --key "$T/rogue.key" >/dev/null 2>&1
for req in "$(sipreq MESSAGE "$CT" "$GOOD")" "$(sipreq SERVICE text/xml "$GOOD")" \
	"$(sipreq SERVICE "$CT" '<request')" "garbage that is not SIP"$'\r\n\r\n'; do
	(printf '%s' "$req"; sleep 3) | in_ns "$NS" timeout 20 openssl s_client -quiet \
		-connect 127.0.0.13:5062 -cert "$T/fe.pem" -key "$T/fe.key" >/dev/null 2>&1
done
vmras --cert "$T/fe.pem" --key "$T/fe.key" >"$T/vg2.json" 2>&1
check "valgrind: credentials issued after the errors" jtrue "$T/vg2.json" "len(d['password']) > 0"
kill -INT "$VG"
slowwait 60 not_running "$VG" || kill -9 "$VG"
reap "$VG"
vrc=$?
sed -n 's/.*\(ERROR SUMMARY: [0-9,]* errors\).*/    \1/p; s/.*\(definitely lost: .*\)/    \1/p; s/.*\(indirectly lost: .*\)/    \1/p' "$T/c.vg"
check "valgrind: no memory error, nothing definitely or indirectly lost (exit $vrc)" \
	eval '[ "$vrc" -eq 0 ] && grep -q "ERROR SUMMARY: 0 errors" "$T/c.vg" &&
		! grep -qE "(definitely|indirectly) lost: [1-9]" "$T/c.vg"'

echo "a SYN nobody answers (a balancer that drops the answer):"
in_ns "$NS" nft 'add table inet mrasdrop; add chain inet mrasdrop o { type filter hook output priority 0; }; add rule inet mrasdrop o ip daddr 127.0.0.99 tcp dport 5062 drop'
t0=$(date +%s%N)
ep mras 127.0.0.99:5062 --cert "$T/fe.pem" --key "$T/fe.key" --ca "$T/cert.pem" --timeout 1000 >/dev/null 2>"$T/syn.err"
code=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "no SYN-ACK: exit 1, 'TCP connect timed out', at --timeout 1000 (took $ms ms)" \
	eval '[ $code -eq 1 ] && grep -q "TCP connect timed out" "$T/syn.err" && [ $ms -lt 3000 ]'

echo "start-up refusals:"
in_ns "$NS" "$BIN/avedge" --listen 127.0.0.12:3478/udp --mras 127.0.0.12:5062 --cert "$T/cert.pem" \
	--key "$T/key.pem" --mras-ca "$T/labca.pem" --mras-relay internet=a:1:2 >/dev/null 2>"$T/nosecret.err"
code=$?
check "--mras without --auth-secret: exit 2, one line" \
	eval '[ $code -eq 2 ] && grep -q "needs --auth-secret" "$T/nosecret.err"'
in_ns "$NS" "$BIN/avedge" --listen 127.0.0.12:3478/udp --mras 127.0.0.12:5062 --cert "$T/cert.pem" \
	--key "$T/key.pem" --auth-secret s --mras-relay internet=a:1:2 >/dev/null 2>"$T/noca.err"
code=$?
check "--mras without --mras-ca: exit 2, one line" \
	eval '[ $code -eq 2 ] && grep -q "needs --mras-ca" "$T/noca.err"'
lib_exit
