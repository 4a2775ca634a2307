/* loadrun.c: one load thread: its allocations' sockets and its share of
 * the echo peer on one epoll. Send paths batch with sendmmsg, receive
 * paths with recvmmsg; every buffer is the thread's own, made once. Each
 * packet carries its send time so that the round trip
 * client → relay → peer → relay → client is measured on one clock. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

#define PAYLOAD_MAGIC 0x65647072u /* "edpr": our packets, not stray ones */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void stamp(struct load_thread *t, uint64_t ns)
{
	uint32_t magic = PAYLOAD_MAGIC;

	memcpy(t->sbuf + t->lc->hdr, &ns, 8);
	memcpy(t->sbuf + t->lc->hdr + 8, &magic, 4);
}

/* Send k frames on allocation i (all the same bytes: one stamp per batch). */
static void send_k(struct load_thread *t, struct load_alloc *a, int k, uint64_t ns)
{
	int sent = 0;

	if (k > LOAD_BATCH)
		k = LOAD_BATCH;
	stamp(t, ns);
	while (sent < k) {
		int r = sendmmsg(a->fd, t->smsg, (unsigned)(k - sent), MSG_DONTWAIT);
		if (r <= 0)
			break; /* socket buffer full: the packets were never sent */
		sent += r;
	}
	t->sent += (uint64_t)sent;
	a->inflight += sent;
}

static void hist_add(struct load_thread *t, uint64_t ns)
{
	uint64_t us = ns / 1000;
	t->hist[us < LOAD_HIST_N ? us : LOAD_HIST_N]++;
}

/* Drain one allocation's socket; returns frames that came back. */
static int recv_alloc(struct load_thread *t, struct load_alloc *a)
{
	size_t hdr = t->lc->hdr;
	int got = 0;

	for (int round = 0; round < 4; round++) {
		int n = recvmmsg(a->fd, t->rmsg, LOAD_BATCH, MSG_DONTWAIT, NULL);
		uint64_t ns;

		if (n <= 0)
			break;
		ns = now_ns();
		for (int i = 0; i < n; i++) {
			const uint8_t *p = t->rbuf[i];
			uint64_t sent_ns;
			uint32_t magic;

			/* ChannelData, or (--ms-turn) the raw payload itself */
			if (t->rmsg[i].msg_len < hdr + 12 || (hdr && (p[0] & 0xc0) != 0x40)) {
				t->garbled++;
				continue;
			}
			memcpy(&sent_ns, p + hdr, 8);
			memcpy(&magic, p + hdr + 8, 4);
			if (magic != PAYLOAD_MAGIC || sent_ns > ns) {
				t->garbled++;
				continue;
			}
			hist_add(t, ns - sent_ns);
			got++;
		}
		if (n < LOAD_BATCH)
			break;
	}
	t->rcvd += (uint64_t)got;
	a->inflight -= got;
	if (a->inflight < 0)
		a->inflight = 0;
	return got;
}

static int setup(struct load_thread *t, int *ep)
{
	struct epoll_event ev = {.events = EPOLLIN};

	*ep = epoll_create1(EPOLL_CLOEXEC);
	if (*ep < 0) {
		snprintf(t->err, sizeof t->err, "epoll: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < t->n; i++) {
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(*ep, EPOLL_CTL_ADD, t->a[i].fd, &ev)) {
			snprintf(t->err, sizeof t->err, "epoll_ctl: %s", strerror(errno));
			return -1;
		}
	}
	if (t->echo_fd >= 0) {
		ev.data.u32 = (uint32_t)t->n;
		epoll_ctl(*ep, EPOLL_CTL_ADD, t->echo_fd, &ev);
	}
	for (int i = 0; i < LOAD_BATCH; i++) {
		t->siov[i].iov_base = t->sbuf;
		t->siov[i].iov_len = t->lc->hdr + t->lc->size;
		memset(&t->smsg[i], 0, sizeof t->smsg[i]);
		t->smsg[i].msg_hdr.msg_iov = &t->siov[i];
		t->smsg[i].msg_hdr.msg_iovlen = 1;
		t->riov[i].iov_base = t->rbuf[i];
		t->riov[i].iov_len = LOAD_RMTU;
		memset(&t->rmsg[i], 0, sizeof t->rmsg[i]);
		t->rmsg[i].msg_hdr.msg_iov = &t->riov[i];
		t->rmsg[i].msg_hdr.msg_iovlen = 1;
	}
	memset(t->sbuf, 'x', t->lc->hdr + t->lc->size);
	if (t->lc->hdr)
		turn_chdata_wrap(t->sbuf, TURN_CHDATA_HDR + t->lc->size, LOAD_CHANNEL,
				 (uint16_t)t->lc->size, 0);
	return 0;
}

void *probe_load_run(void *arg)
{
	struct load_thread *t = arg;
	const struct load_cfg *lc = t->lc;
	struct epoll_event evs[256];
	double rate = lc->rate / lc->threads; /* this thread's share */
	double t0, end, stop, next_scan;
	int ep, rr = 0;

	if (setup(t, &ep))
		return NULL;
	t0 = probe_now_ms();
	end = t0 + (double)lc->seconds * 1000;
	stop = end + lc->drain_ms;
	next_scan = t0 + 100;
	if (!rate) /* flat out: fill every window, then refill on each return */
		for (int i = 0; i < t->n; i++) {
			t->a[i].last_rx = t0;
			send_k(t, &t->a[i], lc->window, now_ns());
		}
	for (;;) {
		double now = probe_now_ms();
		int sending = now < end, timeout = 1, nev;

		if (now >= stop)
			break;
		/* Every answer in: the drain has nothing left to wait for. Not
		 * when threads share an echo peer of ours: this one still echoes
		 * for the others. */
		if (!sending && t->rcvd >= t->sent && (t->echo_fd < 0 || lc->threads == 1))
			break;
		if (sending && rate) {
			/* Paced: as many as are due by now, round robin, batched. */
			double due = rate * (now - t0) / 1000.0;
			long budget = (long)(due - (double)t->sent);
			long per = budget / t->n + 1;
			for (int guard = 0; budget > 0 && guard < t->n; guard++) {
				int k = (int)(per < budget ? per : budget);
				send_k(t, &t->a[rr], k, now_ns());
				budget -= k; /* a full socket buffer: retried next round */
				rr = (rr + 1) % t->n;
			}
			/* Sleep till the next is due, at least 1 ms: spinning would
			 * take the CPU the relay under test needs (same machine).
			 * Above 1000 pps per thread that sends 1 ms bursts. */
			timeout = budget > 0 ? 0 : rate < 1000 ? (int)(1000.0 / rate) : 1;
		}
		nev = epoll_wait(ep, evs, 256, timeout);
		for (int e = 0; e < nev; e++) {
			uint32_t i = evs[e].data.u32;
			int got;

			if ((int)i == t->n) {
				t->echoed += (uint64_t)probe_echo_pump(t->echo_fd, &t->eb);
				continue;
			}
			got = recv_alloc(t, &t->a[i]);
			if (got) {
				t->a[i].last_rx = probe_now_ms();
				if (!rate && sending)
					send_k(t, &t->a[i], got, now_ns());
			}
		}
		/* Flat out: a window whose packets were all lost would stall;
		 * after 300 ms of silence, count them gone and start it again. */
		if (!rate && sending && probe_now_ms() >= next_scan) {
			now = probe_now_ms();
			next_scan = now + 100;
			for (int i = 0; i < t->n; i++)
				if (now - t->a[i].last_rx > 300) {
					t->a[i].inflight = 0;
					t->a[i].last_rx = now;
					send_k(t, &t->a[i], lc->window, now_ns());
				}
		}
	}
	close(ep);
	return NULL;
}
