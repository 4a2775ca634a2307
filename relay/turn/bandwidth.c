/* bandwidth.c: the --max-bps token bucket. */
#include "turn/bandwidth.h"

void bw_init(struct bw_bucket *b, uint64_t bps, uint64_t now_ms)
{
	b->tokens = bps / 8;
	b->refill_at = now_ms;
}

int bw_take(struct bw_bucket *b, uint64_t bps, size_t len, uint64_t now_ms)
{
	if (!bps)
		return 1;
	if (now_ms > b->refill_at) {
		b->tokens += (now_ms - b->refill_at) * bps / 8000;
		if (b->tokens > bps / 8)
			b->tokens = bps / 8;
		b->refill_at = now_ms;
	}
	if (b->tokens < len)
		return 0;
	b->tokens -= len;
	return 1;
}
