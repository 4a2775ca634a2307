/* dispatch.c: validate, answer retransmits from the cache, authenticate,
 * find the allocation, and hand each method to its handler. */
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "handlers/handlers.h"
#include "handlers/ms.h"
#include "io/conn.h"
#include "util/log.h"

/* A 401 or 438 with a fresh nonce. */
static size_t challenge(struct server *s, const struct stun_msg *m, int code,
			const char *reason, const struct sockaddr *client)
{
	struct stun_writer w;
	int n;

	stun_writer_init(&w, s->obuf, sizeof s->obuf, m->method, STUN_ERROR, m->tid);
	stun_put_error(&w, code, reason);
	auth_put_challenge(s->conf->auth, &w, client, server_now(s));
	stun_put_fingerprint(&w);
	n = stun_writer_finish(&w);
	return n > 0 ? (size_t)n : 0;
}

/* The dialect's 401/438 (challenge above, ms_challenge). */
typedef size_t (*challenge_fn)(struct server *s, const struct stun_msg *m, int code,
			       const char *reason, const struct sockaddr *client);

/* Check the credentials: 1 with *who filled, or 0 with the answer (if
 * any), made with the dialect's error and challenge, and its length in
 * *n. Both dialects' long-term credentials are turn/auth.c's. */
static int authenticate(struct server *s, const struct request *req, const struct stun_msg *m,
			struct auth_ok *who, size_t *n, answer_error_fn error, challenge_fn challenge_with)
{
	enum auth_verdict v;

	pthread_rwlock_rdlock(&s->mconf->reload);
	v = auth_check(s->conf->auth, m, req->src, server_now(s), (uint64_t)time(NULL), who);
	*n = 0;
	if (v != AUTH_OK) {
		if (v != AUTH_CHALLENGE)
			s->st.auth_failures++;
		if (v == AUTH_BAD_REQUEST)
			*n = error(s, m, 400, "Bad Request", NULL);
		else if (v == AUTH_STALE_NONCE)
			*n = challenge_with(s, m, 438, "Stale Nonce", req->src);
		else
			*n = challenge_with(s, m, 401, "Unauthorized", req->src);
	}
	pthread_rwlock_unlock(&s->mconf->reload);
	return v == AUTH_OK;
}

/* Methods that act on the sender's allocation. */
typedef size_t (*alloc_handler)(struct server *, const struct request *,
				const struct stun_msg *, const struct auth_ok *, struct alloc *);
static const struct {
	uint16_t method;
	alloc_handler fn;
} on_alloc[] = {
	{TURN_REFRESH, handle_refresh},
	{TURN_CREATE_PERMISSION, handle_create_permission},
	{TURN_CHANNEL_BIND, handle_channel_bind},
	{TURN_CONNECT, handle_connect},
};

/* Authenticate and run one TURN request; returns the answer length, with
 * *authed set when the answer went to valid credentials. */
static size_t turn_request(struct server *s, const struct request *req,
			   const struct stun_msg *m, int *authed)
{
	struct auth_ok who;
	struct alloc *a;
	size_t n;

	if (!(*authed = authenticate(s, req, m, &who, &n, server_error, challenge)))
		return n;
	if (m->method == TURN_CONNECTION_BIND) /* on a fresh data connection */
		return handle_connection_bind(s, req, m, &who);
	a = server_alloc_find(s, req->l, req->conn, req->src);
	if (m->method == TURN_ALLOCATE) {
		/* RFC 8656 §7.2: a retransmitted Allocate gets the same success
		 * answer again, however long ago the cache forgot it. */
		if (a && !memcmp(a->tid, m->tid, STUN_TID_LEN) && !strcmp(a->user, who.user))
			return handle_allocate_again(s, req, m, &who, a);
		if (a)
			return server_error(s, m, 437, "Allocation Mismatch", &who);
		return handle_allocate(s, req, m, &who);
	}
	if (!a || a->ms) /* none, or an [MS-TURN] one: not for IETF methods */
		return server_error(s, m, 437, "Allocation Mismatch", &who);
	if (strcmp(a->user, who.user))
		return server_error(s, m, 441, "Wrong Credentials", &who);
	for (size_t i = 0; i < sizeof on_alloc / sizeof on_alloc[0]; i++)
		if (on_alloc[i].method == m->method)
			return on_alloc[i].fn(s, req, m, &who, a);
	return server_error(s, m, 400, "Bad Request: unknown method", &who);
}

/* The answer tail both dialects share: 1 when the n-byte answer at msg
 * may go. R15, R18: whatever goes to a source without valid credentials
 * (Binding answers, challenges, 400, 420) comes out of its budget; past
 * it, the request goes unanswered. Only answers to valid credentials are
 * kept for retransmits: a challenge is cheap to make again, and caching it
 * let a flood of them push real answers out. */
static int answer_ok(struct server *s, const struct request *req, const uint8_t *tid,
		     const uint8_t *msg, size_t n, int authed, uint64_t now)
{
	if (!n)
		return 0;
	if (!authed && !ratelimit_take(&s->rl, req->src, n, now)) {
		s->st.drops[DROP_RATE_LIMIT]++;
		s->st.limits[LIMIT_UNAUTH_RATE]++;
		return 0;
	}
	if (authed)
		txcache_put(&s->tx, req->src, req->conn, tid, msg, n, now);
	return 1;
}

static void on_stun(struct server *s, const struct request *req)
{
	const struct txentry *cached;
	struct stun_msg m;
	char from[NETADDR_STRLEN];
	size_t n = 0;
	int authed = 0;
	uint64_t now = server_now(s);
	int err = stun_msg_parse(&m, req->buf, req->len);

	if (err) {
		s->st.drops[DROP_MALFORMED]++;
		log_debug("dropped %zu bytes from %s: %s", req->len,
			  netaddr_str(req->src, from, sizeof from), stun_strerror(err));
		return;
	}
	if (m.cls == STUN_INDICATION) {
		if (m.method == TURN_SEND) {
			struct alloc *a = server_alloc_find(s, req->l, req->conn, req->src);
			if (a && !a->ms)
				handle_send(s, &m, a);
			else
				s->st.drops[DROP_NO_ALLOCATION]++;
		}
		return;
	}
	if (m.cls != STUN_REQUEST)
		return; /* stray responses need no answer */
	s->st.requests++;
	ratelimit_earn(&s->rl, req->src, req->len, now);
	if (m.method != STUN_BINDING &&
	    (cached = txcache_find(&s->tx, req->src, req->conn, m.tid, now))) {
		server_send_client(s, req->l, req->conn, req->src, cached->data, cached->len);
		return;
	}
	if (m.nunknown)
		n = server_error(s, &m, 420, "Unknown Attribute", NULL);
	else if (m.method == STUN_BINDING)
		n = handle_binding(s, req, &m);
	else
		n = turn_request(s, req, &m, &authed);
	if (answer_ok(s, req, m.tid, s->obuf, n, authed, now))
		server_send_client(s, req->l, req->conn, req->src, s->obuf, n);
}

/* ---- [MS-TURN] (R19) ---- */

/* The Allocate's digest challenge and long-term credentials, as for IETF
 * TURN (the codec hands REALM and NONCE over under their RFC names). */
static size_t ms_allocate(struct server *s, const struct request *req, const struct stun_msg *m,
			  int *authed)
{
	struct auth_ok who;
	size_t n;

	if (!(*authed = authenticate(s, req, m, &who, &n, ms_error, ms_challenge)))
		return n;
	return ms_handle_allocate(s, req, m, &who);
}

/* Set Active Destination: on the sender's allocation, with its key. */
static size_t ms_active_dest(struct server *s, const struct request *req,
			     const struct stun_msg *m, int *authed)
{
	struct alloc *a = server_alloc_find(s, req->l, req->conn, req->src);

	if (!a || !a->ms)
		return ms_error(s, m, 437, "Allocation Mismatch", NULL);
	if (ms_check_key(m, a->ms)) {
		size_t n;
		s->st.auth_failures++;
		pthread_rwlock_rdlock(&s->mconf->reload);
		n = ms_challenge(s, m, 401, "Unauthorized", req->src);
		pthread_rwlock_unlock(&s->mconf->reload);
		return n;
	}
	*authed = 1;
	return ms_handle_set_active_dest(s, req, m, a);
}

/* One [MS-TURN] message: a Send request goes to its peer unanswered; an
 * Allocate or Set Active Destination is answered, from the cache for a
 * retransmit, within the unauthenticated budget when not signed (R15,
 * R18). Improperly formed messages are ignored ([MS-TURN] 3.1.10). */
static void on_msturn(struct server *s, const struct request *req, const uint8_t *buf, size_t len)
{
	const struct txentry *cached;
	struct stun_msg m;
	char from[NETADDR_STRLEN];
	uint64_t now = server_now(s);
	size_t n = 0;
	int authed = 0, err = msturn_parse(&m, buf, len);

	if (err) {
		s->st.drops[DROP_MALFORMED]++;
		log_debug("dropped %zu bytes of MS-TURN from %s: %s", len,
			  netaddr_str(req->src, from, sizeof from), stun_strerror(err));
		return;
	}
	if (m.type == MSTURN_SEND) {
		ms_handle_send(s, req, &m);
		return;
	}
	if (m.type != MSTURN_ALLOCATE && m.type != MSTURN_SET_ACTIVE_DEST) {
		if (m.cls == STUN_REQUEST)
			s->st.drops[DROP_MALFORMED]++;
		return; /* responses, indications: nothing to answer */
	}
	s->st.requests++;
	ratelimit_earn(&s->rl, req->src, len, now);
	if ((cached = txcache_find(&s->tx, req->src, req->conn, m.tid, now))) {
		ms_reply(s, req, cached->data, cached->len);
		return;
	}
	if (m.nunknown)
		n = ms_error(s, &m, 420, "Unknown Attribute", NULL);
	else if (m.type == MSTURN_ALLOCATE)
		n = ms_allocate(s, req, &m, &authed);
	else
		n = ms_active_dest(s, req, &m, &authed);
	if (answer_ok(s, req, m.tid, MS_OBUF(s), n, authed, now))
		ms_reply(s, req, MS_OBUF(s), n);
}

/* A frame of an [MS-TURN] stream (2.1.4), header included: a control
 * message, or end-to-end data for the active destination. */
static void on_ms_frame(struct server *s, const struct request *req)
{
	const uint8_t *p = req->buf + MSTURN_FRAME_HDR;
	size_t n = req->len - MSTURN_FRAME_HDR;

	if (req->buf[0] == MSTURN_FRAME_CONTROL && msturn_peek_len(p, n))
		on_msturn(s, req, p, n);
	else if (req->buf[0] == MSTURN_FRAME_DATA && msturn_is_mux(p, n))
		ms_client_mux(s, req, p, n);
	else if (req->buf[0] != MSTURN_FRAME_DATA || !ms_client_data(s, req, p, n))
		s->st.drops[req->buf[0] == MSTURN_FRAME_DATA ? DROP_NO_ALLOCATION : DROP_MALFORMED]++;
}

/* Demultiplex by the first byte (RFC 8656 §12): 0b00 STUN, 0b01 ChannelData;
 * [MS-TURN] by its header (the Magic Cookie attribute first, no IETF
 * cookie) or by its stream framing. Once an [MS-TURN] client has an active
 * destination, whatever else it sends over UDP is its data, STUN included
 * (ICE checks between the peers); looked for only when the worker holds
 * [MS-TURN] allocations, so the IETF paths pay nothing otherwise. A
 * datagram that starts 0xFF10 (top bits 11, which nothing else here uses)
 * is a multiplexed packet ([MS-TURN] 2.2.3), routed by its session id. */
void dispatch_msg(void *arg, const struct request *req)
{
	struct server *s = arg;
	uint8_t top = req->buf[0] & 0xc0;

	if (req->conn && req->conn->framing == CONN_FRAMING_MS)
		on_ms_frame(s, req);
	else if (top == 0 && msturn_peek_len(req->buf, req->len))
		on_msturn(s, req, req->buf, req->len);
	else if (top == 0xc0 && msturn_is_mux(req->buf, req->len))
		ms_client_mux(s, req, req->buf, req->len);
	else if (s->allocs.ms_count && !req->conn && ms_client_data(s, req, req->buf, req->len))
		return;
	else if (top == 0)
		on_stun(s, req);
	else if (top == 0x40)
		handle_chdata(s, req);
	else
		s->st.drops[DROP_MALFORMED]++;
}

/* Its allocation's quota unit comes back now, when the client can see the
 * connection gone and ask again; the allocation itself goes in the close
 * callback (a handler up the stack may still hold it). */
void dispatch_conn_closing(void *arg, struct conn *c)
{
	struct server *s = arg;
	struct alloc *a = server_alloc_find(s, c->l, c, (struct sockaddr *)&c->peer);

	if (a && a->user && !a->unit_back) {
		quota_give(&s->mconf->quota, a->user + a->quota_off);
		a->unit_back = 1;
	}
}

void dispatch_conn_closed(void *arg, struct conn *c)
{
	struct server *s = arg;
	struct alloc *a = server_alloc_find(s, c->l, c, (struct sockaddr *)&c->peer);

	if (a)
		server_alloc_free(s, a); /* RFC 8656 §3.1: a TCP allocation ends with its connection */
}
