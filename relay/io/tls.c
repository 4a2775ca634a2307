/* tls.c: the server TLS context (TLS 1.3, and 1.2 with ECDHE and AEAD only)
 * for TURN over TLS. */
#include <stdio.h>

#include <openssl/err.h>

#include "io/tls.h"

SSL_CTX *tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* R18: TLS 1.3 when the client has it; in 1.2 only forward-secret
	 * key exchange with AEAD ciphers (no static RSA, no CBC-SHA1). */
	if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
		snprintf(err, errlen, "no usable TLS 1.2 cipher suites");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "cannot load certificate %s: %s", cert,
			 ERR_reason_error_string(ERR_get_error()));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "cannot load key %s: %s", key,
			 ERR_reason_error_string(ERR_get_error()));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "key %s does not match certificate %s", key, cert);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_ctx_verify_clients(SSL_CTX *ctx, const char *ca_file, char *err, size_t errlen)
{
	STACK_OF(X509_NAME) *names;

	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1 ||
	    !(names = SSL_load_client_CA_file(ca_file))) {
		snprintf(err, errlen, "cannot load CA certificates from %s: %s", ca_file,
			 ERR_reason_error_string(ERR_get_error()));
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names); /* what the CertificateRequest names */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return 0;
}
