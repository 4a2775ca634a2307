#!/usr/bin/env bash
# lab_stun: the relay the lab starts on each edge answers a STUN Binding
# sent to the edge's own A/V address from that same address (SPEC S2, seed:
# "If the client sends a request to the Edge, the response must come back
# from the Edge IP"), over IPv4 and IPv6, from the Internet through fwext,
# and on its internal address from inside through fwint; the mapped address
# is the client's own (nothing in the lab NATs).
set -uo pipefail
. "$(dirname "$0")/../lib/lab.sh"
lab_test_init lab_stun
need_bin avedge edgeprobe lab-responder
E=$EDGELAB_BIN/edgeprobe

# binding NODE TARGET WANT-MAPPED-ADDR: answered from TARGET itself.
binding() {
	local node=$1 target=$2 mapped=$3 out from xm
	out=$(in_node "$node" "$E" binding "$target" --timeout 3000) || { echo "$out"; return 1; }
	from=$(awk '$1 == "from" { print $2 }' <<<"$out")
	xm=$(awk '$1 == "xor_mapped" { print $2 }' <<<"$out")
	[ "$from" = "$target" ] || { echo "answer to $target came from $from"; return 1; }
	[[ $xm == "$mapped":* ]] || { echo "xor_mapped $xm, want $mapped:PORT"; return 1; }
}

check "up" quiet "$LAB" up --prefix "$T_PREFIX"
for n in 1 2; do
	av=203.0.113.$((n * 10 + 13)) int=10.20.0.$((n * 10 + 11))
	check "edge$n: binding to $av:3478 from client" binding client "$av:3478" 198.51.100.10
	check "edge$n: binding to [2001:db8:203:0:113::$((n * 10 + 13))]:3478 from client" \
		binding client "[2001:db8:203:0:113::$((n * 10 + 13))]:3478" "[2001:db8:198:51:100::10]"
	check "edge$n: binding to $int:3478 from fe" binding fe "$int:3478" 10.10.0.10
	check "edge$n: binding to $int:3478 from inclient (10.10.1.0/24)" binding inclient "$int:3478" 10.10.1.50
done
check "down" quiet "$LAB" down --prefix "$T_PREFIX"
check "nothing of the lab is left" lab_is_gone
lib_exit
