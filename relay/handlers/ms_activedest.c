/* ms_activedest.c: Set Active Destination ([MS-TURN] 2.2.1, 3.3.5): from
 * now on the allocation's traffic with DESTINATION-ADDRESS goes raw both
 * ways (no Send requests, no Data Indications); without the attribute the
 * active destination is cleared. Signed with the allocation's key (it
 * carries no NONCE), vetted by the peer filter like a channel (R15). */
#include <string.h>

#include "handlers/handlers.h"
#include "handlers/ms.h"

static size_t ok(struct server *s, const struct stun_msg *m, struct alloc *a)
{
	struct stun_writer w;
	int n;

	msturn_writer_init(&w, MS_OBUF(s), MS_OBUF_CAP(s), MSTURN_SET_ACTIVE_DEST_OK, m->tid);
	msturn_put_seq(&w, a->ms->conn_id, a->ms->seq);
	msturn_put_integrity(&w, a->ms->key, a->ms->keylen, m->mi >= 0 && m->attrs[m->mi].len == 32);
	n = stun_writer_finish(&w);
	return n > 0 ? (size_t)n : 0;
}

static size_t fail(struct server *s, const struct stun_msg *m, struct alloc *a, int code,
		   const char *reason)
{
	struct auth_ok who = {0};

	who.keylen = a->ms->keylen;
	memcpy(who.key, a->ms->key, who.keylen);
	return ms_error(s, m, code, reason, &who);
}

size_t ms_handle_set_active_dest(struct server *s, const struct request *req,
				 const struct stun_msg *m, struct alloc *a)
{
	const struct stun_attr *un = stun_msg_attr(m, MS_A_USERNAME);
	const uint8_t *conn_id;
	struct sockaddr_storage ss;
	struct peer p;
	uint32_t seq;
	int err;

	(void)req;
	if (un && (un->len != strlen(a->user) || memcmp(un->val, a->user, un->len)))
		return fail(s, m, a, 441, "Wrong Credentials");
	if (!msturn_seq(m, &conn_id, &seq)) {
		if (memcmp(conn_id, a->ms->conn_id, MSTURN_CONN_ID_LEN))
			return fail(s, m, a, 400, "Bad Request: not this connection");
		if (seq > a->ms->seq)
			a->ms->seq = seq;
	}
	err = stun_msg_addr(m, MS_A_DESTINATION_ADDRESS, &ss);
	if (err == STUN_E_MISSING) {
		a->ms->active = 0;
		return ok(s, m, a);
	}
	if (err)
		return fail(s, m, a, 400, "Bad Request");
	if (!(a->family_mask & (ss.ss_family == AF_INET6 ? 2 : 1)))
		return fail(s, m, a, 443, "Peer Address Family Mismatch");
	if (!server_peer_ok(s, (struct sockaddr *)&ss, 0)) {
		s->st.drops[DROP_FILTERED]++;
		return fail(s, m, a, 403, "Forbidden");
	}
	peer_from_sockaddr(&p, (struct sockaddr *)&ss);
	if (alloc_perm_add(a, &p, server_now(s)))
		return fail(s, m, a, 508, "Insufficient Capacity");
	ms_tcp_permitted(a);
	a->ms->dest = p;
	a->ms->active = 1;
	return ok(s, m, a);
}
