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

/* ---- UDP ----
 * Read with a poll handle and recvmmsg, not libuv's uv_udp_t: libuv reads
 * on until a call finds the socket empty, one system call per wake-up
 * that returns nothing (a third of the listener's calls when each wake
 * brings a request or two). A batch that comes back short has emptied
 * the socket; the poll is level-triggered, so anything later wakes it. */

static void udp_readable(uv_poll_t *p, int status, int events)
{
	struct listener *l = p->data;
	struct request req = {.tp = TP_UDP, .l = l};
	int n = LISTENER_BATCH;

	(void)events;
	if (status < 0) {
		/* libuv stops a poll on POLLERR: take the socket's error (a
		 * read would have returned it, and been ignored) and go on. */
		int err;
		socklen_t len = sizeof err;
		getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		uv_poll_start(p, UV_READABLE, udp_readable);
	}
	req.local = l->wildcard ? NULL : (const struct sockaddr *)&l->addr;
	for (int round = 0; round < LISTENER_ROUNDS && n == LISTENER_BATCH && !l->closing; round++) {
		for (int i = 0; i < LISTENER_BATCH; i++)
			l->msg[i].msg_hdr.msg_namelen = sizeof l->from[i];
		n = recvmmsg(l->fd, l->msg, LISTENER_BATCH, 0, NULL);
		/* Errors (EAGAIN, or a pending ICMP error surfacing): the
		 * next wake-up reads again. */
		for (int i = 0; i < n && !l->closing; i++) {
			/* cut short, or empty: neither is a message */
			if (!l->msg[i].msg_len || (l->msg[i].msg_hdr.msg_flags & MSG_TRUNC))
				continue;
			req.src = (const struct sockaddr *)&l->from[i];
			req.buf = l->iov[i].iov_base;
			req.len = l->msg[i].msg_len;
			l->cb.on_msg(l->cb.arg, &req);
		}
	}
}

static int udp_start(uv_loop_t *loop, struct listener *l, int fd)
{
	size_t chunk = l->scratch_len / LISTENER_BATCH;
	int err;

	for (int i = 0; i < LISTENER_BATCH; i++) {
		l->iov[i].iov_base = l->scratch + (size_t)i * chunk;
		l->iov[i].iov_len = chunk;
		l->msg[i].msg_hdr = (struct msghdr){.msg_name = &l->from[i], .msg_iov = &l->iov[i],
						    .msg_iovlen = 1};
	}
	if ((err = uv_poll_init_socket(loop, &l->h.udp, fd))) {
		close(fd);
		return err;
	}
	l->open = 1;
	l->fd = fd;
	l->h.udp.data = l;
	return uv_poll_start(&l->h.udp, UV_READABLE, udp_readable);
}

int listener_send_udp(struct listener *l, const struct sockaddr *to, const uint8_t *data,
		      size_t len)
{
	if (!l->open || l->closing)
		return -EBADF;
	/* Batched till the end of the loop iteration; a full socket buffer
	 * drops the datagram then, as the network would. */
	udp_batch_queue(l->out, l->fd, to, data, len, NULL);
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
		*what = "receive";
		return udp_start(loop, l, fd);
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
			accept_forget(&l->refusing);
		uv_close(&l->h.handle, NULL);
		if (l->tp == TP_UDP)
			close(l->fd); /* a poll handle, once stopped, lets it go */
	}
	if (l->tp != TP_UDP && l->open && !uv_is_closing((uv_handle_t *)&l->sweep))
		uv_close((uv_handle_t *)&l->sweep, NULL);
}
