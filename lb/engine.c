/* engine.c: see engine.h. */
#include "engine.h"

#include <errno.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UD_WRITE (1ull << 32)

uint32_t engine_now(const struct engine *e)
{
	return (uint32_t)(uv_now(e->loop) / 1000) - e->base + 1;
}

const char *engine_io_name(const struct engine *e)
{
	return e->uring ? "io_uring" : "read/write";
}

static uint8_t *slot(struct engine *e, unsigned i)
{
	return e->bufs + (size_t)i * ENGINE_BUFSZ;
}

/* Without io_uring: one read and one write per packet. */
static void drain_rw(struct engine *e, uint32_t now)
{
	uint8_t *buf = slot(e, 0);

	for (int i = 0; i < ENGINE_BUDGET; i++) {
		ssize_t n = read(e->tun_fd, buf, ENGINE_BUFSZ);
		int v;

		e->rounds++;
		if (n <= 0)
			break;
		e->rx++;
		v = nat_process(&e->nat, buf, (size_t)n, now);
		if (v == NAT_DROP)
			continue;
		if (v == NAT_REPLY)
			n = (ssize_t)e->nat.reply_len;
		if (write(e->tun_fd, buf, (size_t)n) == n)
			e->tx++;
		else
			e->tx_err++;
	}
}

/* Reap every completion: finished writes are counted, packets read are
 * processed and their writes queued for the next submit. Returns the
 * number of packets read. */
static unsigned reap(struct engine *e, uint32_t now)
{
	struct io_uring_cqe *cqe;
	unsigned got = 0;

	while ((cqe = uring_peek_cqe(&e->ring)) != NULL) {
		uint64_t ud = cqe->user_data;
		unsigned i = (unsigned)(ud & 0xffff);
		int res = cqe->res;
		struct io_uring_sqe *sqe;

		uring_cqe_seen(&e->ring);
		if (ud & UD_WRITE) {
			if (res >= 0 && (uint32_t)res == e->lens[i])
				e->tx++;
			else
				e->tx_err++;
			continue;
		}
		if (res == -EOPNOTSUPP || res == -EINVAL)
			e->nowait_bad = 1; /* no RWF_NOWAIT reads here */
		if (res <= 0)
			continue; /* -EAGAIN: the TUN is empty */
		got++;
		e->rx++;
		e->lens[i] = (uint32_t)res;
		switch (nat_process(&e->nat, slot(e, i), (size_t)res, now)) {
		case NAT_DROP: continue;
		case NAT_REPLY: e->lens[i] = (uint32_t)e->nat.reply_len; break;
		}
		sqe = uring_get_sqe(&e->ring);
		if (!sqe) { /* cannot happen: the ring holds two rounds */
			e->tx_err++;
			continue;
		}
		uring_prep_rw(&e->ring, sqe, IORING_OP_WRITE, e->tun_fd, slot(e, i),
			      e->lens[i], UD_WRITE | i);
	}
	return got;
}

/* Give up on io_uring for good (after the last writes went out). */
static void uring_off(struct engine *e, uint32_t now, const char *why)
{
	fprintf(stderr, "hlb: %s; using read/write\n", why);
	while (e->ring.pending && uring_submit(&e->ring) > 0)
		reap(e, now);
	uring_exit(&e->ring);
	e->uring = 0;
}

static void drain_uring(struct engine *e, uint32_t now)
{
	unsigned done = 0, half = 0;

	for (;;) {
		unsigned want = e->want, got = 0;
		int rc;

		if (done + want > ENGINE_BUDGET)
			want = done < ENGINE_BUDGET ? ENGINE_BUDGET - done : 0;
		for (unsigned j = 0; j < want; j++) {
			unsigned i = half * ENGINE_SLOTS + j;
			struct io_uring_sqe *sqe = uring_get_sqe(&e->ring);

			if (!sqe) {
				want = j;
				break;
			}
			uring_prep_rw(&e->ring, sqe, IORING_OP_READ, e->tun_fd,
				      slot(e, i), ENGINE_BUFSZ, i);
			/* io_uring ignores O_NONBLOCK on files that can be
			 * polled and would wait for a packet; RWF_NOWAIT makes
			 * an empty TUN answer -EAGAIN at once. */
			sqe->rw_flags = RWF_NOWAIT;
		}
		if (!e->ring.pending)
			break;
		/* One system call: the last round's writes, this round's
		 * reads. Both run inline on a non-blocking TUN and complete
		 * before it returns. */
		rc = uring_submit(&e->ring);
		e->rounds++;
		if (rc < 0) {
			uring_off(e, now, "io_uring_enter failed");
			return;
		}
		got = reap(e, now);
		/* Anything that did not complete inline is waited for: the
		 * next round but one reuses these buffers. */
		while (e->ring.inflight) {
			rc = uring_wait(&e->ring, 1000);
			if (rc < 0) {
				uring_off(e, now, "io_uring operations do not complete");
				return;
			}
			got += reap(e, now);
		}
		done += got;
		if (e->nowait_bad) {
			uring_off(e, now, "io_uring reads cannot be non-blocking here");
			return;
		}
		/* Reads that all came back: ask for more next time; a round
		 * that emptied the TUN: fewer. */
		if (want && got == want)
			e->want = want * 2 > ENGINE_SLOTS ? ENGINE_SLOTS : want * 2;
		else if (want && got < want / 2)
			e->want = got * 2 < 4 ? 4 : got * 2;
		if (!got && !e->ring.pending)
			break;
		half ^= 1;
	}
}

static void on_tun(uv_poll_t *h, int status, int events)
{
	struct engine *e = h->data;
	/* One timestamp for the whole wake-up: the loop's cached time. */
	uint32_t now = engine_now(e);

	(void)events;
	if (status < 0)
		return;
	e->wakeups++;
	if (e->uring)
		drain_uring(e, now);
	else
		drain_rw(e, now);
}

static void on_tick(uv_timer_t *t)
{
	struct engine *e = t->data;

	nat_tick(&e->nat, engine_now(e));
}

int engine_start(struct engine *e, uv_loop_t *loop, struct lb_config *cfg,
		 int tun_fd)
{
	const char *no = getenv("HLB_NO_URING");
	int rc;

	e->loop = loop;
	e->cfg = cfg;
	e->tun_fd = tun_fd;
	e->base = (uint32_t)(uv_now(loop) / 1000);
	e->want = 8;
	/* calloc: untouched pages cost nothing, and the contents are
	 * defined for valgrind whatever the kernel writes into them. */
	e->bufs = calloc(2 * ENGINE_SLOTS, ENGINE_BUFSZ);
	if (!e->bufs)
		return -ENOMEM;
	rc = nat_init(&e->nat, cfg, (uint32_t)time(NULL) ^ (uint32_t)getpid());
	if (rc < 0) {
		free(e->bufs);
		e->bufs = NULL;
		return rc;
	}
	e->uring = 0;
	if (!(no && *no && strcmp(no, "0"))) {
		rc = uring_init(&e->ring, 2 * ENGINE_SLOTS);
		if (rc == 0) {
			e->uring = 1;
			uring_register_fd(&e->ring, tun_fd);
		}
		else
			fprintf(stderr, "hlb: io_uring unavailable (%s); using read/write\n",
				strerror(-rc));
	}
	uv_poll_init(loop, &e->tun_poll, tun_fd);
	e->tun_poll.data = e;
	uv_poll_start(&e->tun_poll, UV_READABLE, on_tun);
	uv_timer_init(loop, &e->tick);
	e->tick.data = e;
	uv_timer_start(&e->tick, on_tick, 250, 250);
	return 0;
}

void engine_stop(struct engine *e)
{
	uv_poll_stop(&e->tun_poll);
	uv_close((uv_handle_t *)&e->tun_poll, NULL);
	uv_timer_stop(&e->tick);
	uv_close((uv_handle_t *)&e->tick, NULL);
	if (e->uring)
		uring_exit(&e->ring);
	e->uring = 0;
	free(e->bufs);
	e->bufs = NULL;
}
