/* conntrack.h: the flow table (R24).
 *
 * Fixed size, allocated once at start: a flow is an entry in one array,
 * found through a hash on its 5-tuple in either direction, so a reply is
 * matched as fast as the first packet. Entries are never allocated per
 * packet; a full table refuses new flows (counted) rather than grow.
 * Time is seconds on a monotonic clock passed in by the caller, which
 * lets the tests drive it with a fake clock. */
#ifndef HLB_CONNTRACK_H
#define HLB_CONNTRACK_H

#include <stddef.h>
#include <stdint.h>

/* A direction's 5-tuple. Fully zeroed before filling: it is hashed and
 * compared as bytes. Ports in host order. */
struct ct_tuple {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport, dport;
	uint8_t family;
	uint8_t proto;
	uint8_t pad[2];
};

enum ct_dir { CT_ORIG = 0, CT_REPLY = 1 };

enum ct_tcp_state {
	CT_TCP_NONE = 0,   /* UDP, or TCP seen mid-stream */
	CT_TCP_SYN,        /* SYN seen, no answer yet */
	CT_TCP_EST,
	CT_TCP_FIN,        /* FIN seen in one direction */
	CT_TCP_CLOSE,      /* FIN both ways, or RST: about to go */
};

/* Timeouts for the states that are not idle (seconds). */
#define CT_TIMEOUT_SYN   120
#define CT_TIMEOUT_FIN   120
#define CT_TIMEOUT_CLOSE 10

#define CT_F_NOREPLY  0x01 /* the reply tuple is not hashed (M12 DSR) */
#define CT_F_OUTBOUND 0x02 /* started by a real server (R25) */

struct ct_flow {
	struct ct_tuple t[2];  /* [CT_ORIG] as it arrived, [CT_REPLY] expected */
	uint32_t next[2];      /* hash chains: entry reference, 0 ends */
	uint32_t last;         /* last packet, seconds */
	uint32_t idle;         /* idle timeout while established, seconds */
	uint32_t aff_last;     /* when this flow last refreshed its affinity */
	uint16_t svc, real;
	uint8_t state;         /* enum ct_tcp_state */
	uint8_t fin;           /* bit per direction that sent FIN */
	uint8_t flags;
	uint8_t used;
};

struct ct_table;
typedef void (*ct_remove_cb)(void *ctx, const struct ct_flow *f);

struct ct_table {
	struct ct_flow *flows;
	uint32_t cap;
	uint32_t *buckets;     /* entry references: (index << 1 | dir) + 1 */
	uint32_t mask;
	uint32_t free_head;    /* index + 1 of the first free entry */
	uint32_t count;
	uint32_t seed;
	uint32_t sweep_pos;
	uint64_t full;         /* inserts refused: table full */
	ct_remove_cb on_remove;
	void *ctx;
};

/* 0 or -ENOMEM. cap entries; buckets are the next power of two >= cap.
 * on_remove (may be NULL) hears of every flow that leaves the table,
 * with ctx: how the table's owner keeps its counts without the table
 * knowing the owner. */
int ct_init(struct ct_table *t, uint32_t cap, uint32_t seed,
	    ct_remove_cb on_remove, void *ctx);
void ct_free(struct ct_table *t);

/* The flow whose tuple in some direction equals k, and that direction.
 * An expired flow is removed and not returned. */
struct ct_flow *ct_lookup(struct ct_table *t, const struct ct_tuple *k,
			  uint32_t now, int *dir);
/* Insert a flow with both tuples; NULL when full or when either tuple
 * is already in the table. The caller fills svc, real, idle. */
struct ct_flow *ct_insert(struct ct_table *t, const struct ct_tuple *orig,
			  const struct ct_tuple *reply, uint8_t flags,
			  uint32_t now);
void ct_remove(struct ct_table *t, struct ct_flow *f);
/* 1 when some flow has tuple k in either direction (no expiry). */
int ct_tuple_taken(struct ct_table *t, const struct ct_tuple *k, uint32_t now);

/* Note a packet of flow f in direction dir: refresh, follow TCP state. */
void ct_touch(struct ct_flow *f, int dir, uint8_t tcp_flags, uint32_t now);
/* Seconds this flow may stay idle in its current state. */
uint32_t ct_timeout(const struct ct_flow *f);
int ct_expired(const struct ct_flow *f, uint32_t now);

/* Remove up to budget expired entries, scanning from where the last call
 * stopped; returns how many were removed. */
uint32_t ct_sweep(struct ct_table *t, uint32_t now, uint32_t budget);
/* Remove every flow for which match returns 1 (control: disable). */
uint32_t ct_flush(struct ct_table *t, int (*match)(const struct ct_flow *,
						   void *), void *arg);

void ct_tuple_invert(struct ct_tuple *out, const struct ct_tuple *in);

#endif
