/* transport.c: edgeprobe's sockets: UDP or TCP, optionally bound to a
 * source address, with STUN transactions over either. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

double probe_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail(char *err, size_t errlen, const char *what, const char *arg)
{
	snprintf(err, errlen, "%s %s: %s", what, arg, strerror(errno));
	return -1;
}

int probe_open(struct probe_sock *ps, const struct probe_opts *o, char *err, size_t errlen)
{
	struct sockaddr_storage b;
	struct timeval tv = {o->timeout_ms / 1000, (o->timeout_ms % 1000) * 1000};
	const char *why;
	enum transport tp;
	socklen_t sl = sizeof ps->local;
	int one = 1;

	memset(ps, 0, offsetof(struct probe_sock, rbuf));
	ps->fd = -1;
	ps->tp = o->tp;
	if (netaddr_parse(o->target, &ps->server, &tp, 0, &why)) {
		snprintf(err, errlen, "bad target '%s': %s", o->target, why);
		return -1;
	}
	if (o->bind && netaddr_parse_ip(o->bind, &b) && netaddr_parse(o->bind, &b, &tp, 0, &why)) {
		snprintf(err, errlen, "bad --bind '%s': want an address or ADDR:PORT", o->bind);
		return -1;
	}
	if (o->bind && b.ss_family != ps->server.ss_family) {
		snprintf(err, errlen, "--bind %s is not of the target's address family", o->bind);
		return -1;
	}
	ps->fd = socket(ps->server.ss_family, o->tp == TP_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (ps->fd < 0)
		return fail(err, errlen, "socket", "");
	if (o->bind && bind(ps->fd, (struct sockaddr *)&b, netaddr_len((struct sockaddr *)&b)))
		return fail(err, errlen, "bind", o->bind);
	/* UDP stays unconnected so that an answer from an unexpected source
	 * is read and reported, not filtered out by the kernel. */
	if (o->tp != TP_UDP) {
		setsockopt(ps->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		setsockopt(ps->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* bounds connect() */
		if (connect(ps->fd, (struct sockaddr *)&ps->server,
			    netaddr_len((struct sockaddr *)&ps->server)))
			return fail(err, errlen, "connect", o->target);
	}
	getsockname(ps->fd, (struct sockaddr *)&ps->local, &sl);
	return 0;
}

/* An unconnected UDP socket reports 0.0.0.0 as its address; ask the
 * routing table which source it will use, with a throwaway connected
 * socket, and keep the port the real socket was given. */
static void udp_learn_local(struct probe_sock *ps)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int port, fd;

	sl = sizeof ps->local;
	getsockname(ps->fd, (struct sockaddr *)&ps->local, &sl);
	port = netaddr_port((struct sockaddr *)&ps->local);
	fd = socket(ps->server.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return;
	sl = sizeof ss;
	if (!connect(fd, (struct sockaddr *)&ps->server, netaddr_len((struct sockaddr *)&ps->server)) &&
	    !getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		int keep = 1;
		if (ss.ss_family == AF_INET)
			keep = ((struct sockaddr_in *)&ps->local)->sin_addr.s_addr != 0;
		else
			keep = !IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ps->local)->sin6_addr);
		if (!keep) {
			ps->local = ss;
			netaddr_set_port((struct sockaddr *)&ps->local, port);
		}
	}
	close(fd);
}

void probe_close(struct probe_sock *ps)
{
	if (ps->fd >= 0)
		close(ps->fd);
	ps->fd = -1;
}

/* Wait until readable or the deadline; 1 readable, 0 timed out. */
static int wait_readable(int fd, double deadline)
{
	double left = deadline - probe_now_ms();
	struct pollfd p = {fd, POLLIN, 0};

	if (left <= 0)
		return 0;
	return poll(&p, 1, (int)left + 1) > 0;
}

static int tid_matches(const struct stun_msg *m, const uint8_t *req)
{
	return !memcmp(m->tid, req + 8, STUN_TID_LEN);
}

static int udp_transact(struct probe_sock *ps, const uint8_t *req, size_t len,
			struct stun_msg *m, struct sockaddr_storage *from, int timeout_ms,
			char *err, size_t errlen)
{
	double end = probe_now_ms() + timeout_ms, rto = 250, next = 0;
	const struct sockaddr *to = (const struct sockaddr *)&ps->server;

	for (;;) {
		double now = probe_now_ms();
		socklen_t fl = sizeof *from;
		ssize_t n;

		if (now >= end) {
			snprintf(err, errlen, "no answer within %d ms", timeout_ms);
			return -1;
		}
		if (now >= next) {
			if (sendto(ps->fd, req, len, 0, to, netaddr_len(to)) < 0)
				return fail(err, errlen, "send to", "target");
			if (!netaddr_port((struct sockaddr *)&ps->local))
				udp_learn_local(ps);
			next = now + rto;
			rto *= 2;
		}
		if (!wait_readable(ps->fd, next < end ? next : end))
			continue;
		n = recvfrom(ps->fd, ps->rbuf, sizeof ps->rbuf, 0, (struct sockaddr *)from, &fl);
		if (n < 0) {
			if (errno == ECONNREFUSED) { /* ICMP port unreachable */
				snprintf(err, errlen, "port unreachable (ICMP)");
				return -1;
			}
			continue;
		}
		if (!stun_msg_parse(m, ps->rbuf, (size_t)n) && tid_matches(m, req))
			return 0;
	}
}

static int tcp_transact(struct probe_sock *ps, const uint8_t *req, size_t len,
			struct stun_msg *m, struct sockaddr_storage *from, int timeout_ms,
			char *err, size_t errlen)
{
	double end = probe_now_ms() + timeout_ms;
	socklen_t fl = sizeof *from;
	size_t off = 0;

	getpeername(ps->fd, (struct sockaddr *)from, &fl);
	while (off < len) {
		ssize_t n = send(ps->fd, req + off, len - off, MSG_NOSIGNAL);
		if (n < 0)
			return fail(err, errlen, "send", "");
		off += (size_t)n;
	}
	for (;;) {
		size_t need;
		ssize_t n;

		/* Skip whole frames that are not our answer (ChannelData, others). */
		while (ps->rlen >= 4) {
			size_t f = (ps->rbuf[0] & 0xc0) == 0x40
					   ? turn_chdata_frame_len(ps->rbuf, ps->rlen, 1)
					   : stun_peek_len(ps->rbuf, ps->rlen);
			if (!f) {
				if (ps->rlen < 8)
					break;
				snprintf(err, errlen, "garbage on the stream");
				return -1;
			}
			if (f > ps->rlen)
				break;
			need = f;
			if ((ps->rbuf[0] & 0xc0) == 0 && !stun_msg_parse(m, ps->rbuf, need) &&
			    tid_matches(m, req)) {
				/* Move the answer out of the stream buffer so that *m
				 * stays valid while the stream moves on. */
				memcpy(ps->abuf, ps->rbuf, need);
				memmove(ps->rbuf, ps->rbuf + need, ps->rlen - need);
				ps->rlen -= need;
				return stun_msg_parse(m, ps->abuf, need) ? -1 : 0;
			}
			memmove(ps->rbuf, ps->rbuf + need, ps->rlen - need);
			ps->rlen -= need;
		}
		if (!wait_readable(ps->fd, end)) {
			snprintf(err, errlen, "no answer within %d ms", timeout_ms);
			return -1;
		}
		n = recv(ps->fd, ps->rbuf + ps->rlen, sizeof ps->rbuf - ps->rlen, 0);
		if (n <= 0) {
			snprintf(err, errlen, n == 0 ? "connection closed by the server"
						     : "connection error");
			return -1;
		}
		ps->rlen += (size_t)n;
	}
}

int probe_transact(struct probe_sock *ps, const uint8_t *req, size_t len,
		   struct stun_msg *m, struct sockaddr_storage *from, int timeout_ms,
		   char *err, size_t errlen)
{
	if (ps->tp == TP_UDP)
		return udp_transact(ps, req, len, m, from, timeout_ms, err, errlen);
	return tcp_transact(ps, req, len, m, from, timeout_ms, err, errlen);
}
