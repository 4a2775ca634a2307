# tests/lib/common.sh: helpers for integration tests (sourced). Each test
# exits 0 (pass), 77 (skip) or anything else (fail); check() prints one
# aligned line per assertion.
set -uo pipefail

EDGELAB_ROOT=${EDGELAB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${BIN:-$EDGELAB_ROOT/build/bin}
T_FAILS=0
T_PIDS=()

check() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then
		printf '  ok    %s\n' "$what"
	else
		printf '  FAIL  %s\n' "$what"
		T_FAILS=$((T_FAILS + 1))
	fi
}

expect_eq() { # description, expected, got
	if [ "$2" = "$3" ]; then
		printf '  ok    %s\n' "$1"
	else
		printf '  FAIL  %s: expected %s, got %s\n' "$1" "$2" "$3"
		T_FAILS=$((T_FAILS + 1))
	fi
}

# Start a daemon in the background and remember its pid for cleanup.
spawn() {
	"$@" &
	T_PIDS+=($!)
}

cleanup_pids() {
	local p
	for p in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
		wait "$p" 2>/dev/null
	done
	T_PIDS=()
}

# Wait, bounded, until a command succeeds: wait_for SECONDS CMD...
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

# A free loopback port for UDP and TCP alike.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		if ! ss -Haun "sport = :$p" | grep -q . && ! ss -Hatn "sport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

finish() {
	cleanup_pids
	[ "$T_FAILS" -eq 0 ]
}

# Run a command with its output discarded (for use inside check).
quiet() { "$@" >/dev/null 2>&1; }
