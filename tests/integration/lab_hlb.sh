#!/usr/bin/env bash
# lab_hlb: the lab's load balancer in hlbext and hlbint (issue 5 "In the
# lab"; SPEC R20-R26, S1, S2, S4, S8, S9, S10, S11, S13, S14). Runs with the
# emulated HLB (hlb); lab_hlb_nft.sh runs the same checks with --lb nft.
#   - STUN Binding to the A/V VIP answered from the VIP, XOR-MAPPED the
#     client's own address (dnat); to a node's own address, from that node;
#     the same over IPv6 and through the internal VIP
#   - TURN Allocate through the VIP relays at a node's own address,
#     port 50000-59999 (IPv4 and IPv6)
#   - Access/Web Conferencing VIPs: the edge's responder saw the VIP (snat);
#     A/V auth 5062 on the internal VIP: it saw the client (dnat); R25
#     outbound 5061 leaves from the VIP
#   - `lab hlb ... drain|disable|enable`: a drained real keeps its flow and
#     takes no new ones, a disabled one takes none
#   - an edge's avedge killed: out of the pool within interval x fall, and
#     back after rise once restarted
set -uo pipefail
. "$(dirname "$0")/../lib/lab.sh"
LB=${LAB_HLB_LB:-emulated}
lab_test_init "lab_hlb${LAB_HLB_LB:+_$LAB_HLB_LB}"
need_bin avedge edgeprobe lab-responder lab-probe
[ "$LB" = emulated ] && need_bin hlb
[ "$LB" = emulated ] && need_tun
[ "$LB" = nft ] && need_bin lab-ctflush
E=$EDGELAB_BIN/edgeprobe
P=$EDGELAB_BIN/lab-probe
VIP=203.0.113.12 VIP6=2001:db8:203:0:113::12
# A/V monitors (lb.tsv): interval 1 s, rise 2, fall 3.
INTERVAL=1 RISE=2 FALL=3

# binding NODE HOST:PORT [EDGEPROBE-ARGS]: sets FROM, MAPPED, ORIGIN (the
# real that answered), LOCAL.
binding() {
	local out node=$1 target=$2
	shift 2
	FROM='' MAPPED='' ORIGIN='' LOCAL=''
	out=$(in_node "$node" "$E" binding "$target" --timeout 2000 "$@") || { echo "$out"; return 1; }
	read -r FROM MAPPED ORIGIN LOCAL < <(awk '$1 == "from" { f = $2 } $1 == "xor_mapped" { m = $2 }
		$1 == "response_origin" { o = $2 } $1 == "local" { l = $2 } END { print f, m, o, l }' <<<"$out")
}

# answered_from NODE TARGET WANT-FROM [WANT-MAPPED-ADDR [ORIGIN-REGEX]]:
# answered from WANT-FROM, XOR-MAPPED = the client's own address and port
# (and that address, when given), answered by a real matching the regex.
answered_from() {
	binding "$1" "$2" || return 1
	[ "$FROM" = "$3" ] || { echo "answer to $2 came from $FROM (want $3)"; return 1; }
	[ "$MAPPED" = "$LOCAL" ] || { echo "XOR-MAPPED $MAPPED, but the client is $LOCAL"; return 1; }
	[ -z "${4:-}" ] || [ "${MAPPED%:*}" = "$4" ] || { echo "XOR-MAPPED $MAPPED, want $4:PORT"; return 1; }
	[ -z "${5:-}" ] || [[ $ORIGIN =~ $5 ]] || { echo "answered by $ORIGIN, want $5"; return 1; }
}

# served_by [--bind ADDR:PORT] -> which edge's A/V address answered via the VIP
served_by() {
	binding client "$VIP:3478" "$@" >/dev/null || return 1
	case $ORIGIN in
	203.0.113.23:*) echo edge1 ;; 203.0.113.33:*) echo edge2 ;; *) echo "?$ORIGIN" ;;
	esac
}

# allocate HOST [6]: a TURN allocation from the client with edgeprobe;
# prints the relayed address.
allocate() {
	local hp=$1 fam=()
	[ "${2:-4}" = 6 ] && hp="[$1]" fam=(--family 6)
	in_node client "$E" allocate "$hp:3478" --user alice --pass secret --timeout 3000 "${fam[@]}" |
		awk '$1 == "relayed" { print $2; exit }'
}

relays_at_node() { # HOST FAMILY
	local r port
	r=$(allocate "$1" "$2")
	[ -n "$r" ] || { echo "no relayed address"; return 1; }
	port=${r##*:}
	case ${r%:*} in
	203.0.113.23 | 203.0.113.33 | 2001:db8:203:0:113::23 | 2001:db8:203:0:113::33 | \
		\[2001:db8:203:0:113::23\] | \[2001:db8:203:0:113::33\]) ;;
	*) echo "relayed address '$r' is not a node's own A/V address"; return 1 ;;
	esac
	[ "$port" -ge 50000 ] && [ "$port" -le 59999 ] || { echo "relay port $port outside 50000-59999"; return 1; }
}

# responder_saw NODE PROTO HOST PORT WANT-NAME-PREFIX WANT-CLIENT-ADDR
responder_saw() {
	local out seen
	# shellcheck disable=SC2086 # PROTO may carry --from ADDR
	out=$(in_node "$1" "$P" --timeout 2000 $2 "$3" "$4") || { echo "$out"; return 1; }
	[[ $out == "$5"* ]] || { echo "answer '$out', want '$5 ...'"; return 1; }
	seen=$(awk '{ print $3 }' <<<"$out")
	seen=${seen%:*} seen=${seen#[} seen=${seen%]}
	[ "$seen" = "$6" ] || { echo "the edge saw $seen, want $6 (answer: $out)"; return 1; }
}

ctl() { "$LAB" hlb --prefix "$T_PREFIX" ext "$@"; }
health() { # SERVICE REAL -> up|down
	ctl list | awk -v s="$1" -v r="$2" '$1 == "service" { in_s = ($2 == s) }
		in_s && $1 == "real" && $2 == r { for (i = 3; i < NF; i++) if ($i == "health") print $(i + 1) }'
}

# wait_health SERVICE REAL STATE SECONDS: prints the milliseconds it took
wait_health() {
	local t0 i
	t0=${EPOCHREALTIME/./}
	for i in $(seq $(($4 * 10))); do
		[ "$(health "$1" "$2")" = "$3" ] && { echo $(((${EPOCHREALTIME/./} - t0) / 1000)); return 0; }
		sleep 0.1
	done
	echo "$1/$2 not $3 after $4 s"
	return 1
}

within() { # MS SECONDS: MS is a number of milliseconds, at most SECONDS
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -le $(($2 * 1000)) ]
}

# ---- up
up_out=$("$LAB" up --prefix "$T_PREFIX" --lb "$LB" 2>&1)
check "up --lb $LB" test $? -eq 0
echo "        $up_out"
[ -d "/run/edgelab/$T_PREFIX" ] || { echo "$up_out"; lib_exit; }
status=$("$LAB" status --prefix "$T_PREFIX" 2>&1)
check "status: hlbext and hlbint daemons answer" \
	test "$(grep -cE '^  (hlb|lbnft)-(ext|int) .* alive answers: yes' <<<"$status")" -eq 2
check "status: av-udp with both reals up" grep -qE 'av-udp +203.0.113.12:3478/udp +dnat source +edge1 up, edge2 up' <<<"$status"
check "status: int-sip with both reals up" grep -qE 'int-sip +10.20.0.10:5061/tcp +snat .*edge1 up, edge2 up' <<<"$status"

# ---- STUN through the VIPs and to the nodes (S1, S2, S10, S14)
check "S1 binding to $VIP:3478 answered from the VIP, mapped = client 198.51.100.10, served by an edge" \
	answered_from client "$VIP:3478" "$VIP:3478" 198.51.100.10 '^203\.0\.113\.(23|33):3478$'
for a in 23 33; do
	check "S2 binding to 203.0.113.$a:3478 answered from that node, mapped = client" \
		answered_from client "203.0.113.$a:3478" "203.0.113.$a:3478" 198.51.100.10
done
check "S10 binding to [$VIP6]:3478 answered from the VIP, mapped = client" \
	answered_from client "[$VIP6]:3478" "[$VIP6]:3478" "[2001:db8:198:51:100::10]" \
	'^\[2001:db8:203:0:113::(23|33)\]:3478$'
check "S10 binding to [2001:db8:203:0:113::33]:3478 answered from that node" \
	answered_from client "[2001:db8:203:0:113::33]:3478" "[2001:db8:203:0:113::33]:3478" "[2001:db8:198:51:100::10]"
check "S14 binding from inclient to 10.20.0.10:3478 answered from the internal VIP, mapped = 10.10.1.50" \
	answered_from inclient 10.20.0.10:3478 10.20.0.10:3478 10.10.1.50 '^10\.20\.0\.(21|31):3478$'

# ---- TURN through the VIP (S4, S10)
check "S4 allocate through $VIP: relayed at a node's own address, 50000-59999" relays_at_node "$VIP" 4
check "S10 allocate through [$VIP6] (IPv6 relay): at a node's own address" relays_at_node "$VIP6" 6

# ---- Access, Web Conferencing, internal services (S11, S12, S13, S14)
check "S11 Access VIP TLS 443: an edge's responder saw the HLB (snat)" \
	responder_saw client tls 203.0.113.10 443 edge 203.0.113.10
check "S11 Access VIP TLS 5061: snat" responder_saw client tls 203.0.113.10 5061 edge 203.0.113.10
check "S12 Access VIP XMPP 5269: snat" responder_saw client tcp 203.0.113.10 5269 edge 203.0.113.10
check "S11 Web Conferencing VIP TLS 443: snat (saw 203.0.113.11)" \
	responder_saw client tls 203.0.113.11 443 edge 203.0.113.11
check "S11 Access VIP TLS 443 over IPv6: snat" \
	responder_saw client tls 2001:db8:203:0:113::10 443 edge 2001:db8:203:0:113::10
check "S13 edge1's federation 5061 to the partner leaves from the Access VIP (R25)" \
	responder_saw edge1 "--from 203.0.113.21 tls" 198.51.100.20 5061 partner 203.0.113.10
check "edge2's SIP 5061 to the Front End leaves from the internal VIP (intvip_02)" \
	responder_saw edge2 "--from 10.20.0.31 tls" 10.10.0.10 5061 fe 10.20.0.10
check "S14 internal VIP 5061 from fe: snat (saw 10.20.0.10)" \
	responder_saw fe tls 10.20.0.10 5061 edge 10.20.0.10
# mras_saw_fe: fe's MRAS request through the internal VIP reached an
# edge's avedge with fe's own address as the source (dnat).
mras_saw_fe() {
	local st=/run/edgelab/$T_PREFIX out
	out=$(in_node fe "$E" mras 10.20.0.10:5062 --cert "$st/fe-cert.pem" --key "$st/fe-key.pem" \
		--ca "$st/ca.pem" --identity sip:lab-hlb@edge.lab --timeout 3000 2>&1) || { echo "$out"; return 1; }
	grep -q 'MRAS: credentials for sip:lab-hlb@edge.lab (.*) to 10\.10\.0\.10:' \
		"$st"/logs/avedge-edge[12].log || { echo "no edge's avedge logged credentials to 10.10.0.10"; return 1; }
}
check "S14 internal VIP 5062 (MRAS) from fe: dnat (avedge saw 10.10.0.10)" mras_saw_fe
check "S15 8057 to edge1's own internal address is not balanced" \
	responder_saw fe tls 10.20.0.21 8057 "edge1 psom" 10.10.0.10

# ---- control: drain, disable, enable (R26, S9)
X=$(served_by --bind 198.51.100.10:41001)
case $X in edge1) Y=edge2 ;; edge2) Y=edge1 ;; *) Y='?' ;; esac
check "a flow through the VIP (client port 41001) is served by an edge ($X)" test "$Y" != '?'
check "drain av-udp $X" quiet ctl drain av-udp "$X"
check "list: $X admin drain" grep -qE "real $X .*admin drain" <<<"$(ctl list)"
check_eq "drained $X keeps its flow (same 5-tuple)" "$X" "$(served_by --bind 198.51.100.10:41001)"
check_eq "drained $X takes no new flow (1)" "$Y" "$(served_by)"
check_eq "drained $X takes no new flow (2)" "$Y" "$(served_by --bind 198.51.100.10:41002)"
check "enable av-udp $X" quiet ctl enable av-udp "$X"
check "disable av-udp $X" quiet ctl disable av-udp "$X"
check "list: $X admin disabled" grep -qE "real $X .*admin disabled" <<<"$(ctl list)"
for i in 1 2 3; do
	check_eq "disabled $X takes no new flow ($i)" "$Y" "$(served_by)"
done
check_eq "disabled $X lost its flow: port 41001 now served by $Y" "$Y" "$(served_by --bind 198.51.100.10:41001)"
check "enable av-udp $X" quiet ctl enable av-udp "$X"
check "list: $X admin enabled" grep -qE "real $X .*admin enabled" <<<"$(ctl list | grep -A2 '^service av-udp ')"
check "disable of an unknown real fails" not ctl disable av-udp nosuch
check "the internal HLB's control answers" quiet "$LAB" hlb --prefix "$T_PREFIX" int list

# ---- health: edge1's relay dies and comes back (R23, S8)
state=/run/edgelab/$T_PREFIX
pid=$(awk '$1 == "avedge-edge1" { print $3 }' "$state/pids")
mapfile -d '' -t cmd <"/proc/$pid/cmdline"
# SIGKILL: the relay is gone at once (SIGTERM would drain it for a second).
kill -KILL "$pid"
ms=$(wait_health av-udp edge1 down 10)
check "avedge on edge1 killed" not lab_pids_alive "$pid"
# interval x fall, plus one interval and a probe's timeout for the phase.
limit=$((INTERVAL * FALL + INTERVAL + 1))
check "av-udp: edge1 out of the pool ${ms} ms after the kill (limit interval x fall + 2 s = ${limit} s)" \
	within "$ms" $limit
check_eq "av-tcp: edge1 down too" down "$(wait_health av-tcp edge1 down 3 >/dev/null; health av-tcp edge1)"
for i in 1 2 3; do
	check_eq "dead edge1 takes no new flow ($i)" edge2 "$(served_by)"
done
(
	trap - EXIT
	exec setsid ip netns exec "$T_PREFIX-edge1" "${cmd[@]}" </dev/null >>"$state/logs/avedge-edge1.log" 2>&1
) &
newpid=$!
# The restarted relay is the lab's again: down stops it by its record.
sed -i "s/^avedge-edge1 .*/avedge-edge1 edge1 $newpid $(awk '{ print $22 }' "/proc/$newpid/stat")/" "$state/pids"
slowwait 5 binding client 203.0.113.23:3478
check "avedge on edge1 restarted and answers" binding client 203.0.113.23:3478
limit=$((INTERVAL * RISE + INTERVAL + 1))
ms=$(wait_health av-udp edge1 up $((limit + 5)))
check "av-udp: edge1 back ${ms} ms after it answers again (limit interval x rise + 2 s = ${limit} s)" \
	within "$ms" $limit
check "disable av-udp edge2" quiet ctl disable av-udp edge2
check_eq "edge1 is back in the pool: it takes the new flow" edge1 "$(served_by)"
check "enable av-udp edge2" quiet ctl enable av-udp edge2

# ---- down
pids=$(awk '{ print $3 }' "$state/pids")
t0=${EPOCHREALTIME/./}
check "down" quiet "$LAB" down --prefix "$T_PREFIX"
echo "        down took $(((${EPOCHREALTIME/./} - t0) / 1000)) ms"
check "every recorded daemon (hlb or controller included) is gone" not lab_pids_alive $pids
check "nothing of the lab is left" lab_is_gone
lib_exit
