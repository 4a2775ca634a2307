/* engine.c: see engine.h. */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint32_t engine_now(const struct engine *e)
{
	return (uint32_t)(uv_now(e->loop) / 1000) - e->base + 1;
}

static void on_tun(uv_poll_t *h, int status, int events)
{
	struct engine *e = h->data;
	uint32_t now = engine_now(e);

	if (status < 0)
		return;
	/* A bounded batch, so timers and the control socket still run
	 * under a flood. */
	for (int i = 0; i < ENGINE_BATCH; i++) {
		ssize_t n = read(e->tun_fd, e->buf, sizeof(e->buf));
		int v;

		if (n <= 0)
			break;
		e->rx++;
		v = nat_process(&e->nat, e->buf, (size_t)n, now);
		if (v == NAT_DROP)
			continue;
		if (write(e->tun_fd, e->buf, (size_t)n) == n)
			e->tx++;
		else
			e->tx_err++;
	}
}

static void on_tick(uv_timer_t *t)
{
	struct engine *e = t->data;

	nat_tick(&e->nat, engine_now(e));
}

int engine_start(struct engine *e, uv_loop_t *loop, struct lb_config *cfg,
		 int tun_fd)
{
	int rc;

	e->loop = loop;
	e->cfg = cfg;
	e->tun_fd = tun_fd;
	e->base = (uint32_t)(uv_now(loop) / 1000);
	rc = nat_init(&e->nat, cfg, (uint32_t)time(NULL) ^ (uint32_t)getpid());
	if (rc < 0)
		return rc;
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
}
