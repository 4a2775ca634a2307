#!/usr/bin/env bash
# scenarios_emulated: the scenario suite (SPEC section 5) against the
# emulated HLB, as `sudo scenarios/run` runs it: every scenario on a fresh
# lab, two at a time. Reports in results/integration/emulated/.
# Exit 0 pass, 77 skip, other fail.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: scenarios need root"; exit 77; }
"$ROOT/scenarios/run" --lb emulated --jobs 2 --results "$ROOT/results/integration/emulated"
