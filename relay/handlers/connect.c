/* connect.c: RFC 6062's methods: Connect (§5.2), ConnectionAttempt for
 * peers that connect in (§5.3) and ConnectionBind (§5.4). The sockets are
 * io/tcprelayed.c's; this file decides who may connect and answers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handlers.h"
#include "io/conn.h"

/* A Connect in flight: what its late answer needs. */
struct pending {
	uint8_t tid[STUN_TID_LEN];
	struct conn *control;   /* valid until the allocation ends, which cancels us first */
	struct auth_ok who;     /* to sign the answer */
};

static void connected(void *arg, void *udata, uint32_t id, int status)
{
	struct server *s = arg;
	struct pending *p = udata;
	struct stun_writer w;
	int n;

	if (status != -ECANCELED) {
		stun_writer_init(&w, s->obuf, sizeof s->obuf, TURN_CONNECT,
				 status ? STUN_ERROR : STUN_SUCCESS, p->tid);
		if (status)
			stun_put_error(&w, 447, "Connection Timeout or Failure");
		else
			stun_put_u32(&w, STUN_A_CONNECTION_ID, id);
		auth_sign(&p->who, &w);
		stun_put_fingerprint(&w);
		if ((n = stun_writer_finish(&w)) > 0)
			conn_send(p->control, s->obuf, (size_t)n);
	}
	free(p);
}

/* §5.3: only peers with a permission may connect in; the client hears of
 * each in a ConnectionAttempt on its control connection. */
static int peer_in(void *arg, void *tag, uint32_t id, const struct sockaddr *from)
{
	struct server *s = arg;
	struct alloc *a = tag;
	struct stun_writer w;
	uint8_t tid[STUN_TID_LEN];
	struct peer p;
	int n;

	peer_from_sockaddr(&p, from);
	if (!alloc_perm_has(a, &p, server_now(s))) {
		s->st.drops[DROP_NO_PERMISSION]++;
		return -1;
	}
	stun_tid_random(tid);
	stun_writer_init(&w, s->obuf, sizeof s->obuf, TURN_CONNECTION_ATTEMPT, STUN_INDICATION,
			 tid);
	stun_put_addr(&w, STUN_A_XOR_PEER_ADDRESS, from);
	stun_put_u32(&w, STUN_A_CONNECTION_ID, id);
	stun_put_fingerprint(&w);
	if ((n = stun_writer_finish(&w)) > 0)
		server_send_alloc(s, a, s->obuf, (size_t)n);
	return 0;
}

const struct tcp_relayed_cbs connect_cbs = {peer_in, connected};

size_t handle_connect(struct server *s, const struct request *req, const struct stun_msg *m,
		      const struct auth_ok *who, struct alloc *a)
{
	struct sockaddr_storage peer;
	struct pending *pd;
	struct peer p;
	int err;

	if (!a->tcp_io || req->conn != a->key.conn)
		return server_error(s, m, 400, "Bad Request: not a TCP allocation", who);
	if (stun_msg_addr(m, STUN_A_XOR_PEER_ADDRESS, &peer))
		return server_error(s, m, 400, "Bad Request: no XOR-PEER-ADDRESS", who);
	if (peer.ss_family != tcp_relayed_family(a->tcp_io))
		return server_error(s, m, 443, "Peer Address Family Mismatch", who);
	peer_from_sockaddr(&p, (struct sockaddr *)&peer);
	if (!server_peer_ok(s, (struct sockaddr *)&peer, 0) ||
	    !alloc_perm_has(a, &p, server_now(s)))
		return server_error(s, m, 403, "Forbidden", who);
	if (tcp_relayed_has_peer(a->tcp_io, (struct sockaddr *)&peer))
		return server_error(s, m, 446, "Connection Already Exists", who);
	if (!(pd = malloc(sizeof *pd)))
		return server_error(s, m, 508, "Insufficient Capacity", who);
	memcpy(pd->tid, m->tid, STUN_TID_LEN);
	pd->control = req->conn;
	pd->who = *who;
	if ((err = tcp_relayed_connect(a->tcp_io, (struct sockaddr *)&peer, pd))) {
		free(pd);
		if (err == -ENOSPC)
			return server_error(s, m, 508, "Insufficient Capacity: --max-connects", who);
		return server_error(s, m, 447, "Connection Timeout or Failure", who);
	}
	return 0; /* answered when the connection succeeds or fails */
}

size_t handle_connection_bind(struct server *s, const struct request *req,
			      const struct stun_msg *m, const struct auth_ok *who)
{
	const struct stun_attr *ca = stun_msg_attr(m, STUN_A_CONNECTION_ID);
	struct tcp_relayed *tr;
	struct stun_writer w;
	struct conn *c = req->conn;
	struct alloc *a;
	void *tag;
	uint32_t id;
	size_t n;

	if (!c || c->pipe || !ca || stun_attr_u32(ca, &id))
		return server_error(s, m, 400, "Bad Request", who);
	/* §5.4 and §4.3: a data connection is a new one, never the control
	 * connection (its STUN framing would end with the bind). */
	if (server_alloc_find(s, req->l, c, req->src))
		return server_error(s, m, 400, "Bad Request: ConnectionBind on a control connection",
				    who);
	if (!(tr = tcp_relayed_find(&s->tcp, id, &tag)))
		return server_error(s, m, 400, "Bad Request: unknown CONNECTION-ID", who);
	a = tag;
	if (strcmp(a->user, who->user))
		return server_error(s, m, 441, "Wrong Credentials", who);
	/* Answer first: after the success response the stream is raw data. */
	server_begin(s, &w, m);
	if ((n = server_finish(s, &w, who)) && !conn_send(c, s->obuf, n))
		tcp_relayed_bind(tr, id, c); /* else the peer waits on for another bind */
	return 0;
}
