#!/usr/bin/env bash
# hlb_flood.sh (stress): issue 11's attack at full size against hlb's
# default limits and the lab's table (65536 flows), in namespaces of its
# own: all 64512 ports of one source at up to 100000 datagrams/s, then
# 64 spoofed sources x 2000 into the full table, a client that is not
# flooding probed throughout. It is tests/integration/hlb_flood.sh in
# its stress size (see there; RATE, SOURCES, PER may be set).
# Exit 0 pass, 1 fail (77 skip: not root, no TUN); the last line gives
# the figures.
HLB_FLOOD_STRESS=1 bash "$(dirname "$0")/../integration/hlb_flood.sh"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 77 ] || rc=1
exit $rc
