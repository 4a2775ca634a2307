#!/usr/bin/env bash
# scenarios_lib: scenarios/lib.sh on tests/lib/lib.sh, without a lab. A
# scenario's check lines are t_verdict's with the check's time; its exit
# is 0 when a check passed and none failed (a skipped one beside it
# too), 77 when all skipped, 1 on a failure; what it spawned (sc_bg) is
# stopped at its exit; it keeps the shell options it had (no nounset, no
# pipefail); sc_listening tells a listener from none. And lib.sh's own: in_node runs in T_PREFIX-NAME, slowwait
# with a time already past tries once. Exit 0 pass, 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_lib
setup_ns NODE

# A scenario without a lab: sc_init's lab is the only thing left out.
cat >"$T_TMP/fake.sh" <<EOF
. "$EDGELAB_ROOT/scenarios/lib.sh"
SC_ID=S99 SC_OUT=\$1 SC_PREFIX=$T_PREFIX
shift
lib_init S99
T_PREFIX=\$SC_PREFIX
[[ \$- == *u* ]] && echo "nounset on"
[[ :\$SHELLOPTS: == *:pipefail:* ]] && echo "pipefail on"
c_ok() { return 0; }
c_skip() { sc_skip "no reason to run"; }
c_fail() { sc_fail "it broke"; }
c_bg() { sc_bg node "\$SC_OUT/bg.log" sleep 60; echo "\$SC_BG_PID" >"\$SC_OUT/bg.pid"; }
c_listen() {
	! sc_listening node tcp 47001 || { sc_fail "nothing listens, yet sc_listening says yes"; return 1; }
	sc_bg node "\$SC_OUT/l.log" python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 47001)); s.listen(); time.sleep(30)'
	slowwait 3 sc_listening node tcp 47001 || { sc_fail "a TCP listener not seen"; return 1; }
	! sc_listening node udp 47001 || { sc_fail "a UDP socket seen where there is none"; return 1; }
}
sc_main "\$@"
EOF

# scenario NAME CHECK...: the fake scenario's exit status; its output in
# T_TMP/NAME/log.
scenario() {
	local name=$1
	shift
	mkdir -p "$T_TMP/$name"
	bash "$T_TMP/fake.sh" "$T_TMP/$name" "$@" >"$T_TMP/$name/log" 2>&1
}

scenario pass c_ok c_skip
check_eq "a pass with a skipped check beside it: exit 0" 0 $?
check_eq "...result pass" pass "$(cat "$T_TMP/pass/result")"
check "...the ok line is t_verdict's with the time" grep -Eq '^  ok    c_ok {30} +[0-9]+ ms$' "$T_TMP/pass/log"
check "...the skip line says why" grep -qx '  skip  c_skip: no reason to run' "$T_TMP/pass/log"
check "...the summary" grep -qx '# S99: 1 passed, 0 failed, 1 skipped' "$T_TMP/pass/log"
check_eq "...no shell option of tests/lib/lib.sh leaks in" "" "$(grep ' on$' "$T_TMP/pass/log")"

scenario skip c_skip
check_eq "all checks skipped: exit 77" 77 $?
check_eq "...result skip" skip "$(cat "$T_TMP/skip/result")"

scenario fail c_ok c_fail
check_eq "a failed check: exit 1" 1 $?
check "...its FAIL line" grep -Eq '^  FAIL  c_fail {28} +[0-9]+ ms$' "$T_TMP/fail/log"
check "...its reason in failures" grep -qx 'S99: it broke' "$T_TMP/fail/failures"

scenario bg c_bg
check_eq "a scenario that spawned a process: exit 0" 0 $?
bgpid=$(cat "$T_TMP/bg/bg.pid" 2>/dev/null)
check "...its process ($bgpid) stopped at its exit" not running "${bgpid:-0}"

scenario listen c_listen
check_eq "sc_listening: no while nothing listens (ss says 0 either way), yes once it does" 0 $?

check "in_node NODE runs in T_PREFIX-node" test "$(in_node node ip netns identify)" = "$T_PREFIX-node"
# In a subshell: a bad time once aborted slowwait's caller, check and all.
past_wait() { (slowwait -3 "$@"); }
t0=$EPOCHSECONDS
check "slowwait with a time already past: tries once (true)" past_wait true
check "slowwait with a time already past: tries once (false fails)" not past_wait false
check "...at once" test $((EPOCHSECONDS - t0)) -le 1
lib_exit
