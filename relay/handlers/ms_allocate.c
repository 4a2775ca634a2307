/* ms_allocate.c: the [MS-TURN] Allocate request (3.2.4.1, 3.3.5.x): a new
 * allocation, its retransmits, and refresh or release (LIFETIME 0) by
 * another Allocate from the same 5-tuple. The relayed address is the
 * node's own (R11), of the transport the Allocate came over (3.2.5.1: "a
 * request that is received over TCP returns a TCP allocated transport
 * address"): UDP sockets, or over TCP (framed, or after the pseudo-TLS
 * exchange) a relayed TCP listener per family (ms_tcp.c, io/mstcp.c).
 *
 * What MS-Version changes, as far as it is implemented here:
 *   all versions  MAPPED-ADDRESS (the relayed IPv4 address), XOR Mapped
 *                 Address (0x8020, the client's), MS-Sequence Number
 *                 (connection id chosen here), MS-Version (what we speak:
 *                 the client's, at most 6; 1 when it sent none)
 *   >= 3          a 32-byte (HMAC-SHA256) MESSAGE-INTEGRITY is accepted
 *                 and answered in kind
 *   >= 4          REQUESTED-ADDRESS-FAMILY: IPv6 asked gets IPv4 in
 *                 MAPPED-ADDRESS and IPv6 in MS-Alternate Mapped Address
 *                 when both are offered, IPv6 alone otherwise
 *   >= 5          over UDP (and >= 6 over TCP): a Multiplexed TURN Session
 *                 ID (0x8095, 8 random bytes, one per allocation), indexed
 *                 so that 2.2.3 packets (0xFF10) that carry it reach this
 *                 allocation's active destination (ms_send.c). 2.2.2.17:
 *                 5 is "the Multiplexed TURN message format for UDP
 *                 connections"; 6, we read, the same over TCP. */
#include <string.h>

#include <openssl/rand.h>

#include "handlers/handlers.h"
#include "handlers/ms.h"

static int sha256_of(const struct stun_msg *m)
{
	return m->mi >= 0 && m->attrs[m->mi].len == 32;
}

/* The success answer, for the Allocate, its retransmits and refreshes. */
static size_t answer(struct server *s, const struct request *req, const struct stun_msg *m,
		     const struct auth_ok *who, const struct alloc *a, uint32_t life)
{
	const struct stun_attr *realm = stun_msg_attr(m, STUN_A_REALM);
	struct sockaddr_storage relayed;
	struct stun_writer w;
	int n;

	msturn_writer_init(&w, MS_OBUF(s), MS_OBUF_CAP(s), MSTURN_ALLOCATE_OK, m->tid);
	for (int i = 0; i < 2; i++)
		if (a->family_mask & (1 << i)) {
			relayed = s->conf->relay_public[i];
			netaddr_set_port((struct sockaddr *)&relayed, a->port[i]);
			stun_put_addr(&w, i == 1 && a->family_mask == 3 ? MS_A_ALTERNATE_MAPPED_ADDRESS
								    : MS_A_MAPPED_ADDRESS,
				      (struct sockaddr *)&relayed);
		}
	stun_put_u32(&w, MS_A_LIFETIME, life);
	stun_put_addr(&w, MS_A_XOR_MAPPED_ADDRESS, req->src);
	stun_put_u32(&w, MS_A_VERSION, a->ms->version);
	msturn_put_seq(&w, a->ms->conn_id, a->ms->seq);
	if (a->ms->mux)
		stun_put_attr(&w, MS_A_MUX_SESSION_ID, a->ms->mux_id, sizeof a->ms->mux_id);
	if (realm) /* [MS-TURN] 2.2.2.13: the realm the challenge used */
		stun_put_attr(&w, STUN_A_REALM, realm->val, realm->len);
	msturn_put_integrity(&w, who->key, who->keylen, a->ms->sha256);
	n = stun_writer_finish(&w);
	return n > 0 ? (size_t)n : 0;
}

/* Which families: 1 IPv4, 2 IPv6, 3 both; or -440. */
static int families(const struct server *s, const struct stun_msg *m, unsigned version)
{
	const struct stun_attr *raf = stun_msg_attr(m, MS_A_REQUESTED_ADDRESS_FAMILY);
	const int *has = s->conf->ports.has;

	if (version < 4 || !raf || raf->val[0] == 0x01)
		return has[0] ? 1 : -440;
	if (raf->val[0] != 0x02 || !has[1])
		return -440;
	return has[0] ? 3 : 2;
}

static size_t refresh(struct server *s, const struct request *req, const struct stun_msg *m,
		      const struct auth_ok *who, struct alloc *a)
{
	const struct stun_attr *la = stun_msg_attr(m, MS_A_LIFETIME);
	uint32_t life = 1;
	size_t n;

	if (la)
		stun_attr_u32(la, &life);
	if (life == 0) { /* release: the answer first, while a is there */
		n = answer(s, req, m, who, a, 0);
		server_alloc_free(s, a);
		return n;
	}
	life = lifetime_for(s, m);
	a->expires = server_now(s) + life * 1000ull;
	memcpy(a->tid, m->tid, STUN_TID_LEN);
	return answer(s, req, m, who, a, life);
}

/* Whether the version the allocation speaks multiplexes over this
 * transport ([MS-TURN] 2.2.2.17: 5 over UDP, 6 over TCP). */
static int mux_version(const struct request *req, unsigned version)
{
	return version >= (req->conn ? MSTURN_MUX_VERSION_TCP : MSTURN_MUX_VERSION_UDP);
}

/* A fresh random session id, unique in this worker's table: 0, or -1 when
 * no randomness could be had. */
static int set_mux(struct server *s, struct alloc *a)
{
	for (int tries = 0; tries < 4; tries++) {
		if (RAND_bytes(a->ms->mux_id, sizeof a->ms->mux_id) != 1)
			return -1;
		if (!alloc_table_find_mux(&s->allocs, a->ms->mux_id)) {
			alloc_table_set_mux(&s->allocs, a);
			s->st.mux_sessions = s->allocs.mux_count;
			return 0;
		}
	}
	return -1; /* 2^-64 four times over: the generator is broken */
}

/* Over TCP: a relayed TCP listener per family asked for. */
static int open_tcp(struct server *s, struct alloc *a, struct relayed_opts *o)
{
	a->tcp = 1;
	for (int i = 0; i < 2; i++)
		if (o->family_mask & (1u << i)) {
			int rc = ms_tcp_open(&a->ms_tcp_io[i], &s->mstcp, i, a, &o->port[i]);
			if (rc)
				return rc;
		}
	return 0;
}

size_t ms_handle_allocate(struct server *s, const struct request *req, const struct stun_msg *m,
			  const struct auth_ok *who)
{
	struct alloc *a = server_alloc_find(s, req->l, req->conn, req->src);
	struct relayed_opts o = {0};
	uint64_t now = server_now(s);
	uint32_t life, version;
	size_t n;
	int fam, rc;

	if (a) {
		if (!a->ms)
			return ms_error(s, m, 437, "Allocation Mismatch", who);
		if (strcmp(a->user, who->user))
			return ms_error(s, m, 441, "Wrong Credentials", who);
		if (!memcmp(a->tid, m->tid, STUN_TID_LEN)) /* a retransmit */
			return answer(s, req, m, who, a,
				      a->expires > now ? (uint32_t)((a->expires - now) / 1000) : 0);
		return refresh(s, req, m, who, a);
	}
	if (__atomic_load_n(&s->mconf->draining, __ATOMIC_RELAXED))
		return ms_error(s, m, 500, "Server Error: shutting down", who);
	version = msturn_version(m);
	if (version < 1)
		version = 1;
	if (version > MSTURN_MAX_VERSION)
		version = MSTURN_MAX_VERSION;
	if ((fam = families(s, m, version)) < 0)
		return ms_error(s, m, 440, "Address Family not Supported", who);
	life = lifetime_for(s, m);
	if (!(a = alloc_create(s, req, m, who, life, 0, ms_error, &n)))
		return n;
	if (alloc_table_set_ms(&s->allocs, a)) {
		server_alloc_free(s, a); /* gives the quota unit back */
		return ms_error(s, m, 508, "Insufficient Capacity", who);
	}
	a->family_mask = (uint8_t)fam;
	a->ms->version = (uint8_t)version;
	a->ms->sha256 = (uint8_t)(sha256_of(m) && version >= 3);
	a->ms->keylen = (uint8_t)(who->keylen <= sizeof a->ms->key ? who->keylen : sizeof a->ms->key);
	memcpy(a->ms->key, who->key, a->ms->keylen);
	if (RAND_bytes(a->ms->conn_id, sizeof a->ms->conn_id) != 1 ||
	    (mux_version(req, version) && set_mux(s, a))) {
		server_alloc_free(s, a);
		return ms_error(s, m, 508, "Insufficient Capacity", who);
	}
	o.family_mask = (unsigned)fam;
	o.now_ms = now;
	o.owner = a->user + a->quota_off;
	if (req->conn)
		rc = open_tcp(s, a, &o);
	else
		rc = relayed_open(&a->udp_io, &s->relayed, &o, ms_peer_data, s, a);
	if (rc)
		return alloc_open_failed(s, m, who, a, rc, ms_error);
	a->port[0] = (uint16_t)o.port[0];
	a->port[1] = (uint16_t)o.port[1];
	alloc_made(s, req, a, life);
	return answer(s, req, m, who, a, life);
}
