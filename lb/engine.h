/* engine.h: the packet loop. The TUN fd is polled by libuv; each wake-up
 * drains what the TUN holds (up to a budget, so the monitors and the
 * control socket still run under a flood) through nat_process() and
 * writes it back, on the same thread as the monitors and the control
 * socket, so the tables need no locks.
 *
 * The batches go through io_uring (uring.h): one io_uring_enter() per
 * round hands the kernel the writes of the last round's packets and the
 * reads of the next round's, so a flood costs one system call per round
 * of up to ENGINE_SLOTS packets instead of two per packet. Where io_uring
 * is not available (an old kernel, a sandbox that forbids it, or
 * HLB_NO_URING=1 in the environment) the same loop runs on read() and
 * write(). Either way nothing is allocated per packet: the buffers are
 * allocated once at start and one timestamp serves a whole wake-up. */
#ifndef HLB_ENGINE_H
#define HLB_ENGINE_H

#include <stdint.h>
#include <uv.h>

#include "nat.h"
#include "service.h"
#include "util/uring.h"

#define ENGINE_SLOTS  64    /* reads per round, at most */
#define ENGINE_BUDGET 1024  /* packets per wake-up before the loop runs */
#define ENGINE_BUFSZ  65536 /* a TUN packet of any MTU fits */

struct engine {
	uv_loop_t *loop;
	struct lb_config *cfg;
	struct nat nat;
	int tun_fd;
	uv_poll_t tun_poll;
	uv_timer_t tick;
	uint64_t rx, tx, tx_err;
	uint64_t wakeups, rounds; /* rounds: io_uring_enter or read calls */
	uint32_t base;          /* uv_now at start, so now starts at 1 */
	int uring;              /* 1: batching through io_uring */
	int nowait_bad;         /* the kernel refused RWF_NOWAIT reads */
	unsigned want;          /* reads to queue next round (adapts) */
	struct uring ring;
	/* Two halves of ENGINE_SLOTS buffers: a round reads into one half
	 * while the other half's packets are being written. */
	uint8_t *bufs;
	uint32_t lens[2 * ENGINE_SLOTS];
};

/* Open nothing: takes an already open, non-blocking TUN fd (tun_open).
 * 0 or -errno. */
int engine_start(struct engine *e, uv_loop_t *loop, struct lb_config *cfg,
		 int tun_fd);
void engine_stop(struct engine *e);
/* Seconds since start (the flow table's clock). */
uint32_t engine_now(const struct engine *e);
/* "io_uring" or "read/write". */
const char *engine_io_name(const struct engine *e);

#endif
