/* authcrypto.c: HMAC and digests for the auth module on per-thread OpenSSL
 * contexts. Each context and algorithm is fetched once per thread and then
 * re-keyed or re-initialised per call, so a credential check allocates
 * nothing of ours (OpenSSL's own internals aside). */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "auth_int.h"

struct tls_crypto {
	EVP_MAC_CTX *hmac[2];   /* SHA1, SHA256; digest set once */
	EVP_MD_CTX *md;
	EVP_MD *md5;
	EVP_MD *sha256;
};

static _Thread_local struct tls_crypto tc;

static EVP_MAC_CTX *hmac_ctx(enum auth_hmac_alg alg)
{
	int i = alg == AUTH_HMAC_SHA256;

	if (!tc.hmac[i]) {
		OSSL_PARAM params[2];
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		EVP_MAC_CTX *ctx;

		if (!mac)
			return NULL;
		ctx = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac); /* the context keeps its own reference */
		if (!ctx)
			return NULL;
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							     i ? "SHA256" : "SHA1", 0);
		params[1] = OSSL_PARAM_construct_end();
		if (!EVP_MAC_CTX_set_params(ctx, params)) {
			EVP_MAC_CTX_free(ctx);
			return NULL;
		}
		tc.hmac[i] = ctx;
	}
	return tc.hmac[i];
}

int auth_hmac(enum auth_hmac_alg alg, const uint8_t *key, size_t keylen,
	      const struct auth_iov *iov, size_t n, uint8_t *out)
{
	EVP_MAC_CTX *ctx = hmac_ctx(alg);
	size_t outlen = 0;
	static const uint8_t empty[1];

	if (!ctx)
		return -1;
	/* HMAC with an empty key is legal; OpenSSL wants a non-NULL pointer. */
	if (!EVP_MAC_init(ctx, keylen ? key : empty, keylen, NULL))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (iov[i].len && !EVP_MAC_update(ctx, iov[i].p, iov[i].len))
			return -1;
	if (!EVP_MAC_final(ctx, out, &outlen, 32))
		return -1;
	return (int)outlen;
}

static const EVP_MD *md_get(enum stun_pw_alg alg)
{
	if (alg == STUN_PW_MD5) {
		if (!tc.md5)
			tc.md5 = EVP_MD_fetch(NULL, "MD5", NULL);
		return tc.md5;
	}
	if (alg == STUN_PW_SHA256) {
		if (!tc.sha256)
			tc.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
		return tc.sha256;
	}
	return NULL;
}

int auth_lt_key(enum stun_pw_alg alg, const char *user, size_t ulen,
		const char *realm, size_t rlen, const char *pass, size_t plen,
		uint8_t *out)
{
	const EVP_MD *md = md_get(alg);
	unsigned int n = 0;

	if (!md)
		return -1;
	if (!tc.md && !(tc.md = EVP_MD_CTX_new()))
		return -1;
	if (!EVP_DigestInit_ex(tc.md, md, NULL) ||
	    !EVP_DigestUpdate(tc.md, user, ulen) ||
	    !EVP_DigestUpdate(tc.md, ":", 1) ||
	    !EVP_DigestUpdate(tc.md, realm, rlen) ||
	    !EVP_DigestUpdate(tc.md, ":", 1) ||
	    !EVP_DigestUpdate(tc.md, pass, plen) ||
	    !EVP_DigestFinal_ex(tc.md, out, &n))
		return -1;
	return (int)n;
}

void auth_thread_cleanup(void)
{
	EVP_MAC_CTX_free(tc.hmac[0]);
	EVP_MAC_CTX_free(tc.hmac[1]);
	EVP_MD_CTX_free(tc.md);
	EVP_MD_free(tc.md5);
	EVP_MD_free(tc.sha256);
	memset(&tc, 0, sizeof tc);
}
