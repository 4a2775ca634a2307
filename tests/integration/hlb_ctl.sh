#!/usr/bin/env bash
# hlb_ctl.sh: who may use hlb's control socket, and that hlb never takes
# over another's (issue 11, item 13). hlb runs with --no-routes in
# namespaces of its own (names from tests/lib/hlbtopo.sh; only a TUN in
# each, no links):
#   1. started under umask 000, the socket is mode 0600;
#   2. an unprivileged user (nobody, through setpriv) cannot disable a
#      real: the mode keeps it out;
#   3. with the socket made world-writable, hlb still refuses nobody
#      (SO_PEERCRED) with an error line, the real stays enabled, and
#      stats counts the refusal;
#   4. a second hlb given the same socket path refuses to start with one
#      line and leaves the first one's socket working;
#   5. a stale socket (its hlb killed with SIGKILL) is replaced at start;
#   6. a control client that sends nothing is closed within the idle
#      timeout (default 5 s);
#   7. `list --json` answers JSON Lines (version 1) jq reads, and a
#      drained real's state is "draining" (issue 14);
#   8. without a configured socket, two hlbs in two namespaces each get
#      their own (/run/hlb/NAMESPACE.sock), and `hlb ctl` without
#      --socket finds its namespace's.
# The configs use no key older hlbs lack, so the old behaviour can be
# shown to fail. Exit 0 pass, 77 skip, other fail; the last line sums up.
set -uo pipefail

. "$(dirname "$0")/../lib/hlbtopo.sh"
topo_init hlb_ctl hlb lbecho
need_cmd setpriv jq
S=$SOCK # ctl() talks to it

conf() { # FILE TUN SERVICE [SOCKET]
	{
		[ -n "${4:-}" ] && echo "socket $4"
		echo "tun $2"
		echo "service $3 203.0.113.12:3478/udp"
		echo "	real edge1 203.0.113.23"
		echo "	monitor none"
	} >"$1"
}

start() { # NS CONFIG LOG: hlb in NS; PID is its pid
	ip netns exec "$1" "$BIN/hlb" --config "$2" --no-routes 2>>"$3" &
	PID=$!
}

tun_gone() { ! ip -n "$LB" link show "$1" >/dev/null 2>&1; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
admin_of_edge1() { ctl list | awk '$1 == "real" && $2 == "edge1" { for (i = 3; i < NF; i++) if ($i == "admin") print $(i + 1) }'; }

setup() {
	chmod 755 "$T_TMP" # so that only the socket's own mode keeps nobody out
	conf "$T_TMP/a.conf" hlbc0 av "$S"
	(umask 000; exec ip netns exec "$LB" "$BIN/hlb" --config "$T_TMP/a.conf" --no-routes) \
		2>>"$T_TMP/a.log" &
	PID_A=$!
	slowwait 5 ctl list || { cat "$T_TMP/a.log"; return 1; }
}

check_mode() {
	MODE=$(stat -c %a "$S")
	echo "    mode $MODE (umask 000 at start)"
	[ "$MODE" = 600 ]
}

check_nobody_mode() {
	local out
	out=$(as_nobody "$BIN/hlb" ctl --socket "$S" disable av edge1 2>&1)
	echo "    nobody: $out"
	[ "$(admin_of_edge1)" = enabled ]
}

check_nobody_peercred() {
	local out
	chmod 666 "$S"
	out=$(as_nobody "$BIN/hlb" ctl --socket "$S" disable av edge1 2>&1)
	echo "    nobody, socket 0666: $out"
	REFUSED=$(ctl stats | awk '$1 == "control" { for (i = 2; i < NF; i++) if ($i == "refused") print $(i + 1) }')
	chmod 600 "$S"
	[ "$(admin_of_edge1)" = enabled ] && [[ $out == *"permission denied"* ]] &&
		[ "${REFUSED:-0}" -ge 1 ]
}

check_no_takeover() {
	local rc=0 pid
	conf "$T_TMP/b.conf" hlbc1 other "$S"
	start "$LB" "$T_TMP/b.conf" "$T_TMP/b.log"
	pid=$PID
	# It must exit at once; if it runs, it took the socket: stop it.
	if ! slowwait 3 not_running "$pid"; then
		echo "    second hlb still running"
		kill "$pid"
		wait "$pid" 2>/dev/null
		rc=1
	else
		wait "$pid" && rc=1
	fi
	echo "    second hlb said: $(tail -n 1 "$T_TMP/b.log")"
	[ "$(wc -l <"$T_TMP/b.log")" -eq 1 ] || rc=1
	grep -q 'is live' "$T_TMP/b.log" || rc=1
	# The first one still answers there, as itself.
	ctl list | grep -q '^service av ' || { echo "    first hlb lost its socket"; rc=1; }
	return $rc
}

check_stale() { # (starts a fresh hlb either way, for the checks after it)
	local rc=0
	kill -9 "$PID_A"
	wait "$PID_A" 2>/dev/null
	[ -S "$S" ] || { echo "    no stale socket left"; rc=1; }
	# The kernel lets go of the dead hlb's TUN a moment later: until
	# then a new hlb gets EBUSY for the name.
	slowwait 5 tun_gone hlbc0 || { echo "    hlbc0 still there 5 s after the kill"; rc=1; }
	start "$LB" "$T_TMP/a.conf" "$T_TMP/c.log"
	PID_A=$PID
	slowwait 5 ctl list || { cat "$T_TMP/c.log"; return 1; }
	echo "    restarted: $(head -n 1 "$T_TMP/c.log")"
	return $rc
}

check_idle() {
	IDLE=$("$BIN/lbecho" idle unix "$S" 10)
	echo "    silent client: $IDLE"
	[[ $IDLE == closed* ]]
}

check_default_path() {
	local a b rc=0
	conf "$T_TMP/d1.conf" hlbc2 first
	conf "$T_TMP/d2.conf" hlbc3 second
	start "$LB" "$T_TMP/d1.conf" "$T_TMP/d1.log"
	D1=$PID
	slowwait 3 ip netns exec "$LB" "$BIN/hlb" ctl list || rc=1
	start "$SRV" "$T_TMP/d2.conf" "$T_TMP/d2.log"
	D2=$PID
	slowwait 3 ip netns exec "$SRV" "$BIN/hlb" ctl list || rc=1
	a=$(ip netns exec "$LB" "$BIN/hlb" ctl list 2>&1 | awk '$1 == "service" { print $2 }')
	b=$(ip netns exec "$SRV" "$BIN/hlb" ctl list 2>&1 | awk '$1 == "service" { print $2 }')
	echo "    $LB: '$a' ($(sed -n 's/.*control \([^ ,]*\).*/\1/p' "$T_TMP/d1.log")), $SRV: '$b'"
	[ "$a" = first ] && [ "$b" = second ] || rc=1
	kill "$D1" "$D2" 2>/dev/null
	wait "$D1" "$D2" 2>/dev/null
	return $rc
}

# Issue 14: list --json over the socket is JSON Lines jq reads, version 1,
# and a drain shows in the real's state.
check_json() {
	local out st
	out=$(ctl list --json) || return 1
	echo "    $out"
	jq -e -s 'length == 1 and .[0]["edgelab-lb-ctl"] == 1 and .[0].service == "av"
		and .[0].port == 3478 and .[0].proto == "udp" and .[0].monitor.kind == "none"' <<<"$out" >/dev/null || return 1
	ctl drain av edge1 >/dev/null || return 1
	st=$(ctl list --json | jq -r '.reals[] | select(.name == "edge1") | .state')
	ctl enable av edge1 >/dev/null
	echo "    edge1 after drain: $st"
	[ "$st" = draining ]
}

main() {
	setup || bail "setup"
	check "socket mode 0600 whatever the umask" check_mode
	check "nobody cannot disable a real (socket mode)" check_nobody_mode
	check "nobody refused by peer credentials (socket 0666)" check_nobody_peercred
	check "second hlb refuses a live socket, first keeps it" check_no_takeover
	check "stale socket replaced at start" check_stale
	check "silent control client closed within the idle timeout" check_idle
	check "list --json: JSON Lines, version 1, a drained real says draining" check_json
	check "default socket per namespace, found by hlb ctl" check_default_path
	echo "hlb_ctl: mode ${MODE:-?} refused ${REFUSED:-?} idle '${IDLE:-?}' fails $T_FAIL"
	lib_exit
}
main
