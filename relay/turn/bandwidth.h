/* bandwidth.h: a token bucket in bytes for --max-bps (R15), one per
 * allocation: refilled per millisecond, at most one second of burst. Pure
 * arithmetic, time passed in. */
#ifndef EDGELAB_BANDWIDTH_H
#define EDGELAB_BANDWIDTH_H

#include <stddef.h>
#include <stdint.h>

struct bw_bucket {
	uint64_t tokens, refill_at;
};

/* Start full at now. */
void bw_init(struct bw_bucket *b, uint64_t bps, uint64_t now_ms);
/* Spend len bytes; 1 if allowed, 0 if over the cap. bps 0: no cap. */
int bw_take(struct bw_bucket *b, uint64_t bps, size_t len, uint64_t now_ms);

#endif
