/* listener.h: client-facing sockets: UDP, TCP and TLS, one set per worker
 * (SO_REUSEPORT spreads clients over the workers, and a client's 5-tuple
 * always lands on the same one). */
#ifndef EDGELAB_LISTENER_H
#define EDGELAB_LISTENER_H

#include <openssl/ssl.h>
#include <uv.h>

#include "netaddr.h"
#include "server.h"

#define CONN_BUF 16384

struct listener {
	enum transport tp;
	struct sockaddr_storage addr;
	int wildcard;          /* bound to 0.0.0.0 or :: */
	int open;              /* the handle was initialised */
	struct server *srv;
	SSL_CTX *tls;          /* TP_TLS only, shared and read-only */
	struct conn *conns;    /* accepted connections, to close at exit */
	union {
		uv_udp_t udp;
		uv_tcp_t tcp;
		uv_handle_t handle;
	} h;
};

/* One accepted stream (TCP or TLS). */
struct conn {
	uv_tcp_t tcp;
	struct conn *prev, *next;
	struct listener *l;
	struct sockaddr_storage peer, local;
	SSL *ssl;
	BIO *rbio, *wbio;      /* TLS: ciphertext in and out */
	int closing;
	struct peer_conn *pipe; /* RFC 6062 data connection: raw bytes to a peer */
	size_t rlen;
	uint8_t rbuf[CONN_BUF];
};

/* Check that the address is free, then bind with SO_REUSEPORT so that the
 * other workers can bind it too. 0 or a negative errno, with *what naming
 * the failing step. */
int listener_probe(const struct listen_spec *spec, const char **what);
int listener_start(uv_loop_t *loop, struct listener *l, const char **what);
void listener_close(struct listener *l);

/* Write to a stream (TLS-encrypted where the stream is TLS). */
void conn_send(struct conn *c, const uint8_t *data, size_t len);
void conn_close(struct conn *c);
/* UDP: send to a client from the listener's socket, at the end of the
 * loop iteration (server_udp_send). 0, or a negative libuv error. */
int listener_send_udp(struct listener *l, const struct sockaddr *to, const uint8_t *data,
		      size_t len);

SSL_CTX *tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen);

#endif
