# shellcheck shell=bash
# scenarios/runner/labs.sh: running scenarios on labs. Each scenario of the
# suite gets a fresh lab of its own (the scenario brings it up and down; a
# scenario killed by its timeout has its lab taken down here); the mutation
# check also runs several scenarios one after another on one shared lab.
# JOBS at a time, longest first by the last run's times. Sourced by
# scenarios/run, after runner/results.sh and before runner/tap.sh.

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# vips_hook PREFIX CMD LOG: the vips file's wire-up or wire-down for one
# lab (bash, from the repository root, LAB_PREFIX set).
vips_hook() {
	(cd "$EDGELAB_ROOT" && LAB_PREFIX=$1 timeout 60 bash -c "$2") >>"$3" 2>&1
}

# scenario_exec DIR ID PREFIX FAULTS [ENV...]: the scenario's script under
# its timeout, its output in DIR/log; returns its exit status and says so
# in DIR/failures when the timeout killed it.
scenario_exec() {
	local dir=$1 id=$2 prefix=$3 faults=$4 rc
	shift 4
	env "$@" SC_OUT="$dir" SC_PREFIX="$prefix" SC_FAULTS="$faults" \
		timeout -k 5 "$SCEN_TIMEOUT" bash "${FILE[$id]}" >"$dir/log" 2>&1 &
	echo $! >"$dir/.pid"
	wait $! && rc=0 || rc=$?
	rm -f "$dir/.pid"
	case $rc in
	124 | 137) echo "$id: timed out after ${SCEN_TIMEOUT} s" >>"$dir/failures" ;;
	esac
	return $rc
}

# lab_prefix_new: a lab prefix nobody uses (tests/lib/lib.sh), "r" and
# random; a shard's labs start with its number (r1..., r2...), so that
# the labs of shards run side by side tell whose they are.
lab_prefix_new() {
	if [ "${SHARD_N:-1}" -gt 1 ]; then prefix_new "r$SHARD_K"; else prefix_new r; fi
}

# run_one OUTDIR ID FAULTS: one scenario on a lab of its own. Leaves
# OUTDIR/ID/done: "RC MS PREFIX".
run_one() {
	local dir=$1/$2 id=$2 faults=$3 prefix t0 rc
	mkdir -p "$dir"
	prefix=$(lab_prefix_new)
	t0=$(now_ms)
	scenario_exec "$dir" "$id" "$prefix" "$faults" && rc=0 || rc=$?
	# Whatever the scenario left (killed by the timeout): its lab goes,
	# and what the vips file's wire-up made for it.
	if [ $KEEP = 0 ] && { [ -e "/run/edgelab/$prefix" ] || [ -e "/run/netns/$prefix-sw" ]; }; then
		if [ "$LB" = external ] && [ -n "$VIPS_WIRE_DOWN" ]; then
			vips_hook "$prefix" "$VIPS_WIRE_DOWN" "$dir/log" || true
		fi
		"$LAB" down --prefix "$prefix" >>"$dir/log" 2>&1 || true
	fi
	echo "$rc $(($(now_ms) - t0)) $prefix" >"$dir/done"
	finding_mark "$dir" "$id" "$faults"
}

# run_shared OUTDIR FAULT ID...: one lab, the scenarios in turn on it.
run_shared() {
	local out=$1 fault=$2 prefix lb up=0 id t0 rc
	shift 2
	mkdir -p "$out"
	prefix=$(lab_prefix_new)
	lb=$(SC_LB=$LB sc_lab_lb)
	if "$LAB" up --prefix "$prefix" --lb "$lb" ${fault:+--fault "$fault"} >"$out/shared-lab.log" 2>&1; then
		up=1
		if [ "$LB" = external ] && [ -n "$VIPS_WIRE_UP" ]; then
			vips_hook "$prefix" "$VIPS_WIRE_UP" "$out/shared-lab.log" || up=0
		fi
	fi
	for id; do
		mkdir -p "$out/$id"
		t0=$(now_ms)
		if [ $up = 1 ]; then
			[ -f "$RESULTS/.stop" ] && { echo "$id: interrupted" >"$out/$id/failures"; echo "130 0 $prefix" >"$out/$id/done"; continue; }
			scenario_exec "$out/$id" "$id" "$prefix" "$fault" SC_SHARED=1 && rc=0 || rc=$?
		else
			echo "$id: lab up failed: $(tail -n 2 "$out/shared-lab.log" | tr '\n' ' ')" >"$out/$id/failures"
			rc=1
		fi
		echo "$rc $(($(now_ms) - t0)) $prefix" >"$out/$id/done"
		finding_mark "$out/$id" "$id" "$fault"
	done
	[ $KEEP = 1 ] && return 0
	if [ "$LB" = external ] && [ -n "$VIPS_WIRE_DOWN" ]; then
		vips_hook "$prefix" "$VIPS_WIRE_DOWN" "$out/shared-lab.log" || true
	fi
	"$LAB" down --prefix "$prefix" >>"$out/shared-lab.log" 2>&1 || true
}

# pool_wait: one job ended: a slot of the pool is free, or one beside it
# (BESIDE, their pids).
BESIDE=' ' BESIDE_RUNNING=0
pool_wait() {
	local pid=''
	wait -n -p pid || true
	if [[ $BESIDE == *" $pid "* ]]; then
		BESIDE=${BESIDE/ $pid / }
		BESIDE_RUNNING=$((BESIDE_RUNNING - 1))
		return 0
	fi
	POOL_RUNNING=$((POOL_RUNNING - 1))
}

# A scenario that mostly waits ("# pool: beside", S21's silences) runs
# beside the pool: it takes no slot from those that work the CPU. Up to
# JOBS of them at once (the mutation check has one per fault).
beside_pool() { grep -q '^# pool: beside' "${FILE[$1]}"; }

# run_beside OUTDIR ID FAULTS: run_one in the background, beside the pool.
run_beside() {
	while [ $BESIDE_RUNNING -ge "$JOBS" ]; do pool_wait; done
	run_one "$@" &
	BESIDE+="$! "
	BESIDE_RUNNING=$((BESIDE_RUNNING + 1))
}

# run_suite OUTDIR FAULTS: every selected scenario, JOBS at a time, each on
# its own lab; the TAP lines in order as results come in (runner/tap.sh).
run_suite() {
	local out=$1 faults=$2 id
	mkdir -p "$out"
	POOL_RUNNING=0 NEXT=0
	# Those beside the pool first: they set the suite's shortest time.
	for id in "${ORDER[@]}"; do
		if beside_pool "$id"; then run_beside "$out" "$id" "$faults"; fi
	done
	for id in "${ORDER[@]}"; do
		beside_pool "$id" && continue
		while [ $POOL_RUNNING -ge "$JOBS" ]; do
			pool_wait
			flush_tap "$out"
		done
		run_one "$out" "$id" "$faults" &
		POOL_RUNNING=$((POOL_RUNNING + 1))
	done
	while [ $POOL_RUNNING -gt 0 ]; do
		pool_wait
		flush_tap "$out"
	done
	wait
	flush_tap "$out"
}

# Longest first (by the last run's times, kept in RESULTS/durations), so
# that the pool does not end waiting on one long scenario.
launch_order() {
	local id ms
	declare -A last=()
	if [ -f "$RESULTS/durations" ]; then
		while read -r id ms; do last[$id]=$ms; done <"$RESULTS/durations"
	fi
	for id in "${IDS[@]}"; do echo "${last[$id]:-999999} $id"; done | sort -s -k1,1nr | cut -d' ' -f2
}

save_durations() { # OUTDIR: this run's times, the others' kept
	local id rc ms
	declare -A d=()
	if [ -f "$RESULTS/durations" ]; then
		while read -r id ms; do d[$id]=$ms; done <"$RESULTS/durations"
	fi
	for id in "${IDS[@]}"; do
		read -r rc ms _ <"$1/$id/done" && d[$id]=$ms
	done
	for id in "${!d[@]}"; do echo "$id ${d[$id]}"; done | sort -V >"$RESULTS/durations"
}

# Interrupted (^C, TERM): every running scenario gets TERM through its
# timeout (each then takes its own lab down), nothing new starts, and the
# shared labs of --mutations go down after their current scenario.
on_interrupt() {
	trap - INT TERM
	echo "scenarios/run: interrupted; stopping the scenarios and their labs" >&2
	touch "$RESULTS/.stop"
	find "$RESULTS" -name .pid -exec cat {} + 2>/dev/null | while read -r p; do kill -TERM "$p" 2>/dev/null; done
	wait
	rm -f "$RESULTS/.stop"
	exit 130
}
