/* affinity.h: source affinity (R22), all of it: the table that pins a
 * client address to one real per service, the `source` scheduler that
 * reads and writes it, and the refresh the packet path asks for while a
 * client keeps sending.
 *
 * A pin lasts affinity_timeout seconds after the client's last new flow
 * or, through aff_refresh(), its last packet on a flow. The first flow
 * of a client (or one whose pinned real cannot take it) is placed by rr.
 * The table is fixed size, chained, allocated once, like the flow
 * table: a full table refuses new pins (counted) and the flow is still
 * placed. */
#ifndef HLB_AFFINITY_H
#define HLB_AFFINITY_H

#include <stdint.h>

#include "conntrack.h"
#include "scheduler.h"
#include "service.h"

/* How often a flow's packets refresh its client's pin, at most: one
 * table write per flow every few seconds instead of one per packet. */
#define AFF_REFRESH_SECONDS 10

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
/* Remove up to budget expired pins; returns how many. */
uint32_t aff_sweep(struct aff_table *t, const struct lb_config *cfg,
		   uint32_t now, uint32_t budget);

/* A client's packet on inbound flow f of service s: if s is scheduled by
 * source, keep the client's pin alive (R22: affinity lives as long as
 * the client keeps sending). */
void aff_refresh(struct aff_table *t, const struct lb_service *s,
		 struct ct_flow *f, uint32_t now);

#endif
