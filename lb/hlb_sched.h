/* hlb_sched.h (not sched.h: that would shadow the system <sched.h>):
 * choosing a real server for a new flow (R22).
 *
 * rr is smooth weighted round robin (each real gets its weight's share,
 * interleaved rather than in bursts); leastconn picks the fewest active
 * flows per unit of weight; source pins a client address to one real for
 * affinity_timeout seconds after its last new flow, choosing by rr the
 * first time. A real that is disabled, draining or down is never picked,
 * even where affinity points at it: the pin moves instead. */
#ifndef HLB_HLB_SCHED_H
#define HLB_HLB_SCHED_H

#include <stdint.h>

#include "service.h"

struct aff_entry {
	uint8_t addr[16];
	uint8_t family;
	uint8_t used;
	uint16_t svc;
	uint16_t real;
	uint32_t last;
	uint32_t next;     /* chain: index + 1 */
};

struct aff_table {
	struct aff_entry *e;
	uint32_t cap;
	uint32_t *buckets;
	uint32_t mask;
	uint32_t free_head;
	uint32_t count;
	uint32_t seed;
	uint32_t sweep_pos;
	uint64_t full;
};

int aff_init(struct aff_table *t, uint32_t cap, uint32_t seed);
void aff_free(struct aff_table *t);
/* The pinned real for (svc, client), or -1 when none or expired. */
int aff_get(struct aff_table *t, uint16_t svc, const struct lb_addr *client,
	    uint32_t timeout, uint32_t now);
/* Pin (or re-pin) client to real; refreshes the timestamp. 0 or -ENOSPC. */
int aff_set(struct aff_table *t, uint16_t svc, const struct lb_addr *client,
	    uint16_t real, uint32_t now);
uint32_t aff_sweep(struct aff_table *t, const struct lb_config *cfg,
		   uint32_t now, uint32_t budget);

/* 1 when the real may take a new flow. */
int sched_real_usable(const struct lb_real *r);

/* The index of the real for a new flow of svc from client, or -1 when no
 * real can take it. svc_idx is the service's index (affinity key). */
int sched_pick(struct lb_service *s, uint16_t svc_idx,
	       struct aff_table *aff, const struct lb_addr *client,
	       uint32_t now);

#endif
