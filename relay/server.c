/* server.c: one worker's request path: validate, answer retransmits from
 * the cache, authenticate, find the allocation, and hand each method to
 * the file that implements it. */
#include <errno.h>
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
static void udp_flush_check(uv_check_t *c);
static void udp_flush_prepare(uv_prepare_t *p);

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
	s->out.n = 0;
	uv_check_init(loop, &s->out.check);
	s->out.check.data = s;
	uv_check_start(&s->out.check, udp_flush_check);
	uv_unref((uv_handle_t *)&s->out.check);
	uv_prepare_init(loop, &s->out.prepare);
	s->out.prepare.data = s;
	uv_prepare_start(&s->out.prepare, udp_flush_prepare);
	uv_unref((uv_handle_t *)&s->out.prepare);
	return 0;
}

/* ---- outgoing datagrams ---- */

static void udp_sent(struct server *s, const struct udp_out *o, size_t len, int ok)
{
	if (!ok) {
		s->st.drops[DROP_SEND_FAILED]++;
		return;
	}
	if (!o->a)
		return;
	o->a->tx_pkts++;
	o->a->tx_bytes += len;
	s->st.pkts_to_peer++;
	s->st.bytes_to_peer += len;
}

/* One socket's datagrams, in queue order. A datagram that fails is
 * dropped and counted, as a single send would be; the rest still go. */
static void udp_send_group(struct server *s, int fd, struct mmsghdr *v, const unsigned *idx,
			   unsigned k)
{
	struct udp_batch *b = &s->out;
	unsigned sent = 0;

	while (sent < k) {
		int r = sendmmsg(fd, v + sent, k - sent, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) { /* the first one failed: a full buffer, no route... */
			udp_sent(s, &b->q[idx[sent]], b->iov[idx[sent]].iov_len, 0);
			sent++;
			continue;
		}
		for (unsigned i = sent; i < sent + (unsigned)r; i++)
			udp_sent(s, &b->q[idx[i]], b->iov[idx[i]].iov_len, 1);
		sent += (unsigned)r;
	}
}

void server_udp_flush(struct server *s)
{
	struct udp_batch *b = &s->out;
	struct mmsghdr v[UDP_BATCH];
	unsigned idx[UDP_BATCH];
	uint8_t done[UDP_BATCH];

	if (!b->n)
		return;
	memset(done, 0, b->n);
	/* Group by socket, keeping each socket's order: a few dozen entries,
	 * so a plain scan. */
	for (unsigned i = 0; i < b->n; i++) {
		unsigned k = 0;
		if (done[i])
			continue;
		for (unsigned j = i; j < b->n; j++) {
			if (done[j] || b->q[j].fd != b->q[i].fd)
				continue;
			done[j] = 1;
			memset(&v[k], 0, sizeof v[k]);
			v[k].msg_hdr.msg_name = &b->q[j].to;
			v[k].msg_hdr.msg_namelen = b->q[j].tolen;
			v[k].msg_hdr.msg_iov = &b->iov[j];
			v[k].msg_hdr.msg_iovlen = 1;
			idx[k++] = j;
		}
		udp_send_group(s, b->q[i].fd, v, idx, k);
	}
	b->n = 0;
}

static void udp_flush_check(uv_check_t *c) { server_udp_flush(c->data); }
static void udp_flush_prepare(uv_prepare_t *p) { server_udp_flush(p->data); }

void server_udp_send(struct server *s, int fd, const struct sockaddr *to, const uint8_t *data,
		     size_t len, struct alloc *a)
{
	struct udp_batch *b = &s->out;
	struct udp_out *o;
	socklen_t tolen = netaddr_len(to); /* IPv4 or IPv6: fits o->to */
	int big = len > UDP_SLOT;

	if (b->n == UDP_BATCH || big)
		server_udp_flush(s);
	o = &b->q[b->n];
	o->fd = fd;
	o->a = a;
	o->tolen = tolen;
	memcpy(&o->to, to, tolen);
	if (big) { /* rare: sent at once from the caller's buffer */
		b->iov[b->n].iov_base = (void *)data;
		b->iov[b->n].iov_len = len;
		b->n++;
		server_udp_flush(s);
		return;
	}
	memcpy(b->slot[b->n], data, len);
	b->iov[b->n].iov_base = b->slot[b->n];
	b->iov[b->n].iov_len = len;
	b->n++;
}

void server_alloc_free(struct server *s, struct alloc *a)
{
	server_udp_flush(s); /* its sockets are about to close */
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
	server_udp_flush(s);
	while (s->allocs.all)
		server_alloc_free(s, s->allocs.all);
	alloc_table_free(&s->allocs);
	if (!uv_is_closing((uv_handle_t *)&s->sweep))
		uv_close((uv_handle_t *)&s->sweep, NULL);
	if (!uv_is_closing((uv_handle_t *)&s->out.check))
		uv_close((uv_handle_t *)&s->out.check, NULL);
	if (!uv_is_closing((uv_handle_t *)&s->out.prepare))
		uv_close((uv_handle_t *)&s->out.prepare, NULL);
}

void server_send_client(struct server *s, struct listener *l, struct conn *c,
			const struct sockaddr *client, const uint8_t *buf, size_t len)
{
	if (c)
		conn_send(c, buf, len);
	else if (listener_send_udp(l, client, buf, len) < 0)
		s->st.drops[DROP_SEND_FAILED]++; /* later failures count when flushed */
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
