#!/usr/bin/env bash
# S17: Address plan: 9 public addresses (N+1), the edges' gateways (R2) and persistent internal routes (R3)
# seed: "your public IP address requirements are N+1 ... Where you have 2 Edge servers in the pool, this results in 9 public IP addresses, where 3 are used for the HLB VIPs, and one for each Edge server interface"
# seed: "The HLB Access Edge service VIP will act as the default gateway for each Edge server interface"
# seed: "Internal edge to internal servers and clients must be routed, and persistent routes are set for all internal networks that host servers or clients"
# spec: R1, R2, R3
# segments:
# asserts: the edge segment 203.0.113.0/24 holds exactly the 3 VIPs and the edges' 6 addresses, and the VIPs answer there; each edge's default route (IPv4 and IPv6) is via the Access Edge VIP, on the external interface; each edge reaches 10.10.0.0/24 and 10.10.1.0/24 via the internal HLB side, has no default route on the internal interface, and does not forward
# catches: M2 (edge gateway not the HLB), M7 (no route to 10.10.1.0/24), M13 (a client on the edges' subnet)
. "$(dirname "$0")/lib.sh"
sc_init S17

EDGE_ADDRS="203.0.113.21 203.0.113.22 203.0.113.23 203.0.113.31 203.0.113.32 203.0.113.33"

vip_resolved() {
	ip -n "$SC_PREFIX-edge1" neigh show "$1" dev edgeext | grep -q lladdr
}

# R1: who holds an address in 203.0.113.0/24 among the lab's nodes (in
# external mode the VIPs live in the vendor's device: they are counted
# from the vips file and must answer on the segment).
check_nine_public_addresses() {
	local n a extra='' vips="$VIP_ACCESS $VIP_WEBCONF $VIP_AV" held=() node
	for node in client partner fwext edge1 edge2 hlbint fwint fe inclient $([ "$SC_LB" = external ] || echo hlbext); do
		for a in $(ip -n "$SC_PREFIX-$node" -4 -o addr show 2>/dev/null | awk '{ split($4, p, "/"); print p[1] }'); do
			[[ $a == 203.0.113.* ]] || continue
			held+=("$a")
			case " $vips $EDGE_ADDRS " in
			*" $a "*) ;;
			*) extra+=" $a ($node)" ;;
			esac
		done
	done
	# Someone on the segment answers ARP for each VIP (a datagram to the
	# discard port makes edge1 ask).
	for a in $vips; do
		in_node edge1 bash -c "echo > /dev/udp/$a/9" 2>/dev/null
		slowwait 2 vip_resolved "$a" ||
			{ sc_fail "nobody on the edge segment answers ARP for the VIP $a"; return 1; }
	done
	n=$(printf '%s\n' "${held[@]}" $([ "$SC_LB" = external ] && echo "$vips") | sort -u | wc -l)
	[ -z "$extra" ] && [ "$n" -eq 9 ] && return 0
	if [ -n "$extra" ]; then
		sc_fail "the public edge subnet 203.0.113.0/24 has $n addresses, expected 9 (3 VIPs and 6 server interfaces, N+1); neither VIP nor server interface:$extra, a node on the edges' own subnet whose traffic bypasses the HLB"
	else
		sc_fail "the public edge subnet 203.0.113.0/24 has $n addresses, expected 9 (3 VIPs and 6 server interfaces, N+1)"
	fi
}

# R2: each edge's default route is via the Access Edge VIP.
gateway() {
	local edge=$1 r4 r6 gw
	r4=$(ip -n "$SC_PREFIX-$edge" -4 route show default)
	gw=$(awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' <<<"$r4")
	sc_assert_eq "$gw" "$GW_EXT" \
		"$edge's default gateway is ${gw:-none} ($(sc_node_of "${gw:-x}")), expected the HLB's Access Edge VIP $GW_EXT (R2): answers would not return through the HLB" || return 1
	[[ $r4 == *" dev edgeext"* ]] ||
		{ sc_fail "$edge's default route is '$r4', expected it on the external interface (edgeext)"; return 1; }
	r6=$(ip -n "$SC_PREFIX-$edge" -6 route show default)
	gw=$(awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' <<<"$r6")
	sc_assert_eq "$gw" "$(sc_v6 "$GW_EXT")" \
		"$edge's IPv6 default gateway is ${gw:-none}, expected the HLB's Access Edge VIP $(sc_v6 "$GW_EXT") (R2)"
}

check_edge1_gateway() { gateway edge1; }
check_edge2_gateway() { gateway edge2; }

# R3: persistent routes to every internal subnet via the internal HLB
# side; no default route inside; no forwarding between the interfaces.
internal_routes() {
	local edge=$1 host r def fwd
	for host in 10.10.0.10 10.10.1.50; do
		r=$(ip -n "$SC_PREFIX-$edge" -4 route get "$host" 2>&1 | head -n 1)
		[[ $r == *"via $GW_INT dev edgeint"* ]] ||
			{ sc_fail "$edge routes $host ($(sc_node_of "$host")'s subnet) as '${r% uid*}', expected via $GW_INT on the internal interface: no persistent route to that internal subnet (R3)"; return 1; }
	done
	def=$(ip -n "$SC_PREFIX-$edge" route show default dev edgeint 2>/dev/null; ip -n "$SC_PREFIX-$edge" -6 route show default dev edgeint 2>/dev/null)
	[ -z "$def" ] || { sc_fail "$edge has a default route on its internal interface ($def); R3 wants only persistent routes there"; return 1; }
	fwd=$(in_node "$edge" sysctl -n net.ipv4.ip_forward)
	sc_assert_eq "$fwd" 0 "$edge forwards IPv4 (ip_forward=$fwd): an edge must not route between its internal and external interfaces (R3)"
}

check_edge1_internal_routes() { internal_routes edge1; }
check_edge2_internal_routes() { internal_routes edge2; }

sc_main check_nine_public_addresses check_edge1_gateway check_edge2_gateway check_edge1_internal_routes check_edge2_internal_routes
