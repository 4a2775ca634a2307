/* metrics.h: Prometheus text exposition at /metrics (R16). */
#ifndef EDGELAB_METRICS_H
#define EDGELAB_METRICS_H

#include <uv.h>

#include "worker.h"

struct metrics;

/* Serve the sum of the workers' counters on addr. 0 or a libuv error. */
int metrics_start(uv_loop_t *loop, const struct sockaddr *addr, struct worker *ws, int n,
		  struct metrics **out);
void metrics_close(struct metrics *m);

#endif
