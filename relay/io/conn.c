/* conn.c: accepted streams. Frames are reassembled in the connection's
 * own buffer and handed up whole; answers are written straight from the
 * caller's buffer (stream.c copies only what a full socket refuses). A
 * connection is freed only from its close callback, so no caller ever
 * sees it vanish in the middle of a read or a write. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/conn.h"
#include "io/stream.h"
#include "stun/stun.h"
#include "util/log.h"

int conn_closing(const struct conn *c) { return uv_is_closing((const uv_handle_t *)&c->tcp); }

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
	free(c);
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

void conn_close(struct conn *c)
{
	if (!conn_closing(c))
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
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
	if (conn_closing(c))
		return -EPIPE;
	if (!c->ssl)
		return write_raw(c, data, len);
	if (SSL_write(c->ssl, data, (int)len) <= 0) {
		conn_close(c);
		return -EPIPE;
	}
	return tls_flush(c);
}

/* Length of the frame at the head of the buffer: 0 needs more bytes, -1 is
 * garbage that ends the connection. */
static ssize_t frame_len(const uint8_t *p, size_t len)
{
	size_t n;

	if (len < 4)
		return 0;
	if ((p[0] & 0xc0) == 0x40) { /* ChannelData, padded to 4 on streams */
		n = turn_chdata_frame_len(p, len, 1);
		return n ? (ssize_t)n : -1;
	}
	if (len < 8)
		return 0;
	n = stun_peek_len(p, len);
	return n ? (ssize_t)n : -1;
}

/* Hand up every whole frame in the buffer; keep the partial tail. */
static void frames(struct conn *c)
{
	struct listener *l = c->l;
	size_t off = 0;

	while (!conn_closing(c)) {
		ssize_t f;
		struct request req;

		if (c->pipe) { /* piped by ConnectionBind: the rest is data */
			if (c->rlen > off)
				c->pipe->data(c->pipe_arg, c->rbuf + off, c->rlen - off);
			off = c->rlen;
			break;
		}
		f = frame_len(c->rbuf + off, c->rlen - off);
		if (f < 0 || (size_t)f > sizeof c->rbuf) {
			l->st->drops[DROP_MALFORMED]++;
			conn_close(c);
			return;
		}
		if (f == 0 || (size_t)f > c->rlen - off)
			break;
		req.tp = l->tp;
		req.l = l;
		req.conn = c;
		req.src = (struct sockaddr *)&c->peer;
		req.local = (struct sockaddr *)&c->local;
		req.buf = c->rbuf + off;
		req.len = (size_t)f;
		l->cb.on_msg(l->cb.arg, &req);
		off += (size_t)f;
	}
	if (conn_closing(c))
		return;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;

	if (c->ssl) { /* ciphertext goes to the worker's scratch, then the BIO */
		buf->base = (char *)c->l->scratch;
		buf->len = c->l->scratch_len;
	} else {
		buf->base = (char *)c->rbuf + c->rlen;
		buf->len = sizeof c->rbuf - c->rlen;
	}
}

static void tls_read(struct conn *c, const uint8_t *data, size_t n)
{
	int r;

	if (BIO_write(c->rbio, data, (int)n) != (int)n) {
		conn_close(c);
		return;
	}
	for (;;) {
		if (c->rlen == sizeof c->rbuf) { /* a frame larger than we take */
			conn_close(c);
			return;
		}
		r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(sizeof c->rbuf - c->rlen));
		if (r <= 0)
			break;
		c->rlen += (size_t)r;
		frames(c);
		if (conn_closing(c))
			return;
	}
	r = SSL_get_error(c->ssl, r);
	if (tls_flush(c)) /* handshake records */
		return;
	if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE) {
		log_debug("TLS connection ended: %d", r);
		conn_close(c);
	}
}

static void conn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
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
	if (c->ssl) {
		tls_read(c, (const uint8_t *)buf->base, (size_t)n);
		return;
	}
	c->rlen += (size_t)n;
	frames(c);
}

void conn_accept(struct listener *l)
{
	struct conn *c = calloc(1, sizeof *c);
	int len;

	if (!c)
		return;
	c->l = l;
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	uv_tcp_init(l->h.tcp.loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept((uv_stream_t *)&l->h.tcp, (uv_stream_t *)&c->tcp))
		goto drop;
	uv_tcp_nodelay(&c->tcp, 1); /* R15a: Nagle off on TCP 443 */
	len = sizeof c->peer;
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &len);
	len = sizeof c->local;
	uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&c->local, &len);
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
	if (uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read))
		goto drop;
	return;
drop:
	uv_close((uv_handle_t *)&c->tcp, conn_dropped);
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
	return conn_closing(c) ? -EPIPE
			       : uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
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
