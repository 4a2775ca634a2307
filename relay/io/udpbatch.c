/* udpbatch.c: the send batch: grouped by socket, one sendmmsg per group;
 * within a group, a run of datagrams to one destination leaves as one
 * UDP GSO message (UDP_SEGMENT): the kernel walks its send path once for
 * the run and cuts it into datagrams at the end. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#include "io/udpbatch.h"
#include "util/netaddr.h"

static void report(struct udp_batch *b, unsigned i, int err)
{
	b->sent(b->arg, b->q[i].tag, &b->q[i].to.sa, b->iov[i].iov_base, b->iov[i].iov_len, err);
}

/* The kernel's limits for one GSO message (UDP_MAX_SEGMENTS, and an IP
 * datagram's payload). */
#define GSO_MAX_SEGS 64
#define GSO_MAX_BYTES 65000

/* One socket's datagrams (idx[0..k), queue order) as messages: a run to
 * one destination whose datagrams all have the first one's size (the last
 * may be shorter) is one message with UDP_SEGMENT. m[i] is the number of
 * datagrams in message i; returns the number of messages. */
static unsigned build(struct udp_batch *b, struct mmsghdr *v, const unsigned *idx, unsigned k,
		      unsigned *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < k;) {
		const struct udp_out *o = &b->q[idx[i]];
		size_t seg = b->iov[idx[i]].iov_len, total = seg;
		unsigned j = i + 1;

		if (b->gso)
			while (j < k && j - i < GSO_MAX_SEGS && b->iov[idx[j - 1]].iov_len == seg &&
			       b->iov[idx[j]].iov_len <= seg && total + b->iov[idx[j]].iov_len <= GSO_MAX_BYTES &&
			       b->q[idx[j]].tolen == o->tolen && !memcmp(&b->q[idx[j]].to, &o->to, o->tolen)) {
				total += b->iov[idx[j]].iov_len;
				j++;
			}
		memset(&v[n], 0, sizeof v[n]);
		v[n].msg_hdr.msg_name = (void *)&o->to;
		v[n].msg_hdr.msg_namelen = o->tolen;
		for (unsigned x = i; x < j; x++)
			b->giov[x] = b->iov[idx[x]];
		v[n].msg_hdr.msg_iov = &b->giov[i];
		v[n].msg_hdr.msg_iovlen = j - i;
		if (j - i > 1) {
			struct cmsghdr *c = (struct cmsghdr *)b->cbuf[n];
			uint16_t gso = (uint16_t)seg;
			v[n].msg_hdr.msg_control = b->cbuf[n];
			v[n].msg_hdr.msg_controllen = sizeof b->cbuf[n];
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof gso);
			memcpy(CMSG_DATA(c), &gso, sizeof gso);
		}
		m[n++] = j - i;
		i = j;
	}
	return n;
}

/* One socket's datagrams, in queue order. A message that fails is dropped
 * and its datagrams reported, as single sends would be; the rest still
 * go. A GSO message refused for itself goes again as single datagrams;
 * a device that cannot segment at all (EIO) turns GSO off for good. */
static void send_group(struct udp_batch *b, int fd, struct mmsghdr *v, const unsigned *idx,
		       unsigned k)
{
	unsigned m[UDP_BATCH], n = build(b, v, idx, k, m), sent = 0, at = 0;

	while (sent < n) {
		int r = sendmmsg(fd, v + sent, n - sent, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) { /* the first one failed: a full buffer, no route... */
			int err = r < 0 ? -errno : -EIO;
			if (m[sent] > 1 && (err == -EIO || err == -EINVAL) && b->gso) {
				/* EINVAL: too big a segment for the route's MTU,
				 * this time only */
				b->gso = 0;
				send_group(b, fd, v, idx + at, k - at);
				b->gso = err == -EINVAL;
				return;
			}
			for (unsigned x = 0; x < m[sent]; x++)
				report(b, idx[at++], err);
			sent++;
			continue;
		}
		for (unsigned i = sent; i < sent + (unsigned)r; i++)
			for (unsigned x = 0; x < m[i]; x++)
				report(b, idx[at++], 0);
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
	b->gso = 1;
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
