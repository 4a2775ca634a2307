#!/usr/bin/env bash
# scenarios_runner: scenarios/run itself. Bad arguments get one line and
# exit 2; --list names S1-S21; every fault has a symptom pattern;
# a device that does not report a timeout is said and counted so; a caught
# fault names its symptom and leaves its scenario's pcaps, linked from the
# report; a scenario that fails with a bare timeout is no catch; a fault
# whose lab cannot come up is NOT caught (a lab that failed to build proves
# nothing) and fails the run; a lab without its relays does not come up, so
# a scenario that only reads the configuration cannot pass on it; M14
# (genuine TLS only on A/V 443) is caught by the pseudo-TLS scenario while
# the real TLS one passes on its lab. Exit 0
# pass, 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_runner
need_bin hlb
RUN=$EDGELAB_ROOT/scenarios/run
OUT=$T_TMP/out FAKE=$T_TMP/fakebin
mkdir "$OUT" "$FAKE"

# one_line_error CMD...: fails with exit 2 and a single line on stderr.
one_line_error() {
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] && [ -n "$err" ] && [ "$(wc -l <<<"$err")" = 1 ] ||
		{ echo "rc $rc, stderr: $err"; return 1; }
}

check "unknown option" one_line_error "$RUN" --bogus
check "--jobs wants a number" one_line_error "$RUN" --jobs x
check "--lb wants a known balancer" one_line_error "$RUN" --lb nosuch
list=$("$RUN" --list 2>&1)
check_eq "--list names S1-S21" "S1 S2 S3 S4 S5 S6 S7 S8 S9 S10 S11 S12 S13 S14 S15 S16 S17 S18 S19 S20 S21" \
	"$(awk '/^S[0-9]+ / { printf "%s%s", sep, $1; sep = " " }' <<<"$list")"

# Every fault M1-M15 has a symptom pattern, one line each.
check_eq "symptoms.tsv has M1-M15, once each" "M1 M2 M3 M4 M5 M6 M7 M8 M9 M10 M11 M12 M13 M14 M15" \
	"$(awk -F'\t' '/^M[0-9]/ && NF == 3 { printf "%s%s", sep, $1; sep = " " }' "$EDGELAB_ROOT/scenarios/runner/symptoms.tsv")"

# A real fault, one scenario: caught, and the evidence kept.
out=$("$RUN" --mutations --faults M1 --only S1 --results "$OUT/m1" 2>&1)
rc=$?
check_eq "M1 on S1: exit 0" 0 "$rc"
check "M1 on S1: caught, naming SNAT" grep -q '^M1 caught by S1 : .*SNAT' <<<"$out"
check "M1 on S1: the correct lab clean" grep -q 'correct lab clean' <<<"$out"
pcaps=$(find "$OUT/m1/mutations/M1" -name '*.pcap' -size +24c | wc -l)
check "M1 on S1: the failed scenario's pcaps kept ($pcaps)" test "$pcaps" -gt 0
check "M1 on S1: no pcaps kept for the passing correct lab" \
	test -z "$(find "$OUT/m1/mutations/none" -name '*.pcap')"
check "M1 on S1: the report links a pcap" grep -q 'pcap/[a-z]*\.pcap' "$OUT/m1/report.html"
check "M1 on S1: the table shows the matched line" \
	grep -q '^ *S1 *caught *S1: .*SNAT on the A/V service' "$OUT/m1/mutations.txt"

# A balancer that does not say its TCP idle timeout (a vips file without
# ctl-ext or tcp-idle): S3's check is "not reported by the device", said
# in the TAP and counted in the table's totals and in JUnit, not skipped.
printf 'lab-lb nft\n' >"$T_TMP/silent.vips"
out=$("$RUN" --lb none --vips "$T_TMP/silent.vips" --only S3 --jobs 1 --results "$OUT/unrep" 2>&1)
rc=$?
check_eq "S3 on a device that reports no timeout: exit 0" 0 "$rc"
check "...the TAP says 'not reported by the device'" \
	grep -q "^# not reported by the device: S3: the ext balancer's TCP idle timeout" <<<"$out"
check "...the totals count it" grep -q ', 0 read, not observed, 1 not reported by the device in ' <<<"$out"
check "...and JUnit" grep -q '<property name="not_reported_by_device" value="1"/>' "$OUT/unrep/junit.xml"

# --lb external, none's old name: still runs, and says once that it is
# deprecated.
out=$("$RUN" --lb external --vips "$T_TMP/silent.vips" --list 2>&1 >/dev/null)
check_eq "--lb external: one deprecation line" "scenarios/run: --lb external is deprecated: use --lb none" "$out"

# A scenario that fails on a fault's lab with a bare timeout names no
# symptom: S13 under M2 (its edges' connections to the partner time out).
out=$("$RUN" --mutations --faults M2 --only S13 --results "$OUT/m2" 2>&1)
rc=$?
check_eq "M2 on S13 alone: exit 1" 1 "$rc"
check "...S13 failed on the fault's lab" grep -q '^ *S13 *unnamed *S13: .*timed out' "$OUT/m2/mutations.txt"
check "...but a bare timeout is no catch: M2 NOT caught" grep -q "^M2 NOT caught: no scenario's failure names" <<<"$out"

# M10 (a TCP idle timeout under 1800 s) on S3: the normal run waits
# seconds, not half an hour, so S3 reads the timeout from the balancer. A
# catch, but one of a value read, not a flow seen to die: said so.
out=$("$RUN" --mutations --faults M10 --only S3 --results "$OUT/m10" 2>&1)
rc=$?
check_eq "M10 on S3 alone: exit 0" 0 "$rc"
check "...caught, and said to be read from the balancer, not observed" \
	grep -q '^M10 caught by S3 (read from the balancer, not observed) : S3: .*not observed' <<<"$out"
check "...kind 'read' in the table" grep -q '^ *S3 *read *S3: ' "$OUT/m10/mutations.txt"

# M14 breaks only the MS-TURN pseudo-TLS fallback: S19 names it, S6's
# real TLS clients (TURN over TLS, RFC 6062 over TLS) pass on its lab.
out=$("$RUN" --mutations --faults M14 --only S6,S19 --results "$OUT/m14" 2>&1)
rc=$?
check_eq "M14 on S6,S19: exit 0" 0 "$rc"
check "M14: caught by S19 alone, naming genuine TLS only" \
	grep -q '^M14 caught by S19 : S19: .*only genuine TLS through on A/V 443' <<<"$out"
check_eq "M14: S6 (real TLS) passes on the fault's lab" pass "$(cat "$OUT/m14/mutations/M14/S6/result" 2>&1)"

# A lab whose edges have no relay does not come up: S17, which reads the
# lab's addresses and routes only, fails instead of passing on it.
NOAV=$(mktemp -d)
for b in "$BIN"/*; do [ "${b##*/}" = avedge ] || ln -s "$b" "$NOAV/"; done
out=$(SC_BIN=$NOAV "$RUN" --only S17 --jobs 1 --results "$OUT/noav" 2>&1)
rc=$?
rm -rf "$NOAV"
check_eq "S17 on a lab without avedge: exit 1" 1 "$rc"
check "...the lab did not come up, saying avedge is not built" \
	grep -q 'S17: lab up failed: lab: .*/avedge is not built' "$OUT/noav/S17/failures"

# A fault whose lab cannot be built: hlb refuses that fault's option.
for b in "$BIN"/*; do ln -s "$b" "$FAKE/"; done
rm -f "$FAKE/hlb"
printf '#!/bin/sh\ncase "$*" in *no-monitor*) echo "hlb: refusing this fault (test)" >&2; exit 1 ;; esac\nexec %s "$@"\n' \
	"$BIN/hlb" >"$FAKE/hlb"
chmod +x "$FAKE/hlb"
out=$(SC_BIN=$FAKE "$RUN" --mutations --faults M9 --only S1 --results "$OUT/m9" 2>&1)
rc=$?
check_eq "M9 with a lab that cannot come up: exit 1" 1 "$rc"
check "...NOT caught, saying the lab did not come up" \
	grep -q '^M9 NOT caught (its lab did not come up: .*refusing this fault' <<<"$out"
# The labs this run made are the prefixes its results record (each
# scenario's "done": RC MS PREFIX); other runs' labs on this machine come
# and go meanwhile, so /run/edgelab as a whole proves nothing.
labs_left() {
	local p left='' n=0
	for p in $(find "$OUT/m9" -name done -exec awk '{ print $3 }' {} + | sort -u); do
		n=$((n + 1))
		[ -e "/run/edgelab/$p" ] || compgen -G "/run/netns/$p-*" >/dev/null && left+=" $p"
	done
	[ $n -gt 0 ] || { echo "      no lab prefix recorded under $OUT/m9"; return 1; }
	[ -z "$left" ] || { echo "      left:$left"; return 1; }
}
check "...no lab left behind" labs_left
lib_exit
