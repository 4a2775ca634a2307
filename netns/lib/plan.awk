# lib/plan.awk: plan.tsv -> the files that build one lab (see lib/plan.sh).
# Variables: dir, prefix, faults (" M2 M7 "), nodes. Needs lib/v6.awk.
function applies(w,   m) {
	if (w == "*") return 1
	if (substr(w, 1, 1) == "!") return index(faults, " " substr(w, 2) " ") == 0
	return index(faults, " " w " ") > 0
}
function out(node, line) { print line > (dir "/" node ".batch") }
function sysctl(node, kv) { print kv > (dir "/" node ".sysctl") }
BEGIN {
	n = split("sw " nodes, ns, " ")
	for (i = 1; i <= n; i++) {
		print "netns add " prefix "-" ns[i] > (dir "/netns.batch")
		out(ns[i], "link set lo up")
		# DAD off before any link exists here (accept_dad is the max of
		# "all" and the interface), so no address is ever tentative.
		sysctl(ns[i], "net.ipv6.conf.all.accept_dad=0")
		sysctl(ns[i], "net.ipv6.conf.default.accept_dad=0")
		# No reverse-path filter: the lab must show asymmetric paths
		# (M2) to the scenarios, not hide them in the kernel.
		sysctl(ns[i], "net.ipv4.conf.all.rp_filter=0")
		sysctl(ns[i], "net.ipv4.conf.default.rp_filter=0")
	}
	# The switch carries frames only: no addresses, no IPv6 chatter
	# from its ports in the captures.
	sysctl("sw", "net.ipv6.conf.all.disable_ipv6=1")
	sysctl("sw", "net.ipv6.conf.default.disable_ipv6=1")
}
# IPv6 addresses of one interface go in reverse order: the kernel prefers
# the newest IPv6 address as a source but the oldest IPv4 one, so this makes
# the same address (the first in plan.tsv) the default source in both.
function v6_flush(   i) {
	for (i = nv6; i >= 1; i--) out(v6node, v6line[i])
	nv6 = 0
}
/^#/ || NF < 4 || !applies($1) { next }
!($2 == "addr" && $3 == v6node && $4 == v6ifc) { v6_flush() }
$2 == "seg" {
	out("sw", "link add " $4 " type bridge mcast_snooping 0")
	out("sw", "link set " $4 " up")
}
$2 == "link" {
	out("sw", "link add " $3 "-" $4 " type veth peer name " $4 " netns " prefix "-" $3)
	out("sw", "link set " $3 "-" $4 " master " $4 " up")
	out($3, "link set " $4 " up")
}
$2 == "addr" {
	out($3, "addr add " $5 " dev " $4)
	v6node = $3; v6ifc = $4
	v6line[++nv6] = "addr add " v6($5) " dev " $4 " nodad"
}
$2 == "route" {
	out($3, "route add " $4 " via " $5)
	out($3, "route add " ($4 == "default" ? "::/0" : v6($4)) " via " v6($5))
}
$2 == "role" {
	f = $4 == "router" ? 1 : 0
	# Routers forward; edges and hosts never do (R3: the edge does
	# not route between its interfaces).
	sysctl($3, "net.ipv4.ip_forward=" f)
	sysctl($3, "net.ipv6.conf.all.forwarding=" f)
	# Routers send no ICMP redirects and nobody obeys one: a packet
	# must keep the path the plan gives it (the HLB hairpin in M13).
	sysctl($3, "net.ipv4.conf.all.send_redirects=0")
	sysctl($3, "net.ipv4.conf.all.accept_redirects=0")
	sysctl($3, "net.ipv6.conf.all.accept_redirects=0")
}
END { v6_flush() }
