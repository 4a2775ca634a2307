#!/usr/bin/env bash
# edgeprobe's TURN commands against avedge on loopback: allocate over UDP,
# TCP and TLS with long-term and REST credentials, the two-client relay
# check with zero loss, permit/channel/send with an echo peer, the load
# generator, and the failures a scenario must be able to see (401 on a
# wrong password, 403 on a forbidden peer) as one line and a non-zero exit.
# Listener 127.0.0.1, relayed address 127.0.0.2, peers on 127.0.0.3: avedge
# refuses its own addresses as peers.
. "$(dirname "$0")/../lib/lib.sh"
lib_init edgeprobe_turn
need_bin avedge edgeprobe
setup_ns NS # its loopback: nothing here meets another test's ports
ep() { in_ns "$NS" "$BIN/edgeprobe" "$@"; }

port=3478 tport=5349 eport=3480
LO=45000 HI=45999
make_cert
spawn ip netns exec "$NS" "$BIN/avedge" --listen 127.0.0.1:$port/udp --listen 127.0.0.1:$port/tcp \
	--listen 127.0.0.1:$tport/tls --cert "$T_TMP/cert.pem" --key "$T_TMP/key.pem" \
	--relay-ip 127.0.0.2 --allow-peer 127.0.0.0/8 --ports $LO-$HI \
	--user alice:secret --auth-secret s3cret --realm edge.lab --log-level warn --grace 2
slowwait 5 ep binding 127.0.0.1:$port --timeout 200 || bail "avedge did not start"
spawn ip netns exec "$NS" "$BIN/edgeprobe" echo 127.0.0.3:$eport --seconds 60 >/dev/null

S=127.0.0.1:$port
str() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$j"; }
num() { sed -n "s/.*\"$1\":\([0-9.-]*\).*/\1/p" <<<"$j"; }
in_range() { local p=${1##*:}; [ -n "$p" ] && [ "$p" -ge $LO ] && [ "$p" -le $HI ]; }

# allocate: UDP and TCP, long-term and REST credentials.
for tp in udp tcp; do
	for cred in "--user alice --pass secret" "--secret s3cret --user carol"; do
		kind=${cred%% *}; kind=${kind#--}
		j=$(ep allocate $S --$tp $cred --json); rc=$?
		check_eq "allocate $tp/$kind: exit 0" 0 $rc
		check_eq "allocate $tp/$kind: answer from the server" "$S" "$(str from)"
		r=$(str relayed)
		check_eq "allocate $tp/$kind: relayed IP is --relay-ip" 127.0.0.2 "${r%:*}"
		check "allocate $tp/$kind: relayed port $r in $LO-$HI" in_range "$r"
		check_eq "allocate $tp/$kind: xor-mapped is our socket" "$(str local)" "$(str xor_mapped)"
		check_eq "allocate $tp/$kind: default lifetime" 600 "$(num lifetime)"
		check_eq "allocate $tp/$kind: deleted at exit" ok "$(str delete)"
	done
done
j=$(ep allocate $S --secret s3cret --user carol --json)
check "REST username is EXPIRY:NAME" grep -qE '^[0-9]{10,}:carol$' <<<"$(str username)"
j=$(ep allocate $S --user alice --pass secret --lifetime 1200 --refresh --sha256 --json)
check_eq "--lifetime 1200 granted" 1200 "$(num lifetime)"
check_eq "--refresh ok" ok "$(str refresh)"

# Failures: 401 for a wrong password or an expired REST credential.
j=$(ep allocate $S --user alice --pass wrong --json 2>"$T_TMP/err"); rc=$?
check "wrong password: non-zero exit" test $rc -ne 0
check_eq "wrong password: code" 401 "$(num code)"
check_eq "wrong password: one line on stderr" "edgeprobe: allocate $S/udp: Allocate: 401 Unauthorized" "$(cat "$T_TMP/err")"
j=$(ep allocate $S --tcp --user alice --pass wrong --json 2>/dev/null)
check_eq "wrong password over TCP: code" 401 "$(num code)"
j=$(ep allocate $S --secret s3cret --rest-ttl -10 --json 2>/dev/null)
check_eq "expired REST credential: code" 401 "$(num code)"
j=$(ep allocate $S --json 2>/dev/null); rc=$?
check "no credentials: non-zero exit" test $rc -ne 0
check_eq "no credentials: code" 401 "$(num code)"

# One session: permit, channel, send and the echo coming back.
P=127.0.0.3:$eport
j=$(ep turn $S --user alice --pass secret --peer $P --channel 0x4001 --send hi --expect-echo --json)
check_eq "turn/channel: echo ok" ok "$(str echo)"
check_eq "turn/channel: echo from the peer" "$P" "$(str echo_from)"
check_eq "turn/channel: echo via the channel" channel "$(str echo_via)"
j=$(ep send $S --tcp --user alice --pass secret --peer $P --expect-echo --json)
check_eq "send/tcp: permission first" ok "$(str permit)"
check_eq "send/tcp: echo via a Data indication" data-indication "$(str echo_via)"
check_eq "send/tcp: echo from the peer" "$P" "$(str echo_from)"
# A permission is per IP (RFC 8656 §9): the relay's own address may be
# permitted (other clients' relayed addresses are on it); a channel names
# the port, and a port of ours that is no relayed address is refused, on
# our address (R15) and on any other local one (R18: a wildcard listener).
j=$(ep permit $S --user alice --pass secret --peer 127.0.0.2:0 --json 2>/dev/null); rc=$?
check "permit to the relay's own address (per IP): exit 0" test $rc -eq 0
j=$(ep channel $S --user alice --pass secret --peer 127.0.0.2:9 --json 2>/dev/null); rc=$?
check "channel to the relay's own address: non-zero exit" test $rc -ne 0
check_eq "channel to the relay's own address: 403" 403 "$(num code)"
j=$(ep channel $S --user alice --pass secret --peer 127.0.0.9:$port --json 2>/dev/null); rc=$?
check "channel to our listener port on another local address: non-zero exit" test $rc -ne 0
check_eq "channel to our listener port on another local address: 403" 403 "$(num code)"

# Two clients through the relay, both ways, zero loss, over UDP and TCP.
for tp in udp tcp; do
	for mode in channel send-indication; do
		extra=(); [ $mode = send-indication ] && extra=(--send-indication)
		j=$(ep relay --a $S --b $S --$tp --user alice --pass secret --count 50 "${extra[@]}" --json); rc=$?
		check_eq "relay $tp/$mode: exit 0" 0 $rc
		check_eq "relay $tp/$mode: A->B all 50" 50 "$(num a_to_b_received)"
		check_eq "relay $tp/$mode: B->A all 50" 50 "$(num b_to_a_received)"
		check_eq "relay $tp/$mode: B saw A's relayed address" "$(str a_relayed)" "$(str a_to_b_peer)"
		check_eq "relay $tp/$mode: A saw B's relayed address" "$(str b_relayed)" "$(str b_to_a_peer)"
		r=$(str a_relayed)
		check_eq "relay $tp/$mode: relayed IP" 127.0.0.2 "${r%:*}"
	done
done

# TLS.
j=$(ep allocate 127.0.0.1:$tport --tls --user alice --pass secret --json); rc=$?
check_eq "allocate tls: exit 0" 0 $rc
check "allocate tls: TLS 1.2 or 1.3" grep -qE '^TLSv1\.[23]$' <<<"$(str tls)"
r=$(str relayed)
check_eq "allocate tls: relayed IP" 127.0.0.2 "${r%:*}"
j=$(ep binding 127.0.0.1:$tport --tls --json)
check_eq "binding tls: xor-mapped is our socket" "$(str local)" "$(str xor_mapped)"
j=$(ep relay 127.0.0.1:$tport --tls --user alice --pass secret --count 20 --json)
check_eq "relay tls (positional server): B->A all 20" 20 "$(num b_to_a_received)"

# The load generator, briefly: round trips, measured.
lp=3481
j=$(ep load $S --user alice --pass secret --peer 127.0.0.3:$lp --allocations 4 \
	--threads 2 --rate 500 --seconds 1 --json); rc=$?
check_eq "load: exit 0" 0 $rc
check "load: packets made the round trip" test "$(num received)" -gt 400
check "load: loss under 1%" awk -v l="$(num loss_pct)" 'BEGIN {exit !(l < 1)}'
check "load: a p99 latency" test -n "$(num p99_us)"

# --reflect N: the far end of a two-relay path (S20). A permits the
# relay's IP (its peers' port is not known yet) and sends back what its
# relay brings; B, another allocation, sends twice to A's relayed address
# and gets each back from there.
spawn ip netns exec "$NS" "$BIN/edgeprobe" turn $S --user alice --pass secret --permit \
	--peer 127.0.0.2:1 --reflect 2 --json >"$T_TMP/refl.out" 2>"$T_TMP/refl.err"
rp=$SPAWNED
slowwait 5 grep -q '^reflecting at ' "$T_TMP/refl.err"
ra=$(awk '$1 == "reflecting" { print $3 }' "$T_TMP/refl.err")
check "reflect: the relayed address on stderr before any data" in_range "$ra"
for i in 1 2; do
	j=$(ep turn $S --user alice --pass secret --peer "$ra" --send "reflect me $i" --expect-echo --json); rc=$?
	check_eq "reflect: B's datagram $i came back (exit 0)" 0 $rc
	check_eq "reflect: ... from A's relayed address" "$ra" "$(str echo_from)"
	[ $i = 1 ] && rb=$(str relayed)
done
reap "$rp"
rc=$?
j=$(<"$T_TMP/refl.out")
check_eq "reflect: A exits 0 after its 2" 0 $rc
check_eq "reflect: A reflected 2" 2 "$(num reflected)"
check_eq "reflect: A saw B's first relayed address first" "$rb" "$(str reflected_from)"
j=$(ep turn $S --user alice --pass secret --permit --peer 127.0.0.2:1 --reflect 1 --timeout 200 --json 2>/dev/null); rc=$?
check_eq "reflect: nothing sent to A: exit 1 naming the count" "1 reflect: 0 of 1 datagrams" \
	"$rc $(str error | cut -c1-25)"
err=$(ep turn $S --user alice --pass secret --reflect 2 2>&1); rc=$?
check "reflect without --permit --peer: exit 2, one line" test $rc -eq 2 -a "$(wc -l <<<"$err")" -eq 1

# Command-line errors: exit 2, one line.
err=$(ep allocate 2>&1); rc=$?
check "allocate without a target: exit 2, one line" test $rc -eq 2 -a "$(wc -l <<<"$err")" -eq 1
err=$(ep relay --count 5 2>&1); rc=$?
check "relay without a server: exit 2" test $rc -eq 2
err=$(ep allocate 127.0.0.1:1 --user a --pass b --timeout 300 2>&1); rc=$?
check "allocate to a closed port: non-zero exit" test $rc -ne 0

lib_exit
