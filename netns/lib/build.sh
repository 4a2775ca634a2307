# lib/build.sh: brings the compiled topology up and tears a lab down (R5).
# Up costs a handful of processes: one `ip -batch` for all namespaces, one
# sysctl and one `ip -batch` per namespace (run side by side), one nft per
# firewall.

# Runs "$@" once per argument word in $list, all at once, and fails if any
# failed. Used for work that is independent per namespace.
lab_each() {
	local list=$1 n pids=() rc=0
	shift
	for n in $list; do
		# The child must not run the caller's teardown traps itself.
		(
			trap - ERR INT TERM
			"$@" "$n"
		) &
		pids+=($!)
	done
	for n in "${pids[@]}"; do
		wait "$n" || rc=1
	done
	return $rc
}

lab_ns_sysctl() { # DIR NODE: the fallback when lab-sysctl is not built
	# shellcheck disable=SC2046 # one key=value per word
	ip netns exec "$LAB_PREFIX-$2" sysctl -q -w $(<"$1/$2.sysctl") >/dev/null
}

lab_ns_batch() { # DIR NODE
	ip -n "$LAB_PREFIX-$2" -batch "$1/$2.batch"
}

lab_fw_load() { # FW
	local faults f args=()
	faults=$(<"$LAB_STATE/faults")
	for f in $faults; do args+=(--fault "$f"); done
	"$LAB_NETNS/nftgen" "${args[@]}" "$1" >"$LAB_STATE/$1.nft"
	ip netns exec "$LAB_PREFIX-$1" nft -f "$LAB_STATE/$1.nft"
}

# lab_topology_up DIR: namespaces, then sysctls (before any link exists, so
# DAD is off from the start), then the switch with every veth (each peer is
# created straight inside its node's namespace), then each node's addresses
# and routes, then the firewalls.
lab_topology_up() {
	local dir=$1 n args=() tool
	ip -batch "$dir/netns.batch"
	if tool=$(lab_bin lab-sysctl); then
		for n in sw $LAB_NODES; do args+=("$LAB_PREFIX-$n" "$dir/$n.sysctl"); done
		"$tool" "${args[@]}"
	else
		lab_each "sw $LAB_NODES" lab_ns_sysctl "$dir"
	fi
	lab_ns_batch "$dir" sw
	lab_each "$LAB_NODES" lab_ns_batch "$dir"
	lab_each "fwext fwint" lab_fw_load
}

# The pids of every process inside the given namespaces (what `exec` or a
# killed `up` left there): two stat(1) calls instead of one `ip netns pids`
# per namespace. A namespace file and /proc/PID/ns/net of a process in it
# share an inode number.
lab_ns_pids() { # NAMESPACE...
	local files=() n
	for n in "$@"; do files+=("/run/netns/$n"); done
	{
		stat -L -c 'ns %i' "${files[@]}" 2>/dev/null || true
		stat -L -c 'pid %i %n' /proc/[0-9]*/ns/net 2>/dev/null || true # some exit meanwhile
	} | awk '$1 == "ns" { ns[$2] = 1; next }
		$2 in ns { split($3, p, "/"); if (p[3] != "self" && p[3] != "thread-self") print p[3] }'
}

# lab_topology_down: every process inside the lab's namespaces, then the
# namespaces. Works on any half-built lab and twice in a row.
lab_topology_down() {
	local n names=() pids batch=""
	for n in $(lab_ns_existing); do
		names+=("$LAB_PREFIX-$n")
		batch+="netns del $LAB_PREFIX-$n"$'\n'
	done
	[ -n "$batch" ] || return 0
	# Only processes inside this lab's own namespaces; the daemons the lab
	# started were already stopped by their recorded pids.
	pids=$(lab_ns_pids "${names[@]}")
	if [ -n "$pids" ]; then
		kill -KILL $pids 2>/dev/null || true
		for _ in $(seq 50); do # bounded: 5 s for the killed to be gone
			lab_pids_alive $pids || break
			sleep 0.1
		done
	fi
	ip -force -batch - <<<"$batch" 2>/dev/null || true
	for _ in $(seq 50); do # bounded: 5 s
		[ -z "$(lab_ns_existing)" ] && return 0
		sleep 0.1
	done
	lab_die "namespaces of $LAB_PREFIX still exist: $(lab_ns_existing | tr '\n' ' ')"
}
