/* ratelimit.h: how often one source may get an answer without valid
 * credentials (R15). A fixed table of token buckets indexed by a hash of
 * the source IP: no allocation, bounded memory whatever the flood; two
 * sources that share a bucket share a budget, which errs on the safe side. */
#ifndef EDGELAB_RATELIMIT_H
#define EDGELAB_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#define RATELIMIT_BUCKETS 4096
#define RATELIMIT_BURST   500   /* answers at once */
#define RATELIMIT_RATE    200   /* answers per second after that */

struct ratelimit {
	uint32_t key;
	struct { uint32_t tokens_milli; uint64_t at; } b[RATELIMIT_BUCKETS];
};

void ratelimit_init(struct ratelimit *r, uint32_t key);
/* 1 if src may have an answer now (and spend one), 0 if not. */
int ratelimit_take(struct ratelimit *r, const struct sockaddr *src, uint64_t now_ms);

#endif
