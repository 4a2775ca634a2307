#!/usr/bin/env bash
# scenarios_mutations: SPEC section 6, faults M1-M7 (M8-M14 are scenarios_mutations2.sh:
# each half stays inside tests/run's 600 s per test). On a lab with each
# fault at least one scenario fails and its message names the symptom;
# the correct lab trips none (`scenarios/run --mutations` exits non-zero
# otherwise). Reports in results/integration/mutations-1/. Exit 0 pass,
# 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_mutations
# More at once than cores: a faulty lab's scenarios mostly wait for
# answers that do not come.
check "scenarios/run: M1-M7 each caught, the correct lab clean" \
	"$EDGELAB_ROOT/scenarios/run" --mutations --faults M1,M2,M3,M4,M5,M6,M7 --jobs "${MUTATION_JOBS:-3}" \
		--results "$EDGELAB_ROOT/results/integration/mutations-1"
lib_exit
