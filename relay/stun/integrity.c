/* integrity.c: MESSAGE-INTEGRITY (HMAC-SHA1) and MESSAGE-INTEGRITY-SHA256,
 * the long-term key (RFC 8489 §9.2.2) and USERHASH (§14.4). */
#include <stdio.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "stun.h"
#include "stun_int.h"

/* One MAC context per thread and digest, made once and re-keyed per call,
 * so checking integrity does not allocate. */
static _Thread_local EVP_MAC_CTX *mac_ctxs[2];

void stun_thread_cleanup(void)
{
	for (int i = 0; i < 2; i++) {
		EVP_MAC_CTX_free(mac_ctxs[i]);
		mac_ctxs[i] = NULL;
	}
}

static EVP_MAC_CTX *mac_ctx(int sha256)
{
	int i = sha256 ? 1 : 0;

	if (!mac_ctxs[i]) {
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (!mac)
			return NULL;
		mac_ctxs[i] = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac); /* the context holds its own reference */
	}
	return mac_ctxs[i];
}

int stun_hmac(int sha256, const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len,
	      uint16_t hdr_len, int pad64, uint8_t *out)
{
	static const uint8_t zeros[64];
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = mac_ctx(sha256);
	uint8_t hdr[STUN_HDR_LEN];
	size_t outlen = 0, pad = pad64 && len % 64 ? 64 - len % 64 : 0;

	if (!ctx || len < STUN_HDR_LEN)
		return -1;
	/* A NULL key would make OpenSSL keep the previous call's key. */
	if (!key) {
		key = (const uint8_t *)"";
		keylen = 0;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     sha256 ? "SHA256" : "SHA1", 0);
	params[1] = OSSL_PARAM_construct_end();
	memcpy(hdr, msg, STUN_HDR_LEN);
	wr16(hdr + 2, hdr_len);
	if (!EVP_MAC_init(ctx, key, keylen, params) ||
	    !EVP_MAC_update(ctx, hdr, sizeof hdr) ||
	    !EVP_MAC_update(ctx, msg + STUN_HDR_LEN, len - STUN_HDR_LEN) ||
	    (pad && !EVP_MAC_update(ctx, zeros, pad)) ||
	    !EVP_MAC_final(ctx, out, &outlen, 32))
		return -1;
	return 0;
}

/* [MS-TURN]: HMAC-SHA1 (20 bytes) or HMAC-SHA256 (32) over the message up
 * to the attribute, zero-padded to 64 bytes as its clients compute it
 * (libnice's stun_sha1 with padding); the unpadded form is accepted too. */
static int check_ms(const struct stun_msg *m, const uint8_t *key, size_t keylen)
{
	const struct stun_attr *a;
	uint8_t mac[32];

	if (m->mi < 0)
		return STUN_E_MISSING;
	a = &m->attrs[m->mi];
	for (int pad64 = 1; pad64 >= 0; pad64--)
		if (!stun_hmac(a->len == 32, key, keylen, m->buf, a->off,
			       (uint16_t)(a->off + 4 + a->len - STUN_HDR_LEN), pad64, mac) &&
		    !CRYPTO_memcmp(mac, a->val, a->len))
			return 0;
	return STUN_E_INTEGRITY;
}

int stun_msg_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen)
{
	const struct stun_attr *a;
	uint8_t mac[32];
	int sha256;

	if (m->ms)
		return check_ms(m, key, keylen);
	if (m->mi256 >= 0) { /* the stronger one wins when both are present */
		a = &m->attrs[m->mi256];
		sha256 = 1;
	} else if (m->mi >= 0) {
		a = &m->attrs[m->mi];
		sha256 = 0;
	} else {
		return STUN_E_MISSING;
	}
	if (stun_hmac(sha256, key, keylen, m->buf, a->off,
		      (uint16_t)(a->off + 4 + a->len - STUN_HDR_LEN), 0, mac))
		return STUN_E_INTEGRITY;
	/* MI-SHA256 may be truncated to 16..32 bytes; compare what was sent. */
	return CRYPTO_memcmp(mac, a->val, a->len) ? STUN_E_INTEGRITY : 0;
}

static int digest3(const EVP_MD *md, const char *a, const char *b, const char *c,
		   uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) &&
		 EVP_DigestUpdate(ctx, a, strlen(a)) && EVP_DigestUpdate(ctx, ":", 1) &&
		 EVP_DigestUpdate(ctx, b, strlen(b)) &&
		 (!c || (EVP_DigestUpdate(ctx, ":", 1) && EVP_DigestUpdate(ctx, c, strlen(c)))) &&
		 EVP_DigestFinal_ex(ctx, out, &n);
	EVP_MD_CTX_free(ctx);
	return ok ? (int)n : -1;
}

int stun_longterm_key(enum stun_pw_alg alg, const char *user, const char *realm,
		      const char *pass, uint8_t out[32])
{
	if (alg == STUN_PW_MD5)
		return digest3(EVP_md5(), user, realm, pass, out);
	if (alg == STUN_PW_SHA256)
		return digest3(EVP_sha256(), user, realm, pass, out);
	return -1;
}

void stun_userhash(const char *user, const char *realm, uint8_t out[32])
{
	if (digest3(EVP_sha256(), user, realm, NULL, out) < 0)
		memset(out, 0, 32);
}
