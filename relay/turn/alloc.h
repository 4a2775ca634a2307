/* alloc.h: the allocation table (RFC 8656 §2.2): allocations keyed by their
 * 5-tuple, each with its permissions (per peer IP, 300 s) and channels
 * (number <-> peer transport address, 600 s). Pure data: time comes in as
 * an argument, sockets live in io/, so every timeout is unit-testable. */
#ifndef EDGELAB_ALLOC_H
#define EDGELAB_ALLOC_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "turn/bandwidth.h"
#include "util/netaddr.h"

#define TURN_PERM_LIFETIME_MS    (300 * 1000)
#define TURN_CHANNEL_LIFETIME_MS (600 * 1000)
/* A channel number stays reserved this long after it expires (§12). */
#define TURN_CHANNEL_QUARANTINE_MS (300 * 1000)
#define TURN_DEFAULT_LIFETIME_S  600
#define ALLOC_MAX_PERMS          64
#define ALLOC_MAX_CHANNELS       64

/* A peer transport address, compact: fits an IPv6 address and a port. */
struct peer {
	uint8_t family;  /* AF_INET or AF_INET6 */
	uint16_t port;   /* host order */
	uint8_t ip[16];  /* IPv4 in the first 4 bytes */
};

struct perm {
	struct peer ip;  /* port unused: permissions are per IP (§9) */
	uint64_t expires;
};

struct channel {
	uint16_t num;
	struct peer peer;
	uint64_t expires;    /* bound until then; quarantined after, until + 5 min */
};

/* The 5-tuple as the table sees it: the listener (local address and
 * transport), the connection for streams, and the client's address. */
struct five_tuple {
	const void *listener;
	const void *conn;     /* NULL for UDP */
	struct sockaddr_storage client;
};

/* The key of the message at hand: one helper, so every lookup hashes the
 * same bytes (sockaddr padding zeroed). */
void five_tuple_set(struct five_tuple *k, const void *listener, const void *conn,
		    const struct sockaddr *client);

/* The relayed sockets: opaque here, owned by the layer that opens them. */
struct relayed;
struct tcp_relayed;
struct ms_tcp;

/* What an [MS-TURN] allocation keeps besides (R19, handlers/ms_*.c). */
struct alloc_ms {
	uint8_t version;      /* MS-Version spoken: 1..6 */
	uint8_t active;       /* a Set Active Destination is in force: raw data both ways */
	uint8_t sha256;       /* the client signs with HMAC-SHA256 (32-byte integrity) */
	uint8_t keylen;
	uint8_t key[32];      /* the long-term key the Allocate was signed with */
	uint8_t conn_id[20];  /* MS-Sequence Number: the connection id we chose */
	uint32_t seq;         /* the highest sequence number seen */
	struct peer dest;     /* the active destination */
	uint8_t mux;          /* mux_id is set: multiplexed packets ([MS-TURN] 2.2.3) */
	uint8_t mux_id[8];    /* the Multiplexed TURN Session ID we chose (random) */
	struct alloc *mux_next; /* chain in the table's session-id index */
};

struct alloc {
	struct alloc *hnext;           /* hash chain */
	struct alloc *prev, *next;     /* all allocations, for the sweep */
	struct five_tuple key;
	uint64_t expires;
	char *user;                    /* who owns it (441 on mismatch); heap */
	uint16_t quota_off;            /* user + quota_off: the name quotas count (REST: NAME) */
	uint8_t unit_back;             /* its quota unit was given back early (its stream closing) */
	uint8_t tid[12];               /* the Allocate that made it: its retransmits get the same answer */
	uint8_t tcp, family_mask;      /* family_mask: 1 IPv4, 2 IPv6 */
	uint8_t asked_dual;            /* dual asked, IPv4 given (ADDRESS-ERROR-CODE) */
	uint16_t port[2];              /* relayed port per family */
	uint64_t token;                /* the RESERVATION-TOKEN it was answered with */
	uint8_t nperms, nchans;
	struct perm *perms;            /* grown on demand: idle allocations stay small */
	struct channel *chans;
	struct relayed *udp_io;        /* UDP relayed sockets */
	struct tcp_relayed *tcp_io;    /* RFC 6062: the relayed TCP listener and its peers */
	struct ms_tcp *ms_tcp_io[2];   /* [MS-TURN] over TCP: a TCP relayed address per family */
	struct bw_bucket bw;           /* --max-bps */
	uint64_t rx_pkts, tx_pkts, rx_bytes, tx_bytes;
	struct alloc_ms *ms;           /* [MS-TURN] allocation; NULL: IETF TURN */
};

struct alloc_table {
	struct alloc **buckets;
	unsigned nbuckets;             /* power of two */
	unsigned count;
	unsigned ms_count;             /* how many of them are [MS-TURN] ones */
	unsigned mux_count;            /* how many have a multiplexed session id */
	struct alloc **mux_buckets;    /* session id -> allocation; nbuckets of them */
	struct alloc *all;
};

int alloc_table_init(struct alloc_table *t, unsigned nbuckets);
void alloc_table_free(struct alloc_table *t); /* frees allocations, not their io */
struct alloc *alloc_table_find(const struct alloc_table *t, const struct five_tuple *k);
/* New zeroed allocation for key, inserted; NULL when out of memory. */
struct alloc *alloc_table_add(struct alloc_table *t, const struct five_tuple *k,
			      uint64_t expires);
void alloc_table_remove(struct alloc_table *t, struct alloc *a);
/* Make a an [MS-TURN] allocation: zeroed state, freed with it. 0 or -1. */
int alloc_table_set_ms(struct alloc_table *t, struct alloc *a);
/* Index an [MS-TURN] allocation by its multiplexed session id (a->ms->mux_id,
 * random: its first bytes are the hash); a->ms->mux set. Removed with the
 * allocation. As many ids as allocations: the allocation cap bounds it. */
void alloc_table_set_mux(struct alloc_table *t, struct alloc *a);
/* The allocation whose session id is id (8 bytes), or NULL. */
struct alloc *alloc_table_find_mux(const struct alloc_table *t, const uint8_t *id);
/* Call fn for every allocation whose lifetime ended, after which fn must
 * remove it; also drops expired permissions and channels of the rest. */
void alloc_table_expire(struct alloc_table *t, uint64_t now,
			void (*fn)(struct alloc *a, void *ctx), void *ctx);

void peer_from_sockaddr(struct peer *p, const struct sockaddr *sa);
void peer_to_sockaddr(const struct peer *p, struct sockaddr_storage *ss);
int peer_same_ip(const struct peer *a, const struct peer *b);
int peer_same(const struct peer *a, const struct peer *b);

/* Permissions: installed or refreshed for lifetime from now. 0, or -1 when
 * the table is full. */
int alloc_perm_add(struct alloc *a, const struct peer *ip, uint64_t now);
int alloc_perm_has(const struct alloc *a, const struct peer *ip, uint64_t now);

/* Channels, RFC 8656 §11.2: 0 bound or refreshed; -1 number bound to
 * another peer or peer bound to another number (400); -2 table full. */
int alloc_chan_bind(struct alloc *a, uint16_t num, const struct peer *peer, uint64_t now);
const struct channel *alloc_chan_by_num(const struct alloc *a, uint16_t num, uint64_t now);
const struct channel *alloc_chan_by_peer(const struct alloc *a, const struct peer *peer,
					 uint64_t now);

#endif
