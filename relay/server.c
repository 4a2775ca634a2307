/* server.c: one worker's state: set-up and tear-down, the allocation
 * table's sweep, the path back to a client, and the answer helpers. */
#include <errno.h>
#include <string.h>

#include <openssl/rand.h>

#include "io/conn.h"
#include "io/ports.h"
#include "server.h"
#include "util/log.h"

uint64_t server_now(const struct server *s) { return uv_now(s->loop); }

/* The batch's report on each datagram: one to a peer (tag: its
 * allocation) counts for the allocation once it has left. */
static void udp_sent(void *arg, void *tag, const struct sockaddr *to, const uint8_t *data,
		     size_t len, int err)
{
	struct server *s = arg;
	struct alloc *a = tag;

	if (err) {
		s->st.drops[DROP_SEND_FAILED]++;
		return;
	}
	if (!a)
		return;
	a->tx_pkts++;
	a->tx_bytes += len;
	s->st.pkts_to_peer++;
	s->st.bytes_to_peer += len;
}

static void sweep(uv_timer_t *t);

int server_init(struct server *s, struct avedge_conf *conf, uv_loop_t *loop, int id,
		const struct tcp_relayed_cbs *tcp_cbs, const struct ms_tcp_cbs *ms_tcp_cbs)
{
	uint32_t key;

	s->conf = conf;
	s->mconf = conf;
	s->loop = loop;
	s->id = id;
	if (alloc_table_init(&s->allocs, 1024))
		return -1;
	RAND_bytes((unsigned char *)&key, sizeof key);
	if (ratelimit_init(&s->rl, key, conf->unauth_rate, conf->unauth_burst))
		return -1;
	uv_timer_init(loop, &s->sweep);
	s->sweep.data = s;
	uv_timer_start(&s->sweep, sweep, 1000, 1000);
	uv_unref((uv_handle_t *)&s->sweep);
	udp_batch_init(&s->out, loop, udp_sent, s, conf->io_uring);
	if (conf->io_uring && !s->out.uring_ok && id == 0)
		log_warn("io_uring is not available here: relayed sockets are read and written "
			 "with a system call each (--io-uring off says so quietly)");
	admit_init(&s->admit, &conf->lim, &s->st);
	relayed_rx_init(&s->rx, loop, &s->out);
	s->relayed = (struct relayed_env){loop, &conf->ports, &s->out, &s->rx};
	s->tcp = (struct tcp_relayed_env){loop, &conf->ports, &s->st, tcp_cbs, s, conf->max_connects,
					  NULL};
	s->mstcp = (struct ms_tcp_env){loop, &conf->ports, &s->st, ms_tcp_cbs, s, conf->max_connects};
	return 0;
}

void server_listener_init(struct server *s, struct listener *l)
{
	l->out = &s->out;
	l->st = &s->st;
	l->scratch = s->ibuf;
	l->scratch_len = sizeof s->ibuf;
	l->lim = &s->conf->lim;
	l->admit = &s->admit;
}

struct alloc *server_alloc_find(struct server *s, const void *listener, const void *conn,
				const struct sockaddr *client)
{
	struct five_tuple k;

	five_tuple_set(&k, listener, conn, client);
	return alloc_table_find(&s->allocs, &k);
}

void server_alloc_free(struct server *s, struct alloc *a)
{
	if (a->udp_io)
		relayed_close(a->udp_io); /* flushes the batch: a is still valid there */
	if (a->tcp_io)
		tcp_relayed_close(a->tcp_io);
	for (int i = 0; i < 2; i++)
		if (a->ms_tcp_io[i])
			ms_tcp_close(a->ms_tcp_io[i]);
	if (a->user && !a->unit_back)
		quota_give(&s->mconf->quota, a->user + a->quota_off);
	alloc_table_remove(&s->allocs, a);
	s->st.allocations = s->allocs.count;
	s->st.mux_sessions = s->allocs.mux_count;
}

/* A reservation expired unclaimed: its maker's quota unit comes back. */
static void reservation_gone(void *arg, const char *owner)
{
	struct server *s = arg;
	quota_give(&s->mconf->quota, owner);
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
	s->st.mux_sessions = s->allocs.mux_count;
	s->st.permissions = perms;
	s->st.channels = chans;
	if (s->id == 0)
		ports_reservations_expire(server_now(s), reservation_gone, s);
}

void server_close(struct server *s)
{
	udp_batch_flush(&s->out);
	while (s->allocs.all)
		server_alloc_free(s, s->allocs.all);
	alloc_table_free(&s->allocs);
	if (!uv_is_closing((uv_handle_t *)&s->sweep))
		uv_close((uv_handle_t *)&s->sweep, NULL);
	relayed_rx_close(&s->rx);
	udp_batch_close(&s->out);
	admit_free(&s->admit);
	ratelimit_free(&s->rl);
}

void server_send_client(struct server *s, struct listener *l, struct conn *c,
			const struct sockaddr *client, const uint8_t *buf, size_t len)
{
	if (c)
		conn_send(c, buf, len); /* a failed write closes the stream */
	else if (listener_send_udp(l, client, buf, len) < 0)
		s->st.drops[DROP_SEND_FAILED]++; /* later failures count when flushed */
}

void server_send_alloc(struct server *s, const struct alloc *a, const uint8_t *buf, size_t len)
{
	/* The 5-tuple's listener and connection are ours: the table keeps
	 * them as opaque keys. */
	server_send_client(s, (struct listener *)a->key.listener, (struct conn *)a->key.conn,
			   (const struct sockaddr *)&a->key.client, buf, len);
}

int server_peer_ok(struct server *s, const struct sockaddr *peer, int ip_only)
{
	int ok;

	pthread_rwlock_rdlock(&s->mconf->reload); /* SIGHUP swaps the filter */
	ok = ip_only ? peerfilter_permits_ip(s->conf->filter, peer)
		     : peerfilter_permits(s->conf->filter, peer);
	pthread_rwlock_unlock(&s->mconf->reload);
	return ok;
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
	if (code == 420)
		stun_put_unknown(&w, m);
	return server_finish(s, &w, who);
}

size_t server_error_errno(struct server *s, const struct stun_msg *m, int err,
			  const struct auth_ok *who)
{
	if (err == -EAFNOSUPPORT)
		return server_error(s, m, 440, "Address Family not Supported", who);
	return server_error(s, m, 508, "Insufficient Capacity", who);
}
