/* listener.c: UDP and TCP listeners. A datagram is one message; a stream
 * carries STUN messages and ChannelData frames back to back, so TCP
 * connections reassemble frames in a per-connection buffer. Answers are
 * written straight from a reused buffer: nothing is allocated per message
 * unless a TCP socket is full. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "listener.h"
#include "log.h"

#define CONN_BUF 16384

struct conn {
	uv_tcp_t tcp;
	struct conn *prev, *next;
	struct listener *l;
	struct sockaddr_storage peer, local;
	size_t rlen;
	uint8_t rbuf[CONN_BUF];
};

struct wreq {
	uv_write_t req;
	uint8_t data[];
};

static int is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == INADDR_ANY;
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* ---- UDP ---- */

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct listener *l = h->data;
	buf->base = (char *)l->rbuf;
	buf->len = sizeof l->rbuf;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
		     const struct sockaddr *src, unsigned flags)
{
	struct listener *l = h->data;
	struct request req;
	size_t out;

	if (n <= 0 || !src || (flags & UV_UDP_PARTIAL))
		return;
	req.tp = TP_UDP;
	req.src = src;
	req.local = l->wildcard ? NULL : (const struct sockaddr *)&l->addr;
	req.buf = (const uint8_t *)buf->base;
	req.len = (size_t)n;
	out = server_handle(l->srv, &req, l->wbuf, sizeof l->wbuf);
	if (out) {
		uv_buf_t b = uv_buf_init((char *)l->wbuf, (unsigned)out);
		/* A full socket buffer drops the answer; the client retransmits. */
		if (uv_udp_try_send(h, &b, 1, src) >= 0)
			l->srv->tx_msgs++;
	}
}

/* ---- TCP ---- */

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (c->prev)
		c->prev->next = c->next;
	else
		c->l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void conn_close(struct conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void write_done(uv_write_t *req, int status) { free(req->data); }

/* Try to write at once; queue a copy of whatever the socket did not take. */
static void conn_write(struct conn *c, const uint8_t *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	struct wreq *w;

	if (n == (int)len)
		return;
	if (n < 0 && n != UV_EAGAIN) {
		conn_close(c);
		return;
	}
	if (n < 0)
		n = 0;
	w = malloc(sizeof *w + len - (size_t)n);
	if (!w) {
		conn_close(c);
		return;
	}
	memcpy(w->data, data + n, len - (size_t)n);
	w->req.data = w;
	b = uv_buf_init((char *)w->data, (unsigned)(len - (size_t)n));
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_done)) {
		free(w);
		conn_close(c);
	}
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;
	buf->base = (char *)c->rbuf + c->rlen;
	buf->len = sizeof c->rbuf - c->rlen;
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

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	struct listener *l = c->l;
	size_t off = 0;

	if (n < 0) {
		conn_close(c);
		return;
	}
	c->rlen += (size_t)n;
	for (;;) {
		ssize_t f = frame_len(c->rbuf + off, c->rlen - off);
		if (f < 0 || (size_t)f > sizeof c->rbuf) {
			l->srv->rx_bad++;
			conn_close(c);
			return;
		}
		if (f == 0 || (size_t)f > c->rlen - off)
			break;
		if ((c->rbuf[off] & 0xc0) == 0) {
			struct request req = {TP_TCP, (struct sockaddr *)&c->peer,
					      (struct sockaddr *)&c->local, c->rbuf + off,
					      (size_t)f};
			size_t out = server_handle(l->srv, &req, l->wbuf, sizeof l->wbuf);
			if (out)
				conn_write(c, l->wbuf, out);
		}
		off += (size_t)f;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

static void tcp_accept(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	struct conn *c;
	int len;

	if (status < 0)
		return;
	c = calloc(1, sizeof *c);
	if (!c)
		return;
	c->l = l;
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	uv_tcp_init(server->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1); /* R15a: Nagle off on TCP 443 */
	len = sizeof c->peer;
	uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &len);
	len = sizeof c->local;
	uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&c->local, &len);
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

int listener_start(uv_loop_t *loop, struct listener *l, const char **what)
{
	const struct sockaddr *sa = (const struct sockaddr *)&l->addr;
	unsigned v6only = sa->sa_family == AF_INET6 ? UV_UDP_IPV6ONLY : 0;
	int err;

	l->wildcard = is_wildcard(sa);
	if (l->tp == TP_UDP) {
		*what = "bind";
		if ((err = uv_udp_init(loop, &l->h.udp)))
			return err;
		l->open = 1;
		l->h.udp.data = l;
		if ((err = uv_udp_bind(&l->h.udp, sa, v6only)))
			return err;
		*what = "receive";
		return uv_udp_recv_start(&l->h.udp, udp_alloc, udp_recv);
	}
	*what = "bind";
	if ((err = uv_tcp_init(loop, &l->h.tcp)))
		return err;
	l->open = 1;
	l->h.tcp.data = l;
	if ((err = uv_tcp_bind(&l->h.tcp, sa, v6only ? UV_TCP_IPV6ONLY : 0)))
		return err;
	*what = "listen";
	return uv_listen((uv_stream_t *)&l->h.tcp, 511, tcp_accept);
}

void listener_close(struct listener *l)
{
	for (struct conn *c = l->conns; c; c = c->next)
		conn_close(c);
	if (l->open && !uv_is_closing(&l->h.handle))
		uv_close(&l->h.handle, NULL);
}
