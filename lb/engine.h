/* engine.h: the packet loop. The TUN fd is polled by libuv; each wake-up
 * drains a batch of packets through nat_process() and writes them back,
 * on the same thread as the monitors and the control socket, so the
 * tables need no locks. */
#ifndef HLB_ENGINE_H
#define HLB_ENGINE_H

#include <stdint.h>
#include <uv.h>

#include "nat.h"
#include "service.h"

#define ENGINE_BATCH 256

struct engine {
	uv_loop_t *loop;
	struct lb_config *cfg;
	struct nat nat;
	int tun_fd;
	uv_poll_t tun_poll;
	uv_timer_t tick;
	uint64_t rx, tx, tx_err;
	uint32_t base;          /* uv_now at start, so now starts at 1 */
	uint8_t buf[65536];
};

/* Open nothing: takes an already open TUN fd (tun_open). 0 or -errno. */
int engine_start(struct engine *e, uv_loop_t *loop, struct lb_config *cfg,
		 int tun_fd);
void engine_stop(struct engine *e);
/* Seconds since start (the flow table's clock). */
uint32_t engine_now(const struct engine *e);

#endif
