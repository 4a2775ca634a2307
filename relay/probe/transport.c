/* transport.c: edgeprobe's sockets: UDP, TCP or TLS, optionally bound to a
 * source address, with STUN transactions and ChannelData over any of them. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "probe.h"

double probe_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void probe_raise_nofile(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

static int fail_errno(char *err, size_t errlen, const char *what, const char *arg)
{
	snprintf(err, errlen, "%s %s: %s", what, arg, strerror(errno));
	return -1;
}

/* A lab certificate is self-signed: the probe checks reachability and
 * addresses, not identity, so it does not verify the chain. */
static int tls_start(struct probe_sock *ps, const char *target, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;

	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL keeps its own reference */
	if (!ssl || SSL_set_fd(ssl, ps->fd) != 1) {
		SSL_free(ssl);
		snprintf(err, errlen, "cannot create a TLS session");
		return -1;
	}
	if (SSL_connect(ssl) != 1) {
		unsigned long e = ERR_get_error();
		snprintf(err, errlen, "TLS handshake with %s failed: %s", target,
			 e ? ERR_reason_error_string(e) : "connection closed");
		SSL_free(ssl);
		return -1;
	}
	ps->ssl = ssl;
	return 0;
}

const char *probe_tls_version(const struct probe_sock *ps)
{
	return ps->ssl ? SSL_get_version(ps->ssl) : "";
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
		return fail_errno(err, errlen, "socket", "");
	if (o->bind && bind(ps->fd, (struct sockaddr *)&b, netaddr_len((struct sockaddr *)&b)))
		return fail_errno(err, errlen, "bind", o->bind);
	/* UDP stays unconnected so that an answer from an unexpected source
	 * is read and reported, not filtered out by the kernel. */
	if (o->tp != TP_UDP) {
		setsockopt(ps->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		/* bounds connect() and the TLS handshake */
		setsockopt(ps->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		setsockopt(ps->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		if (connect(ps->fd, (struct sockaddr *)&ps->server,
			    netaddr_len((struct sockaddr *)&ps->server)))
			return fail_errno(err, errlen, "connect", o->target);
		if (o->tp == TP_TLS && tls_start(ps, o->target, err, errlen))
			return -1;
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
	if (ps->ssl) {
		SSL_shutdown(ps->ssl);
		SSL_free(ps->ssl);
		ps->ssl = NULL;
	}
	if (ps->fd >= 0)
		close(ps->fd);
	ps->fd = -1;
}

/* Wait until readable or the deadline; 1 readable, 0 timed out. TLS may
 * hold decrypted bytes the kernel no longer shows as readable. */
static int wait_readable(struct probe_sock *ps, double deadline)
{
	double left = deadline - probe_now_ms();
	struct pollfd p = {ps->fd, POLLIN, 0};

	if (ps->ssl && SSL_pending(ps->ssl) > 0)
		return 1;
	if (left <= 0)
		return 0;
	return poll(&p, 1, (int)left + 1) > 0;
}

int probe_send(struct probe_sock *ps, const void *buf, size_t len, char *err, size_t errlen)
{
	const struct sockaddr *to = (const struct sockaddr *)&ps->server;
	size_t off = 0;

	if (ps->tp == TP_UDP) {
		if (sendto(ps->fd, buf, len, 0, to, netaddr_len(to)) < 0)
			return fail_errno(err, errlen, "send to", "server");
		if (!netaddr_port((struct sockaddr *)&ps->local))
			udp_learn_local(ps);
		return 0;
	}
	while (off < len) {
		ssize_t n;
		if (ps->ssl) {
			int w = SSL_write(ps->ssl, (const uint8_t *)buf + off, (int)(len - off));
			n = w > 0 ? w : -1;
		} else {
			n = send(ps->fd, (const uint8_t *)buf + off, len - off, MSG_NOSIGNAL);
		}
		if (n < 0)
			return fail_errno(err, errlen, "send", "");
		off += (size_t)n;
	}
	return 0;
}

/* Fill f from a complete frame at buf (copied to ps->abuf so that it stays
 * valid while the stream buffer moves on). 0, or -1 if it is not one. */
static int frame_from(struct probe_sock *ps, const uint8_t *buf, size_t len, int stream,
		      struct probe_frame *f)
{
	if (buf != ps->abuf)
		memcpy(ps->abuf, buf, len);
	if ((ps->abuf[0] & 0xc0) == 0x40) {
		f->kind = FRAME_CHDATA;
		return turn_chdata_parse(ps->abuf, len, stream, &f->channel, &f->data,
					 &f->data_len) ? -1 : 0;
	}
	f->kind = FRAME_STUN;
	return stun_msg_parse(&f->m, ps->abuf, len) ? -1 : 0;
}

static int dgram_recv(struct probe_sock *ps, struct probe_frame *f, double deadline,
		      char *err, size_t errlen)
{
	for (;;) {
		socklen_t fl = sizeof f->from;
		ssize_t n;

		if (!wait_readable(ps, deadline))
			return 0;
		n = recvfrom(ps->fd, ps->abuf, sizeof ps->abuf, 0, (struct sockaddr *)&f->from, &fl);
		if (n < 0) {
			if (errno == ECONNREFUSED) { /* ICMP port unreachable */
				snprintf(err, errlen, "port unreachable (ICMP)");
				return -1;
			}
			continue;
		}
		if (n >= 4 && !frame_from(ps, ps->abuf, (size_t)n, 0, f))
			return 1;
	}
}

static int stream_recv(struct probe_sock *ps, struct probe_frame *f, double deadline,
		       char *err, size_t errlen)
{
	socklen_t fl = sizeof f->from;

	getpeername(ps->fd, (struct sockaddr *)&f->from, &fl);
	for (;;) {
		ssize_t n;

		while (ps->rlen >= 4) {
			int chd = (ps->rbuf[0] & 0xc0) == 0x40;
			size_t need = chd ? turn_chdata_frame_len(ps->rbuf, ps->rlen, 1)
					  : stun_peek_len(ps->rbuf, ps->rlen);
			int bad;

			if (!need) {
				if (ps->rlen < STUN_HDR_LEN && !chd)
					break;
				snprintf(err, errlen, "garbage on the stream");
				return -1;
			}
			if (need > ps->rlen)
				break;
			bad = frame_from(ps, ps->rbuf, need, 1, f);
			memmove(ps->rbuf, ps->rbuf + need, ps->rlen - need);
			ps->rlen -= need;
			if (!bad)
				return 1;
		}
		if (!wait_readable(ps, deadline))
			return 0;
		if (ps->ssl) {
			int r = SSL_read(ps->ssl, ps->rbuf + ps->rlen, (int)(sizeof ps->rbuf - ps->rlen));
			n = r > 0 ? r : (SSL_get_error(ps->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
			if (n < 0 && SSL_get_error(ps->ssl, r) == SSL_ERROR_WANT_READ)
				continue;
		} else {
			n = recv(ps->fd, ps->rbuf + ps->rlen, sizeof ps->rbuf - ps->rlen, 0);
		}
		if (n <= 0) {
			snprintf(err, errlen, n == 0 ? "connection closed by the server"
						     : "connection error");
			return -1;
		}
		ps->rlen += (size_t)n;
	}
}

long probe_recv_raw(struct probe_sock *ps, void *buf, size_t cap, double deadline,
		    char *err, size_t errlen)
{
	ssize_t n;

	/* What the framed reader already took off the socket comes first. */
	if (ps->rlen) {
		n = (ssize_t)(ps->rlen < cap ? ps->rlen : cap);
		memcpy(buf, ps->rbuf, (size_t)n);
		memmove(ps->rbuf, ps->rbuf + n, ps->rlen - (size_t)n);
		ps->rlen -= (size_t)n;
		return n;
	}
	for (;;) {
		if (!wait_readable(ps, deadline))
			return 0;
		if (ps->ssl) {
			int r = SSL_read(ps->ssl, buf, cap > 65536 ? 65536 : (int)cap);
			int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(ps->ssl, r);

			if (e == SSL_ERROR_WANT_READ)
				continue;
			n = r > 0 ? r : e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
		} else {
			n = recv(ps->fd, buf, cap, 0);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n > 0)
			return n;
		snprintf(err, errlen, n == 0 ? "connection closed by the server" : "connection error");
		return -1;
	}
}

int probe_recv(struct probe_sock *ps, struct probe_frame *f, double deadline,
	       char *err, size_t errlen)
{
	if (ps->tp == TP_UDP)
		return dgram_recv(ps, f, deadline, err, errlen);
	return stream_recv(ps, f, deadline, err, errlen);
}

static int is_answer(const struct probe_frame *f, const uint8_t *req)
{
	return f->kind == FRAME_STUN &&
	       (f->m.cls == STUN_SUCCESS || f->m.cls == STUN_ERROR) &&
	       !memcmp(f->m.tid, req + 8, STUN_TID_LEN);
}

int probe_transact(struct probe_sock *ps, const uint8_t *req, size_t len,
		   struct stun_msg *m, struct sockaddr_storage *from, int timeout_ms,
		   char *err, size_t errlen)
{
	double end = probe_now_ms() + timeout_ms, rto = 250, next;
	/* Static: a frame is big (40 attributes), and probes are single-threaded
	 * except load, which does not transact concurrently (see load.c). */
	static _Thread_local struct probe_frame f;

	if (probe_send(ps, req, len, err, errlen))
		return -1;
	/* Streams are reliable: only UDP retransmits. */
	next = ps->tp == TP_UDP ? probe_now_ms() + rto : end;
	for (;;) {
		int r = probe_recv(ps, &f, next < end ? next : end, err, errlen);

		if (r < 0)
			return -1;
		if (r > 0 && is_answer(&f, req)) {
			*m = f.m;
			*from = f.from;
			return 0;
		}
		if (probe_now_ms() >= end) {
			snprintf(err, errlen, "no answer within %d ms", timeout_ms);
			return -1;
		}
		if (r == 0 && probe_now_ms() >= next) {
			rto *= 2;
			next = probe_now_ms() + rto;
			if (probe_send(ps, req, len, err, errlen))
				return -1;
		}
	}
}
