# shellcheck shell=bash
# scenarios/runner/tap.sh: what the terminal gets. TAP (version 13) as the
# scenarios finish, in order, with a YAML block under each `not ok`; then
# the table, one line per scenario, and the totals. Values a scenario only
# read from the balancer are said to be so ("read, not observed"), and those
# it could not read ("not reported by the device"), line by line in the TAP
# and counted in the table. Sourced by scenarios/run,
# after runner/results.sh.

tap_header() {
	echo "TAP version 13"
	echo "1..${#IDS[@]}"
}

# tap_line OUTDIR N ID: TAP for scenario number N (1-based) of a suite.
tap_line() {
	local dir=$1/$3 n=$2 id=$3 v rc ms f
	read -r rc ms _ <"$dir/done"
	v=$(verdict_of "$dir")
	case $v in
	pass)
		printf 'ok %d - %s %s (%s s)\n' "$n" "$id" "${TITLE[$id]}" "$(ms_seconds "$ms")"
		if [ -s "$dir/skips" ]; then sed 's/^/# skipped check: /' "$dir/skips"; fi
		if [ -s "$dir/notes" ]; then sed 's/^/# note: /' "$dir/notes"; fi
		if [ -s "$dir/read" ]; then sed 's/^/# read, not observed: /' "$dir/read"; fi
		if [ -s "$dir/unreported" ]; then sed 's/^/# not reported by the device: /' "$dir/unreported"; fi
		;;
	skip)
		printf 'ok %d - %s %s # SKIP %s\n' "$n" "$id" "${TITLE[$id]}" "$(first_failure "$dir" | sed 's/^[^:]*: //')" ;;
	finding) # TAP's TODO: a failure that was expected, not the suite's
		printf 'not ok %d - %s %s (%s s) # TODO device finding: %s\n' "$n" "$id" "${TITLE[$id]}" "$(ms_seconds "$ms")" "$(<"$dir/finding")"
		echo "  ---"
		echo "  message: \"$(first_failure "$dir" | sed 's/"/\\"/g')\""
		echo "  log: ${dir#"$EDGELAB_ROOT"/}/log"
		echo "  ..."
		if [ -s "$dir/unreported" ]; then sed 's/^/# not reported by the device: /' "$dir/unreported"; fi
		;;
	fail)
		printf 'not ok %d - %s %s (%s s)\n' "$n" "$id" "${TITLE[$id]}" "$(ms_seconds "$ms")"
		echo "  ---"
		echo "  message: \"$(first_failure "$dir" | sed 's/"/\\"/g')\""
		if [ "$(lines_of "$dir/failures")" -gt 1 ]; then
			echo "  failures:"
			tail -n +2 "$dir/failures" | sed 's/"/\\"/g; s/^/    - "/; s/$/"/'
		fi
		echo "  log: ${dir#"$EDGELAB_ROOT"/}/log"
		for f in "$dir"/pcap/*.pcap; do
			if [ -e "$f" ]; then echo "  pcap: ${f#"$EDGELAB_ROOT"/}"; fi
		done
		echo "  ..."
		;;
	esac
}

# flush_tap OUTDIR: the TAP lines of the scenarios that are done, in
# order from NEXT (0-based), which it advances.
flush_tap() {
	while [ "$NEXT" -lt ${#IDS[@]} ] && [ -f "$1/${IDS[$NEXT]}/done" ]; do
		tap_line "$1" $((NEXT + 1)) "${IDS[$NEXT]}"
		NEXT=$((NEXT + 1))
	done
}

# summary OUTDIR: the table, one line per scenario, then the totals (the
# caller ends the line with the time).
summary() {
	local out=$1 id v rc ms prefix pass=0 fail=0 skip=0 find=0 nread=0 nunrep=0 n note
	printf '\n%-4s %-5s %7s  %s\n' id verdict time "scenario / first failure"
	for id in "${IDS[@]}"; do
		read -r rc ms prefix <"$out/$id/done"
		v=$(verdict_of "$out/$id")
		case $v in pass) pass=$((pass + 1)) ;; fail) fail=$((fail + 1)) ;; skip) skip=$((skip + 1)) ;; finding) find=$((find + 1)) ;; esac
		note=''
		if [ "$v" = pass ] && [ -s "$out/$id/skips" ]; then note=" ($(lines_of "$out/$id/skips") check(s) skipped)"; fi
		if [ -s "$out/$id/notes" ]; then note+=" ($(lines_of "$out/$id/notes") note(s))"; fi
		n=$(lines_of "$out/$id/read")
		nread=$((nread + n))
		if [ "$n" -gt 0 ]; then note+=" ($n read, not observed)"; fi
		n=$(lines_of "$out/$id/unreported")
		nunrep=$((nunrep + n))
		if [ "$n" -gt 0 ]; then note+=" ($n not reported by the device)"; fi
		if [ $KEEP = 1 ]; then note+=" [lab $prefix]"; fi
		printf '%-4s %-5s %7ss  %s%s\n' "$id" "$(case $v in fail) echo FAIL ;; finding) echo FIND ;; *) echo "$v" ;; esac)" \
			"$(ms_seconds "$ms")" "${TITLE[$id]}" "$note"
		if [ "$v" = finding ]; then printf '%18sdevice finding: %s\n' '' "$(<"$out/$id/finding")"; fi
		if [ "$v" != pass ]; then printf '%18s%s\n' '' "$(first_failure "$out/$id")"; fi
	done
	printf '%d passed, %d failed, %d skipped, %d device finding(s), %d read, not observed, %d not reported by the device' \
		$pass $fail $skip $find $nread $nunrep
}
