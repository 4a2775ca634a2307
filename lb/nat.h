/* nat.h: the packet engine. Every packet the TUN hands hlb goes through
 * nat_process(): a tracked flow is rewritten both ways (R21), a first
 * packet to a VIP picks a real server and creates a flow, a first packet
 * of an outbound flow from a real of an snat service is given the VIP as
 * source (R25), and anything else is handed back untouched so traffic to
 * a real server's own address is routed as if hlb were not there. */
#ifndef HLB_NAT_H
#define HLB_NAT_H

#include <stddef.h>
#include <stdint.h>

#include "affinity.h"
#include "conntrack.h"
#include "service.h"

enum nat_verdict {
	NAT_PASS = 0,  /* write back unchanged */
	NAT_XLATE = 1, /* rewritten: write back */
	NAT_DROP = 2,
	NAT_REPLY = 3, /* turned into an answer of reply_len bytes: write it */
};

#define NAT_FRAG_SLOTS 256

/* Where the first fragment of a datagram went, so the later fragments
 * (no ports) follow it. Keyed by the addresses before translation. */
struct nat_frag {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint32_t flow;        /* flow index + 1, 0 unused */
	uint32_t time;
	uint8_t family, proto, dir;
};

struct nat_stats {
	uint64_t pkts, xlate, passed, dropped, bad;
	uint64_t flows, no_real, icmp, frags;
	/* New flows refused here (the table counts its own refusals). */
	uint64_t no_port;     /* no free snat port */
	uint64_t tcp_no_syn;  /* a first TCP packet to a VIP that is no SYN */
	uint64_t tls_refused; /* M14: flows reset, first bytes not real TLS */
};

#define NAT_LOCAL_MAX 64

struct nat {
	struct lb_config *cfg;
	/* The namespace's own addresses (M3 leaves traffic to them alone):
	 * read on first use, or set by nat_set_local(); -1 until then. */
	struct lb_addr local[NAT_LOCAL_MAX];
	int nlocal;
	struct ct_table ct;
	struct aff_table aff;
	struct nat_frag frag[NAT_FRAG_SLOTS];
	uint32_t frag_pos;
	uint32_t port_next;
	struct nat_stats st;
	size_t reply_len;     /* NAT_REPLY: the answer's length */
};

int nat_init(struct nat *n, struct lb_config *cfg, uint32_t seed);
void nat_free(struct nat *n);
/* buf holds one packet of len bytes; it may be rewritten in place. */
int nat_process(struct nat *n, uint8_t *buf, size_t len, uint32_t now);
/* Periodic housekeeping: expire some flows and affinities. */
void nat_tick(struct nat *n, uint32_t now);
/* Say which addresses are the HLB's own (instead of reading them from
 * the namespace on first use): for the tests. count <= NAT_LOCAL_MAX. */
void nat_set_local(struct nat *n, const struct lb_addr *a, int count);
/* Remove every flow of one real (disable), or of a whole service (-1). */
uint32_t nat_flush_real(struct nat *n, int svc, int real);

/* Internal to the engine (icmp.c): translate an ICMP error about a
 * tracked flow. */
struct pkt;
int nat_icmp_error(struct nat *n, struct pkt *p, uint32_t now);

#endif
