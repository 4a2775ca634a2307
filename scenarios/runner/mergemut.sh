# shellcheck shell=bash
# scenarios/runner/mergemut.sh: scenarios/merge for the shards of
# `scenarios/run --mutations --shard K/N`. Each shard ran the suite on a
# correct lab and on a lab per fault of its share; the merged directory
# gets every fault's results, its section of the table and its verdict
# line, in fault order, and shard 1's correct lab as the suite's results
# (junit.xml, the report's cards). The correct lab counts as clean only
# when it was clean on every shard. Sourced by scenarios/merge, after
# runner/junit.sh; reads its OWNER, KDIR, N, ALL, LB and VIPS.

# fault_block FILE FAULT: FAULT's section of a mutations.txt (its symptom
# line, then one indented line per scenario that failed on its lab).
fault_block() {
	awk -v f="$2" '/^M[0-9]+ / { on = ($1 == f) } on' "$1"
}

merge_mutations() {
	local mut=$RESULTS/mutations first=${KDIR[1]} k d f id tripped='' uncaught=0 v
	mkdir -p "$mut"
	for k in $(seq 1 "$N"); do
		grep -q '^mutations: .*correct lab clean' "${KDIR[$k]}/summary.txt" || tripped+=" $k/$N"
	done
	cp -r "$first/mutations/none" "$mut/none"
	scenarios_select ""
	v=()
	for id in "${IDS[@]}"; do [ -f "$mut/none/$id/done" ] && v+=("$id"); done
	IDS=("${v[@]}")
	for id in "${IDS[@]}"; do cp -r "$mut/none/$id" "$RESULTS/$id"; done
	: >"$mut/catches.tsv"
	head -n 2 "$first/mutations.txt" >"$RESULTS/mutations.txt" # the blank line and the header
	: >"$RESULTS/summary.txt"
	for f in $ALL; do
		d=${OWNER[$f]}
		cp -r "$d/mutations/$f" "$mut/$f"
		awk -F'\t' -v f="$f" '$1 == f' "$d/mutations/catches.tsv" >>"$mut/catches.tsv"
		fault_block "$d/mutations.txt" "$f" >>"$RESULTS/mutations.txt"
		grep -E "^$f (caught|NOT caught)" "$d/summary.txt" >>"$RESULTS/summary.txt"
		grep -q "^$f NOT caught" "$d/summary.txt" && uncaught=1
	done
	printf 'mutations: %d faults, %s, correct lab %s, merged from %d shards (lb %s)\n' \
		"$(wc -w <<<"$ALL")" "$([ $uncaught = 0 ] && echo "all caught" || echo "SOME NOT CAUGHT")" \
		"$([ -z "$tripped" ] && echo clean || echo "TRIPPED on shard(s)$tripped")" "$N" "$LB" >>"$RESULTS/summary.txt"
	cat "$RESULTS/mutations.txt"
	echo
	cat "$RESULTS/summary.txt"
	junit "$RESULTS" "$LB"
	collect_flows "$RESULTS"
	"$SCEN/report" "$RESULTS" "$LB" "$VIPS" "$mut"
	echo "reports: $RESULTS/report.html $RESULTS/mutations.txt"
	[ $uncaught = 0 ] && [ -z "$tripped" ]
}
