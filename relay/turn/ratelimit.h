/* ratelimit.h: what one source may be answered without valid credentials
 * (R15, R18): Binding answers, 401 and 438 challenges, 400 and 420. Two
 * budgets per source (an IPv4 address, an IPv6 /64):
 *   - answers: a token bucket, `burst` at once and `rate` a second after;
 *   - bytes: a credit that starts at burst answers' worth and grows by what
 *     the source sends, so that past the burst no source is answered more
 *     bytes than it sent (amplification at most 1x). A source quiet for a
 *     whole refill period (burst / rate seconds) gets its burst back.
 * Sources live in a fixed table (two candidate slots each, keyed hash; a
 * newcomer evicts the longest silent): no allocation after start, bounded
 * memory whatever the flood, and unrelated sources share nothing unless
 * the table is full. Time is passed in. */
#ifndef EDGELAB_RATELIMIT_H
#define EDGELAB_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RATELIMIT_SLOTS  32768
#define RATELIMIT_ANSWER 128   /* bytes of credit per answer of the burst */

struct rl_src;

struct ratelimit {
	uint32_t key, rate, burst;
	struct rl_src *t;          /* RATELIMIT_SLOTS; NULL when off */
	uint64_t evicted;          /* sources pushed out by newcomers */
};

/* rate 0: no limit at all. 0, or -1 out of memory. */
int ratelimit_init(struct ratelimit *r, uint32_t key, uint32_t rate, uint32_t burst);
void ratelimit_free(struct ratelimit *r);
/* src sent len bytes (any request, authenticated or not). */
void ratelimit_earn(struct ratelimit *r, const struct sockaddr *src, size_t len, uint64_t now_ms);
/* 1 if src may be answered len bytes now (both budgets are spent), 0 if not. */
int ratelimit_take(struct ratelimit *r, const struct sockaddr *src, size_t len, uint64_t now_ms);

#endif
