/* tests/pktbuild.h: build well-formed IPv4/IPv6 TCP/UDP packets with
 * correct checksums, for hlb's unit tests (tests/test_lb_*.c, linked with
 * pktbuild.c). hlb itself never builds a packet, so this is not in lb/. */
#ifndef EDGELAB_PKTBUILD_H
#define EDGELAB_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

struct pkt_spec {
	int family;            /* 4 or 6 */
	uint8_t proto;         /* 6 or 17 */
	const char *src, *dst; /* textual addresses */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	size_t payload;        /* bytes of patterned payload */
};

/* Returns the packet length, or 0 when cap is too small or an address
 * is bad. */
size_t pkt_build(uint8_t *buf, size_t cap, const struct pkt_spec *s);

#endif
