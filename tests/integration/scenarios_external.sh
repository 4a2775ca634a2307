#!/usr/bin/env bash
# scenarios_external: `scenarios/run --lb none` proven against two
# balancers the scenarios know only from a vips file (SPEC section 7): the
# lab's nft balancer (scenarios/vips/nft-external.vips), and hlb run as a
# vendor's appliance in namespaces of its own, wired into each lab with
# scenarios/wire-device (scenarios/vips/hlb-device.vips). A correct device
# must get a green suite: S16 in particular judges only what the device is
# responsible for (issue 14, no false alarms on a wired device).
# Reports in results/integration/external/ and .../device/.
# Exit 0 pass, 77 skip, other fail.
. "$(dirname "$0")/../lib/lib.sh"
lib_init scenarios_external
RUN=$EDGELAB_ROOT/scenarios/run
RES=$EDGELAB_ROOT/results/integration

# verdict DIR ID: what the scenario's run left as its verdict.
passed() { [ "$(cat "$1/$2/result" 2>/dev/null)" = pass ]; }

check "scenarios/run: every scenario passes on the nft balancer known only from its vips file" \
	"$RUN" --lb none --vips "$EDGELAB_ROOT/scenarios/vips/nft-external.vips" --jobs 2 \
		--results "$RES/external"
check "...and skipped nothing, no scenario and no check" suite_whole "$RES/external"
check "scenarios/run: every scenario passes on hlb wired in as a vendor device (hlb-device.vips)" \
	"$RUN" --lb none --vips "$EDGELAB_ROOT/scenarios/vips/hlb-device.vips" --jobs 2 \
		--results "$RES/device"
check "...and skipped nothing, no scenario and no check" suite_whole "$RES/device"
check "...S16 (firewall rows, unnamed ports) passed on the wired device, not skipped" passed "$RES/device" S16
check "...and row intvip_06 was judged from S16's probe node, as on every balancer" \
	grep -q 'row_intvip_06 .*probe node on dmzint.*row_intvip_06 counted it' "$RES/device/S16/notes"
lib_exit
