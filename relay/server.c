/* server.c: one worker's request path: validate, answer retransmits from
 * the cache, authenticate, find the allocation, and hand each method to
 * the file that implements it. */
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "auth.h"
#include "io/listener.h"
#include "io/relay.h"
#include "io/tcprelay.h"
#include "log.h"
#include "server.h"

const char *const drop_reason_names[DROP_REASONS] = {
	"malformed", "no_allocation", "no_permission", "no_channel",
	"rate_limit", "bandwidth", "send_failed", "filtered",
};

uint64_t server_now(const struct server *s) { return uv_now(s->loop); }

static void sweep(uv_timer_t *t);

int server_init(struct server *s, struct relay_conf *conf, uv_loop_t *loop, int id)
{
	s->conf = conf;
	s->mconf = conf;
	s->loop = loop;
	s->id = id;
	uint32_t key;

	if (alloc_table_init(&s->allocs, 1024))
		return -1;
	RAND_bytes((unsigned char *)&key, sizeof key);
	ratelimit_init(&s->rl, key);
	uv_timer_init(loop, &s->sweep);
	s->sweep.data = s;
	uv_timer_start(&s->sweep, sweep, 1000, 1000);
	uv_unref((uv_handle_t *)&s->sweep);
	return 0;
}

void server_alloc_free(struct server *s, struct alloc *a)
{
	if (a->io)
		relay_close(a->io);
	if (a->user)
		quota_give(&s->mconf->quota, a->user);
	alloc_table_remove(&s->allocs, a);
	s->st.allocations = s->allocs.count;
}

static void expire_one(struct alloc *a, void *ctx)
{
	log_debug("allocation of %s expired", a->user);
	server_alloc_free(ctx, a);
}

static void sweep(uv_timer_t *t)
{
	struct server *s = t->data;
	uint64_t perms = 0, chans = 0;

	alloc_table_expire(&s->allocs, server_now(s), expire_one, s);
	for (struct alloc *a = s->allocs.all; a; a = a->next) {
		perms += a->nperms;
		chans += a->nchans;
	}
	s->st.allocations = s->allocs.count;
	s->st.permissions = perms;
	s->st.channels = chans;
	if (s->id == 0)
		relay_reservations_expire(server_now(s));
}

void server_close(struct server *s)
{
	while (s->allocs.all)
		server_alloc_free(s, s->allocs.all);
	alloc_table_free(&s->allocs);
	if (!uv_is_closing((uv_handle_t *)&s->sweep))
		uv_close((uv_handle_t *)&s->sweep, NULL);
}

void server_send_client(struct server *s, struct listener *l, struct conn *c,
			const struct sockaddr *client, const uint8_t *buf, size_t len)
{
	if (c)
		conn_send(c, buf, len);
	else if (listener_send_udp(l, client, buf, len) < 0)
		s->st.drops[DROP_SEND_FAILED]++;
}

void server_begin(struct server *s, struct stun_writer *w, const struct stun_msg *m)
{
	stun_writer_init(w, s->obuf, sizeof s->obuf, m->method, STUN_SUCCESS, m->tid);
}

size_t server_finish(struct server *s, struct stun_writer *w, const struct auth_ok *who)
{
	int n;

	if (who)
		auth_sign(who, w);
	stun_put_fingerprint(w);
	n = stun_writer_finish(w);
	return n > 0 ? (size_t)n : 0;
}

/* Errors carry no SOFTWARE: to an unauthenticated sender an answer must
 * not be larger than its request (R15, no amplification). */
size_t server_error(struct server *s, const struct stun_msg *m, int code, const char *reason,
		    const struct auth_ok *who)
{
	struct stun_writer w;

	stun_writer_init(&w, s->obuf, sizeof s->obuf, m->method, STUN_ERROR, m->tid);
	stun_put_error(&w, code, reason);
	if (code == 420) {
		uint8_t list[2 * STUN_MAX_UNKNOWN];
		for (unsigned i = 0; i < m->nunknown; i++) {
			list[2 * i] = (uint8_t)(m->unknown[i] >> 8);
			list[2 * i + 1] = (uint8_t)m->unknown[i];
		}
		stun_put_attr(&w, STUN_A_UNKNOWN_ATTRIBUTES, list, 2u * m->nunknown);
	}
	return server_finish(s, &w, who);
}

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

static void key_of(const struct request *req, struct five_tuple *k)
{
	memset(k, 0, sizeof *k);
	k->listener = req->l;
	k->conn = req->conn;
	memcpy(&k->client, req->src, netaddr_len(req->src));
}

/* Authenticate and run one TURN request; returns the answer length. */
static size_t turn_request(struct server *s, const struct request *req,
			   const struct stun_msg *m)
{
	struct auth_ok who;
	struct five_tuple k;
	struct alloc *a;
	enum auth_verdict v;

	pthread_rwlock_rdlock(&s->mconf->reload);
	v = auth_check(s->conf->auth, m, req->src, server_now(s), (uint64_t)time(NULL), &who);
	if (v != AUTH_OK) {
		size_t n;
		if (v != AUTH_CHALLENGE)
			s->st.auth_failures++;
		/* R15: a source without valid credentials gets a bounded number
		 * of answers; past that its requests are dropped unanswered. */
		if (!ratelimit_take(&s->rl, req->src, server_now(s))) {
			s->st.drops[DROP_RATE_LIMIT]++;
			pthread_rwlock_unlock(&s->mconf->reload);
			return 0;
		}
		if (v == AUTH_BAD_REQUEST)
			n = server_error(s, m, 400, "Bad Request", NULL);
		else if (v == AUTH_STALE_NONCE)
			n = challenge(s, m, 438, "Stale Nonce", req->src);
		else
			n = challenge(s, m, 401, "Unauthorized", req->src);
		pthread_rwlock_unlock(&s->mconf->reload);
		return n;
	}
	pthread_rwlock_unlock(&s->mconf->reload);

	if (m->method == TURN_CONNECTION_BIND) /* on a fresh data connection */
		return tcprelay_connection_bind(s, req, m, &who);
	key_of(req, &k);
	a = alloc_table_find(&s->allocs, &k);
	if (m->method == TURN_ALLOCATE) {
		if (a)
			return server_error(s, m, 437, "Allocation Mismatch", &who);
		return turn_allocate(s, req, m, &who);
	}
	if (!a)
		return server_error(s, m, 437, "Allocation Mismatch", &who);
	if (strcmp(a->user, who.user))
		return server_error(s, m, 441, "Wrong Credentials", &who);
	switch (m->method) {
	case TURN_REFRESH:
		return turn_refresh(s, req, m, &who, a);
	case TURN_CREATE_PERMISSION:
		return turn_create_permission(s, req, m, &who, a);
	case TURN_CHANNEL_BIND:
		return turn_channel_bind(s, req, m, &who, a);
	case TURN_CONNECT:
		return tcprelay_connect(s, req, m, &who, a);
	default:
		return server_error(s, m, 400, "Bad Request: unknown method", &who);
	}
}

void server_on_stun(struct server *s, const struct request *req)
{
	const struct txentry *cached;
	struct stun_msg m;
	char from[NETADDR_STRLEN];
	size_t n = 0;
	int err = stun_msg_parse(&m, req->buf, req->len);

	if (err) {
		s->st.drops[DROP_MALFORMED]++;
		log_debug("dropped %zu bytes from %s: %s", req->len,
			  netaddr_str(req->src, from, sizeof from), stun_strerror(err));
		return;
	}
	if (m.cls == STUN_INDICATION) {
		if (m.method == TURN_SEND) {
			struct five_tuple k;
			struct alloc *a;
			key_of(req, &k);
			if ((a = alloc_table_find(&s->allocs, &k)))
				turn_send_indication(s, &m, a);
			else
				s->st.drops[DROP_NO_ALLOCATION]++;
		}
		return;
	}
	if (m.cls != STUN_REQUEST)
		return; /* stray responses need no answer */
	s->st.requests++;
	if (m.method != STUN_BINDING &&
	    (cached = txcache_find(&s->tx, req->src, req->conn, m.tid, server_now(s)))) {
		server_send_client(s, req->l, req->conn, req->src, cached->data, cached->len);
		return;
	}
	if (m.nunknown)
		n = server_error(s, &m, 420, "Unknown Attribute", NULL);
	else if (m.method == STUN_BINDING)
		n = binding_answer(s, req, &m);
	else
		n = turn_request(s, req, &m);
	if (!n)
		return;
	if (m.method != STUN_BINDING)
		txcache_put(&s->tx, req->src, req->conn, m.tid, s->obuf, n, server_now(s));
	server_send_client(s, req->l, req->conn, req->src, s->obuf, n);
}

void server_on_conn_closed(struct server *s, struct conn *c, const struct sockaddr *client,
			   struct listener *l)
{
	struct five_tuple k;
	struct alloc *a;

	memset(&k, 0, sizeof k);
	k.listener = l;
	k.conn = c;
	memcpy(&k.client, client, netaddr_len(client));
	if ((a = alloc_table_find(&s->allocs, &k)))
		server_alloc_free(s, a); /* RFC 8656 §3.1: a TCP allocation ends with its connection */
}
