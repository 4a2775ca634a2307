/* sched_leastconn.c: the usable real with the fewest active flows per
 * unit of weight; ties go to the first. */
#include "scheduler.h"

static int pick_leastconn(struct lb_service *s, const struct sched_req *req)
{
	int best = -1;

	(void)req; /* the flows counted are the reals' own */
	for (int i = 0; i < s->nreals; i++) {
		struct lb_real *r = &s->reals[i];
		struct lb_real *b;

		if (!sched_real_usable(r))
			continue;
		if (best < 0) {
			best = i;
			continue;
		}
		b = &s->reals[best];
		/* active/weight < best.active/best.weight, without division */
		if ((uint64_t)r->active * b->weight <
		    (uint64_t)b->active * r->weight)
			best = i;
	}
	return best;
}

const struct lb_scheduler sched_leastconn = { "leastconn", pick_leastconn };
