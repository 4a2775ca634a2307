# shellcheck shell=bash
# scenarios/lib/lb.sh: what the firewalls and the load balancer say
# (counters, control, timeouts). Sourced by scenarios/lib.sh.

# ---------------------------------------------------------------- firewalls

# sc_counter FW NAME: packets the firewall's named counter counted ("" if
# the ruleset has no such counter).
sc_counter() {
	in_node "$1" nft list counter inet edgelab "$2" 2>/dev/null | awk '/packets/ { print $2; exit }'
}

# sc_counters FW: "NAME PACKETS" for every named counter of the firewall.
sc_counters() {
	in_node "$1" nft list counters table inet edgelab 2>/dev/null |
		awk '$1 == "counter" { n = $2 } /packets/ { print n, $2 }'
}

# ---------------------------------------------------------------- the HLB

# sc_hlb ext|int CTL-ARGS...: the balancer's control (list, stats, drain,
# disable, enable). For external balancers the vips file's ctl-ext/ctl-int
# command, if any; returns 2 when there is no way to ask.
sc_hlb() {
	local side=$1 cmd
	shift
	case $SC_LB in
	external)
		[ "$side" = ext ] && cmd=$VIPS_CTL_EXT || cmd=$VIPS_CTL_INT
		[ -n "$cmd" ] || return 2
		(cd "$SC_ROOT" && LAB_PREFIX=$SC_PREFIX timeout 10 bash -c "$cmd $(printf '%q ' "$@")") ;;
	*)
		timeout 10 "$LAB" hlb --prefix "$SC_PREFIX" "$side" "$@" ;;
	esac
}

# sc_lb_json ext|int: the balancer's `ctl list --json` (the device
# contract, scenarios/README.md), checked with jq: JSON Lines, every
# object of version 1. Sets SC_LB_JSON; when there is none, returns 1 with
# SC_LB_WHY saying why (no ctl, a ctl that fails or exits 2, not JSON, a
# version this suite does not read), for the check's "not reported" line.
SC_LB_CTL_VERSION=1
sc_lb_json() {
	local side=$1 out rc err=$SC_OUT/ctl-$1.err bad
	SC_LB_JSON='' SC_LB_WHY=''
	out=$(sc_hlb "$side" list --json 2>"$err") && rc=0 || rc=$?
	case $rc in
	0) ;;
	2) SC_LB_WHY="the $side balancer's control cannot list (exit 2$([ -s "$err" ] && echo ": $(tail -n 1 "$err")" || echo ": vips file has no ctl-$side"))"
		return 1 ;;
	*) SC_LB_WHY="the $side balancer's 'ctl list --json' failed (exit $rc$([ -s "$err" ] && echo ": $(tail -n 1 "$err")"))"
		return 1 ;;
	esac
	if ! bad=$(jq -r -s --argjson v $SC_LB_CTL_VERSION \
		'if length == 0 then "no service" else map(select(type != "object" or .["edgelab-lb-ctl"] != $v) | (.["edgelab-lb-ctl"]? // "none") | tostring) | unique | join(",") end' <<<"$out" 2>&1); then
		SC_LB_WHY="the $side balancer's 'ctl list --json' is not JSON Lines ($(head -n 1 <<<"$bad"))"
		return 1
	fi
	if [ "$bad" = "no service" ]; then
		SC_LB_WHY="the $side balancer's 'ctl list --json' lists no service"
		return 1
	fi
	if [ -n "$bad" ]; then
		SC_LB_WHY="the $side balancer's 'ctl list --json' gave $bad where this suite reads edgelab-lb-ctl version $SC_LB_CTL_VERSION"
		return 1
	fi
	SC_LB_JSON=$out
}

# sc_lb_field VIP PORT PROTO JQ: that service's value (JQ is a jq filter
# on its object: .monitor.fall) in SC_LB_JSON; nothing when the device
# leaves it out or says null.
sc_lb_field() {
	jq -r --arg v "$1" --argjson p "$2" --arg t "$3" \
		"select(.vip == \$v and .port == \$p and .proto == \$t) | ($4) // empty" <<<"$SC_LB_JSON" 2>/dev/null | head -n 1
}

# sc_tcp_idle ext|int: "SERVICE VIP:PORT/tcp SECONDS" per TCP service of
# the balancer into SC_TCP_IDLE: its TCP idle timeout (R24, M10), from its
# list --json, else the vips file's tcp-idle, else (a kernel balancer of
# the lab's) conntrack's settings. Empty when nothing says; SC_TCP_IDLE_WHY
# then, or when the list did not say, is why.
sc_tcp_idle() {
	local side=$1 out
	SC_TCP_IDLE='' SC_TCP_IDLE_WHY=''
	if sc_lb_json "$side"; then
		SC_TCP_IDLE=$(jq -r 'select(.proto == "tcp" and (.tcp_idle | type) == "number") |
			"\(.service) \(if (.vip | contains(":")) then "[\(.vip)]" else .vip end):\(.port)/tcp \(.tcp_idle)"' <<<"$SC_LB_JSON")
		[ -n "$SC_TCP_IDLE" ] && return 0
		SC_TCP_IDLE_WHY="its list --json gives no tcp_idle for a TCP service"
	else
		SC_TCP_IDLE_WHY=$SC_LB_WHY
	fi
	if [ "$SC_LB" = external ]; then
		[ -n "$VIPS_TCP_IDLE" ] || return 0
		out=$VIPS_TCP_IDLE
		# a number, or a command that prints one
		[[ $out =~ ^[0-9]+$ ]] || out=$(cd "$SC_ROOT" && LAB_PREFIX=$SC_PREFIX timeout 10 bash -c "$out" 2>/dev/null | grep -o '[0-9]*' | head -n 1)
		[ -n "$out" ] && SC_TCP_IDLE="device * $out"
		return 0
	fi
	# A kernel balancer: conntrack's established timeout in the HLB node,
	# or the ct timeout policy the ruleset gives, whichever is shorter.
	local ns=hlb$side sysval pol
	sysval=$(in_node "$ns" sysctl -n net.netfilter.nf_conntrack_tcp_timeout_established 2>/dev/null)
	pol=$(in_node "$ns" nft list ct timeouts 2>/dev/null | grep -o 'established *: *[0-9]*' | grep -o '[0-9]*$' | sort -n | head -1)
	SC_TCP_IDLE=$([ -n "$pol" ] && echo "ct-timeout-policy * $pol"; [ -n "$sysval" ] && echo "conntrack * $sysval")
}

# sc_check_tcp_idle [--observed SECONDS] ext|int VIP...: R24/M10, the
# balancer keeps idle TCP flows of the services on these VIPs at least
# 1800 s (the edge guidance); asked of the balancer, since the normal run
# waits seconds, not half an hour. What it read is said to be read, not
# observed (with --observed, the longest idle gap the scenario saw a flow
# survive on the wire); a balancer that does not say is "not reported by
# the device", which weakens the check to what the wire showed.
sc_check_tcp_idle() {
	local observed='' side list svc vp secs bad='' ok='' n=0 v match from
	if [ "$1" = --observed ]; then observed=$2; shift 2; fi
	side=$1
	shift
	sc_tcp_idle "$side"
	list=$SC_TCP_IDLE
	if [ -z "$list" ]; then
		sc_unreported "the $side balancer's TCP idle timeout on $*: it does not say (${SC_TCP_IDLE_WHY:+$SC_TCP_IDLE_WHY; }vips file: tcp-idle or ctl-$side)${observed:+; on the wire an idle flow survived ${observed} s}"
		return 0
	fi
	while read -r svc vp secs; do
		match=0
		[ "$vp" = "*" ] && match=1
		for v; do [[ $vp == "$(sc_hostport "$v" '')"* ]] && match=1; done
		[ $match = 1 ] || continue
		n=$((n + 1))
		case $svc in
		device) from="the vips file's tcp-idle${SC_TCP_IDLE_WHY:+, since $SC_TCP_IDLE_WHY}" ;;
		conntrack | ct-timeout-policy) from="hlb$side's conntrack settings${SC_TCP_IDLE_WHY:+, since $SC_TCP_IDLE_WHY}" ;;
		*) from="the balancer's list --json" ;;
		esac
		if [ "$secs" -ge 1800 ] 2>/dev/null; then ok+=" $svc ${secs}s,"; else bad+=" $svc ($vp) ${secs}s,"; fi
	done <<<"$list"
	if [ $n -eq 0 ]; then
		sc_unreported "the $side balancer's TCP idle timeout on $*: its list has no TCP service there${observed:+; on the wire an idle flow survived ${observed} s}"
		return 0
	fi
	if [ -n "$bad" ]; then
		sc_fail "the $side HLB times out idle TCP flows too early:${bad%,} (read from $from, not observed); expected at least 1800 s (R24, the edge guidance)"
		return 1
	fi
	sc_unobserved "the $side balancer's TCP idle timeout on $*:${ok%,}, at least 1800 s as R24 asks, from $from; ${observed:+on the wire an idle flow survived ${observed} s, }no run waits 1800 s"
}