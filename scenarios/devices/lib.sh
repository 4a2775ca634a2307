# shellcheck shell=bash
# scenarios/devices/lib.sh: what every device made of namespaces shares
# (scenarios/vips/hlb-device.sh, scenarios/devices/*/device.sh): two
# namespaces of the device's own, P-vdx (external: dmzext, edgeext) and
# P-vdi (internal: edgeint, dmzint), addressed as the lab's HLB nodes are
# (netns/PLAN.md), IPv6 mirrors included, and wired into lab P with
# scenarios/wire-device. What runs in them is the device's business.
# Sourced; needs ROOT (the repository) and P (the lab's prefix).

DEV_X=$P-vdx DEV_I=$P-vdi # the device's two halves: external and internal

dev_v6() { # the lab's IPv6 mirror of an IPv4 address/len (netns/PLAN.md)
	awk -F'[./]' '{ printf "2001:db8:%d:%d:%d::%d/%d\n", $1, $2, $3, $4, 32 + 2 * $5 }' <<<"$1"
}

dev_addr() { # NS IFNAME A.B.C.D/LEN...: each address and its IPv6 mirror
	local ns=$1 ifn=$2 a
	shift 2
	for a; do
		ip -n "$ns" addr add "$a" dev "$ifn"
		ip -n "$ns" addr add "$(dev_v6 "$a")" dev "$ifn" nodad
	done
}

dev_ns() { # NAME: a namespace set up like a router appliance
	ip netns add "$1"
	ip netns exec "$1" sh -c 'sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0'
	ip -n "$1" link set lo up
}

# dev_up: both namespaces, wired in place of hlbext and hlbint, with the
# HLB nodes' addresses, the VIPs and their routes.
dev_up() {
	dev_ns "$DEV_X"
	dev_ns "$DEV_I"
	DEVICE_EXT_DMZ=netns:$DEV_X:dmzext DEVICE_EXT_EDGE=netns:$DEV_X:edgeext \
		DEVICE_INT_EDGE=netns:$DEV_I:edgeint DEVICE_INT_DMZ=netns:$DEV_I:dmzint "$ROOT/scenarios/wire-device" up
	dev_addr "$DEV_X" dmzext 192.0.2.2/24
	dev_addr "$DEV_X" edgeext 203.0.113.10/24 203.0.113.11/24 203.0.113.12/24
	ip -n "$DEV_X" route add default via 192.0.2.1
	ip -n "$DEV_X" -6 route add default via 2001:db8:192:0:2::1
	dev_addr "$DEV_I" edgeint 10.20.0.1/24 10.20.0.10/24
	dev_addr "$DEV_I" dmzint 10.30.0.2/24
	ip -n "$DEV_I" route add 10.10.0.0/16 via 10.30.0.1
	ip -n "$DEV_I" -6 route add 2001:db8:10:10::/64 via 2001:db8:10:30::1
}

# dev_stop PIDFILE...: each process ended (TERM, then up to 5 s).
dev_stop() {
	local f p
	for f; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
	for f; do
		p=$(cat "$f" 2>/dev/null) || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
}

# dev_down: the wiring and both namespaces gone.
dev_down() {
	"$ROOT/scenarios/wire-device" down
	ip netns del "$DEV_X" 2>/dev/null || true
	ip netns del "$DEV_I" 2>/dev/null || true
}
