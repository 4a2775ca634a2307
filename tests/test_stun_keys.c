/* tests/test_stun_keys.c: the STUN/TURN codec (relay/stun, stun.h):
 * long-term keys (MD5, SHA-256) and USERHASH against OpenSSL.
 * Helpers and vectors: stun_testutil.h. */
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "stun/stun.h"
#include "stun_testutil.h"

START_TEST(longterm_keys)
{
	uint8_t out[32], ref[32];
	const char *u = "alice", *r = "edgelab.test", *p = "s3cr3t:pass";
	const char *s = "alice:edgelab.test:s3cr3t:pass";

	memset(out, 0, sizeof out);
	ck_assert_int_eq(stun_longterm_key(STUN_PW_MD5, u, r, p, out), 16);
	ref_digest(EVP_md5(), s, strlen(s), ref);
	ck_assert_mem_eq(out, ref, 16);

	memset(out, 0, sizeof out);
	ck_assert_int_eq(stun_longterm_key(STUN_PW_SHA256, u, r, p, out), 32);
	ref_digest(EVP_sha256(), s, strlen(s), ref);
	ck_assert_mem_eq(out, ref, 32);

	/* Empty strings still give "::". */
	ck_assert_int_eq(stun_longterm_key(STUN_PW_SHA256, "", "", "", out), 32);
	ref_digest(EVP_sha256(), "::", 2, ref);
	ck_assert_mem_eq(out, ref, 32);

	/* Unknown algorithms are refused. */
	ck_assert_int_lt(stun_longterm_key((enum stun_pw_alg)0, u, r, p, out), 0);
	ck_assert_int_lt(stun_longterm_key((enum stun_pw_alg)3, u, r, p, out), 0);
}
END_TEST

START_TEST(userhash)
{
	/* RFC 8489 Appendix B.1 USERHASH value. */
	static const uint8_t rfc8489[32] = {
		0x4a, 0x3c, 0xf3, 0x8f, 0xef, 0x69, 0x92, 0xbd, 0xa9, 0x52, 0xc6,
		0x78, 0x04, 0x17, 0xda, 0x0f, 0x24, 0x81, 0x94, 0x15, 0x56, 0x9e,
		0x60, 0xb2, 0x05, 0xc4, 0x6e, 0x41, 0x40, 0x7f, 0x17, 0x04,
	};
	uint8_t out[32], ref[32];
	stun_userhash(RFC_LT_USER, RFC_LT_REALM, out);
	ck_assert_mem_eq(out, rfc8489, 32);
	stun_userhash("bob", "example.net", out);
	ref_digest(EVP_sha256(), "bob:example.net", 15, ref);
	ck_assert_mem_eq(out, ref, 32);
}
END_TEST

Suite *test_suite(void)
{
	const TTest *tests[] = {
		longterm_keys, userhash
	};

	return stun_test_suite("keys", tests, ARRAY_LEN(tests));
}
