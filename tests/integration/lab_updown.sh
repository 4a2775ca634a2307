#!/usr/bin/env bash
# lab_updown: R5 and the command's hygiene. Bad input gives one line and a
# non-zero exit; up on a prefix that exists is refused and touches nothing;
# down twice is harmless; an up killed halfway (SIGTERM: it cleans up
# itself; SIGKILL: down cleans up) leaves no namespace, state or process.
set -uo pipefail
. "$(dirname "$0")/../../netns/lib/testlib.sh"
t_init lab_updown

# one_line_error CMD...: fails, and says why in exactly one line.
one_line_error() {
	local err rc
	err=$("$@" 2>&1 >/dev/null) && { echo "exit 0: $*"; return 1; }
	rc=$(wc -l <<<"$err")
	[ "$rc" -eq 1 ] || { echo "$rc lines: $err"; return 1; }
	echo "$err"
}

# Processes of this lab: every daemon has the lab's state dir in its
# arguments, and `up` has the prefix.
lab_processes() {
	# [.a-z] so that this grep's own arguments do not match.
	grep -lsa -e "/run/edgelab/$T_PREFIX/[.a-z]" /proc/[0-9]*/cmdline || true
}

nothing_left() {
	t_lab_gone || return 1
	local p
	p=$(lab_processes)
	[ -z "$p" ] || { echo "processes left: $p"; return 1; }
}

t_ok "bad prefix (odd characters)" one_line_error "$LAB" up --prefix 'A-b'
t_ok "bad prefix (too long)" one_line_error "$LAB" up --prefix abcdefghi
t_ok "unknown command" one_line_error "$LAB" frobnicate
t_ok "unknown fault" one_line_error "$LAB" up --prefix "$T_PREFIX" --fault M99
t_ok "unknown --lb" one_line_error "$LAB" up --prefix "$T_PREFIX" --lb bogus
t_ok "hlb of a lab that is not up" one_line_error "$LAB" hlb --prefix "$T_PREFIX" ext list
t_ok "status of a lab that is not up" one_line_error "$LAB" status --prefix "$T_PREFIX"
if command -v setpriv >/dev/null; then
	t_ok "not root" one_line_error setpriv --reuid=65534 --regid=65534 --clear-groups "$LAB" up --prefix "$T_PREFIX"
fi
# A PATH with every tool the lab uses but nft.
nonft=$(mktemp -d)
for t in bash readlink dirname ip awk id setsid mkdir od tr sed cat sort seq openssl; do
	ln -s "$(command -v $t)" "$nonft/$t"
done
t_ok "missing tool (no nft on PATH)" one_line_error env PATH="$nonft" "$LAB" up --prefix "$T_PREFIX"
rm -rf "$nonft"
t_ok "nothing made by bad input" nothing_left

t_ok "up" "$LAB" up --prefix "$T_PREFIX"
t_ok "unknown node" one_line_error "$LAB" exec --prefix "$T_PREFIX" nosuchnode true
t_ok "unknown segment" one_line_error "$LAB" capture --prefix "$T_PREFIX" nosuchseg /tmp/x.pcap
t_ok "exec runs inside the node" grep -q 203.0.113.23 <<<"$("$LAB" exec --prefix "$T_PREFIX" edge1 ip -o addr)"
before=$(ls /run/netns | grep "^$T_PREFIX-" | sort; cat "/run/edgelab/$T_PREFIX/pids")
t_ok "up on an existing prefix is refused" one_line_error "$LAB" up --prefix "$T_PREFIX"
t_eq "...and touched nothing" "$before" "$(ls /run/netns | grep "^$T_PREFIX-" | sort; cat "/run/edgelab/$T_PREFIX/pids")"
t_ok "down" "$LAB" down --prefix "$T_PREFIX"
t_ok "nothing left after down" nothing_left
t_ok "down again is harmless" "$LAB" down --prefix "$T_PREFIX"

# --lb external: the lab without a balancer of ours, waiting for a device.
status_says_external() { [[ $("$LAB" status --prefix "$T_PREFIX") == *"lb external"* ]]; }
ctl_names_external() { [[ $("$LAB" hlb --prefix "$T_PREFIX" ext list 2>&1) == *"external load balancer"* ]]; }
t_ok "up --lb external" "$LAB" up --prefix "$T_PREFIX" --lb external --daemons none
t_ok "...status says lb external" status_says_external
t_ok "...hlb control refused in one line" one_line_error "$LAB" hlb --prefix "$T_PREFIX" ext list
t_ok "...naming the external balancer" ctl_names_external
t_ok "...down" "$LAB" down --prefix "$T_PREFIX"
t_ok "...leaves nothing" nothing_left

# A daemon that dies at start fails `up`, which then removes what it made.
fake=$(mktemp -d)
for b in "$EDGELAB_BIN"/*; do ln -s "$b" "$fake/"; done
rm -f "$fake/avedge"
printf '#!/bin/sh\necho "avedge: cannot start" >&2\nexit 1\n' >"$fake/avedge"
chmod +x "$fake/avedge"
t_ok "up with an avedge that exits at start fails" t_negate env EDGELAB_BIN="$fake" "$LAB" up --prefix "$T_PREFIX"
t_ok "...and leaves nothing" nothing_left
rm -rf "$fake"

# wait_for TEST...: bounded poll (10 s) until the test holds.
wait_for() {
	local i
	for i in $(seq 200); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
ns_exist() { [ -e "/run/netns/$T_PREFIX-sw" ]; }
daemons_started() { [ -s "/run/edgelab/$T_PREFIX/pids" ]; }

# kill_up SIGNAL WHEN: start up, wait for the point, kill it with SIGNAL.
kill_up() {
	local sig=$1 when=$2 pid
	"$LAB" up --prefix "$T_PREFIX" >/dev/null 2>&1 &
	pid=$!
	wait_for "$when" || { echo "up never reached $when"; kill -KILL $pid; wait $pid; return 1; }
	kill "-$sig" $pid
	wait $pid 2>/dev/null
	return 0
}

for when in ns_exist daemons_started; do
	t_ok "up killed by SIGTERM at $when" kill_up TERM $when
	t_ok "...cleaned up after itself" wait_for nothing_left
	t_ok "up killed by SIGKILL at $when" kill_up KILL $when
	t_ok "...then down" "$LAB" down --prefix "$T_PREFIX"
	t_ok "...leaves nothing" nothing_left
done
t_finish
