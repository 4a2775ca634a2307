#!/usr/bin/env bash
# scenarios_external: `scenarios/run --lb external` proven against a
# balancer the scenarios know only from a vips file: the lab's nft
# balancer, described in scenarios/vips/nft-external.vips (SPEC section 7).
# Reports in results/integration/external/. Exit 0 pass, 77 skip, other fail.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: scenarios need root"; exit 77; }
"$ROOT/scenarios/run" --lb external --vips "$ROOT/scenarios/vips/nft-external.vips" --jobs 2 \
	--results "$ROOT/results/integration/external"
