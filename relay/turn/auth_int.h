/* auth_int.h: pieces of the auth module shared by auth.c, nonce.c, rest.c
 * and authcrypto.c. Not part of the public API. */
#ifndef EDGELAB_AUTH_INT_H
#define EDGELAB_AUTH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth.h"

/* The algorithms we offer, in PASSWORD-ALGORITHMS wire form: SHA-256
 * then MD5, each with no parameters (RFC 8489 §14.11). */
#define AUTH_PWALGS_LEN 8
extern const uint8_t auth_pwalgs[AUTH_PWALGS_LEN];

/* RFC 8489 §9.2: "obMatJos2" + base64 of the 24-bit security feature set.
 * Bit 0 (the most significant bit of the first byte) is "Password
 * algorithms"; we do not set bit 1 ("Username anonymity"): USERHASH is
 * accepted for static users but not advertised, since REST usernames
 * cannot be recovered from their hash. 0x80 0x00 0x00 -> "gAAA". */
#define AUTH_NONCE_COOKIE "obMatJos2"
#define AUTH_NONCE_FEATURES "gAAA"
#define AUTH_NONCE_PREFIX AUTH_NONCE_COOKIE AUTH_NONCE_FEATURES
#define AUTH_NONCE_PREFIX_LEN 13
#define AUTH_NONCE_MAC_LEN 16
/* prefix + hex(expiry, 8 bytes) + hex(mac) */
#define AUTH_NONCE_LEN (AUTH_NONCE_PREFIX_LEN + 16 + 2 * AUTH_NONCE_MAC_LEN)

struct auth_user {
	struct auth_user *next_name;  /* chain in the by-name table */
	struct auth_user *next_hash;  /* chain in the by-USERHASH table */
	uint64_t hname;
	uint64_t hhash;
	size_t namelen;
	uint8_t md5[16];              /* MD5(name:realm:pass) */
	uint8_t sha256[32];           /* SHA-256(name:realm:pass) */
	uint8_t userhash[32];         /* SHA-256(name:realm) */
	char name[];                  /* NUL-terminated */
};

struct auth_secret {
	size_t len;
	char *s;
};

struct auth {
	char *realm;
	size_t realmlen;
	uint8_t nonce_key[32];
	/* static users: two chained hash tables over the same entries */
	struct auth_user **by_name;
	struct auth_user **by_hash;
	size_t nbuckets;              /* a power of two */
	size_t nusers;
	/* REST secrets, tried in order */
	struct auth_secret *secrets;
	size_t nsecrets;
};

/* authcrypto.c: one-shot HMAC and digest on per-thread contexts that are
 * made once and reused, so the hot path does not allocate. */
enum auth_hmac_alg { AUTH_HMAC_SHA1, AUTH_HMAC_SHA256 };
struct auth_iov {
	const void *p;
	size_t len;
};
/* HMAC over the concatenation of n pieces; out holds 20 or 32 bytes.
 * Returns the MAC length or -1. */
int auth_hmac(enum auth_hmac_alg alg, const uint8_t *key, size_t keylen,
	      const struct auth_iov *iov, size_t n, uint8_t *out);
/* Long-term key over (user, realm, pass) given by pointer and length (out
 * holds 16 bytes for MD5, 32 for SHA-256):
 * MD5 or SHA-256 of "user:realm:pass". Returns the key length or -1. */
int auth_lt_key(enum stun_pw_alg alg, const char *user, size_t ulen,
		const char *realm, size_t rlen, const char *pass, size_t plen,
		uint8_t *out);

/* nonce.c */
/* 0 when nonce (len bytes) is one we issued to this client's address and
 * has not expired at now_ms; -1 otherwise. */
int auth_nonce_verify(const struct auth *a, const struct sockaddr *client,
		      uint64_t now_ms, const uint8_t *nonce, size_t len);

/* rest.c */
/* Parse a REST username "EXPIRY:NAME" (or "EXPIRY"). Returns 0 and sets
 * *expiry and *name_off (offset of NAME, or len when absent), or -1. */
int auth_rest_parse(const char *user, size_t len, uint64_t *expiry,
		    size_t *name_off);
/* password = base64(HMAC-SHA1(secret, user)); out must hold 29 bytes
 * (28 characters + NUL). Returns the length or -1. */
int auth_rest_password(const char *secret, size_t slen, const char *user,
		       size_t ulen, char out[29]);

#endif
