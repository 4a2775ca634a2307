/* relayed.c: relayed UDP sockets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/relayed.h"
#include "util/netaddr.h"

/* A relayed socket is readable: one recvmmsg takes what is there, up to
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
	for (int i = 0; i < n; i++) {
		struct msghdr *m = &rx->msg[i].msg_hdr;
		if (!m->msg_namelen || (m->msg_flags & MSG_TRUNC))
			continue;
		r->recv(r->arg, r->tag, rx->iov[i].iov_base, rx->msg[i].msg_len,
			RELAYED_SLOT - RELAYED_HEADROOM, m->msg_name);
	}
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
	udp_batch_flush(r->env->out); /* datagrams queued on these sockets go first */
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
	getsockname(fd, (struct sockaddr *)&bound, &len);
	o->port[fam] = netaddr_port((struct sockaddr *)&bound);
	return uv_poll_start(&r->poll[fam], UV_READABLE, readable);
}

int relayed_open(struct relayed **out, const struct relayed_env *env, struct relayed_opts *o,
		 relayed_recv_cb recv, void *arg, void *tag)
{
	struct relayed *r = calloc(1, sizeof *r);
	int held = -1, held_fam = 0, err = 0;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->env = env;
	r->recv = recv;
	r->arg = arg;
	r->tag = tag;
	r->fd[0] = r->fd[1] = -1;
	/* A reserved port (RFC 8656 §7.2) brings its own family: the
	 * Allocate that claims it carries no family attribute. */
	if (o->token) {
		if ((held = ports_claim(o->token, &held_fam, &o->claimed_owner)) < 0) {
			free(r);
			return held;
		}
		o->family_mask = 1u << held_fam;
	}
	for (int fam = 0; fam < 2 && !err; fam++)
		if (o->family_mask & (1u << fam)) {
			err = open_family(r, o, fam, held);
			held = -1;
		}
	if (held >= 0)
		close(held);
	if (err) {
		relayed_close(r);
		return err;
	}
	*out = r;
	return 0;
}
