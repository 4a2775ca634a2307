/* tcprelayed.c: RFC 6062 sockets. Each peer connection waits 30 s to be
 * bound to a client data connection; after the bind the two streams are
 * spliced. Stream listeners run on worker 0 only (worker.c), so a data
 * connection always meets its allocation on the same thread.
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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "io/stream.h"
#include "io/tcprelayed.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "util/refuse.h"

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
	uv_timer_t timer;             /* connect or bind timeout, then the half-closed one */
	uv_connect_t creq;
	uv_write_t peer_fence, client_fence;
	uv_shutdown_t peer_sreq, client_sreq;
	struct peer_conn *next;       /* the relayed socket's connections */
	struct tcp_relayed *tr;       /* until closed; env outlives both */
	struct tcp_relayed_env *env;
	struct conn *data;            /* the client's data connection, once bound */
	void *udata;                  /* a Connect not yet reported */
	struct sockaddr_storage peer;
	uint32_t id;
	uint8_t state, flags;
	uint8_t refs;                 /* handles open and requests in flight */
	uint8_t buf[PEER_BUF];
};

struct tcp_relayed {
	uv_tcp_t listener;
	struct refuse_wait refusing;
	struct tcp_relayed_env *env;
	struct tcp_relayed *prev, *next; /* the worker's list */
	void *tag;
	struct sockaddr_storage addr;    /* bound relayed address */
	struct peer_conn *conns;
	uint32_t nconns;
	int port;
};

static struct peer_conn *waiting(const struct tcp_relayed *tr, uint32_t id)
{
	for (struct peer_conn *pc = tr->conns; pc; pc = pc->next)
		if (pc->id == id && pc->state == PC_WAIT_BIND)
			return pc;
	return NULL;
}

struct tcp_relayed *tcp_relayed_find(const struct tcp_relayed_env *env, uint32_t id, void **tag)
{
	for (struct tcp_relayed *tr = env->all; tr; tr = tr->next)
		if (waiting(tr, id)) {
			*tag = tr->tag;
			return tr;
		}
	return NULL;
}

static void pc_unref(struct peer_conn *pc)
{
	if (--pc->refs == 0)
		free(pc);
}

static void pc_handle_closed(uv_handle_t *h) { pc_unref(h->data); }

/* A Connect's outcome, told once. */
static void report(struct peer_conn *pc, int status)
{
	void *u = pc->udata;

	if (!u)
		return;
	pc->udata = NULL;
	pc->env->cb->connected(pc->env->arg, u, pc->id, status);
}

static void pc_close(struct peer_conn *pc)
{
	struct peer_conn **pp;

	if (pc->state == PC_CLOSING)
		return;
	pc->state = PC_CLOSING;
	for (pp = &pc->tr->conns; *pp && *pp != pc; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = pc->next;
		pc->tr->nconns--;
	}
	if (pc->data) { /* cancels its fence and shutdown: their callbacks unref */
		struct conn *d = pc->data;
		pc->data = NULL;
		conn_set_pipe(d, NULL, NULL);
		conn_close(d);
	}
	uv_close((uv_handle_t *)&pc->timer, pc_handle_closed);
	uv_close((uv_handle_t *)&pc->tcp, pc_handle_closed);
}

static void on_bind_timeout(uv_timer_t *t)
{
	struct peer_conn *pc = t->data;
	log_debug("TCP peer connection %u: not bound within 30 s", pc->id);
	pc_close(pc);
}

static struct peer_conn *pc_new(struct tcp_relayed *tr)
{
	struct peer_conn *pc = calloc(1, sizeof *pc);
	void *tag;

	if (!pc)
		return NULL;
	pc->tr = tr;
	pc->env = tr->env;
	do /* non-zero, unique among this worker's waiting connections */
		RAND_bytes((unsigned char *)&pc->id, sizeof pc->id);
	while (!pc->id || tcp_relayed_find(tr->env, pc->id, &tag));
	uv_tcp_init(tr->env->loop, &pc->tcp);
	uv_timer_init(tr->env->loop, &pc->timer);
	pc->tcp.data = pc->timer.data = pc;
	pc->refs = 2;
	pc->next = tr->conns;
	tr->conns = pc;
	tr->nconns++;
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
		if (conn_resume(pc->data))
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
	pc->flags |= PC_PEER_EOF;
	pc_busy(pc);
	if (!pc->data) { /* the client is gone already */
		pc_maybe_done(pc);
		return;
	}
	pc->client_sreq.data = pc;
	if (conn_shutdown(pc->data, &pc->client_sreq, client_shut)) {
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

/* ---- the client side of the pipe (conn.c calls these) ---- */

static void from_client(void *arg, const uint8_t *data, size_t len)
{
	struct peer_conn *pc = arg;
	struct stats *st = pc->env->st;

	if (pc->state != PC_BOUND || !pc->data)
		return;
	st->pkts_to_peer++;
	st->bytes_to_peer += len;
	pc_busy(pc);
	if (stream_write((uv_stream_t *)&pc->tcp, data, len)) {
		pc_close(pc);
		return;
	}
	if (pc->flags & PC_PEER_FULL ||
	    uv_stream_get_write_queue_size((uv_stream_t *)&pc->tcp) <= QUEUE_HIGH)
		return;
	/* Back-pressure: no more from the client until the peer has taken it. */
	pc->peer_fence.data = pc;
	if (conn_pause(pc->data) ||
	    stream_fence((uv_stream_t *)&pc->tcp, &pc->peer_fence, peer_drained)) {
		pc_close(pc);
		return;
	}
	pc->refs++;
	pc->flags |= PC_PEER_FULL;
}

static void client_eof_cb(void *arg)
{
	struct peer_conn *pc = arg;

	if (pc->state == PC_BOUND)
		client_eof(pc);
}

/* The client's data connection has closed (an error, TLS close_notify, or
 * avedge's exit): the peer still gets what the client sent, then FIN. */
static void client_closed(void *arg)
{
	struct peer_conn *pc = arg;

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

static const struct conn_pipe client_pipe = {from_client, client_eof_cb, client_closed};

static void pc_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct peer_conn *pc = st->data;
	struct stats *s;
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
	s = pc->env->st;
	s->pkts_to_client++;
	s->bytes_to_client += (uint64_t)n;
	if (conn_send(c, (const uint8_t *)b->base, (size_t)n))
		return; /* closing: client_closed follows */
	if (pc->flags & PC_CLIENT_FULL || conn_queued(c) <= QUEUE_HIGH)
		return;
	/* Back-pressure: no more from the peer until the client has taken it. */
	uv_read_stop((uv_stream_t *)&pc->tcp);
	pc->client_fence.data = pc;
	if (conn_fence(c, &pc->client_fence, client_drained)) {
		pc_close(pc);
		return;
	}
	pc->refs++;
	pc->flags |= PC_CLIENT_FULL;
}

int tcp_relayed_bind(struct tcp_relayed *tr, uint32_t id, struct conn *c)
{
	struct peer_conn *pc = waiting(tr, id);
	int err;

	if (!pc)
		return -ENOENT;
	if (conn_closing(c))
		return -EPIPE; /* the answer could not be written; the peer waits on */
	pc->state = PC_BOUND;
	pc->data = c;
	conn_set_pipe(c, &client_pipe, pc);
	uv_timer_stop(&pc->timer);
	if ((err = uv_read_start((uv_stream_t *)&pc->tcp, pc_alloc, pc_read))) {
		pc_close(pc);
		return err;
	}
	return 0;
}

/* ---- Connect (client-initiated) ---- */

static void on_connected(uv_connect_t *req, int status)
{
	struct peer_conn *pc = req->data;

	if (pc->state == PC_CLOSING) {
		report(pc, -ECANCELED);
		return;
	}
	if (status < 0) {
		report(pc, status);
		pc_close(pc);
		return;
	}
	uv_tcp_nodelay(&pc->tcp, 1); /* R15a */
	pc->state = PC_WAIT_BIND;
	report(pc, 0);
	uv_timer_start(&pc->timer, on_bind_timeout, BIND_TIMEOUT_MS, 0);
}

static void on_connect_timeout(uv_timer_t *t)
{
	struct peer_conn *pc = t->data;
	report(pc, -ETIMEDOUT);
	pc_close(pc);
}

int tcp_relayed_family(const struct tcp_relayed *tr) { return tr->addr.ss_family; }

/* A connection waiting for its ConnectionBind is not read; one whose peer
 * has hung up (EOF with nothing before it, or an error) would hold its
 * --max-connects slot and its peer address until the bind timeout. */
static void reap_gone(struct tcp_relayed *tr)
{
	struct peer_conn *pc, *next;

	for (pc = tr->conns; pc; pc = next) {
		uv_os_fd_t fd;
		ssize_t n;
		char b;

		next = pc->next;
		if (pc->state != PC_WAIT_BIND || uv_fileno((uv_handle_t *)&pc->tcp, &fd))
			continue;
		n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			log_debug("TCP peer connection %u: the peer left before ConnectionBind", pc->id);
			pc_close(pc);
		}
	}
}

int tcp_relayed_has_peer(struct tcp_relayed *tr, const struct sockaddr *peer)
{
	reap_gone(tr);
	for (struct peer_conn *pc = tr->conns; pc; pc = pc->next)
		if (netaddr_equal((struct sockaddr *)&pc->peer, peer))
			return 1;
	return 0;
}

int tcp_relayed_connect(struct tcp_relayed *tr, const struct sockaddr *peer, void *udata)
{
	struct peer_conn *pc;
	int fd, one = 1, err;

	reap_gone(tr);
	if (tr->nconns >= tr->env->max_peers) {
		tr->env->st->limits[LIMIT_MAX_CONNECTS]++;
		return -ENOSPC;
	}
	/* From the relayed address itself (§5.2): same IP and port as the
	 * listener, which SO_REUSEPORT on both allows. */
	fd = socket(peer->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&tr->addr, netaddr_len((struct sockaddr *)&tr->addr))) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!(pc = pc_new(tr))) {
		close(fd);
		return -ENOMEM;
	}
	memcpy(&pc->peer, peer, netaddr_len(peer));
	pc->state = PC_CONNECTING;
	if ((err = uv_tcp_open(&pc->tcp, fd))) {
		close(fd);
		pc_close(pc);
		return err;
	}
	pc->creq.data = pc;
	if ((err = uv_tcp_connect(&pc->creq, &pc->tcp, peer, on_connected))) {
		pc_close(pc);
		return err;
	}
	pc->udata = udata; /* from here on, reported exactly once */
	uv_timer_start(&pc->timer, on_connect_timeout, BIND_TIMEOUT_MS, 0);
	return 0;
}

/* ---- peers connecting in ---- */

static void on_peer(uv_stream_t *l, int status)
{
	struct tcp_relayed *tr = l->data;
	const struct tcp_relayed_cbs *cb = tr->env->cb;
	struct peer_conn *pc;
	int len = sizeof pc->peer;

	if (status < 0)
		return;
	if (!(pc = pc_new(tr))) {
		tr->env->st->limits[LIMIT_NO_MEMORY]++;
		accept_refuse(l, &tr->refusing);
		return;
	}
	if (uv_accept(l, (uv_stream_t *)&pc->tcp) || tr->nconns > tr->env->max_peers) {
		if (tr->nconns > tr->env->max_peers)
			tr->env->st->limits[LIMIT_MAX_CONNECTS]++;
		pc_close(pc);
		return;
	}
	uv_tcp_getpeername(&pc->tcp, (struct sockaddr *)&pc->peer, &len);
	if (cb->peer_in(tr->env->arg, tr->tag, pc->id, (struct sockaddr *)&pc->peer)) {
		pc_close(pc);
		return;
	}
	uv_tcp_nodelay(&pc->tcp, 1);
	pc->state = PC_WAIT_BIND;
	uv_timer_start(&pc->timer, on_bind_timeout, BIND_TIMEOUT_MS, 0);
}

/* ---- the relayed socket itself ---- */

int tcp_relayed_open(struct tcp_relayed **out, struct tcp_relayed_env *env, int fam, void *tag,
		     int *port)
{
	struct tcp_relayed *tr = calloc(1, sizeof *tr);
	int fd, len, err;

	*out = NULL;
	if (!tr)
		return -ENOMEM;
	if ((fd = ports_listen_tcp(env->ports, fam, port)) < 0) {
		free(tr);
		return fd;
	}
	tr->env = env;
	tr->tag = tag;
	tr->port = *port;
	uv_tcp_init(env->loop, &tr->listener);
	tr->listener.data = tr;
	tr->next = env->all;
	if (env->all)
		env->all->prev = tr;
	env->all = tr;
	if ((err = uv_tcp_open(&tr->listener, fd))) {
		close(fd);
		tcp_relayed_close(tr);
		return err;
	}
	len = sizeof tr->addr;
	uv_tcp_getsockname(&tr->listener, (struct sockaddr *)&tr->addr, &len);
	/* The socket already listens (the port check needed it); libuv's
	 * uv_listen on it only starts watching. */
	if ((err = uv_listen((uv_stream_t *)&tr->listener, 16, on_peer))) {
		tcp_relayed_close(tr);
		return err;
	}
	*out = tr;
	return 0;
}

static void tr_closed(uv_handle_t *h) { free(h->data); }

void tcp_relayed_close(struct tcp_relayed *tr)
{
	while (tr->conns)
		pc_close(tr->conns); /* unlinks itself */
	if (tr->prev)
		tr->prev->next = tr->next;
	else
		tr->env->all = tr->next;
	if (tr->next)
		tr->next->prev = tr->prev;
	accept_forget(&tr->refusing);
	uv_close((uv_handle_t *)&tr->listener, tr_closed);
	ports_release_tcp(tr->port); /* the socket is closed now, not at the callback */
}
