/* udpbatch.c: the send batch: grouped by socket, one sendmmsg per group,
 * or with io_uring every group's messages in one io_uring_enter; within a
 * group, a run of datagrams to one destination leaves as one UDP GSO
 * message (UDP_SEGMENT): the kernel walks its send path once for the run
 * and cuts it into datagrams at the end. */
#include <errno.h>
#include <limits.h>
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
 * datagrams in message i; returns the number of messages. The scratch
 * iovecs and cmsgs used are giov[at..at+k) and cbuf[at..at+k), so groups
 * built with distinct ranges can be in flight together. */
static unsigned build(struct udp_batch *b, struct mmsghdr *v, const unsigned *idx, unsigned k,
		      unsigned *m, unsigned at)
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
			b->giov[at + x] = b->iov[idx[x]];
		v[n].msg_hdr.msg_iov = &b->giov[at + i];
		v[n].msg_hdr.msg_iovlen = j - i;
		if (j - i > 1) {
			struct cmsghdr *c = (struct cmsghdr *)b->cbuf[at + n];
			uint16_t gso = (uint16_t)seg;
			v[n].msg_hdr.msg_control = b->cbuf[at + n];
			v[n].msg_hdr.msg_controllen = sizeof b->cbuf[at + n];
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
	unsigned m[UDP_BATCH], n = build(b, v, idx, k, m, 0), sent = 0, at = 0;

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

int udp_batch_ring_run(struct udp_batch *b, unsigned n,
		       void (*done)(void *arg, uint64_t data, int res), void *arg)
{
	uint64_t tag = (uint64_t)b->gen << 32;
	unsigned got = 0;
	int waits = 0;

	while (b->ring.pending)
		if (uring_submit(&b->ring) <= 0) /* 0: nothing taken, it would spin */
			goto broken;
	/* Each entry ran during the enter (MSG_DONTWAIT); a missing
	 * completion would mean a buffer still in the kernel's hands, so
	 * wait for it, a little, rather than reuse the buffer. */
	while (got < n) {
		struct io_uring_cqe *c = uring_peek_cqe(&b->ring);
		if (!c) {
			int w;
			if (++waits > 100 || ((w = uring_wait(&b->ring, 1)) < 0 && w != -ETIME))
				goto broken;
			continue;
		}
		if ((c->user_data & ~0xffffffffull) == tag) { /* else: an earlier run's, late */
			done(arg, c->user_data & 0xffffffffull, c->res);
			got++;
		}
		uring_cqe_seen(&b->ring);
	}
	b->gen++;
	return 0;
broken:
	/* Closing the ring cancels what it still holds, so that no entry
	 * runs later on a buffer that is reused by then. */
	b->untaken = b->ring.pending;
	uring_exit(&b->ring);
	b->uring_ok = 0;
	b->gen++;
	return -1;
}

/* The io_uring flush: every message of every group as a SENDMSG entry,
 * one enter for all; results walked in queue order afterwards. */
struct ring_flush {
	struct mmsghdr v[UDP_BATCH];
	unsigned idx[UDP_BATCH];  /* datagrams, grouped by socket */
	unsigned first[UDP_BATCH]; /* message i's first datagram in idx */
	unsigned m[UDP_BATCH];    /* message i's datagram count */
	int fd[UDP_BATCH], res[UDP_BATCH];
};

static void ring_done(void *arg, uint64_t i, int res)
{
	((struct ring_flush *)arg)->res[i] = res;
}

#define NO_RESULT INT_MIN /* no completion seen */

static int flush_ring(struct udp_batch *b, const uint8_t *done_in)
{
	struct ring_flush r;
	uint8_t done[UDP_BATCH];
	unsigned nmsg = 0, at = 0;

	memcpy(done, done_in, b->n);
	for (unsigned i = 0; i < UDP_BATCH; i++)
		r.res[i] = NO_RESULT;
	for (unsigned i = 0; i < b->n; i++) {
		unsigned k = 0, n;
		if (done[i])
			continue;
		for (unsigned j = i; j < b->n; j++) {
			if (done[j] || b->q[j].fd != b->q[i].fd)
				continue;
			done[j] = 1;
			r.idx[at + k++] = j;
		}
		n = build(b, r.v + nmsg, r.idx + at, k, r.m + nmsg, at);
		for (unsigned x = 0, d = at; x < n; d += r.m[nmsg + x], x++) {
			struct io_uring_sqe *sqe = uring_get_sqe(&b->ring);
			if (!sqe) { /* the ring holds a full batch: not reached */
				/* what was set up must never go: it points here */
				uring_exit(&b->ring);
				b->uring_ok = 0;
				return -1;
			}
			r.first[nmsg + x] = d;
			r.fd[nmsg + x] = b->q[i].fd;
			uring_prep_msg(sqe, IORING_OP_SENDMSG, b->q[i].fd, &r.v[nmsg + x].msg_hdr,
				       ((uint64_t)b->gen << 32) | (nmsg + x));
		}
		nmsg += n;
		at += k;
	}
	/* The ring failed: the messages the kernel never took (the last ones
	 * queued) go the old way; one it took may have left, so one without a
	 * completion is reported dropped rather than sent twice. */
	if (udp_batch_ring_run(b, nmsg, ring_done, &r) && b->untaken >= nmsg)
		return -1;
	for (unsigned i = 0; i < nmsg; i++) {
		const unsigned *d = r.idx + r.first[i];
		int err = r.res[i] == NO_RESULT ? -EIO : r.res[i] < 0 ? r.res[i] : 0;
		if (!b->uring_ok && i >= nmsg - b->untaken) {
			struct mmsghdr v[UDP_BATCH];
			send_group(b, r.fd[i], v, d, r.m[i]);
			continue;
		}
		if (err && r.m[i] > 1 && (err == -EIO || err == -EINVAL) && b->gso && r.res[i] != NO_RESULT) {
			/* as in send_group: this run again as single datagrams */
			struct mmsghdr v[UDP_BATCH];
			b->gso = 0;
			send_group(b, r.fd[i], v, d, r.m[i]);
			b->gso = err == -EINVAL;
			continue;
		}
		for (unsigned x = 0; x < r.m[i]; x++)
			report(b, d[x], err);
	}
	return 0;
}

void udp_batch_flush(struct udp_batch *b)
{
	struct mmsghdr v[UDP_BATCH];
	unsigned idx[UDP_BATCH];
	uint8_t done[UDP_BATCH];

	if (!b->n)
		return;
	memset(done, 0, b->n);
	/* A ring that fails is off from then on; when it took none of the
	 * batch, the batch goes the old way (flush_ring sends the rest of a
	 * batch it took part of). */
	if (b->uring_ok && !flush_ring(b, done)) {
		b->n = 0;
		return;
	}
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

void udp_batch_init(struct udp_batch *b, uv_loop_t *loop, udp_sent_cb sent, void *arg,
		    int use_uring)
{
	b->n = 0;
	b->gso = 1;
	b->gen = 1;
	/* Room for a full send batch and a round of relayed reads. */
	b->uring_ok = use_uring && !uring_init(&b->ring, 2 * UDP_BATCH + 128);
	if (!b->uring_ok) {
		memset(&b->ring, 0, sizeof b->ring);
		b->ring.fd = -1;
	}
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
	if (b->ring.fd >= 0)
		uring_exit(&b->ring);
	b->uring_ok = 0;
	if (!uv_is_closing((uv_handle_t *)&b->check))
		uv_close((uv_handle_t *)&b->check, NULL);
	if (!uv_is_closing((uv_handle_t *)&b->prepare))
		uv_close((uv_handle_t *)&b->prepare, NULL);
}
