#!/usr/bin/env bash
# lab_hlb_nft: lab_hlb.sh's checks with --lb nft: the same services on the
# kernel's nftables in hlbext and hlbint (dnat maps with numgen/jhash, snat
# to the VIP, R25), health kept by the lab's controller (netns/lib/lbnft.sh)
# and `lab hlb` acting on the maps. Its own lab prefix, like every lab test.
LAB_HLB_LB=nft exec bash "$(dirname "$0")/lab_hlb.sh" "$@"
