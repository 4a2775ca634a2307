/* ratelimit.c: per-source answer budgets, refilled lazily when touched. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "turn/ratelimit.h"

struct rl_src {
	uint64_t at;           /* tokens last refilled */
	uint64_t seen;         /* last heard from; 0: free slot */
	uint32_t tokens_milli;
	uint32_t credit;       /* bytes */
	uint8_t id[9];         /* family, then 4 (IPv4) or 8 (IPv6 /64) bytes */
};

int ratelimit_init(struct ratelimit *r, uint32_t key, uint32_t rate, uint32_t burst)
{
	memset(r, 0, sizeof *r);
	r->key = key;
	r->rate = rate;
	r->burst = burst ? burst : 1;
	if (!rate)
		return 0;
	r->t = calloc(RATELIMIT_SLOTS, sizeof *r->t);
	return r->t ? 0 : -1;
}

void ratelimit_free(struct ratelimit *r)
{
	free(r->t);
	r->t = NULL;
}

static void id_of(const struct sockaddr *src, uint8_t id[9])
{
	memset(id, 0, 9);
	id[0] = (uint8_t)src->sa_family;
	if (src->sa_family == AF_INET6) /* a /64 is one source: a host owns many addresses in it */
		memcpy(id + 1, ((const struct sockaddr_in6 *)src)->sin6_addr.s6_addr, 8);
	else
		memcpy(id + 1, &((const struct sockaddr_in *)src)->sin_addr, 4);
}

static uint32_t hash(uint32_t h, const uint8_t id[9])
{
	for (int i = 0; i < 9; i++)
		h = (h ^ id[i]) * 16777619u;
	return h;
}

/* The source's slot, made if need be, with its tokens refilled to now. */
static struct rl_src *lookup(struct ratelimit *r, const struct sockaddr *src, uint64_t now)
{
	uint8_t id[9];
	struct rl_src *a, *b, *e;
	uint32_t h;
	uint64_t full = (uint64_t)r->burst * 1000u, t;

	id_of(src, id);
	h = hash(2166136261u ^ r->key, id); /* keyed: a sender cannot aim at a victim's slots */
	a = &r->t[h % RATELIMIT_SLOTS];
	b = &r->t[hash(h, id) % RATELIMIT_SLOTS];
	if (a->seen && !memcmp(a->id, id, 9))
		e = a;
	else if (b->seen && !memcmp(b->id, id, 9))
		e = b;
	else {
		e = !a->seen ? a : !b->seen ? b : a->seen <= b->seen ? a : b;
		if (e->seen)
			r->evicted++;
		memcpy(e->id, id, 9);
		e->at = e->seen = now ? now : 1;
		e->tokens_milli = (uint32_t)full;
		e->credit = r->burst * RATELIMIT_ANSWER;
		return e;
	}
	/* Silent for a whole refill period: the burst again, bytes included. */
	if (now - e->seen >= full / r->rate)
		e->credit = r->burst * RATELIMIT_ANSWER;
	t = e->tokens_milli + (now - e->at) * r->rate;
	e->tokens_milli = (uint32_t)(t > full ? full : t);
	e->at = now;
	return e;
}

void ratelimit_earn(struct ratelimit *r, const struct sockaddr *src, size_t len, uint64_t now_ms)
{
	struct rl_src *e;
	uint64_t c;

	if (!r->t)
		return;
	e = lookup(r, src, now_ms);
	c = (uint64_t)e->credit + len;
	e->credit = (uint32_t)(c > (uint64_t)r->burst * RATELIMIT_ANSWER
				       ? (uint64_t)r->burst * RATELIMIT_ANSWER : c);
	e->seen = now_ms ? now_ms : 1;
}

int ratelimit_take(struct ratelimit *r, const struct sockaddr *src, size_t len, uint64_t now_ms)
{
	struct rl_src *e;

	if (!r->t)
		return 1;
	e = lookup(r, src, now_ms);
	if (e->tokens_milli < 1000 || e->credit < len)
		return 0;
	e->tokens_milli -= 1000;
	e->credit -= (uint32_t)len;
	return 1;
}
