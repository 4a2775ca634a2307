#!/usr/bin/env bash
# scenarios_mutations2: SPEC section 6, faults M8-M13 (M1-M7 are scenarios_mutations.sh:
# each half stays inside tests/run's 600 s per test). On a lab with each
# fault at least one scenario fails and its message names the symptom;
# the correct lab trips none (`scenarios/run --mutations` exits non-zero
# otherwise). Reports in results/integration/mutations-2/. Exit 0 pass,
# 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_mutations2
# More at once than cores: a faulty lab's scenarios mostly wait for
# answers that do not come.
check "scenarios/run: M8-M13 each caught, the correct lab clean" \
	"$EDGELAB_ROOT/scenarios/run" --mutations --faults M8,M9,M10,M11,M12,M13 --jobs "${MUTATION_JOBS:-3}" \
		--results "$EDGELAB_ROOT/results/integration/mutations-2"
lib_exit
