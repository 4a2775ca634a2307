# tests/lib/hlbtopo.sh: the three namespaces the hlb integration tests
# (hlb_nat.sh, hlb_alloc.sh) run hlb's TUN engine in (sourced):
#   cli (c0 198.51.100.10) -- (l0 198.51.100.1) lb (l1 203.0.113.10, VIP .12)
#     -- (s0 203.0.113.x) srv
# cli's gateway is 198.51.100.1, srv's 203.0.113.10. With -6 the same
# again in IPv6: cli 2001:db8:5::10, lb 2001:db8:5::1 and 2001:db8:3::10
# with the VIP 2001:db8:3::12, srv 2001:db8:3::23.
#
# A test sources this, calls topo_init NAME BINARY... (lib_init, root, a
# TUN device, the binaries, and the three namespaces from setup_ns: they
# and all that runs in them go at exit) and topo_up. It gives CLI LB SRV
# and SOCK besides lib.sh's BIN, T_TMP, check, in_ns, slowwait; ctl talks
# to hlb. hlb is a test's own to configure and start.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

topo_init() { # NAME BINARY...
	lib_init "$1"
	shift
	need_tun
	need_bin "$@"
	setup_ns CLI LB SRV
	SOCK=$T_TMP/hlb.sock
}

ctl() { "$BIN/hlb" ctl --socket "$SOCK" "$@"; }

topo_up() { # [-6] HOST...: the namespaces, wired; srv holds 203.0.113.HOST each
	local v6='' h
	[ "${1:-}" = -6 ] && { v6=1; shift; }
	ip link add c0 netns "$CLI" type veth peer name l0 netns "$LB" &&
		ip link add s0 netns "$SRV" type veth peer name l1 netns "$LB" || return 1
	in_ns "$CLI" ip addr add 198.51.100.10/24 dev c0
	in_ns "$LB" ip addr add 198.51.100.1/24 dev l0
	in_ns "$LB" ip addr add 203.0.113.10/24 dev l1
	in_ns "$LB" ip addr add 203.0.113.12/32 dev l1
	for h in "$@"; do in_ns "$SRV" ip addr add "203.0.113.$h/24" dev s0; done
	in_ns "$CLI" ip link set c0 up
	in_ns "$LB" ip link set l0 up
	in_ns "$LB" ip link set l1 up
	in_ns "$SRV" ip link set s0 up
	in_ns "$CLI" ip route add default via 198.51.100.1
	in_ns "$SRV" ip route add default via 203.0.113.10
	[ -n "$v6" ] || return 0
	# IPv6 mirrors it (R28); nodad so the addresses work at once.
	in_ns "$CLI" ip addr add 2001:db8:5::10/64 dev c0 nodad
	in_ns "$LB" ip addr add 2001:db8:5::1/64 dev l0 nodad
	in_ns "$LB" ip addr add 2001:db8:3::10/64 dev l1 nodad
	in_ns "$LB" ip addr add 2001:db8:3::12/128 dev l1 nodad
	in_ns "$SRV" ip addr add 2001:db8:3::23/64 dev s0 nodad
	in_ns "$CLI" ip route add default via 2001:db8:5::1
	in_ns "$SRV" ip route add default via 2001:db8:3::10
}
