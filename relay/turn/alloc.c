/* alloc.c: the allocation table, permissions and channels. */
#include <stdlib.h>
#include <string.h>

#include "turn/alloc.h"

static uint32_t mix(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u; /* FNV-1a */
	return h;
}

static unsigned key_hash(const struct alloc_table *t, const struct five_tuple *k)
{
	uint32_t h = 2166136261u;
	h = mix(h, &k->listener, sizeof k->listener);
	h = mix(h, &k->conn, sizeof k->conn);
	struct peer p;

	/* Hash the address and port only: sockaddr padding is not the key. */
	peer_from_sockaddr(&p, (const struct sockaddr *)&k->client);
	h = mix(h, &p, sizeof p);
	return h & (t->nbuckets - 1);
}

static int key_equal(const struct five_tuple *a, const struct five_tuple *b)
{
	return a->listener == b->listener && a->conn == b->conn &&
	       netaddr_equal((const struct sockaddr *)&a->client,
			     (const struct sockaddr *)&b->client);
}

void five_tuple_set(struct five_tuple *k, const void *listener, const void *conn,
		    const struct sockaddr *client)
{
	memset(k, 0, sizeof *k);
	k->listener = listener;
	k->conn = conn;
	memcpy(&k->client, client, netaddr_len(client));
}

int alloc_table_init(struct alloc_table *t, unsigned nbuckets)
{
	unsigned n = 1;
	while (n < nbuckets)
		n <<= 1;
	memset(t, 0, sizeof *t);
	t->buckets = calloc(n, sizeof *t->buckets);
	t->mux_buckets = calloc(n, sizeof *t->mux_buckets);
	if (!t->buckets || !t->mux_buckets) {
		free(t->buckets);
		free(t->mux_buckets);
		t->buckets = t->mux_buckets = NULL;
		return -1;
	}
	t->nbuckets = n;
	return 0;
}

static void alloc_free(struct alloc *a)
{
	if (a->ms)
		explicit_bzero(a->ms->key, sizeof a->ms->key);
	free(a->ms);
	free(a->user);
	free(a->perms);
	free(a->chans);
	free(a);
}

void alloc_table_free(struct alloc_table *t)
{
	while (t->all)
		alloc_table_remove(t, t->all);
	free(t->buckets);
	free(t->mux_buckets);
	t->buckets = NULL;
	t->mux_buckets = NULL;
}

struct alloc *alloc_table_find(const struct alloc_table *t, const struct five_tuple *k)
{
	for (struct alloc *a = t->buckets[key_hash(t, k)]; a; a = a->hnext)
		if (key_equal(&a->key, k))
			return a;
	return NULL;
}

struct alloc *alloc_table_add(struct alloc_table *t, const struct five_tuple *k,
			      uint64_t expires)
{
	struct alloc *a = calloc(1, sizeof *a);
	unsigned b;

	if (!a)
		return NULL;
	a->key = *k;
	a->expires = expires;
	b = key_hash(t, k);
	a->hnext = t->buckets[b];
	t->buckets[b] = a;
	a->next = t->all;
	if (t->all)
		t->all->prev = a;
	t->all = a;
	t->count++;
	return a;
}

/* Session ids are random (RAND_bytes), so their first bytes spread them
 * evenly; an outsider cannot aim at a bucket. */
static unsigned mux_hash(const struct alloc_table *t, const uint8_t *id)
{
	uint32_t h = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
	return h & (t->nbuckets - 1);
}

static void mux_unlink(struct alloc_table *t, struct alloc *a)
{
	struct alloc **pp = &t->mux_buckets[mux_hash(t, a->ms->mux_id)];

	while (*pp && *pp != a)
		pp = &(*pp)->ms->mux_next;
	if (*pp)
		*pp = a->ms->mux_next;
	t->mux_count--;
}

void alloc_table_set_mux(struct alloc_table *t, struct alloc *a)
{
	unsigned b = mux_hash(t, a->ms->mux_id);

	a->ms->mux = 1;
	a->ms->mux_next = t->mux_buckets[b];
	t->mux_buckets[b] = a;
	t->mux_count++;
}

struct alloc *alloc_table_find_mux(const struct alloc_table *t, const uint8_t *id)
{
	for (struct alloc *a = t->mux_buckets[mux_hash(t, id)]; a; a = a->ms->mux_next)
		if (!memcmp(a->ms->mux_id, id, sizeof a->ms->mux_id))
			return a;
	return NULL;
}

void alloc_table_remove(struct alloc_table *t, struct alloc *a)
{
	struct alloc **pp = &t->buckets[key_hash(t, &a->key)];

	while (*pp && *pp != a)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = a->hnext;
	if (a->prev)
		a->prev->next = a->next;
	else
		t->all = a->next;
	if (a->next)
		a->next->prev = a->prev;
	t->count--;
	if (a->ms && a->ms->mux)
		mux_unlink(t, a);
	if (a->ms)
		t->ms_count--;
	alloc_free(a);
}

int alloc_table_set_ms(struct alloc_table *t, struct alloc *a)
{
	if (a->ms)
		return 0;
	if (!(a->ms = calloc(1, sizeof *a->ms)))
		return -1;
	t->ms_count++;
	return 0;
}

/* Drop expired permissions and channels past quarantine, keeping order. */
static void alloc_prune(struct alloc *a, uint64_t now)
{
	unsigned j = 0;

	for (unsigned i = 0; i < a->nperms; i++)
		if (a->perms[i].expires > now)
			a->perms[j++] = a->perms[i];
	a->nperms = (uint8_t)j;
	j = 0;
	for (unsigned i = 0; i < a->nchans; i++)
		if (a->chans[i].expires + TURN_CHANNEL_QUARANTINE_MS > now)
			a->chans[j++] = a->chans[i];
	a->nchans = (uint8_t)j;
}

void alloc_table_expire(struct alloc_table *t, uint64_t now,
			void (*fn)(struct alloc *a, void *ctx), void *ctx)
{
	struct alloc *a = t->all, *next;

	for (; a; a = next) {
		next = a->next;
		if (a->expires <= now)
			fn(a, ctx);
		else
			alloc_prune(a, now);
	}
}

void peer_from_sockaddr(struct peer *p, const struct sockaddr *sa)
{
	memset(p, 0, sizeof *p);
	p->family = (uint8_t)sa->sa_family;
	p->port = (uint16_t)netaddr_port(sa);
	if (sa->sa_family == AF_INET)
		memcpy(p->ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else
		memcpy(p->ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

void peer_to_sockaddr(const struct peer *p, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	ss->ss_family = p->family;
	if (p->family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, p->ip, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, p->ip, 16);
	netaddr_set_port((struct sockaddr *)ss, p->port);
}

int peer_same_ip(const struct peer *a, const struct peer *b)
{
	return a->family == b->family && !memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16);
}

int peer_same(const struct peer *a, const struct peer *b)
{
	return peer_same_ip(a, b) && a->port == b->port;
}

int alloc_perm_add(struct alloc *a, const struct peer *ip, uint64_t now)
{
	struct perm *p;

	for (unsigned i = 0; i < a->nperms; i++)
		if (peer_same_ip(&a->perms[i].ip, ip)) {
			a->perms[i].expires = now + TURN_PERM_LIFETIME_MS;
			return 0;
		}
	alloc_prune(a, now);
	if (a->nperms == ALLOC_MAX_PERMS)
		return -1;
	p = realloc(a->perms, (a->nperms + 1u) * sizeof *p);
	if (!p)
		return -1;
	a->perms = p;
	p[a->nperms].ip = *ip;
	p[a->nperms].ip.port = 0;
	p[a->nperms].expires = now + TURN_PERM_LIFETIME_MS;
	a->nperms++;
	return 0;
}

int alloc_perm_has(const struct alloc *a, const struct peer *ip, uint64_t now)
{
	for (unsigned i = 0; i < a->nperms; i++)
		if (a->perms[i].expires > now && peer_same_ip(&a->perms[i].ip, ip))
			return 1;
	return 0;
}

int alloc_chan_bind(struct alloc *a, uint16_t num, const struct peer *peer, uint64_t now)
{
	struct channel *c;

	for (unsigned i = 0; i < a->nchans; i++) {
		c = &a->chans[i];
		int same_num = c->num == num, same_peer = peer_same(&c->peer, peer);
		/* An expired binding stays reserved (quarantine) for its own
		 * pair only, so the same pair may rebind. */
		if (same_num && same_peer) {
			c->expires = now + TURN_CHANNEL_LIFETIME_MS;
			return 0;
		}
		if ((same_num || same_peer) && c->expires + TURN_CHANNEL_QUARANTINE_MS > now)
			return -1;
	}
	alloc_prune(a, now);
	if (a->nchans == ALLOC_MAX_CHANNELS)
		return -2;
	c = realloc(a->chans, (a->nchans + 1u) * sizeof *c);
	if (!c)
		return -2;
	a->chans = c;
	c[a->nchans].num = num;
	c[a->nchans].peer = *peer;
	c[a->nchans].expires = now + TURN_CHANNEL_LIFETIME_MS;
	a->nchans++;
	return 0;
}

const struct channel *alloc_chan_by_num(const struct alloc *a, uint16_t num, uint64_t now)
{
	for (unsigned i = 0; i < a->nchans; i++)
		if (a->chans[i].num == num && a->chans[i].expires > now)
			return &a->chans[i];
	return NULL;
}

const struct channel *alloc_chan_by_peer(const struct alloc *a, const struct peer *peer,
					 uint64_t now)
{
	for (unsigned i = 0; i < a->nchans; i++)
		if (a->chans[i].expires > now && peer_same(&a->chans[i].peer, peer))
			return &a->chans[i];
	return NULL;
}
