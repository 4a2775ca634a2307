#!/usr/bin/env bash
# S16: Every row of the seed's four port tables passes the firewalls; a port no row names is blocked
# seed: "It is recommended that you open only the ports required to support the functionality for which you are providing external access"
# seed: the four tables "Firewall Summary ... External Interface", "... Internal Interface", "External Port Settings ... External Interface Virtual IPs", "Firewall Summary ... Internal Interface Virtual IPs"
# spec: R4 fwext and fwint enforce the port tables, one counter per row (netns/ports.tsv)
# rows: every row of netns/ports.tsv
# segments: inet dmzext dmzint lan0
# asserts: netns/nftgen yields every row of the seed's tables (ext 11, extvip 8, int 8, intvip 6: at least that many per table, so an empty or short generator fails); for each row, a new flow from the row's source to its destination (both ends of a port range) gets through the whole lab, balancer included, and the row's own counter counts it; flows from a VIP on a port the balancer sends on (netns/lb.tsv's outbound column, R25) are started by an edge and must leave the balancer with the VIP's address; a VIP's row the balancer is not asked to send on (intvip_06) is the firewall's alone and is sent from the VIP by a probe node of S16's own on the firewall's outer segment, on every balancer (a note); TCP 8080 and 3478 and UDP 3479 to an A/V address, and TCP 22 to an internal address, answer an edge on the firewall's inner side and are blocked from outside and counted in "dropped"
# catches: M8 (3478 or 50000-59999 closed), M3 (an edge's outbound leaves from a VIP)
. "$(dirname "$0")/lib.sh"
sc_init S16

NFTGEN=$SC_ROOT/netns/nftgen
OUTSIDE=$(sc_addr client)
INSIDE=10.10.0.10
DROP_MS=300   # how long to wait for an answer that should not come (lab RTT < 1 ms)
# The seed's four tables, rows per table: "Firewall Summary ... External
# Interface" 11, "External Port Settings ... Virtual IPs" 8, "... Internal
# Interface" 8, "... Internal Interface Virtual IPs" 6. The generator must
# yield at least these; fewer means rows went missing and were never tried.
declare -A SEED_ROWS=([ext]=11 [extvip]=8 [int]=8 [intvip]=6)

# Where each flow of a row starts and ends. "any" is the client outside
# (fwext) and the Front End inside (fwint); a VIP as source is its real
# server's flow, which the HLB must send on from the VIP (R25).
origin_of() { # ADDR -> "NODE BIND-ADDR"
	case $1 in
	"$VIP_ACCESS") echo "edge1 203.0.113.21" ;;
	"$VIP_INT") echo "edge1 10.20.0.21" ;;
	*) echo "$(sc_node_of "$1") $1" ;;
	esac
}

# The ports the balancer must send the edges' own flows on from a VIP
# (R25; the device contract: netns/lb.tsv's outbound column), "SIDE PORT".
OUTBOUND=$(awk -F'\t' '!/^#/ && NF >= 10 && $10 != "-" {
	n = split($10, p, ","); for (i = 1; i <= n; i++) print $1, p[i] }' "$SC_ROOT/netns/lb.tsv")

# balancer_sends_on VIP PORT: 0 if the balancer is asked to send an edge's
# flow to PORT on from VIP. A VIP's row it is not asked to (intvip_06: A/V
# outbound leaves from the node's own address, R25) is the firewall's alone.
balancer_sends_on() {
	local side=ext
	[ "$1" = "$VIP_INT" ] && side=int
	grep -qx "$side $2" <<<"$OUTBOUND"
}

LISTENERS_UP=''
# Listeners for flows that end where no lab daemon listens: the outside
# client, the Front End's 443, the A/V addresses' media range, and the
# unnamed ports.
start_listeners() {
	[ -n "$LISTENERS_UP" ] && return 0
	local c=$OUTSIDE
	sc_responder client out "t=$c:80/tcp" "t=$c:53/tcp" "t=$c:53/udp" "t=$c:3478/udp" \
		"t=$c:443/tcp" "t=$c:5269/tcp" "t=$c:50000/tcp" "t=$c:50000/udp" "t=$c:59999/tcp" \
		"t=$c:59999/udp"
	sc_responder fe in "t=$INSIDE:443/tcp"
	sc_responder edge1 media "t=203.0.113.23:50000/tcp" "t=203.0.113.23:50000/udp" \
		"t=203.0.113.23:59999/tcp" "t=203.0.113.23:59999/udp" \
		"t=203.0.113.23:8080/tcp" "t=203.0.113.23:3478/tcp" "t=203.0.113.23:3479/udp"
	sc_responder edge2 closed "t=10.20.0.31:22/tcp"
	sc_responders_ready || return 1
	LISTENERS_UP=1
}

# probe_flow NODE BIND PROTO DST PORT: one new flow; 0 if it got through.
probe_flow() {
	local node=$1 bind=$2 proto=$3 dst=$4 port=$5
	if [ "$proto" = udp ] && [ "$port" = 3478 ] && [ "$(sc_node_of "$dst")" != client ]; then
		# avedge listens there: a STUN Binding is the flow.
		SC_J=''
		local err=${SC_ERRF:-$SC_OUT/.err} try
		for try in 1 2; do
			in_node "$node" "$BIN/edgeprobe" binding "$dst:$port" --bind "$bind" \
				--timeout "$SC_TIMEOUT" >/dev/null 2>"$err"
			SC_RC=$?
			SC_E=$(<"$err")
			[ $SC_RC = 0 ] || [ "$SC_RETRY" = 0 ] && break
		done
		return $SC_RC
	fi
	if [ "$proto" = tcp ]; then
		sc_lprobe "$node" tcp "$dst" "$port" --from "$bind" --connect-only
	else
		sc_lprobe "$node" udp "$dst" "$port" --from "$bind"
	fi
}

# counters_into ARRAY FW: the firewall's counters, NAME -> packets.
counters_into() {
	local -n into=$1
	local name pk
	into=()
	while read -r name pk; do into[$name]=$pk; done < <(sc_counters "$2")
}

# rows FW TABLE: a flow per row of that table (and per end of a port
# range); each must get through, and the row's counter must count them.
# The counters are read once around all of the table's flows; a row that
# fails is tried once more, alone, to say what the firewall did with it.
rows() {
	local fw=$1 table=$2 any id proto port srcs dsts src dst p node bind bad=0 f
	local flows=() ids=() fwonly=() rowlist
	[ "$fw" = fwext ] && any=$OUTSIDE || any=$INSIDE
	start_listeners || return 1
	rowlist=$("$NFTGEN" --rows "$fw" 2>&1) ||
		{ sc_fail "netns/nftgen --rows $fw failed: $(tail -n 1 <<<"$rowlist")"; return 1; }
	while read -r id proto port srcs dsts; do
		[[ $id == row_${table}_* ]] || continue
		ids+=("$id")
		src=${srcs%%,*} dst=${dsts%%,*}
		[ "$src" = any ] && src=$any
		[ "$dst" = any ] && dst=$any
		read -r node bind <<<"$(origin_of "$src")"
		for p in ${port/-/ }; do
			if [ "$bind" != "$src" ] && ! balancer_sends_on "$src" "$p"; then
				fwonly+=("$id $proto $p $src $dst")
				continue
			fi
			flows+=("$id $proto $p $src $dst $node $bind")
		done
	done <<<"$rowlist"
	[ ${#ids[@]} -ge "${SEED_ROWS[$table]}" ] || {
		sc_fail "netns/nftgen --rows $fw yields ${#ids[@]} row(s) of table $table, the seed's table has ${SEED_ROWS[$table]}: rows are missing from netns/ports.tsv or the generator, and no flow tried them"
		return 1
	}
	declare -A before=() after=() ok=() want=()
	counters_into before "$fw"
	# All of the table's flows at once (they are independent), each
	# leaving its exit status in a file.
	local tmp=$SC_OUT/rows-$table i=0 pids=()
	mkdir -p "$tmp"
	for f in "${flows[@]}"; do
		read -r id proto p src dst node bind <<<"$f"
		want[$id]=$((${want[$id]:-0} + 1))
		(
			SC_ERRF=$tmp/$i.err
			# A VIP's row from an edge fails at once where the HLB has no
			# outbound rule; the fallback below tries it again anyway.
			[ "$bind" != "$src" ] && SC_RETRY=0
			probe_flow "$node" "$bind" "$proto" "$dst" "$p" >/dev/null 2>&1
			echo $? >"$tmp/$i"
		) &
		pids+=($!)
		i=$((i + 1))
	done
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" # no pids: a bare wait would wait for the listeners
	i=0
	for f in "${flows[@]}"; do
		[ "$(<"$tmp/$i")" = 0 ] && ok[$f]=1
		i=$((i + 1))
	done
	rm -rf "$tmp"
	counters_into after "$fw"
	for f in "${flows[@]}"; do
		read -r id proto p src dst node bind <<<"$f"
		local b a what
		b=${before[$id]:-} a=${after[$id]:-}
		if [ -n "${ok[$f]:-}" ] && [ -n "$a" ] && [ $((a - b)) -ge "${want[$id]}" ]; then
			sc_flow_verdict "$node" "$(sc_hostport "$dst" "$p")" "$proto" pass
			continue
		fi
		what="$id $proto/$p $src -> $dst"
		[ "$bind" != "$src" ] && what+=" (from $node's $bind through the HLB)"
		if [ -z "$a" ]; then
			sc_fail "$what is blocked: $fw has no rule for $id (the row is left out of its ruleset)"
			sc_flow_verdict "$node" "$(sc_hostport "$dst" "$p")" "$proto" fail
			bad=1; continue
		fi
		# Once more, alone, with the dropped counter around it.
		local db da why
		db=$(sc_counter "$fw" dropped)
		SC_RETRY=0 SC_TIMEOUT=$DROP_MS probe_flow "$node" "$bind" "$proto" "$dst" "$p"
		da=$(sc_counter "$fw" dropped)
		if [ "${da:-0}" -gt "${db:-0}" ]; then
			why="$fw dropped it (counted in 'dropped', not in $id)"
			[ "$bind" != "$src" ] && why+=": the HLB did not send $node's flow on from $src, the only source the row admits"
			[ "$bind" = "$src" ] && why+=$(rewritten_why "$fw" "$node" "$bind" "$proto" "$dst" "$p")
		elif [ -n "${ok[$f]:-}" ]; then
			why="it got through, but $id counted $((a - b)) of ${want[$id]} new flows: the flow did not cross $fw as the row says"
		elif [ $((a - b)) -ge "${want[$id]}" ]; then
			sc_fail "$what passes $fw ($id counted it), but no answer came back"
			sc_flow_verdict "$node" "$(sc_hostport "$dst" "$p")" "$proto" fail
			bad=1; continue
		else
			why="no answer ($(sc_probe_error)), and $fw did not count a drop"
		fi
		sc_fail "$what is blocked: $why"
		sc_flow_verdict "$node" "$(sc_hostport "$dst" "$p")" "$proto" fail
		bad=1
	done
	for f in "${fwonly[@]}"; do
		# shellcheck disable=SC2086 # ID PROTO PORT SRC DST
		fw_only_row "$fw" $f || bad=1
	done
	return $bad
}

# A probe node of S16's own (namespace P-fwp) on the firewall's outer
# segment, holding the VIP, which the firewall then routes to it: a VIP's
# row no balancer is asked to meet is tried from the VIP itself without
# entering the balancer, so the lab's HLB and a wired device are judged
# alike (the device's namespaces are not the suite's to enter).
FWP_NS=$SC_PREFIX-fwp FWP_ROUTE=''
fwp_up() { # FW VIP
	local fw=$1 vip=$2 seg me gw sw=$SC_PREFIX-sw
	case $fw in
	fwint) seg=dmzint me=10.30.0.9 gw=10.30.0.1 ;;
	*) seg=dmzext me=192.0.2.9 gw=192.0.2.1 ;;
	esac
	fwp_down
	ip netns add "$FWP_NS" || return 1
	ip -n "$sw" link add "fwp-$seg" type veth peer name "$seg" netns "$FWP_NS" &&
		ip -n "$sw" link set "fwp-$seg" master "$seg" up &&
		ip -n "$FWP_NS" link set lo up && ip -n "$FWP_NS" link set "$seg" up &&
		ip -n "$FWP_NS" addr add "$me/24" dev "$seg" &&
		ip -n "$FWP_NS" addr add "$vip/32" dev lo &&
		ip -n "$FWP_NS" route add default via "$gw" || return 1
	# Only the answers to the VIP come this way, and only while the
	# probe runs: fwp_down gives the firewall its own route back.
	FWP_ROUTE="$fw $vip/32 via $me"
	ip -n "$SC_PREFIX-$fw" route add "$vip/32" via "$me"
}

fwp_down() {
	local fw r
	if [ -n "$FWP_ROUTE" ]; then
		read -r fw r <<<"$FWP_ROUTE"
		# shellcheck disable=SC2086 # "ADDR/32 via NEXT-HOP"
		ip -n "$SC_PREFIX-$fw" route del $r 2>/dev/null
		FWP_ROUTE=''
	fi
	[ -e "/run/netns/$FWP_NS" ] && ip netns del "$FWP_NS"
	return 0
}
defer fwp_down

# fw_only_row FW ID PROTO PORT SRC DST: the row's flow from the VIP itself,
# through the firewall alone; it must get through and its counter count it.
fw_only_row() {
	local fw=$1 id=$2 proto=$3 p=$4 src=$5 dst=$6 b a db da ok=0 what seg=dmzext
	[ "$fw" = fwint ] && seg=dmzint
	what="$id $proto/$p $src -> $dst"
	if ! fwp_up "$fw" "$src" >>"$SC_OUT/probes" 2>&1; then
		fwp_down
		sc_fail "$what: could not put S16's probe node with $src on $seg, so the row was not tried"
		return 1
	fi
	b=$(sc_counter "$fw" "$id") db=$(sc_counter "$fw" dropped)
	probe_flow fwp "$src" "$proto" "$dst" "$p" >/dev/null 2>&1 && ok=1
	a=$(sc_counter "$fw" "$id") da=$(sc_counter "$fw" dropped)
	fwp_down
	if [ $ok = 1 ] && [ -n "$a" ] && [ $((a - ${b:-0})) -ge 1 ]; then
		sc_flow_verdict "$(sc_node_of "$src")" "$(sc_hostport "$dst" "$p")" "$proto" pass
		sc_remark "$what is the firewall's alone: no balancer is asked to send an edge's $proto/$p on from $src (netns/lb.tsv has no outbound rule for it: A/V outbound leaves from the node's own address, R25), so S16's probe node on $seg sent it from $src itself, on every balancer alike; $fw passed it and $id counted it"
		return 0
	fi
	sc_flow_verdict "$(sc_node_of "$src")" "$(sc_hostport "$dst" "$p")" "$proto" fail
	if [ -z "$a" ]; then
		sc_fail "$what is blocked: $fw has no rule for $id (the row is left out of its ruleset)"
	elif [ "${da:-0}" -gt "${db:-0}" ]; then
		sc_fail "$what, sent from $src by S16's probe node on $seg, is blocked: $fw dropped it (counted in 'dropped', not in $id)"
	elif [ $ok = 1 ]; then
		sc_fail "$what, sent from $src by S16's probe node on $seg, got through, but $id did not count it: the flow did not cross $fw as the row says"
	else
		sc_fail "$what, sent from $src by S16's probe node on $seg: no answer ($(sc_probe_error)), and $fw did not count a drop"
	fi
	return 1
}

# rewritten_why FW NODE BIND PROTO DST PORT: when an edge's own flow was
# dropped, whether it reached the firewall from another source than the
# edge's own address (the HLB rewrote it), from the capture between the
# HLB and the firewall.
rewritten_why() {
	local fw=$1 node=$2 bind=$3 proto=$4 dst=$5 port=$6 seg=dmzext seen
	case $node in edge1 | edge2) ;; *) return 0 ;; esac
	[ "$fw" = fwint ] && seg=dmzint
	sc_capture_settle
	seen=$(sc_seen $seg "$proto and dst host $dst and dst port $port" | tail -n 1 | cut -d' ' -f1)
	[ -n "$seen" ] && [ "$(sc_host "$seen")" != "$bind" ] || return 0
	echo ": it reached $fw from $seen, not from $node's own $bind: the HLB rewrote the source of an edge's own flow (R25)"
}

check_ext_rows() { rows fwext ext; }
check_extvip_rows() { rows fwext extvip; }
check_int_rows() { rows fwint int; }
check_intvip_rows() { rows fwint intvip; }

# Ports no row names: the listener answers the other edge on the
# firewall's inner side (a node no balancer replaces, on the listener's own
# segment), the same flow from outside is dropped and counted in "dropped".
UNNAMED="fwext tcp 8080 $OUTSIDE 203.0.113.23 edge2
fwext tcp 3478 $OUTSIDE 203.0.113.23 edge2
fwext udp 3479 $OUTSIDE 203.0.113.23 edge2
fwint tcp 22 $INSIDE 10.20.0.31 edge1"

# probe_quiet NODE PROTO DST PORT [--from SRC]: 0 if answered.
probe_quiet() {
	local node=$1 proto=$2 dst=$3 port=$4 opt=()
	shift 4
	[ "$proto" = tcp ] && opt=(--connect-only)
	sc_lprobe "$node" "$proto" "$dst" "$port" "$@" "${opt[@]}" >/dev/null 2>&1
}

check_unnamed_blocked() {
	local fw proto port src dst inside bad=0 i=0 pids=() tmp=$SC_OUT/unnamed
	local bext bint aext aint next=0 nint=0
	start_listeners || return 1
	mkdir -p "$tmp"
	bext=$(sc_counter fwext dropped) bint=$(sc_counter fwint dropped)
	while read -r fw proto port src dst inside; do
		(
			SC_ERRF=$tmp/$i.in.err
			probe_quiet "$inside" "$proto" "$dst" "$port"
			echo $? >"$tmp/$i.in"
			SC_ERRF=$tmp/$i.err SC_TIMEOUT=$DROP_MS SC_RETRY=0
			probe_quiet "$(sc_node_of "$src")" "$proto" "$dst" "$port" --from "$src"
			echo $? >"$tmp/$i"
		) &
		pids+=($!)
		[ "$fw" = fwext ] && next=$((next + 1)) || nint=$((nint + 1))
		i=$((i + 1))
	done <<<"$UNNAMED"
	[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" # no pids: a bare wait would wait for the listeners
	aext=$(sc_counter fwext dropped) aint=$(sc_counter fwint dropped)
	i=0
	while read -r fw proto port src dst inside; do
		if [ "$(<"$tmp/$i.in")" != 0 ]; then
			sc_fail "the listener $dst:$port/$proto does not answer $inside, so the check proves nothing"
			bad=1
		elif [ "$(<"$tmp/$i")" = 0 ]; then
			sc_fail "$proto/$port $src -> $dst, a port no row names, got through $fw"
			sc_flow_verdict "$(sc_node_of "$src")" "$dst:$port" "$proto" fail
			bad=1
		else
			sc_flow_verdict "$(sc_node_of "$src")" "$dst:$port" "$proto" pass
		fi
		i=$((i + 1))
	done <<<"$UNNAMED"
	rm -rf "$tmp"
	[ $((${aext:-0} - ${bext:-0})) -ge $next ] ||
		{ sc_fail "fwext counted $((${aext:-0} - ${bext:-0})) of the $next unnamed flows in 'dropped'"; bad=1; }
	[ $((${aint:-0} - ${bint:-0})) -ge $nint ] ||
		{ sc_fail "fwint counted $((${aint:-0} - ${bint:-0})) of the $nint unnamed flows in 'dropped'"; bad=1; }
	return $bad
}

sc_main check_ext_rows check_extvip_rows check_int_rows check_intvip_rows check_unnamed_blocked
