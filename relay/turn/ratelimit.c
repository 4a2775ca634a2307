/* ratelimit.c: token buckets, refilled lazily when touched. */
#include <netinet/in.h>
#include <string.h>

#include "ratelimit.h"

void ratelimit_init(struct ratelimit *r, uint32_t key)
{
	memset(r, 0, sizeof *r);
	r->key = key;
}

static uint32_t slot(const struct ratelimit *r, const struct sockaddr *src)
{
	const uint8_t *p;
	size_t n;
	uint32_t h = 2166136261u ^ r->key; /* keyed: a sender cannot aim at a victim's bucket */

	if (src->sa_family == AF_INET6) {
		p = ((const struct sockaddr_in6 *)src)->sin6_addr.s6_addr;
		n = 8; /* a /64 is one source: one host owns many addresses in it */
	} else {
		p = (const uint8_t *)&((const struct sockaddr_in *)src)->sin_addr;
		n = 4;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % RATELIMIT_BUCKETS;
}

int ratelimit_take(struct ratelimit *r, const struct sockaddr *src, uint64_t now_ms)
{
	uint32_t i = slot(r, src);
	uint64_t t;

	if (r->b[i].at == 0) { /* first use: a full bucket */
		r->b[i].tokens_milli = RATELIMIT_BURST * 1000u;
		r->b[i].at = now_ms;
	}
	t = r->b[i].tokens_milli + (now_ms - r->b[i].at) * RATELIMIT_RATE;
	if (t > RATELIMIT_BURST * 1000u)
		t = RATELIMIT_BURST * 1000u;
	r->b[i].at = now_ms;
	if (t < 1000) {
		r->b[i].tokens_milli = (uint32_t)t;
		return 0;
	}
	r->b[i].tokens_milli = (uint32_t)(t - 1000);
	return 1;
}
