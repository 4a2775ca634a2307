/* auth.h: TURN long-term credentials (RFC 8489 §9.2) from static users and
 * from the TURN REST API (time-limited "EXPIRY:NAME" usernames whose
 * password is base64(HMAC-SHA1(secret, username))), with stateless nonces
 * that expire and PASSWORD-ALGORITHMS (MD5, SHA-256).
 *
 * Thread use: one struct auth is shared read-only by every worker; a reload
 * builds a new one and swaps it in (the caller handles the swap). */
#ifndef EDGELAB_AUTH_H
#define EDGELAB_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stun/stun.h"

#define AUTH_MAX_NAME 508        /* USERNAME limit, RFC 8489 §14.3 */
#define AUTH_NONCE_LIFETIME_MS (10 * 60 * 1000)

struct auth;

/* realm: our REALM. nonce_key: the secret stateless nonces are signed
 * with (random at start; same across reloads so nonces stay valid). */
struct auth *auth_new(const char *realm, const uint8_t nonce_key[32]);
void auth_free(struct auth *a);
/* --user NAME:PASS; 0 or -1 with a reason in err. */
int auth_add_user(struct auth *a, const char *name_colon_pass, char *err, size_t errlen);
/* A user file: NAME:PASS per line, '#' comments and blank lines skipped;
 * an error names file:line. */
int auth_load_userfile(struct auth *a, const char *path, char *err, size_t errlen);
/* --auth-secret; several may be active (rotation). */
int auth_add_secret(struct auth *a, const char *secret, char *err, size_t errlen);
const char *auth_realm(const struct auth *a);
/* Added: counts for logs after a (re)load. */
size_t auth_user_count(const struct auth *a);
size_t auth_secret_count(const struct auth *a);
/* The first secret: the one credentials this node issues are signed with
 * (MRAS); NULL when there is none. Valid while a is. */
const char *auth_signing_secret(const struct auth *a);
/* Added: free this thread's cached OpenSSL contexts (auth keeps one HMAC
 * and one digest context per thread so checks do not allocate). Call
 * from a worker thread before it exits; harmless if never called. */
void auth_thread_cleanup(void);

/* A stateless nonce for this client: it carries its own expiry and a MAC
 * over (expiry, client address, the algorithms we offer), so checking it
 * needs no server memory. Writes a NUL-terminated string; returns length. */
size_t auth_nonce_make(const struct auth *a, const struct sockaddr *client,
		       uint64_t now_ms, char *out, size_t cap);

enum auth_verdict {
	AUTH_OK = 0,
	AUTH_CHALLENGE,   /* no credentials at all: 401 with REALM + NONCE */
	AUTH_BAD_REQUEST, /* credentials half present: 400 */
	AUTH_STALE_NONCE, /* nonce expired or not ours: 438 with a fresh one */
	AUTH_WRONG,       /* unknown user, bad integrity, REST username expired: 401 */
};

struct auth_ok {
	char user[AUTH_MAX_NAME + 1]; /* the USERNAME as sent (or resolved from USERHASH) */
	uint8_t key[32];
	size_t keylen;
	int sha256_mi;                /* the request used MESSAGE-INTEGRITY-SHA256 */
	enum stun_pw_alg alg;
	/* Added: 1 if the credentials were TURN REST ones; then user is
	 * "EXPIRY:NAME" and user + name_off is NAME (for per-user quotas).
	 * 0 and name_off 0 for static users. */
	int rest;
	size_t name_off;
};

/* Check a request's long-term credentials (USERNAME or USERHASH, REALM,
 * NONCE, PASSWORD-ALGORITHM, MESSAGE-INTEGRITY or -SHA256). now_s is wall
 * clock seconds, for REST expiry; now_ms the monotonic clock for nonces. */
enum auth_verdict auth_check(const struct auth *a, const struct stun_msg *m,
			     const struct sockaddr *client, uint64_t now_ms,
			     uint64_t now_s, struct auth_ok *ok);

/* Add REALM, NONCE and PASSWORD-ALGORITHMS for a 401/438 answer. */
void auth_put_challenge(const struct auth *a, struct stun_writer *w,
			const struct sockaddr *client, uint64_t now_ms);

/* Sign a response with the same key and integrity type the request used. */
void auth_sign(const struct auth_ok *ok, struct stun_writer *w);

#endif
