/* conntrack.c: the fixed-size flow table; see conntrack.h. */
#include "conntrack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REF(idx, dir) ((((uint32_t)(idx)) << 1 | (uint32_t)(dir)) + 1)
#define REF_IDX(r) (((r) - 1) >> 1)
#define REF_DIR(r) (((r) - 1) & 1)

/* murmur3's 32-bit mixing over the tuple's ten words: cheap, and seeded
 * at start so a client cannot aim flows at one bucket. */
static uint32_t tuple_hash(const struct ct_tuple *k, uint32_t seed)
{
	uint32_t h = seed, w;
	const uint8_t *p = (const uint8_t *)k;

	for (size_t i = 0; i < sizeof(*k); i += 4) {
		memcpy(&w, p + i, 4);
		w *= 0xcc9e2d51u;
		w = (w << 15) | (w >> 17);
		w *= 0x1b873593u;
		h ^= w;
		h = (h << 13) | (h >> 19);
		h = h * 5 + 0xe6546b64u;
	}
	h ^= (uint32_t)sizeof(*k);
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

int ct_init(struct ct_table *t, uint32_t cap, uint32_t seed,
	    ct_remove_cb on_remove, void *ctx)
{
	uint32_t nb = 1;

	memset(t, 0, sizeof(*t));
	if (cap == 0 || cap > (1u << 28))
		return -EINVAL;
	while (nb < cap)
		nb <<= 1;
	t->flows = calloc(cap, sizeof(*t->flows));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->flows || !t->buckets) {
		ct_free(t);
		return -ENOMEM;
	}
	t->cap = cap;
	t->mask = nb - 1;
	t->seed = seed;
	t->on_remove = on_remove;
	t->ctx = ctx;
	/* Free list threaded through next[0]. */
	for (uint32_t i = 0; i < cap; i++)
		t->flows[i].next[0] = i + 1 < cap ? i + 2 : 0;
	t->free_head = 1;
	return 0;
}

void ct_free(struct ct_table *t)
{
	free(t->flows);
	free(t->buckets);
	t->flows = NULL;
	t->buckets = NULL;
}

void ct_tuple_invert(struct ct_tuple *out, const struct ct_tuple *in)
{
	struct ct_tuple r = *in;

	memcpy(r.src, in->dst, 16);
	memcpy(r.dst, in->src, 16);
	r.sport = in->dport;
	r.dport = in->sport;
	*out = r;
}

uint32_t ct_timeout(const struct ct_flow *f)
{
	switch (f->state) {
	case CT_TCP_SYN:
		return f->idle < CT_TIMEOUT_SYN ? f->idle : CT_TIMEOUT_SYN;
	case CT_TCP_FIN:
		return f->idle < CT_TIMEOUT_FIN ? f->idle : CT_TIMEOUT_FIN;
	case CT_TCP_CLOSE:
		return CT_TIMEOUT_CLOSE;
	default:
		return f->idle;
	}
}

int ct_expired(const struct ct_flow *f, uint32_t now)
{
	return now - f->last >= ct_timeout(f);
}

static void chain_add(struct ct_table *t, uint32_t idx, int dir)
{
	struct ct_flow *f = &t->flows[idx];
	uint32_t b = tuple_hash(&f->t[dir], t->seed) & t->mask;

	f->next[dir] = t->buckets[b];
	t->buckets[b] = REF(idx, dir);
}

static void chain_del(struct ct_table *t, uint32_t idx, int dir)
{
	struct ct_flow *f = &t->flows[idx];
	uint32_t b = tuple_hash(&f->t[dir], t->seed) & t->mask;
	uint32_t *pp = &t->buckets[b];

	while (*pp) {
		uint32_t r = *pp;
		struct ct_flow *g = &t->flows[REF_IDX(r)];

		if (r == REF(idx, dir)) {
			*pp = f->next[dir];
			return;
		}
		pp = &g->next[REF_DIR(r)];
	}
}

static struct ct_flow *find(struct ct_table *t, const struct ct_tuple *k,
			    int *dir)
{
	uint32_t r = t->buckets[tuple_hash(k, t->seed) & t->mask];

	while (r) {
		struct ct_flow *f = &t->flows[REF_IDX(r)];
		int d = (int)REF_DIR(r);

		if (memcmp(&f->t[d], k, sizeof(*k)) == 0) {
			if (dir)
				*dir = d;
			return f;
		}
		r = f->next[d];
	}
	return NULL;
}

void ct_remove(struct ct_table *t, struct ct_flow *f)
{
	uint32_t idx = (uint32_t)(f - t->flows);

	if (!f->used)
		return;
	if (t->on_remove)
		t->on_remove(t->ctx, f);
	chain_del(t, idx, CT_ORIG);
	if (!(f->flags & CT_F_NOREPLY))
		chain_del(t, idx, CT_REPLY);
	memset(f, 0, sizeof(*f));
	f->next[0] = t->free_head;
	t->free_head = idx + 1;
	t->count--;
}

struct ct_flow *ct_lookup(struct ct_table *t, const struct ct_tuple *k,
			  uint32_t now, int *dir)
{
	struct ct_flow *f = find(t, k, dir);

	if (f && ct_expired(f, now)) {
		ct_remove(t, f);
		return NULL;
	}
	return f;
}

int ct_tuple_taken(struct ct_table *t, const struct ct_tuple *k, uint32_t now)
{
	return ct_lookup(t, k, now, NULL) != NULL;
}

struct ct_flow *ct_insert(struct ct_table *t, const struct ct_tuple *orig,
			  const struct ct_tuple *reply, uint8_t flags,
			  uint32_t now)
{
	struct ct_flow *f;
	uint32_t idx;

	if (ct_tuple_taken(t, orig, now) ||
	    (!(flags & CT_F_NOREPLY) && ct_tuple_taken(t, reply, now)))
		return NULL;
	if (!t->free_head) {
		t->full++;
		return NULL;
	}
	idx = t->free_head - 1;
	f = &t->flows[idx];
	t->free_head = f->next[0];
	memset(f, 0, sizeof(*f));
	f->t[CT_ORIG] = *orig;
	f->t[CT_REPLY] = *reply;
	f->flags = flags;
	f->used = 1;
	f->last = now;
	f->idle = 300;
	chain_add(t, idx, CT_ORIG);
	if (!(flags & CT_F_NOREPLY))
		chain_add(t, idx, CT_REPLY);
	t->count++;
	return f;
}

void ct_touch(struct ct_flow *f, int dir, uint8_t tcp_flags, uint32_t now)
{
	f->last = now;
	if (f->t[0].proto != 6)
		return;
	/* R24: close tracking. RST ends a flow at once; FIN both ways ends
	 * it after a short linger for the last ACKs. */
	if (tcp_flags & 0x04) {
		f->state = CT_TCP_CLOSE;
		return;
	}
	if (tcp_flags & 0x01) {
		f->fin |= (uint8_t)(1u << dir);
		f->state = f->fin == 3 ? CT_TCP_CLOSE : CT_TCP_FIN;
		return;
	}
	if (f->state == CT_TCP_CLOSE || f->state == CT_TCP_FIN)
		return;
	if ((tcp_flags & 0x02) && !(tcp_flags & 0x10)) {
		if (f->state == CT_TCP_NONE)
			f->state = CT_TCP_SYN;
		return;
	}
	if (dir == CT_REPLY || f->state == CT_TCP_NONE)
		f->state = CT_TCP_EST;
}

uint32_t ct_sweep(struct ct_table *t, uint32_t now, uint32_t budget)
{
	uint32_t removed = 0;

	if (budget > t->cap)
		budget = t->cap;
	for (uint32_t i = 0; i < budget; i++) {
		struct ct_flow *f = &t->flows[t->sweep_pos];

		if (f->used && ct_expired(f, now)) {
			ct_remove(t, f);
			removed++;
		}
		if (++t->sweep_pos >= t->cap)
			t->sweep_pos = 0;
	}
	return removed;
}

uint32_t ct_flush(struct ct_table *t, int (*match)(const struct ct_flow *,
						   void *), void *arg)
{
	uint32_t removed = 0;

	for (uint32_t i = 0; i < t->cap; i++) {
		struct ct_flow *f = &t->flows[i];

		if (f->used && match(f, arg)) {
			ct_remove(t, f);
			removed++;
		}
	}
	return removed;
}
