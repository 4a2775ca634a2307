/* server.h: one worker's relay state, and the entry points the listeners
 * and relay sockets call. Each worker thread owns a struct server: its
 * loop, its allocations, its caches. Nothing here is shared between
 * threads except through conf. */
#ifndef EDGELAB_SERVER_H
#define EDGELAB_SERVER_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "alloc.h"
#include "conf.h"
#include "netaddr.h"
#include "ratelimit.h"
#include "stats.h"
#include "stun.h"
#include "txcache.h"

struct listener;
struct conn;

/* A loop iteration's outgoing datagrams. Sending is most of a relay's
 * work, one system call per datagram; queued here instead, they leave
 * with one sendmmsg per socket when the iteration's I/O is done (a
 * uv_check), or earlier when the batch is full. Copies in fixed slots:
 * nothing is allocated per datagram. Order per socket is kept. */
#define UDP_BATCH 64
#define UDP_SLOT 2048

struct udp_out {
	int fd;
	socklen_t tolen;
	struct alloc *a;     /* to a peer: the allocation it counts for once sent */
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} to;
};

/* Datagrams from peers: one recvmmsg reads up to RELAY_BATCH of a relayed
 * socket's. Each slot leaves headroom for a ChannelData header. */
#define RELAY_BATCH 8
#define RELAY_HEADROOM 64

struct relay_rx {
	struct mmsghdr msg[RELAY_BATCH];
	struct iovec iov[RELAY_BATCH];
	struct sockaddr_storage from[RELAY_BATCH];
	uint8_t buf[RELAY_BATCH][RELAY_HEADROOM + 65536];
};

struct udp_batch {
	/* Flushed after each poll (check) and before the loop blocks
	 * (prepare), so a datagram queued by a timer never waits for I/O. */
	uv_check_t check;
	uv_prepare_t prepare;
	unsigned n;
	struct udp_out q[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	uint8_t slot[UDP_BATCH][UDP_SLOT];
};

struct server {
	const struct relay_conf *conf;
	struct relay_conf *mconf;   /* the same, for the reload lock */
	uv_loop_t *loop;
	int id;
	struct alloc_table allocs;
	struct txcache tx;
	struct ratelimit rl;
	struct stats st;
	uv_timer_t sweep;
	/* Scratch for answers and Data indications: reused, never freed
	 * per packet. */
	uint8_t obuf[2048];
	struct relay_rx rx;
	/* Datagrams from clients: room for a batch of 16 (recvmmsg takes
	 * 64 KiB slots), so one system call reads many. */
	uint8_t ibuf[16 * 65536];
	struct udp_batch out;
};

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

int server_init(struct server *s, struct relay_conf *conf, uv_loop_t *loop, int id);
void server_close(struct server *s); /* frees allocations and their sockets */

/* A STUN message from a client. Answers go back the way it came. */
void server_on_stun(struct server *s, const struct request *req);
/* A ChannelData frame from a client. */
void server_on_chdata(struct server *s, const struct request *req);
/* A client stream closed: its allocation (if any) ends with it. */
void server_on_conn_closed(struct server *s, struct conn *c, const struct sockaddr *client,
			   struct listener *l);

/* Send bytes to a client along its 5-tuple (datagram or stream). */
void server_send_client(struct server *s, struct listener *l, struct conn *c,
			const struct sockaddr *client, const uint8_t *buf, size_t len);
uint64_t server_now(const struct server *s);

/* Send a datagram from socket fd at the end of this loop iteration. With
 * a, it goes to one of a's peers and counts for a once sent; without, a
 * failed send counts as a drop (to a client). */
void server_udp_send(struct server *s, int fd, const struct sockaddr *to, const uint8_t *data,
		     size_t len, struct alloc *a);
/* Send what is queued now: before a socket closes, and once per iteration. */
void server_udp_flush(struct server *s);

/* Handlers, one file each. Each returns the answer's length in s->obuf
 * (0: no answer). */
struct stun_msg;
struct auth_ok;
size_t binding_answer(struct server *s, const struct request *req, const struct stun_msg *m);
size_t turn_allocate(struct server *s, const struct request *req, const struct stun_msg *m,
		     const struct auth_ok *who);
size_t turn_refresh(struct server *s, const struct request *req, const struct stun_msg *m,
		    const struct auth_ok *who, struct alloc *a);
size_t turn_create_permission(struct server *s, const struct request *req,
			      const struct stun_msg *m, const struct auth_ok *who, struct alloc *a);
size_t turn_channel_bind(struct server *s, const struct request *req, const struct stun_msg *m,
			 const struct auth_ok *who, struct alloc *a);
void turn_send_indication(struct server *s, const struct stun_msg *m, struct alloc *a);

/* Error answer to m; signed when who is given. */
size_t server_error(struct server *s, const struct stun_msg *m, int code, const char *reason,
		    const struct auth_ok *who);
/* Start a success answer; the handler adds attributes and calls
 * server_finish. */
void server_begin(struct server *s, struct stun_writer *w, const struct stun_msg *m);
size_t server_finish(struct server *s, struct stun_writer *w, const struct auth_ok *who);
/* Free an allocation: sockets, quota, table entry. */
void server_alloc_free(struct server *s, struct alloc *a);

#endif
