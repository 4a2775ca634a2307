/* monitor.h: health monitors (R23): TCP connect, TLS handshake, STUN
 * Binding over UDP, every interval per real, each probe bounded by its
 * timeout. rise good results in a row bring a real up, fall bad ones
 * take it down; a real that goes down loses its flows so the clients'
 * next packets pick a live one. */
#ifndef HLB_MONITOR_H
#define HLB_MONITOR_H

#include <openssl/ssl.h>
#include <stdint.h>
#include <uv.h>

#include "engine.h"
#include "service.h"

struct monitor;

struct mon_probe {
	struct monitor *m;
	int svc, real;
	uv_timer_t every;       /* interval */
	uv_timer_t deadline;    /* the running probe's timeout */
	uv_poll_t poll;
	int fd;                 /* -1 when no probe runs */
	int polling;
	int poll_closing;       /* poll handle not yet reusable */
	SSL *ssl;
	uint8_t tid[12];
};

struct monitor {
	struct engine *e;
	SSL_CTX *ssl_ctx;
	struct mon_probe probes[LB_MAX_SERVICES * LB_MAX_REALS];
	int n;
	int closing;
};

int monitor_start(struct monitor *m, uv_loop_t *loop, struct engine *e);
void monitor_stop(struct monitor *m);

/* Apply one probe result to a real: +1 when it just came up, -1 when it
 * just went down, 0 otherwise. Pure, for the tests. */
int monitor_note(const struct lb_monitor_cfg *mc, struct lb_real *r, int ok);

#endif
