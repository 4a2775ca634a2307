/* tlsonly.c: see tlsonly.h. Nothing here allocates. */
#include "tlsonly.h"
#include "pkt.h"

#include <string.h>

#define TLS_HANDSHAKE    22
#define TLS_CLIENT_HELLO 1
/* Record (5) + handshake header (4) + client_version (2). */
#define HELLO_HEAD 11

int tlsonly_hello_ok(const uint8_t *d, size_t len)
{
	size_t rec, hs;

	if (len < HELLO_HEAD || d[0] != TLS_HANDSHAKE || d[1] != 3 || d[2] > 4)
		return 0;
	rec = (size_t)d[3] << 8 | d[4];
	hs = (size_t)d[6] << 16 | (size_t)d[7] << 8 | d[8];
	/* version, random, session id, suites, compression: 38 bytes at
	 * least, in the record that starts the connection. */
	if (d[5] != TLS_CLIENT_HELLO || hs < 38 || rec < 4 + 38)
		return 0;
	/* The device's profile: TLS 1.2 and later (a TLS 1.3 client, too,
	 * says 3.3 here and lists 1.3 in supported_versions). */
	return d[9] == 3 && d[10] >= 3;
}

size_t tlsonly_payload(const struct pkt *p, const uint8_t **data)
{
	size_t doff = (size_t)(p->l4[12] >> 4) * 4;

	if (doff < 20 || doff > p->l4len)
		return 0;
	*data = p->l4 + doff;
	return p->l4len - doff;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t tlsonly_reset(struct pkt *p)
{
	uint8_t src[16], dst[16], *b = p->buf, *t;
	const uint8_t *data;
	size_t alen = p->family == 4 ? 4 : 16, ip = p->family == 4 ? 20 : 40, len = ip + 20;
	uint16_t sport = pkt_sport(p), dport = pkt_dport(p);
	uint32_t seq = rd32(p->l4 + 4), ack = rd32(p->l4 + 8);
	uint8_t flags = p->tcp_flags;

	seq += (uint32_t)tlsonly_payload(p, &data) + !!(flags & PKT_TCP_SYN) + !!(flags & PKT_TCP_FIN);
	memcpy(src, p->dst, alen);
	memcpy(dst, p->src, alen);
	/* A fresh header without options or extension headers: the reset is
	 * shorter than the segment it answers, so it fits in its buffer. */
	memset(b, 0, len);
	if (p->family == 4) {
		b[0] = 0x45;
		b[2] = (uint8_t)(len >> 8), b[3] = (uint8_t)len;
		b[8] = 64;
		b[9] = 6;
		memcpy(b + 12, src, 4);
		memcpy(b + 16, dst, 4);
	} else {
		b[0] = 0x60;
		b[5] = 20;
		b[6] = 6;
		b[7] = 64;
		memcpy(b + 8, src, 16);
		memcpy(b + 24, dst, 16);
	}
	t = b + ip;
	t[0] = (uint8_t)(dport >> 8), t[1] = (uint8_t)dport;
	t[2] = (uint8_t)(sport >> 8), t[3] = (uint8_t)sport;
	/* RFC 793: a reset for a segment with ACK takes its sequence number
	 * from that ACK, and acknowledges what the segment carried. */
	wr32(t + 4, (flags & PKT_TCP_ACK) ? ack : 0);
	wr32(t + 8, seq);
	t[12] = 5 << 4;
	t[13] = PKT_TCP_RST | PKT_TCP_ACK;
	pkt_parse(p, b, len);
	pkt_csum_recompute(p);
	return len;
}
