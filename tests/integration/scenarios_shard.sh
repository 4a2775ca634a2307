#!/usr/bin/env bash
# scenarios_shard: scenarios/run --shard K/N and scenarios/merge. A bad
# K/N gets one line and exit 2; the shards of N=2, 3 and more than there
# are scenarios list every scenario exactly once, and with --mutations
# every fault (nothing run for that); two shards run side by side on labs
# of their own, merged, give the verdicts, table and JUnit testcases of
# one whole run of the same scenarios; a failure in a shard is a failure
# of the merge; merge refuses a set with a scenario missing, doubled or
# unfinished, naming it; --mutations shards merged give the fault
# verdicts of one whole --mutations run. Exit 0 pass, 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_shard
need_bin hlb avedge
RUN=$EDGELAB_ROOT/scenarios/run MERGE=$EDGELAB_ROOT/scenarios/merge
OUT=$T_TMP/out
mkdir "$OUT"
# Quick ones (a few seconds each; S4 relays data to the partner, which a
# loaded machine can drop): shard 1/2 takes S1 and S3, 2/2 S2 and S17.
QUICK=S1,S2,S3,S17

# one_line_error CMD...: exit 2 and a single line on stderr.
one_line_error() {
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] && [ -n "$err" ] && [ "$(wc -l <<<"$err")" = 1 ] ||
		{ echo "      rc $rc, stderr: $err"; return 1; }
}
for bad in 0/2 3/2 2 a/b 1/0 -1/2; do
	check "--shard $bad: one line, exit 2" one_line_error "$RUN" --list --shard "$bad"
done

# covers WHOLE PARTS...: every word of WHOLE in exactly one of PARTS.
covers() {
	local whole=$1 all
	shift
	all=$(printf '%s\n' "$@" | tr ' ' '\n' | grep . | sort -V)
	[ "$all" = "$(tr ' ' '\n' <<<"$whole" | grep . | sort -V)" ] ||
		{ echo "      want: $whole"; echo "      got:  $(tr '\n' ' ' <<<"$all")"; return 1; }
}
ids() { "$RUN" --list "$@" | awk '/^S[0-9]+ / { printf "%s ", $1 }'; }
faults() { "$RUN" --list --mutations "$@" | tr '\n' ' '; }
WHOLE=$(ids)
check "--list names scenarios" test "$(wc -w <<<"$WHOLE")" -ge 20
for n in 2 3; do
	parts=()
	for k in $(seq 1 $n); do parts+=("$(ids --shard "$k/$n")"); done
	check "--shard K/$n: every scenario in exactly one shard" covers "$WHOLE" "${parts[@]}"
done
# More shards than faults: some run none, and still each fault once.
for n in 2 3 17; do
	parts=()
	for k in $(seq 1 $n); do parts+=("$(faults --shard "$k/$n")"); done
	check "--mutations --shard K/$n: M1-M15 each in exactly one shard" \
		covers "M1 M2 M3 M4 M5 M6 M7 M8 M9 M10 M11 M12 M13 M14 M15" "${parts[@]}"
done
check_eq "--shard 2/3 is stable: the same share twice" "$(ids --shard 2/3)" "$(ids --shard 2/3)"
check_eq "--faults in any order: the same shards" "$(faults --faults M1,M2,M3 --shard 2/2)" \
	"$(faults --faults M3,M2,M1 --shard 2/2)"
check_eq "--only then --shard: shard 1/2 of $QUICK" "S1 S3 " "$(ids --only "$QUICK" --shard 1/2)"

# One whole run, then the two shards side by side, one job each.
"$RUN" --only "$QUICK" --jobs 2 --results "$OUT/whole" >"$OUT/whole.log" 2>&1
rc_whole=$?
"$RUN" --only "$QUICK" --jobs 1 --shard 1/2 --results "$OUT/s1" >"$OUT/s1.log" 2>&1 &
p1=$!
"$RUN" --only "$QUICK" --jobs 1 --shard 2/2 --results "$OUT/s2" >"$OUT/s2.log" 2>&1 &
p2=$!
wait $p1 && rc1=0 || rc1=$?
wait $p2 && rc2=0 || rc2=$?
passed() { # RC DIR: RC is 0, else what failed in DIR
	[ "$1" = 0 ] && return 0
	cat "$2"/S*/failures 2>/dev/null | sed 's/^/      /'
	return 1
}
check "the whole run of $QUICK passes" passed "$rc_whole" "$OUT/whole"
check "shard 1/2 passes" passed "$rc1" "$OUT/s1"
check "shard 2/2 passes" passed "$rc2" "$OUT/s2"
ran() { (cd "$1" && ls -d S[0-9]* 2>/dev/null | sort -V | tr '\n' ' '); }
check_eq "shard 1/2 ran S1 and S3 alone" "S1 S3 " "$(ran "$OUT/s1")"
check_eq "shard 2/2 ran S2 and S17 alone" "S2 S17 " "$(ran "$OUT/s2")"

# Each lab a prefix of its own, named for its shard (scenario's done: RC MS PREFIX).
prefixes() { cat "$1"/S*/done | awk '{ print $3 }'; }
check_eq "four labs, four prefixes" 4 "$( (prefixes "$OUT/s1"; prefixes "$OUT/s2") | sort -u | wc -l)"
check "shard 1's labs are r1..., shard 2's r2..." \
	test -z "$(prefixes "$OUT/s1" | grep -v '^r1')$(prefixes "$OUT/s2" | grep -v '^r2')"
labs_left() {
	local p left=''
	for p in $( (prefixes "$OUT/s1"; prefixes "$OUT/s2"; prefixes "$OUT/whole") | sort -u); do
		if [ -e "/run/edgelab/$p" ] || compgen -G "/run/netns/$p-*" >/dev/null; then left+=" $p"; fi
	done
	[ -z "$left" ] || { echo "      left:$left"; return 1; }
}
check "no lab left behind" labs_left

# Merged: the same verdicts, table rows and JUnit testcases as the whole run.
"$MERGE" --results "$OUT/merged" "$OUT/s2" "$OUT/s1" >"$OUT/merge.log" 2>&1
check_eq "merge exits as the whole run did" "$rc_whole" "$?"
rows() { awk '/^S[0-9]+ / { print $1, $2 }' "$1/summary.txt"; }
totals() { sed -n 's/ in [0-9]* s .*//p' "$1/summary.txt"; }
cases() { grep -o '<testcase [^>]*name="[^"]*"\|<failure\|<skipped\|<testsuite [^>]*skipped="[0-9]*"' "$1/junit.xml"; }
check "merged: the table has all four" test "$(rows "$OUT/merged" | wc -l)" = 4
check_eq "merged: each scenario's verdict as in the whole run" "$(rows "$OUT/whole")" "$(rows "$OUT/merged")"
check_eq "merged: the totals as in the whole run" "$(totals "$OUT/whole")" "$(totals "$OUT/merged")"
check_eq "merged: the JUnit testcases as in the whole run" "$(cases "$OUT/whole")" "$(cases "$OUT/merged")"
check_eq "merged: report.html has a card for each, with its log" "S1 S2 S3 S17 " \
	"$(grep -o 'class="card v[a-z]*" id="S[0-9]*"' "$OUT/merged/report.html" | sed 's/.*id="//; s/"$//' | sort -V | tr '\n' ' ')"
check "...and the logs are there" test -s "$OUT/merged/S17/log"
check "merged: TAP 1..4 with 4 results" \
	test "$(grep -cE "^ok [1-4] - S(1|2|3|17) " "$OUT/merge.log")" = 4

# A failure in one shard is the merged run's failure.
cp -r "$OUT/s2" "$OUT/s2bad"
read -r _ ms prefix <"$OUT/s2bad/S17/done"
echo "1 $ms $prefix" >"$OUT/s2bad/S17/done"
echo "S17: planted failure" >"$OUT/s2bad/S17/failures"
out=$("$MERGE" --results "$OUT/mbad" "$OUT/s1" "$OUT/s2bad" 2>&1)
check_eq "a shard's failure: merge exits 1" 1 "$?"
check "...the table says S17 FAIL with its line" grep -A1 -q "^S17 *FAIL" "$OUT/mbad/summary.txt"
check "...the TAP says it" grep -q '^not ok 4 - S17 ' <<<"$out"
check "...JUnit counts it" grep -q '<testsuites [^>]*failures="1"' "$OUT/mbad/junit.xml"

# Sets that are not one whole set: refused, naming the scenario.
refused() { # PATTERN DIR...: exit 2, one line matching PATTERN
	local pat=$1 err rc
	shift
	err=$("$MERGE" --results "$OUT/refused" "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] && [ "$(wc -l <<<"$err")" = 1 ] && grep -q -- "$pat" <<<"$err" ||
		{ echo "      rc $rc: $err"; return 1; }
}
check "shard 2/2 not given: 'S2 is missing'" refused 'S2 is missing.*shards not given: 2/2' "$OUT/s1"
check "shard 1/2 twice: 'S1 S3 would be doubled'" refused 'given twice.*S1 S3 would be doubled' "$OUT/s1" "$OUT/s2" "$OUT/s1"
rm "$OUT/s2bad/S2/done"
check "S2 unfinished in its shard: 'S2 is missing'" refused 'S2 is missing: shard 2/2 .* did not finish it' "$OUT/s1" "$OUT/s2bad"
sed -i 's#^shard 2/2#shard 2/3#' "$OUT/s2bad/shard"
check "shards of different N: refused" refused 'not one set' "$OUT/s1" "$OUT/s2bad"
check "not a results directory: refused" refused 'no shard file' "$OUT/s1" "$T_TMP"

# --mutations split over two shards side by side (M1 caught by S1, M3 by
# S2), merged: the verdict per fault of one whole --mutations run.
MUTS=(--mutations --faults M1,M3 --only S1,S2 --jobs 1)
"$RUN" "${MUTS[@]}" --results "$OUT/mwhole" >"$OUT/mwhole.log" 2>&1
rc_mwhole=$?
"$RUN" "${MUTS[@]}" --shard 1/2 --results "$OUT/m1" >"$OUT/m1.log" 2>&1 &
p1=$!
"$RUN" "${MUTS[@]}" --shard 2/2 --results "$OUT/m2" >"$OUT/m2.log" 2>&1 &
p2=$!
wait $p1 $p2
verdicts() { grep -oE '^M[0-9]+ (caught by [^ ]*|NOT caught)|correct lab [a-zA-Z]*' "$1/summary.txt"; }
check "--mutations: the whole run's verdicts" test -n "$(verdicts "$OUT/mwhole")"
check_eq "--mutations shard 1/2 ran M1 alone" "M1" "$(cd "$OUT/m1/mutations" && ls -d M[0-9]* | tr '\n' ' ' | sed 's/ $//')"
"$MERGE" --results "$OUT/mmerged" "$OUT/m1" "$OUT/m2" >"$OUT/mmerge.log" 2>&1
check_eq "--mutations merged: exits as the whole run did" "$rc_mwhole" "$?"
check_eq "--mutations merged: each fault's verdict as in the whole run" "$(verdicts "$OUT/mwhole")" "$(verdicts "$OUT/mmerged")"
check_eq "--mutations merged: the table's sections as in the whole run" \
	"$(grep -oE '^(M[0-9]+|  +S[0-9]+ +[a-z]+)' "$OUT/mwhole/mutations.txt")" \
	"$(grep -oE '^(M[0-9]+|  +S[0-9]+ +[a-z]+)' "$OUT/mmerged/mutations.txt")"
check "--mutations merged: the report has the mutation table" grep -q 'M3' "$OUT/mmerged/report.html"
check "--mutations shard 2/2 not given: 'M3 is missing'" refused 'M3 is missing' "$OUT/m1"
lib_exit
