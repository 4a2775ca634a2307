/* scheduler.h: the schedulers (round robin, least connections, source
 * affinity): each chooses a real server for a new flow (R22).
 *
 * Each scheduler is one {name, pick} entry, defined in its own file and
 * listed in sched.c's table, where the config finds it by name (as IPVS
 * registers its ip_vs_scheduler objects); a service holds a pointer to
 * its entry, so choosing a real is one indirect call, no switch. rr is
 * smooth weighted round robin (sched_rr.c), leastconn the fewest active
 * flows per unit of weight (sched_leastconn.c), source pins a client to
 * one real (affinity.c). A real that is disabled, draining or down is
 * never picked, even where affinity points at it: the pin moves instead. */
#ifndef HLB_HLB_SCHED_H
#define HLB_HLB_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "service.h"

struct aff_table;

/* The new flow a scheduler is asked about. */
struct sched_req {
	uint16_t svc;                 /* the service's index (affinity key) */
	const struct lb_addr *client;
	uint32_t now;                 /* seconds, the flow table's clock */
	struct aff_table *aff;        /* source affinity's pins */
};

struct lb_scheduler {
	const char *name;             /* as the config spells it */
	/* The index of the real for the new flow, or -1 when none can
	 * take it. */
	int (*pick)(struct lb_service *s, const struct sched_req *req);
};

extern const struct lb_scheduler sched_rr;        /* sched_rr.c */
extern const struct lb_scheduler sched_leastconn; /* sched_leastconn.c */
extern const struct lb_scheduler sched_source;    /* affinity.c */

/* The scheduler called name, or NULL. */
const struct lb_scheduler *sched_find(const char *name);
/* "rr, leastconn or source" into buf, for error messages; returns buf. */
const char *sched_names(char *buf, size_t len);

/* 1 when the real may take a new flow. */
static inline int sched_real_usable(const struct lb_real *r)
{
	return r->admin == LB_ENABLED && r->up && r->weight > 0;
}

#endif
