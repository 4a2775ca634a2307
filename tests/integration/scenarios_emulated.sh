#!/usr/bin/env bash
# scenarios_emulated: the scenario suite (SPEC section 5) against the
# emulated HLB, as `sudo scenarios/run` runs it: every scenario on a fresh
# lab, two at a time. Reports in results/integration/emulated/.
# Exit 0 pass, 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_emulated
check "scenarios/run: every scenario passes on the emulated HLB" \
	"$EDGELAB_ROOT/scenarios/run" --lb emulated --jobs 2 --results "$EDGELAB_ROOT/results/integration/emulated"
check "...and skipped nothing, no scenario and no check" suite_whole "$EDGELAB_ROOT/results/integration/emulated"
lib_exit
