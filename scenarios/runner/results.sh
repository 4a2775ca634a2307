# shellcheck shell=bash
# scenarios/runner/results.sh: what a scenario left in its results
# directory (done, failures, skips, notes, read, flows), read the same way
# by the TAP stream, the table, JUnit and the mutation check; and the
# results directory made ready for a run. Sourced by scenarios/run.
#
# A scenario's directory (scenarios/lib.sh and runner/labs.sh write it):
#   done      "RC MS PREFIX": its exit status, its time, its lab
#   failures  one line per failed assertion, "Sn: what was expected and what came"
#   skips     "check: why" per skipped check
#   notes     remarks worth a reader's eye that are no failure
#   read      values the scenario read from the balancer but did not observe
#             on the wire ("read, not observed")
#   unreported  values the scenario wanted from the balancer, which did not
#             report them ("not reported by the device")
#   flows     "FLOW Sn FROM DEST/PROTO VERDICT BY" per flow it sent
#   finding   the vips file's reason, when the scenario failed or was
#             skipped and the file's `expect-fail ID REASON` foresaw it: a
#             finding about the device, not a failure of the suite

verdict_of() { # DIR -> pass|fail|skip|finding
	local rc
	read -r rc _ <"$1/done"
	case $rc in
	0) echo pass ;;
	*) if [ -s "$1/finding" ]; then echo finding; elif [ "$rc" = 77 ]; then echo skip; else echo fail; fi ;;
	esac
}

# expect_fail_reason ID: the vips file's reason for expecting ID to fail.
expect_fail_reason() {
	awk -v id="$1" '$1 == id { $1 = ""; sub(/^ +/, ""); print; exit }' <<<"$VIPS_EXPECT_FAIL"
}

# finding_mark DIR ID FAULTS: after DIR/done is written. On the correct
# lab (no fault) a failure or skip the vips file expects becomes a device
# finding (DIR/finding); an expected failure that passed is noted, so a
# stale expect-fail line is seen. Under a fault nothing changes: the
# mutation check judges catches.
finding_mark() {
	local dir=$1 id=$2 reason rc
	[ -z "$3" ] || return 0
	reason=$(expect_fail_reason "$id")
	[ -n "$reason" ] || return 0
	read -r rc _ <"$dir/done"
	case $rc in
	0) echo "$id: the vips file expects a device finding here ($reason), but the scenario passed" >>"$dir/notes" ;;
	130) ;; # interrupted: no verdict about the device
	*) echo "$reason" >"$dir/finding" ;;
	esac
}

first_failure() { # DIR -> the scenario's first one-line reason
	local m=''
	[ -s "$1/failures" ] && m=$(head -n 1 "$1/failures")
	[ -z "$m" ] && [ -s "$1/skips" ] && m=$(head -n 1 "$1/skips")
	[ -z "$m" ] && m=$(grep -v '^#' "$1/log" 2>/dev/null | grep -v '^ *ok ' | tail -n 1)
	echo "$m"
}

lines_of() { # FILE -> how many lines it has (0 when absent)
	if [ -s "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# weakened OUTDIR: "READ UNREPORTED", the suite's checks that only read a
# value from the balancer, and those that could not even read it.
weakened() {
	local id r=0 u=0
	for id in "${IDS[@]}"; do
		r=$((r + $(lines_of "$1/$id/read")))
		u=$((u + $(lines_of "$1/$id/unreported")))
	done
	echo "$r $u"
}

ms_seconds() { # MS -> "S.D" (seconds, one decimal)
	printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
}

clean_results() {
	mkdir -p "$RESULTS"
	rm -rf "$RESULTS"/S[0-9]* "$RESULTS/mutations" "$RESULTS/junit.xml" "$RESULTS/report.html" "$RESULTS/.stop" \
		"$RESULTS/flows.txt" "$RESULTS/summary.txt" "$RESULTS/mutations.txt"
}

collect_flows() { # OUTDIR -> results/flows.txt
	cat "$1"/*/flows 2>/dev/null >"$RESULTS/flows.txt" || true
}
