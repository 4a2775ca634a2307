/* dispatch.c: validate, answer retransmits from the cache, authenticate,
 * find the allocation, and hand each method to its handler. */
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "handlers/handlers.h"
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

/* Check the credentials: 1 with *who filled, or 0 with the answer (if
 * any) in s->obuf and its length in *n. */
static int authenticate(struct server *s, const struct request *req, const struct stun_msg *m,
			struct auth_ok *who, size_t *n)
{
	enum auth_verdict v;

	pthread_rwlock_rdlock(&s->mconf->reload);
	v = auth_check(s->conf->auth, m, req->src, server_now(s), (uint64_t)time(NULL), who);
	*n = 0;
	if (v != AUTH_OK) {
		if (v != AUTH_CHALLENGE)
			s->st.auth_failures++;
		if (v == AUTH_BAD_REQUEST)
			*n = server_error(s, m, 400, "Bad Request", NULL);
		else if (v == AUTH_STALE_NONCE)
			*n = challenge(s, m, 438, "Stale Nonce", req->src);
		else
			*n = challenge(s, m, 401, "Unauthorized", req->src);
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

	if (!(*authed = authenticate(s, req, m, &who, &n)))
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
	if (!a)
		return server_error(s, m, 437, "Allocation Mismatch", &who);
	if (strcmp(a->user, who.user))
		return server_error(s, m, 441, "Wrong Credentials", &who);
	for (size_t i = 0; i < sizeof on_alloc / sizeof on_alloc[0]; i++)
		if (on_alloc[i].method == m->method)
			return on_alloc[i].fn(s, req, m, &who, a);
	return server_error(s, m, 400, "Bad Request: unknown method", &who);
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
			if (a)
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
	if (!n)
		return;
	/* R15, R18: whatever goes to a source without valid credentials
	 * (Binding answers, challenges, 400, 420) comes out of its budget;
	 * past it, the request goes unanswered. */
	if (!authed && !ratelimit_take(&s->rl, req->src, n, now)) {
		s->st.drops[DROP_RATE_LIMIT]++;
		s->st.limits[LIMIT_UNAUTH_RATE]++;
		return;
	}
	/* Only answers to valid credentials are kept for retransmits: a
	 * challenge is cheap to make again, and caching it let a flood of
	 * them push real answers out. */
	if (authed)
		txcache_put(&s->tx, req->src, req->conn, m.tid, s->obuf, n, now);
	server_send_client(s, req->l, req->conn, req->src, s->obuf, n);
}

/* Demultiplex by the first byte (RFC 8656 §12): 0b00 STUN, 0b01 ChannelData. */
void dispatch_msg(void *arg, const struct request *req)
{
	struct server *s = arg;

	if ((req->buf[0] & 0xc0) == 0)
		on_stun(s, req);
	else if ((req->buf[0] & 0xc0) == 0x40)
		handle_chdata(s, req);
	else
		s->st.drops[DROP_MALFORMED]++;
}

void dispatch_conn_closed(void *arg, struct conn *c)
{
	struct server *s = arg;
	struct alloc *a = server_alloc_find(s, c->l, c, (struct sockaddr *)&c->peer);

	if (a)
		server_alloc_free(s, a); /* RFC 8656 §3.1: a TCP allocation ends with its connection */
}
