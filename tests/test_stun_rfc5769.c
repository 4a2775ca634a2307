/* tests/test_stun_rfc5769.c: the STUN/TURN codec (relay/stun, stun.h):
 * the RFC 5769 test vectors byte for byte: parsed, checked
 * (MESSAGE-INTEGRITY, FINGERPRINT, long-term key), rebuilt by the writer,
 * and every flip of a FINGERPRINTed one rejected.
 * Helpers and vectors: stun_testutil.h. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "stun/stun.h"
#include "stun_testutil.h"

/* A Binding message of len bytes parsed from b: its header (type is the
 * vector's own bytes for class cls), and where its nattrs attributes put
 * MESSAGE-INTEGRITY and FINGERPRINT. */
static void assert_binding(const struct stun_msg *m, const uint8_t *b, size_t len,
			   uint16_t type, enum stun_class cls, size_t nattrs, int mi, int fp)
{
	ck_assert_uint_eq(m->len, len);
	ck_assert_uint_eq(m->type, type);
	ck_assert_uint_eq(m->method, STUN_BINDING);
	ck_assert_uint_eq(m->cls, cls);
	ck_assert_ptr_eq(m->tid, b + 8);
	ck_assert_uint_eq(m->nattrs, nattrs);
	ck_assert_uint_eq(m->nunknown, 0);
	ck_assert_int_eq(m->mi, mi);
	ck_assert_int_eq(m->mi256, -1);
	ck_assert_int_eq(m->fp, fp);
}

/* ---------------------------------------------------------------------
 * RFC 5769 §2.1: sample request.
 */

START_TEST(rfc_request_parse)
{
	struct stun_msg m;
	const uint8_t *b = exact(rfc_req, sizeof rfc_req);
	ck_assert_int_eq(stun_msg_parse(&m, b, sizeof rfc_req), STUN_OK);
	ck_assert_ptr_eq(m.buf, b);
	assert_binding(&m, b, 108, 0x0001, STUN_REQUEST, 6, 4, 5);

	static const struct { uint16_t type, off, len; } want[] = {
		{ STUN_A_SOFTWARE, 20, 16 },
		{ STUN_A_PRIORITY, 40, 4 },
		{ STUN_A_ICE_CONTROLLED, 48, 8 },
		{ STUN_A_USERNAME, 60, 9 },
		{ STUN_A_MESSAGE_INTEGRITY, 76, 20 },
		{ STUN_A_FINGERPRINT, 100, 4 },
	};
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		ck_assert_uint_eq(m.attrs[i].type, want[i].type);
		ck_assert_uint_eq(m.attrs[i].off, want[i].off);
		ck_assert_uint_eq(m.attrs[i].len, want[i].len);
		ck_assert_ptr_eq(m.attrs[i].val, b + want[i].off + 4);
	}

	const struct stun_attr *a = stun_msg_attr(&m, STUN_A_SOFTWARE);
	ck_assert_ptr_eq(a, &m.attrs[0]);
	ck_assert_mem_eq(a->val, "STUN test client", 16);
	uint32_t prio = 0;
	ck_assert_int_eq(stun_attr_u32(stun_msg_attr(&m, STUN_A_PRIORITY), &prio), 0);
	ck_assert_uint_eq(prio, 0x6e0001ffu);
	uint64_t tie = 0;
	ck_assert_int_eq(stun_attr_u64(stun_msg_attr(&m, STUN_A_ICE_CONTROLLED), &tie), 0);
	ck_assert(tie == 0x932ff9b151263b36ull);
	a = stun_msg_attr(&m, STUN_A_USERNAME);
	ck_assert_ptr_eq(a, &m.attrs[3]);
	ck_assert_uint_eq(a->len, 9);
	ck_assert_mem_eq(a->val, "evtj:h6vY", 9);
	ck_assert_ptr_null(stun_msg_attr(&m, STUN_A_REALM));
	ck_assert_ptr_null(stun_msg_attr(&m, STUN_A_MESSAGE_INTEGRITY_SHA256));
}
END_TEST

START_TEST(rfc_request_integrity)
{
	struct stun_msg m;
	ck_assert_int_eq(parse_copy(&m, rfc_req, sizeof rfc_req), STUN_OK);
	ck_assert_int_eq(stun_msg_check_integrity(&m, (const uint8_t *)RFC_PASSWORD,
						  strlen(RFC_PASSWORD)), STUN_OK);
	/* Wrong key, a prefix of the key, an empty key. */
	ck_assert_int_eq(stun_msg_check_integrity(&m, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBu",
						  22), STUN_E_INTEGRITY);
	ck_assert_int_eq(stun_msg_check_integrity(&m, (const uint8_t *)RFC_PASSWORD, 21),
			 STUN_E_INTEGRITY);
	ck_assert_int_eq(stun_msg_check_integrity(&m, (const uint8_t *)"", 0),
			 STUN_E_INTEGRITY);
	/* Our reference HMAC agrees with the RFC, so the helpers are sound. */
	assert_mi_at(rfc_req, 76, RFC_PASSWORD, strlen(RFC_PASSWORD));
	assert_fp_at(rfc_req, sizeof rfc_req, 100);
}
END_TEST

static void flip_expect(const uint8_t *v, size_t n, size_t at, int want)
{
	struct stun_msg m;
	uint8_t *c = exact(v, n);
	c[at] ^= 0x01;
	ck_assert_msg(stun_msg_parse(&m, c, n) == want,
		      "flipping byte %zu: want %d", at, want);
}

START_TEST(rfc_request_fingerprint)
{
	flip_expect(rfc_req, sizeof rfc_req, 25, STUN_E_FINGERPRINT);  /* SOFTWARE */
	flip_expect(rfc_req, sizeof rfc_req, 47, STUN_E_FINGERPRINT);  /* PRIORITY */
	flip_expect(rfc_req, sizeof rfc_req, 73, STUN_E_FINGERPRINT);  /* padding */
	flip_expect(rfc_req, sizeof rfc_req, 80, STUN_E_FINGERPRINT);  /* MI value */
	flip_expect(rfc_req, sizeof rfc_req, 12, STUN_E_FINGERPRINT);  /* tid */
	flip_expect(rfc_req, sizeof rfc_req, 104, STUN_E_FINGERPRINT); /* FP value */
	flip_expect(rfc_req, sizeof rfc_req, 107, STUN_E_FINGERPRINT); /* FP value */
	ck_assert_uint_eq(stun_crc32(rfc_req, 100) ^ 0x5354554eu, 0xe57a3bcfu);
}
END_TEST

/* The writer, fed the same tid and attributes in the same order, must
 * give the RFC's bytes. The RFC pads USERNAME with 0x20 while RFC 8489
 * requires zero padding from senders, so:
 *  (a) the writer's own output equals the RFC everywhere except the three
 *      padding bytes, which are zero; its MI and FINGERPRINT are checked
 *      against an independent HMAC/CRC of those bytes;
 *  (b) overwriting those padding bytes with 0x20 in the writer's buffer
 *      before it adds MESSAGE-INTEGRITY makes the input bytes equal to
 *      the RFC's, so MI and FINGERPRINT must then match the RFC exactly. */
static int build_rfc_request(uint8_t *buf, size_t cap, int rfc_padding)
{
	struct stun_writer w;
	stun_writer_init(&w, buf, cap, STUN_BINDING, STUN_REQUEST, rfc_req + 8);
	stun_put_str(&w, STUN_A_SOFTWARE, "STUN test client");
	stun_put_u32(&w, STUN_A_PRIORITY, 0x6e0001ffu);
	stun_put_u64(&w, STUN_A_ICE_CONTROLLED, 0x932ff9b151263b36ull);
	stun_put_str(&w, STUN_A_USERNAME, "evtj:h6vY");
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(w.len, 76);
	if (rfc_padding)
		memset(buf + 73, 0x20, 3);
	stun_put_integrity(&w, (const uint8_t *)RFC_PASSWORD, strlen(RFC_PASSWORD));
	stun_put_fingerprint(&w);
	return stun_writer_finish(&w);
}

START_TEST(rfc_request_rebuild)
{
	uint8_t buf[256];
	memset(buf, 0xa5, sizeof buf);
	ck_assert_int_eq(build_rfc_request(buf, sizeof buf, 0), 108);
	ck_assert_mem_eq(buf, rfc_req, 73);
	ck_assert_uint_eq(buf[73], 0);
	ck_assert_uint_eq(buf[74], 0);
	ck_assert_uint_eq(buf[75], 0);
	ck_assert_mem_eq(buf + 76, rfc_req + 76, 4); /* MI header */
	ck_assert_mem_eq(buf + 100, rfc_req + 100, 4); /* FP header */
	assert_mi_at(buf, 76, RFC_PASSWORD, strlen(RFC_PASSWORD));
	assert_fp_at(buf, 108, 100);
	assert_zero_padding(buf, 108);
	struct stun_msg m;
	ck_assert_int_eq(parse_copy(&m, buf, 108), STUN_OK);
	ck_assert_int_eq(stun_msg_check_integrity(&m, (const uint8_t *)RFC_PASSWORD,
						  strlen(RFC_PASSWORD)), STUN_OK);

	memset(buf, 0xa5, sizeof buf);
	ck_assert_int_eq(build_rfc_request(buf, sizeof buf, 1), 108);
	ck_assert_mem_eq(buf, rfc_req, 108);
}
END_TEST

/* ---------------------------------------------------------------------
 * RFC 5769 §2.2 and §2.3: responses.
 */

static void check_rfc_response(const uint8_t *v, size_t n, const char *ip,
			       size_t xlen)
{
	struct stun_msg m;
	const uint8_t *b = exact(v, n);
	size_t mioff = 36 + 4 + xlen, fpoff = mioff + 24;
	ck_assert_int_eq(stun_msg_parse(&m, b, n), STUN_OK);
	assert_binding(&m, b, n, 0x0101, STUN_SUCCESS, 4, 2, 3);
	ck_assert_uint_eq(m.attrs[0].type, STUN_A_SOFTWARE);
	ck_assert_uint_eq(m.attrs[0].len, 11);
	ck_assert_mem_eq(m.attrs[0].val, "test vector", 11);
	ck_assert_uint_eq(m.attrs[1].type, STUN_A_XOR_MAPPED_ADDRESS);
	ck_assert_uint_eq(m.attrs[1].off, 36);
	ck_assert_uint_eq(m.attrs[1].len, xlen);
	ck_assert_uint_eq(m.attrs[2].off, mioff);
	ck_assert_uint_eq(m.attrs[3].off, fpoff);

	struct sockaddr_storage got, want = sa_make(ip, 32853);
	memset(&got, 0xee, sizeof got);
	ck_assert_int_eq(stun_msg_addr(&m, STUN_A_XOR_MAPPED_ADDRESS, &got), STUN_OK);
	assert_sa_eq(&got, &want);
	memset(&got, 0xee, sizeof got);
	ck_assert_int_eq(stun_attr_addr(&m, &m.attrs[1], &got), STUN_OK);
	assert_sa_eq(&got, &want);
	ck_assert_int_eq(stun_msg_addr(&m, STUN_A_MAPPED_ADDRESS, &got), STUN_E_MISSING);

	ck_assert_int_eq(stun_msg_check_integrity(&m, (const uint8_t *)RFC_PASSWORD,
						  strlen(RFC_PASSWORD)), STUN_OK);
	ck_assert_int_eq(stun_msg_check_integrity(&m, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBT",
						  22), STUN_E_INTEGRITY);
	assert_mi_at(v, mioff, RFC_PASSWORD, strlen(RFC_PASSWORD));
	assert_fp_at(v, n, fpoff);

	flip_expect(v, n, 26, STUN_E_FINGERPRINT);         /* SOFTWARE */
	flip_expect(v, n, 35, STUN_E_FINGERPRINT);         /* padding */
	flip_expect(v, n, 43, STUN_E_FINGERPRINT);         /* address */
	flip_expect(v, n, mioff + 10, STUN_E_FINGERPRINT); /* MI */
	flip_expect(v, n, n - 1, STUN_E_FINGERPRINT);      /* FP */
}

/* Same scheme as build_rfc_request: the RFC pads SOFTWARE "test vector"
 * with one 0x20; the writer pads with zero. */
static int build_rfc_response(uint8_t *buf, size_t cap, const char *ip,
			      int rfc_padding)
{
	struct stun_writer w;
	struct sockaddr_storage ss = sa_make(ip, 32853);
	stun_writer_init(&w, buf, cap, STUN_BINDING, STUN_SUCCESS, rfc_req + 8);
	stun_put_str(&w, STUN_A_SOFTWARE, "test vector");
	ck_assert_uint_eq(w.len, 36);
	if (rfc_padding)
		buf[35] = 0x20;
	put_sa(&w, STUN_A_XOR_MAPPED_ADDRESS, &ss);
	ck_assert_int_eq(w.err, 0);
	stun_put_integrity(&w, (const uint8_t *)RFC_PASSWORD, strlen(RFC_PASSWORD));
	stun_put_fingerprint(&w);
	return stun_writer_finish(&w);
}

static void rebuild_rfc_response(const uint8_t *v, size_t n, const char *ip,
				 size_t xlen)
{
	uint8_t buf[256];
	size_t mioff = 40 + xlen;
	memset(buf, 0xa5, sizeof buf);
	ck_assert_int_eq(build_rfc_response(buf, sizeof buf, ip, 0), (int)n);
	ck_assert_mem_eq(buf, v, 35);
	ck_assert_uint_eq(buf[35], 0);
	ck_assert_mem_eq(buf + 36, v + 36, 4 + xlen); /* the XOR-MAPPED-ADDRESS */
	ck_assert_mem_eq(buf + mioff, v + mioff, 4);
	ck_assert_mem_eq(buf + n - 8, v + n - 8, 4);
	assert_mi_at(buf, mioff, RFC_PASSWORD, strlen(RFC_PASSWORD));
	assert_fp_at(buf, n, n - 8);
	assert_zero_padding(buf, n);

	memset(buf, 0xa5, sizeof buf);
	ck_assert_int_eq(build_rfc_response(buf, sizeof buf, ip, 1), (int)n);
	ck_assert_mem_eq(buf, v, n);
}

START_TEST(rfc_ipv4_response)
{
	check_rfc_response(rfc_resp4, sizeof rfc_resp4, "192.0.2.1", 8);
}
END_TEST

START_TEST(rfc_ipv4_response_rebuild)
{
	rebuild_rfc_response(rfc_resp4, sizeof rfc_resp4, "192.0.2.1", 8);
}
END_TEST

START_TEST(rfc_ipv6_response)
{
	check_rfc_response(rfc_resp6, sizeof rfc_resp6,
			   "2001:db8:1234:5678:11:2233:4455:6677", 20);
}
END_TEST

START_TEST(rfc_ipv6_response_rebuild)
{
	rebuild_rfc_response(rfc_resp6, sizeof rfc_resp6,
			     "2001:db8:1234:5678:11:2233:4455:6677", 20);
}
END_TEST

/* ---------------------------------------------------------------------
 * RFC 5769 §2.4: long-term authentication.
 */

static void rfc_lt_key(uint8_t key[16])
{
	uint8_t out[32], ref[16];
	const char *s = RFC_LT_USER ":" RFC_LT_REALM ":" RFC_LT_PASS;
	memset(out, 0, sizeof out);
	ck_assert_int_eq(stun_longterm_key(STUN_PW_MD5, RFC_LT_USER, RFC_LT_REALM,
					   RFC_LT_PASS, out), 16);
	ref_digest(EVP_md5(), s, strlen(s), ref);
	ck_assert_mem_eq(out, ref, 16);
	memcpy(key, out, 16);
}

START_TEST(rfc_longterm_parse)
{
	struct stun_msg m;
	uint8_t key[16];
	const uint8_t *b = exact(rfc_lt, sizeof rfc_lt);
	rfc_lt_key(key);
	ck_assert_int_eq(stun_msg_parse(&m, b, sizeof rfc_lt), STUN_OK);
	ck_assert_uint_eq(m.len, 116);
	ck_assert_uint_eq(m.method, STUN_BINDING);
	ck_assert_uint_eq(m.cls, STUN_REQUEST);
	ck_assert_mem_eq(m.tid, rfc_lt + 8, 12);
	ck_assert_uint_eq(m.nattrs, 4);
	ck_assert_int_eq(m.mi, 3);
	ck_assert_int_eq(m.mi256, -1);
	ck_assert_int_eq(m.fp, -1);
	const struct stun_attr *a = stun_msg_attr(&m, STUN_A_USERNAME);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->len, 18);
	ck_assert_mem_eq(a->val, RFC_LT_USER, 18);
	a = stun_msg_attr(&m, STUN_A_NONCE);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->len, 28);
	ck_assert_mem_eq(a->val, RFC_LT_NONCE, 28);
	a = stun_msg_attr(&m, STUN_A_REALM);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->len, 11);
	ck_assert_mem_eq(a->val, RFC_LT_REALM, 11);

	ck_assert_int_eq(stun_msg_check_integrity(&m, key, 16), STUN_OK);
	assert_mi_at(rfc_lt, 92, key, 16);
	/* Wrong password; the bare password used as a short-term key; the
	 * SHA-256 long-term key. */
	uint8_t bad[32];
	ck_assert_int_eq(stun_longterm_key(STUN_PW_MD5, RFC_LT_USER, RFC_LT_REALM,
					   "TheMatrix", bad), 16);
	ck_assert_int_eq(stun_msg_check_integrity(&m, bad, 16), STUN_E_INTEGRITY);
	ck_assert_int_eq(stun_msg_check_integrity(&m, (const uint8_t *)RFC_LT_PASS, 9),
			 STUN_E_INTEGRITY);
	ck_assert_int_eq(stun_longterm_key(STUN_PW_SHA256, RFC_LT_USER, RFC_LT_REALM,
					   RFC_LT_PASS, bad), 32);
	ck_assert_int_eq(stun_msg_check_integrity(&m, bad, 32), STUN_E_INTEGRITY);

	/* No FINGERPRINT here: a changed byte parses but fails integrity,
	 * including a change to padding, which HMAC covers. */
	for (size_t at = 0; at < 2; at++) {
		size_t pos = at ? 42 /* USERNAME padding */ : 60 /* nonce */;
		uint8_t *c = exact(rfc_lt, sizeof rfc_lt);
		c[pos] ^= 0x40;
		ck_assert_int_eq(stun_msg_parse(&m, c, sizeof rfc_lt), STUN_OK);
		ck_assert_int_eq(stun_msg_check_integrity(&m, key, 16), STUN_E_INTEGRITY);
	}
}
END_TEST

START_TEST(rfc_longterm_rebuild)
{
	/* All padding in §2.4 is zero, so the writer's output must equal the
	 * RFC message byte for byte, MESSAGE-INTEGRITY included. */
	uint8_t buf[256], key[16];
	struct stun_writer w;
	rfc_lt_key(key);
	memset(buf, 0xa5, sizeof buf);
	stun_writer_init(&w, buf, sizeof buf, STUN_BINDING, STUN_REQUEST, rfc_lt + 8);
	stun_put_str(&w, STUN_A_USERNAME, RFC_LT_USER);
	stun_put_str(&w, STUN_A_NONCE, RFC_LT_NONCE);
	stun_put_str(&w, STUN_A_REALM, RFC_LT_REALM);
	stun_put_integrity(&w, key, 16);
	ck_assert_int_eq(stun_writer_finish(&w), 116);
	ck_assert_mem_eq(buf, rfc_lt, 116);
}
END_TEST

/* Every single-bit and whole-byte flip of the FINGERPRINTed vectors is
 * rejected; none crashes. */
START_TEST(rfc_all_flips_rejected)
{
	const struct { const uint8_t *v; size_t n; } vs[] = {
		{ rfc_req, sizeof rfc_req },
		{ rfc_resp4, sizeof rfc_resp4 },
		{ rfc_resp6, sizeof rfc_resp6 },
	};
	static const uint8_t masks[] = { 0x01, 0x02, 0x10, 0x80, 0xff };
	for (size_t k = 0; k < ARRAY_LEN(vs); k++)
		for (size_t i = 0; i < vs[k].n; i++)
			for (size_t j = 0; j < ARRAY_LEN(masks); j++) {
				struct stun_msg m;
				uint8_t *c = malloc(vs[k].n);
				ck_assert_ptr_nonnull(c);
				memcpy(c, vs[k].v, vs[k].n);
				c[i] ^= masks[j];
				int rc = stun_msg_parse(&m, c, vs[k].n);
				free(c);
				ck_assert_msg(rc < 0, "vector %zu byte %zu ^0x%02x accepted",
					      k, i, masks[j]);
			}
}
END_TEST

Suite *test_suite(void)
{
	const TTest *tests[] = {
		rfc_request_parse, rfc_request_integrity, rfc_request_fingerprint,
		rfc_request_rebuild, rfc_ipv4_response, rfc_ipv4_response_rebuild,
		rfc_ipv6_response, rfc_ipv6_response_rebuild, rfc_longterm_parse,
		rfc_longterm_rebuild, rfc_all_flips_rejected
	};

	return stun_test_suite("rfc5769", tests, ARRAY_LEN(tests));
}
