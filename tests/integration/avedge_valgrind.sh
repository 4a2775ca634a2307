#!/usr/bin/env bash
# avedge under valgrind: no memory errors and no leaks in any run, and no
# heap allocation per relayed packet. For channels, then Send
# indications: two runs of coturn's uclient that differ only in how many
# packets they relay (100, then 1000 per client: 3600 more relayed
# packets), each against a fresh avedge under memcheck. Every run must
# relay with zero loss, end with a memcheck report of 0 errors and 0 bytes
# definitely or indirectly lost. And the two runs must make exactly the
# same number of heap allocations ("total heap usage: N allocs"): the
# same requests are answered in both (Allocates, permissions, channels;
# only the packet count differs), so any difference is allocation per
# packet. avedge_requests_total tells whether the requests were the same
# (uclient retransmits a request that a slow, valgrind-run avedge answers
# late): a pair whose counts differ proves nothing either way and is run
# again, up to 3 times.
. "$(dirname "$0")/../lib/lib.sh"
lib_init avedge_valgrind
need_bin avedge
need_cmd valgrind turnutils_uclient turnutils_peer
setup_ns NS
for a in 10.99.0.1 10.99.0.2 10.99.0.3; do in_ns "$NS" ip addr add $a/32 dev lo; done
spawn ip netns exec "$NS" turnutils_peer -L 10.99.0.3 -p 3480

# Up once its sockets are bound: no probe of ours may reach it, so that
# both runs of a pair answer the very same requests.
bound() {
	local o
	o=$(in_ns "$NS" ss -Hlnut)
	grep -qF '10.99.0.1:3478' <<<"$o" && grep -qF '10.99.0.1:9100' <<<"$o"
}
metric() { # NAME: from avedge's /metrics (bash's /dev/tcp)
	in_ns "$NS" timeout 10 bash -c 'exec 3<>/dev/tcp/10.99.0.1/9100 || exit 1
		printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3' |
		tr -d '\r' | awk -v k="$1" '$1 == k { print $2; exit }'
}

# run LABEL UCLIENT-ARGS...: one avedge under valgrind, one uclient run.
# Sets ALLOCS (valgrind's count), REQS (requests avedge answered), and
# checks the run's relaying and memcheck's report.
run() {
	local label=$1 log=$T_TMP/$1.vg pid rc sum lost
	shift
	ALLOCS='' REQS=''
	spawn ip netns exec "$NS" valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=3 --log-file="$log" "$BIN/avedge" --threads 1 \
		--listen 10.99.0.1:3478/udp --metrics 10.99.0.1:9100 \
		--relay-ip 10.99.0.2 --user alice:secret --realm edge.lab --log-level warn
	pid=$SPAWNED
	slowwait 60 bound || { check "$label: avedge started under valgrind" false; stop_pids "$pid"; return; }
	in_ns "$NS" timeout 120 turnutils_uclient -u alice -w secret -e 10.99.0.3 -m 2 -l 120 \
		-z 1 "$@" 10.99.0.1 >"$T_TMP/$label.uc" 2>&1
	REQS=$(metric avedge_requests_total)
	kill -INT "$pid"
	slowwait 60 not_running "$pid" || kill -9 "$pid"
	reap "$pid"
	rc=$?
	lost=$(grep -o 'Total lost packets [0-9]* ([0-9.]*%)' "$T_TMP/$label.uc" | tail -1)
	ALLOCS=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$log" | tr -d ,)
	sum=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tr -d ,)
	echo "    $label: ${lost:-no loss verdict}; ${ALLOCS:-?} allocs, ${REQS:-?} requests," \
		"${sum:-?} errors, lost (definitely, indirectly) $(leaks "$log") bytes; exit $rc"
	check "$label: relayed with zero loss" grep -q '^Total lost packets 0 ' <<<"$lost"
	check "$label: memcheck: 0 errors, 0 bytes definitely or indirectly lost (exit $rc)" \
		test "$rc" -eq 0 -a "${sum:-x}" = 0 -a "$(leaks "$log")" = "0 0"
}

leaks() { # LOG: "DEFINITELY INDIRECTLY" lost bytes; "0 0" when all was freed
	if grep -q 'All heap blocks were freed' "$1"; then
		echo "0 0"
	else
		echo "$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$1" | tr -d ,)" \
			"$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$1" | tr -d ,)"
	fi
}

same_count() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" = "$2" ]; }

for mode in channel send; do
	flag=()
	[ $mode = send ] && flag=(-s)
	for pair in 1 2 3; do
		run "${mode}100-$pair" "${flag[@]}" -n 100
		a_allocs=$ALLOCS a_reqs=$REQS
		run "${mode}1000-$pair" "${flag[@]}" -n 1000
		[ -n "$a_reqs" ] && [ "$a_reqs" = "$REQS" ] && break
		echo "    $mode: $a_reqs and $REQS requests answered: not the same, once more"
	done
	check "$mode: the same requests answered with 100 and 1000 packets per client ($a_reqs, $REQS)" \
		same_count "$a_reqs" "$REQS"
	check "$mode: the same heap allocations with 100 and 1000 packets per client ($a_allocs, $ALLOCS)" \
		same_count "$a_allocs" "$ALLOCS"
done
lib_exit
