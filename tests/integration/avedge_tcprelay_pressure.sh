#!/usr/bin/env bash
# avedge's RFC 6062 splice under pressure, on loopback: back-pressure both
# ways (a peer pushing 200 MiB into a client that does not read, and a
# client pushing 200 MiB into a peer that does not read: avedge's memory
# stays flat and the sender blocks, then every byte arrives, in order; and
# 64 MiB to a stalled TLS client), half-close both ways (a FIN from one side reaches the other after the
# last byte, and the other direction keeps working), the end of the
# allocation ending a half-closed pair, and a ConnectionBind on the
# control connection refused with 400 (RFC 6062 §5.4). The client and the
# peers are a small python3 RFC 6062 client and TCP servers,
# tests/tools/rfc6062.py: edgeprobe always reads, and these must stall on
# purpose. About 15 s on an idle 2-core machine; every wait is bounded
# (python's own alarm, 150 s).
#
# On the loopback of a namespace of its own: listener 127.0.0.1, relayed
# address 127.0.0.2, peers on 127.0.0.3.
# AVEDGE_WRAP="valgrind --log-file=F" runs avedge under a wrapper (the
# memory bound is then not checked); so does an ASan build.
. "$(dirname "$0")/../lib/lib.sh"
lib_init avedge_tcprelay_pressure
need_bin avedge edgeprobe
need_cmd python3
setup_ns NS
TOTAL=$((200 << 20))      # bytes each pusher sends
RSS_MAX_MIB=${RSS_MAX_MIB:-20} # avedge may grow this much while a side stalls
port=3478 tport=5349 mport=9100
make_cert

read -r -a wrap <<<"${AVEDGE_WRAP:-}"
spawn ip netns exec "$NS" "${wrap[@]}" "$BIN/avedge" --listen 127.0.0.1:$port/tcp \
	--listen "127.0.0.1:$tport/tls" --cert "$T_TMP/cert.pem" --key "$T_TMP/key.pem" --metrics 127.0.0.1:$mport \
	--relay-ip 127.0.0.2 --allow-peer 127.0.0.0/8 --ports 47000-47999 \
	--user alice:secret --realm edge.lab --log-level warn --grace 1
AVEDGE=$SPAWNED
slowwait 30 in_ns "$NS" "$BIN/edgeprobe" binding 127.0.0.1:$port --tcp --timeout 200 || bail "avedge did not start"

checkrss=1
if [ -n "${AVEDGE_WRAP:-}" ] || ldd "$BIN/avedge" | grep -q libasan; then
	checkrss=0
	check_skip "memory bounds" "avedge runs under a wrapper or ASan"
fi
# spawned as is (ip execs python): cleanup stops python itself
PY=(ip netns exec "$NS" python3 "$EDGELAB_ROOT/tests/tools/rfc6062.py")
field() { sed -n "s/.*\"$2\": \"\{0,1\}\([^,\"}]*\).*/\1/p" "$1"; }
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
listening() { local o; o=$(in_ns "$NS" ss -Hltn "src $1"); [ -n "$o" ]; }
# Wait until a progress file has not moved for a second: the sender blocked
# (or finished). Bounded: 30 s.
settled() {
	local last=-1 same=0 now deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		now=$(cat "$1" 2>/dev/null || echo 0)
		if [ "$now" = "$last" ]; then
			same=$((same + 1))
			[ $same -ge 5 ] && return 0
		else
			same=0
		fi
		last=$now
		sleep 0.2
	done
	return 1
}
mib() { echo $((($1 + 1023) / 1024)); }

# stall NAME DIRECTION BYTES [tls=1]: one pusher, one staller, one run.
#   down: the peer pushes, the client stalls; up: the client pushes, the peer
#   stalls. The client speaks TLS to avedge with tls=1.
stall() {
	local n=$1 dir=$2 total=$3 tls=${4:-tls=} base hwm rss prog r0 p_pid c_pid p_rc c_rc
	local pf=$T_TMP/$1.prog hf=$T_TMP/$1.hold srv=127.0.0.1:$port P
	P=127.0.0.3:$((40000 + ${#STALLS[@]}))
	STALLS+=("$n")
	[ "$tls" = tls=1 ] && srv=127.0.0.1:$tport
	base=$(kib "$AVEDGE" VmRSS)
	if [ "$dir" = down ]; then
		spawn "${PY[@]}" peer mode=push listen=$P bytes=$total progress=$pf >"$T_TMP/$n.peer"
	else
		spawn "${PY[@]}" peer mode=sink listen=$P hold=$hf >"$T_TMP/$n.peer"
	fi
	p_pid=$SPAWNED
	slowwait 10 listening "$P" || { check "$n: the peer listens" false; return; }
	if [ "$dir" = down ]; then
		spawn "${PY[@]}" client mode=pull server=$srv peer=$P user=alice pass=secret $tls \
			hold=$hf bound=$T_TMP/$n.bound >"$T_TMP/$n.client"
	else
		spawn "${PY[@]}" client mode=push server=$srv peer=$P user=alice pass=secret $tls \
			bytes=$total progress=$pf >"$T_TMP/$n.client"
	fi
	c_pid=$SPAWNED
	if [ "$dir" = down ] && ! slowwait 10 test -e "$T_TMP/$n.bound"; then
		check "$n: the splice began (ConnectionBind answered)" false
		return
	fi
	slowwait 10 test -s "$pf" || { check "$n: the pusher started" false; return; }
	settled "$pf"
	prog=$(cat "$pf" 2>/dev/null || echo 0)
	rss=$(kib "$AVEDGE" VmRSS) hwm=$(kib "$AVEDGE" VmHWM)
	echo "    $n: pusher settled at $((prog >> 20)) MiB of $((total >> 20));" \
		"avedge VmRSS $(mib "$base") -> $(mib "$rss") MiB, peak (VmHWM) $(mib "$hwm") MiB"
	check "$n: the pusher blocked: $((prog >> 20)) MiB of $((total >> 20)) sent while the other side stalled" \
		test "$prog" -gt $((64 << 10)) -a "$prog" -lt $((total / 2))
	if [ $checkrss = 1 ]; then
		check "$n: avedge grew $(((hwm - base) / 1024)) MiB (peak) < $RSS_MAX_MIB MiB while stalled" \
			test $((hwm - base)) -lt $((RSS_MAX_MIB * 1024))
	fi
	touch "$hf" # the staller reads now
	reap "$p_pid"; p_rc=$?
	reap "$c_pid"; c_rc=$?
	if [ "$dir" = down ]; then
		check_eq "$n: peer sent everything and closed" "0 $total" "$p_rc $(field "$T_TMP/$n.peer" sent)"
		check_eq "$n: client received every byte, in order, then EOF" "0 $total true true" \
			"$c_rc $(field "$T_TMP/$n.client" received) $(field "$T_TMP/$n.client" intact) $(field "$T_TMP/$n.client" eof)"
	else
		check_eq "$n: peer received every byte, in order, then EOF" "0 $total true" \
			"$p_rc $(field "$T_TMP/$n.peer" received) $(field "$T_TMP/$n.peer" intact)"
		check_eq "$n: the peer's answer, sent after the client's FIN, reached the client" \
			"0 got $total intact true" \
			"$c_rc $(field "$T_TMP/$n.client" reply) $(field "$T_TMP/$n.client" eof)"
	fi
	r0=$(kib "$AVEDGE" VmRSS)
	echo "    $n: avedge VmRSS after the run $(mib "$r0") MiB"
	for f in peer client; do grep -q '"error"' "$T_TMP/$n.$f" && sed "s/^/    $n $f: /" "$T_TMP/$n.$f"; done
}

STALLS=()
stall down down $TOTAL
stall up up $TOTAL
# Over TLS the client's bytes pass through OpenSSL; the peer's FIN reaches
# the client as close_notify (the client takes a bare TCP FIN as an error).
stall tls-down down $((64 << 20)) tls=1

# Half-close with an ordinary reader: the peer sends N bytes and FIN; the
# client gets exactly N, then EOF.
N=123457
P=127.0.0.3:40010
spawn "${PY[@]}" peer mode=push listen=$P bytes=$N >"$T_TMP/hc.peer"
p_pid=$SPAWNED
slowwait 10 listening "$P"
spawn "${PY[@]}" client mode=pull server=127.0.0.1:$port peer=$P user=alice pass=secret >"$T_TMP/hc.client"
c_pid=$SPAWNED
reap "$c_pid"; c_rc=$?
check_eq "half-close: client got exactly $N bytes, intact, then EOF" "0 $N true true" \
	"$c_rc $(field "$T_TMP/hc.client" received) $(field "$T_TMP/hc.client" intact) $(field "$T_TMP/hc.client" eof)"
reap "$p_pid"
check_eq "half-close: the peer saw the client's FIN after it (no reset)" "eof" "$(field "$T_TMP/hc.peer" end)"

# ConnectionBind on the control connection: 400, and nothing broken by it.
P=127.0.0.3:40011
spawn "${PY[@]}" peer mode=push listen=$P bytes=1000 >"$T_TMP/cb.peer"
p_pid=$SPAWNED
slowwait 10 listening "$P"
spawn "${PY[@]}" client mode=control-bind server=127.0.0.1:$port peer=$P user=alice pass=secret >"$T_TMP/cb.client"
c_pid=$SPAWNED
reap "$c_pid"; c_rc=$?
j=$T_TMP/cb.client
check_eq "ConnectionBind on the control connection: 400" 400 "$(field "$j" control_bind)"
check "ConnectionBind on the control connection: the reason says so ($(field "$j" reason))" \
	grep -q 'control connection' <<<"$(field "$j" reason)"
check_eq "ConnectionBind on the control connection: a Refresh after it works" 200 "$(field "$j" refresh)"
check_eq "ConnectionBind on the control connection: the id binds on a new connection" \
	"0 200 1000 true" "$c_rc $(field "$j" data_bind) $(field "$j" received) $(field "$j" intact)"
# The pair was half-closed (the peer's FIN passed, the client sent none):
# Refresh 0 ends the allocation, and with it the pair.
check_eq "Refresh 0 on the half-closed pair's allocation" 200 "$(field "$j" refresh0)"
reap "$p_pid"
check_eq "the allocation's end closed the peer's side" "eof" "$(field "$T_TMP/cb.peer" end)"
# The client holds both sockets 3 s after Refresh 0: an end later than that
# would be the client's exit, not the allocation's.
check "... at once ($(field "$T_TMP/cb.peer" end_after_s) s after the peer's FIN, the client holds on 3 s)" \
	awk -v t="$(field "$T_TMP/cb.peer" end_after_s)" 'BEGIN { exit !(t != "" && t < 2) }'

metric() { # NAME: avedge's value (bash's /dev/tcp, no curl needed)
	in_ns "$NS" timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
		printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3' "$mport" |
		tr -d '\r' | awk -v k="$1" '$1 == k { print $2; exit }'
}
no_allocs() { [ "$(metric avedge_allocations)" = 0 ]; }
slowwait 5 no_allocs
check_eq "avedge: no allocation left" 0 "$(metric avedge_allocations)"
kill -INT "$AVEDGE"
reap "$AVEDGE"
check_eq "avedge: clean exit" 0 $?
lib_exit
