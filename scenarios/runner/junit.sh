# shellcheck shell=bash
# scenarios/runner/junit.sh: results/junit.xml, one testcase per scenario
# with its time; a failure carries the first failure as its message and the
# scenario's log as its body; notes, values read, not observed, and those
# not reported by the device go to the testcase's system-out, and the
# suite's properties count the last two. Sourced by scenarios/run, after
# runner/results.sh.

xml_escape() { sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g'; }

# junit OUTDIR NAME
junit() {
	local out=$1 name=$2 id v rc ms total=0 fail=0 skip=0 find=0 nread nunrep
	for id in "${IDS[@]}"; do
		read -r rc ms _ <"$out/$id/done"
		total=$((total + ms))
		v=$(verdict_of "$out/$id")
		# JUnit has no expected failure: a device finding is a skip
		# whose message says so (and a property counts them).
		case $v in fail) fail=$((fail + 1)) ;; skip | finding) skip=$((skip + 1)) ;; esac
		[ "$v" = finding ] && find=$((find + 1))
	done
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		printf '<testsuites name="edgelab scenarios" tests="%d" failures="%d" skipped="%d" time="%d.%03d">\n' \
			${#IDS[@]} $fail $skip $((total / 1000)) $((total % 1000))
		printf '  <testsuite name="%s" tests="%d" failures="%d" skipped="%d" time="%d.%03d">\n' \
			"$name" ${#IDS[@]} $fail $skip $((total / 1000)) $((total % 1000))
		# Checks weakened to reading the balancer, or to not even that.
		read -r nread nunrep <<<"$(weakened "$out")"
		printf '    <properties><property name="read_not_observed" value="%d"/><property name="not_reported_by_device" value="%d"/><property name="device_findings" value="%d"/></properties>\n' \
			"$nread" "$nunrep" "$find"
		for id in "${IDS[@]}"; do
			read -r rc ms _ <"$out/$id/done"
			v=$(verdict_of "$out/$id")
			printf '    <testcase classname="scenarios.%s" name="%s %s" file="scenarios/%s" time="%d.%03d">' \
				"$name" "$id" "$(xml_escape <<<"${TITLE[$id]}")" "$(basename "${FILE[$id]}")" $((ms / 1000)) $((ms % 1000))
			case $v in
			fail)
				printf '\n      <failure message="%s">' "$(first_failure "$out/$id" | xml_escape)"
				xml_escape <"$out/$id/log"
				printf '</failure>\n    ' ;;
			skip) printf '<skipped message="%s"/>' "$(first_failure "$out/$id" | xml_escape)" ;;
			finding) printf '<skipped message="device finding: %s (%s)"/>' "$(xml_escape <"$out/$id/finding")" "$(first_failure "$out/$id" | xml_escape)" ;;
			esac
			if [ -s "$out/$id/notes" ] || [ -s "$out/$id/read" ] || [ -s "$out/$id/unreported" ]; then
				printf '<system-out>'
				{
					if [ -s "$out/$id/notes" ]; then sed 's/^/note: /' "$out/$id/notes"; fi
					if [ -s "$out/$id/read" ]; then sed 's/^/read, not observed: /' "$out/$id/read"; fi
					if [ -s "$out/$id/unreported" ]; then sed 's/^/not reported by the device: /' "$out/$id/unreported"; fi
				} | xml_escape
				printf '</system-out>'
			fi
			printf '</testcase>\n'
		done
		echo '  </testsuite>'
		echo '</testsuites>'
	} >"$RESULTS/junit.xml"
}
