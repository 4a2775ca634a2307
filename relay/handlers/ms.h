/* ms.h: the [MS-TURN] dialect's handlers (R19), beside the IETF ones: one
 * file per method. dispatch.c tells the dialects apart by the header (no
 * 0x2112A442 cookie, the Magic Cookie attribute first) and, over TCP, by
 * the 2.1.4 framing; the handlers answer into s->obuf + MSTURN_FRAME_HDR so
 * that a stream's framing header fits in front (ms_reply).
 *
 *   ms_allocate.c  Allocate: the digest challenge, new allocations,
 *                  refresh and release (LIFETIME), retransmits
 *   ms_send.c      Send request (never answered), and raw data from a
 *                  client once a destination is active, bare or in
 *                  multiplexed packets (MS-Version 5 and 6)
 *   ms_activedest.c  Set Active Destination
 *   ms_tcp.c       TCP allocations (an Allocate over TCP): who may connect in
 *   ms_data.c      datagrams from peers: raw to the active destination's
 *                  client, else a Data Indication; answers and framing
 *
 * Credentials are the IETF side's (--user, --auth-secret): the long-term
 * key MD5(user:realm:password), checked by turn/auth.c through the
 * codec's dialect-neutral REALM/NONCE. An [MS-TURN] allocation keeps that
 * key, its MS-Version and its MS-Sequence Number connection id (struct
 * alloc_ms); Send and Set Active Destination, which carry no NONCE, are
 * checked against it. */
#ifndef EDGELAB_HANDLERS_MS_H
#define EDGELAB_HANDLERS_MS_H

#include "server.h"
#include "stun/msturn.h"

/* An Allocate, authenticated (who) or not (who NULL: answered with the
 * challenge by the caller). */
size_t ms_handle_allocate(struct server *s, const struct request *req, const struct stun_msg *m,
			  const struct auth_ok *who);
size_t ms_handle_set_active_dest(struct server *s, const struct request *req,
				 const struct stun_msg *m, struct alloc *a);
void ms_handle_send(struct server *s, const struct request *req, const struct stun_msg *m);

/* Raw data from the client of an [MS-TURN] allocation with an active
 * destination (UDP datagrams that are not control messages; type-3
 * frames over TCP). 1 if it was theirs (sent or dropped), 0 if the
 * 5-tuple has no such allocation. */
int ms_client_data(struct server *s, const struct request *req, const uint8_t *data, size_t len);

/* A Multiplexed TURN packet (2.2.3, 0xFF10: a UDP datagram, or a type-3
 * frame's payload): to the active destination of the allocation whose
 * session id it carries; else dropped and counted. */
void ms_client_mux(struct server *s, const struct request *req, const uint8_t *buf, size_t len);

/* A permission was added to a: TCP peers that connected in before it may
 * now be let in (ms_tcp.c). */
void ms_tcp_permitted(struct alloc *a);

/* The relayed sockets' callback for [MS-TURN] allocations: a datagram, or
 * over a TCP allocation one RFC 4571 frame of a peer's stream. */
void ms_peer_data(void *arg, void *tag, uint8_t *data, size_t len, size_t room,
		  const struct sockaddr *from);

/* Answers: an error (signed when who is given), the 401/438 challenge. */
size_t ms_error(struct server *s, const struct stun_msg *m, int code, const char *reason,
		const struct auth_ok *who);
size_t ms_challenge(struct server *s, const struct stun_msg *m, int code, const char *reason,
		    const struct sockaddr *client);
/* Send n bytes built at s->obuf + MSTURN_FRAME_HDR (framed on a stream);
 * from elsewhere (a cached answer), they are copied there first. */
void ms_reply(struct server *s, const struct request *req, const uint8_t *msg, size_t n);
/* The message's integrity against a key: 0, or a negative stun_err. */
int ms_check_key(const struct stun_msg *m, const struct alloc_ms *ms);

/* Where answers are built. */
#define MS_OBUF(s) ((s)->obuf + MSTURN_FRAME_HDR)
#define MS_OBUF_CAP(s) (sizeof (s)->obuf - MSTURN_FRAME_HDR)

#endif
