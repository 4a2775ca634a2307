/* tcprelay.h: TCP allocations (RFC 6062): a listening relayed address,
 * Connect out to peers, ConnectionAttempt for peers that connect in, and
 * ConnectionBind joining a client data connection to a peer connection. */
#ifndef EDGELAB_TCPRELAY_H
#define EDGELAB_TCPRELAY_H

#include "auth.h"
#include "server.h"

struct tcp_relay;
struct peer_conn;

/* Open the relayed TCP listener for allocation a (family fam, 0 or 1).
 * 0 or the STUN error code; fills relayed. */
int tcprelay_open(struct server *s, struct alloc *a, int fam, struct sockaddr_storage *relayed);
void tcprelay_close(struct tcp_relay *tr);

/* Connect request: answered now on error, later on success or failure. */
size_t tcprelay_connect(struct server *s, const struct request *req, const struct stun_msg *m,
			const struct auth_ok *who, struct alloc *a);
/* ConnectionBind on a new client connection. */
size_t tcprelay_connection_bind(struct server *s, const struct request *req,
				const struct stun_msg *m, const struct auth_ok *who);
/* Bytes from a bound client data connection, and its end. */
void tcprelay_from_client(struct peer_conn *pc, const uint8_t *data, size_t len);
void tcprelay_client_closed(struct peer_conn *pc);

#endif
