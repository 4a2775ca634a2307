/* affinity.c: source affinity: the pin table, the `source` scheduler and
 * the refresh on a flow's packets; see affinity.h. */
#include "affinity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t aff_hash(uint16_t svc, const struct lb_addr *a, uint32_t seed)
{
	uint32_t h = seed ^ svc ^ ((uint32_t)a->family << 16);
	size_t n = a->family == 4 ? 4 : 16;

	for (size_t i = 0; i < n; i++) {
		h ^= a->a[i];
		h *= 16777619u; /* FNV-1a */
	}
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

int aff_init(struct aff_table *t, uint32_t cap, uint32_t seed)
{
	uint32_t nb = 1;

	memset(t, 0, sizeof(*t));
	if (cap == 0 || cap > (1u << 26))
		return -EINVAL;
	while (nb < cap)
		nb <<= 1;
	t->e = calloc(cap, sizeof(*t->e));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->e || !t->buckets) {
		aff_free(t);
		return -ENOMEM;
	}
	t->cap = cap;
	t->mask = nb - 1;
	t->seed = seed;
	for (uint32_t i = 0; i < cap; i++)
		t->e[i].next = i + 1 < cap ? i + 2 : 0;
	t->free_head = 1;
	return 0;
}

void aff_free(struct aff_table *t)
{
	free(t->e);
	free(t->buckets);
	t->e = NULL;
	t->buckets = NULL;
}

static int same(const struct aff_entry *e, uint16_t svc,
		const struct lb_addr *a)
{
	return e->svc == svc && e->family == a->family &&
	       memcmp(e->addr, a->a, a->family == 4 ? 4 : 16) == 0;
}

static void aff_del(struct aff_table *t, uint32_t idx)
{
	struct aff_entry *e = &t->e[idx];
	struct lb_addr a = { .family = e->family };
	uint32_t *pp;

	memcpy(a.a, e->addr, 16);
	pp = &t->buckets[aff_hash(e->svc, &a, t->seed) & t->mask];
	while (*pp && *pp != idx + 1)
		pp = &t->e[*pp - 1].next;
	if (*pp)
		*pp = e->next;
	memset(e, 0, sizeof(*e));
	e->next = t->free_head;
	t->free_head = idx + 1;
	t->count--;
}

static struct aff_entry *aff_find(struct aff_table *t, uint16_t svc,
				  const struct lb_addr *a)
{
	uint32_t r = t->buckets[aff_hash(svc, a, t->seed) & t->mask];

	while (r) {
		struct aff_entry *e = &t->e[r - 1];

		if (same(e, svc, a))
			return e;
		r = e->next;
	}
	return NULL;
}

int aff_get(struct aff_table *t, uint16_t svc, const struct lb_addr *client,
	    uint32_t timeout, uint32_t now)
{
	struct aff_entry *e = aff_find(t, svc, client);

	if (!e)
		return -1;
	if (now - e->last >= timeout) {
		aff_del(t, (uint32_t)(e - t->e));
		return -1;
	}
	return e->real;
}

int aff_set(struct aff_table *t, uint16_t svc, const struct lb_addr *client,
	    uint16_t real, uint32_t now)
{
	struct aff_entry *e = aff_find(t, svc, client);
	uint32_t idx, b;

	if (!e) {
		if (!t->free_head) {
			t->full++;
			return -ENOSPC;
		}
		idx = t->free_head - 1;
		e = &t->e[idx];
		t->free_head = e->next;
		memset(e, 0, sizeof(*e));
		e->svc = svc;
		e->family = client->family;
		memcpy(e->addr, client->a, 16);
		e->used = 1;
		b = aff_hash(svc, client, t->seed) & t->mask;
		e->next = t->buckets[b];
		t->buckets[b] = idx + 1;
		t->count++;
	}
	e->real = real;
	e->last = now;
	return 0;
}

uint32_t aff_sweep(struct aff_table *t, const struct lb_config *cfg,
		   uint32_t now, uint32_t budget)
{
	uint32_t removed = 0;

	if (budget > t->cap)
		budget = t->cap;
	for (uint32_t i = 0; i < budget; i++) {
		struct aff_entry *e = &t->e[t->sweep_pos];

		if (e->used && (e->svc >= cfg->nsvc ||
				now - e->last >= cfg->svc[e->svc].affinity_timeout)) {
			aff_del(t, t->sweep_pos);
			removed++;
		}
		if (++t->sweep_pos >= t->cap)
			t->sweep_pos = 0;
	}
	return removed;
}

/* The pinned real if it can still take flows; otherwise rr chooses and
 * the pin moves there. */
static int pick_source(struct lb_service *s, const struct sched_req *req)
{
	int r = aff_get(req->aff, req->svc, req->client, s->affinity_timeout,
			req->now);

	if (r < 0 || r >= s->nreals || !sched_real_usable(&s->reals[r]))
		r = sched_rr.pick(s, req);
	if (r >= 0)
		aff_set(req->aff, req->svc, req->client, (uint16_t)r, req->now);
	return r;
}

const struct lb_scheduler sched_source = { "source", pick_source };

void aff_refresh(struct aff_table *t, const struct lb_service *s,
		 struct ct_flow *f, uint32_t now)
{
	struct lb_addr c = { .family = f->t[CT_ORIG].family };

	if (s->sched != &sched_source || now - f->aff_last < AFF_REFRESH_SECONDS)
		return;
	memcpy(c.a, f->t[CT_ORIG].src, 16);
	aff_set(t, f->svc, &c, f->real, now);
	f->aff_last = now;
}
