#!/usr/bin/env bash
# scenarios_mutations3: SPEC section 6's check for M15 (a balancer that
# forgets a quiet A/V client within 10 s; M1-M7 and M8-M14 are
# scenarios_mutations.sh and scenarios_mutations2.sh, each inside tests/run's
# 600 s per test): S21 must name it ("the balancer forgot a client quiet
# for 12 s") and the correct lab trip nothing (`scenarios/run --mutations`
# exits non-zero otherwise). Reports in results/integration/mutations-3/.
# Exit 0 pass, 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_mutations3
check "scenarios/run: M15 caught, the correct lab clean" \
	"$EDGELAB_ROOT/scenarios/run" --mutations --faults M15 --jobs "${MUTATION_JOBS:-3}" \
		--results "$EDGELAB_ROOT/results/integration/mutations-3"
check "...by S21, naming the forgotten quiet client" \
	grep -q '^M15 caught by .*S21.* : S21: .*the balancer forgot a client quiet for ' \
		"$EDGELAB_ROOT/results/integration/mutations-3/summary.txt"
lib_exit
