/* tls.h: the server TLS context for TURN over TLS. */
#ifndef EDGELAB_TLS_H
#define EDGELAB_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* Load cert and key; NULL with a one-line reason in err. */
SSL_CTX *tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen);

#endif
