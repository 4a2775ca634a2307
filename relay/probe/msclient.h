/* msclient.h: edgeprobe's blocking [MS-TURN] client session: one socket,
 * one allocation. Shared by `allocate --ms-turn` (msallocate.c) and
 * `load --ms-turn` (load.c), so that the dialect is spoken one way. */
#ifndef EDGELAB_PROBE_MSCLIENT_H
#define EDGELAB_PROBE_MSCLIENT_H

#include <sys/types.h>

#include "stun/msturn.h"
#include "turnc.h"

struct ms_client {
	int fd;                         /* the caller's: opened and closed elsewhere */
	struct sockaddr_storage server; /* where requests go (UDP) */
	int stream, timeout_ms, sha256;
	unsigned version;
	int want_v6;
	const char *user, *pass;
	char realm[256];
	uint8_t nonce[256];
	size_t noncelen;
	uint8_t key[32];
	int authed;
	uint8_t conn_id[MSTURN_CONN_ID_LEN];
	uint32_t seq;
	int have_seq;
	int mux;                        /* the answer gave a Multiplexed TURN Session ID */
	uint8_t mux_id[MSTURN_MUX_ID_LEN];
	struct sockaddr_storage src; /* sender of the last datagram read */
	uint8_t *rbuf;               /* the caller's receive buffer, rcap bytes */
	size_t rcap;
	struct stun_msg m;
	char err[256];
};

/* Sets c->err from fmt and a; returns -1. */
int msc_fail(struct ms_client *c, const char *fmt, const char *a);
/* Exactly n bytes from a stream: 0, or -1 at the deadline, -2 when the
 * server closed, -3 on a reset or other error (errno). */
int msc_read_n(struct ms_client *c, uint8_t *buf, size_t n, double deadline);
/* One message to the server (framed as control on a stream). */
int msc_send(struct ms_client *c, const uint8_t *msg, size_t n);
/* The answer to req (same transaction id) into c->m; UDP retransmits. */
int msc_transact(struct ms_client *c, const uint8_t *req, size_t n);
/* One Allocate (LIFETIME unless lifetime < 0): 0 with the answer in c->m,
 * else -1 with c->err and the error code in *code. */
int msc_allocate(struct ms_client *c, long lifetime, int *code);
/* Take NONCE and REALM from the 401 in c->m; the key for what follows. */
int msc_challenge(struct ms_client *c);
/* The whole allocation: Allocate, the 401, the signed Allocate; keeps the
 * MS-Sequence Number the server chose. */
int msc_start(struct ms_client *c, long lifetime, int *code);
/* The pseudo-TLS exchange that opens a TCP 443 connection. */
int msc_pseudo_tls(struct ms_client *c);
/* A signed request on the allocation into out; its length or -1. */
int msc_signed(struct ms_client *c, uint16_t type, const struct sockaddr *dest, const void *data,
	       size_t len, uint8_t *out, size_t cap);
/* Set Active Destination to peer, its signed success verified. */
int msc_set_active(struct ms_client *c, const struct sockaddr_storage *peer);
/* Data for the active destination: bare, or (id not NULL) wrapped in a
 * 2.2.3 multiplexed packet naming session id; over a stream inside a
 * type-3 frame. 0, or -1. */
int msc_send_data(struct ms_client *c, const uint8_t *data, size_t n, const uint8_t *id);
/* The next thing from the server: an [MS-TURN] message (1, in c->m), raw
 * data (2, n bytes at c->rbuf), or -1 at the deadline. */
int msc_next_in(struct ms_client *c, double end, size_t *n);

#endif
