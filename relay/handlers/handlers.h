/* handlers.h: one function per TURN/STUN method, one file each. dispatch.c
 * has authenticated the request and found its allocation; each handler
 * builds its answer in s->obuf and returns its length (0: no answer now). */
#ifndef EDGELAB_HANDLERS_H
#define EDGELAB_HANDLERS_H

#include "server.h"

size_t handle_binding(struct server *s, const struct request *req, const struct stun_msg *m);
size_t handle_allocate(struct server *s, const struct request *req, const struct stun_msg *m,
		       const struct auth_ok *who);
size_t handle_allocate_again(struct server *s, const struct request *req,
			     const struct stun_msg *m, const struct auth_ok *who,
			     const struct alloc *a);
size_t handle_refresh(struct server *s, const struct request *req, const struct stun_msg *m,
		      const struct auth_ok *who, struct alloc *a);
size_t handle_create_permission(struct server *s, const struct request *req,
				const struct stun_msg *m, const struct auth_ok *who,
				struct alloc *a);
size_t handle_channel_bind(struct server *s, const struct request *req, const struct stun_msg *m,
			   const struct auth_ok *who, struct alloc *a);
size_t handle_connect(struct server *s, const struct request *req, const struct stun_msg *m,
		      const struct auth_ok *who, struct alloc *a);
size_t handle_connection_bind(struct server *s, const struct request *req,
			      const struct stun_msg *m, const struct auth_ok *who);

/* Data, which is never answered: a Send indication, a ChannelData frame
 * from a client, a datagram from a peer (the relayed sockets' callback). */
void handle_send(struct server *s, const struct stun_msg *m, struct alloc *a);
void handle_chdata(struct server *s, const struct request *req);
void handle_peer_data(void *arg, void *tag, uint8_t *data, size_t len, size_t room,
		      const struct sockaddr *from);

/* The RFC 6062 up-calls (handlers/connect.c), which the worker gives its
 * server. */
extern const struct tcp_relayed_cbs connect_cbs;
/* ms_tcp.c: the [MS-TURN] TCP allocations' up-calls, set by the worker. */
extern const struct ms_tcp_cbs ms_tcp_cbs;

/* Shared by handlers: the lifetime to grant (RFC 8656 §7.2), and one
 * XOR-PEER-ADDRESS vetted (0, or the error code 400, 403, 443); ip_only
 * for a permission, which does not look at the port. */
uint32_t lifetime_for(const struct server *s, const struct stun_msg *m);
int peer_vet(struct server *s, const struct stun_msg *m, const struct stun_attr *pa,
	     const struct alloc *a, int ip_only, struct peer *out);
const char *reason_for(int code);

/* Making an allocation, for both dialects' Allocate (alloc_create.c). err
 * is the dialect's error answer (server_error, ms_error). */
typedef size_t (*answer_error_fn)(struct server *s, const struct stun_msg *m, int code,
				  const char *reason, const struct auth_ok *who);
/* A new allocation at the request's 5-tuple with who's quota unit (taken
 * now, or unit_held: who holds it already, a reservation's), m's
 * transaction id, life seconds to live and a bandwidth bucket; or NULL
 * with the error answer's length in *n. */
struct alloc *alloc_create(struct server *s, const struct request *req, const struct stun_msg *m,
			   const struct auth_ok *who, uint32_t life, int unit_held,
			   answer_error_fn err, size_t *n);
/* Its relayed socket could not be opened (rc, a negative errno): logged,
 * a freed, and the error answer's length returned. */
size_t alloc_open_failed(struct server *s, const struct stun_msg *m, const struct auth_ok *who,
			 struct alloc *a, int rc, answer_error_fn err);
/* It is open: the connection held, the counters, the log line. */
void alloc_made(struct server *s, const struct request *req, const struct alloc *a, uint32_t life);

#endif
