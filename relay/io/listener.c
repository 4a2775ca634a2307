/* listener.c: UDP, TCP and TLS listening sockets. A datagram is one
 * message, handed up as it is; a TCP or TLS connection is accepted here
 * and read by conn.c. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "io/conn.h"
#include "io/listener.h"
#include "util/refuse.h"

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
	buf->base = (char *)l->scratch;
	buf->len = l->scratch_len;
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
	l->cb.on_msg(l->cb.arg, &req);
}

int listener_send_udp(struct listener *l, const struct sockaddr *to, const uint8_t *data,
		      size_t len)
{
	uv_os_fd_t fd;

	if (uv_fileno(&l->h.handle, &fd))
		return -EBADF;
	/* Batched till the end of the loop iteration; a full socket buffer
	 * drops the datagram then, as the network would. */
	udp_batch_queue(l->out, fd, to, data, len, NULL);
	return 0;
}

/* ---- TCP and TLS ---- */

static void tcp_accept(uv_stream_t *server, int status)
{
	if (status < 0)
		return;
	conn_accept(server->data);
}

/* Twice a second: the streams' timeouts are seconds long. */
#define SWEEP_MS 500

static void sweep(uv_timer_t *t)
{
	struct listener *l = t->data;
	conn_sweep(l, uv_now(t->loop));
}

/* ---- binding ---- */

static int make_socket(const struct sockaddr_storage *addr, enum transport tp, int reuseport)
{
	const struct sockaddr *sa = (const struct sockaddr *)addr;
	int one = 1;
	int fd = socket(sa->sa_family,
			(tp == TP_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (tp != TP_UDP)
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

int listener_probe(const struct sockaddr_storage *addr, enum transport tp)
{
	int fd = make_socket(addr, tp, 0);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int listener_start(uv_loop_t *loop, struct listener *l, const char **what)
{
	int fd, err;

	l->wildcard = is_wildcard((struct sockaddr *)&l->addr);
	*what = "bind";
	if ((fd = make_socket(&l->addr, l->tp, 1)) < 0)
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
	uv_timer_init(loop, &l->sweep);
	l->open = 1;
	l->h.tcp.data = l;
	if ((err = uv_tcp_open(&l->h.tcp, fd))) {
		close(fd);
		return err;
	}
	l->sweep.data = l;
	uv_timer_start(&l->sweep, sweep, SWEEP_MS, SWEEP_MS);
	uv_unref((uv_handle_t *)&l->sweep);
	*what = "listen";
	return uv_listen((uv_stream_t *)&l->h.tcp, 511, tcp_accept);
}

void listener_close(struct listener *l)
{
	l->closing = 1;
	udp_batch_flush(l->out); /* what is queued on this socket goes first */
	for (struct conn *c = l->conns; c; c = c->next)
		conn_close(c);
	if (l->open && !uv_is_closing(&l->h.handle)) {
		if (l->tp != TP_UDP)
			accept_forget((uv_stream_t *)&l->h.tcp);
		uv_close(&l->h.handle, NULL);
	}
	if (l->tp != TP_UDP && l->open && !uv_is_closing((uv_handle_t *)&l->sweep))
		uv_close((uv_handle_t *)&l->sweep, NULL);
}
