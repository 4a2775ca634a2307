#!/usr/bin/env bash
# avedge answers STUN Binding over UDP and TCP, IPv4 and IPv6, to clients
# nobody here wrote (coturn's turnutils_stunclient) and to edgeprobe; bad
# command lines fail with one line and a non-zero exit. On the loopback
# of a namespace of its own.
. "$(dirname "$0")/../lib/lib.sh"
lib_init avedge_binding
need_bin avedge edgeprobe
need_cmd turnutils_stunclient setpriv
setup_ns NS
ep() { in_ns "$NS" "$BIN/edgeprobe" "$@"; }
av() { in_ns "$NS" "$BIN/avedge" "$@"; }

port=3478
spawn ip netns exec "$NS" "$BIN/avedge" --listen 127.0.0.1:$port/udp --listen 127.0.0.1:$port/tcp \
	--listen "[::1]:$port/udp" --log-level warn
slowwait 5 ep binding 127.0.0.1:$port --timeout 200 || bail "avedge did not start"

# coturn's client: the reflexive address it prints must be its own socket's.
out=$(in_ns "$NS" turnutils_stunclient -p "$port" -L 127.0.0.1 127.0.0.1 2>&1)
echo "$out" | sed 's/^/    /'
check "turnutils_stunclient gets a loopback reflexive address" \
	grep -qE 'UDP reflexive addr: 127\.0\.0\.1:[0-9]+' <<<"$out"

# edgeprobe over UDP: answer from the address asked, mapped = own socket.
j=$(ep binding 127.0.0.1:$port --json)
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$j"; }
check_eq "udp: answer from the address asked" "127.0.0.1:$port" "$(field from)"
check "udp: our socket is reported ($(field local))" test -n "$(field local)"
check_eq "udp: xor-mapped is our socket" "$(field local)" "$(field xor_mapped)"
check_eq "udp: mapped equals xor-mapped" "$(field xor_mapped)" "$(field mapped)"
check_eq "udp: response-origin is the listener" "127.0.0.1:$port" "$(field response_origin)"

j=$(ep binding 127.0.0.1:$port --tcp --json)
check_eq "tcp: answer from the address asked" "127.0.0.1:$port" "$(field from)"
check "tcp: our socket is reported ($(field local))" test -n "$(field local)"
check_eq "tcp: xor-mapped is our socket" "$(field local)" "$(field xor_mapped)"

j=$(ep binding "[::1]:$port" --json)
check_eq "ipv6 udp: response-origin" "[::1]:$port" "$(field response_origin)"
check "ipv6 udp: our socket is reported ($(field local))" test -n "$(field local)"
check_eq "ipv6 udp: xor-mapped is our socket" "$(field local)" "$(field xor_mapped)"

# Bound source: --bind picks the address and port the server sees.
bp=41234
j=$(ep binding 127.0.0.1:$port --bind 127.0.0.1:$bp --json)
check_eq "--bind: mapped port is the bound one" "127.0.0.1:$bp" "$(field xor_mapped)"

# Garbage does not kill it: send junk, then ask again.
in_ns "$NS" bash -c 'printf "not stun at all, just bytes" >/dev/udp/127.0.0.1/$0
	head -c 300 /dev/urandom >/dev/udp/127.0.0.1/$0' $port
check "still answers after garbage" quiet ep binding 127.0.0.1:$port --timeout 1000

# Errors: one line each, non-zero exit.
err=$(av --listen 127.0.0.1:$port/udp 2>&1); rc=$?
check "port in use: non-zero exit" test $rc -ne 0
check "port in use: says so" grep -q 'address already in use' <<<"$err"
err=$(av --bogus 2>&1); rc=$?
check "unknown flag: exit 2, one line" test $rc -eq 2 -a "$(wc -l <<<"$err")" -eq 1
err=$(av --listen 300.1.1.1:1/udp 2>&1); rc=$?
check "bad address: exit 2" test $rc -eq 2
check "bad address: names the flag and the value" grep -q "\--listen.*'300.1.1.1:1/udp': bad address" <<<"$err"
err=$(in_ns "$NS" setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN/avedge" --listen 127.0.0.1:443/tcp 2>&1); rc=$?
check "missing privilege: non-zero exit" test $rc -ne 0
check "missing privilege: says so" grep -q 'permission denied' <<<"$err"
err=$(ep binding 127.0.0.1:1 --timeout 300 2>&1); rc=$?
check "edgeprobe: closed port is an error" test $rc -ne 0

lib_exit
