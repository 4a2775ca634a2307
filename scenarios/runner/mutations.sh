# shellcheck shell=bash
# scenarios/runner/mutations.sh: the mutation check (SPEC section 6). The
# suite runs on a correct lab, which must trip nothing, and on a lab with
# each fault; a fault is caught when a scenario failed on its lab with a
# line that names the fault's symptom (runner/symptoms.tsv). A scenario
# that failed otherwise (a bare timeout, another symptom) is listed, but
# it is no catch; nor is one whose lab never came up.
#
# To keep that to minutes, each fault gets one lab on which the scenarios
# that leave a lab as they found it run one after another, and a lab of
# their own for those that break a node ("# lab: own": S8 kills a relay,
# S9 drains a node). That is 3 labs per fault instead of 17; all of it
# through one pool of JOBS.
#
# Writes RESULTS/mutations/FAULT/ID/ (each scenario's results),
# RESULTS/mutations/catches.tsv (for the report: FAULT ID KIND LINE LOG,
# KIND caught, unnamed or lab), RESULTS/mutations.txt (the table) and
# RESULTS/summary.txt. Sourced by scenarios/run, after runner/tap.sh.

MUT=$RESULTS/mutations
SYMPTOMS=$RUNNER/symptoms.tsv
# What a line says when nothing came back: taken out before matching.
TIMEOUT_PHRASES='\(?((TCP )?connect timed out|timed out after [0-9]+ m?s|(no answer|nothing came back) within [0-9]+ ms)\)?'

symptom_of() { # FAULT -> "SYMPTOM<TAB>PATTERN" from symptoms.tsv
	awk -F'\t' -v f="$1" '$1 == f { print $2 "\t" $3; exit }' "$SYMPTOMS"
}

# matched_line FAULT DIR: the scenario's first failure line that names the
# fault's symptom, or nothing.
matched_line() {
	local sym pat line
	IFS=$'\t' read -r sym pat <<<"$(symptom_of "$1")"
	[ -n "$pat" ] && [ -s "$2/failures" ] || return 0
	while IFS= read -r line; do
		if sed -E "s/$TIMEOUT_PHRASES//g" <<<"$line" | grep -qE -- "$pat"; then
			echo "$line"
			return 0
		fi
	done <"$2/failures"
}

# lab_broken DIR: the scenario's lab never came up (or was never wired to
# the device): its failure says nothing about the fault.
lab_broken() {
	local m=''
	[ -s "$1/failures" ] && read -r m <"$1/failures"
	[[ $m == *": lab up failed"* || $m == *"wire-up failed"* ]]
}

# judge FAULT: one line per scenario that failed on the fault's lab,
# "ID<TAB>KIND<TAB>LINE", KIND caught (LINE names the symptom), read
# (it does, from a value read from the balancer, "not observed" on the
# wire: a catch, said to be one of that kind), unnamed
# (failed, but no line names it: LINE is the first) or lab (its lab never
# came up). Also into catches.tsv.
judge() {
	local f=$1 id d line kind
	for id in "${IDS[@]}"; do
		d=$MUT/$f/$id
		[ -f "$d/done" ] && [ "$(verdict_of "$d")" = fail ] || continue
		if lab_broken "$d"; then
			kind=lab line=$(first_failure "$d")
		else
			line=$(matched_line "$f" "$d")
			if [ -z "$line" ]; then kind=unnamed line=$(first_failure "$d")
			elif [[ $line == *"not observed"* ]]; then kind=read
			else kind=caught; fi
		fi
		printf '%s\t%s\t%s\n' "$id" "$kind" "$line"
		printf '%s\t%s\t%s\t%s\t%s\n' "$f" "$id" "$kind" "$line" "${d#"$RESULTS"/}/log" >>"$MUT/catches.tsv"
	done
}

mutation_pool() {
	local f id out job jobs=() shared=() own=()
	for id in "${ORDER[@]}"; do
		if grep -q '^# lab: own' "${FILE[$id]}"; then own+=("$id"); else shared+=("$id"); fi
	done
	for f in none $FAULTS; do
		jobs+=("$f shared")
		for id in "${own[@]}"; do jobs+=("$f $id"); done
	done
	POOL_RUNNING=0
	for job in "${jobs[@]}"; do
		read -r f id <<<"$job"
		out=$MUT/$f
		mkdir -p "$out"
		if [ "$id" != shared ] && beside_pool "$id"; then
			run_beside "$out" "$id" "$([ $f = none ] || echo $f)"
			continue
		fi
		while [ $POOL_RUNNING -ge "$JOBS" ]; do pool_wait; done
		if [ "$id" = shared ]; then
			[ ${#shared[@]} -gt 0 ] || continue
			run_shared "$out" "$([ $f = none ] || echo $f)" "${shared[@]}" &
		else
			run_one "$out" "$id" "$([ $f = none ] || echo $f)" &
		fi
		POOL_RUNNING=$((POOL_RUNNING + 1))
	done
	wait
}

mutations_main() {
	local f id n=1 uncaught=0 tripped='' sym pat kind line caught first seen how
	declare -A verdict=() why=()
	mutation_pool
	# The correct lab's results are the suite's results (report, junit).
	for id in "${IDS[@]}"; do cp -r "$MUT/none/$id" "$RESULTS/$id"; done
	junit "$RESULTS" "$LB"
	collect_flows "$RESULTS"
	: >"$MUT/catches.tsv"

	echo "TAP version 13"
	echo "1..$((1 + $(wc -w <<<"$FAULTS")))"
	for id in "${IDS[@]}"; do
		if [ "$(verdict_of "$MUT/none/$id")" = fail ]; then tripped+=" $id"; fi
	done
	if [ -z "$tripped" ]; then
		echo "ok 1 - the correct lab trips no scenario"
	else
		echo "not ok 1 - the correct lab trips:$tripped"
		for id in $tripped; do echo "# $(first_failure "$MUT/none/$id")"; done
	fi
	{
		printf '\n%-5s  %-4s  %-8s  %s\n' fault by verdict "line (caught: the line that names the symptom)"
		for f in $FAULTS; do
			n=$((n + 1))
			IFS=$'\t' read -r sym pat <<<"$(symptom_of "$f")"
			caught=() first='' seen=''
			printf '%-5s  %s\n' "$f" "symptom: $sym"
			while IFS=$'\t' read -r id kind line; do
				[ -n "$id" ] || continue
				case $kind in
				caught | read)
					caught+=("$id")
					[ -n "$first" ] || first=$line
					[ $kind = caught ] && seen=1 ;;
				lab) why[$f]=" (its lab did not come up: $line)" ;;
				esac
				printf '%-5s  %-4s  %-8s  %s\n' '' "$id" "$kind" "$line"
			done < <(judge "$f")
			if [ ${#caught[@]} -eq 0 ]; then
				uncaught=1
				verdict[$f]="$f NOT caught${why[$f]:-": no scenario's failure names the symptom ($sym)"}"
				echo "not ok $n - ${verdict[$f]}" >&3
			else
				# Only read from the balancer, nowhere seen on the wire: said so.
				how=''
				[ -n "$seen" ] || how=' (read from the balancer, not observed)'
				verdict[$f]="$f caught by $(tr ' ' , <<<"${caught[*]}")$how : $first"
				echo "ok $n - $f caught by $(tr ' ' , <<<"${caught[*]}")$how ($sym)" >&3
			fi
		done
	} 3>&1 >"$RESULTS/mutations.txt"
	cat "$RESULTS/mutations.txt"
	echo
	for f in $FAULTS; do echo "${verdict[$f]}"; done | tee "$RESULTS/summary.txt"
	printf 'mutations: %d faults, %s, correct lab %s, in %d s (lb %s, jobs %d%s)\n' \
		"$(wc -w <<<"$FAULTS")" "$([ $uncaught = 0 ] && echo "all caught" || echo "SOME NOT CAUGHT")" \
		"$([ -z "$tripped" ] && echo clean || echo "TRIPPED:$tripped")" \
		$((($(now_ms) - T0) / 1000)) "$LB" "$JOBS" "$([ "$LONG" = 1 ] && echo ", long")" | tee -a "$RESULTS/summary.txt"
	"$SCEN/report" "$RESULTS" "$LB" "$VIPS" "$MUT"
	echo "reports: ${RESULTS#"$EDGELAB_ROOT"/}/report.html ${RESULTS#"$EDGELAB_ROOT"/}/mutations.txt"
	[ $uncaught = 0 ] && [ -z "$tripped" ]
}
