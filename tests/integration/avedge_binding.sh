#!/usr/bin/env bash
# avedge answers STUN Binding over UDP and TCP, IPv4 and IPv6, to clients
# nobody here wrote (coturn's turnutils_stunclient) and to edgeprobe; bad
# command lines fail with one line and a non-zero exit.
. "$(dirname "$0")/../lib/common.sh"
trap cleanup_pids EXIT

port=$(free_port) || exit 1
spawn "$BIN/avedge" --listen 127.0.0.1:$port/udp --listen 127.0.0.1:$port/tcp \
	--listen "[::1]:$port/udp" --log-level warn
wait_for 5 "$BIN/edgeprobe" binding 127.0.0.1:$port --timeout 200 || { echo "avedge did not start"; exit 1; }

# coturn's client: the reflexive address it prints must be its own socket's.
out=$(turnutils_stunclient -p "$port" -L 127.0.0.1 127.0.0.1 2>&1)
echo "$out" | sed 's/^/    /'
check "turnutils_stunclient gets a loopback reflexive address" \
	grep -qE 'UDP reflexive addr: 127\.0\.0\.1:[0-9]+' <<<"$out"

# edgeprobe over UDP: answer from the address asked, mapped = own socket.
j=$("$BIN/edgeprobe" binding 127.0.0.1:$port --json)
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$j"; }
expect_eq "udp: answer from the address asked" "127.0.0.1:$port" "$(field from)"
expect_eq "udp: xor-mapped is our socket" "$(field local)" "$(field xor_mapped)"
expect_eq "udp: mapped equals xor-mapped" "$(field xor_mapped)" "$(field mapped)"
expect_eq "udp: response-origin is the listener" "127.0.0.1:$port" "$(field response_origin)"

j=$("$BIN/edgeprobe" binding 127.0.0.1:$port --tcp --json)
expect_eq "tcp: answer from the address asked" "127.0.0.1:$port" "$(field from)"
expect_eq "tcp: xor-mapped is our socket" "$(field local)" "$(field xor_mapped)"

j=$("$BIN/edgeprobe" binding "[::1]:$port" --json)
expect_eq "ipv6 udp: response-origin" "[::1]:$port" "$(field response_origin)"
expect_eq "ipv6 udp: xor-mapped is our socket" "$(field local)" "$(field xor_mapped)"

# Bound source: --bind picks the address and port the server sees.
bp=$(free_port)
j=$("$BIN/edgeprobe" binding 127.0.0.1:$port --bind 127.0.0.1:$bp --json)
expect_eq "--bind: mapped port is the bound one" "127.0.0.1:$bp" "$(field xor_mapped)"

# Garbage does not kill it: send junk, then ask again.
printf 'not stun at all, just bytes' >/dev/udp/127.0.0.1/$port
head -c 300 /dev/urandom >/dev/udp/127.0.0.1/$port
check "still answers after garbage" quiet "$BIN/edgeprobe" binding 127.0.0.1:$port --timeout 1000

# Errors: one line each, non-zero exit.
err=$("$BIN/avedge" --listen 127.0.0.1:$port/udp 2>&1); rc=$?
check "port in use: non-zero exit" test $rc -ne 0
check "port in use: says so" grep -q 'address already in use' <<<"$err"
err=$("$BIN/avedge" --bogus 2>&1); rc=$?
check "unknown flag: exit 2, one line" test $rc -eq 2 -a "$(wc -l <<<"$err")" -eq 1
err=$("$BIN/avedge" --listen 300.1.1.1:1/udp 2>&1); rc=$?
check "bad address: exit 2" test $rc -eq 2
check "bad address: names the flag and the value" grep -q "\--listen.*'300.1.1.1:1/udp': bad address" <<<"$err"
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	err=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN/avedge" --listen 127.0.0.1:443/tcp 2>&1); rc=$?
	check "missing privilege: non-zero exit" test $rc -ne 0
	check "missing privilege: says so" grep -q 'permission denied' <<<"$err"
fi
err=$("$BIN/edgeprobe" binding 127.0.0.1:1 --timeout 300 2>&1); rc=$?
check "edgeprobe: closed port is an error" test $rc -ne 0

finish
