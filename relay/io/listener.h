/* listener.h: client-facing sockets (UDP and TCP) on one libuv loop. */
#ifndef EDGELAB_LISTENER_H
#define EDGELAB_LISTENER_H

#include <uv.h>

#include "netaddr.h"
#include "server.h"

struct conn;

struct listener {
	enum transport tp;
	struct sockaddr_storage addr;
	int wildcard;          /* bound to 0.0.0.0 or :: */
	int open;              /* the handle was initialised */
	struct conn *conns;    /* accepted TCP connections, to close at exit */
	struct server *srv;
	union {
		uv_udp_t udp;
		uv_tcp_t tcp;
		uv_handle_t handle;
	} h;
	uint8_t rbuf[65536];   /* UDP receive buffer, reused for every datagram */
	uint8_t wbuf[2048];    /* answer buffer, reused likewise */
};

/* Bind and start; 0 or a negative libuv error, with *what naming the
 * failing step ("bind", "listen"). */
int listener_start(uv_loop_t *loop, struct listener *l, const char **what);
void listener_close(struct listener *l);

#endif
