/* udpbatch.c: the send batch: grouped by socket, one sendmmsg per group. */
#include <errno.h>
#include <string.h>

#include "io/udpbatch.h"
#include "util/netaddr.h"

static void report(struct udp_batch *b, unsigned i, int err)
{
	b->sent(b->arg, b->q[i].tag, &b->q[i].to.sa, b->iov[i].iov_base, b->iov[i].iov_len, err);
}

/* One socket's datagrams, in queue order. A datagram that fails is
 * dropped and reported, as a single send would be; the rest still go. */
static void send_group(struct udp_batch *b, int fd, struct mmsghdr *v, const unsigned *idx,
		       unsigned k)
{
	unsigned sent = 0;

	while (sent < k) {
		int r = sendmmsg(fd, v + sent, k - sent, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) { /* the first one failed: a full buffer, no route... */
			int err = r < 0 ? -errno : -EIO;
			report(b, idx[sent], err);
			sent++;
			continue;
		}
		for (unsigned i = sent; i < sent + (unsigned)r; i++)
			report(b, idx[i], 0);
		sent += (unsigned)r;
	}
}

void udp_batch_flush(struct udp_batch *b)
{
	struct mmsghdr v[UDP_BATCH];
	unsigned idx[UDP_BATCH];
	uint8_t done[UDP_BATCH];

	if (!b->n)
		return;
	memset(done, 0, b->n);
	/* Group by socket, keeping each socket's order: a few dozen entries,
	 * so a plain scan. */
	for (unsigned i = 0; i < b->n; i++) {
		unsigned k = 0;
		if (done[i])
			continue;
		for (unsigned j = i; j < b->n; j++) {
			if (done[j] || b->q[j].fd != b->q[i].fd)
				continue;
			done[j] = 1;
			memset(&v[k], 0, sizeof v[k]);
			v[k].msg_hdr.msg_name = &b->q[j].to;
			v[k].msg_hdr.msg_namelen = b->q[j].tolen;
			v[k].msg_hdr.msg_iov = &b->iov[j];
			v[k].msg_hdr.msg_iovlen = 1;
			idx[k++] = j;
		}
		send_group(b, b->q[i].fd, v, idx, k);
	}
	b->n = 0;
}

static void flush_check(uv_check_t *c) { udp_batch_flush(c->data); }
static void flush_prepare(uv_prepare_t *p) { udp_batch_flush(p->data); }

void udp_batch_init(struct udp_batch *b, uv_loop_t *loop, udp_sent_cb sent, void *arg)
{
	b->n = 0;
	b->sent = sent;
	b->arg = arg;
	uv_check_init(loop, &b->check);
	b->check.data = b;
	uv_check_start(&b->check, flush_check);
	uv_unref((uv_handle_t *)&b->check);
	uv_prepare_init(loop, &b->prepare);
	b->prepare.data = b;
	uv_prepare_start(&b->prepare, flush_prepare);
	uv_unref((uv_handle_t *)&b->prepare);
}

void udp_batch_queue(struct udp_batch *b, int fd, const struct sockaddr *to, const uint8_t *data,
		     size_t len, void *tag)
{
	struct udp_out *o;
	socklen_t tolen = netaddr_len(to); /* IPv4 or IPv6: fits o->to */
	int big = len > UDP_SLOT;

	if (b->n == UDP_BATCH || big)
		udp_batch_flush(b);
	o = &b->q[b->n];
	o->fd = fd;
	o->tag = tag;
	o->tolen = tolen;
	memcpy(&o->to, to, tolen);
	if (big) {
		b->iov[b->n].iov_base = (void *)data;
		b->iov[b->n].iov_len = len;
		b->n++;
		udp_batch_flush(b);
		return;
	}
	memcpy(b->slot[b->n], data, len);
	b->iov[b->n].iov_base = b->slot[b->n];
	b->iov[b->n].iov_len = len;
	b->n++;
}

void udp_batch_close(struct udp_batch *b)
{
	udp_batch_flush(b);
	if (!uv_is_closing((uv_handle_t *)&b->check))
		uv_close((uv_handle_t *)&b->check, NULL);
	if (!uv_is_closing((uv_handle_t *)&b->prepare))
		uv_close((uv_handle_t *)&b->prepare, NULL);
}
