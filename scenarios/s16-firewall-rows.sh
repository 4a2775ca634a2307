#!/usr/bin/env bash
# S16: Every row of the seed's four port tables passes the firewalls; a port no row names is blocked
# seed: "It is recommended that you open only the ports required to support the functionality for which you are providing external access"
# seed: the four tables "Firewall Summary ... External Interface", "... Internal Interface", "External Port Settings ... External Interface Virtual IPs", "Firewall Summary ... Internal Interface Virtual IPs"
# spec: R4 fwext and fwint enforce the port tables, one counter per row (netns/ports.tsv)
# rows: every row of netns/ports.tsv
# segments: inet dmzext dmzint lan0
# asserts: netns/nftgen yields every row of the seed's tables (ext 11, extvip 8, int 8, intvip 6: at least that many per table, so an empty or short generator fails); for each row, a new flow from the row's source to its destination (both ends of a port range) gets through the whole lab, balancer included, and the row's own counter counts it; flows from a VIP are started by an edge and must leave the HLB with the VIP's address; TCP 8080 and 3478 and UDP 3479 to an A/V address, and TCP 22 to an internal address, are blocked and counted in "dropped"
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
	local flows=() ids=() rowlist
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
		# A row whose source is a VIP: the edge's own flow did not leave
		# the HLB from the VIP (the balancer has no outbound rule for the
		# port). The row itself is the firewall's: where the lab's own HLB
		# node holds the VIP, try it from there, and say what the edge's
		# flow lacked (a device wired in instead must do the SNAT itself).
		local hn=''
		[ "$bind" != "$src" ] && hn=$(sc_node_of "$src")
		if [ -n "$hn" ] && [ -n "$a" ] && ip -n "$SC_PREFIX-$hn" -o addr show 2>/dev/null | grep -q " $src/"; then
			local cb ca
			cb=$(sc_counter "$fw" "$id")
			if probe_flow "$hn" "$src" "$proto" "$dst" "$p"; then
				ca=$(sc_counter "$fw" "$id")
				if [ "${ca:-0}" -gt "${cb:-0}" ]; then
					sc_flow_verdict "$node" "$(sc_hostport "$dst" "$p")" "$proto" skip
					sc_flow_verdict "$hn" "$(sc_hostport "$dst" "$p")" "$proto" pass
					sc_remark "$id $proto/$p $src -> $dst passes $fw from the VIP itself ($hn), but $node's own flow from $bind to that port is not sent on from the VIP by the HLB (no outbound rule for $p), so $fw drops it"
					continue
				fi
			fi
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
	return $bad
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

# Ports no row names: the listener answers from the firewall's inner side,
# the same flow from outside is dropped and counted in "dropped".
UNNAMED="fwext tcp 8080 $OUTSIDE 203.0.113.23 hlbext
fwext tcp 3478 $OUTSIDE 203.0.113.23 hlbext
fwext udp 3479 $OUTSIDE 203.0.113.23 hlbext
fwint tcp 22 $INSIDE 10.20.0.31 hlbint"

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
