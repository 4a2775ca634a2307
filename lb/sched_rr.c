/* sched_rr.c: smooth weighted round robin (as nginx does): every usable
 * real gains its weight, the richest is picked and pays the total back,
 * so each real gets its weight's share, interleaved rather than in
 * bursts. The state is the reals' `cur`. */
#include "scheduler.h"

static int pick_rr(struct lb_service *s, const struct sched_req *req)
{
	int32_t total = 0;
	int best = -1;

	(void)req; /* rr needs nothing from the flow */
	for (int i = 0; i < s->nreals; i++) {
		struct lb_real *r = &s->reals[i];

		if (!sched_real_usable(r))
			continue;
		r->cur += (int32_t)r->weight;
		total += (int32_t)r->weight;
		if (best < 0 || r->cur > s->reals[best].cur)
			best = i;
	}
	if (best >= 0)
		s->reals[best].cur -= total;
	return best;
}

const struct lb_scheduler sched_rr = { "rr", pick_rr };
