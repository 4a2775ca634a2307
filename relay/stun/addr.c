/* addr.c: address attributes, plain and XOR'd (RFC 8489 §14.1, §14.2). */
#include <netinet/in.h>

#include "stun.h"
#include "stun_int.h"

/* XOR key (RFC 8489 §14.2): the magic cookie, then the transaction id
 * (IPv6 only): the message's bytes 4..19. [MS-TURN] XORs its XOR Mapped
 * Address with the same bytes, which there are its 16-byte transaction id
 * (the first 32 bits of it stand for the cookie), as libnice reads it. */
static int xor_type(int ms, uint16_t type)
{
	return ms ? type == 0x8020 : stun_attr_is_xor(type);
}

static int addr_decode(const uint8_t *v, uint16_t len, int xor, const uint8_t *key,
		       struct sockaddr_storage *out)
{
	uint16_t port = rd16(v + 2);

	if (xor)
		port ^= rd16(key);
	memset(out, 0, sizeof *out);
	if (v[1] == 0x01 && len == 8) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;
		uint8_t *a = (uint8_t *)&sin->sin_addr;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		for (int i = 0; i < 4; i++)
			a[i] = v[4 + i] ^ (xor ? key[i] : 0);
		return 0;
	}
	if (v[1] == 0x02 && len == 20) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
		uint8_t *a = sin6->sin6_addr.s6_addr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		for (int i = 0; i < 16; i++)
			a[i] = v[4 + i] ^ (xor ? key[i] : 0);
		return 0;
	}
	return v[1] == 0x01 || v[1] == 0x02 ? STUN_E_ATTR_SIZE : STUN_E_FAMILY;
}

int stun_attr_addr(const struct stun_msg *m, const struct stun_attr *a,
		   struct sockaddr_storage *out)
{
	if (a->len < 4)
		return STUN_E_ATTR_SIZE;
	return addr_decode(a->val, a->len, xor_type(m->ms, a->type), m->buf + 4, out);
}

int stun_msg_addr(const struct stun_msg *m, uint16_t type, struct sockaddr_storage *out)
{
	const struct stun_attr *a = stun_msg_attr(m, type);
	return a ? stun_attr_addr(m, a, out) : STUN_E_MISSING;
}

void stun_put_addr(struct stun_writer *w, uint16_t type, const struct sockaddr *sa)
{
	uint8_t v[20] = {0};
	const uint8_t *a, *key;
	size_t alen;
	uint16_t port;
	int xor = xor_type(w->ms, type);

	if (w->err)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		v[1] = 0x01;
		a = (const uint8_t *)&sin->sin_addr;
		alen = 4;
		port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		v[1] = 0x02;
		a = sin6->sin6_addr.s6_addr;
		alen = 16;
		port = ntohs(sin6->sin6_port);
	} else {
		w->err = STUN_E_FAMILY;
		return;
	}
	key = w->buf + 4; /* the writer's header holds cookie and tid */
	wr16(v + 2, xor ? port ^ rd16(key) : port);
	for (size_t i = 0; i < alen; i++)
		v[4 + i] = a[i] ^ (xor ? key[i] : 0);
	stun_put_attr(w, type, v, 4 + alen);
}
