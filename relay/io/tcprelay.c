/* tcprelay.c: RFC 6062 TCP relaying. Each peer connection waits 30 s to be
 * bound to a client data connection; after ConnectionBind the two streams
 * are spliced: bytes pass unframed in both directions. Stream listeners
 * run on worker 0 only (worker.c), so a data connection always meets its
 * allocation on the same thread.
 *
 * The splice is bounded: when more than QUEUE_HIGH bytes wait to be
 * written to one side, the other side is not read until they have gone
 * (an empty write behind them says when), so a fast sender meets the slow
 * reader's pace instead of avedge's memory. An EOF half-closes: the other
 * side gets every queued byte, then our FIN, while the opposite direction
 * carries on; the pair closes when both directions have ended, on an error,
 * with its allocation, or after FIN_TIMEOUT_MS half-closed with nothing
 * moving. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "listener.h"
#include "log.h"
#include "relay.h"
#include "stream.h"
#include "tcprelay.h"

#define BIND_TIMEOUT_MS 30000
#define FIN_TIMEOUT_MS 30000
#define PEER_BUF 16384
#define QUEUE_HIGH (256 * 1024)

enum pc_state { PC_CONNECTING, PC_WAIT_BIND, PC_BOUND, PC_CLOSING };

/* A bound pair's directions: each ends with an EOF read from one side,
 * then our FIN written to the other once its queue has drained. */
enum {
	PC_PEER_EOF = 1,     /* the peer sent FIN: nothing more for the client */
	PC_CLIENT_SHUT = 2,  /* ... and the client has had it all and our FIN, or is gone */
	PC_CLIENT_EOF = 4,   /* the client sent FIN or is gone: nothing more for the peer */
	PC_PEER_SHUT = 8,    /* ... and the peer has had it all and our FIN */
	PC_PEER_FULL = 16,   /* over QUEUE_HIGH queued to the peer: the client is not read */
	PC_CLIENT_FULL = 32, /* over QUEUE_HIGH queued to the client: the peer is not read */
};

struct peer_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;             /* bind timeout, then the half-closed one */
	uv_connect_t creq;
	uv_write_t peer_fence, client_fence; /* empty writes: done when the queue drained */
	uv_shutdown_t peer_sreq, client_sreq;
	struct peer_conn *next;       /* the relay's connections */
	struct tcp_relay *tr;
	struct conn *data;            /* the client's data connection, once bound */
	uv_alloc_cb client_alloc;     /* the listener's read callbacks for it, */
	uv_read_cb client_read;       /* which client_read wraps */
	struct sockaddr_storage peer;
	uint32_t id;
	uint8_t state, flags;
	uint8_t refs;                 /* handles open and requests in flight */
	uint8_t tid[STUN_TID_LEN];    /* the Connect to answer */
	struct auth_ok who;           /* to sign that answer */
	uint8_t buf[PEER_BUF];
};

struct tcp_relay {
	uv_tcp_t listener;
	struct relay_io *io;
	struct sockaddr_storage addr; /* bound relayed address */
	struct peer_conn *conns;
	int port;
};

static struct peer_conn *by_id(struct server *s, uint32_t id)
{
	for (struct alloc *a = s->allocs.all; a; a = a->next)
		if (a->io && a->io->tcp)
			for (struct peer_conn *pc = a->io->tcp->conns; pc; pc = pc->next)
				if (pc->id == id && pc->state == PC_WAIT_BIND)
					return pc;
	return NULL;
}

static void pc_unref(struct peer_conn *pc)
{
	if (--pc->refs == 0)
		free(pc);
}

static void pc_handle_closed(uv_handle_t *h)
{
	pc_unref(h->data);
}

static void pc_close(struct peer_conn *pc)
{
	struct peer_conn **pp;

	if (pc->state == PC_CLOSING)
		return;
	pc->state = PC_CLOSING;
	if (pc->tr) { /* unlink from the relay */
		for (pp = &pc->tr->conns; *pp && *pp != pc; pp = &(*pp)->next)
			;
		if (*pp)
			*pp = pc->next;
	}
	if (pc->data) { /* cancels its fence and shutdown: their callbacks unref */
		struct conn *d = pc->data;
		pc->data = NULL;
		d->pipe = NULL;
		conn_close(d);
	}
	uv_close((uv_handle_t *)&pc->timer, pc_handle_closed);
	uv_close((uv_handle_t *)&pc->tcp, pc_handle_closed);
}

static void on_timeout(uv_timer_t *t)
{
	struct peer_conn *pc = t->data;
	log_debug("TCP peer connection %u: not bound within 30 s", pc->id);
	pc_close(pc);
}

static struct peer_conn *pc_new(struct server *s, struct tcp_relay *tr)
{
	struct peer_conn *pc = calloc(1, sizeof *pc);

	if (!pc)
		return NULL;
	pc->tr = tr;
	do /* non-zero, unique among this worker's waiting connections */
		RAND_bytes((unsigned char *)&pc->id, sizeof pc->id);
	while (!pc->id || by_id(s, pc->id));
	uv_tcp_init(s->loop, &pc->tcp);
	uv_timer_init(s->loop, &pc->timer);
	pc->tcp.data = pc->timer.data = pc;
	pc->refs = 2;
	pc->next = tr->conns;
	tr->conns = pc;
	return pc;
}

/* ---- splicing ---- */

static void pc_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct peer_conn *pc = h->data;
	b->base = (char *)pc->buf;
	b->len = sizeof pc->buf;
}

static void pc_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);
static void client_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void on_fin_timeout(uv_timer_t *t)
{
	struct peer_conn *pc = t->data;
	log_debug("TCP peer connection %u: half-closed and idle for 30 s", pc->id);
	pc_close(pc);
}

/* Bytes moved: a half-closed pair gets FIN_TIMEOUT_MS more. */
static void pc_busy(struct peer_conn *pc)
{
	if (pc->flags & (PC_PEER_EOF | PC_CLIENT_EOF))
		uv_timer_start(&pc->timer, on_fin_timeout, FIN_TIMEOUT_MS, 0);
}

/* Both directions ended: nothing is queued any more, close the pair. */
static void pc_maybe_done(struct peer_conn *pc)
{
	if ((pc->flags & (PC_CLIENT_SHUT | PC_PEER_SHUT)) == (PC_CLIENT_SHUT | PC_PEER_SHUT))
		pc_close(pc);
}

static size_t queued(void *stream)
{
	return uv_stream_get_write_queue_size(stream);
}

/* An empty write behind everything queued on s: libuv completes writes in
 * order, so its callback runs once the queue has drained. */
static int fence(struct peer_conn *pc, uv_write_t *req, void *s, uv_write_cb cb)
{
	static char none;
	uv_buf_t b = uv_buf_init(&none, 0);
	int err;

	req->data = pc;
	if ((err = uv_write(req, s, &b, 1, cb)))
		return err;
	pc->refs++;
	return 0;
}

/* The client's queue drained: read the peer again. */
static void client_drained(uv_write_t *req, int status)
{
	struct peer_conn *pc = req->data;

	pc->flags &= ~PC_CLIENT_FULL;
	if (status < 0 && status != UV_ECANCELED)
		pc_close(pc);
	else if (!status && pc->state == PC_BOUND && pc->data && !(pc->flags & PC_PEER_EOF)) {
		pc_busy(pc);
		if (uv_read_start((uv_stream_t *)&pc->tcp, pc_alloc, pc_read))
			pc_close(pc);
	}
	pc_unref(pc);
}

/* The peer's queue drained: read the client again. */
static void peer_drained(uv_write_t *req, int status)
{
	struct peer_conn *pc = req->data;

	pc->flags &= ~PC_PEER_FULL;
	if (status < 0 && status != UV_ECANCELED)
		pc_close(pc);
	else if (!status && pc->state == PC_BOUND && pc->data && !(pc->flags & PC_CLIENT_EOF)) {
		pc_busy(pc);
		if (uv_read_start((uv_stream_t *)&pc->data->tcp, pc->client_alloc, client_read))
			pc_close(pc);
	}
	pc_unref(pc);
}

/* A shutdown (our FIN) to one side completed: that side is done. */
static void shut_done(uv_shutdown_t *req, int status, unsigned side_shut)
{
	struct peer_conn *pc = req->data;

	if (status < 0 && status != UV_ECANCELED)
		pc_close(pc);
	else if (pc->state != PC_CLOSING) {
		pc->flags |= side_shut;
		pc_maybe_done(pc);
	}
	pc_unref(pc);
}

static void client_shut(uv_shutdown_t *req, int status) { shut_done(req, status, PC_CLIENT_SHUT); }
static void peer_shut(uv_shutdown_t *req, int status) { shut_done(req, status, PC_PEER_SHUT); }

/* The peer sent FIN: the client gets what is queued for it, then ours. */
static void peer_eof(struct peer_conn *pc)
{
	struct conn *c = pc->data;

	pc->flags |= PC_PEER_EOF;
	pc_busy(pc);
	if (!c) { /* the client is gone already */
		pc_maybe_done(pc);
		return;
	}
	if (c->ssl) { /* close_notify first, behind the queued records */
		uint8_t buf[512];
		int n;

		SSL_shutdown(c->ssl);
		while ((n = BIO_read(c->wbio, buf, sizeof buf)) > 0)
			if (stream_write((uv_stream_t *)&c->tcp, buf, (size_t)n)) {
				pc_close(pc);
				return;
			}
	}
	pc->client_sreq.data = pc;
	if (uv_shutdown(&pc->client_sreq, (uv_stream_t *)&c->tcp, client_shut)) {
		pc_close(pc);
		return;
	}
	pc->refs++;
}

/* The client sent FIN, or is gone: the peer gets what is queued for it,
 * then ours. */
static void client_eof(struct peer_conn *pc)
{
	pc->flags |= PC_CLIENT_EOF;
	pc_busy(pc);
	pc->peer_sreq.data = pc;
	if (uv_shutdown(&pc->peer_sreq, (uv_stream_t *)&pc->tcp, peer_shut)) {
		pc_close(pc);
		return;
	}
	pc->refs++;
}

/* The listener's read callback for a bound data connection, but for the
 * client's FIN: that half-closes the pair where the listener would close
 * the connection. */
static void client_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = st->data;
	struct peer_conn *pc = c->pipe;

	if (!pc) { /* unbound while closing: nothing more to read */
		uv_read_stop(st);
		return;
	}
	if (n == UV_EOF && pc->state == PC_BOUND) {
		client_eof(pc);
		return;
	}
	pc->client_read(st, n, b);
}

void tcprelay_from_client(struct peer_conn *pc, const uint8_t *data, size_t len)
{
	struct server *s = pc->tr->io->srv;
	struct conn *c = pc->data;

	if (pc->state != PC_BOUND || !c)
		return;
	s->st.pkts_to_peer++;
	s->st.bytes_to_peer += len;
	pc_busy(pc);
	if (stream_write((uv_stream_t *)&pc->tcp, data, len)) {
		pc_close(pc);
		return;
	}
	if (pc->flags & PC_PEER_FULL || queued(&pc->tcp) <= QUEUE_HIGH)
		return;
	/* Back-pressure: no more from the client until the peer has taken it. */
	uv_read_stop((uv_stream_t *)&c->tcp);
	if (fence(pc, &pc->peer_fence, &pc->tcp, peer_drained)) {
		pc_close(pc);
		return;
	}
	pc->flags |= PC_PEER_FULL;
}

/* The client's data connection is closing (an error, TLS close_notify, or
 * avedge's exit): the peer still gets what the client sent, then FIN. */
void tcprelay_client_closed(struct peer_conn *pc)
{
	pc->data = NULL;
	if (pc->state != PC_BOUND) {
		pc_close(pc);
		return;
	}
	pc->flags |= PC_CLIENT_SHUT; /* nothing can reach the client now */
	if (pc->flags & PC_CLIENT_FULL) { /* read on, and drop, until the peer's FIN */
		pc->flags &= ~PC_CLIENT_FULL;
		if (!(pc->flags & PC_PEER_EOF) &&
		    uv_read_start((uv_stream_t *)&pc->tcp, pc_alloc, pc_read)) {
			pc_close(pc);
			return;
		}
	}
	if (pc->flags & PC_CLIENT_EOF)
		pc_maybe_done(pc);
	else
		client_eof(pc);
}

static void pc_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct peer_conn *pc = st->data;
	struct server *s;
	struct conn *c;

	if (n == UV_EOF && pc->state == PC_BOUND) {
		peer_eof(pc);
		return;
	}
	if (n < 0) {
		pc_close(pc);
		return;
	}
	if (n == 0)
		return;
	pc_busy(pc);
	if (!(c = pc->data))
		return; /* the client is gone: drained until the peer's FIN */
	s = pc->tr->io->srv;
	s->st.pkts_to_client++;
	s->st.bytes_to_client += (uint64_t)n;
	conn_send(c, (const uint8_t *)b->base, (size_t)n);
	if (!pc->data || pc->flags & PC_CLIENT_FULL || queued(&c->tcp) <= QUEUE_HIGH)
		return;
	/* Back-pressure: no more from the peer until the client has taken it. */
	uv_read_stop((uv_stream_t *)&pc->tcp);
	if (fence(pc, &pc->client_fence, &c->tcp, client_drained)) {
		pc_close(pc);
		return;
	}
	pc->flags |= PC_CLIENT_FULL;
}

/* ---- Connect (client-initiated) ---- */

static void connect_answer(struct peer_conn *pc, int code, const char *reason)
{
	struct relay_io *io = pc->tr->io;
	struct server *s = io->srv;
	struct stun_writer w;
	int n;

	stun_writer_init(&w, s->obuf, sizeof s->obuf, TURN_CONNECT,
			 code ? STUN_ERROR : STUN_SUCCESS, pc->tid);
	if (code)
		stun_put_error(&w, code, reason);
	else
		stun_put_u32(&w, STUN_A_CONNECTION_ID, pc->id);
	auth_sign(&pc->who, &w);
	stun_put_fingerprint(&w);
	if ((n = stun_writer_finish(&w)) > 0 && io->conn)
		conn_send(io->conn, s->obuf, (size_t)n);
}

static void on_connected(uv_connect_t *req, int status)
{
	struct peer_conn *pc = req->data;

	if (pc->state == PC_CLOSING)
		return;
	if (status < 0) {
		connect_answer(pc, 447, "Connection Timeout or Failure");
		pc_close(pc);
		return;
	}
	uv_tcp_nodelay(&pc->tcp, 1); /* R15a */
	pc->state = PC_WAIT_BIND;
	connect_answer(pc, 0, NULL);
	uv_timer_start(&pc->timer, on_timeout, BIND_TIMEOUT_MS, 0);
}

static void on_connect_timeout(uv_timer_t *t)
{
	struct peer_conn *pc = t->data;
	connect_answer(pc, 447, "Connection Timeout or Failure");
	pc_close(pc);
}

size_t tcprelay_connect(struct server *s, const struct request *req, const struct stun_msg *m,
			const struct auth_ok *who, struct alloc *a)
{
	struct tcp_relay *tr = a->io ? a->io->tcp : NULL;
	struct sockaddr_storage peer;
	struct peer_conn *pc;
	struct peer p;
	int fd, one = 1;

	if (!tr || req->conn != a->io->conn)
		return server_error(s, m, 400, "Bad Request: not a TCP allocation", who);
	if (stun_msg_addr(m, STUN_A_XOR_PEER_ADDRESS, &peer))
		return server_error(s, m, 400, "Bad Request: no XOR-PEER-ADDRESS", who);
	if (peer.ss_family != tr->addr.ss_family)
		return server_error(s, m, 443, "Peer Address Family Mismatch", who);
	peer_from_sockaddr(&p, (struct sockaddr *)&peer);
	if (!peerfilter_permits(s->conf->filter, (struct sockaddr *)&peer) ||
	    !alloc_perm_has(a, &p, server_now(s)))
		return server_error(s, m, 403, "Forbidden", who);
	for (pc = tr->conns; pc; pc = pc->next)
		if (netaddr_equal((struct sockaddr *)&pc->peer, (struct sockaddr *)&peer))
			return server_error(s, m, 446, "Connection Already Exists", who);

	/* From the relayed address itself (§5.2): same IP and port as the
	 * listener, which SO_REUSEPORT on both allows. */
	fd = socket(peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return server_error(s, m, 447, "Connection Timeout or Failure", who);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&tr->addr, netaddr_len((struct sockaddr *)&tr->addr))) {
		close(fd);
		return server_error(s, m, 447, "Connection Timeout or Failure", who);
	}
	if (!(pc = pc_new(s, tr))) {
		close(fd);
		return server_error(s, m, 508, "Insufficient Capacity", who);
	}
	pc->peer = peer;
	pc->state = PC_CONNECTING;
	memcpy(pc->tid, m->tid, STUN_TID_LEN);
	pc->who = *who;
	if (uv_tcp_open(&pc->tcp, fd)) {
		close(fd);
		pc_close(pc);
		return server_error(s, m, 447, "Connection Timeout or Failure", who);
	}
	pc->creq.data = pc;
	if (uv_tcp_connect(&pc->creq, &pc->tcp, (struct sockaddr *)&peer, on_connected)) {
		pc_close(pc);
		return server_error(s, m, 447, "Connection Timeout or Failure", who);
	}
	uv_timer_start(&pc->timer, on_connect_timeout, BIND_TIMEOUT_MS, 0);
	return 0; /* answered when the connection succeeds or fails */
}

/* ---- peers connecting in: ConnectionAttempt ---- */

static void on_peer(uv_stream_t *l, int status)
{
	struct tcp_relay *tr = l->data;
	struct relay_io *io = tr->io;
	struct server *s = io->srv;
	struct peer_conn *pc;
	struct stun_writer w;
	struct peer p;
	uint8_t tid[STUN_TID_LEN];
	int len = sizeof pc->peer, n;

	if (status < 0 || !(pc = pc_new(s, tr)))
		return;
	if (uv_accept(l, (uv_stream_t *)&pc->tcp)) {
		pc_close(pc);
		return;
	}
	uv_tcp_getpeername(&pc->tcp, (struct sockaddr *)&pc->peer, &len);
	peer_from_sockaddr(&p, (struct sockaddr *)&pc->peer);
	/* §5.3: only peers with a permission may connect in. */
	if (!alloc_perm_has(io->a, &p, server_now(s)) || !io->conn) {
		s->st.drops[DROP_NO_PERMISSION]++;
		pc_close(pc);
		return;
	}
	uv_tcp_nodelay(&pc->tcp, 1);
	pc->state = PC_WAIT_BIND;
	uv_timer_start(&pc->timer, on_timeout, BIND_TIMEOUT_MS, 0);
	stun_tid_random(tid);
	stun_writer_init(&w, s->obuf, sizeof s->obuf, TURN_CONNECTION_ATTEMPT, STUN_INDICATION, tid);
	stun_put_addr(&w, STUN_A_XOR_PEER_ADDRESS, (struct sockaddr *)&pc->peer);
	stun_put_u32(&w, STUN_A_CONNECTION_ID, pc->id);
	stun_put_fingerprint(&w);
	if ((n = stun_writer_finish(&w)) > 0)
		conn_send(io->conn, s->obuf, (size_t)n);
}

/* ---- ConnectionBind ---- */

/* Does this connection hold an allocation (is it a control connection)? */
static int has_alloc(struct server *s, const struct request *req)
{
	struct five_tuple k;

	memset(&k, 0, sizeof k);
	k.listener = req->l;
	k.conn = req->conn;
	memcpy(&k.client, req->src, netaddr_len(req->src));
	return alloc_table_find(&s->allocs, &k) != NULL;
}

size_t tcprelay_connection_bind(struct server *s, const struct request *req,
				const struct stun_msg *m, const struct auth_ok *who)
{
	const struct stun_attr *ca = stun_msg_attr(m, STUN_A_CONNECTION_ID);
	struct stun_writer w;
	struct peer_conn *pc;
	struct conn *c = req->conn;
	uint32_t id;
	size_t n;

	if (!c || c->pipe || !ca || stun_attr_u32(ca, &id))
		return server_error(s, m, 400, "Bad Request", who);
	/* §5.4 and §4.3: a data connection is a new one, never the control
	 * connection (its STUN framing would end with the bind). */
	if (has_alloc(s, req))
		return server_error(s, m, 400, "Bad Request: ConnectionBind on a control connection",
				    who);
	if (!(pc = by_id(s, id)))
		return server_error(s, m, 400, "Bad Request: unknown CONNECTION-ID", who);
	if (strcmp(pc->tr->io->a->user, who->user))
		return server_error(s, m, 441, "Wrong Credentials", who);
	/* Answer first: after the success response the stream is raw data. */
	server_begin(s, &w, m);
	n = server_finish(s, &w, who);
	if (n)
		conn_send(c, s->obuf, n);
	if (c->closing)
		return 0; /* the answer could not be written; the peer waits on */
	pc->state = PC_BOUND;
	pc->data = c;
	c->pipe = pc;
	uv_timer_stop(&pc->timer);
	/* From now on the client is read through client_read, which can pause
	 * it and turns its FIN into a half-close. */
	pc->client_alloc = c->tcp.alloc_cb;
	pc->client_read = c->tcp.read_cb;
	uv_read_stop((uv_stream_t *)&c->tcp);
	if (uv_read_start((uv_stream_t *)&c->tcp, pc->client_alloc, client_read) ||
	    uv_read_start((uv_stream_t *)&pc->tcp, pc_alloc, pc_read))
		pc_close(pc);
	return 0;
}

/* ---- the relay itself ---- */

int tcprelay_open(struct server *s, struct alloc *a, int fam, struct sockaddr_storage *relayed)
{
	struct tcp_relay *tr = calloc(1, sizeof *tr);
	int fd, port = 0, len;

	if (!tr)
		return 508;
	if ((fd = relay_stream_listener(s->conf, fam, &port)) < 0) {
		free(tr);
		log_warn("no free TCP relay port in %u-%u", s->conf->port_lo, s->conf->port_hi);
		return 508;
	}
	tr->io = a->io;
	tr->port = port;
	a->io->tcp = tr;
	uv_tcp_init(s->loop, &tr->listener);
	tr->listener.data = tr;
	uv_tcp_open(&tr->listener, fd);
	len = sizeof tr->addr;
	uv_tcp_getsockname(&tr->listener, (struct sockaddr *)&tr->addr, &len);
	/* The socket already listens (the port check needed it); libuv's
	 * uv_listen on it only starts watching. */
	if (uv_listen((uv_stream_t *)&tr->listener, 16, on_peer))
		return 508;
	*relayed = s->conf->relay_public[fam];
	netaddr_set_port((struct sockaddr *)relayed, port);
	return 0;
}

static void tr_closed(uv_handle_t *h)
{
	struct tcp_relay *tr = h->data;
	relay_stream_release(tr->port);
	free(tr);
}

void tcprelay_close(struct tcp_relay *tr)
{
	while (tr->conns) {
		struct peer_conn *pc = tr->conns;
		pc_close(pc); /* unlinks itself */
		pc->tr = NULL;
	}
	uv_close((uv_handle_t *)&tr->listener, tr_closed);
}
