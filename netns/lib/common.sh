# lib/common.sh: names, paths and checks every lab command shares.
# Sourced by netns/lab; expects LAB_ROOT (the repository) to be set.

LAB_NODES="client partner fwext hlbext edge1 edge2 hlbint fwint fe inclient"
# sw holds the segments' bridges, so no lab link ever touches the host.
LAB_NAMESPACES="sw $LAB_NODES"
LAB_SEGMENTS="inet dmzext edgeext edgeint dmzint lan0 lan1"
LAB_FAULTS="M1 M2 M3 M4 M5 M6 M7 M8 M9 M10 M11 M12 M13"
LAB_FAULTS_APPLIED="M2 M7 M8 M13" # the rest are the HLB's or the relay's
LAB_DEFAULT_PREFIX=el
LAB_RUN=${EDGELAB_RUN:-/run/edgelab}
LAB_BIN=${EDGELAB_BIN:-$LAB_ROOT/build/bin}

lab_die() {
	echo "lab: $*" >&2
	exit 1
}

# A prefix is 1-8 of [a-z0-9]: namespace names stay short, and a vendor
# wiring a device to a segment can name a host-side link PREFIX+SEGMENT
# (at most 15 characters) without clashing with another lab.
lab_prefix_check() {
	local p=$1
	[[ $p =~ ^[a-z0-9]{1,8}$ ]] ||
		lab_die "bad prefix '$p': use 1-8 characters from [a-z0-9]"
}

lab_ns() { # NODE -> the namespace name of that node in this lab
	echo "$LAB_PREFIX-$1"
}

lab_node_check() {
	local n
	for n in $LAB_NAMESPACES; do
		[ "$n" = "$1" ] && return 0
	done
	lab_die "unknown node '$1' (nodes: $LAB_NAMESPACES)"
}

lab_segment_check() {
	local s
	for s in $LAB_SEGMENTS; do
		[ "$s" = "$1" ] && return 0
	done
	lab_die "unknown segment '$1' (segments: $LAB_SEGMENTS)"
}

lab_need_root() {
	[ "$(id -u)" -eq 0 ] || lab_die "must run as root (it builds network namespaces); try: sudo $0 $*"
}

lab_need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			lab_die "missing tool '$t' (Debian: apt-get install iproute2 nftables tcpdump openssl)"
	done
}

# The lab's namespaces that exist right now (a half-built lab has some).
lab_ns_existing() {
	local n
	for n in $LAB_NAMESPACES; do
		[ -e "/run/netns/$(lab_ns "$n")" ] && echo "$n"
	done
	return 0
}

lab_state_get() { # KEY -> value from the state's env file, or empty
	[ -f "$LAB_STATE/env" ] || return 0
	sed -n "s/^$1=//p" "$LAB_STATE/env" | tr -d "'"
}

# IPv6 mirror of an IPv4 address or prefix (PLAN.md): a.b.c.d/n becomes
# 2001:db8:a:b:c::d, the decimal numbers written as they are; each octet
# takes one 16-bit group, so /16 becomes /64, /24 /80 and /32 /128.
lab_v6() {
	local a=${1%/*} len= p
	[ "$a" != "$1" ] && len=${1#*/}
	IFS=. read -r -a p <<<"$a"
	a="2001:db8:${p[0]}:${p[1]}:${p[2]}::${p[3]}"
	[ "${p[3]}" = 0 ] && a="2001:db8:${p[0]}:${p[1]}:${p[2]}::"
	if [ "$len" = 32 ]; then a="$a/128"; elif [ -n "$len" ]; then a="$a/$((32 + 2 * len))"; fi
	echo "$a"
}
