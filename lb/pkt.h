/* pkt.h: a parsed view of one IPv4 or IPv6 packet as read from the TUN.
 *
 * Parsing only finds offsets: the view points into the caller's buffer,
 * and the rewrite helpers change that buffer in place, patching the IP
 * and L4 checksums incrementally (RFC 1624). Nothing here allocates. */
#ifndef HLB_PKT_H
#define HLB_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_ACK 0x10

struct pkt {
	uint8_t *buf;
	size_t len;          /* bytes of the whole packet */
	uint8_t family;      /* 4 or 6 */
	uint8_t proto;       /* L4 protocol after extension headers */
	uint8_t *src, *dst;  /* addresses inside buf (4 or 16 bytes) */
	uint8_t *l4;         /* L4 header, or NULL for a non-first fragment */
	size_t l4len;        /* bytes from l4 to the end of the packet */
	uint8_t has_ports;   /* TCP or UDP with both ports present */
	uint8_t tcp_flags;
	uint8_t frag;        /* 1 when the packet is a fragment */
	uint8_t frag_first;  /* 1 for the fragment at offset 0 */
	uint32_t frag_id;    /* IPv4 identification or IPv6 fragment id */
	uint8_t *csum;       /* L4 checksum field, or NULL if none to patch */
	uint8_t icmp_type;   /* when proto is ICMP/ICMPv6 */
};

/* 0, or -EINVAL when the packet is not something hlb can look into (then
 * it is passed on untouched or dropped by the caller). */
int pkt_parse(struct pkt *p, uint8_t *buf, size_t len);

static inline uint16_t pkt_sport(const struct pkt *p)
{
	return (uint16_t)(p->l4[0] << 8 | p->l4[1]);
}
static inline uint16_t pkt_dport(const struct pkt *p)
{
	return (uint16_t)(p->l4[2] << 8 | p->l4[3]);
}

/* Rewrites with checksum patching. addr is 4 or 16 bytes per family. */
void pkt_set_src(struct pkt *p, const uint8_t *addr);
void pkt_set_dst(struct pkt *p, const uint8_t *addr);
void pkt_set_sport(struct pkt *p, uint16_t port);
void pkt_set_dport(struct pkt *p, uint16_t port);

/* 1 when the ICMP/ICMPv6 type is an error that quotes a packet. */
int pkt_icmp_is_error(const struct pkt *p);

/* Recompute every checksum from scratch (tests compare against this). */
void pkt_csum_recompute(struct pkt *p);

#endif
