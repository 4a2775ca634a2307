# shellcheck shell=bash
# scenarios/lib/evidence.sh: packet captures of the segments and the
# diagnoses read from them (where a request or its answer went).
# Sourced by scenarios/lib.sh.

# ---------------------------------------------------------------- captures

# Every segment named in the header's "# segments:" is captured while the
# scenario runs; the pcaps stay only if it fails, and the diagnoses below
# read them to say where a packet went. This is exactly what `netns/lab
# capture SEGMENT FILE` runs (tcpdump on the segment's bridge in the lab's
# sw namespace), without the lab script's start-up for each segment.
sc_capture_start() {
	[ "$SC_CAPTURE" = 1 ] && [ -n "$SC_SEGMENTS" ] || return 0
	command -v tcpdump >/dev/null || return 0
	mkdir -p "$SC_OUT/pcap"
	local seg
	for seg in $SC_SEGMENTS; do
		: >"$SC_OUT/pcap/$seg.err"
		spawn ip netns exec "$SC_PREFIX-sw" tcpdump -U --immediate-mode -n -Z root -i "$seg" \
			-w "$SC_OUT/pcap/$seg.pcap" 2>"$SC_OUT/pcap/$seg.err"
		SC_CAPS+=("$SPAWNED")
	done
	for seg in $SC_SEGMENTS; do
		sc_capture_wait "$SC_OUT/pcap/$seg.err" "of $seg"
	done
	return 0
}

# sc_capture_wait ERRFILE WHAT: until the capture says it listens (3 s).
sc_capture_wait() {
	busywait 3000 grep -q "listening on" "$1" && return 0
	echo "# capture $2 did not start: $(<"$1")"
	return 1
}

# sc_capture_node NODE FILTER...: a capture inside NODE's own namespace,
# on all of its interfaces, into SC_OUT/pcap/NODE.pcap: traffic between
# two of a node's own addresses goes over its loopback and never reaches
# a segment. Stopped, and kept, as the segments' captures are.
sc_capture_node() {
	local node=$1 f=$SC_OUT/pcap/$1.pcap
	shift
	[ "$SC_CAPTURE" = 1 ] && command -v tcpdump >/dev/null || return 1
	mkdir -p "$SC_OUT/pcap"
	: >"$f.err"
	spawn ip netns exec "$SC_PREFIX-$node" tcpdump -U --immediate-mode -n -Z root -i any -w "$f" "$@" 2>"$f.err"
	SC_CAPS+=("$SPAWNED")
	sc_capture_wait "$f.err" "in $node"
}

# sc_pcap_count FILE FILTER: how many packets of the capture match.
sc_pcap_count() {
	local f=$1
	shift
	[ -s "$f" ] || { echo 0; return; }
	tcpdump -r "$f" -n "$@" 2>/dev/null | wc -l
}

# The capture writes each packet at once (-U), but give the kernel's
# buffer a moment: wait until no pcap grows for 100 ms (at most 1 s).
sc_capture_settle() {
	local a b
	[ ${#SC_CAPS[@]} -gt 0 ] || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		a=$(stat -c %s "$SC_OUT"/pcap/*.pcap 2>/dev/null)
		sleep 0.1
		b=$(stat -c %s "$SC_OUT"/pcap/*.pcap 2>/dev/null)
		[ "$a" = "$b" ] && return 0
	done
}

# MAC address -> lab node, for "who sent this frame to whom". Read from
# the lab once per scenario into SC_OUT/macs: sc_seen mostly runs in a
# $(...), whose variables die with it.
declare -A SC_MACS=()
sc_macs_load() {
	local ns mac f=$SC_OUT/macs
	[ ${#SC_MACS[@]} -eq 0 ] || return 0
	if [ ! -s "$f" ]; then
		for ns in client partner fwext hlbext edge1 edge2 hlbint fwint fe inclient; do
			ip -n "$SC_PREFIX-$ns" -o link 2>/dev/null |
				grep -o 'link/ether [0-9a-f:]*' | sed "s/^link.ether //; s/\$/ $ns/"
		done >"$f"
	fi
	while read -r mac ns; do SC_MACS[$mac]=$ns; done <"$f"
}

# sc_seen SEGMENT FILTER: the packets of the capture matching the tcpdump
# FILTER, one per line: "SRC DST SRC-NODE DST-NODE" (SRC/DST as
# ADDR:PORT, the nodes from the frame's MAC addresses).
sc_seen() {
	local seg=$1 f=$SC_OUT/pcap/$1.pcap
	shift
	[ -s "$f" ] || return 0
	local smac dmac src dst
	sc_macs_load
	while read -r smac dmac src dst; do
		echo "$src $dst ${SC_MACS[$smac]:-device $smac} ${SC_MACS[$dmac]:-device $dmac}"
	done < <(tcpdump -r "$f" -n -e "$@" 2>/dev/null | awk '{
		smac = $2; dmac = $4; sub(/,$/, "", dmac)
		for (i = 1; i <= NF; i++) if ($i == ">" && i > 4) { src = $(i - 1); dst = $(i + 1); break }
		sub(/:$/, "", dst)
		print smac, dmac, hp(src), hp(dst) }
		function hp(s,   n, p) { n = split(s, p, "."); if (s ~ /:/) { port = p[n]; sub("\\." port "$", "", s); return "[" s "]:" port }
			port = p[n]; return p[1] "." p[2] "." p[3] "." p[4] ":" port }')
}

# sc_route_back_why EDGE CALLER: why EDGE does not route its answers to an
# internal CALLER (IPv4) through the internal next hop; nothing if it does.
sc_route_back_why() {
	local r
	[[ $2 == 10.* ]] || return 0
	r=$(in_node "$1" ip -4 route get "$2" 2>&1 | head -n 1)
	r=${r% uid*}
	[[ $r == *"via $GW_INT dev edgeint"* ]] ||
		echo "$1 routes $2 as '$r', not via the internal next hop $GW_INT: no persistent route to $2's subnet (R3)"
}

# sc_why_no_answer PROTO CLIENT TARGET: where the request from CLIENT
# (ADDR:PORT) to TARGET (ADDR:PORT) and its answer went, in one phrase,
# read from the captures: the client's segment, the firewall-HLB segment
# (dmzext/dmzint) and the HLB-edges segment (edgeext/edgeint).
sc_why_no_answer() {
	local proto=$1 cl=$2 tg=$3 cport line src dst sn dn outer dmz edge hlb fw
	cport=$(sc_port_of "$cl")
	case $(sc_v4 "$(sc_host "$tg")") in
	10.*) dmz=dmzint edge=edgeint hlb=hlbint fw=fwint
		[ "$(sc_node_of "$(sc_host "$cl")")" = inclient ] && outer=lan1 || outer=lan0 ;;
	*) outer=inet dmz=dmzext edge=edgeext hlb=hlbext fw=fwext ;;
	esac
	[ ${#SC_CAPS[@]} -gt 0 ] || { echo "(no capture to say more)"; return; }
	sc_capture_settle
	local f="$proto port $cport"
	# 1. Did the request get past the firewall?
	if [[ " $SC_SEGMENTS " == *" $dmz "* ]] && [ -z "$(sc_seen $dmz "$f and src port $cport")" ]; then
		if [ -n "$(sc_seen $outer "$f and src port $cport")" ]; then
			echo "the request never got past $fw (its 'dropped' counter is $(sc_counter $fw dropped))"
			return
		fi
	fi
	# 2. Which edge got it, and where did that edge send its answer?
	line=$(sc_seen $edge "$f and dst port $cport" | head -n 1)
	if [ -z "$line" ]; then
		line=$(sc_seen $edge "$f and src port $cport" | head -n 1)
		if [ -n "$line" ]; then
			read -r src dst sn dn <<<"$line"
			local route
			route=$(sc_route_back_why "$dn" "$(sc_host "$cl")")
			if [ -n "$route" ]; then
				echo "the request reached $dn at $dst, but $route"
			else
				echo "the request reached $dn at $dst, which sent no answer"
			fi
		else
			echo "the request did not reach the edge segment ($edge)"
		fi
		return
	fi
	read -r src dst sn dn <<<"$line"
	if [ "$dn" = "$(sc_node_of "$(sc_host "$cl")")" ]; then
		echo "$sn answered from $src straight to the client, which is on the edges' own subnet: the answer bypassed the HLB (hairpin), so the client's socket, talking to $tg, dropped it"
		return
	fi
	if [ "$dn" != "$hlb" ]; then
		echo "$sn answered from $src but sent it to $dn, not back through the HLB: an asymmetric return path (the edges' gateway must be the HLB, R2/R3)"
		return
	fi
	# 3. What left the HLB toward the client?
	line=$(sc_seen $dmz "$f and dst port $cport" | head -n 1)
	if [ -z "$line" ]; then
		echo "$sn answered from $src through the HLB, which did not pass the answer on"
		return
	fi
	read -r src dst sn dn <<<"$line"
	if [ "$src" != "$tg" ]; then
		local what="another address"
		case $(sc_node_of "$(sc_host "$src")") in
		edge1 | edge2) [ "$(sc_node_of "$(sc_host "$tg")")" = "$hlb" ] &&
			what="the real server's own address: the HLB did not translate the answer back, as in direct server return" ;;
		"$hlb") what="a VIP: the HLB rewrote the source of a direct flow's answer" ;;
		esac
		echo "the answer left the HLB from $src instead of $tg ($what); $fw dropped it"
		return
	fi
	if [ -z "$(sc_seen $outer "$f and dst port $cport")" ] && [[ " $SC_SEGMENTS " == *" $outer "* ]]; then
		echo "the answer left the HLB from $src and $fw dropped it (its 'dropped' counter is $(sc_counter $fw dropped))"
		return
	fi
	echo "the answer from $src reached the client's segment, but not the client in time"
}
