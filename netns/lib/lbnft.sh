# lib/lbnft.sh: --lb nft, the lab's services on the kernel's nftables in
# hlbext and hlbint, without hlb (SPEC section 7). `lbgen nft` makes the
# ruleset: per service a dnat map slot -> real (numgen for rr/leastconn,
# jhash on the source address for affinity), snat to the VIP, R25 outbound;
# this file keeps the maps right. State in $LAB_STATE/lbnft/: SIDE.svc (the
# services, `lbgen svc`), SIDE.health (SERVICE REAL up|down, the monitor's
# view), SIDE.admin (SERVICE REAL enabled|disabled|drain, `lab hlb`),
# SIDE.beat (touched every second by the monitor). With N reals a map
# has N slots; slot k goes to live real k mod (number of live reals), so an
# affinity client of a live real keeps it when another real fails.
#
# The health controller is lab-lbmon (lbmon.c), one per HLB namespace,
# started and stopped like any daemon: it probes the reals and, on a change,
# writes SIDE.health and runs `bash lbnft.sh apply` (the end of this file).

LBNFT_TABLE="inet edgelab_lb"

# lbnft_apply DIR SIDE [NS]: rewrites every map from health and admin in
# one nft transaction; flows of a real that is no longer live for a
# service (down or disabled; not drained) are removed with lab-ctflush.
# Under M15 the clients pinned to a real that takes no new flows (down,
# disabled or drained) are let go, as hlb moves a pin off such a real.
# Callers hold DIR/SIDE.lock.
lbnft_apply() {
	local dir=$1 side=$2 ns=${3:-} bin=${LBNFT_BIN:-$LAB_BIN} nft=(nft) marks pins=0
	[ -n "$ns" ] && nft=(ip netns exec "$ns" nft)
	grep -qx M15 "$dir/../faults" 2>/dev/null && pins=1
	awk -v table="$LBNFT_TABLE" -v cmds="$dir/$side.cmds" -v pins=$pins '
		FILENAME ~ /health$/ { h[$1 " " $2] = $3; next }
		FILENAME ~ /admin$/ { a[$1 " " $2] = $3; next }
		{
			n = split($15, r, ","); live = 0
			for (i = 1; i <= n; i++) {
				split(r[i], x, "=")
				k = $2 " " x[1]
				if (h[k] != "down" && a[k] == "enabled") { l[live++] = x[2]; continue }
				if (h[k] == "down" || a[k] == "disabled") print 16 * $1 + i - 1
				if (pins && $8 == "source") {
					set = "p_" $2 "_" x[1]; gsub(/-/, "_", set)
					print "flush set " table " " set > cmds
				}
			}
			print "flush map " table " " $14 > cmds
			if (!live) next
			s = ""
			for (i = 0; i < n; i++) s = s (i ? ", " : "") i " : " l[i % live]
			print "add element " table " " $14 " { " s " }" > cmds
		}' "$dir/$side.health" "$dir/$side.admin" "$dir/$side.svc" >"$dir/$side.flush"
	"${nft[@]}" -f "$dir/$side.cmds" || return 1
	marks=$(<"$dir/$side.flush")
	[ -n "$marks" ] && [ -x "$bin/lab-ctflush" ] || return 0
	# shellcheck disable=SC2086 # one mark per word
	if [ -n "$ns" ]; then ip netns exec "$ns" "$bin/lab-ctflush" $marks; else "$bin/lab-ctflush" $marks; fi
}

# lbnft_start: ruleset, initial state (every real up and enabled, as hlb
# starts), maps, then one controller per HLB namespace; both sides at once.
lbnft_start() {
	lab_bin lab-lbmon >/dev/null && lab_bin lab-ctflush >/dev/null ||
		lab_die "--lb nft: $LAB_BIN/lab-lbmon or lab-ctflush is not built"
	mkdir -p "$LAB_STATE/lbnft"
	lab_each "ext int" lbnft_start_side
}

lbnft_start_side() { # SIDE
	local side=$1 dir=$LAB_STATE/lbnft ns=$LAB_PREFIX-hlb$1
	"$LAB_NETNS/lbgen" svc $side >"$dir/$side.svc"
	# M15 is the one fault the nft ruleset itself carries (lbgen.awk).
	LBGEN_FAULTS=$(tr '\n' ' ' <"$LAB_STATE/faults") "$LAB_NETNS/lbgen" nft $side >"$dir/$side.nft"
	ip netns exec "$ns" nft -f "$dir/$side.nft"
	awk '{ n = split($15, r, ","); for (i = 1; i <= n; i++) { split(r[i], x, "=")
		print $2, x[1], "up" > (d "/" s ".health"); print $2, x[1], "enabled" } }' \
		d="$dir" s=$side "$dir/$side.svc" >"$dir/$side.admin"
	lbnft_apply "$dir" $side "$ns"
	lab_daemon_start lbnft-$side hlb$side "$LAB_BIN/lab-lbmon" $side "$dir" \
		bash "$LAB_NETNS/lib/lbnft.sh" apply $side "$dir" "$LAB_BIN"
}

# lbnft_json SIDE: `list --json`, the device contract's JSON Lines
# (scenarios/README.md, lb/ctl_json.h), version 1. The idle timeouts are
# conntrack's in the HLB node (a ct timeout policy there shortens TCP's);
# affinity_timeout is left out: a hash on the source address has none to
# give (it holds while the reals stay).
lbnft_json() {
	local side=$1 dir=$LAB_STATE/lbnft ns=$LAB_PREFIX-hlb$1 tcp udp pol
	tcp=$(ip netns exec "$ns" sysctl -n net.netfilter.nf_conntrack_tcp_timeout_established)
	udp=$(ip netns exec "$ns" sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream)
	pol=$(ip netns exec "$ns" nft list ct timeouts 2>/dev/null | grep -o 'established *: *[0-9]*' | grep -o '[0-9]*$' | sort -n | head -1) || true # none: no policy
	[ -n "$pol" ] && [ "$pol" -lt "$tcp" ] && tcp=$pol
	awk -v tcp="$tcp" -v udp="$udp" '
		FILENAME ~ /health$/ { h[$1 " " $2] = $3; next }
		FILENAME ~ /admin$/ { a[$1 " " $2] = $3; next }
		{
			printf "{\"edgelab-lb-ctl\":1,\"service\":\"%s\",\"vip\":\"%s\",\"port\":%d,\"proto\":\"%s\",\"mode\":\"%s\",\"scheduler\":\"%s\"", \
				$2, $4, $5, $6, $7, $8 == "source" ? "source-hash" : "numgen"
			if ($8 != "source") printf ",\"affinity_timeout\":null"
			printf ",\"tcp_idle\":%d,\"udp_idle\":%d,\"monitor\":{\"kind\":\"%s\"", tcp, udp, $9
			if ($9 != "none") printf ",\"interval_ms\":%d,\"timeout_ms\":%d,\"rise\":%d,\"fall\":%d", $10, $11, $12, $13
			printf "},\"reals\":["
			n = split($15, r, ",")
			for (i = 1; i <= n; i++) {
				split(r[i], x, "=")
				k = $2 " " x[1]
				st = a[k] == "disabled" ? "disabled" : a[k] == "drain" ? "draining" : h[k] == "down" ? "down" : "up"
				printf "%s{\"name\":\"%s\",\"addr\":\"%s\",\"port\":%d,\"state\":\"%s\",\"weight\":1}", (i > 1 ? "," : ""), x[1], x[2], $5, st
			}
			print "]}"
		}' "$dir/$side.health" "$dir/$side.admin" "$dir/$side.svc"
}

# lbnft_ctl SIDE list [--json]|stats|enable|disable|drain SERVICE REAL:
# hlb ctl's commands and output format, but `new-flows` (from the
# ruleset's counters) where hlb counts active flows; stats is list.
lbnft_ctl() {
	local side=$1 cmd=${2:-} dir=$LAB_STATE/lbnft state
	[ -f "$dir/$side.svc" ] || lab_die "lab $LAB_PREFIX: no nft load balancer state in $dir"
	if [ "$cmd" = list ] && [ "${3:-}" = --json ] && [ $# -eq 3 ]; then
		lbnft_json "$side"
		return
	fi
	case $cmd in
	list | stats) [ $# -eq 2 ] || lab_die "usage: lab hlb $side $cmd" ;;
	enable | disable | drain) [ $# -eq 4 ] || lab_die "usage: lab hlb $side $cmd SERVICE REAL" ;;
	*) lab_die "unknown command '$cmd' (list, stats, enable, disable, drain SERVICE REAL)" ;;
	esac
	if [ $cmd = list ] || [ $cmd = stats ]; then
		ip netns exec "$LAB_PREFIX-hlb$side" nft list counters table $LBNFT_TABLE |
			awk '/counter/ { c = $2 } /packets/ { print c, $2, $4 }' >"$dir/$side.counters.$$"
		awk '
			FILENAME ~ /counters/ { p[$1] = $2; next }
			FILENAME ~ /health$/ { h[$1 " " $2] = $3; next }
			FILENAME ~ /admin$/ { a[$1 " " $2] = $3; next }
			{
				id = $14; sub(/^m_/, "", id)
				v = $3 == 6 ? "[" $4 "]" : $4
				printf "service %s %s:%s/%s mode %s scheduler %s monitor %s", $2, v, $5, $6, $7, $8 == "source" ? "source" : "rr", $9
				if ($9 != "none") printf " interval %dms rise %d fall %d", $10, $12, $13
				printf " new-flows %d\n", p["c_" id]
				n = split($15, r, ",")
				for (i = 1; i <= n; i++) {
					split(r[i], x, "=")
					k = $2 " " x[1]
					printf "  real %s %s port %s weight 1 admin %s health %s new-flows %d\n",
						x[1], x[2], $5, a[k], h[k] == "down" ? "down" : "up", p["n_" id "_" x[1]]
				}
			}' "$dir/$side.counters.$$" "$dir/$side.health" "$dir/$side.admin" "$dir/$side.svc"
		rm -f "$dir/$side.counters.$$"
		return
	fi
	state=$cmd
	[ $cmd = enable ] && state=enabled
	[ $cmd = disable ] && state=disabled
	(
		flock -w 5 9 || lab_die "lab $LAB_PREFIX: $dir/$side.lock is held"
		awk -v s="$3" -v r="$4" -v st="$state" 'BEGIN { found = 0 }
			FILENAME ~ /svc$/ { split($15, x, ","); for (i in x) { split(x[i], y, "="); addr[$2 " " y[1]] = y[2] }; next }
			($1 == s || s == "*") && ($2 == r || addr[$1 " " $2] == r) { $3 = st; found++ }
			{ print }
			END { print found > "/dev/stderr"; if (!found) exit 1 }' "$dir/$side.svc" "$dir/$side.admin" \
			2>"$dir/$side.found" >"$dir/$side.admin.new" || lab_die "no service '$3' with real '$4' on hlb$side"
		mv "$dir/$side.admin.new" "$dir/$side.admin"
		lbnft_apply "$dir" $side "$LAB_PREFIX-hlb$side"
	) 9>"$dir/$side.lock" || exit 1
	echo "$state $4 in $(<"$dir/$side.found") service(s)"
}

# `bash lbnft.sh apply SIDE DIR BIN`: what lab-lbmon runs after it wrote a
# new SIDE.health, inside the HLB namespace.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	[ "${1:-}" = apply ] && [ $# -eq 4 ] || { echo "usage: lbnft.sh apply SIDE DIR BIN" >&2; exit 2; }
	LBNFT_BIN=$4
	(
		flock -w 5 9 || exit 1
		lbnft_apply "$3" "$2"
	) 9>"$3/$2.lock"
fi
