#!/usr/bin/env bash
# scenarios_nft: the scenario suite against a load balancer it did not
# write (SPEC section 7): the kernel's nftables balancer (--lb nft).
# Reports in results/integration/nft/. Exit 0 pass, 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_nft
check "scenarios/run: every scenario passes on the nft balancer" \
	"$EDGELAB_ROOT/scenarios/run" --lb nft --jobs 2 --results "$EDGELAB_ROOT/results/integration/nft"
check "...and skipped nothing, no scenario and no check" suite_whole "$EDGELAB_ROOT/results/integration/nft"
lib_exit
