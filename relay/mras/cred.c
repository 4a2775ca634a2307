/* cred.c: MRAS credentials as TURN REST credentials, base64-wrapped for
 * the OC2007 clients that unwrap them (cred.h says why). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mras/cred.h"
#include "turn/auth_int.h"

static void b64(const char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)n);
}

int mras_cred_issue(const char *secret, const char *name, uint64_t now_s, unsigned minutes,
		    struct mras_cred *out)
{
	char user[MRAS_WIRE_MAX + 1], pass[29];
	size_t nlen = name ? strlen(name) : 0;
	int ulen, plen;

	if (!secret || !*secret || !nlen || nlen > MRAS_NAME_MAX)
		return -1;
	ulen = snprintf(user, sizeof user, "%llu:%s",
			(unsigned long long)(now_s + (uint64_t)minutes * 60), name);
	if (ulen < 0 || (size_t)ulen >= sizeof user)
		return -1;
	plen = auth_rest_password(secret, strlen(secret), user, (size_t)ulen, pass);
	if (plen != 28)
		return -1;
	b64(user, (size_t)ulen, out->user);
	b64(pass, (size_t)plen, out->pass);
	return 0;
}

int mras_cred_decode(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in);
	unsigned char buf[MRAS_B64_MAX];
	int len;

	/* EVP_DecodeBlock takes whole quads only and counts padding as zeros. */
	if (!n || n % 4 || n >= sizeof buf)
		return -1;
	if ((len = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n)) < 0)
		return -1;
	if (in[n - 1] == '=')
		len--;
	if (in[n - 2] == '=')
		len--;
	if ((size_t)len >= cap || memchr(buf, 0, (size_t)len))
		return -1;
	memcpy(out, buf, (size_t)len);
	out[len] = 0;
	return len;
}

enum mras_cred_verdict mras_cred_verify(const char *secret, const struct mras_cred *cred,
					uint64_t now_s)
{
	char user[MRAS_WIRE_MAX + 1], pass[MRAS_WIRE_MAX + 1], want[29];
	uint64_t expiry;
	size_t off;
	int ulen, plen;

	if ((ulen = mras_cred_decode(cred->user, user, sizeof user)) < 0 ||
	    (plen = mras_cred_decode(cred->pass, pass, sizeof pass)) < 0 ||
	    auth_rest_parse(user, (size_t)ulen, &expiry, &off))
		return MRAS_CRED_WRONG;
	if (auth_rest_password(secret, strlen(secret), user, (size_t)ulen, want) != plen ||
	    CRYPTO_memcmp(want, pass, (size_t)plen))
		return MRAS_CRED_WRONG;
	return now_s >= expiry ? MRAS_CRED_EXPIRED : MRAS_CRED_OK;
}
