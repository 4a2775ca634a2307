#!/usr/bin/env bash
# edgeprobe's RFC 6062 client (turn --relay-tcp) against avedge on
# loopback: a TCP allocation over TCP and TLS, Connect to a TCP echo peer
# (edgeprobe echo --tcp), a data connection bound with ConnectionBind, and
# the bytes sent coming back unchanged, one client or several at once; the
# failures a scenario must see as one line (447 for a peer port with
# nothing listening, 400 for a ConnectionBind of an id nobody gave out, and
# --relay-tcp over UDP refused with exit 2); and avedge's own count of the
# bytes it spliced. Listener 127.0.0.1, relayed address 127.0.0.2, the echo
# peer on 127.0.0.3: avedge refuses its own addresses as peers.
. "$(dirname "$0")/../lib/lib.sh"
lib_init edgeprobe_tcprelay
need_bin avedge edgeprobe
setup_ns NS # its loopback: nothing here meets another test's ports
ep() { in_ns "$NS" "$BIN/edgeprobe" "$@"; }

port=3478 tport=5349 eport=3480 mport=9100 cport=3499
LO=47000 HI=47999
make_cert
spawn ip netns exec "$NS" "$BIN/avedge" --listen 127.0.0.1:$port/tcp \
	--listen "127.0.0.1:$tport/tls" --cert "$T_TMP/cert.pem" --key "$T_TMP/key.pem" --metrics 127.0.0.1:$mport \
	--relay-ip 127.0.0.2 --allow-peer 127.0.0.0/8 --ports $LO-$HI \
	--user alice:secret --auth-secret s3cret --realm edge.lab --log-level warn --grace 2
slowwait 5 ep binding 127.0.0.1:$port --tcp --timeout 200 || bail "avedge did not start"
spawn ip netns exec "$NS" "$BIN/edgeprobe" echo --tcp 127.0.0.3:$eport --seconds 60 --json >"$T_TMP/echo.json"
ECHO_PID=$SPAWNED
listening() { local o; o=$(in_ns "$NS" ss -Hltn "sport = :$1"); [ -n "$o" ]; }
slowwait 5 listening "$eport" || bail "edgeprobe echo --tcp did not start"

S=127.0.0.1:$port
P=127.0.0.3:$eport
SENT=0 # bytes every successful run sent, to compare with the peer's and avedge's counts
str() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$j"; }
num() { sed -n "s/.*\"$1\":\([0-9.-]*\).*/\1/p" <<<"$j"; }
in_range() { local p=${1##*:}; [ -n "$p" ] && [ "$p" -ge $LO ] && [ "$p" -le $HI ]; }
nonzero() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
tcprelay() { # TARGET ARGS...: one RFC 6062 session with the echo peer
	local t=$1
	shift
	ep turn "$t" --relay-tcp --user alice --pass secret --timeout 2000 --json "$@"
}
metric() { # NAME{labels}: avedge's value (bash's /dev/tcp, no curl needed)
	in_ns "$NS" timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
		printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3' "$mport" |
		tr -d '\r' | awk -v k="$1" '$1 == k { print $2; exit }'
}

# One session per control transport: the whole RFC 6062 sequence.
for tp in tcp tls; do
	t=$S; [ $tp = tls ] && t=127.0.0.1:$tport
	text="rfc6062 over $tp"
	j=$(tcprelay $t --$tp --peer $P --send "$text" --expect-echo); rc=$?
	check_eq "$tp: exit 0" 0 $rc
	check_eq "$tp: the allocation is a TCP one" tcp "$(str relay_transport)"
	r=$(str relayed)
	check_eq "$tp: relayed IP is --relay-ip" 127.0.0.2 "${r%:*}"
	check "$tp: relayed port $r in $LO-$HI" in_range "$r"
	check "$tp: the control connection is reported ($(str local))" test -n "$(str local)"
	check_eq "$tp: xor-mapped is the control connection" "$(str local)" "$(str xor_mapped)"
	check_eq "$tp: permission for the peer" ok "$(str permit)"
	check_eq "$tp: Connect ok" ok "$(str connect)"
	check "$tp: CONNECTION-ID '$(num connection_id)' is non-zero" nonzero "$(num connection_id)"
	d=$(str data_local)
	check_eq "$tp: data connection from the control connection's address" "$(str local | sed 's/:[0-9]*$//')" "${d%:*}"
	check "$tp: data connection is a new one ($d)" test "$d" != "$(str local)"
	check_eq "$tp: ConnectionBind ok" ok "$(str connection_bind)"
	check_eq "$tp: sent the text" ${#text} "$(num sent)"
	check_eq "$tp: the same bytes came back" ${#text} "$(num echoed)"
	check_eq "$tp: echo ok" ok "$(str echo)"
	check_eq "$tp: deleted at exit" ok "$(str delete)"
	[ $tp = tls ] && check "tls: TLS 1.2 or 1.3" grep -qE '^TLSv1\.[23]$' <<<"$(str tls)"
	[ $rc -eq 0 ] && SENT=$((SENT + ${#text}))
done

# A REST credential: the data connection must sign with the very username
# of the allocation (a fresh one could carry a later expiry).
j=$(tcprelay $S --tcp --secret s3cret --user carol --peer $P --send rest --expect-echo); rc=$?
check_eq "REST credential: exit 0, echo ok" "0 ok" "$rc $(str echo)"
[ $rc -eq 0 ] && SENT=$((SENT + 4))

# 60000 bytes: many reads on both sides, the echo peer's bounded buffer.
big=$(head -c 45000 /dev/urandom | base64 -w0)
j=$(tcprelay $S --tcp --peer $P --send "$big" --expect-echo); rc=$?
check_eq "60000 bytes: all came back" "0 60000 ok" "$rc $(num echoed) $(str echo)"
[ $rc -eq 0 ] && SENT=$((SENT + 60000))

# Three at once: three allocations, three data connections, one echo peer.
par=()
for i in 1 2 3; do
	# edgeprobe itself, not a function's subshell, so that cleanup stops it
	spawn ip netns exec "$NS" "$BIN/edgeprobe" turn $S --tcp --relay-tcp --user alice --pass secret --timeout 2000 \
		--json --peer $P --send "parallel-$i-$big" --expect-echo >"$T_TMP/par$i"
	par+=("$SPAWNED")
done
for i in 1 2 3; do
	reap "${par[i - 1]}"; rc=$?
	j=$(<"$T_TMP/par$i")
	check_eq "three at once: client $i echo ok" "0 ok" "$rc $(str echo)"
	[ $rc -eq 0 ] && SENT=$((SENT + 11 + ${#big}))
done

# Failures, one line each. A peer port with nothing listening: 447.
j=$(tcprelay $S --tcp --peer 127.0.0.3:$cport --send x --expect-echo 2>"$T_TMP/err"); rc=$?
check_eq "Connect to a closed port: exit 1" 1 $rc
check_eq "Connect to a closed port: code" 447 "$(num code)"
check_eq "Connect to a closed port: the error names the step" \
	"Connect to 127.0.0.3:$cport failed: 447 Connection Timeout or Failure" "$(str error)"
check_eq "Connect to a closed port: one line on stderr" \
	"edgeprobe: turn $S/tcp: Connect to 127.0.0.3:$cport failed: 447 Connection Timeout or Failure" \
	"$(cat "$T_TMP/err")"
# A ConnectionBind of an id the relay never gave: 400 (RFC 6062 §5.4).
j=$(tcprelay $S --tcp --peer $P --connection-id 1 2>"$T_TMP/err"); rc=$?
check_eq "ConnectionBind of a bogus id: exit 1" 1 $rc
check "ConnectionBind of a bogus id: Connect itself worked" nonzero "$(num connection_id)"
check_eq "ConnectionBind of a bogus id: code" 400 "$(num code)"
check "ConnectionBind of a bogus id: the error names the step ($(str error))" \
	grep -q '^ConnectionBind of connection id 1 failed: 400 ' <<<"$(str error)"
check_eq "ConnectionBind of a bogus id: one line on stderr" 1 "$(wc -l <"$T_TMP/err")"

# Command-line refusals: exit 2, one line, before any packet.
for tp in "--udp" ""; do
	err=$(ep turn $S $tp --relay-tcp --user alice --pass secret --peer $P 2>&1); rc=$?
	check_eq "--relay-tcp over ${tp:-the default UDP}: exit 2" 2 $rc
	check "--relay-tcp over ${tp:-the default UDP}: one line asking for --tcp or --tls" \
		test "$(wc -l <<<"$err")" -eq 1 -a -n "$(grep -e '--relay-tcp.*needs --tcp or --tls' <<<"$err")"
done
err=$(ep turn $S --tcp --relay-tcp --channel 0x4001 --peer $P 2>&1); rc=$?
check_eq "--relay-tcp with --channel: exit 2" 2 $rc
err=$(ep turn $S --tcp --connection-id 5 --peer $P 2>&1); rc=$?
check_eq "--connection-id without --relay-tcp: exit 2" 2 $rc
check "turn --help describes --relay-tcp as RFC 6062" \
	grep -q -e '--relay-tcp.*RFC 6062' <<<"$(ep turn --help)"
check "edgeprobe --help names RFC 6062" grep -q 'RFC 6062' <<<"$(ep --help)"

# What the others saw: avedge spliced every byte both ways and kept no
# allocation; the echo peer echoed exactly what was sent, no more.
check_eq "avedge: bytes to the peer" $SENT "$(metric 'avedge_relayed_bytes_total{direction="to_peer"}')"
check_eq "avedge: bytes back to the clients" $SENT "$(metric 'avedge_relayed_bytes_total{direction="to_client"}')"
check_eq "avedge: no allocation left" 0 "$(metric avedge_allocations)"
kill "$ECHO_PID" && reap "$ECHO_PID"
j=$(<"$T_TMP/echo.json")
check_eq "echo --tcp: bytes echoed" $SENT "$(num echoed)"
# tcp, tls, REST, 60000, three at once, the bogus ConnectionBind's peer leg
check_eq "echo --tcp: connections accepted" 8 "$(num connections)"

lib_exit
