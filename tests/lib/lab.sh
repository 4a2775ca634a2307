# tests/lib/lab.sh: what the lab's tests (tests/integration/lab_*.sh)
# add to lib.sh: a lab of their own under this run's prefix (lib_init's),
# brought down at exit whatever happens, and the lab's own names and
# helpers (netns/lib/common.sh: LAB_NODES, lab_v6, lab_pids_alive);
# in_node NODE CMD... is lib.sh's.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export EDGELAB_BIN=$BIN
LAB_ROOT=$EDGELAB_ROOT
. "$EDGELAB_ROOT/netns/lib/common.sh"
LAB=$EDGELAB_ROOT/netns/lab

# lab_test_init NAME: lib_init, root, the lab's tools; `lab down` at exit.
lab_test_init() {
	lib_init "$1"
	need_cmd ip nft
	defer lab_test_down
}

lab_test_down() {
	"$LAB" down --prefix "$T_PREFIX" >/dev/null 2>&1 || true
}

# lab_is_gone: no namespace of the prefix is left, and no state.
lab_is_gone() {
	local left
	left=$(compgen -G "/run/netns/$T_PREFIX-*")
	[ -z "$left" ] || { echo "namespaces left: $left"; return 1; }
	[ ! -e "/run/edgelab/$T_PREFIX" ] || { echo "state dir left: /run/edgelab/$T_PREFIX"; return 1; }
}

# fw_counter FW NAME: packets counted by that named nft counter.
fw_counter() {
	in_node "$1" nft list counter inet edgelab "$2" | awk '/packets/ { print $2 }'
}
