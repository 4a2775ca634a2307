#!/usr/bin/env bash
# lab_plan: the lab's addresses, routes and gateways are the reference plan
# of SPEC section 2 (R1, R2, R3), IPv6 mirrors them, routers forward and
# edges do not, DAD is off, the host namespace is untouched; the lab faults
# M2, M7 and M13 change exactly what netns/PLAN.md says.
set -uo pipefail
. "$(dirname "$0")/../lib/lab.sh"
lab_test_init lab_plan

# The plan as SPEC section 2 writes it: node interface address...
PLAN_ADDRS="
client inet 198.51.100.10/24
partner inet 198.51.100.20/24
fwext inet 198.51.100.1/24
fwext dmzext 192.0.2.1/24
hlbext dmzext 192.0.2.2/24
hlbext edgeext 203.0.113.10/24 203.0.113.11/24 203.0.113.12/24
edge1 edgeext 203.0.113.21/24 203.0.113.22/24 203.0.113.23/24
edge1 edgeint 10.20.0.21/24
edge2 edgeext 203.0.113.31/24 203.0.113.32/24 203.0.113.33/24
edge2 edgeint 10.20.0.31/24
hlbint edgeint 10.20.0.1/24 10.20.0.10/24
hlbint dmzint 10.30.0.2/24
fwint dmzint 10.30.0.1/24
fwint lan0 10.10.0.1/24
fwint lan1 10.10.1.1/24
fe lan0 10.10.0.10/24
inclient lan1 10.10.1.50/24
"
# ...and its static routes: node destination gateway interface.
PLAN_ROUTES="
client default 198.51.100.1 inet
partner default 198.51.100.1 inet
fwext 203.0.113.0/24 192.0.2.2 dmzext
hlbext default 192.0.2.1 dmzext
edge1 default 203.0.113.10 edgeext
edge1 10.10.0.0/16 10.20.0.1 edgeint
edge2 default 203.0.113.10 edgeext
edge2 10.10.0.0/16 10.20.0.1 edgeint
hlbint 10.10.0.0/16 10.30.0.1 dmzint
fwint 10.20.0.0/24 10.30.0.2 dmzint
fe default 10.10.0.1 lan0
inclient default 10.10.1.1 lan1
"

want_addrs() { # PLAN NODE -> "iface addr" lines, IPv4 and the IPv6 mirror
	awk -v n="$2" '$1 == n { for (i = 3; i <= NF; i++) print $2, $i }' <<<"$1" |
		while read -r ifc a; do
			echo "$ifc $a"
			echo "$ifc $(lab_v6 "$a")"
		done | sort
}

got_addrs() { # NODE
	in_node "$1" ip -o addr show scope global | awk '{ print $2, $4 }' | sort
}

want_routes() { # PLAN NODE
	awk -v n="$2" '$1 == n { print $2, "via", $3, "dev", $4 }' <<<"$1" |
		while read -r dst via gw dev ifc; do
			echo "$dst via $gw dev $ifc"
			[ "$dst" = default ] && d6=default || d6=$(lab_v6 "$dst")
			echo "$d6 via $(lab_v6 "$gw") dev $ifc"
		done | sort
}

got_routes() { # NODE: the static ones (ip route add gives proto boot)
	{
		in_node "$1" ip -4 route show proto boot
		in_node "$1" ip -6 route show proto boot
	} | awk '{ print $1, $2, $3, $4, $5 }' | sort
}

check_plan() { # ADDRS ROUTES
	local n
	for n in $LAB_NODES; do
		check_eq "$n: addresses (IPv4 and IPv6 mirror)" "$(want_addrs "$1" "$n")" "$(got_addrs "$n")"
		check_eq "$n: static routes" "$(want_routes "$2" "$n")" "$(got_routes "$n")"
	done
}

sysctl_in() { # NODE KEY
	in_node "$1" sysctl -n "$2"
}

host_links_before=$(ip -o link | wc -l)
check "lab up --daemons none" quiet "$LAB" up --prefix "$T_PREFIX" --daemons none
check_plan "$PLAN_ADDRS" "$PLAN_ROUTES"

# R1: nine public addresses, 3 VIPs on the HLB and 3 per node.
public=$(for n in hlbext edge1 edge2; do in_node $n ip -4 -o addr show; done | grep -c ' 203\.0\.113\.')
check_eq "R1: 9 public IPv4 addresses" 9 "$public"
check_eq "IPv6 mirror spelled as PLAN.md says" "2001:db8:203:0:113::23/80 2001:db8:10:10::10/80" \
	"$(in_node edge1 ip -o addr show to 2001:db8:203:0:113::23 | awk '{print $4}') $(in_node fe ip -o addr show to 2001:db8:10:10::10 | awk '{print $4}')"
for n in edge1 edge2; do
	check "R2: $n reaches the Internet via 203.0.113.10" \
		grep -q 'via 203.0.113.10 dev edgeext' <<<"$(in_node $n ip route get 198.51.100.10)"
	check "R3: $n reaches 10.10.1.0/24 via 10.20.0.1" \
		grep -q 'via 10.20.0.1 dev edgeint' <<<"$(in_node $n ip route get 10.10.1.50)"
	check "R3: $n has no other internal route (10.99.0.1 leaves outside)" \
		grep -q 'dev edgeext' <<<"$(in_node $n ip route get 10.99.0.1)"
	check_eq "R3: $n does not forward (IPv4, IPv6)" "0 0" \
		"$(sysctl_in $n net.ipv4.ip_forward) $(sysctl_in $n net.ipv6.conf.all.forwarding)"
done
for n in fwext hlbext hlbint fwint; do
	check_eq "$n forwards (IPv4, IPv6)" "1 1" \
		"$(sysctl_in $n net.ipv4.ip_forward) $(sysctl_in $n net.ipv6.conf.all.forwarding)"
done
check_eq "DAD off, no tentative address anywhere" "" \
	"$(for n in $LAB_NODES; do in_node $n ip -6 addr show tentative; done)"
check_eq "edge1 interfaces have accept_dad 0" "0 0" \
	"$(sysctl_in edge1 net.ipv6.conf.edgeext.accept_dad) $(sysctl_in edge1 net.ipv6.conf.edgeint.accept_dad)"
check_eq "host namespace has no new link" "$host_links_before" "$(ip -o link | wc -l)"
check_eq "sw holds the 7 segment bridges" "dmzext dmzint edgeext edgeint inet lan0 lan1" \
	"$(in_node sw ip -o link show type bridge | awk -F': ' '{print $2}' | sort | tr '\n' ' ' | sed 's/ $//')"
check "down" quiet "$LAB" down --prefix "$T_PREFIX"
check "nothing of the lab is left" lab_is_gone

# The lab faults (PLAN.md): M2 edges' gateway is fwext's leg on the edge
# segment; M7 only 10.10.0.0/24; M13 the client sits in 203.0.113.0/24.
# M1 is the HLB's: only stored.
check "lab up --fault M2,M7 --fault M13 --fault M1" \
	quiet "$LAB" up --prefix "$T_PREFIX" --daemons none --fault M2,M7 --fault M13 --fault M1
FAULT_ADDRS=$(sed -e 's/^client inet 198.51.100.10\/24$/client edgeext 203.0.113.50\/24/' <<<"$PLAN_ADDRS"
	echo "fwext edgeext 203.0.113.1/32")
FAULT_ROUTES=$(sed -e 's/^client default 198.51.100.1 inet$/client default 203.0.113.10 edgeext/' \
	-e 's/^\(edge[12]\) default 203.0.113.10/\1 default 203.0.113.1/' \
	-e 's/^\(edge[12]\) 10.10.0.0\/16/\1 10.10.0.0\/24/' <<<"$PLAN_ROUTES")
check_plan "$FAULT_ADDRS" "$FAULT_ROUTES"
check_eq "faults stored for the HLB" "M1 M2 M7 M13" "$(tr '\n' ' ' <"/run/edgelab/$T_PREFIX/faults" | sed 's/ $//')"
check "M7: edge1 has no route to 10.10.1.50 on the inside" \
	not grep -q 'dev edgeint' <<<"$(in_node edge1 ip route get 10.10.1.50)"
check "down" quiet "$LAB" down --prefix "$T_PREFIX"
check "nothing of the lab is left" lab_is_gone
lib_exit
