/* listener.h: client-facing sockets: UDP, TCP and TLS, one set per worker
 * (SO_REUSEPORT spreads clients over the workers, and a client's 5-tuple
 * always lands on the same one). A listener hands each message up through
 * the callbacks it was made with; it knows nothing of STUN beyond framing. */
#ifndef EDGELAB_LISTENER_H
#define EDGELAB_LISTENER_H

#include <openssl/ssl.h>
#include <uv.h>

#include "io/admit.h"
#include "io/udpbatch.h"
#include "util/netaddr.h"
#include "util/refuse.h"
#include "util/stats.h"

struct listener;
struct conn;

/* One message as it arrived: who sent it, on which listener/connection. */
struct request {
	enum transport tp;
	struct listener *l;
	struct conn *conn;            /* streams only */
	const struct sockaddr *src;
	const struct sockaddr *local; /* NULL on a wildcard UDP socket */
	const uint8_t *buf;
	size_t len;
};

/* Up-calls, with the arg given here. on_msg: a whole STUN message or
 * ChannelData frame. on_conn_closing (may be NULL): a stream's socket has
 * just been closed, maybe from inside a read or write: give back what it
 * counted, free nothing. on_conn_closed: it has closed (called from its
 * close callback, never from inside a read or write). */
struct listener_cbs {
	void (*on_msg)(void *arg, const struct request *req);
	void (*on_conn_closing)(void *arg, struct conn *c);
	void (*on_conn_closed)(void *arg, struct conn *c);
	void *arg;
};

/* UDP datagrams read per recvmmsg, each into its own 64 KiB of scratch,
 * and at most LISTENER_ROUNDS calls per wake-up (libuv's 32 datagrams). */
#define LISTENER_BATCH 16
#define LISTENER_ROUNDS 2

struct listener {
	enum transport tp;
	struct sockaddr_storage addr;
	int wildcard;          /* bound to 0.0.0.0 or :: */
	int open;              /* the handle was initialised */
	int closing;           /* listener_close: connections close without up-calls */
	SSL_CTX *tls;          /* TP_TLS only, shared and read-only */
	struct listener_cbs cb;
	/* Streams: the length of the frame at the head of p (0: more bytes
	 * needed, -1: garbage), for a protocol other than STUN/MS-TURN (MRAS's
	 * SIP); no pseudo-TLS sniffing then. NULL: STUN/MS-TURN framing. */
	ssize_t (*frame)(const uint8_t *p, size_t len);
	struct udp_batch *out; /* the worker's send batch */
	struct stats *st;      /* the worker's counters */
	uint8_t *scratch;      /* the worker's receive buffer */
	size_t scratch_len;
	const struct conn_limits *lim; /* streams: caps and timeouts ... */
	struct conn_admit *admit;      /* ... and the worker's count, shared by its listeners */
	uv_timer_t sweep;              /* streams: enforces the timeouts */
	unsigned freed;                /* connections freed since the last sweep */
	struct conn *conns;    /* accepted connections, to close at exit */
	union {
		uv_poll_t udp;     /* UDP: read here (listener.c says why not uv_udp_t) */
		uv_tcp_t tcp;
		uv_handle_t handle;
	} h;
	int fd;                /* UDP: the socket (a poll handle does not own it) */
	struct refuse_wait refusing; /* streams: util/refuse.h */
	/* UDP: one recvmmsg's headers; the datagrams land in scratch */
	struct mmsghdr msg[LISTENER_BATCH];
	struct iovec iov[LISTENER_BATCH];
	struct sockaddr_storage from[LISTENER_BATCH];
};

/* Check that addr is free for tp (a plain bind, no SO_REUSEPORT). 0 or a
 * negative errno. */
int listener_probe(const struct sockaddr_storage *addr, enum transport tp);
/* Bind l->addr with SO_REUSEPORT (the other workers bind it too) and start
 * reading. Fill tp, addr, tls, cb, out, st and scratch first (streams:
 * lim and admit too). 0 or a
 * negative errno, with *what naming the failing step. */
int listener_start(uv_loop_t *loop, struct listener *l, const char **what);
void listener_close(struct listener *l);

/* UDP: send to a client from the listener's socket, at the end of the
 * loop iteration. 0, or a negative errno. */
int listener_send_udp(struct listener *l, const struct sockaddr *to, const uint8_t *data,
		      size_t len);

#endif
