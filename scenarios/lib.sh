# shellcheck shell=bash
# scenarios/lib.sh: what every scenario script shares (SPEC section 5), in
# the manner of the kernel's net selftests: a lab of its own under a fresh
# prefix, torn down on exit; one function per check; one aligned verdict
# line per check; every wait bounded; fixed exit codes (0 pass, 1 fail,
# 77 skip).
#
# A scenario script reads:
#
#   #!/usr/bin/env bash
#   # S1: STUN Binding to the A/V VIP over UDP
#   # seed: "If the client sends a request to the HLB, the response must ..."
#   # rows: row_extvip_07
#   # segments: inet dmzext edgeext
#   # asserts: the answer comes from VIP:3478; ...
#   . "$(dirname "$0")/lib.sh"
#   sc_init S1
#   check_answer_from_vip() { ...; sc_assert_eq "$got" "$want" "message"; }
#   sc_main check_answer_from_vip ...
#
# Run alone (sudo scenarios/s01-av-vip-udp.sh) it builds its own lab with
# the emulated HLB; scenarios/run sets the SC_* variables below.
#
# Environment (all optional):
#   SC_LB        emulated (default) | nft | external
#   SC_VIPS      the VIPs/HLB addresses file (default scenarios/vips/lab.vips)
#   SC_FAULTS    faults for `netns/lab up --fault` (M1..M15, comma separated)
#   SC_PREFIX    the lab's prefix (default: a fresh random one)
#   SC_SHARED=1  the lab SC_PREFIX is up already and stays up: scenarios/run
#                --mutations runs the scenarios that leave a lab as they
#                found it one after another on one lab per fault; those that
#                break a node ("# lab: own") always get their own
#   SC_OUT       where this scenario writes (default results/ID)
#   SC_KEEP=1    leave the lab up (its prefix is printed)
#   SC_CAPTURE=0 no packet capture (the diagnoses then say less)
#   SC_TIMEOUT   milliseconds one request may take (default 1000)
#   SC_RETRY=0   no second try for a probe that got no answer
#   SC_LONG=1    the long observations too (scenarios/run --long): idle
#                flows and silences held for minutes, past the faults'
#                short timeouts (M10's 660 s)
#   SC_GAP_CAP=S S21's silences up to S seconds only (a shorter --long)

SC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SC_ROOT=$(cd "$SC_DIR/.." && pwd)
# The shell test library of tests/ is this one's base: lib_init (root,
# prefix, scratch dir, the EXIT trap) with defer, spawn and stop_pids,
# in_node, slowwait and busywait, t_verdict. It turns on nounset and
# pipefail for the tests; the scenarios were written without them (a
# check judges `... | grep -q` by its last command) and scenarios/run
# sets its own, so whoever sources this keeps the options it had.
[ -n "${EDGELAB_BIN:-}" ] && BIN=${BIN:-$EDGELAB_BIN}
SC_OPTS=$(set +o)
. "$SC_ROOT/tests/lib/lib.sh"
eval "$SC_OPTS"
LAB=$SC_ROOT/netns/lab
export EDGELAB_BIN=$BIN
SC_LB=${SC_LB:-emulated}
SC_FAULTS=${SC_FAULTS:-}
SC_VIPS=${SC_VIPS:-$SC_DIR/vips/lab.vips}
SC_KEEP=${SC_KEEP:-0}
SC_CAPTURE=${SC_CAPTURE:-1}
SC_TIMEOUT=${SC_TIMEOUT:-1000}
SC_RETRY=${SC_RETRY:-1}  # a probe that gets no answer is tried once more
SC_CAPS=()     # the captures' pids (spawned: stopped at exit with the rest)
SC_PORT=41000  # next client source port: every probe gets its own, so a
               # capture can be searched for exactly that probe's packets
               # (sc_init moves it to 40000 + 100 x the scenario's number)
SC_SHARED=${SC_SHARED:-0}
SC_LONG=${SC_LONG:-0}
SC_FAILS=0

# ---------------------------------------------------------------- metadata

# sc_meta FILE KEY: the text after "# KEY:" in FILE's header, lines joined.
sc_meta() {
	awk -v k="$2" 'NR > 1 && !/^#/ { exit }
		{ if (index($0, "# " k ": ") == 1) { v = v (v ? " " : "") substr($0, length(k) + 5) } }
		END { print v }' "$1"
}

# sc_title FILE: the title from the header's "# Sn: title" line.
sc_title() {
	sed -n '2s/^# S[0-9]*: //p' "$1"
}

# ---------------------------------------------------------------- output

sc_log() { printf '%s\n' "$*"; }

# sc_fail MESSAGE: one line, "Sn: MESSAGE", on stdout and in the failures
# file (the runner's TAP and the mutation table quote the first one).
sc_fail() {
	SC_FAILS=$((SC_FAILS + 1))
	SC_CHECK_FAILED=1
	printf '%s: %s\n' "$SC_ID" "$*" | tee -a "$SC_OUT/failures"
	return 1
}

# sc_note TEXT: a remark worth a reader's eye that is no failure (kept in
# SC_OUT/notes: the runner prints them with the scenario's TAP line).
sc_note() { printf '      note: %s\n' "$*"; }
sc_remark() {
	printf '      note: %s\n' "$*"
	echo "$SC_ID: $*" >>"$SC_OUT/notes"
}

# sc_unobserved TEXT: a value the check read from the balancer (its list,
# its sysctls, the vips file) and judged, but did not see on the wire: the
# runner says "read, not observed" for each, counted, in the TAP, the table
# and the report (kept in SC_OUT/read).
sc_unobserved() {
	printf '      read, not observed: %s\n' "$*"
	echo "$SC_ID: $*" >>"$SC_OUT/read"
}

# sc_unreported TEXT: a value the check wanted to read from the balancer
# and could not (the device's list does not show it): what the check then
# judged rests on the wire alone, or on nothing. The runner says "not
# reported by the device" for each, counted like "read, not observed"
# (kept in SC_OUT/unreported).
sc_unreported() {
	printf '      not reported by the device: %s\n' "$*"
	echo "$SC_ID: $*" >>"$SC_OUT/unreported"
}

# sc_skip REASON; return  -- inside a check: the check is skipped (77).
sc_skip() {
	SC_SKIP_REASON=$*
	return 77
}

# sc_assert_eq GOT WANT MESSAGE: quiet when equal, else one line.
sc_assert_eq() {
	[ "$1" = "$2" ] && return 0
	sc_fail "$3"
}

# sc_assert_in GOT "A B C" MESSAGE: GOT is one of the words.
sc_assert_in() {
	local w
	for w in $2; do
		[ "$1" = "$w" ] && return 0
	done
	sc_fail "$3"
}

# sc_assert_ge GOT MIN MESSAGE (integers; an empty GOT fails)
sc_assert_ge() {
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && return 0
	sc_fail "$3"
}

# sc_flow FROM-NODE DEST PROTO [ANSWERED-BY]: a flow this check sends, for
# the report's drawing; it takes the check's verdict when the check ends.
# DEST is ADDR:PORT ([V6]:PORT); ANSWERED-BY the node that answered (for a
# VIP, the real server behind it).
sc_flow() {
	SC_PENDING+=("$1 $2/$3 ${4:--}")
}

# sc_flow_answered NODE: the last flow's answering node, once known.
sc_flow_answered() {
	local n=$((${#SC_PENDING[@]} - 1)) f
	[ $n -ge 0 ] || return 0
	f=${SC_PENDING[$n]}
	SC_PENDING[$n]="${f% *} ${1:--}"
}

# sc_flow_verdict FROM DEST PROTO VERDICT [ANSWERED-BY]: a flow whose
# verdict is its own, not its check's (S16: one flow per table row).
sc_flow_verdict() {
	echo "FLOW $SC_ID $1 $2/$3 $4 ${5:--}" >>"$SC_OUT/flows"
}

# The rest, one concern per file.
. "$SC_DIR/lib/lab.sh"
. "$SC_DIR/lib/probe.sh"
. "$SC_DIR/lib/lb.sh"
. "$SC_DIR/lib/evidence.sh"

# ---------------------------------------------------------------- main

# sc_main CHECK...: runs each check function; one line per check
# (t_verdict's, with the check's time):
#   ok    check_name        12 ms
#   FAIL  check_name        12 ms  (the check printed its one-line reason above)
#   skip  check_name: reason
# Writes SC_OUT/result (pass, fail or skip), SC_OUT/flows ("FLOW ID FROM
# DEST/PROTO VERDICT ANSWERED-BY"), and exits 0, 1 or 77: as lib_exit,
# except that a skipped check beside passing ones leaves the scenario
# passed (the runner counts its skipped checks); 77 when none passed.
sc_main() {
	local f rc verdict fl t0 ms line
	for f in "$@"; do
		SC_CHECK=$f SC_CHECK_FAILED=0 SC_SKIP_REASON='' SC_PENDING=()
		t0=$(sc_now_ms)
		"$f"
		rc=$?
		ms=$(($(sc_now_ms) - t0))
		if [ $rc -eq 77 ]; then
			verdict=skip
		elif [ $rc -ne 0 ] || [ $SC_CHECK_FAILED -ne 0 ]; then
			[ $SC_CHECK_FAILED -eq 0 ] && sc_fail "$f failed (no reason given)"
			verdict=fail
		else
			verdict=pass
		fi
		printf -v line '%-34s %6d ms' "$f" "$ms"
		case $verdict in
		pass) T_PASS=$((T_PASS + 1)); t_verdict ok "$line" ;;
		fail) T_FAIL=$((T_FAIL + 1)); t_verdict FAIL "$line" ;;
		skip) T_SKIP=$((T_SKIP + 1)); t_verdict skip "$f: $SC_SKIP_REASON"
			echo "$f: $SC_SKIP_REASON" >>"$SC_OUT/skips" ;;
		esac
		for fl in "${SC_PENDING[@]}"; do
			read -r fl_from fl_dest fl_by <<<"$fl"
			echo "FLOW $SC_ID $fl_from $fl_dest $verdict $fl_by" >>"$SC_OUT/flows"
		done
	done
	echo "# $SC_ID: $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	T_DONE=1
	if [ $T_FAIL -gt 0 ]; then
		echo fail >"$SC_OUT/result"
		exit 1
	elif [ $T_PASS -eq 0 ]; then
		echo skip >"$SC_OUT/result"
		exit 77
	fi
	echo pass >"$SC_OUT/result"
	exit 0
}
