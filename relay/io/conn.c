/* conn.c: accepted streams, bounded (R18). Whole frames are handed up
 * straight from the read buffer; only a frame split across reads is copied
 * aside. Answers are written from the caller's buffer (stream.c copies only
 * what a full socket refuses), and what waits to be written is capped: over
 * out_cap the connection is not read until it drains, frames that are not
 * a pipe's are dropped, and a connection full for stall_ms is closed. A
 * connection is freed only from its close callback, so no caller ever sees
 * it vanish in the middle of a read or a write. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "io/conn.h"
#include "io/stream.h"
#include "stun/msturn.h"
#include "stun/stun.h"
#include "util/log.h"
#include "util/refuse.h"

int conn_closing(const struct conn *c) { return uv_is_closing((const uv_handle_t *)&c->tcp); }

static uint64_t now_of(const struct conn *c) { return uv_now(c->tcp.loop); }

static void conn_free(struct conn *c)
{
	struct listener *l = c->l;

	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->ssl)
		SSL_free(c->ssl); /* frees both BIOs */
	free(c->rbuf);
	free(c);
	l->freed++; /* the sweep gives the memory back to the system */
}

/* Never handed up: its end tells nobody. */
static void conn_dropped(uv_handle_t *h) { conn_free(h->data); }

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct listener *l = c->l;

	if (c->pipe)
		c->pipe->closed(c->pipe_arg);
	if (!l->closing)
		l->cb.on_conn_closed(l->cb.arg, c);
	conn_free(c);
}

/* The connection's --max-conns slots are free once its socket is:
 * uv_close() closes it at once, and a client that connects before the
 * close callback must not be refused for it. */
static void conn_unadmit(struct conn *c)
{
	if (c->admitted)
		admit_give(c->l->admit, (struct sockaddr *)&c->peer);
	c->admitted = 0;
}

void conn_close(struct conn *c)
{
	struct listener *l = c->l;

	if (conn_closing(c))
		return;
	conn_unadmit(c);
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
	if (!l->closing && l->cb.on_conn_closing)
		l->cb.on_conn_closing(l->cb.arg, c);
}

/* ---- writing ---- */

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);
static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);

/* The queue drained below out_cap: read again. */
static void drained(uv_write_t *req, int status)
{
	struct conn *c = req->data;

	if (status == UV_ECANCELED || conn_closing(c))
		return;
	c->full_since = 0;
	if (!c->pipe && uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb))
		conn_close(c);
}

/* Over out_cap: stop reading this client until what it was sent has gone.
 * A pipe paces itself (tcprelayed.c) and is left alone. */
static void check_full(struct conn *c)
{
	if (c->pipe || c->full_since || conn_queued(c) <= c->l->lim->out_cap)
		return;
	c->full_since = now_of(c);
	c->fence.data = c;
	if (uv_read_stop((uv_stream_t *)&c->tcp) ||
	    stream_fence((uv_stream_t *)&c->tcp, &c->fence, drained))
		conn_close(c);
}

static int write_raw(struct conn *c, const uint8_t *data, size_t len)
{
	int err = stream_write((uv_stream_t *)&c->tcp, data, len);

	if (err)
		conn_close(c);
	return err;
}

/* Move whatever TLS produced (records, alerts) to the socket. */
static int tls_flush(struct conn *c)
{
	uint8_t buf[4096];
	int n, err = 0;

	while (!err && (n = BIO_read(c->wbio, buf, sizeof buf)) > 0)
		err = write_raw(c, buf, (size_t)n);
	return err;
}

int conn_send(struct conn *c, const uint8_t *data, size_t len)
{
	int err;

	if (conn_closing(c))
		return -EPIPE;
	if (c->full_since && !c->pipe) { /* the client is not reading: as a full link would */
		c->l->st->drops[DROP_SEND_FAILED]++;
		return -ENOBUFS;
	}
	if (!c->ssl)
		err = write_raw(c, data, len);
	else if (SSL_write(c->ssl, data, (int)len) <= 0) {
		conn_close(c);
		err = -EPIPE;
	} else
		err = tls_flush(c);
	if (!err)
		check_full(c);
	return err;
}

/* ---- reading ---- */

/* Length of the frame at the head of the buffer: 0 needs more bytes, -1 is
 * garbage that ends the connection. The first frame tells the framing. */
static ssize_t frame_len(struct conn *c, const uint8_t *p, size_t len)
{
	size_t n;

	if (c->l->frame)
		return c->l->frame(p, len);
	if (len < 4)
		return 0;
	if (c->framing != CONN_FRAMING_IETF) { /* [MS-TURN] 2.1.4 */
		if ((n = msturn_frame_len(p, len))) {
			c->framing = CONN_FRAMING_MS;
			return (ssize_t)n;
		}
		if (c->framing == CONN_FRAMING_MS)
			return -1;
	}
	if ((p[0] & 0xc0) == 0x40) { /* ChannelData, padded to 4 on streams */
		n = turn_chdata_frame_len(p, len, 1);
		c->framing = CONN_FRAMING_IETF;
		return n ? (ssize_t)n : -1;
	}
	if (len < 8)
		return 0;
	n = stun_peek_len(p, len);
	c->framing = CONN_FRAMING_IETF;
	return n ? (ssize_t)n : -1;
}

static void deliver(struct conn *c, const uint8_t *p, size_t n)
{
	struct request req;

	req.tp = c->l->tp;
	req.l = c->l;
	req.conn = c;
	req.src = (struct sockaddr *)&c->peer;
	req.local = (struct sockaddr *)&c->local;
	req.buf = p;
	req.len = n;
	c->l->cb.on_msg(c->l->cb.arg, &req);
}

static int stash(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->rlen + n > c->rcap) {
		size_t cap = c->rlen + n < 2048 ? 2048 : CONN_FRAME_MAX;
		uint8_t *b = realloc(c->rbuf, cap);
		if (!b)
			return -1;
		c->rbuf = b;
		c->rcap = cap;
	}
	if (!c->rlen)
		c->frame_since = now_of(c);
	memcpy(c->rbuf + c->rlen, p, n);
	c->rlen += n;
	return 0;
}

static void malformed(struct conn *c)
{
	c->l->st->drops[DROP_MALFORMED]++;
	conn_close(c);
}

/* Bytes as they came: first complete the frame waiting aside, then hand up
 * every whole frame in place, then put the partial tail aside. */
static void feed(struct conn *c, const uint8_t *p, size_t n)
{
	while (c->rlen && !conn_closing(c)) {
		ssize_t f = frame_len(c, c->rbuf, c->rlen);
		size_t take;

		if (f < 0 || f > CONN_FRAME_MAX)
			return malformed(c);
		if (f > 0 && (size_t)f == c->rlen) {
			c->rlen = 0;
			c->frame_since = 0;
			deliver(c, c->rbuf, (size_t)f);
			break;
		}
		if (!n)
			return;
		/* 8: enough to know a STUN length; another framing may want all */
		take = f ? (size_t)f - c->rlen : c->rlen < 8 ? 8 - c->rlen : n;
		if (take > n)
			take = n;
		if (stash(c, p, take))
			return malformed(c);
		p += take;
		n -= take;
	}
	while (n && !conn_closing(c)) {
		ssize_t f;

		if (c->pipe) { /* piped by ConnectionBind: the rest is data */
			c->pipe->data(c->pipe_arg, p, n);
			return;
		}
		f = frame_len(c, p, n);
		if (f < 0 || f > CONN_FRAME_MAX)
			return malformed(c);
		if (f == 0 || (size_t)f > n) {
			if (stash(c, p, n))
				malformed(c);
			return;
		}
		deliver(c, p, (size_t)f);
		p += f;
		n -= (size_t)f;
	}
}

/* Ciphertext and plain bytes alike are read into the worker's scratch;
 * frames are handed up from there (on_msg must not write the scratch). */
static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;

	buf->base = (char *)c->l->scratch;
	buf->len = c->l->scratch_len;
}

static void tls_read(struct conn *c, const uint8_t *data, size_t n)
{
	uint8_t *plain = c->l->scratch; /* the ciphertext is in the BIO by then */
	int r;

	if (BIO_write(c->rbio, data, (int)n) != (int)n) {
		conn_close(c);
		return;
	}
	for (;;) {
		r = SSL_read(c->ssl, plain, (int)c->l->scratch_len);
		if (r <= 0)
			break;
		feed(c, plain, (size_t)r);
		if (conn_closing(c))
			return;
	}
	r = SSL_get_error(c->ssl, r);
	if (tls_flush(c)) /* handshake records */
		return;
	if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE) {
		if (!SSL_is_init_finished(c->ssl)) { /* e.g. no or a wrong client certificate */
			char from[NETADDR_STRLEN];
			long v = SSL_get_verify_result(c->ssl);
			c->l->st->tls_failed++;
			log_ratelimited(LOG_INFO, "TLS handshake from %s failed: %s",
					netaddr_str((struct sockaddr *)&c->peer, from, sizeof from),
					v != X509_V_OK ? X509_verify_cert_error_string(v)
						       : "no certificate or a protocol error");
		} else {
			log_debug("TLS connection ended: %d", r);
		}
		conn_close(c);
	}
}

/* The first bytes of a stream: [MS-TURN]'s pseudo-TLS ClientHello gets
 * its fixed answer, the TLS engine (if any) goes, and framed [MS-TURN]
 * follows in the clear; anything else goes on to TLS or the framing. At
 * most a ClientHello's worth is put aside while it cannot be told. */
static void sniff(struct conn *c, const uint8_t *p, size_t n)
{
	const uint8_t *b = p;
	size_t len = n;
	int r;

	if (c->rlen) {
		size_t take = MSTURN_PTLS_HELLO_LEN - c->rlen;
		if (take > n)
			take = n;
		if (stash(c, p, take))
			return malformed(c);
		p += take;
		n -= take;
		b = c->rbuf;
		len = c->rlen;
	}
	if ((r = msturn_ptls_is_hello(b, len)) < 0) {
		if (b == p && stash(c, p, n)) /* n < a ClientHello here */
			malformed(c);
		return;
	}
	c->sniffing = 0;
	if (r == 1) {
		uint8_t reply[MSTURN_PTLS_REPLY_LEN];
		if (b == p) {
			p += MSTURN_PTLS_HELLO_LEN;
			n -= MSTURN_PTLS_HELLO_LEN;
		}
		c->rlen = 0;
		c->frame_since = 0;
		if (c->ssl) {
			SSL_free(c->ssl);
			c->ssl = NULL;
			c->rbio = c->wbio = NULL;
		}
		c->framing = CONN_FRAMING_MS;
		msturn_ptls_reply(reply);
		if (!write_raw(c, reply, sizeof reply))
			feed(c, p, n);
		return;
	}
	if (c->ssl) { /* genuine TLS: what was put aside goes first */
		if (c->rlen && BIO_write(c->rbio, c->rbuf, (int)c->rlen) != (int)c->rlen) {
			conn_close(c);
			return;
		}
		c->rlen = 0;
		c->frame_since = 0;
		tls_read(c, p, n);
	} else {
		feed(c, p, n); /* the bytes aside begin the first frame */
	}
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = st->data;

	if (n == UV_EOF && c->pipe) { /* a half-close: the pipe decides */
		c->pipe->eof(c->pipe_arg);
		return;
	}
	if (n < 0) {
		conn_close(c);
		return;
	}
	if (n == 0)
		return;
	c->last_rx = now_of(c);
	if (c->sniffing)
		sniff(c, (const uint8_t *)buf->base, (size_t)n);
	else if (c->ssl)
		tls_read(c, (const uint8_t *)buf->base, (size_t)n);
	else
		feed(c, (const uint8_t *)buf->base, (size_t)n);
}

/* ---- accepting, and the limits in time ---- */

void conn_accept(struct listener *l)
{
	struct conn *c = calloc(1, sizeof *c);
	int len, hit;

	if (!c) {
		l->st->limits[LIMIT_NO_MEMORY]++;
		accept_refuse((uv_stream_t *)&l->h.tcp, &l->refusing);
		return;
	}
	c->l = l;
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	uv_tcp_init(l->h.tcp.loop, &c->tcp);
	c->tcp.data = c;
	c->born = c->last_rx = now_of(c);
	if (uv_accept((uv_stream_t *)&l->h.tcp, (uv_stream_t *)&c->tcp))
		goto drop;
	len = sizeof c->peer;
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &len);
	len = sizeof c->local;
	uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&c->local, &len);
	if (admit_take(l->admit, (struct sockaddr *)&c->peer, &hit)) {
		char from[NETADDR_STRLEN];
		log_ratelimited(LOG_WARN, "connection from %s refused: %s reached",
				netaddr_str((struct sockaddr *)&c->peer, from, sizeof from),
				hit == LIMIT_MAX_CONNS ? "--max-conns" : "--max-conns-per-source");
		goto drop;
	}
	c->admitted = 1;
	c->sniffing = !l->frame;
	uv_tcp_nodelay(&c->tcp, 1); /* R15a: Nagle off on TCP 443 */
	if (l->tls) {
		c->ssl = SSL_new(l->tls);
		c->rbio = BIO_new(BIO_s_mem());
		c->wbio = BIO_new(BIO_s_mem());
		if (!c->ssl || !c->rbio || !c->wbio) {
			SSL_free(c->ssl);
			c->ssl = NULL;
			BIO_free(c->rbio);
			BIO_free(c->wbio);
			goto drop;
		}
		SSL_set_bio(c->ssl, c->rbio, c->wbio);
		SSL_set_accept_state(c->ssl);
	}
	if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb))
		goto drop;
	return;
drop:
	conn_unadmit(c);
	uv_close((uv_handle_t *)&c->tcp, conn_dropped);
}

void conn_hold(struct conn *c) { c->held = 1; }

/* Which time limit has c outlived, if any (LIMITS: none). */
static int expired(const struct conn *c, const struct conn_limits *lim, uint64_t now)
{
	if (c->ssl && !SSL_is_init_finished(c->ssl) && now - c->born >= lim->handshake_ms)
		return LIMIT_HANDSHAKE;
	if (c->full_since && now - c->full_since >= lim->stall_ms)
		return LIMIT_STALL;
	if (c->rlen && now - c->frame_since >= lim->frame_ms)
		return LIMIT_FRAME;
	if (!c->held && !c->pipe && !c->full_since && now - c->last_rx >= lim->idle_ms)
		return LIMIT_IDLE;
	return LIMITS;
}

void conn_sweep(struct listener *l, uint64_t now)
{
	static const char *const what[LIMITS] = {
		[LIMIT_HANDSHAKE] = "--tls-handshake-timeout", [LIMIT_STALL] = "--conn-stall-timeout",
		[LIMIT_FRAME] = "--frame-timeout", [LIMIT_IDLE] = "--idle-timeout",
	};

	for (struct conn *c = l->conns; c; c = c->next) {
		int hit;
		char from[NETADDR_STRLEN];

		if (conn_closing(c) || (hit = expired(c, l->lim, now)) == LIMITS)
			continue;
		l->st->limits[hit]++;
		log_ratelimited(LOG_INFO, "connection from %s closed: %s",
				netaddr_str((struct sockaddr *)&c->peer, from, sizeof from), what[hit]);
		conn_close(c);
	}
	/* Connections closed since the last sweep freed their buffers, TLS
	 * state and queues: hand that back to the system, not only to the
	 * allocator, or a wave of them leaves its high-water mark for good. */
	if (l->freed) {
		l->freed = 0;
		malloc_trim(0);
	}
}

/* ---- pipes (RFC 6062 data connections) ---- */

void conn_set_pipe(struct conn *c, const struct conn_pipe *p, void *arg)
{
	c->pipe = p;
	c->pipe_arg = arg;
	if (!p && !conn_closing(c))
		uv_read_stop((uv_stream_t *)&c->tcp);
}

int conn_pause(struct conn *c)
{
	return conn_closing(c) ? -EPIPE : uv_read_stop((uv_stream_t *)&c->tcp);
}

int conn_resume(struct conn *c)
{
	return conn_closing(c) ? -EPIPE : uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

size_t conn_queued(struct conn *c) { return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp); }

int conn_fence(struct conn *c, uv_write_t *req, uv_write_cb cb)
{
	return conn_closing(c) ? -EPIPE : stream_fence((uv_stream_t *)&c->tcp, req, cb);
}

int conn_shutdown(struct conn *c, uv_shutdown_t *req, uv_shutdown_cb cb)
{
	int err;

	if (conn_closing(c))
		return -EPIPE;
	if (c->ssl) { /* close_notify first, behind the queued records */
		SSL_shutdown(c->ssl);
		if ((err = tls_flush(c)))
			return err;
	}
	return uv_shutdown(req, (uv_stream_t *)&c->tcp, cb);
}
