/* tcprelayed.h: an RFC 6062 allocation's sockets: a listening relayed TCP
 * address, connections to peers (made by Connect, or accepted from peers
 * that connect in), each waiting 30 s for a client data connection to be
 * joined to it, then spliced to it: bytes pass unframed both ways. The
 * STUN side (Connect, ConnectionAttempt, ConnectionBind, permissions) is
 * the caller's; this file only moves bytes and says what happened. */
#ifndef EDGELAB_TCPRELAYED_H
#define EDGELAB_TCPRELAYED_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "io/conn.h"
#include "io/ports.h"
#include "util/stats.h"

struct tcp_relayed;

/* Up-calls, with the env's arg.
 * peer_in: a peer connected in; return 0 to keep it waiting under id for
 *   a bind (the caller tells the client), non-zero to refuse it.
 * connected: a tcp_relayed_connect ended, exactly once: status 0 and the
 *   connection's id, a negative errno, or -ECANCELED when the relay closed
 *   first (nobody to answer; just free udata). */
struct tcp_relayed_cbs {
	int (*peer_in)(void *arg, void *tag, uint32_t id, const struct sockaddr *peer);
	void (*connected)(void *arg, void *udata, uint32_t id, int status);
};

/* One per worker: every relayed TCP socket of the worker is listed here,
 * so connection ids are unique across it and a ConnectionBind arriving
 * on any client connection finds its peer. */
struct tcp_relayed_env {
	uv_loop_t *loop;
	const struct port_range *ports;
	struct stats *st;
	const struct tcp_relayed_cbs *cb;
	void *arg;
	uint32_t max_peers;       /* peer connections per relayed socket (R18) */
	struct tcp_relayed *all;
};

/* Listen on a free port of family fam (0 IPv4, 1 IPv6). tag goes back in
 * peer_in and from tcp_relayed_find. 0 or a negative errno. */
int tcp_relayed_open(struct tcp_relayed **out, struct tcp_relayed_env *env, int fam, void *tag,
		     int *port);
/* Close the listener and every peer connection (their clients' data
 * connections too); pending connects report -ECANCELED. */
void tcp_relayed_close(struct tcp_relayed *tr);

int tcp_relayed_family(const struct tcp_relayed *tr); /* AF_INET or AF_INET6 */
/* Is there a connection to or from this peer already (RFC 6062 446)?
 * (Waiting ones whose peer has left are dropped first, as by connect.) */
int tcp_relayed_has_peer(struct tcp_relayed *tr, const struct sockaddr *peer);
/* Connect from the relayed address to peer; 0 (then `connected` runs
 * later) or a negative errno (it does not): -ENOSPC at max_peers. */
int tcp_relayed_connect(struct tcp_relayed *tr, const struct sockaddr *peer, void *udata);

/* The relayed socket holding a peer connection that waits under id, and
 * its tag; NULL if none does. */
struct tcp_relayed *tcp_relayed_find(const struct tcp_relayed_env *env, uint32_t id, void **tag);
/* Join the waiting peer connection id to client connection c: from now on
 * c carries raw bytes. 0 or a negative errno. */
int tcp_relayed_bind(struct tcp_relayed *tr, uint32_t id, struct conn *c);

#endif
