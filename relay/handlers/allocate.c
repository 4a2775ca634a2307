/* allocate.c: Allocate (RFC 8656 §7.1-7.3), with EVEN-PORT and
 * RESERVATION-TOKEN, DONT-FRAGMENT, REQUESTED-ADDRESS-FAMILY and dual
 * allocations (ADDITIONAL-ADDRESS-FAMILY), TCP allocations (RFC 6062), and
 * the quotas. */
#include <stdlib.h>
#include <string.h>

#include "handlers/handlers.h"
#include "io/ports.h"

#define PROTO_UDP 17
#define PROTO_TCP 6

/* RFC 8656 §7.2: the client's wish, capped by our maximum, never below
 * the default. */
uint32_t lifetime_for(const struct server *s, const struct stun_msg *m)
{
	const struct stun_attr *la = stun_msg_attr(m, STUN_A_LIFETIME);
	uint32_t want = TURN_DEFAULT_LIFETIME_S, max = s->conf->max_lifetime_s;

	if (la && !stun_attr_u32(la, &want) && want < TURN_DEFAULT_LIFETIME_S)
		want = TURN_DEFAULT_LIFETIME_S;
	return want > max ? max : want;
}

/* Which families to relay: 1 IPv4, 2 IPv6, 3 both; or -code. */
static int families(const struct stun_msg *m)
{
	const struct stun_attr *req = stun_msg_attr(m, STUN_A_REQUESTED_ADDRESS_FAMILY);
	const struct stun_attr *add = stun_msg_attr(m, STUN_A_ADDITIONAL_ADDRESS_FAMILY);

	if (!add)
		add = stun_msg_attr(m, STUN_A_ADDITIONAL_ADDRESS_FAMILY_DRAFT);
	if (req && add)
		return -400; /* §7.2: both present is a bad request */
	if (add)
		return add->val[0] == 0x02 ? 3 : -400;
	if (req) {
		if (req->val[0] == 0x01)
			return 1;
		if (req->val[0] == 0x02)
			return 2;
		return -440;
	}
	return 1; /* default: IPv4 */
}

/* Open the allocation's sockets; a keeps their ports and the reservation
 * token, if one was made. 0 or a negative errno. */
static int open_sockets(struct server *s, struct alloc *a, const struct stun_msg *m,
			int claimed_fd, int claimed_fam)
{
	const struct stun_attr *ep = stun_msg_attr(m, STUN_A_EVEN_PORT);
	struct relayed_opts o = {0};
	int err;

	if (a->tcp) { /* RFC 6062: one family, a listening relayed address */
		int fam = a->family_mask & 2 ? 1 : 0;
		if ((err = tcp_relayed_open(&a->tcp_io, &s->tcp, fam, a, &o.port[fam])))
			return err;
	} else {
		o.family_mask = a->family_mask;
		o.even = ep != NULL;
		o.reserve = ep && (ep->val[0] & 0x80);
		o.dont_fragment = stun_msg_attr(m, STUN_A_DONT_FRAGMENT) != NULL;
		o.now_ms = server_now(s);
		o.owner = a->user + a->quota_off;
		o.claimed = claimed_fd >= 0;
		o.claimed_fd = claimed_fd;
		o.claimed_fam = claimed_fam;
		err = relayed_open(&a->udp_io, &s->relayed, &o, handle_peer_data, s, a);
		if (err)
			return err;
		a->family_mask = (uint8_t)o.family_mask;
		a->token = o.token_out;
	}
	a->port[0] = (uint16_t)o.port[0];
	a->port[1] = (uint16_t)o.port[1];
	return 0;
}

/* The success answer, for the Allocate and for its retransmits (R11: the
 * relayed addresses we advertise are the configured public ones). */
static size_t answer(struct server *s, const struct request *req, const struct stun_msg *m,
		     const struct auth_ok *who, const struct alloc *a, uint32_t life)
{
	struct sockaddr_storage relayed;
	struct stun_writer w;

	server_begin(s, &w, m);
	for (int i = 0; i < 2; i++)
		if (a->family_mask & (1 << i)) {
			relayed = s->conf->relay_public[i];
			netaddr_set_port((struct sockaddr *)&relayed, a->port[i]);
			stun_put_addr(&w, STUN_A_XOR_RELAYED_ADDRESS, (struct sockaddr *)&relayed);
		}
	if (a->asked_dual) {
		uint8_t v[4 + 28] = {0x02, 0, 4, 40};
		memcpy(v + 4, "Address Family not Supported", 28);
		stun_put_attr(&w, STUN_A_ADDRESS_ERROR_CODE, v, sizeof v);
		stun_put_attr(&w, STUN_A_ADDRESS_ERROR_CODE_DRAFT, v, sizeof v);
	}
	stun_put_u32(&w, STUN_A_LIFETIME, life);
	if (a->token)
		stun_put_u64(&w, STUN_A_RESERVATION_TOKEN, a->token);
	stun_put_addr(&w, STUN_A_XOR_MAPPED_ADDRESS, req->src);
	stun_put_str(&w, STUN_A_SOFTWARE, s->conf->software);
	return server_finish(s, &w, who);
}

size_t handle_allocate_again(struct server *s, const struct request *req,
			     const struct stun_msg *m, const struct auth_ok *who,
			     const struct alloc *a)
{
	uint64_t now = server_now(s);

	return answer(s, req, m, who, a, a->expires > now ? (uint32_t)((a->expires - now) / 1000) : 0);
}

size_t handle_allocate(struct server *s, const struct request *req, const struct stun_msg *m,
		       const struct auth_ok *who)
{
	const struct stun_attr *rt = stun_msg_attr(m, STUN_A_REQUESTED_TRANSPORT);
	const struct stun_attr *ep = stun_msg_attr(m, STUN_A_EVEN_PORT);
	const struct stun_attr *tok = stun_msg_attr(m, STUN_A_RESERVATION_TOKEN);
	int df = stun_msg_attr(m, STUN_A_DONT_FRAGMENT) != NULL;
	int reserve = ep && (ep->val[0] & 0x80);
	const int *has = s->conf->ports.has;
	const char *name = who->user + who->name_off; /* quotas count REST names, not expiries */
	struct alloc *a;
	uint32_t life;
	size_t n;
	int fam, rc, want_fam, held = -1, held_fam = 0, unit_held = 0;

	if (__atomic_load_n(&s->mconf->draining, __ATOMIC_RELAXED))
		return server_error(s, m, 508, "Insufficient Capacity: shutting down", who);
	if (!rt)
		return server_error(s, m, 400, "Bad Request: no REQUESTED-TRANSPORT", who);
	if (rt->val[0] != PROTO_UDP && rt->val[0] != PROTO_TCP)
		return server_error(s, m, 442, "Unsupported Transport Protocol", who);
	/* RFC 6062 §5.1: TCP relaying needs a stream to the client, and none
	 * of the UDP-only options. */
	if (rt->val[0] == PROTO_TCP && (!req->conn || ep || tok || df || families(m) == 3))
		return server_error(s, m, 400, "Bad Request: TCP allocations need a TCP or TLS "
					       "connection and no EVEN-PORT, RESERVATION-TOKEN, "
					       "DONT-FRAGMENT or dual family", who);
	if (tok && (ep || stun_msg_attr(m, STUN_A_REQUESTED_ADDRESS_FAMILY) ||
		    stun_msg_attr(m, STUN_A_ADDITIONAL_ADDRESS_FAMILY) ||
		    stun_msg_attr(m, STUN_A_ADDITIONAL_ADDRESS_FAMILY_DRAFT)))
		return server_error(s, m, 400, "Bad Request: RESERVATION-TOKEN with EVEN-PORT or family", who);
	fam = families(m);
	if (fam < 0)
		return server_error(s, m, -fam, fam == -440 ? "Address Family not Supported"
							   : "Bad Request", who);
	/* One reservation per allocation, one quota unit for it (as coturn):
	 * a dual allocation would reserve twice. */
	if (reserve && fam == 3)
		return server_error(s, m, 400, "Bad Request: EVEN-PORT with R=1 and a dual allocation",
				    who);
	want_fam = fam;
	if (fam == 3 && !has[1])
		fam = 1; /* dual asked, IPv6 not offered: IPv4 plus ADDRESS-ERROR-CODE */
	if (!tok && ((fam & 1 && !has[0]) || (fam & 2 && !has[1])))
		return server_error(s, m, 440, "Address Family not Supported", who);

	life = lifetime_for(s, m);
	if (tok) { /* claimed once, here: a bad request above leaves it be */
		uint64_t t = 0;
		char *maker = NULL;

		stun_attr_u64(tok, &t);
		if ((held = ports_claim(t, &held_fam, &maker)) < 0)
			return server_error(s, m, 508, "Insufficient Capacity: no such reservation", who);
		/* The reservation's quota unit: its maker's claim carries it over
		 * (a quota of 2 holds an RTP/RTCP pair); anyone else's gives it back. */
		unit_held = !strcmp(maker, name);
		if (!unit_held)
			quota_give(&s->mconf->quota, maker);
		free(maker);
	}
	if (!(a = alloc_create(s, req, m, who, life, unit_held, server_error, &n))) {
		if (held >= 0)
			close(held);
		return n;
	}
	/* A reservation holds a socket for 30 s: it counts as an allocation
	 * of its maker's until claimed or expired (R18). */
	if (reserve && (rc = quota_take(&s->mconf->quota, name))) {
		server_alloc_free(s, a); /* gives the first unit back */
		return server_error(s, m, rc, rc == 486 ? "Allocation Quota Reached"
						       : "Insufficient Capacity", who);
	}
	a->family_mask = (uint8_t)fam;
	a->asked_dual = want_fam == 3 && fam == 1;
	a->tcp = rt->val[0] == PROTO_TCP;
	if ((rc = open_sockets(s, a, m, held, held_fam))) {
		if (reserve)
			quota_give(&s->mconf->quota, name);
		return alloc_open_failed(s, m, who, a, rc, server_error);
	}
	if (!a->token && reserve) /* no reservation after all */
		quota_give(&s->mconf->quota, name);
	alloc_made(s, req, a, life);
	return answer(s, req, m, who, a, life);
}
