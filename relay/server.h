/* server.h: what the listeners hand a decoded packet to, and how it
 * answers. One struct server per worker thread. */
#ifndef EDGELAB_SERVER_H
#define EDGELAB_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "stun.h"

struct server {
	const char *software;
	uint64_t rx_msgs, rx_bad, tx_msgs;
};

/* One STUN message as it arrived: who sent it, on which local address and
 * transport. The answer, if any, goes back the same way. */
struct request {
	enum transport tp;
	const struct sockaddr *src;
	const struct sockaddr *local; /* NULL on a wildcard UDP socket */
	const uint8_t *buf;
	size_t len;
};

/* Handle one message; returns the length of the answer written to out
 * (0: no answer). */
size_t server_handle(struct server *srv, const struct request *req, uint8_t *out,
		     size_t cap);

/* Binding (RFC 8489 §7.3, RFC 5780 RESPONSE-ORIGIN). */
size_t binding_answer(struct server *srv, const struct request *req,
		      const struct stun_msg *m, uint8_t *out, size_t cap);
/* An error response to request m, with FINGERPRINT. */
size_t server_error(struct server *srv, const struct stun_msg *m, int code,
		    const char *reason, uint8_t *out, size_t cap);

#endif
