/* mstcp.h: an [MS-TURN] TCP allocation's sockets ([MS-TURN] 3.2.5.1: an
 * Allocate received over TCP gets a TCP allocated transport address; the
 * data path is draft-rosenberg-midcom-turn-08's): a listening relayed TCP
 * address and at most one connection per peer transport address, either
 * accepted from a peer the layer above lets in (peer_in), or opened from
 * the relayed address toward a destination the client sends to when none
 * is there. Bytes to a peer are written as they come. Bytes from a peer
 * are cut into RFC 4571 frames (a 2-byte length, then that many bytes)
 * and handed up one whole frame at a time, length included: the clients
 * frame ICE-TCP that way, and libnice takes exactly one frame from each
 * Data Indication or data frame. */
#ifndef EDGELAB_MSTCP_H
#define EDGELAB_MSTCP_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "io/ports.h"
#include "io/relayed.h"
#include "util/stats.h"

#define MSTCP_HEADROOM 64            /* free bytes in front of each frame handed up */
#define MSTCP_MAX_FRAME 8192         /* longer RFC 4571 frames end the connection */
#define MSTCP_CONNECT_TIMEOUT_MS 10000
#define MSTCP_PERMIT_WAIT_MS 5000    /* a peer that connected in waits this long for a permission */
#define MSTCP_IDLE_TIMEOUT_MS 300000 /* nothing either way: closed (a permission's life) */
#define MSTCP_QUEUE_HIGH (256 * 1024) /* queued to a peer beyond this: writes dropped */

struct ms_tcp;

/* Up-calls, with the env's arg and the socket's tag.
 * peer_in: may this peer's bytes reach the client (a permission)? 0 yes;
 *   otherwise its connection waits, unread, MSTCP_PERMIT_WAIT_MS for one
 *   (ms_tcp_admit asks again), then is reset (no TIME_WAIT left to block
 *   a later connection between the two).
 * recv: one RFC 4571 frame (n bytes, its length header included) from
 *   peer, MSTCP_HEADROOM writable bytes in front of it; it must not close
 *   the socket it is called for. */
struct ms_tcp_cbs {
	int (*peer_in)(void *arg, void *tag, const struct sockaddr *peer);
	relayed_recv_cb recv;
};

/* One per worker. */
struct ms_tcp_env {
	uv_loop_t *loop;
	const struct port_range *ports;
	struct stats *st;
	const struct ms_tcp_cbs *cb;
	void *arg;
	uint32_t max_peers;       /* connections per relayed address (R18) */
};

/* Listen on a free relay port of family fam (0 IPv4, 1 IPv6). 0 or a
 * negative errno. */
int ms_tcp_open(struct ms_tcp **out, struct ms_tcp_env *env, int fam, void *tag, int *port);
/* Write len bytes to peer, on its connection, or on a new one from the
 * relayed address (written once it is up). 0; -ENOSPC at max_peers
 * when none of them waits for a permission (the oldest that does is reset
 * to make room; a permitted peer connecting in does the same);
 * -ENOBUFS when over MSTCP_QUEUE_HIGH is queued to it (nothing written,
 * so RFC 4571 frames stay whole); another negative errno. */
int ms_tcp_send(struct ms_tcp *t, const struct sockaddr *peer, const uint8_t *data, size_t len);
/* A permission was added: connections waiting for one ask peer_in again. */
void ms_tcp_admit(struct ms_tcp *t);
/* How many peer connections are open or opening. */
uint32_t ms_tcp_count(const struct ms_tcp *t);
/* Close the listener and every connection. */
void ms_tcp_close(struct ms_tcp *t);

/* The length of the RFC 4571 frame at the head of p (have bytes): 0 when
 * more bytes are needed, -1 when it is longer than max. Pure: unit-tested. */
long ms_tcp_frame_len(const uint8_t *p, size_t have, size_t max);

#endif
