/* cred.h: the relay credentials MRAS hands out ([MS-AVEDGEA]), stateless.
 *
 * On the TURN wire they are TURN REST credentials (turn/rest.c): user
 * U = "EXPIRY:NAME", EXPIRY in unix seconds, and password
 * P = base64(HMAC-SHA1(secret, U)), so any node holding the pool's secret
 * accepts them, in either dialect, with nothing stored. In the MRAS answer
 * each is base64-encoded once more: libnice in its OC2007 modes (the Lync
 * client's behaviour) base64-decodes the user name and password it is
 * given before use, so it puts U and P on the wire. */
#ifndef EDGELAB_MRAS_CRED_H
#define EDGELAB_MRAS_CRED_H

#include <stddef.h>
#include <stdint.h>

/* Room for a wire user name (20 digits, ':' and a name of up to
 * MRAS_NAME_MAX) and for either value base64-encoded. */
#define MRAS_NAME_MAX 256
#define MRAS_WIRE_MAX (22 + MRAS_NAME_MAX)
#define MRAS_B64_MAX (4 * ((MRAS_WIRE_MAX + 2) / 3) + 1)

struct mras_cred {
	char user[MRAS_B64_MAX]; /* base64(U) */
	char pass[MRAS_B64_MAX]; /* base64(P) */
};

/* Credentials for name, valid from now_s for minutes. 0, or -1 (name too
 * long or empty, no secret, a crypto failure). */
int mras_cred_issue(const char *secret, const char *name, uint64_t now_s, unsigned minutes,
		    struct mras_cred *out);

/* Decode one base64 value as MRAS gives it (NUL-terminated into out).
 * Length, or -1 if it is not base64 or does not fit. */
int mras_cred_decode(const char *b64, char *out, size_t cap);

enum mras_cred_verdict { MRAS_CRED_OK, MRAS_CRED_WRONG, MRAS_CRED_EXPIRED };

/* Would a node with this secret accept cred at now_s? What TURN does
 * with the decoded pair (turn/auth.c's REST check), for tests and tools. */
enum mras_cred_verdict mras_cred_verify(const char *secret, const struct mras_cred *cred,
					uint64_t now_s);

#endif
