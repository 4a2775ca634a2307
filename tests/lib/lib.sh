# tests/lib/lib.sh: the one library of the shell tests (tests/integration/*.sh),
# after the kernel's tools/testing/selftests/net/lib.sh. A test reads:
#
#   . "$(dirname "$0")/../lib/lib.sh"
#   lib_init avedge_example     # root (else skip, 77), prefix, scratch dir T_TMP, the EXIT trap
#   need_bin avedge edgeprobe   # not built: FAIL (1), never a skip
#   need_cmd turnutils_uclient  # not installed: FAIL (tests/setup.sh installs it)
#   setup_ns NS                 # NS=<prefix>-ns with lo up, deleted at exit
#   spawn ip netns exec "$NS" "$BIN/avedge" ...   # pid in SPAWNED, stopped at exit
#   slowwait 5 in_ns "$NS" "$BIN/edgeprobe" binding 127.0.0.1:3478
#   check "a Binding is answered" in_ns "$NS" "$BIN/edgeprobe" binding ...
#   lib_exit
#
# Verdicts: every check prints one line, "  ok    WHAT", "  FAIL  WHAT" or
# "  skip  WHAT"; the test's exit code merges them as the selftests do:
# 1 if any check failed, else 77 if any was skipped, else 0. A test that
# ran no check, or ended without lib_exit, fails.
#
# Cleanup (the EXIT trap, also on SIGTERM and SIGINT) touches exactly what
# this run made: the commands given to defer (last first), the pids spawn
# started, the namespaces setup_ns made (and every process inside them,
# which only this run can have started), and T_TMP (kept with KEEP_LOGS=1).
# Nothing is ever killed by name.
# shellcheck shell=bash
set -uo pipefail

EDGELAB_ROOT=${EDGELAB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# As tests/setup.sh: BIN, else EDGELAB_BUILD's bin, else build/bin.
# Installed (cmake --install), installed.sh names where the binaries are.
if [ -z "${BIN:-}" ] && [ -f "$EDGELAB_ROOT/installed.sh" ]; then
	. "$EDGELAB_ROOT/installed.sh"
	BIN=$EDGELAB_INSTALLED_BIN
fi
BIN=${BIN:-${EDGELAB_BUILD:-$EDGELAB_ROOT/build}/bin}

T_NAME=$(basename "$0" .sh)
T_PREFIX=''
T_TMP=''
T_PASS=0 T_FAIL=0 T_SKIP=0
T_PIDS=()   # spawned by this run
T_NS=()     # namespaces made by this run
T_DEFER=()  # commands to run at exit, last first
T_DONE=0
T_QUIET=/dev/null # quiet's scratch file (in T_TMP once lib_init ran)

# ---------------------------------------------------------------- verdicts

# t_verdict ok|FAIL|skip TEXT: the one verdict line (tests/run uses it too).
t_verdict() {
	printf '%s%-4s  %s\n' "${T_INDENT-  }" "$1" "$2"
}

# check WHAT CMD...: runs CMD in this shell (so it may set variables; what
# it prints shows above the verdict). 0 is ok, 77 skip, anything else FAIL.
check() {
	local what=$1 rc
	shift
	"$@"
	rc=$?
	case $rc in
	0) T_PASS=$((T_PASS + 1)); t_verdict ok "$what" ;;
	77) T_SKIP=$((T_SKIP + 1)); t_verdict skip "$what" ;;
	*) T_FAIL=$((T_FAIL + 1)); t_verdict FAIL "$what" ;;
	esac
	return 0
}

# check_eq WHAT WANT GOT
check_eq() {
	check "$1" t_same "$2" "$3"
}

t_same() {
	[ "$1" = "$2" ] && return 0
	if [[ $1$2 == *$'\n'* ]]; then
		diff <(echo "$1") <(echo "$2") | sed 's/^/        /; 1i\      diff want got:'
	else
		printf '      want: %s\n      got:  %s\n' "$1" "$2"
	fi
	return 1
}

# check_skip WHAT WHY: a check that cannot run here. Its line says why;
# the test then exits 77, which tests/run fails unless tests/skip-allow
# lists the test.
check_skip() {
	T_SKIP=$((T_SKIP + 1))
	t_verdict skip "$1: $2"
}

# t_failed: true once any check of this run failed (for log dumps).
t_failed() { [ "$T_FAIL" -gt 0 ]; }

# bail WHY: a failure that ends the test now (setup could not be made).
bail() {
	T_FAIL=$((T_FAIL + 1))
	t_verdict FAIL "$*"
	exit 1
}

# skip_all WHY: the whole test cannot run here (77).
skip_all() {
	T_SKIP=$((T_SKIP + 1))
	t_verdict skip "$T_NAME: $*"
	exit 77
}

# suite_whole DIR: a scenarios/run results directory where nothing was
# skipped, neither a scenario (its exit status 77 passes `run`) nor a check
# inside one (DIR/Sn/skips): tests/run allows no skip it does not list.
suite_whole() {
	local f bad=0
	tail -n 1 "$1/summary.txt" | grep -q ' 0 skipped,' ||
		{ echo "      $(tail -n 1 "$1/summary.txt")"; bad=1; }
	for f in "$1"/S*/skips; do
		[ -s "$f" ] || continue
		sed "s|^|      $(basename "$(dirname "$f")"): skipped: |" "$f"
		bad=1
	done
	return $bad
}

# not CMD...: true when CMD fails; CMD's output is shown only when it
# succeeded, which is then the failure.
not() {
	if "$@" >"$T_QUIET" 2>&1; then
		sed 's/^/      /' "$T_QUIET"
		echo "      succeeded, should have failed: $*"
		return 1
	fi
	return 0
}

# quiet CMD...: CMD with its output kept back, shown (indented) only
# when it fails.
quiet() {
	local rc
	"$@" >"$T_QUIET" 2>&1
	rc=$?
	[ $rc -eq 0 ] || head -n 20 "$T_QUIET" | sed 's/^/      /'
	return $rc
}

# lib_exit: the summary line, then the merged exit code.
lib_exit() {
	local rc=0
	if [ $T_FAIL -gt 0 ]; then
		rc=1
	elif [ $T_SKIP -gt 0 ]; then
		rc=77
	elif [ $T_PASS -eq 0 ]; then
		t_verdict FAIL "$T_NAME: no check ran"
		rc=1
	fi
	echo "# $T_NAME: $T_PASS ok, $T_FAIL FAIL, $T_SKIP skip"
	T_DONE=1
	exit $rc
}

# ---------------------------------------------------------------- needs

need_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
}

need_bin() { # NAME...: built in $BIN, else FAIL
	local b
	for b in "$@"; do
		[ -x "$BIN/$b" ] || bail "$BIN/$b is not built (tests/run builds it)"
	done
}

need_cmd() { # TOOL...: on PATH, else FAIL
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || bail "$t is missing (tests/setup.sh installs it)"
	done
}

need_tun() {
	[ -c /dev/net/tun ] || skip_all "no /dev/net/tun in this kernel"
}

# ---------------------------------------------------------------- the run

# lib_init [NAME]: this run's prefix and scratch directory, and the trap.
# Every test here builds namespaces: not root, it skips.
lib_init() {
	T_NAME=${1:-$T_NAME}
	need_root
	T_PREFIX=$(prefix_new "$T_NAME") || bail "no free namespace prefix"
	T_TMP=$(mktemp -d "/tmp/$T_NAME.XXXXXX") || bail "mktemp"
	T_QUIET=$T_TMP/.quiet
	trap lib_cleanup EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap 'exit 129' HUP
}

# prefix_new NAME: 8 characters of [a-z0-9] (netns/lab's prefix rule),
# two from NAME and six random, that no namespace and no lab uses now.
prefix_new() {
	local stem=${1,,} p
	stem=${stem//[^a-z0-9]/}
	stem=${stem:0:2}
	for _ in 1 2 3 4 5 6 7 8; do
		printf -v p '%s%06x' "${stem:-t}" $((SRANDOM & 0xffffff))
		compgen -G "/run/netns/$p-*" >/dev/null && continue
		[ -e "/run/edgelab/$p" ] && continue
		echo "$p"
		return 0
	done
	return 1
}

# defer CMD...: run CMD at exit (deferred commands run last first).
defer() {
	T_DEFER+=("$(printf '%q ' "$@")")
}

lib_cleanup() {
	local rc=$? i
	trap - EXIT TERM INT HUP
	if [ $T_DONE = 0 ] && [ $rc -eq 0 ]; then
		t_verdict FAIL "$T_NAME ended without a verdict (lib_exit)"
		rc=1
	fi
	for ((i = ${#T_DEFER[@]} - 1; i >= 0; i--)); do
		eval "${T_DEFER[i]}"
	done
	stop_pids "${T_PIDS[@]}"
	cleanup_ns "${T_NS[@]}"
	if [ -n "$T_TMP" ]; then
		if [ -n "${KEEP_LOGS:-}" ]; then
			echo "# $T_NAME: logs kept in $T_TMP"
		else
			rm -rf "$T_TMP"
		fi
	fi
	exit $rc
}

# spawn CMD...: CMD in the background; its pid in SPAWNED, stopped at exit.
# (`spawn ip netns exec NS CMD`: ip execs, so SPAWNED is CMD itself.)
spawn() {
	"$@" &
	SPAWNED=$!
	T_PIDS+=("$SPAWNED")
}

# reap PID: wait for a spawned PID to end and forget it (cleanup must not
# signal a pid that may be reused); returns its exit status.
reap() {
	local rc
	wait "$1"
	rc=$?
	forget "$1"
	return $rc
}

forget() { # PID...: no longer this run's to stop
	local p q keep=()
	for p in "${T_PIDS[@]}"; do
		for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
		keep+=("$p")
	done
	T_PIDS=("${keep[@]}")
}

# running PID: alive and not a zombie.
running() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

any_running() { # PID...
	local p
	for p in "$@"; do running "$p" && return 0; done
	return 1
}

# stop_pids PID...: SIGTERM, up to 5 s to leave (hlb restores its rules,
# valgrind writes its report), then SIGKILL; reaped when they are this
# shell's children, and forgotten.
stop_pids() {
	[ $# -gt 0 ] || return 0
	kill "$@" 2>/dev/null
	slowwait 5 not_running "$@" || kill -9 "$@" 2>/dev/null
	wait "$@" 2>/dev/null
	forget "$@"
	return 0
}

not_running() { ! any_running "$@"; }

# ---------------------------------------------------------------- namespaces

# setup_ns VAR...: for each, a namespace named PREFIX-var (lowercase), its
# name in $VAR; lo up, IPv6 duplicate address detection off (addresses
# usable at once). Deleted with everything in it at exit.
setup_ns() {
	local var ns
	for var in "$@"; do
		ns=$T_PREFIX-${var,,}
		[ -n "$T_PREFIX" ] || bail "setup_ns before lib_init"
		[ ! -e "/run/netns/$ns" ] || bail "namespace $ns exists already"
		ip netns add "$ns" || bail "cannot create namespace $ns"
		T_NS+=("$ns")
		printf -v "$var" '%s' "$ns"
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null
	done
}

# cleanup_ns NS...: stop what runs inside (stop_pids), delete the
# namespace, and wait (bounded) until it is gone.
cleanup_ns() {
	local ns keep=() n
	for ns in "$@"; do
		# shellcheck disable=SC2046 # one pid per word
		stop_pids $(ip netns pids "$ns" 2>/dev/null)
		ip netns del "$ns" 2>/dev/null
		slowwait 5 test ! -e "/run/netns/$ns" || echo "# $T_NAME: namespace $ns still there"
		keep=()
		for n in "${T_NS[@]}"; do [ "$n" = "$ns" ] || keep+=("$n"); done
		T_NS=("${keep[@]}")
	done
	return 0
}

# in_ns NS CMD...: CMD inside NS.
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# in_node NAME CMD...: CMD inside this run's namespace T_PREFIX-NAME (a
# setup_ns namespace, or a node of the lab brought up under T_PREFIX).
in_node() {
	local node=$1
	shift
	in_ns "$T_PREFIX-$node" "$@"
}

# ---------------------------------------------------------------- waiting

# slowwait SECONDS CMD...: CMD every 0.1 s until it succeeds; false if it
# did not within SECONDS (fractions allowed). What CMD prints is kept
# back, and the last try's output shown when the time is up.
slowwait() {
	t_poll 100000 "$@"
}

# busywait MS CMD...: the same every 10 ms, bounded in milliseconds.
busywait() {
	local ms=$1
	shift
	t_poll 10000 "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))" "$@"
}

t_poll() { # STEP-US SECONDS CMD...
	local step end out=${T_TMP:-/tmp}/.wait$BASHPID
	printf -v step '0.%06d' "$1"
	end=$((${EPOCHREALTIME/./} + $(t_us "$2")))
	shift 2
	until "$@" >"$out" 2>&1; do
		if [ "${EPOCHREALTIME/./}" -ge $end ]; then
			head -n 20 "$out" | sed 's/^/      /'
			rm -f "$out"
			return 1
		fi
		sleep "$step"
	done
	rm -f "$out"
}

t_us() { # SECONDS (1, 2.5, 0.25) -> microseconds; a time already past is 0
	local s=${1%%.*} f=000000
	[[ $1 == -* ]] && { echo 0; return; }
	[[ $1 == *.* ]] && f=${1#*.}000000
	echo $((10#${s:-0} * 1000000 + 10#${f:0:6}))
}

# make_cert: a self-signed certificate for edge.lab, T_TMP/cert.pem with
# its key T_TMP/key.pem, for the relays' TLS listeners.
make_cert() {
	need_cmd openssl
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=edge.lab \
		-keyout "$T_TMP/key.pem" -out "$T_TMP/cert.pem" >/dev/null 2>&1 ||
		bail "openssl could not make a certificate"
}

# free_port: a port no loopback socket uses, for UDP and TCP alike.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + SRANDOM % 20000))
		if [ -z "$(ss -Hantu "sport = :$p")" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
