/* csum.h: Internet checksum (RFC 1071) and incremental update (RFC 1624).
 *
 * hlb rewrites addresses and ports in place; recomputing a TCP checksum
 * over the whole segment for every packet would cost as much as the rest
 * of the path, so rewrites patch the checksum with the difference only.
 * All values are in network byte order as they sit in the packet. */
#ifndef HLB_CSUM_H
#define HLB_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's-complement sum of buf added to sum (not folded, not inverted). */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);
/* Fold a 32-bit sum to 16 bits and invert: the value to store. */
uint16_t csum_fold(uint32_t sum);

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word m -> m'. */
uint16_t csum_update16(uint16_t check, uint16_t old, uint16_t new_);
/* The same for a run of 16-bit words (an address: 4 or 16 bytes). */
uint16_t csum_update(uint16_t check, const void *old, const void *new_,
		     size_t len);

/* Full checksums, used by tests and by the rare ICMP error rewrite. */
uint16_t csum_ip4_header(const uint8_t *ip, size_t hlen);
/* TCP/UDP/ICMPv6 checksum including the pseudo-header (RFC 793, 8200). */
uint16_t csum_l4(int family, const uint8_t *src, const uint8_t *dst,
		 uint8_t proto, const uint8_t *l4, size_t l4len);

#endif
