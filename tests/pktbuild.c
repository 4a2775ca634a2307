/* tests/pktbuild.c: see pktbuild.h. */
#include "pktbuild.h"
#include "csum.h"

#include <arpa/inet.h>
#include <string.h>

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t pkt_build(uint8_t *buf, size_t cap, const struct pkt_spec *s)
{
	size_t hl = s->family == 4 ? 20 : 40;
	size_t l4hl = s->proto == 6 ? 20 : 8;
	size_t len = hl + l4hl + s->payload;
	int af = s->family == 4 ? AF_INET : AF_INET6;
	uint8_t *src, *dst, *l4;

	if (len > cap || len > 65535)
		return 0;
	memset(buf, 0, len);
	if (s->family == 4) {
		buf[0] = 0x45;
		wr16(buf + 2, (uint16_t)len);
		wr16(buf + 4, 0x1234);
		buf[8] = 64;
		buf[9] = s->proto;
		src = buf + 12;
		dst = buf + 16;
	} else {
		buf[0] = 0x60;
		wr16(buf + 4, (uint16_t)(len - 40));
		buf[6] = s->proto;
		buf[7] = 64;
		src = buf + 8;
		dst = buf + 24;
	}
	if (inet_pton(af, s->src, src) != 1 || inet_pton(af, s->dst, dst) != 1)
		return 0;
	l4 = buf + hl;
	wr16(l4, s->sport);
	wr16(l4 + 2, s->dport);
	for (size_t i = 0; i < s->payload; i++)
		l4[l4hl + i] = (uint8_t)(i * 7 + 3);
	if (s->proto == 6) {
		l4[12] = 5 << 4;
		l4[13] = s->tcp_flags;
		wr16(l4 + 14, 65535);
		wr16(l4 + 16, csum_l4(s->family, src, dst, 6, l4, len - hl));
	} else {
		uint16_t c;

		wr16(l4 + 4, (uint16_t)(len - hl));
		c = csum_l4(s->family, src, dst, 17, l4, len - hl);
		wr16(l4 + 6, c ? c : 0xffff);
	}
	if (s->family == 4)
		wr16(buf + 10, csum_ip4_header(buf, 20));
	return len;
}
