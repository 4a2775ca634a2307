#!/usr/bin/env bash
# lab_updown: R5 and the command's hygiene. Bad input gives one line and a
# non-zero exit; up on a prefix that exists is refused and touches nothing;
# down twice is harmless; an up killed halfway (SIGTERM: it cleans up
# itself; SIGKILL: down cleans up) leaves no namespace, state or process.
set -uo pipefail
. "$(dirname "$0")/../lib/lab.sh"
lab_test_init lab_updown

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
	lab_is_gone || return 1
	local p
	p=$(lab_processes)
	[ -z "$p" ] || { echo "processes left: $p"; return 1; }
}

check "bad prefix (odd characters)" one_line_error "$LAB" up --prefix 'A-b'
check "bad prefix (too long)" one_line_error "$LAB" up --prefix abcdefghi
check "unknown command" one_line_error "$LAB" frobnicate
check "unknown fault" one_line_error "$LAB" up --prefix "$T_PREFIX" --fault M99
check "unknown --lb" one_line_error "$LAB" up --prefix "$T_PREFIX" --lb bogus
check "hlb of a lab that is not up" one_line_error "$LAB" hlb --prefix "$T_PREFIX" ext list
check "status of a lab that is not up" one_line_error "$LAB" status --prefix "$T_PREFIX"
if command -v setpriv >/dev/null; then
	check "not root" one_line_error setpriv --reuid=65534 --regid=65534 --clear-groups "$LAB" up --prefix "$T_PREFIX"
fi
# A PATH with every tool the lab uses but nft.
nonft=$T_TMP/nonft && mkdir "$nonft"
for t in bash readlink dirname ip awk id setsid mkdir od tr sed cat sort seq openssl; do
	ln -s "$(command -v $t)" "$nonft/$t"
done
check "missing tool (no nft on PATH)" one_line_error env PATH="$nonft" "$LAB" up --prefix "$T_PREFIX"
rm -rf "$nonft"
check "nothing made by bad input" nothing_left

check "up" quiet "$LAB" up --prefix "$T_PREFIX"
check "unknown node" one_line_error "$LAB" exec --prefix "$T_PREFIX" nosuchnode true
check "unknown segment" one_line_error "$LAB" capture --prefix "$T_PREFIX" nosuchseg /tmp/x.pcap
check "exec runs inside the node" grep -q 203.0.113.23 <<<"$("$LAB" exec --prefix "$T_PREFIX" edge1 ip -o addr)"
before=$(ls /run/netns | grep "^$T_PREFIX-" | sort; cat "/run/edgelab/$T_PREFIX/pids")
check "up on an existing prefix is refused" one_line_error "$LAB" up --prefix "$T_PREFIX"
check_eq "...and touched nothing" "$before" "$(ls /run/netns | grep "^$T_PREFIX-" | sort; cat "/run/edgelab/$T_PREFIX/pids")"
check "down" quiet "$LAB" down --prefix "$T_PREFIX"
check "nothing left after down" nothing_left
check "down again is harmless" quiet "$LAB" down --prefix "$T_PREFIX"

# --lb none: the lab without a balancer of ours, waiting for a device.
status_says_none() { [[ $("$LAB" status --prefix "$T_PREFIX") == *"lb none,"* ]]; }
ctl_names_none() { [[ $("$LAB" hlb --prefix "$T_PREFIX" ext list 2>&1) == *"no load balancer of ours (--lb none)"* ]]; }
check "up --lb none" quiet "$LAB" up --prefix "$T_PREFIX" --lb none --daemons none
check "...status says lb none" status_says_none
check "...hlb control refused in one line" one_line_error "$LAB" hlb --prefix "$T_PREFIX" ext list
check "...naming the missing balancer" ctl_names_none
check "...down" quiet "$LAB" down --prefix "$T_PREFIX"
check "...leaves nothing" nothing_left
# --lb external, none's old name: the same lab, with one deprecation line.
up_external_deprecated() {
	local err
	err=$("$LAB" up --prefix "$T_PREFIX" --lb external --daemons none 2>&1 >/dev/null) || return 1
	[[ $err == *"--lb external is deprecated: use --lb none"* ]] && [ "$(wc -l <<<"$err")" = 1 ]
}
check "up --lb external says it is deprecated, once" up_external_deprecated
check "...and builds the lab of --lb none" status_says_none
check "...down" quiet "$LAB" down --prefix "$T_PREFIX"
check "...leaves nothing" nothing_left

# A daemon that dies at start fails `up`, which then removes what it made.
fake=$T_TMP/fakebin && mkdir "$fake"
for b in "$EDGELAB_BIN"/*; do ln -s "$b" "$fake/"; done
rm -f "$fake/avedge"
printf '#!/bin/sh\necho "avedge: cannot start" >&2\nexit 1\n' >"$fake/avedge"
chmod +x "$fake/avedge"
check "up with an avedge that exits at start fails" not env EDGELAB_BIN="$fake" "$LAB" up --prefix "$T_PREFIX"
check "...and leaves nothing" nothing_left
rm -rf "$fake"

ns_exist() { [ -e "/run/netns/$T_PREFIX-sw" ]; }
daemons_started() { [ -s "/run/edgelab/$T_PREFIX/pids" ]; }

# kill_up SIGNAL WHEN: start up, wait for the point, kill it with SIGNAL.
kill_up() {
	local sig=$1 when=$2 pid
	"$LAB" up --prefix "$T_PREFIX" >/dev/null 2>&1 &
	pid=$!
	# every 10 ms: up takes well under a second
	busywait 10000 "$when" || { echo "up never reached $when"; kill -KILL $pid; wait $pid; return 1; }
	kill "-$sig" $pid
	wait $pid 2>/dev/null
	return 0
}

for when in ns_exist daemons_started; do
	check "up killed by SIGTERM at $when" kill_up TERM $when
	check "...cleaned up after itself" slowwait 10 nothing_left
	check "up killed by SIGKILL at $when" kill_up KILL $when
	check "...then down" quiet "$LAB" down --prefix "$T_PREFIX"
	check "...leaves nothing" nothing_left
done
lib_exit
