/* admit.c: connection counts, in all and per source. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "io/admit.h"

struct admit_src {
	struct admit_src *next;
	uint32_t n;
	uint8_t fam;
	uint8_t ip[16];
};

static void ip_of(const struct sockaddr *sa, uint8_t *fam, uint8_t ip[16])
{
	memset(ip, 0, 16);
	*fam = (uint8_t)sa->sa_family;
	if (sa->sa_family == AF_INET6)
		memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	else
		memcpy(ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
}

static uint32_t hash(const struct conn_admit *a, uint8_t fam, const uint8_t ip[16])
{
	uint32_t h = a->key ^ fam;

	for (int i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 16777619u;
	return h & (a->nbuckets - 1);
}

void admit_init(struct conn_admit *a, const struct conn_limits *lim, struct stats *st)
{
	memset(a, 0, sizeof *a);
	a->lim = lim;
	a->st = st;
	RAND_bytes((unsigned char *)&a->key, sizeof a->key);
}

/* The table, at the first connection: UDP-only workers never pay for it. */
static int grow(struct conn_admit *a)
{
	uint32_t n = 1;

	while (n < a->lim->max_conns)
		n <<= 1;
	a->buckets = calloc(n, sizeof *a->buckets);
	a->pool = calloc(a->lim->max_conns, sizeof *a->pool);
	if (!a->buckets || !a->pool) {
		free(a->buckets);
		free(a->pool);
		a->buckets = NULL;
		a->pool = NULL;
		return -1;
	}
	a->nbuckets = n;
	for (uint32_t i = 0; i < a->lim->max_conns; i++) {
		a->pool[i].next = a->free;
		a->free = &a->pool[i];
	}
	return 0;
}

static struct admit_src **find(struct conn_admit *a, uint8_t fam, const uint8_t ip[16])
{
	struct admit_src **pp = &a->buckets[hash(a, fam, ip)];

	while (*pp && ((*pp)->fam != fam || memcmp((*pp)->ip, ip, 16)))
		pp = &(*pp)->next;
	return pp;
}

static int refuse(struct conn_admit *a, int limit, int *hit)
{
	a->st->limits[limit]++;
	*hit = limit;
	return -1;
}

int admit_take(struct conn_admit *a, const struct sockaddr *src, int *hit)
{
	struct admit_src **pp, *e;
	uint8_t fam, ip[16];

	if (a->held >= a->lim->max_conns || (!a->buckets && grow(a)))
		return refuse(a, LIMIT_MAX_CONNS, hit);
	ip_of(src, &fam, ip);
	pp = find(a, fam, ip);
	if ((e = *pp) && e->n >= a->lim->max_per_source)
		return refuse(a, LIMIT_MAX_PER_SOURCE, hit);
	if (!e) { /* held < max_conns, so the pool has an entry */
		e = a->free;
		a->free = e->next;
		e->fam = fam;
		memcpy(e->ip, ip, 16);
		e->n = 0;
		e->next = NULL;
		*pp = e;
	}
	e->n++;
	a->held++;
	return 0;
}

void admit_give(struct conn_admit *a, const struct sockaddr *src)
{
	struct admit_src **pp, *e;
	uint8_t fam, ip[16];

	if (!a->buckets) /* freed at shutdown before the last close callbacks */
		return;
	ip_of(src, &fam, ip);
	pp = find(a, fam, ip);
	if (!(e = *pp))
		return;
	a->held--;
	if (--e->n)
		return;
	*pp = e->next;
	e->next = a->free;
	a->free = e;
}

void admit_free(struct conn_admit *a)
{
	free(a->buckets);
	free(a->pool);
	a->buckets = NULL;
	a->pool = NULL;
}
