/* rest.c: TURN REST API credentials (draft-uberti-behave-turn-rest, as
 * coturn's --use-auth-secret implements it). The username is
 * "EXPIRY:NAME" (or just "EXPIRY"), EXPIRY in unix seconds; the password
 * is base64(HMAC-SHA1(secret, username)). The long-term key is then made
 * from (username, realm, password) like any other user's. */
#include <string.h>

#include <openssl/evp.h>

#include "auth_int.h"

int auth_rest_parse(const char *user, size_t len, uint64_t *expiry, size_t *name_off)
{
	uint64_t v = 0;
	size_t i = 0;

	while (i < len && user[i] >= '0' && user[i] <= '9') {
		if (i == 19) /* more than fits unix seconds for any real clock */
			return -1;
		v = v * 10 + (uint64_t)(user[i] - '0');
		i++;
	}
	if (i == 0)
		return -1;
	if (i < len && user[i] != ':')
		return -1;
	*expiry = v;
	*name_off = i < len ? i + 1 : len;
	return 0;
}

int auth_rest_password(const char *secret, size_t slen, const char *user,
		       size_t ulen, char out[29])
{
	uint8_t mac[32];
	struct auth_iov iov = {user, ulen};

	if (auth_hmac(AUTH_HMAC_SHA1, (const uint8_t *)secret, slen, &iov, 1, mac) != 20)
		return -1;
	return EVP_EncodeBlock((unsigned char *)out, mac, 20); /* 28, NUL-terminated */
}
