#!/usr/bin/env bash
# scenarios_nft: the scenario suite against a load balancer it did not
# write (SPEC section 7): the kernel's nftables balancer (--lb nft).
# Reports in results/integration/nft/. Exit 0 pass, 77 skip, other fail.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: scenarios need root"; exit 77; }
"$ROOT/scenarios/run" --lb nft --jobs 2 --results "$ROOT/results/integration/nft"
