/* tls.h: the server TLS context for TURN over TLS. */
#ifndef EDGELAB_TLS_H
#define EDGELAB_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* Load cert and key; NULL with a one-line reason in err. */
SSL_CTX *tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen);

/* Mutual TLS (MRAS, [MS-AVEDGEA]): every client must present a
 * certificate that chains to one in ca_file, or the handshake fails.
 * 0, or -1 with a one-line reason in err. */
int tls_ctx_verify_clients(SSL_CTX *ctx, const char *ca_file, char *err, size_t errlen);

#endif
