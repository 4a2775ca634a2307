/* relay.h: an allocation's relayed sockets (UDP, one per address family)
 * and its path back to the client. */
#ifndef EDGELAB_RELAY_H
#define EDGELAB_RELAY_H

#include <uv.h>

#include "alloc.h"
#include "server.h"

struct relay_io {
	struct alloc *a;
	struct server *srv;
	struct listener *l;       /* the client's listener ... */
	struct conn *conn;        /* ... and stream, for TCP/TLS clients */
	uv_poll_t poll[2];        /* [0] IPv4, [1] IPv6: read with recvmmsg */
	int fd[2];
	uint8_t open_mask, closing;
	struct tcp_relay *tcp;    /* RFC 6062 allocations only */
	/* --max-bps: a token bucket in bytes, refilled per millisecond. */
	uint64_t tokens, refill_at;
};

/* Open relayed sockets for the families in a->family_mask on ports from
 * the configured range (even port if asked; reserve the next one when
 * reserve != 0, returning its token). Fills relayed[] with the public
 * addresses. 0, or the STUN error code to answer (508, 440). */
int relay_open(struct server *s, struct alloc *a, int even, int reserve, uint64_t token_in,
	       uint64_t *token_out, int dont_fragment, struct sockaddr_storage relayed[2],
	       struct listener *l, struct conn *conn);
/* Close the sockets; frees the relay_io once libuv is done with it. */
void relay_close(struct relay_io *io);
/* Send to a peer from the relayed address of its family: queued for the
 * end of the loop iteration (server_udp_send), where it counts for the
 * allocation once sent. 0, or a negative errno if it cannot be queued. */
int relay_send(struct relay_io *io, const struct sockaddr *peer, const uint8_t *data,
	       size_t len);
/* Spend len bytes of the allocation's bandwidth; 0 if over the cap. */
int relay_bw_take(struct relay_io *io, size_t len, uint64_t now);

/* A listening TCP socket on a free port of the range, with SO_REUSEPORT
 * so Connects can leave from the same address (RFC 6062). fd or -errno. */
int relay_stream_listener(const struct relay_conf *c, int fam, int *port);
void relay_stream_release(int port);

/* Reservations (EVEN-PORT R bit): a bound socket held for 30 s under a
 * token, claimable from any worker. */
void relay_reservations_expire(uint64_t now);
void relay_reservations_free(void);

#endif
