#!/usr/bin/env bash
# lab_firewall: R4. Every row of the seed's four port tables (netns/ports.tsv)
# lets its flow through fwext or fwint, over IPv4 and IPv6, from the row's
# source to the row's destination, and the row's own counter counts it; a
# port that no row names is dropped and counted in "dropped". With M8 the
# A/V rows (3478, 50000-59999) of the external tables are closed.
set -uo pipefail
. "$(dirname "$0")/../lib/lab.sh"
lab_test_init lab_firewall
need_bin lab-responder lab-probe
R=$EDGELAB_BIN/lab-responder
P=$EDGELAB_BIN/lab-probe

node_of() { # ADDR -> the lab node that holds it
	case $1 in
	198.51.100.10) echo client ;; 198.51.100.20) echo partner ;;
	203.0.113.1[0-2] | 10.20.0.1) echo hlbext ;;
	203.0.113.2?) echo edge1 ;; 203.0.113.3?) echo edge2 ;;
	10.20.0.21) echo edge1 ;; 10.20.0.31) echo edge2 ;;
	10.20.0.10) echo hlbint ;; 10.10.0.10) echo fe ;; 10.10.1.50) echo inclient ;;
	*) echo "node_of: no node for $1" >&2; return 1 ;;
	esac
}

# FLOWS: "fw id proto port src dst" per row, per address of the row's sets,
# per end of a port range, per family. "Any" is the client outside and the
# Front End inside.
FLOWS=()
plan_flows() { # FW ANY [--fault M8]
	local fw=$1 any=$2 id proto port srcs dsts s d p
	shift 2
	while read -r id proto port srcs dsts; do
		[ "$srcs" = any ] && srcs=$any
		[ "$dsts" = any ] && dsts=$any
		for s in ${srcs//,/ }; do
			for d in ${dsts//,/ }; do
				for p in ${port/-/ }; do
					FLOWS+=("$fw $id $proto $p $s $d" "$fw $id $proto $p $(lab_v6 "$s") $(lab_v6 "$d")")
				done
			done
		done
	done < <("$EDGELAB_ROOT/netns/nftgen" --rows "$@" "$fw")
}

# DROPS: "fw proto port src dst inside": flows no row names, and a node
# inside the perimeter that proves the listener answers when asked.
DROPS=(
	"fwext tcp 8080 198.51.100.10 203.0.113.23 hlbext"
	"fwext tcp 443 198.51.100.10 203.0.113.21 hlbext"
	"fwext tcp 3478 198.51.100.10 203.0.113.23 hlbext"
	"fwext udp 3479 198.51.100.10 203.0.113.33 hlbext"
	"fwext tcp 5061 203.0.113.21 198.51.100.20 client"
	"fwint tcp 5061 10.10.0.10 10.20.0.21 hlbint"
	"fwint tcp 8057 10.10.1.50 10.20.0.10 edge1"
	"fwint tcp 22 10.10.1.50 10.20.0.31 hlbint"
)

node6() { # ADDR (either family) -> node
	local a=$1
	if [[ $a == *:* ]]; then
		a=$(awk -F: '{ printf "%d.%d.%d.%d", $3, $4, $5, $NF }' <<<"${a/::/:0:}")
	fi
	node_of "$a"
}

RESPONDERS=()
# One responder per destination node, listening on every address:port the
# flows need there (the same listener serves every flow that reaches it).
start_listeners() {
	local f fw id proto port s d node key
	declare -A seen=() specs=()
	for f in "${FLOWS[@]}" "${DROPS[@]/#/x }"; do
		read -r fw id proto port s d _ <<<"$f"
		[ "$fw" = x ] && { fw=$id; read -r _ _ proto port s d _ <<<"$f"; }
		node=$(node6 "$d") || return 1
		[[ $d == *:* ]] && d="[$d]"
		key="$node $d:$port/$proto"
		[ -n "${seen[$key]:-}" ] && continue
		seen[$key]=1
		specs[$node]+=" --listen t=$d:$port/$proto"
	done
	for node in "${!specs[@]}"; do
		# shellcheck disable=SC2086
		spawn ip netns exec "$T_PREFIX-$node" "$R" --name "$node" ${specs[$node]} >"$T_TMP/$node.log" 2>&1
		RESPONDERS+=("$SPAWNED")
	done
	for node in "${!specs[@]}"; do
		slowwait 5 grep -q '^ready' "$T_TMP/$node.log" ||
			{ echo "responder in $node not ready: $(cat "$T_TMP/$node.log")"; return 1; }
	done
}

stop_listeners() {
	stop_pids "${RESPONDERS[@]}"
	RESPONDERS=()
}

# probe FROM-NODE PROTO SRC DST PORT: the answer names the destination node
# and the source address it saw (no NAT anywhere in this lab).
flow_passes() {
	local proto=$1 port=$2 s=$3 d=$4 node out want
	node=$(node6 "$s")
	out=$(in_node "$node" "$P" --timeout 2000 --from "$s" "$proto" "$d" "$port") || return 1
	[[ $s == *:* ]] && want="$(node6 "$d") t [$s]:" || want="$(node6 "$d") t $s:"
	[[ $out == "$want"* ]] || { echo "answer '$out' does not start with '$want'"; return 1; }
}

flow_dropped() { # PROTO PORT SRC DST
	not in_node "$(node6 "$3")" "$P" --timeout 1000 --from "$3" "$1" "$4" "$2"
}

check_rows() {
	local f fw id proto port s d fw_ id_
	declare -A want=()
	for f in "${FLOWS[@]}"; do
		read -r fw id proto port s d <<<"$f"
		check "$id $proto/$port $s -> $d passes $fw" flow_passes "$proto" "$port" "$s" "$d"
		want["$fw $id"]=$((${want["$fw $id"]:-0} + 1))
	done
	for f in "${!want[@]}"; do
		read -r fw_ id_ <<<"$f"
		check "$id_ counted ${want[$f]} new flows" \
			test "$(fw_counter "$fw_" "$id_")" -ge "${want[$f]}"
	done
}

check_drops() {
	local f fw proto port s d inside before_ext before_int
	before_ext=$(fw_counter fwext dropped)
	before_int=$(fw_counter fwint dropped)
	for f in "${DROPS[@]}"; do
		read -r fw proto port s d inside <<<"$f"
		check "listener $d $proto/$port answers $inside (same side)" \
			quiet in_node "$inside" "$P" --timeout 2000 "$proto" "$d" "$port"
		check "unnamed $proto/$port $s -> $d dropped by $fw" flow_dropped "$proto" "$port" "$s" "$d"
	done
	check "fwext counted its 5 drops in 'dropped'" test "$(fw_counter fwext dropped)" -ge $((before_ext + 5))
	check "fwint counted its 3 drops in 'dropped'" test "$(fw_counter fwint dropped)" -ge $((before_int + 3))
}


check "lab up --daemons none" quiet "$LAB" up --prefix "$T_PREFIX" --daemons none
plan_flows fwext 198.51.100.10
plan_flows fwint 10.10.0.10
check "listeners for ${#FLOWS[@]} flows and ${#DROPS[@]} drops" start_listeners
check_rows
check_drops
stop_listeners
check "down" quiet "$LAB" down --prefix "$T_PREFIX"

# M8: the external A/V rows are gone, so STUN to an edge is dropped.
check "lab up --fault M8" quiet "$LAB" up --prefix "$T_PREFIX" --daemons none --fault M8
check_eq "M8 leaves 12 of 19 external rows" 12 "$("$EDGELAB_ROOT/netns/nftgen" --rows --fault M8 fwext | wc -l)"
FLOWS=() DROPS=("fwext udp 3478 198.51.100.10 203.0.113.23 hlbext" "fwext udp 50000 198.51.100.10 203.0.113.33 hlbext")
check "listeners" start_listeners
# As check_drops: the listener is there (it answers its own side), and
# the firewall, not a dead listener, is what stopped the flow.
m8_before=$(fw_counter fwext dropped)
for f in "${DROPS[@]}"; do
	read -r fw proto port s d inside <<<"$f"
	check "M8: listener $d $proto/$port answers $inside (same side)" \
		quiet in_node "$inside" "$P" --timeout 2000 "$proto" "$d" "$port"
	check "M8: $proto/$port $s -> $d dropped" flow_dropped "$proto" "$port" "$s" "$d"
done
check "M8: fwext counted the 2 drops in 'dropped'" test "$(fw_counter fwext dropped)" -ge $((m8_before + 2))
stop_listeners
check "down" quiet "$LAB" down --prefix "$T_PREFIX"
check "nothing of the lab is left" lab_is_gone
lib_exit
