/* relayed.c: relayed UDP sockets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/relayed.h"
#include "util/netaddr.h"

/* One datagram read, to the layer above: not one cut short, nor one
 * with no sender. */
static void deliver(struct relayed *r, struct msghdr *m, uint8_t *data, size_t len)
{
	if (!m->msg_namelen || (m->msg_flags & MSG_TRUNC))
		return;
	r->recv(r->arg, r->tag, data, len, RELAYED_SLOT - RELAYED_HEADROOM, m->msg_name);
}

static void ring_done(void *arg, uint64_t i, int res)
{
	((struct relayed_rx *)arg)->slots[i].res = res;
}

/* After the poll phase: every socket found readable, RELAYED_RING_READS
 * reads each, one io_uring_enter; then the datagrams in socket order.
 * What is left on a socket is polled again next iteration. */
static void read_ready(uv_check_t *c)
{
	struct relayed_rx *rx = c->data;
	struct udp_batch *out = rx->ring_of;
	unsigned n = 0;

	if (!rx->nready)
		return;
	for (unsigned i = 0; i < rx->nready; i++) {
		struct relayed *r = rx->ready[i].r;
		int fam = rx->ready[i].fam;
		if (!r)
			continue;
		for (unsigned k = 0; k < RELAYED_RING_READS; k++) {
			struct relayed_slot *s = &rx->slots[n];
			struct io_uring_sqe *sqe = uring_get_sqe(&out->ring);
			if (!sqe)
				break;
			memset(&s->mh, 0, sizeof s->mh);
			s->iov.iov_base = s->buf + RELAYED_HEADROOM;
			s->iov.iov_len = RELAYED_SLOT - RELAYED_HEADROOM;
			s->mh.msg_name = &s->from;
			s->mh.msg_namelen = sizeof s->from;
			s->mh.msg_iov = &s->iov;
			s->mh.msg_iovlen = 1;
			s->ready = i;
			s->res = -EAGAIN;
			uring_prep_msg(sqe, IORING_OP_RECVMSG, r->fd[fam], &s->mh,
				       ((uint64_t)out->gen << 32) | n);
			n++;
		}
	}
	/* A failed ring is off from now on; the sockets are still readable
	 * and the next iteration reads them with recvmmsg. The reads that
	 * completed before it failed are the kernel's no more: they go up. */
	if (n) {
		udp_batch_ring_run(out, n, ring_done, rx);
		for (unsigned i = 0; i < n; i++) {
			struct relayed_slot *s = &rx->slots[i];
			struct relayed *r = rx->ready[s->ready].r; /* NULL if closed meanwhile */
			if (r && s->res >= 0)
				deliver(r, &s->mh, s->iov.iov_base, (size_t)s->res);
		}
	}
	/* Only now: until here a recv that closes a socket must find it in
	 * ready[] (relayed_close looks only when ready_mask says so), or its
	 * slots would still go up to a freed tag. */
	for (unsigned i = 0; i < rx->nready; i++)
		if (rx->ready[i].r)
			rx->ready[i].r->ready_mask &= (uint8_t)~(1 << rx->ready[i].fam);
	rx->nready = 0;
	udp_batch_flush(out); /* the answers go now, not after the next poll */
}

/* Read later, with the others, when the ring is there and has room. */
static int defer_read(struct relayed *r, int fam)
{
	struct relayed_rx *rx = r->env->rx;

	if (!rx->slots || !rx->ring_of->uring_ok)
		return 0;
	if (r->ready_mask & (1 << fam))
		return 1;
	if (rx->nready == RELAYED_RING_SOCKS)
		return 0;
	rx->ready[rx->nready].r = r;
	rx->ready[rx->nready++].fam = fam;
	r->ready_mask |= (uint8_t)(1 << fam);
	return 1;
}

/* A relayed socket is readable: with the ring, it joins this iteration's
 * reads (read_ready); else one recvmmsg takes what is there, up to
 * RELAYED_BATCH. Fewer than that means the socket is drained, so no second
 * call to learn EAGAIN; more waits for the next loop iteration (the poll
 * is level-triggered), which keeps one busy peer from starving others. */
static void readable(uv_poll_t *h, int status, int events)
{
	struct relayed *r = h->data;
	struct relayed_rx *rx = r->env->rx;
	int fam = h == &r->poll[1], n;

	if (status < 0) {
		/* libuv stops a poll on POLLERR: take the socket's error, which
		 * a read would have returned and been ignored, and go on. */
		int err;
		socklen_t len = sizeof err;
		getsockopt(r->fd[fam], SOL_SOCKET, SO_ERROR, &err, &len);
		uv_poll_start(h, UV_READABLE, readable);
	}
	if (defer_read(r, fam))
		return;
	for (int i = 0; i < RELAYED_BATCH; i++) {
		rx->iov[i].iov_base = rx->buf[i] + RELAYED_HEADROOM;
		rx->iov[i].iov_len = RELAYED_SLOT - RELAYED_HEADROOM;
		memset(&rx->msg[i].msg_hdr, 0, sizeof rx->msg[i].msg_hdr);
		rx->msg[i].msg_hdr.msg_name = &rx->from[i];
		rx->msg[i].msg_hdr.msg_namelen = sizeof rx->from[i];
		rx->msg[i].msg_hdr.msg_iov = &rx->iov[i];
		rx->msg[i].msg_hdr.msg_iovlen = 1;
	}
	do
		n = recvmmsg(r->fd[fam], rx->msg, RELAYED_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	for (int i = 0; i < n; i++)
		deliver(r, &rx->msg[i].msg_hdr, rx->iov[i].iov_base, rx->msg[i].msg_len);
}

void relayed_rx_init(struct relayed_rx *rx, uv_loop_t *loop, struct udp_batch *out)
{
	rx->ring_of = out;
	rx->nready = 0;
	/* calloc: pages cost only once a datagram lands in them */
	rx->slots = out->uring_ok ? calloc(RELAYED_RING_SOCKS * RELAYED_RING_READS, sizeof *rx->slots)
				  : NULL;
	uv_check_init(loop, &rx->check);
	rx->check.data = rx;
	uv_check_start(&rx->check, read_ready);
	uv_unref((uv_handle_t *)&rx->check);
}

void relayed_rx_close(struct relayed_rx *rx)
{
	if (!uv_is_closing((uv_handle_t *)&rx->check))
		uv_close((uv_handle_t *)&rx->check, NULL);
	free(rx->slots);
	rx->slots = NULL;
	rx->nready = 0;
}

int relayed_send(struct relayed *r, const struct sockaddr *peer, const uint8_t *data, size_t len)
{
	int fam = peer->sa_family == AF_INET6;

	if (!(r->open_mask & (1 << fam)))
		return -EAFNOSUPPORT;
	udp_batch_queue(r->env->out, r->fd[fam], peer, data, len, r->tag);
	return 0;
}

static void poll_closed(uv_handle_t *h)
{
	struct relayed *r = h->data;
	int fam = h == (uv_handle_t *)&r->poll[1];

	r->open_mask &= (uint8_t)~(1 << fam);
	if (!r->open_mask)
		free(r);
}

void relayed_close(struct relayed *r)
{
	struct relayed_rx *rx = r->env->rx;

	udp_batch_flush(r->env->out); /* datagrams queued on these sockets go first */
	for (unsigned i = 0; r->ready_mask && i < rx->nready; i++)
		if (rx->ready[i].r == r)
			rx->ready[i].r = NULL;
	r->ready_mask = 0;
	if (!r->open_mask) {
		free(r);
		return;
	}
	/* Closing a poll handle takes the fd out of epoll at once, so the
	 * socket can close now (its port is free again right away). */
	for (int fam = 0; fam < 2; fam++)
		if (r->open_mask & (1 << fam)) {
			uv_close((uv_handle_t *)&r->poll[fam], poll_closed);
			close(r->fd[fam]);
			r->fd[fam] = -1;
		}
}

/* One family's socket: the claimed one, or a fresh port. */
static int open_family(struct relayed *r, struct relayed_opts *o, int fam, int held)
{
	int fd = held, pair = -1, err;
	struct sockaddr_storage bound;
	socklen_t len = sizeof bound;

	if (fd < 0) {
		fd = ports_bind_udp(r->env->ports, fam, o->even, o->dont_fragment, &o->port[fam],
				    o->reserve ? &pair : NULL);
		if (fd < 0)
			return fd;
		if (o->reserve && (err = ports_reserve(pair, fam, o->now_ms, o->owner, &o->token_out))) {
			close(pair);
			close(fd);
			return err;
		}
	}
	if ((err = uv_poll_init_socket(r->env->loop, &r->poll[fam], fd))) {
		close(fd);
		return err;
	}
	r->poll[fam].data = r;
	r->fd[fam] = fd;
	r->open_mask |= (uint8_t)(1 << fam);
	if (held >= 0) { /* a fresh port is known already */
		getsockname(fd, (struct sockaddr *)&bound, &len);
		o->port[fam] = netaddr_port((struct sockaddr *)&bound);
	}
	return uv_poll_start(&r->poll[fam], UV_READABLE, readable);
}

int relayed_open(struct relayed **out, const struct relayed_env *env, struct relayed_opts *o,
		 relayed_recv_cb recv, void *arg, void *tag)
{
	struct relayed *r = calloc(1, sizeof *r);
	int held = o->claimed ? o->claimed_fd : -1, err = 0;

	*out = NULL;
	if (!r) {
		if (held >= 0)
			close(held);
		return -ENOMEM;
	}
	r->env = env;
	r->recv = recv;
	r->arg = arg;
	r->tag = tag;
	r->fd[0] = r->fd[1] = -1;
	/* A reserved port (RFC 8656 §7.2) brings its own family: the
	 * Allocate that claims it carries no family attribute. */
	if (o->claimed)
		o->family_mask = 1u << o->claimed_fam;
	for (int fam = 0; fam < 2 && !err; fam++)
		if (o->family_mask & (1u << fam)) {
			err = open_family(r, o, fam, held);
			held = -1;
		}
	if (held >= 0)
		close(held);
	if (err) {
		if (o->token_out) { /* the reservation goes with the allocation that made it */
			char *owner = NULL;
			int fam, fd = ports_claim(o->token_out, &fam, &owner);
			if (fd >= 0)
				close(fd);
			free(owner);
			o->token_out = 0;
		}
		relayed_close(r);
		return err;
	}
	*out = r;
	return 0;
}
