/* pkt.c: find the headers of an IPv4/IPv6 packet and rewrite them in
 * place. The rewrite helpers are the only code that touches checksums on
 * the fast path; they patch by difference (RFC 1624). */
#include "pkt.h"
#include "csum.h"

#include <errno.h>
#include <string.h>

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Set up the L4 fields once the L4 header offset is known. */
static int parse_l4(struct pkt *p, uint8_t *l4, size_t l4len)
{
	p->l4 = l4;
	p->l4len = l4len;
	switch (p->proto) {
	case IPPROTO_TCP_:
		if (l4len < 20)
			return -EINVAL;
		p->has_ports = 1;
		p->tcp_flags = l4[13];
		p->csum = l4 + 16;
		break;
	case IPPROTO_UDP_:
		if (l4len < 8)
			return -EINVAL;
		p->has_ports = 1;
		/* IPv4 UDP may carry no checksum (0): leave it so. */
		if (p->family == 6 || rd16(l4 + 6) != 0)
			p->csum = l4 + 6;
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		if (l4len < 8)
			return -EINVAL;
		p->icmp_type = l4[0];
		/* Only ICMPv6 sums a pseudo-header with the addresses. */
		if (p->proto == IPPROTO_ICMPV6_)
			p->csum = l4 + 2;
		break;
	default:
		break;
	}
	return 0;
}

static int parse4(struct pkt *p, uint8_t *b, size_t len)
{
	size_t hlen = (size_t)(b[0] & 0x0f) * 4;
	size_t tot;
	uint16_t off;

	if (len < 20 || hlen < 20 || hlen > len)
		return -EINVAL;
	tot = rd16(b + 2);
	if (tot < hlen || tot > len)
		return -EINVAL;
	p->len = tot;
	p->family = 4;
	p->proto = b[9];
	p->src = b + 12;
	p->dst = b + 16;
	off = rd16(b + 6);
	if (off & 0x3fff) { /* MF set or offset non-zero */
		p->frag = 1;
		p->frag_id = rd16(b + 4);
		p->frag_first = (off & 0x1fff) == 0;
		if (!p->frag_first)
			return 0;
	}
	return parse_l4(p, b + hlen, tot - hlen);
}

static int parse6(struct pkt *p, uint8_t *b, size_t len)
{
	size_t tot, off = 40;
	uint8_t nh;

	if (len < 40)
		return -EINVAL;
	tot = 40 + (size_t)rd16(b + 4);
	if (tot > len)
		return -EINVAL;
	p->len = tot;
	p->family = 6;
	p->src = b + 8;
	p->dst = b + 24;
	nh = b[6];
	/* Walk the extension headers hlb may meet; anything else ends it. */
	for (int i = 0; i < 8; i++) {
		uint8_t *h = b + off;

		if (nh != 0 && nh != 43 && nh != 60 && nh != 44 && nh != 51)
			break;
		if (off + 8 > tot)
			return -EINVAL;
		if (nh == 44) {
			uint16_t fo = rd16(h + 2);

			p->frag = 1;
			p->frag_id = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 |
				     (uint32_t)h[6] << 8 | h[7];
			p->frag_first = (fo & 0xfff8) == 0;
			nh = h[0];
			off += 8;
			if (!p->frag_first) {
				p->proto = nh;
				return 0;
			}
			continue;
		}
		nh = h[0];
		off += nh == 51 ? ((size_t)h[1] + 2) * 4 : ((size_t)h[1] + 1) * 8;
		if (off > tot)
			return -EINVAL;
	}
	p->proto = nh;
	return parse_l4(p, b + off, tot - off);
}

int pkt_parse(struct pkt *p, uint8_t *buf, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->buf = buf;
	if (len < 1)
		return -EINVAL;
	switch (buf[0] >> 4) {
	case 4:
		return parse4(p, buf, len);
	case 6:
		return parse6(p, buf, len);
	default:
		return -EINVAL;
	}
}

static void patch_l4(struct pkt *p, const uint8_t *old, const uint8_t *new_,
		     size_t n)
{
	uint16_t c;

	if (!p->csum)
		return;
	c = csum_update(rd16(p->csum), old, new_, n);
	/* A UDP checksum of 0 means "none"; the same sum is 0xffff. */
	if (c == 0 && p->proto == IPPROTO_UDP_)
		c = 0xffff;
	wr16(p->csum, c);
}

static void set_addr(struct pkt *p, uint8_t *field, const uint8_t *addr)
{
	size_t n = p->family == 4 ? 4 : 16;
	uint8_t old[16];

	if (memcmp(field, addr, n) == 0)
		return;
	memcpy(old, field, n);
	memcpy(field, addr, n);
	if (p->family == 4)
		wr16(p->buf + 10, csum_update(rd16(p->buf + 10), old, addr, 4));
	/* A non-first fragment has no L4 header; the first one's checksum
	 * covers the pseudo-header and is patched when it passes. */
	if (p->l4)
		patch_l4(p, old, addr, n);
}

void pkt_set_src(struct pkt *p, const uint8_t *addr)
{
	set_addr(p, p->src, addr);
}

void pkt_set_dst(struct pkt *p, const uint8_t *addr)
{
	set_addr(p, p->dst, addr);
}

static void set_port(struct pkt *p, uint8_t *field, uint16_t port)
{
	uint8_t old[2], new_[2];

	if (!p->has_ports || rd16(field) == port)
		return;
	memcpy(old, field, 2);
	wr16(new_, port);
	memcpy(field, new_, 2);
	patch_l4(p, old, new_, 2);
}

void pkt_set_sport(struct pkt *p, uint16_t port)
{
	set_port(p, p->l4, port);
}

void pkt_set_dport(struct pkt *p, uint16_t port)
{
	set_port(p, p->l4 + 2, port);
}

int pkt_icmp_is_error(const struct pkt *p)
{
	if (!p->l4)
		return 0;
	if (p->proto == IPPROTO_ICMP_)
		return p->icmp_type == 3 || p->icmp_type == 11 ||
		       p->icmp_type == 12;
	if (p->proto == IPPROTO_ICMPV6_)
		return p->icmp_type >= 1 && p->icmp_type <= 4;
	return 0;
}

void pkt_csum_recompute(struct pkt *p)
{
	if (p->family == 4) {
		size_t hlen = (size_t)(p->buf[0] & 0x0f) * 4;

		wr16(p->buf + 10, csum_ip4_header(p->buf, hlen));
	}
	if (!p->l4 || p->frag)
		return;
	if (p->proto == IPPROTO_ICMP_) {
		wr16(p->l4 + 2, 0);
		wr16(p->l4 + 2, csum_fold(csum_partial(p->l4, p->l4len, 0)));
		return;
	}
	if (!p->csum)
		return;
	wr16(p->csum, 0);
	uint16_t c = csum_l4(p->family, p->src, p->dst, p->proto, p->l4,
			     p->l4len);
	if (c == 0 && p->proto == IPPROTO_UDP_)
		c = 0xffff;
	wr16(p->csum, c);
}
