#!/usr/bin/env bash
# hlb_nat.sh: hlb's TUN engine in its own three namespaces
# (tests/lib/hlbtopo.sh),
#   cli (198.51.100.10) -- hlb (198.51.100.1 ; 203.0.113.10 + VIP .12) -- srv
# srv holds the "edges" .21/.31 (access) and .23/.33 (A/V), gateway .10.
# Checks R21 (dnat keeps the client's address, answer from the VIP; snat
# shows the HLB's; direct traffic untouched), R22 affinity, R25 outbound
# from the VIP, R26 ctl disable/enable/drain, R23 a TCP monitor, ICMP and
# ICMPv6 errors from a real translated back to the client, neighbour
# discovery never steered; then hlb again under M3 (snat-all-outbound):
# the fault acts, the monitors' own connections are spared, IPv6 to a
# real still works.
# Exit 0 pass, 77 skip, other fail.
set -uo pipefail

. "$(dirname "$0")/../lib/hlbtopo.sh"
topo_init hlb_nat hlb lbecho

setup() {
	topo_up -6 21 31 23 33 || return 1
	ip netns exec $SRV "$BIN/lbecho" serve udp 2001:db8:3::23 3478 edge1 & disown
	ip netns exec $SRV "$BIN/lbecho" serve tcp 2001:db8:3::23 443 edge1 & disown
	# Servers: name each by address so answers tell who served them.
	ip netns exec $SRV "$BIN/lbecho" serve udp 203.0.113.23 3478 edge1 & disown
	ip netns exec $SRV "$BIN/lbecho" serve udp 203.0.113.33 3478 edge2 & disown
	ip netns exec $SRV "$BIN/lbecho" serve tcp 203.0.113.23 443 edge1 & disown
	ip netns exec $SRV "$BIN/lbecho" serve tcp 203.0.113.33 443 edge2 & disown
	ip netns exec $SRV "$BIN/lbecho" serve tcp 203.0.113.21 5061 edge1 & disown
	ip netns exec $SRV "$BIN/lbecho" serve tcp 203.0.113.31 5061 edge2 & disown
	echo $! >"$T_TMP/edge2-5061.pid"
	ip netns exec $CLI "$BIN/lbecho" serve tcp 198.51.100.10 5061 partner & disown
	cat >"$T_TMP/hlb.conf" <<CONF
socket $SOCK
tun hlbt0
service av-udp 203.0.113.12:3478/udp
	role av
	mode dnat
	scheduler source
	real edge1 203.0.113.23
	real edge2 203.0.113.33
service av-tcp 203.0.113.12:443/tcp
	role av
	mode dnat
	scheduler rr
	real edge1 203.0.113.23
	real edge2 203.0.113.33
service av6-udp [2001:db8:3::12]:3478/udp
	role av
	mode dnat
	real edge1 2001:db8:3::23
service av6-tcp [2001:db8:3::12]:443/tcp
	role av
	mode dnat
	real edge1 2001:db8:3::23
service av-closed 203.0.113.12:3479/udp
	mode dnat
	real edge1 203.0.113.23
service av6-closed [2001:db8:3::12]:3479/udp
	mode dnat
	real edge1 2001:db8:3::23
service access-sip 203.0.113.10:5061/tcp
	mode snat
	scheduler rr
	outbound 5061
	real edge1 203.0.113.21
	real edge2 203.0.113.31
	monitor tcp interval 0.3 timeout 0.2 rise 2 fall 2
CONF
	start_hlb ${HLB_FAULT:-} || return 1
	slowwait 5 in_ns $CLI "$BIN/lbecho" ask udp 203.0.113.23 3478 200 &&
		slowwait 5 in_ns $CLI "$BIN/lbecho" ask udp 2001:db8:3::23 3478 200
}

start_hlb() { # [fault]
	in_ns $LB "$BIN/hlb" --config "$T_TMP/hlb.conf" ${1:+--fault $1} \
		2>>"$T_TMP/hlb.log" & disown
	slowwait 5 ctl list || { cat "$T_TMP/hlb.log"; return 1; }
}

ask() { in_ns $CLI "$BIN/lbecho" ask "$@"; }
udp_bound() { local o; o=$(in_ns "$1" ss -Hlun); grep -qF "$2" <<<"$o"; } # NS ADDR:PORT

# "from A P: NAME seen B Q" -> fields
expect_answer() { # proto host port from-addr from-port server-sees-addr [srcport]
	local out
	out=$(ask "$1" "$2" "$3" 1000 ${7:-}) || { echo "    $out"; return 1; }
	set -- "$out" "$4" "$5" "$6"
	read -r _ fa fp _ _ sa _ <<<"$1"
	fp=${fp%:}
	if [ "$fa" != "$2" ] || [ "$fp" != "$3" ] || [ "$sa" != "$4" ]; then
		echo "    got: $1 (want from $2 $3, server saw $4)"
		return 1
	fi
}

served_by() { # proto host port srcport -> prints the server name
	ask "$1" "$2" "$3" 1000 "${4:-}" | awk '{print $4}'
}

t_udp_dnat() { expect_answer udp 203.0.113.12 3478 203.0.113.12 3478 198.51.100.10; }
t_udp_direct() { expect_answer udp 203.0.113.33 3478 203.0.113.33 3478 198.51.100.10; }
t_tcp_dnat() { expect_answer tcp 203.0.113.12 443 203.0.113.12 443 198.51.100.10; }
t_tcp_direct() { expect_answer tcp 203.0.113.23 443 203.0.113.23 443 198.51.100.10; }
t_tcp_snat() { expect_answer tcp 203.0.113.10 5061 203.0.113.10 5061 203.0.113.10; }
t_udp6_dnat() { expect_answer udp 2001:db8:3::12 3478 2001:db8:3::12 3478 2001:db8:5::10; }
t_tcp6_dnat() { expect_answer tcp 2001:db8:3::12 443 2001:db8:3::12 443 2001:db8:5::10; }
t_udp6_direct() { expect_answer udp 2001:db8:3::23 3478 2001:db8:3::23 3478 2001:db8:5::10; }
t_src_port_kept() {
	local out
	out=$(ask udp 203.0.113.12 3478 1000 41234) || return 1
	[ "$(awk '{print $7}' <<<"$out")" = 41234 ] || { echo "    $out"; return 1; }
}

t_affinity() {
	local first n
	first=$(served_by udp 203.0.113.12 3478 42000)
	[ -n "$first" ] || return 1
	for p in 42001 42002 42003 42004 42005; do
		n=$(served_by udp 203.0.113.12 3478 $p)
		[ "$n" = "$first" ] || { echo "    port $p went to $n, not $first"; return 1; }
	done
}

t_rr_spreads() {
	local a b
	a=$(served_by tcp 203.0.113.12 443)
	b=$(served_by tcp 203.0.113.12 443)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ] || { echo "    $a then $b"; return 1; }
}

t_outbound_from_vip() { # R25: edge1 calls the partner on 5061
	local out
	out=$(in_ns $SRV "$BIN/lbecho" ask tcp 198.51.100.10 5061 1000 0 203.0.113.21) || return 1
	[ "$(awk '{print $6}' <<<"$out")" = 203.0.113.10 ] || { echo "    $out"; return 1; }
}

t_av_outbound_own_address() { # A/V outbound is not rewritten
	local out
	ip netns exec $CLI "$BIN/lbecho" serve udp 198.51.100.10 3478 partner & disown
	slowwait 2 udp_bound $CLI 198.51.100.10:3478
	out=$(in_ns $SRV "$BIN/lbecho" ask udp 198.51.100.10 3478 1000 0 203.0.113.23) || return 1
	[ "$(awk '{print $6}' <<<"$out")" = 203.0.113.23 ] || { echo "    $out"; return 1; }
}

t_disable_enable() {
	local n
	ctl disable av-tcp edge1 >/dev/null || return 1
	for _ in 1 2 3 4; do
		n=$(served_by tcp 203.0.113.12 443)
		[ "$n" = edge2 ] || { echo "    disabled edge1 still served"; return 1; }
	done
	ctl list | grep -q 'real edge1 203.0.113.23 .*admin disabled' || return 1
	ctl enable av-tcp edge1 >/dev/null || return 1
	for _ in 1 2; do n="$n $(served_by tcp 203.0.113.12 443)"; done
	[[ $n == *edge1* ]] || { echo "    enabled edge1 never served: $n"; return 1; }
	ctl disable av-tcp nosuch 2>/dev/null && return 1
	return 0
}

t_drain_keeps_flow() {
	local first n
	first=$(served_by udp 203.0.113.12 3478 43000)
	[ -n "$first" ] || { echo "    no real answered the first flow"; return 1; }
	ctl drain av-udp "$first" >/dev/null || return 1
	n=$(served_by udp 203.0.113.12 3478 43000) # same 5-tuple: same flow
	[ "$n" = "$first" ] || { echo "    drained real lost its flow"; return 1; }
	n=$(served_by udp 203.0.113.12 3478 43001) # new flow: elsewhere
	[ -n "$n" ] || { echo "    a new flow got no answer while one real was drained"; return 1; }
	[ "$n" != "$first" ] || { echo "    drained real took a new flow"; return 1; }
	ctl enable av-udp "$first" >/dev/null
}

real_health() { # NAME ADDR up|down: hlb says so
	local l
	l=$(ctl list)
	grep -q "real $1 $2 .*health $3" <<<"$l"
}

t_monitor_down_up() {
	local pid n
	pid=$(cat "$T_TMP/edge2-5061.pid")
	kill "$pid" 2>/dev/null
	slowwait 3 real_health edge2 203.0.113.31 down ||
		{ echo "    edge2 not marked down"; return 1; }
	for _ in 1 2 3; do
		n=$(served_by tcp 203.0.113.10 5061)
		[ "$n" = edge1 ] || { echo "    dead edge2 got a flow ($n)"; return 1; }
	done
	ip netns exec $SRV "$BIN/lbecho" serve tcp 203.0.113.31 5061 edge2 & disown
	slowwait 3 real_health edge2 203.0.113.31 up ||
		{ echo "    edge2 not back up"; return 1; }
}

t_stats() {
	ctl stats | grep -q '^service av-udp flows [1-9]' &&
		ctl stats | grep -q 'real edge1 health up admin enabled'
}

# A real's "port unreachable" about a dnat'd datagram reaches the client
# as an error about its own datagram to the VIP: only then does the
# client's connected socket see "Connection refused".
t_icmp_error() { # host
	local out
	out=$(in_ns $CLI "$BIN/lbecho" refused udp "$1" 3479 2000) || { echo "    $out"; return 1; }
}

t_nd_not_steered() { # fresh neighbour discovery both ways, under hlb's rules
	in_ns $LB ip -6 neigh flush all
	in_ns $SRV ip -6 neigh flush all
	expect_answer udp 2001:db8:3::23 3478 2001:db8:3::23 3478 2001:db8:5::10 &&
		expect_answer udp 2001:db8:3::12 3478 2001:db8:3::12 3478 2001:db8:5::10
}

# /proc/sys read-only in a mount namespace of its own: hlb cannot turn
# forwarding on, so it must not start (it would forward nothing).
t_sysctl_refused() {
	local out rc r4
	out=$(in_ns $LB timeout 10 unshare --mount sh -c 'mount -o bind,ro /proc/sys /proc/sys &&
		exec "$0" --config "$1"' "$BIN/hlb" "$T_TMP/hlb.conf" 2>&1)
	rc=$?
	echo "    $out" | head -2
	r4=$(in_ns $LB ip rule)
	[ $rc -eq 1 ] && grep -q 'cannot set /proc/sys/net/ipv4/ip_forward to 1: Read-only file system' <<<"$out" &&
		! grep -q 'lookup 200' <<<"$r4"
}

t_clean_exit() {
	local pid
	pid=$(ip netns pids $LB | head -1)
	kill "$pid"
	slowwait 10 not_running "$pid" || { echo "    hlb did not exit within 10 s of SIGTERM"; return 1; }
	# Here-strings, not pipes: under pipefail, grep -q quitting early
	# makes the writer's SIGPIPE fail the check at random.
	local r4 r6
	r4=$(in_ns $LB ip rule)
	r6=$(in_ns $LB ip -6 rule)
	! grep -q 'lookup 200' <<<"$r4" && grep -q '^0:.*lookup local' <<<"$r4" &&
		! grep -q 'lookup 200' <<<"$r6" && grep -q '^0:.*lookup local' <<<"$r6"
}

# ---- hlb again, under M3 ----

t_m3_direct_from_vip() { # the fault acts: a direct answer leaves from the VIP
	expect_answer udp 203.0.113.33 3478 203.0.113.12 3478 198.51.100.10
}

t_m3_monitors_spared() { # the tcp monitor's answers, to the HLB, not rewritten
	local out
	local log
	sleep 1.5 # the window watched: five intervals, fall is 2
	out=$(ctl list)
	log=$(tail -n +"$((M3_FROM + 1))" "$T_TMP/hlb.log")
	grep -q 'real edge1 203.0.113.21 .*health up' <<<"$out" &&
		grep -q 'real edge2 203.0.113.31 .*health up' <<<"$out" &&
		! grep -q 'down by tcp monitor' <<<"$log" ||
		{ echo "    $out"; echo "$log"; return 1; }
}

t_m3_ipv6_direct() { # only TCP and UDP caught: neighbour discovery still works
	in_ns $LB ip -6 neigh flush all
	in_ns $SRV ip -6 neigh flush all
	expect_answer udp 2001:db8:3::23 3478 2001:db8:3::12 3478 2001:db8:5::10
}

main() {
	setup || { cat "$T_TMP/hlb.log" 2>/dev/null; bail "setup"; }
	check "udp to VIP: dnat, answer from VIP, client seen"   t_udp_dnat
	check "udp to real's own address: untouched"              t_udp_direct
	check "tcp to VIP: dnat, answer from VIP, client seen"   t_tcp_dnat
	check "tcp to real's own address: untouched"              t_tcp_direct
	check "tcp to snat VIP: real sees the HLB address"        t_tcp_snat
	check "IPv6 udp to VIP: dnat, answer from VIP"            t_udp6_dnat
	check "IPv6 tcp to VIP: dnat, answer from VIP"            t_tcp6_dnat
	check "IPv6 udp to real's own address: untouched"         t_udp6_direct
	check "dnat keeps the client's source port (M6)"          t_src_port_kept
	check "source affinity: one client, one real"             t_affinity
	check "rr spreads new flows"                               t_rr_spreads
	check "R25: edge's 5061 outbound leaves from the VIP"     t_outbound_from_vip
	check "A/V outbound leaves from the edge's own address"   t_av_outbound_own_address
	check "ctl disable/enable"                                 t_disable_enable
	check "ctl drain: existing flow stays, new flows move"    t_drain_keeps_flow
	check "tcp monitor: dead real down, back after rise"      t_monitor_down_up
	check "ctl stats counts"                                   t_stats
	check "ICMP error from a real translated (port unreachable)" t_icmp_error 203.0.113.12
	check "ICMPv6 error from a real translated"               t_icmp_error 2001:db8:3::12
	check "IPv6 neighbour discovery not steered (fresh ND)"   t_nd_not_steered
	check "SIGTERM: rules removed, local rule back at 0"      t_clean_exit
	M3_FROM=$(wc -l <"$T_TMP/hlb.log")
	if start_hlb snat-all-outbound; then
		check "M3: a direct answer leaves from the VIP"       t_m3_direct_from_vip
		check "M3: monitors' connections to the HLB spared"   t_m3_monitors_spared
		check "M3: IPv6 to a real's own address still works"  t_m3_ipv6_direct
		check "M3: SIGTERM: rules removed"                     t_clean_exit
	else
		check "M3: hlb starts with snat-all-outbound" false
	fi
	check "a sysctl hlb needs cannot be set: exit 1, naming it, no rules left" t_sysctl_refused
	t_failed && { echo "hlb log:"; sed 's/^/    /' "$T_TMP/hlb.log"; }
	lib_exit
}
main
