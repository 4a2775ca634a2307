/* metrics.h: Prometheus text exposition at /metrics (R16). */
#ifndef EDGELAB_METRICS_H
#define EDGELAB_METRICS_H

#include <uv.h>

#include "worker.h"

struct metrics;

/* Serve the sum of the workers' counters on addr: at most max_conns
 * connections, each closed unless its request comes within timeout_ms.
 * 0 or a negative errno. */
int metrics_start(uv_loop_t *loop, const struct sockaddr *addr, struct worker *ws, int n,
		  uint32_t timeout_ms, uint32_t max_conns, struct metrics **out);
void metrics_close(struct metrics *m);

#endif
