#!/usr/bin/env bash
# scenarios_thirdparty: the suite against a device built from third-party
# software (issue 14): HAProxy + nginx stream (transparent bind for A/V) +
# nftables, scenarios/devices/haproxy-nginx/, wired into each lab with
# scenarios/wire-device. What the device can serve passes; what it cannot
# (the vips file's expect-fail lines: S8, S9) is reported as a device
# finding, exactly those and nothing else failed. Also: the device
# contract's tables in scenarios/README.md are the lab's data, and a bad
# expect-fail line is refused. Reports in results/integration/thirdparty/.
# Exit 0 pass, 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_thirdparty
need_cmd haproxy nginx socat jq
RUN=$EDGELAB_ROOT/scenarios/run
RES=$EDGELAB_ROOT/results/integration/thirdparty
DEV=$EDGELAB_ROOT/scenarios/devices/haproxy-nginx
VIPS=$DEV/haproxy-nginx.vips
EXPECTED=$(awk '$1 == "expect-fail" { print $2 }' "$VIPS" | sort | tr '\n' ' ')

verdicts() { # ID VERDICT per scenario, as the runner judged them
	local d rc
	for d in "$RES"/S[0-9]*; do
		read -r rc _ <"$d/done"
		if [ "$rc" = 0 ]; then echo "${d##*/} pass"
		elif [ -s "$d/finding" ]; then echo "${d##*/} finding"
		elif [ "$rc" = 77 ]; then echo "${d##*/} skip"
		else echo "${d##*/} fail"; fi
	done
}

findings_exactly() {
	local got
	got=$(verdicts | awk '$2 == "finding" { print $1 }' | sort | tr '\n' ' ')
	echo "    findings: $got (expected: $EXPECTED)"
	[ "$got" = "$EXPECTED" ]
}

others_passed() {
	local bad
	bad=$(verdicts | awk '$2 != "pass" && $2 != "finding"')
	[ -z "$bad" ] || echo "    not passed: $bad"
	[ -z "$bad" ] && [ "$(verdicts | wc -l)" -ge 21 ]
}

reports_say_finding() {
	grep -q "^[0-9]* passed, 0 failed, 0 skipped, $(wc -w <<<"$EXPECTED") device finding(s)" "$RES/summary.txt" &&
		grep -q '^S8   FIND ' "$RES/summary.txt" &&
		grep -q '<property name="device_findings" value="'"$(wc -w <<<"$EXPECTED")"'"/>' "$RES/junit.xml" &&
		grep -q 'skipped message="device finding: nginx open source has no runtime drain' "$RES/junit.xml" &&
		grep -q 'class="b finding">finding' "$RES/report.html"
}

bad_expect_fail() {
	local f=$T_TMP/bad.vips out
	{ grep -v '^expect-fail' "$VIPS"; echo "expect-fail S99 no such scenario"; } >"$f"
	out=$("$RUN" --lb none --vips "$f" --only S1 --results "$T_TMP/bad" 2>&1)
	[ $? = 2 ] && grep -q "expect-fail 'S99': no such scenario" <<<"$out"
}

no_host_listeners() { # the device ran in its namespaces only
	! ss -Hltunp 2>/dev/null | grep -q '"haproxy"\|"nginx"'
}

check "the device contract's tables in scenarios/README.md are netns/plan.tsv's and lb.tsv's" \
	"$EDGELAB_ROOT/scenarios/devices/contract" --check
check "a vips file's expect-fail naming no scenario is refused (exit 2, one line)" bad_expect_fail
check "scenarios/run --lb none on HAProxy + nginx + nftables: nothing fails but the device's findings" \
	"$RUN" --lb none --vips "$VIPS" --jobs 2 --results "$RES"
check "...exactly the vips file's expect-fail scenarios are device findings ($EXPECTED)" findings_exactly
check "...every other scenario passed" others_passed
check "...summary, JUnit and the report call them device findings" reports_say_finding
check "...S9 says why it could not drain: nginx has no runtime API" \
	grep -q 'nginx open source has no runtime API' "$RES/S9/unreported"
check "...S11 read the TCP idle timeout from the ctl adapter's list --json (HAProxy's 1800 s)" \
	grep -q "access-tls 1800s.*from the balancer's list --json" "$RES/S11/read"
check "...S8 says it fell back to the fixed bound: the list gives a passive monitor" \
	grep -q 'monitor.kind passive' "$RES/S8/unreported"
check "no haproxy or nginx listens in the host's own namespace" no_host_listeners
lib_exit
