# lib/testlib.sh: what the lab's integration tests (tests/integration/lab_*.sh)
# share, in the manner of the kernel's net selftests: a lab of their own
# under a unique prefix, torn down on exit; one aligned line per check; a
# fixed exit code (0 pass, 1 fail, 77 skip); every wait bounded.

T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB=$T_ROOT/netns/lab
export EDGELAB_BIN=${EDGELAB_BIN:-${BIN:-$T_ROOT/build/bin}}
T_FAILS=0
T_CHECKS=0

t_skip() {
	echo "SKIP: $*"
	exit 77
}

# t_init NAME: checks what the test needs and picks a prefix no other run
# uses; the EXIT trap brings that lab down whatever happens.
t_init() {
	T_NAME=$1
	[ "$(id -u)" -eq 0 ] || t_skip "$T_NAME needs root"
	local t
	for t in ip nft; do
		command -v $t >/dev/null || t_skip "$T_NAME needs $t"
	done
	T_PREFIX=${2:-$(printf 't%s' "$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')")}
	trap t_cleanup EXIT
}

t_cleanup() {
	"$LAB" down --prefix "$T_PREFIX" >/dev/null 2>&1 || true
}

t_need_bin() {
	local b
	for b in "$@"; do
		[ -x "$EDGELAB_BIN/$b" ] || t_skip "$EDGELAB_BIN/$b not built"
	done
}

# t_ok DESC CMD...: runs CMD quietly, prints one verdict line.
t_ok() {
	local desc=$1 out
	shift
	T_CHECKS=$((T_CHECKS + 1))
	if out=$("$@" 2>&1); then
		printf 'ok    %s\n' "$desc"
	else
		T_FAILS=$((T_FAILS + 1))
		printf 'FAIL  %s\n' "$desc"
		[ -n "$out" ] && printf '        %s\n' "$(head -n 5 <<<"$out")"
	fi
	return 0
}

# t_not DESC CMD...: the check passes when CMD fails.
t_not() {
	local desc=$1
	shift
	t_ok "$desc" t_negate "$@"
}

t_negate() {
	if "$@" >/dev/null 2>&1; then
		echo "succeeded but should have failed: $*"
		return 1
	fi
	return 0
}

# t_eq DESC WANT GOT
t_eq() {
	t_ok "$1" t_same "$2" "$3"
}

t_same() {
	[ "$1" = "$2" ] && return 0
	echo "want: $1"
	echo "got:  $2"
	return 1
}

t_finish() {
	echo "$T_NAME: $((T_CHECKS - T_FAILS))/$T_CHECKS checks passed"
	[ $T_FAILS -eq 0 ] && exit 0
	exit 1
}

t_in() { # NODE CMD...: run CMD inside NODE of the test's lab
	local node=$1
	shift
	ip netns exec "$T_PREFIX-$node" "$@"
}

# t_lab_gone: no namespace of the prefix is left, and no state.
t_lab_gone() {
	local left
	left=$(ls /run/netns 2>/dev/null | grep "^$T_PREFIX-" || true)
	[ -z "$left" ] || { echo "namespaces left: $left"; return 1; }
	[ ! -e "/run/edgelab/$T_PREFIX" ] || { echo "state dir left: /run/edgelab/$T_PREFIX"; return 1; }
}

# t_counter FW NAME -> packets counted by that named counter
t_counter() {
	t_in "$1" nft list counter inet edgelab "$2" | awk '/packets/ { print $2 }'
}
