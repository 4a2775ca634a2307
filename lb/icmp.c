/* icmp.c: ICMP errors about tracked flows (destination unreachable, time
 * exceeded, packet too big...) quote the offending packet; rewrite both
 * the outer header and the quote so the sender recognises its own packet
 * (as netfilter's NAT does). Rare, so checksums are recomputed whole. */
#include "csum.h"
#include "nat.h"
#include "pkt.h"

#include <netinet/in.h>
#include <string.h>

static uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

int nat_icmp_error(struct nat *n, struct pkt *p, uint32_t now)
{
	uint8_t *in = p->l4 + 8, *isrc, *idst, *il4, iproto;
	size_t inlen = p->l4len - 8, ihl, al;
	struct ct_tuple k, rk;
	struct ct_flow *f;
	uint8_t old_src[16], old_dst[16];
	int dir;

	n->st.icmp++;
	if (p->family == 4) {
		if (inlen < 20 || (in[0] >> 4) != 4)
			return NAT_PASS;
		ihl = (size_t)(in[0] & 0x0f) * 4;
		iproto = in[9];
		isrc = in + 12;
		idst = in + 16;
		al = 4;
	} else {
		if (inlen < 40 || (in[0] >> 4) != 6)
			return NAT_PASS;
		ihl = 40;
		iproto = in[6];
		isrc = in + 8;
		idst = in + 24;
		al = 16;
	}
	if ((iproto != IPPROTO_TCP && iproto != IPPROTO_UDP) || inlen < ihl + 8)
		return NAT_PASS;
	il4 = in + ihl;
	memset(&k, 0, sizeof(k));
	memcpy(k.src, isrc, al);
	memcpy(k.dst, idst, al);
	k.sport = rd16(il4);
	k.dport = rd16(il4 + 2);
	k.family = p->family;
	k.proto = iproto;
	/* The quoted packet went the other way from this error. */
	ct_tuple_invert(&rk, &k);
	f = ct_lookup(&n->ct, &rk, now, &dir);
	if (!f)
		return NAT_PASS;
	const struct ct_tuple *o = &f->t[!dir];
	memcpy(old_src, isrc, al);
	memcpy(old_dst, idst, al);

	/* The quote becomes the packet as its sender sent it. */
	size_t quoted_l4 = inlen - ihl;
	uint8_t *ick = NULL;

	if (iproto == IPPROTO_TCP && quoted_l4 >= 18)
		ick = il4 + 16;
	else if (iproto == IPPROTO_UDP && rd16(il4 + 6) != 0)
		ick = il4 + 6;
	if (ick) {
		uint16_t c = rd16(ick);
		uint8_t ports_old[4], ports_new[4];

		memcpy(ports_old, il4, 4);
		wr16(ports_new, o->sport);
		wr16(ports_new + 2, o->dport);
		c = csum_update(c, isrc, o->src, al);
		c = csum_update(c, idst, o->dst, al);
		c = csum_update(c, ports_old, ports_new, 4);
		wr16(ick, c);
	}
	memcpy(isrc, o->src, al);
	memcpy(idst, o->dst, al);
	wr16(il4, o->sport);
	wr16(il4 + 2, o->dport);
	if (p->family == 4)
		wr16(in + 10, csum_ip4_header(in, ihl));

	/* The outer header goes to the quote's sender; a router's own
	 * address stays, the far end's address is replaced by the VIP. */
	if (memcmp(p->src, old_dst, al) == 0)
		memcpy(p->src, o->dst, al);
	memcpy(p->dst, o->src, al);
	if (p->family == 4) {
		wr16(p->l4 + 2, 0);
		wr16(p->l4 + 2, csum_fold(csum_partial(p->l4, p->l4len, 0)));
		wr16(p->buf + 10, csum_ip4_header(p->buf, (size_t)(p->buf[0] & 15) * 4));
	} else {
		wr16(p->l4 + 2, 0);
		wr16(p->l4 + 2, csum_l4(6, p->src, p->dst, 58, p->l4, p->l4len));
	}
	return NAT_XLATE;
}
