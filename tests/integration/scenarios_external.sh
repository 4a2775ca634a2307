#!/usr/bin/env bash
# scenarios_external: `scenarios/run --lb external` proven against a
# balancer the scenarios know only from a vips file: the lab's nft
# balancer, described in scenarios/vips/nft-external.vips (SPEC section 7).
# Reports in results/integration/external/. Exit 0 pass, 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_external
check "scenarios/run: every scenario passes on the nft balancer known only from its vips file" \
	"$EDGELAB_ROOT/scenarios/run" --lb external --vips "$EDGELAB_ROOT/scenarios/vips/nft-external.vips" --jobs 2 \
		--results "$EDGELAB_ROOT/results/integration/external"
lib_exit
