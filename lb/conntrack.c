/* conntrack.c: the fixed-size flow table; see conntrack.h. */
#include "conntrack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REF(idx, dir) ((((uint32_t)(idx)) << 1 | (uint32_t)(dir)) + 1)
#define REF_IDX(r) (((r) - 1) >> 1)
#define REF_DIR(r) (((r) - 1) & 1)

/* murmur3's 32-bit mixing over n bytes (a multiple of 4): cheap, and
 * seeded at start so a client cannot aim flows at one bucket. */
static uint32_t hash_words(const void *key, size_t n, uint32_t seed)
{
	uint32_t h = seed, w;
	const uint8_t *p = key;

	for (size_t i = 0; i < n; i += 4) {
		memcpy(&w, p + i, 4);
		w *= 0xcc9e2d51u;
		w = (w << 15) | (w >> 17);
		w *= 0x1b873593u;
		h ^= w;
		h = (h << 13) | (h >> 19);
		h = h * 5 + 0xe6546b64u;
	}
	h ^= (uint32_t)n;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t tuple_hash(const struct ct_tuple *k, uint32_t seed)
{
	return hash_words(k, sizeof(*k), seed);
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
	t->srcs = calloc(cap, sizeof(*t->srcs));
	t->src_buckets = calloc(nb, sizeof(*t->src_buckets));
	if (!t->flows || !t->buckets || !t->srcs || !t->src_buckets) {
		ct_free(t);
		return -ENOMEM;
	}
	t->cap = cap;
	t->mask = nb - 1;
	t->seed = seed;
	t->on_remove = on_remove;
	t->ctx = ctx;
	t->lim.syn_timeout = CT_TIMEOUT_SYN;
	t->lim.unreplied_timeout = CT_TIMEOUT_UNREPLIED;
	t->lim.src_prefix6 = CT_SRC_PREFIX6;
	/* Free lists threaded through next[0] and next. */
	for (uint32_t i = 0; i < cap; i++) {
		t->flows[i].next[0] = i + 1 < cap ? i + 2 : 0;
		t->srcs[i].next = i + 1 < cap ? i + 2 : 0;
	}
	t->free_head = 1;
	t->src_free = 1;
	return 0;
}

void ct_free(struct ct_table *t)
{
	free(t->flows);
	free(t->buckets);
	free(t->srcs);
	free(t->src_buckets);
	t->flows = NULL;
	t->buckets = NULL;
	t->srcs = NULL;
	t->src_buckets = NULL;
}

void ct_set_limits(struct ct_table *t, const struct ct_limits *lim)
{
	t->lim.src_max = lim->src_max;
	if (lim->syn_timeout)
		t->lim.syn_timeout = lim->syn_timeout;
	if (lim->unreplied_timeout)
		t->lim.unreplied_timeout = lim->unreplied_timeout;
	if (lim->src_prefix6 && lim->src_prefix6 <= 128)
		t->lim.src_prefix6 = lim->src_prefix6;
}

/* Sources. The key is the tuple's source address, an IPv6 one cut to
 * its prefix (one host usually holds a whole /64). */
static void src_key(const struct ct_table *t, const struct ct_tuple *k,
		    struct ct_src *key)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->addr, k->src, 16);
	key->family = k->family;
	if (k->family != 6)
		return;
	for (unsigned bit = t->lim.src_prefix6; bit < 128; bit++)
		key->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
}

static uint32_t src_bucket(const struct ct_table *t, const struct ct_src *key)
{
	return hash_words(key->addr, 20, t->seed ^ 0x5bd1e995u) & t->mask;
}

static int src_same(const struct ct_src *a, const struct ct_src *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

/* The source entry (index + 1) for key, or 0. */
static uint32_t src_find(const struct ct_table *t, const struct ct_src *key)
{
	uint32_t r = t->src_buckets[src_bucket(t, key)];

	while (r && !src_same(&t->srcs[r - 1], key))
		r = t->srcs[r - 1].next;
	return r;
}

/* Find or make the entry for key; 0 only if every entry is taken, which
 * cannot be while the flow table has room (a source holds a flow). */
static uint32_t src_get(struct ct_table *t, const struct ct_src *key)
{
	uint32_t r = src_find(t, key), b;
	struct ct_src *e;

	if (r || !t->src_free)
		return r;
	r = t->src_free;
	e = &t->srcs[r - 1];
	t->src_free = e->next;
	b = src_bucket(t, key);
	memcpy(e->addr, key->addr, 16);
	e->family = key->family;
	e->count = 0;
	e->head = e->reaped = 0;
	e->next = t->src_buckets[b];
	t->src_buckets[b] = r;
	t->nsrc++;
	return r;
}

/* One flow of entry r is gone; the entry goes with its last flow. */
static void src_put(struct ct_table *t, uint32_t r)
{
	struct ct_src *e = &t->srcs[r - 1];
	uint32_t *pp;

	if (--e->count)
		return;
	pp = &t->src_buckets[src_bucket(t, e)];
	while (*pp && *pp != r)
		pp = &t->srcs[*pp - 1].next;
	if (*pp)
		*pp = e->next;
	e->next = t->src_free;
	t->src_free = r;
	t->nsrc--;
}

uint32_t ct_src_count(const struct ct_table *t, const struct ct_tuple *k)
{
	struct ct_src key;
	uint32_t r;

	src_key(t, k, &key);
	r = src_find(t, &key);
	return r ? t->srcs[r - 1].count : 0;
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

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

uint32_t ct_timeout(const struct ct_table *t, const struct ct_flow *f)
{
	uint32_t s = f->idle;

	switch (f->state) {
	case CT_TCP_SYN:
	case CT_TCP_SYN_ACK:
		s = min_u32(s, t->lim.syn_timeout);
		break;
	case CT_TCP_FIN:
		s = min_u32(s, CT_TIMEOUT_FIN);
		break;
	case CT_TCP_CLOSE:
		return CT_TIMEOUT_CLOSE;
	default:
		break;
	}
	/* Nothing came back: a flood, a scan, or a dead server. A TCP
	 * opener waits for its SYN-ACK as long as the handshake may take;
	 * anything else (UDP, a TCP pickup) goes soon. DSR replies are never
	 * seen, so those flows are not held to it. */
	if (!(f->flags & (CT_F_REPLIED | CT_F_NOREPLY)) && f->state != CT_TCP_SYN)
		s = min_u32(s, t->lim.unreplied_timeout);
	return s;
}

int ct_expired(const struct ct_table *t, const struct ct_flow *f,
	       uint32_t now)
{
	return now - f->last >= ct_timeout(t, f);
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
	if (f->src) {
		struct ct_src *e = &t->srcs[f->src - 1];

		if (f->sprev)
			t->flows[f->sprev - 1].snext = f->snext;
		else
			e->head = f->snext;
		if (f->snext)
			t->flows[f->snext - 1].sprev = f->sprev;
		src_put(t, f->src);
	}
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

	if (f && ct_expired(t, f, now)) {
		ct_remove(t, f);
		return NULL;
	}
	return f;
}

int ct_tuple_taken(struct ct_table *t, const struct ct_tuple *k, uint32_t now)
{
	return ct_lookup(t, k, now, NULL) != NULL;
}

/* A flow that may make room for a new one: nothing answered it, or its
 * TCP handshake never completed. */
static int evictable(const struct ct_flow *f)
{
	return !(f->flags & (CT_F_REPLIED | CT_F_NOREPLY)) ||
	       f->state == CT_TCP_SYN || f->state == CT_TCP_SYN_ACK;
}

/* Free one entry of a full table: the first expired one, else the
 * longest idle evictable one, among the next CT_EVICT_SCAN entries. */
static int evict_one(struct ct_table *t, uint32_t now)
{
	struct ct_flow *victim = NULL;

	for (uint32_t i = 0; i < CT_EVICT_SCAN && i < t->cap; i++) {
		struct ct_flow *f = &t->flows[t->evict_pos];

		if (++t->evict_pos >= t->cap)
			t->evict_pos = 0;
		if (!f->used)
			continue;
		if (ct_expired(t, f, now)) {
			ct_remove(t, f);
			return 0;
		}
		if (evictable(f) && (!victim || now - f->last > now - victim->last))
			victim = f;
	}
	if (!victim)
		return -ENOSPC;
	ct_remove(t, victim);
	t->evicted++;
	return 0;
}

/* A source at its cap: its expired flows go now, not when the sweep
 * reaches them (a second of the sweep covers 4096 entries per tick, so a
 * large table would hold the source at its cap for long after). Once a
 * second at most: a source that keeps knocking costs one walk of its
 * own src_max flows per second. How many went. */
static uint32_t src_reap(struct ct_table *t, uint32_t r, uint32_t now)
{
	struct ct_src *e = &t->srcs[r - 1];
	uint32_t i, next, gone = 0;

	if (e->reaped == now + 1)
		return 0;
	e->reaped = now + 1;
	for (i = e->head; i; i = next) {
		struct ct_flow *f = &t->flows[i - 1];
		int last = e->count == 1;

		next = f->snext;
		if (!ct_expired(t, f, now))
			continue;
		ct_remove(t, f);
		gone++;
		if (last) /* the entry itself went with it */
			break;
	}
	return gone;
}

int ct_admit(struct ct_table *t, const struct ct_tuple *orig, uint32_t now)
{
	if (t->lim.src_max) {
		struct ct_src key;
		uint32_t r;

		src_key(t, orig, &key);
		r = src_find(t, &key);
		if (r && t->srcs[r - 1].count >= t->lim.src_max && src_reap(t, r, now))
			r = src_find(t, &key);
		if (r && t->srcs[r - 1].count >= t->lim.src_max) {
			t->src_capped++;
			return -EDQUOT;
		}
	}
	if (!t->free_head && evict_one(t, now) < 0) {
		t->full++;
		return -ENOSPC;
	}
	return 0;
}

struct ct_flow *ct_insert(struct ct_table *t, const struct ct_tuple *orig,
			  const struct ct_tuple *reply, uint8_t flags,
			  uint32_t now)
{
	struct ct_src key;
	struct ct_flow *f;
	uint32_t idx, src;

	if (ct_tuple_taken(t, orig, now) ||
	    (!(flags & CT_F_NOREPLY) && ct_tuple_taken(t, reply, now))) {
		t->clash++;
		return NULL;
	}
	if (ct_admit(t, orig, now) < 0)
		return NULL;
	src_key(t, orig, &key);
	src = src_get(t, &key);
	if (!src) {
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
	f->src = src;
	f->snext = t->srcs[src - 1].head;
	if (f->snext)
		t->flows[f->snext - 1].sprev = idx + 1;
	t->srcs[src - 1].head = idx + 1;
	t->srcs[src - 1].count++;
	chain_add(t, idx, CT_ORIG);
	if (!(flags & CT_F_NOREPLY))
		chain_add(t, idx, CT_REPLY);
	t->count++;
	return f;
}

void ct_touch(struct ct_flow *f, int dir, uint8_t tcp_flags, uint32_t now)
{
	uint8_t synack = tcp_flags & (0x02 | 0x10);

	f->last = now;
	if (dir == CT_REPLY)
		f->flags |= CT_F_REPLIED;
	if (f->t[0].proto != 6)
		return;
	/* R24: close tracking. RST ends a flow at once; FIN both ways ends
	 * it after a short linger for the last ACKs. */
	if (tcp_flags & 0x04) {
		f->state = CT_TCP_CLOSE;
		return;
	}
	if (f->state == CT_TCP_CLOSE)
		return;
	if (tcp_flags & 0x01) {
		f->fin |= (uint8_t)(1u << dir);
		f->state = f->fin == 3 ? CT_TCP_CLOSE : CT_TCP_FIN;
		return;
	}
	/* The handshake: SYN, SYN-ACK back, the opener's ACK. Only then is
	 * the flow established and held for its idle timeout. */
	switch (f->state) {
	case CT_TCP_NONE:
		if (synack == 0x02)
			f->state = CT_TCP_SYN;
		else if (dir == CT_REPLY)
			f->state = CT_TCP_EST; /* a pickup, answered */
		break;
	case CT_TCP_SYN:
		if (dir == CT_REPLY && synack == 0x12)
			f->state = CT_TCP_SYN_ACK;
		else if (dir == CT_ORIG && synack == 0x10 &&
			 (f->flags & CT_F_NOREPLY))
			f->state = CT_TCP_EST; /* DSR: the SYN-ACK went by */
		break;
	case CT_TCP_SYN_ACK:
		if (dir == CT_ORIG && synack == 0x10)
			f->state = CT_TCP_EST;
		break;
	default:
		break;
	}
}

uint32_t ct_sweep(struct ct_table *t, uint32_t now, uint32_t budget)
{
	uint32_t removed = 0;

	if (budget > t->cap)
		budget = t->cap;
	for (uint32_t i = 0; i < budget; i++) {
		struct ct_flow *f = &t->flows[t->sweep_pos];

		if (f->used && ct_expired(t, f, now)) {
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
