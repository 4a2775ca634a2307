/* admit.h: stream connection admission (R18). The caps and timeouts every
 * stream listener enforces, and a worker's count of the connections it
 * holds, in all and per source address. The per-source table draws its
 * entries from a pool sized by the total cap, so it never allocates after
 * the first connection and cannot outgrow the cap, however many sources. */
#ifndef EDGELAB_ADMIT_H
#define EDGELAB_ADMIT_H

#include <stdint.h>
#include <sys/socket.h>

#include "util/stats.h"

struct conn_limits {
	uint32_t max_conns;      /* connections held at once */
	uint32_t max_per_source; /* ... from one IP address */
	uint32_t handshake_ms;   /* a TLS handshake must finish within */
	uint32_t idle_ms;        /* a connection with no allocation and nothing received */
	uint32_t frame_ms;       /* a partial frame must complete within */
	uint32_t out_cap;        /* bytes queued to write before reading stops */
	uint32_t stall_ms;       /* queued over out_cap that long: closed */
};

struct admit_src;

struct conn_admit {
	const struct conn_limits *lim;
	struct stats *st;
	uint32_t held;
	struct admit_src **buckets; /* nbuckets, a power of two */
	struct admit_src *pool, *free;
	uint32_t nbuckets;
	uint32_t key;               /* hash key: sources cannot aim at one chain */
};

void admit_init(struct conn_admit *a, const struct conn_limits *lim, struct stats *st);
void admit_free(struct conn_admit *a);
/* May src have one more connection? 0 (counted), or -1 with *hit set to
 * the limit that says no (LIMIT_MAX_CONNS, LIMIT_MAX_PER_SOURCE), counted
 * in st. */
int admit_take(struct conn_admit *a, const struct sockaddr *src, int *hit);
void admit_give(struct conn_admit *a, const struct sockaddr *src);

#endif
