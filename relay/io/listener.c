/* listener.c: UDP, TCP and TLS listeners. A datagram is one message; a
 * stream carries STUN messages and ChannelData frames back to back, so
 * each connection reassembles frames in its own buffer. Answers are sent
 * straight from the worker's buffers; only a full TCP socket makes a copy. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "stream.h"
#include "tcprelay.h"

static int is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == INADDR_ANY;
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* Demultiplex by the first byte (RFC 8656 §12): 0b00 STUN, 0b01 ChannelData. */
static void dispatch(struct server *s, const struct request *req)
{
	if ((req->buf[0] & 0xc0) == 0)
		server_on_stun(s, req);
	else if ((req->buf[0] & 0xc0) == 0x40)
		server_on_chdata(s, req);
	else
		s->st.drops[DROP_MALFORMED]++;
}

/* ---- UDP ---- */

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct listener *l = h->data;
	buf->base = (char *)l->srv->ibuf;
	buf->len = sizeof l->srv->ibuf;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
		     const struct sockaddr *src, unsigned flags)
{
	struct listener *l = h->data;
	struct request req;

	if (n <= 0 || !src || (flags & UV_UDP_PARTIAL))
		return;
	req.tp = TP_UDP;
	req.l = l;
	req.conn = NULL;
	req.src = src;
	req.local = l->wildcard ? NULL : (const struct sockaddr *)&l->addr;
	req.buf = (const uint8_t *)buf->base;
	req.len = (size_t)n;
	dispatch(l->srv, &req);
}

int listener_send_udp(struct listener *l, const struct sockaddr *to, const uint8_t *data,
		      size_t len)
{
	uv_os_fd_t fd;

	if (uv_fileno(&l->h.handle, &fd))
		return UV_EBADF;
	/* Batched till the end of the loop iteration; a full socket buffer
	 * drops the datagram then, as the network would. */
	server_udp_send(l->srv, fd, to, data, len, NULL);
	return 0;
}

/* ---- streams ---- */

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (c->prev)
		c->prev->next = c->next;
	else
		c->l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->ssl)
		SSL_free(c->ssl); /* frees both BIOs */
	free(c);
}

void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->pipe) {
		struct peer_conn *pc = c->pipe;
		c->pipe = NULL;
		tcprelay_client_closed(pc);
	}
	server_on_conn_closed(c->l->srv, c, (struct sockaddr *)&c->peer, c->l);
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void conn_write_raw(struct conn *c, const uint8_t *data, size_t len)
{
	if (!c->closing && stream_write((uv_stream_t *)&c->tcp, data, len))
		conn_close(c);
}

/* Move whatever TLS produced to the socket. */
static void tls_flush(struct conn *c)
{
	uint8_t buf[4096];
	int n;

	while ((n = BIO_read(c->wbio, buf, sizeof buf)) > 0)
		conn_write_raw(c, buf, (size_t)n);
}

void conn_send(struct conn *c, const uint8_t *data, size_t len)
{
	if (c->closing)
		return;
	if (!c->ssl) {
		conn_write_raw(c, data, len);
		return;
	}
	if (SSL_write(c->ssl, data, (int)len) <= 0) {
		conn_close(c);
		return;
	}
	tls_flush(c);
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

/* Handle every whole frame in the buffer; keep the partial tail. */
static void conn_frames(struct conn *c)
{
	struct server *s = c->l->srv;
	size_t off = 0;

	while (!c->closing) {
		ssize_t f;
		struct request req;

		if (c->pipe) { /* bound by ConnectionBind: the rest is data */
			if (c->rlen > off)
				tcprelay_from_client(c->pipe, c->rbuf + off, c->rlen - off);
			off = c->rlen;
			break;
		}
		f = frame_len(c->rbuf + off, c->rlen - off);
		if (f < 0 || (size_t)f > sizeof c->rbuf) {
			s->st.drops[DROP_MALFORMED]++;
			conn_close(c);
			return;
		}
		if (f == 0 || (size_t)f > c->rlen - off)
			break;
		req.tp = c->l->tp;
		req.l = c->l;
		req.conn = c;
		req.src = (struct sockaddr *)&c->peer;
		req.local = (struct sockaddr *)&c->local;
		req.buf = c->rbuf + off;
		req.len = (size_t)f;
		dispatch(s, &req);
		off += (size_t)f;
	}
	if (c->closing)
		return;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = h->data;

	if (c->ssl) { /* ciphertext goes to the worker's scratch, then the BIO */
		buf->base = (char *)c->l->srv->ibuf;
		buf->len = sizeof c->l->srv->ibuf;
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
		conn_frames(c);
		if (c->closing)
			return;
	}
	r = SSL_get_error(c->ssl, r);
	tls_flush(c); /* handshake records */
	if (r != SSL_ERROR_WANT_READ && r != SSL_ERROR_WANT_WRITE) {
		log_debug("TLS connection ended: %d", r);
		conn_close(c);
	}
}

static void conn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = st->data;

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
	conn_frames(c);
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
		c->closing = 1;
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
		return;
	}
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
			BIO_free(c->rbio);
			BIO_free(c->wbio);
			c->closing = 1;
			uv_close((uv_handle_t *)&c->tcp, conn_closed);
			return;
		}
		SSL_set_bio(c->ssl, c->rbio, c->wbio);
		SSL_set_accept_state(c->ssl);
	}
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

/* ---- binding ---- */

static int make_socket(const struct listen_spec *spec, int reuseport)
{
	const struct sockaddr *sa = (const struct sockaddr *)&spec->addr;
	int one = 1;
	int fd = socket(sa->sa_family,
			(spec->tp == TP_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);

	if (fd < 0)
		return -errno;
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (spec->tp != TP_UDP)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(fd, sa, netaddr_len(sa))) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int listener_probe(const struct listen_spec *spec, const char **what)
{
	int fd;

	*what = "bind";
	fd = make_socket(spec, 0);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int listener_start(uv_loop_t *loop, struct listener *l, const char **what)
{
	struct listen_spec spec = {l->addr, l->tp};
	int fd, err;

	l->wildcard = is_wildcard((struct sockaddr *)&l->addr);
	*what = "bind";
	if ((fd = make_socket(&spec, 1)) < 0)
		return fd;
	if (l->tp == TP_UDP) {
		/* recvmmsg: under load a listener reads many datagrams per
		 * system call (libuv falls back to recvmsg without it). */
		uv_udp_init_ex(loop, &l->h.udp, AF_UNSPEC | UV_UDP_RECVMMSG);
		l->open = 1;
		l->h.udp.data = l;
		if ((err = uv_udp_open(&l->h.udp, fd))) {
			close(fd);
			return err;
		}
		*what = "receive";
		return uv_udp_recv_start(&l->h.udp, udp_alloc, udp_recv);
	}
	uv_tcp_init(loop, &l->h.tcp);
	l->open = 1;
	l->h.tcp.data = l;
	if ((err = uv_tcp_open(&l->h.tcp, fd))) {
		close(fd);
		return err;
	}
	*what = "listen";
	return uv_listen((uv_stream_t *)&l->h.tcp, 511, tcp_accept);
}

void listener_close(struct listener *l)
{
	server_udp_flush(l->srv); /* what is queued on this socket goes first */
	for (struct conn *c = l->conns; c; c = c->next)
		conn_close(c);
	if (l->open && !uv_is_closing(&l->h.handle))
		uv_close(&l->h.handle, NULL);
}
