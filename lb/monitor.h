/* monitor.h: health monitors (R23): TCP connect, TLS handshake, STUN
 * Binding over UDP, every interval per real, each probe bounded by its
 * timeout. rise good results in a row bring a real up, fall bad ones
 * take it down; a real that goes down loses its flows so the clients'
 * next packets pick a live one.
 *
 * The timeout bounds the server, not hlb's own loop. It runs from the
 * moment the probe is sent (the loop's clock is brought up to date
 * first). When it fires, what the socket already holds is looked at
 * before the probe is called failed: the loop is shared with the packet
 * path, and for a dnat service the answers to the monitors come back
 * through the TUN themselves (the reply rules steer everything from a
 * real's service port), so an answer can reach the socket in the same
 * wake-up that fires the timer, before the loop has polled the socket
 * again. A STUN probe sends its request again, same transaction, at
 * half the timeout (RFC 8489 section 6.2.1, cut to one retransmission):
 * one datagram lost on a busy host is not a failed probe. */
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
	int events;             /* UV_READABLE or UV_WRITABLE: what it waits for */
	int at_deadline;        /* the deadline is looking at the socket */
	uint64_t sent;          /* loop time (ms) the probe went out */
	uint32_t retx;          /* requests sent again in this probe */
	SSL *ssl;
	uint8_t tid[12];
	uint8_t req[64];        /* the STUN request, for its retransmission */
	int reqlen;
};

struct monitor {
	struct engine *e;
	SSL_CTX *ssl_ctx;
	struct mon_probe probes[LB_MAX_SERVICES * LB_MAX_REALS];
	int n;
	int closing;
};

/* Probes every monitored real of e's services on e's loop. */
int monitor_start(struct monitor *m, struct engine *e);
void monitor_stop(struct monitor *m);

/* Apply one probe result to a real: +1 when it just came up, -1 when it
 * just went down, 0 otherwise. Pure, for the tests. */
int monitor_note(const struct lb_monitor_cfg *mc, struct lb_real *r, int ok);

#endif
