/* relay.c: relayed UDP sockets. Peer datagrams land in the worker's
 * buffers, several per recvmmsg, with headroom in front, so a ChannelData
 * header is written in place and the frame goes to the client without an
 * allocation. Data indications (no channel) are built in the worker's
 * scratch. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "listener.h"
#include "log.h"
#include "relay.h"
#include "tcprelay.h"

#define RESERVE_MS 30000
#define MAX_RESERVED 256

static struct {
	pthread_mutex_t lock;
	struct { uint64_t token, expires; int fd, fam; } r[MAX_RESERVED];
	int n;
} reserved = {PTHREAD_MUTEX_INITIALIZER, {{0, 0, 0, 0}}, 0};

/* The reserved socket and its family (0 IPv4, 1 IPv6), or -1. */
static int reservation_take(uint64_t token, int *fam)
{
	int fd = -1;

	pthread_mutex_lock(&reserved.lock);
	for (int i = 0; i < reserved.n; i++)
		if (reserved.r[i].token == token) {
			fd = reserved.r[i].fd;
			*fam = reserved.r[i].fam;
			reserved.r[i] = reserved.r[--reserved.n];
			break;
		}
	pthread_mutex_unlock(&reserved.lock);
	return fd;
}

static int reservation_put(int fd, int fam, uint64_t now, uint64_t *token)
{
	int ok = 0;

	if (RAND_bytes((unsigned char *)token, sizeof *token) != 1)
		return -1;
	pthread_mutex_lock(&reserved.lock);
	if (reserved.n < MAX_RESERVED) {
		reserved.r[reserved.n].token = *token;
		reserved.r[reserved.n].expires = now + RESERVE_MS;
		reserved.r[reserved.n].fd = fd;
		reserved.r[reserved.n].fam = fam;
		reserved.n++;
		ok = 1;
	}
	pthread_mutex_unlock(&reserved.lock);
	return ok ? 0 : -1;
}

void relay_reservations_expire(uint64_t now)
{
	pthread_mutex_lock(&reserved.lock);
	for (int i = 0; i < reserved.n;)
		if (reserved.r[i].expires <= now) {
			close(reserved.r[i].fd);
			reserved.r[i] = reserved.r[--reserved.n];
		} else {
			i++;
		}
	pthread_mutex_unlock(&reserved.lock);
}

void relay_reservations_free(void) { relay_reservations_expire(UINT64_MAX); }

static int bind_port(const struct sockaddr_storage *base, int type, int port, int df)
{
	struct sockaddr_storage sa = *base;
	int fd = socket(sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	/* A TCP relayed address is both a listener and the source of the
	 * Connects made from it (RFC 6062 §5.2): they share IP and port. */
	if (type == SOCK_STREAM) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	}
	if (df) { /* DONT-FRAGMENT: set DF, never fragment locally */
		int v = IP_PMTUDISC_DO;
		if (sa.ss_family == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v);
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v);
	}
	netaddr_set_port((struct sockaddr *)&sa, port);
	if (bind(fd, (struct sockaddr *)&sa, netaddr_len((struct sockaddr *)&sa))) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* SO_REUSEPORT would let two of our own TCP relays share a port, so the
 * process keeps its own record of the ones it holds. */
static struct {
	pthread_mutex_t lock;
	uint8_t used[65536 / 8];
} tcp_ports = {PTHREAD_MUTEX_INITIALIZER, {0}};

static int tcp_port_claim(int fam, int port)
{
	int ok;
	(void)fam;
	pthread_mutex_lock(&tcp_ports.lock);
	ok = !(tcp_ports.used[port / 8] & (1 << (port % 8)));
	if (ok)
		tcp_ports.used[port / 8] |= (uint8_t)(1 << (port % 8));
	pthread_mutex_unlock(&tcp_ports.lock);
	return ok;
}

void relay_stream_release(int port)
{
	pthread_mutex_lock(&tcp_ports.lock);
	tcp_ports.used[port / 8] &= (uint8_t)~(1 << (port % 8));
	pthread_mutex_unlock(&tcp_ports.lock);
}

/* A port from the range, random start then linear probe, so that busy
 * ranges still find the free ports. Returns the fd and sets *port. */
static int pick_port(const struct relay_conf *c, int fam, int type, int even, int df,
		     int *port, int *pair_fd)
{
	unsigned span = (unsigned)(c->port_hi - c->port_lo) + 1, start, i;
	uint32_t rnd;

	RAND_bytes((unsigned char *)&rnd, sizeof rnd);
	start = rnd % span;
	for (i = 0; i < span; i++) {
		int p = c->port_lo + (int)((start + i) % span), fd;
		if (even && (p & 1))
			continue;
		if (even && pair_fd && p + 1 > c->port_hi)
			continue;
		if (type == SOCK_STREAM && !tcp_port_claim(fam, p))
			continue;
		fd = bind_port(&c->relay_bind[fam], type, p, df);
		if (type == SOCK_STREAM && (fd < 0 || listen(fd, 16))) {
			if (fd >= 0)
				close(fd);
			relay_stream_release(p);
			continue;
		}
		if (fd < 0)
			continue;
		if (pair_fd) {
			*pair_fd = bind_port(&c->relay_bind[fam], type, p + 1, 0);
			if (*pair_fd < 0) {
				close(fd);
				continue;
			}
		}
		*port = p;
		return fd;
	}
	return -EADDRINUSE;
}

int relay_bw_take(struct relay_io *io, size_t len, uint64_t now)
{
	uint64_t bps = io->srv->conf->max_bps;

	if (!bps)
		return 1;
	if (now > io->refill_at) {
		io->tokens += (now - io->refill_at) * bps / 8000;
		if (io->tokens > bps / 8) /* at most one second of burst */
			io->tokens = bps / 8;
		io->refill_at = now;
	}
	if (io->tokens < len)
		return 0;
	io->tokens -= len;
	return 1;
}

int relay_stream_listener(const struct relay_conf *c, int fam, int *port)
{
	return pick_port(c, fam, SOCK_STREAM, 0, 0, port, NULL);
}

/* Peer -> client: one datagram at data, with RELAY_HEADROOM bytes of
 * its slot in front. */
static void relay_recv(struct relay_io *io, uint8_t *data, size_t n, const struct sockaddr *src)
{
	struct server *s = io->srv;
	struct alloc *a = io->a;
	uint64_t now = server_now(s);
	const struct channel *ch;
	struct peer p;

	peer_from_sockaddr(&p, src);
	if (!alloc_perm_has(a, &p, now)) {
		s->st.drops[DROP_NO_PERMISSION]++;
		return;
	}
	if (!relay_bw_take(io, n, now)) {
		s->st.drops[DROP_BANDWIDTH]++;
		return;
	}
	a->rx_pkts++;
	a->rx_bytes += (uint64_t)n;
	if ((ch = alloc_chan_by_peer(a, &p, now))) {
		uint8_t *frame = data - TURN_CHDATA_HDR;
		int stream = io->conn != NULL;
		/* the slot's end: payload room plus the padding a stream needs */
		size_t room = TURN_CHDATA_HDR + sizeof s->rx.buf[0] - RELAY_HEADROOM;
		int len = turn_chdata_wrap(frame, room, ch->num, (uint16_t)n, stream);
		if (len > 0)
			server_send_client(s, io->l, io->conn,
					   (struct sockaddr *)&a->key.client, frame, (size_t)len);
	} else {
		struct stun_writer w;
		uint8_t tid[STUN_TID_LEN];
		int len;
		stun_tid_random(tid);
		stun_writer_init(&w, s->ibuf, sizeof s->ibuf, TURN_DATA, STUN_INDICATION, tid);
		stun_put_addr(&w, STUN_A_XOR_PEER_ADDRESS, src);
		stun_put_attr(&w, STUN_A_DATA, data, n);
		if ((len = stun_writer_finish(&w)) > 0)
			server_send_client(s, io->l, io->conn,
					   (struct sockaddr *)&a->key.client, s->ibuf, (size_t)len);
	}
	s->st.pkts_to_client++;
	s->st.bytes_to_client += (uint64_t)n;
}

/* A relayed socket is readable: one recvmmsg takes what is there, up to
 * RELAY_BATCH. Fewer than that means the socket is drained, so no second
 * call to learn EAGAIN; more waits for the next loop iteration (the poll
 * is level-triggered), which keeps one busy peer from starving others. */
static void relay_readable(uv_poll_t *h, int status, int events)
{
	struct relay_io *io = h->data;
	struct relay_rx *rx = &io->srv->rx;
	int fam = h == &io->poll[1], n;

	if (io->closing)
		return;
	if (status < 0) {
		/* libuv stops a poll on POLLERR: take the socket's error, which
		 * a read would have returned and been ignored, and go on. */
		int err;
		socklen_t len = sizeof err;
		getsockopt(io->fd[fam], SOL_SOCKET, SO_ERROR, &err, &len);
		uv_poll_start(h, UV_READABLE, relay_readable);
	}
	for (int i = 0; i < RELAY_BATCH; i++) {
		rx->iov[i].iov_base = rx->buf[i] + RELAY_HEADROOM;
		rx->iov[i].iov_len = sizeof rx->buf[i] - RELAY_HEADROOM;
		memset(&rx->msg[i].msg_hdr, 0, sizeof rx->msg[i].msg_hdr);
		rx->msg[i].msg_hdr.msg_name = &rx->from[i];
		rx->msg[i].msg_hdr.msg_namelen = sizeof rx->from[i];
		rx->msg[i].msg_hdr.msg_iov = &rx->iov[i];
		rx->msg[i].msg_hdr.msg_iovlen = 1;
	}
	do
		n = recvmmsg(io->fd[fam], rx->msg, RELAY_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	/* Each datagram may end the allocation (a stream client gone). */
	for (int i = 0; i < n && !io->closing; i++) {
		struct msghdr *m = &rx->msg[i].msg_hdr;
		if (!m->msg_namelen || (m->msg_flags & MSG_TRUNC))
			continue;
		relay_recv(io, rx->iov[i].iov_base, rx->msg[i].msg_len, m->msg_name);
	}
}

int relay_send(struct relay_io *io, const struct sockaddr *peer, const uint8_t *data,
	       size_t len)
{
	int fam = peer->sa_family == AF_INET6;

	if (!(io->open_mask & (1 << fam)))
		return -EAFNOSUPPORT;
	if (io->closing)
		return -EBADF;
	server_udp_send(io->srv, io->fd[fam], peer, data, len, io->a);
	return 0;
}

static void io_closed(uv_handle_t *h)
{
	struct relay_io *io = h->data;
	int fam = h == (uv_handle_t *)&io->poll[1];

	io->open_mask &= (uint8_t)~(1 << fam);
	if (!io->open_mask)
		free(io);
}

void relay_close(struct relay_io *io)
{
	io->closing = 1;
	if (io->tcp) {
		tcprelay_close(io->tcp);
		io->tcp = NULL;
	}
	if (!io->open_mask) {
		free(io);
		return;
	}
	/* Closing a poll handle takes the fd out of epoll at once, so the
	 * socket can close now (its port is free again right away). */
	for (int fam = 0; fam < 2; fam++)
		if (io->open_mask & (1 << fam)) {
			uv_close((uv_handle_t *)&io->poll[fam], io_closed);
			if (io->fd[fam] >= 0)
				close(io->fd[fam]);
			io->fd[fam] = -1;
		}
}

int relay_open(struct server *s, struct alloc *a, int even, int reserve, uint64_t token_in,
	       uint64_t *token_out, int dont_fragment, struct sockaddr_storage relayed[2],
	       struct listener *l, struct conn *conn)
{
	const struct relay_conf *c = s->conf;
	struct relay_io *io = calloc(1, sizeof *io);

	if (!io)
		return 508;
	io->srv = s;
	io->a = a;
	io->fd[0] = io->fd[1] = -1;
	io->l = l;
	io->conn = conn;
	io->refill_at = server_now(s);
	io->tokens = c->max_bps / 8;
	a->io = io;
	if (a->tcp) { /* RFC 6062: one family, a listening relayed address */
		int fam = a->family_mask & 2 ? 1 : 0;
		if (!c->has_relay[fam])
			return 440;
		return tcprelay_open(s, a, fam, &relayed[fam]);
	}
	/* A reserved port (RFC 8656 §7.2) brings its own family: the
	 * Allocate that claims it carries no family attribute. */
	int held = -1, held_fam = 0;
	if (token_in) {
		if ((held = reservation_take(token_in, &held_fam)) < 0)
			return 508;
		a->family_mask = (uint8_t)(1 << held_fam);
	}
	for (int fam = 0; fam < 2; fam++) {
		int fd, port = 0, pair = -1;
		if (!(a->family_mask & (1 << fam)))
			continue;
		if (!c->has_relay[fam]) {
			if (held >= 0)
				close(held);
			return 440;
		}
		if (held >= 0) {
			fd = held;
			held = -1;
		} else {
			fd = pick_port(c, fam, SOCK_DGRAM, even, dont_fragment, &port,
				       reserve ? &pair : NULL);
			if (fd < 0) {
				log_warn("no free relay port in %u-%u", c->port_lo, c->port_hi);
				return 508;
			}
			if (reserve && reservation_put(pair, fam, server_now(s), token_out)) {
				close(pair);
				close(fd);
				return 508;
			}
		}
		if (uv_poll_init_socket(s->loop, &io->poll[fam], fd)) {
			close(fd);
			return 508;
		}
		io->poll[fam].data = io;
		io->fd[fam] = fd;
		io->open_mask |= (uint8_t)(1 << fam);
		{
			struct sockaddr_storage bound;
			socklen_t len = sizeof bound;
			getsockname(fd, (struct sockaddr *)&bound, &len);
			relayed[fam] = c->relay_public[fam];
			netaddr_set_port((struct sockaddr *)&relayed[fam],
					 netaddr_port((struct sockaddr *)&bound));
		}
		uv_poll_start(&io->poll[fam], UV_READABLE, relay_readable);
	}
	return 0;
}
