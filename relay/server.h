/* server.h: one worker's relay state, and the helpers the handlers answer
 * with. Each worker thread owns a struct server: its loop, its
 * allocations, its caches, its buffers and its send batch. Nothing here is
 * shared between threads except through conf. */
#ifndef EDGELAB_SERVER_H
#define EDGELAB_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "io/listener.h"
#include "io/mstcp.h"
#include "io/relayed.h"
#include "io/tcprelayed.h"
#include "io/udpbatch.h"
#include "stun/stun.h"
#include "turn/alloc.h"
#include "turn/auth.h"
#include "turn/ratelimit.h"
#include "turn/txcache.h"
#include "util/stats.h"

struct server {
	const struct avedge_conf *conf;
	struct avedge_conf *mconf;   /* the same, for the reload lock */
	uv_loop_t *loop;
	int id;
	struct alloc_table allocs;
	struct txcache tx;
	struct ratelimit rl;
	struct stats st;
	struct conn_admit admit;     /* streams held, in all and per source */
	uv_timer_t sweep;
	struct relayed_env relayed;  /* what every relayed UDP socket shares */
	struct tcp_relayed_env tcp;  /* ... and every RFC 6062 one */
	struct ms_tcp_env mstcp;     /* ... and every [MS-TURN] TCP one */
	/* Scratch for answers and Data indications: reused, never freed
	 * per packet. */
	uint8_t obuf[2048];
	struct relayed_rx rx;
	/* Datagrams from clients: room for a batch of 16 (recvmmsg takes
	 * 64 KiB slots), so one system call reads many. */
	uint8_t ibuf[16 * 65536];
	struct udp_batch out;
};

/* tcp_cbs, ms_tcp_cbs: the RFC 6062 and [MS-TURN] TCP up-calls (the
 * handlers'), given by the worker. */
int server_init(struct server *s, struct avedge_conf *conf, uv_loop_t *loop, int id,
		const struct tcp_relayed_cbs *tcp_cbs, const struct ms_tcp_cbs *ms_tcp_cbs);
void server_close(struct server *s); /* frees allocations and their sockets */
uint64_t server_now(const struct server *s);

/* Fill a listener's links to this worker: its send batch, counters and
 * receive buffer. */
void server_listener_init(struct server *s, struct listener *l);

/* Send bytes to a client along its 5-tuple (datagram or stream). */
void server_send_client(struct server *s, struct listener *l, struct conn *c,
			const struct sockaddr *client, const uint8_t *buf, size_t len);
/* ... to the client that holds allocation a. */
void server_send_alloc(struct server *s, const struct alloc *a, const uint8_t *buf, size_t len);

/* Answers are built in s->obuf; each returns the length (0: none).
 * server_error: an error answer, signed when who is given. */
size_t server_error(struct server *s, const struct stun_msg *m, int code, const char *reason,
		    const struct auth_ok *who);
/* The STUN code for a negative errno from io/: 440 for a family we do not
 * relay, 508 for the rest (no port, no memory, no socket). */
size_t server_error_errno(struct server *s, const struct stun_msg *m, int err,
			  const struct auth_ok *who);
/* A success answer: begin, add attributes, finish. */
void server_begin(struct server *s, struct stun_writer *w, const struct stun_msg *m);
size_t server_finish(struct server *s, struct stun_writer *w, const struct auth_ok *who);

/* May data go to peer (R15, R18)? ip_only: a permission, which ignores
 * the port. */
int server_peer_ok(struct server *s, const struct sockaddr *peer, int ip_only);

/* The allocation of the client at this 5-tuple, or NULL. */
struct alloc *server_alloc_find(struct server *s, const void *listener, const void *conn,
				const struct sockaddr *client);
/* Free an allocation: sockets, quota, table entry. */
void server_alloc_free(struct server *s, struct alloc *a);

#endif
