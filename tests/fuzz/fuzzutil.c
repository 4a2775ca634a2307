/* tests/fuzz/fuzzutil.c: what the codec's fuzz targets share (fuzzutil.h). */
#include <string.h>
#include <sys/socket.h>

#include "fuzzutil.h"

volatile uint32_t fuzz_sink;

void fuzz_touch(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = s * 31 + p[i];
	fuzz_sink += s;
}

/* a through every typed reader: each says yes only to what it can read. */
static void read_typed(const struct stun_msg *m, const struct stun_attr *a)
{
	struct sockaddr_storage ss;
	uint64_t u64;
	uint32_t u32;
	const char *reason;
	size_t rl;
	int code;

	if (stun_attr_addr(m, a, &ss) == STUN_OK)
		INVARIANT(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	if (stun_attr_u32(a, &u32) == STUN_OK)
		INVARIANT(a->len == 4);
	if (stun_attr_u64(a, &u64) == STUN_OK)
		INVARIANT(a->len == 8);
	if (stun_attr_error(a, &code, &reason, &rl) == STUN_OK) {
		INVARIANT(code >= 300 && code <= 699);
		INVARIANT((const uint8_t *)reason >= a->val &&
			  (const uint8_t *)reason + rl <= a->val + a->len);
		fuzz_touch((const uint8_t *)reason, rl);
	}
}

void fuzz_read_attrs(const struct stun_msg *m, int padded, const char *(*name)(uint16_t))
{
	size_t off = STUN_HDR_LEN;

	for (unsigned i = 0; i < m->nattrs; i++) {
		const struct stun_attr *a = &m->attrs[i];

		INVARIANT(a->off == off && a->val == m->buf + off + 4);
		INVARIANT(off + 4 + a->len <= m->len);
		INVARIANT((m->buf[off + 2] << 8 | m->buf[off + 3]) == a->len);
		off += 4 + (padded ? ((size_t)a->len + 3) & ~(size_t)3 : a->len);
		fuzz_touch(a->val, a->len);
		read_typed(m, a);
		fuzz_sink += (uint32_t)strlen(name(a->type));
		INVARIANT(stun_msg_attr(m, a->type) != NULL);
	}
	INVARIANT(off == m->len);
}

void fuzz_same_attrs(const struct stun_msg *m, const struct stun_msg *m2, int same_off)
{
	INVARIANT(m2->type == m->type && m2->nattrs == m->nattrs);
	for (unsigned i = 0; i < m->nattrs; i++) {
		const struct stun_attr *a = &m->attrs[i], *b = &m2->attrs[i];
		INVARIANT(a->type == b->type && a->len == b->len);
		INVARIANT(!same_off || a->off == b->off);
		if (a->type != STUN_A_FINGERPRINT || m->ms)
			INVARIANT(memcmp(a->val, b->val, a->len) == 0);
	}
}
