# lib/common.sh: names, paths and checks every lab command shares.
# Sourced by netns/lab; expects LAB_ROOT (the repository) to be set.

LAB_NODES="client partner fwext hlbext edge1 edge2 hlbint fwint fe inclient"
# sw holds the segments' bridges, so no lab link ever touches the host.
LAB_NAMESPACES="sw $LAB_NODES"
LAB_SEGMENTS="inet dmzext edgeext edgeint dmzint lan0 lan1"
LAB_FAULTS="M1 M2 M3 M4 M5 M6 M7 M8 M9 M10 M11 M12 M13 M14 M15"
LAB_DEFAULT_PREFIX=el # node N of lab P lives in namespace P-N
LAB_RUN=${EDGELAB_RUN:-/run/edgelab}
# Installed (cmake --install): the binaries are where installed.sh says.
if [ -f "$LAB_ROOT/installed.sh" ]; then
	LAB_BIN=${EDGELAB_BIN:-$(EDGELAB_ROOT=$LAB_ROOT; . "$LAB_ROOT/installed.sh"; echo "$EDGELAB_INSTALLED_BIN")}
else
	LAB_BIN=${EDGELAB_BIN:-$LAB_ROOT/build/bin}
fi

lab_die() {
	echo "lab: $*" >&2
	exit 1
}

# A prefix is 1-8 of [a-z0-9]: namespace names stay short, and a vendor
# wiring a device to a segment can name a host-side link PREFIX+SEGMENT
# (at most 15 characters) without clashing with another lab.
lab_prefix_check() {
	local p=$1
	[[ $p =~ ^[a-z0-9]{1,8}$ ]] ||
		lab_die "bad prefix '$p': use 1-8 characters from [a-z0-9]"
}

lab_node_check() {
	local n
	for n in $LAB_NAMESPACES; do
		[ "$n" = "$1" ] && return 0
	done
	lab_die "unknown node '$1' (nodes: $LAB_NAMESPACES)"
}

lab_segment_check() {
	local s
	for s in $LAB_SEGMENTS; do
		[ "$s" = "$1" ] && return 0
	done
	lab_die "unknown segment '$1' (segments: $LAB_SEGMENTS)"
}

lab_need_root() {
	[ "$(id -u)" -eq 0 ] || lab_die "must run as root (it builds network namespaces); try: sudo $0 $*"
}

lab_need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			lab_die "missing tool '$t' (Debian: apt-get install iproute2 nftables tcpdump openssl)"
	done
}

# The lab's namespaces that exist right now (a half-built lab has some).
lab_ns_existing() {
	local n
	for n in $LAB_NAMESPACES; do
		[ -e "/run/netns/$LAB_PREFIX-$n" ] && echo "$n"
	done
	return 0
}

lab_state_get() { # KEY -> value from the state's env file, or empty
	local k v
	[ -f "$LAB_STATE/env" ] || return 0
	while IFS='=' read -r k v; do
		[ "$k" = "$1" ] || continue
		v=${v#\'}
		echo "${v%\'}"
		return 0
	done <"$LAB_STATE/env"
}

# IPv6 mirror of an IPv4 address or prefix: the same mapping as lib/v6.awk
# (see there and PLAN.md), in bash so daemons' arguments cost no process:
# lab_v6_set ADDR puts it in LAB_V6, lab_v6 ADDR prints it.
lab_v6() {
	lab_v6_set "$1"
	echo "$LAB_V6"
}

lab_v6_set() {
	local a=${1%/*} len='' p g i best=0 bestlen=1 run=0 s=''
	[ "$a" != "$1" ] && len=${1#*/}
	IFS=. read -r -a p <<<"$a"
	g=(2001 db8 $((p[0])) $((p[1])) $((p[2])) 0 0 $((p[3])))
	for i in 0 1 2 3 4 5 6 7; do
		if [ "${g[i]}" = 0 ]; then run=$((run + 1)); else run=0; fi
		if [ $run -gt $bestlen ]; then bestlen=$run; best=$((i - run + 2)); fi
	done
	for ((i = 1; i <= 8; i++)); do
		if [ $best -gt 0 ] && [ $i -eq $best ]; then
			s+="::"; i=$((i + bestlen - 1)); continue
		fi
		[ -n "$s" ] && [ "${s: -1}" != : ] && s+=:
		s+=${g[i - 1]}
	done
	if [ "$len" = 32 ]; then s+=/128; elif [ -n "$len" ]; then s+=/$((32 + 2 * len)); fi
	LAB_V6=$s
}

lab_pids_alive() { # PID... -> true if any of them still runs
	local p stat
	for p in "$@"; do
		# A zombie (state Z) has exited; only its parent can reap it.
		read -r stat 2>/dev/null <"/proc/$p/stat" || continue
		stat=${stat##*) }
		[ "${stat%% *}" != Z ] && return 0
	done
	return 1
}

lab_pid_start() { # PID -> its start time (field 22 of /proc/PID/stat)
	local stat f
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	read -r -a f <<<"${stat##*) }"
	echo "${f[19]}"
}
