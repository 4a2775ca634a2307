#!/usr/bin/env bash
# S21: Silence: allocations that go quiet still reach their node through the A/V VIPs
# seed: "Once established, client to A/V Edge service communication is to the real server, not the HLB"
# spec: R22 source-address affinity (persistence) with a timeout; R24 idle timeouts (TCP 1800 s); an allocation lives 600 s and its client refreshes it a minute before it ends, or sends nothing at all while ICE runs
# rows: row_extvip_07, row_extvip_08, row_intvip_04, row_intvip_05
# lab: own (it gives the client and the Front End more addresses)
# pool: beside (it mostly waits out its silences)
# segments: inet dmzext edgeext edgeint dmzint lan0
# asserts: clients allocate through the external and the internal A/V VIP over UDP 3478 (three per gap, each from an address of its own) and over TLS 443 (one per gap), keep silent for a gap (2, 6 and 12 s for UDP, 2 and 12 s for TCP; --long: 30, 120, 300 and 540 s, up to an allocation's refresh interval, and 60, 300, 900 and 1790 s, up to the TCP idle guidance), all gaps side by side; then each Refreshes, permits the peer, binds a channel and sends, and the echo comes back: every request reached the node holding the allocation (a 437 or no answer means it did not); the longest gap that held and the first that failed are reported
# catches: M15 (A/V persistence and UDP flows forgotten after 10 s); M10 with --long (TCP idle 660 s)
. "$(dirname "$0")/lib.sh"
sc_init S21

PEER=198.51.100.20:50021
PER_GAP=3 # UDP clients per gap: see quiet_judge
if [ "$SC_LONG" = 1 ]; then
	UDP_GAPS=${SC_UDP_GAPS:-30 120 300 540}
	TCP_GAPS=${SC_TCP_GAPS:-60 300 900 1790}
else
	UDP_GAPS=${SC_UDP_GAPS:-2 6 12}
	TCP_GAPS=${SC_TCP_GAPS:-2 12}
fi

# SC_GAP_CAP=S: no gap longer than S seconds (a shorter --long run); the
# shortest gap stays.
cap_gaps() {
	local g out='' first=''
	for g in $1; do
		[ -n "$first" ] || first=$g
		[ -z "${SC_GAP_CAP:-}" ] || [ "$g" -le "$SC_GAP_CAP" ] && out+=" $g"
	done
	out=${out# }
	echo "${out:-$first}"
}
UDP_GAPS=$(cap_gaps "$UDP_GAPS")
TCP_GAPS=$(cap_gaps "$TCP_GAPS")
MAXGAP=0
for g in $UDP_GAPS $TCP_GAPS; do [ "$g" -gt "$MAXGAP" ] && MAXGAP=$g; done

# extra_addrs NODE N: N more addresses on NODE's own subnet (hosts .101
# up), one per UDP client: persistence is kept per source address, so
# clients sharing one would keep each other's alive.
extra_addrs() {
	local node=$1 n=$2 own ifn i out=''
	own=$(sc_addr "$node")
	ifn=$(in_node "$node" ip -o -4 addr show | awk -v a="$own" 'index($4, a "/") == 1 { print $2; exit }')
	[ -n "$ifn" ] || return 1
	for ((i = 101; i < 101 + n; i++)); do
		in_node "$node" ip addr add "${own%.*}.$i/24" dev "$ifn" || return 1
		out+=" ${own%.*}.$i"
	done
	echo "${out# }"
}

# The runs, side by side: NAME -> pid, its JSON file, what it was.
declare -A Q_PID=() Q_OUT=() Q_WHAT=() Q_NODE=() Q_TARGET=() Q_N=()

# quiet_start NAME NODE TARGET UDP|TLS GAPS: one edgeprobe quiet for all
# the gaps of one service; UDP clients each from an address of their own,
# TLS connections from the node's own address.
quiet_start() {
	local name=$1 node=$2 target=$3 tp=$4 gaps=$5 g n addrs args=() life=()
	if [ "$tp" = UDP ]; then
		n=$(($(wc -w <<<"$gaps") * PER_GAP))
		read -r -a addrs <<<"$(extra_addrs "$node" $n)"
		[ ${#addrs[@]} = "$n" ] || { START_ERR="cannot add $n addresses to $node"; return 1; }
		for g in $gaps; do
			args+=(--gap "$g@$(tr ' ' , <<<"${addrs[*]:0:PER_GAP}")")
			addrs=("${addrs[@]:PER_GAP}")
		done
	else
		for g in $gaps; do args+=(--gap "$g@$(sc_addr "$node")"); done
		n=$(wc -w <<<"$gaps")
		args+=(--tls)
		# An allocation outlives the longest silence (avedge allows 3600 s).
		[ "$MAXGAP" -ge 540 ] && life=(--lifetime 3600)
	fi
	Q_OUT[$name]=$SC_OUT/quiet-$name.json Q_NODE[$name]=$node Q_TARGET[$name]=$target Q_N[$name]=$n
	Q_WHAT[$name]="$tp $(sc_port_of "$target") through VIP $target"
	sc_bg "$node" "${Q_OUT[$name]}" "$BIN/edgeprobe" quiet "$target" --peer "$PEER" "${args[@]}" \
		"${life[@]}" --user "$LAB_USER" --pass "$LAB_PASSWORD" --timeout $((SC_TIMEOUT * 2)) --json
	Q_PID[$name]=$SC_BG_PID
	printf '      %s quiet %s %s\n' "$node" "$target" "${args[*]}" >>"$SC_OUT/probes"
}

start_all() {
	sc_bg partner "$SC_OUT/echo.log" "$BIN/edgeprobe" echo "$PEER" --seconds $((MAXGAP + 90))
	slowwait 3 sc_listening partner udp ${PEER##*:} ||
		{ START_ERR="edgeprobe echo did not start in partner"; return 1; }
	quiet_start udp-ext client "$(sc_hostport "$VIP_AV" 3478)" UDP "$UDP_GAPS"
	quiet_start udp-int fe "$(sc_hostport "$VIP_INT" 3478)" UDP "$UDP_GAPS"
	quiet_start tls-ext client "$(sc_hostport "$VIP_AV" 443)" TLS "$TCP_GAPS"
	quiet_start tls-int fe "$(sc_hostport "$VIP_INT" 443)" TLS "$TCP_GAPS"
	sc_note "silences of $UDP_GAPS s (UDP) and $TCP_GAPS s (TLS) side by side; about $MAXGAP s"
}
START_ERR=''
start_all || true

# quiet_judge NAME: the run's verdict, one line. A gap held when each of
# its clients found its node after the silence. The clients of a gap
# speak one right after another, those on one node next to each other, so
# a balancer that forgot them all (and picks a node anew for each, round
# robin) misroutes one of any pair: with three clients and two nodes there
# is always a pair.
quiet_judge() {
	local name=$1 j n i gap step res relayed node src held='' failed='' why='' held_list=''
	declare -A bad=() ok=()
	[ -n "$START_ERR" ] && { sc_fail "$START_ERR"; return 1; }
	[ -n "${Q_PID[$name]:-}" ] || { sc_fail "${Q_WHAT[$name]}: not started"; return 1; }
	reap "${Q_PID[$name]}"
	j=$(<"${Q_OUT[$name]}")
	n=$(sc_json clients "$j")
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] ||
		{ sc_fail "${Q_WHAT[$name]}: edgeprobe quiet said nothing usable: $(head -c 300 <<<"$j")"; return 1; }
	[ "$n" = "${Q_N[$name]}" ] ||
		{ sc_fail "${Q_WHAT[$name]}: edgeprobe quiet reported $n clients, ${Q_N[$name]} were started"; return 1; }
	for ((i = 1; i <= n; i++)); do
		gap=$(sc_json "c${i}_gap" "$j") step=$(sc_json "c${i}_step" "$j") res=$(sc_json "c${i}_result" "$j")
		relayed=$(sc_json "c${i}_relayed" "$j") src=$(sc_json "c${i}_local" "$j")
		node=$(sc_node_of "$(sc_host "$relayed")")
		sc_flow "${Q_NODE[$name]}" "${Q_TARGET[$name]}" "$([[ $name == udp* ]] && echo udp || echo tcp)" "$node"
		if [ "$step" = allocate ]; then
			sc_fail "${Q_WHAT[$name]}: client $src got no allocation before its silence ($res)"
			return 1
		fi
		if [ "$res" = ok ]; then
			ok[$gap]=1
		elif [ -z "${bad[$gap]:-}" ]; then
			bad[$gap]="$src's $step after $(($(sc_json "c${i}_silent_ms" "$j") / 1000)) s of silence got '$res' (its allocation is on $node, relayed at $relayed)"
		fi
	done
	for gap in $(printf '%s\n' "${!ok[@]}" "${!bad[@]}" | sort -nu); do
		if [ -n "${bad[$gap]:-}" ]; then
			[ -n "$failed" ] || { failed=$gap; why=${bad[$gap]}; }
		else
			held_list+=" $gap s,"
			[ -n "$failed" ] || held=$gap
		fi
	done
	if [ -z "$failed" ]; then
		sc_remark "observed on the wire: ${Q_WHAT[$name]}: every client found its node after${held_list%,} of silence (longest gap held $held s; none failed)"
		return 0
	fi
	local before="quiet${held_list%,} held, $failed s failed" whom="a client quiet for $failed s"
	local must="persistence and UDP flows on the A/V service must outlast an allocation's refresh interval (R22)"
	[ -n "$held_list" ] || before="no gap held (the shortest was $failed s)"
	if [[ $name == tls* ]]; then
		whom="a TCP connection idle for $failed s"
		must="its TCP idle timeout is shorter than that (R24, the edge guidance: 1800 s)"
	fi
	# 437: the same 5-tuple reached a node without its allocation. No
	# answer counts too when a shorter silence held.
	case $why in
	*"437"*) ;;
	*) [ -n "$held_list" ] && [[ $why == *"timed out"* || $why == *"no answer"* || $why == *"closed"* || $why == *"reset"* ]] ||
		{ sc_fail "${Q_WHAT[$name]}: after $failed s of silence $why; $before"; return 1; } ;;
	esac
	sc_fail "${Q_WHAT[$name]}: the balancer forgot $whom: $why; $before: $must"
}

check_quiet_udp_external() { quiet_judge udp-ext; }
check_quiet_udp_internal() { quiet_judge udp-int; }
check_quiet_tls_external() { quiet_judge tls-ext; }
check_quiet_tls_internal() { quiet_judge tls-int; }

sc_main check_quiet_udp_external check_quiet_udp_internal check_quiet_tls_external check_quiet_tls_internal
