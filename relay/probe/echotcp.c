/* echotcp.c: `edgeprobe echo --tcp ADDR:PORT`: a TCP echo peer, the far
 * end of RFC 6062 tests. Every connection gets back what it sends. One
 * poll(2) loop serves up to ECHO_TCP_CONNS connections; each holds at most
 * one buffer of bytes not yet written back, and is not read while it has
 * some, so a sender faster than its reader meets TCP's own back-pressure
 * rather than our memory. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "echo.h"
#include "out.h"
#include "probe.h"

#define ECHO_TCP_CONNS 64
#define ECHO_TCP_BUF 16384

struct echo_conn {
	int fd;          /* -1: free slot */
	size_t len, off; /* buf[off..len) still to write back */
	unsigned char buf[ECHO_TCP_BUF];
};

static int listen_on(const struct sockaddr *addr, char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char a[NETADDR_STRLEN];

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, addr, netaddr_len(addr)) || listen(fd, 16)) {
		snprintf(err, errlen, "listen on %s: %s", netaddr_str(addr, a, sizeof a),
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void conn_drop(struct echo_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = c->off = 0;
}

/* Read when nothing is pending, write back what is: -1 ends the connection
 * (closed by the peer once all it sent went back, or an error). */
static int conn_pump(struct echo_conn *c, short revents, long long *echoed)
{
	ssize_t n;

	if (c->off < c->len) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return 0;
		n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->off += (size_t)n;
		*echoed += n;
		if (c->off == c->len)
			c->off = c->len = 0;
		return 0;
	}
	if (!(revents & (POLLIN | POLLERR | POLLHUP)))
		return 0;
	n = recv(c->fd, c->buf, sizeof c->buf, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	c->len = (size_t)n;
	return 0;
}

int probe_echo_tcp_serve(const struct sockaddr *addr, double end, volatile sig_atomic_t *stop,
			 struct out *o, char *err, size_t errlen)
{
	struct pollfd p[1 + ECHO_TCP_CONNS];
	struct echo_conn *c = calloc(ECHO_TCP_CONNS, sizeof *c);
	long long echoed = 0, accepted = 0;
	int lfd, nopen = 0;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((lfd = listen_on(addr, err, errlen)) < 0) {
		free(c);
		return -1;
	}
	for (int i = 0; i < ECHO_TCP_CONNS; i++)
		c[i].fd = -1;
	while (!*stop && probe_now_ms() < end) {
		/* p[0] the listener, p[1 + i] connection i (fd -1: ignored). */
		p[0] = (struct pollfd){lfd, nopen < ECHO_TCP_CONNS ? POLLIN : 0, 0};
		for (int i = 0; i < ECHO_TCP_CONNS; i++)
			p[1 + i] = (struct pollfd){c[i].fd, c[i].off < c[i].len ? POLLOUT : POLLIN, 0};
		if (poll(p, 1 + ECHO_TCP_CONNS, 100) <= 0)
			continue;
		for (int i = 0; i < ECHO_TCP_CONNS; i++)
			if (c[i].fd >= 0 && p[1 + i].revents && conn_pump(&c[i], p[1 + i].revents, &echoed)) {
				conn_drop(&c[i]);
				nopen--;
			}
		if (p[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			int i;

			for (i = 0; fd >= 0 && c[i].fd >= 0; i++)
				;
			if (fd >= 0) { /* a slot is free: the listener is polled only then */
				c[i].fd = fd;
				nopen++;
				accepted++;
			}
		}
	}
	for (int i = 0; i < ECHO_TCP_CONNS; i++)
		if (c[i].fd >= 0)
			close(c[i].fd);
	close(lfd);
	free(c);
	probe_out_int(o, "connections", accepted);
	probe_out_int(o, "echoed", echoed);
	return 0;
}
