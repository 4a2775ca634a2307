/* csum.c: checksums. See csum.h for why updates are incremental. */
#include "csum.h"

#include <string.h>

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;

	/* Bytes are summed as big-endian words so the result is in network
	 * order whatever the host is. */
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		if (sum & 0x80000000u)
			sum = (sum & 0xffff) + (sum >> 16);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* check, old and new are the 16-bit values as read big-endian. */
uint16_t csum_update16(uint16_t check, uint16_t old, uint16_t new_)
{
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~old;
	sum += new_;
	return csum_fold(sum);
}

uint16_t csum_update(uint16_t check, const void *old, const void *new_,
		     size_t len)
{
	const uint8_t *o = old, *n = new_;
	uint32_t sum = (uint16_t)~check;

	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += (uint16_t)~((uint16_t)(o[i] << 8 | o[i + 1]));
		sum += (uint16_t)(n[i] << 8 | n[i + 1]);
	}
	return csum_fold(sum);
}

uint16_t csum_ip4_header(const uint8_t *ip, size_t hlen)
{
	uint8_t h[60];

	if (hlen > sizeof(h))
		hlen = sizeof(h);
	memcpy(h, ip, hlen);
	h[10] = h[11] = 0;
	return csum_fold(csum_partial(h, hlen, 0));
}

uint16_t csum_l4(int family, const uint8_t *src, const uint8_t *dst,
		 uint8_t proto, const uint8_t *l4, size_t l4len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = 0;

	sum = csum_partial(src, alen, sum);
	sum = csum_partial(dst, alen, sum);
	sum += proto;
	sum += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
	sum = csum_partial(l4, l4len, sum);
	return csum_fold(sum);
}
