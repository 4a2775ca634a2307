/* conntrack.h: the flow table (R24).
 *
 * Fixed size, allocated once at start: a flow is an entry in one array,
 * found through a hash on its 5-tuple in either direction, so a reply is
 * matched as fast as the first packet. Entries are never allocated per
 * packet; a full table refuses new flows (counted) rather than grow.
 * Time is seconds on a monotonic clock passed in by the caller, which
 * lets the tests drive it with a fake clock.
 *
 * Limits (issue 11), so one client cannot take the table from the rest:
 * - each source address (an IPv6 one by its /64, struct ct_limits) may
 *   hold at most src_max flows; a second fixed array, as large as the
 *   flow table (every live source holds a flow), counts them and lists
 *   each source's flows, so a source at its cap first gets back its own
 *   expired ones (once a second at most), not when the sweep comes by;
 * - a flow nothing has answered yet lives unreplied_timeout idle
 *   seconds, a TCP flow whose handshake is not complete syn_timeout;
 *   only an answered flow gets its service's idle timeout;
 * - when the table is full, a new flow takes the place of an expired or
 *   unanswered one found within CT_EVICT_SCAN entries (Linux's
 *   early_drop), so a flood of unanswered flows cannot lock out answered
 *   ones; if there is none, it is refused.
 * Every refusal is counted by its reason. */
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
	CT_TCP_NONE = 0,   /* UDP, or TCP picked up mid-stream (R25, M3) */
	CT_TCP_SYN,        /* SYN seen, no answer yet */
	CT_TCP_SYN_ACK,    /* SYN-ACK back, the opener's ACK not yet seen */
	CT_TCP_EST,        /* handshake complete (or a pickup answered) */
	CT_TCP_FIN,        /* FIN seen in one direction */
	CT_TCP_CLOSE,      /* FIN both ways, or RST: about to go */
};

/* Timeouts for the states that are not idle (seconds). */
#define CT_TIMEOUT_FIN   120
#define CT_TIMEOUT_CLOSE 10
/* Defaults of struct ct_limits. */
#define CT_TIMEOUT_SYN        30 /* handshake not complete */
#define CT_TIMEOUT_UNREPLIED  5  /* nothing came back yet */
#define CT_SRC_PREFIX6        64 /* an IPv6 source is its /64 */
/* Entries a full table looks at for one to evict. */
#define CT_EVICT_SCAN 64

#define CT_F_NOREPLY  0x01 /* the reply tuple is not hashed (M12 DSR) */
#define CT_F_OUTBOUND 0x02 /* started by a real server (R25) */
#define CT_F_REPLIED  0x04 /* a packet came back the reply way */
#define CT_F_TLSCHECK 0x08 /* M14: first client payload not seen yet */

struct ct_limits {
	uint32_t src_max;           /* flows one source may hold; 0 no cap */
	uint32_t syn_timeout;       /* seconds: TCP handshake not complete */
	uint32_t unreplied_timeout; /* seconds: any other unanswered flow */
	uint8_t src_prefix6;        /* bits of an IPv6 source that count */
};

/* One source address and how many flows it holds. */
struct ct_src {
	uint8_t addr[16];      /* masked to src_prefix6 for IPv6 */
	uint8_t family;
	uint8_t pad[3];
	uint32_t count;
	uint32_t next;         /* hash chain or free list: index + 1, 0 ends */
	uint32_t head;         /* its flows (ct_flow.snext): index + 1 */
	uint32_t reaped;       /* now + 1 when its expired flows were last taken back */
};

struct ct_flow {
	struct ct_tuple t[2];  /* [CT_ORIG] as it arrived, [CT_REPLY] expected */
	uint32_t next[2];      /* hash chains: entry reference, 0 ends */
	uint32_t last;         /* last packet, seconds */
	uint32_t idle;         /* idle timeout while established, seconds */
	uint32_t aff_last;     /* when this flow last refreshed its affinity */
	uint32_t src;          /* its struct ct_src: index + 1 */
	uint32_t snext, sprev; /* that source's other flows: index + 1 */
	uint16_t svc, real;
	uint8_t state;         /* enum ct_tcp_state */
	uint8_t fin;           /* bit per direction that sent FIN */
	uint8_t flags;
	uint8_t used;
};

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
	uint32_t evict_pos;
	struct ct_limits lim;
	/* Sources: cap entries, hashed into the same number of buckets. */
	struct ct_src *srcs;
	uint32_t *src_buckets; /* index + 1 */
	uint32_t src_free;     /* index + 1 of the first free entry */
	uint32_t nsrc;
	/* Refusals and evictions, by reason. */
	uint64_t full;         /* table full, nothing to evict */
	uint64_t src_capped;   /* the source holds lim.src_max flows */
	uint64_t clash;        /* a tuple is some other flow's already */
	uint64_t evicted;      /* unanswered flows evicted for a new one */
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
/* Set the limits (ct_init sets the CT_* defaults and no source cap);
 * a zero timeout or prefix keeps the default. */
void ct_set_limits(struct ct_table *t, const struct ct_limits *lim);

/* The flow whose tuple in some direction equals k, and that direction.
 * An expired flow is removed and not returned. */
struct ct_flow *ct_lookup(struct ct_table *t, const struct ct_tuple *k,
			  uint32_t now, int *dir);
/* May a new flow whose first tuple is orig be inserted now? 0, or
 * -EDQUOT (its source holds lim.src_max flows) or -ENOSPC (the table is
 * full and none of the CT_EVICT_SCAN entries looked at could go), each
 * counted. A full table evicts one unanswered flow to make room. Call
 * it before any work a refusal would waste (picking a real). */
int ct_admit(struct ct_table *t, const struct ct_tuple *orig, uint32_t now);
/* Insert a flow with both tuples; NULL when ct_admit refuses or when
 * either tuple is already in the table (counted as a clash). The caller
 * fills svc, real, idle. */
struct ct_flow *ct_insert(struct ct_table *t, const struct ct_tuple *orig,
			  const struct ct_tuple *reply, uint8_t flags,
			  uint32_t now);
void ct_remove(struct ct_table *t, struct ct_flow *f);
/* 1 when some flow has tuple k in either direction (no expiry). */
int ct_tuple_taken(struct ct_table *t, const struct ct_tuple *k, uint32_t now);

/* Note a packet of flow f in direction dir: refresh, follow TCP state. */
void ct_touch(struct ct_flow *f, int dir, uint8_t tcp_flags, uint32_t now);
/* Seconds this flow may stay idle in its current state. */
uint32_t ct_timeout(const struct ct_table *t, const struct ct_flow *f);
int ct_expired(const struct ct_table *t, const struct ct_flow *f,
	       uint32_t now);
/* Flows the source of tuple k holds now. */
uint32_t ct_src_count(const struct ct_table *t, const struct ct_tuple *k);

/* Remove up to budget expired entries, scanning from where the last call
 * stopped; returns how many were removed. */
uint32_t ct_sweep(struct ct_table *t, uint32_t now, uint32_t budget);
/* Remove every flow for which match returns 1 (control: disable). */
uint32_t ct_flush(struct ct_table *t, int (*match)(const struct ct_flow *,
						   void *), void *arg);

void ct_tuple_invert(struct ct_tuple *out, const struct ct_tuple *in);

#endif
