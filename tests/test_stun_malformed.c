/* tests/test_stun_malformed.c: the STUN/TURN codec (relay/stun, stun.h):
 * every malformed-input reason code, each case breaking one
 * rule, and every truncation of valid messages.
 * Helpers and vectors: stun_testutil.h. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "stun/stun.h"
#include "stun_testutil.h"

/* Some size and family checks may live in the parser or in the typed
 * reader; the message must be rejected by one of them with the given
 * reason. Returns the parser's error, or else the reader's result. */
enum reader { RD_U32, RD_U64, RD_ADDR, RD_ERROR };

static int parse_then_read(const uint8_t *p, size_t n, uint16_t type,
			   enum reader rd)
{
	struct stun_msg m;
	int rc = parse_copy(&m, p, n);
	if (rc != STUN_OK)
		return rc;
	const struct stun_attr *a = stun_msg_attr(&m, type);
	if (!a)
		return 1; /* silently dropped: not a valid outcome either */
	uint32_t u32;
	uint64_t u64;
	struct sockaddr_storage ss;
	int code;
	const char *reason;
	size_t rlen;
	switch (rd) {
	case RD_U32: return stun_attr_u32(a, &u32);
	case RD_U64: return stun_attr_u64(a, &u64);
	case RD_ADDR: return stun_attr_addr(&m, a, &ss);
	case RD_ERROR: return stun_attr_error(a, &code, &reason, &rlen);
	}
	return 1;
}

START_TEST(bad_short)
{
	struct stun_msg m;
	for (size_t n = 0; n < STUN_HDR_LEN; n++)
		ck_assert_int_eq(parse_copy(&m, rfc_req, n), STUN_E_SHORT);
}
END_TEST

START_TEST(bad_not_stun)
{
	static const uint8_t tops[] = { 0x40, 0x80, 0xc0 };
	for (size_t i = 0; i < ARRAY_LEN(tops); i++) {
		struct raw r = raw_new((uint16_t)(tops[i] << 8 | 0x01), tid_a);
		struct stun_msg m;
		raw_attr(&r, STUN_A_SOFTWARE, "x", 1);
		ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_NOT_STUN);
	}
}
END_TEST

START_TEST(bad_cookie)
{
	struct raw r = raw_new(0x0001, tid_a);
	struct stun_msg m;
	raw_attr(&r, STUN_A_SOFTWARE, "x", 1);
	wr32(r.b + 4, STUN_MAGIC ^ 1);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_COOKIE);
	wr32(r.b + 4, 0);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_COOKIE);
}
END_TEST

START_TEST(bad_len_align)
{
	/* The header length equals the bytes present but is not a multiple
	 * of four: an attribute of 2 bytes with no padding. */
	for (size_t k = 1; k < 4; k++) {
		struct raw r = raw_new(0x0001, tid_a);
		struct stun_msg m;
		wr16(r.b + 20, STUN_A_DATA);
		wr16(r.b + 22, (uint16_t)k);
		memset(r.b + 24, 0, k);
		r.n = 24 + k;
		raw_setlen(&r, 4 + k);
		ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_LEN_ALIGN);
	}
}
END_TEST

/* A valid message to break: LIFETIME and PRIORITY, a body of 16 bytes. */
static struct raw two_attrs(void)
{
	struct raw r = raw_new(0x0001, tid_a);
	raw_u32(&r, STUN_A_LIFETIME, 5);
	raw_u32(&r, STUN_A_PRIORITY, 5);
	return r;
}

START_TEST(bad_len_mismatch)
{
	/* The header says 8, 24 or 65532 while 16 bytes follow. */
	static const uint16_t lens[] = { 8, 24, 65532 };
	struct raw r = two_attrs();
	struct stun_msg m;
	for (size_t i = 0; i < ARRAY_LEN(lens); i++) {
		raw_setlen(&r, lens[i]);
		ck_assert_msg(parse_copy(&m, r.b, r.n) == STUN_E_LEN_MISMATCH,
			      "header length %u of 16", lens[i]);
	}
	/* Header says 16 (right) but the datagram carries 4 more bytes. */
	raw_setlen(&r, 16);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n + 4), STUN_E_LEN_MISMATCH);
}
END_TEST

START_TEST(bad_attr_overrun)
{
	/* The second attribute claims 5 bytes (8 with padding), 8 or 0xffff
	 * of the 4 there are. */
	static const uint16_t claims[] = { 5, 8, 0xffff };
	struct raw r = two_attrs();
	struct stun_msg m;
	for (size_t i = 0; i < ARRAY_LEN(claims); i++) {
		wr16(r.b + 30, claims[i]);
		ck_assert_msg(parse_copy(&m, r.b, r.n) == STUN_E_ATTR_OVERRUN,
			      "an attribute of 4 claims %u", claims[i]);
	}
	/* The value fits exactly but its padding would not: 1-byte value
	 * in the last 4 bytes is fine, so make the first attribute claim 7
	 * bytes, whose padding covers the next header's first byte... */
	wr16(r.b + 30, 4);
	wr16(r.b + 22, 13); /* 13 bytes + 3 padding = 16 > 12 available */
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_ATTR_OVERRUN);

	/* Cutting the header length at every 4-byte step of a valid message:
	 * at an attribute boundary it is a shorter valid message, elsewhere
	 * the attribute in the way runs past the end. */
	static const size_t bounds[] = { 0, 20, 28, 40, 56, 80, 88 };
	for (size_t body = 0; body <= 88; body += 4) {
		uint8_t *c = exact(rfc_req, 20 + body);
		int want = STUN_E_ATTR_OVERRUN;
		wr16(c + 2, (uint16_t)body);
		for (size_t i = 0; i < ARRAY_LEN(bounds); i++)
			if (bounds[i] == body)
				want = STUN_OK;
		ck_assert_msg(stun_msg_parse(&m, c, 20 + body) == want,
			      "body %zu: want %d", body, want);
	}
}
END_TEST

START_TEST(bad_after_integrity)
{
	struct stun_msg m;
	uint8_t k32[32];
	ck_assert_int_eq(stun_longterm_key(STUN_PW_SHA256, "u", "r", "p", k32), 32);

	/* A SOFTWARE after MESSAGE-INTEGRITY. */
	struct raw r = raw_new(0x0001, tid_a);
	raw_attr(&r, STUN_A_USERNAME, "user", 4);
	raw_mi(&r, "pw", 2);
	raw_attr(&r, STUN_A_SOFTWARE, "x", 1);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_AFTER_INTEGRITY);

	/* An unknown comprehension-optional attribute after it. */
	r = raw_new(0x0001, tid_a);
	raw_mi(&r, "pw", 2);
	raw_attr(&r, 0x8fff, "x", 1);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_AFTER_INTEGRITY);

	/* A second MESSAGE-INTEGRITY. */
	r = raw_new(0x0001, tid_a);
	raw_mi(&r, "pw", 2);
	raw_mi(&r, "pw", 2);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_AFTER_INTEGRITY);

	/* After MESSAGE-INTEGRITY-SHA256 only FINGERPRINT may follow: an
	 * attribute there is covered by no HMAC. */
	r = raw_new(0x0001, tid_a);
	raw_hmac(&r, STUN_A_MESSAGE_INTEGRITY_SHA256, EVP_sha256(), k32, 32, 32);
	raw_attr(&r, STUN_A_USERNAME, "user", 4);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_AFTER_INTEGRITY);
	r = raw_new(0x0001, tid_a);
	raw_hmac(&r, STUN_A_MESSAGE_INTEGRITY_SHA256, EVP_sha256(), k32, 32, 32);
	raw_mi(&r, "pw", 2);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_AFTER_INTEGRITY);

	/* The allowed orders. */
	r = raw_new(0x0001, tid_a);
	raw_mi(&r, "pw", 2);
	raw_hmac(&r, STUN_A_MESSAGE_INTEGRITY_SHA256, EVP_sha256(), k32, 32, 32);
	raw_fp(&r);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
	ck_assert_int_eq(stun_msg_check_integrity(&m, k32, 32), STUN_OK);
	r = raw_new(0x0001, tid_a);
	raw_mi(&r, "pw", 2);
	raw_fp(&r);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
	ck_assert_int_eq(stun_msg_check_integrity(&m, (const uint8_t *)"pw", 2), STUN_OK);
}
END_TEST

START_TEST(bad_fp_not_last)
{
	struct stun_msg m;
	/* The FINGERPRINT value is the right CRC of what precedes it in the
	 * final buffer, so only its position is wrong. */
	struct raw r = raw_new(0x0001, tid_a);
	raw_attr(&r, STUN_A_USERNAME, "user", 4);
	size_t fpoff = r.n;
	raw_attr(&r, STUN_A_FINGERPRINT, "\0\0\0\0", 4);
	raw_attr(&r, STUN_A_SOFTWARE, "x", 1);
	wr32(r.b + fpoff + 4, ref_crc32(r.b, fpoff) ^ 0x5354554eu);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_FP_NOT_LAST);

	r = raw_new(0x0001, tid_a);
	raw_fp(&r);
	raw_fp(&r);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_FP_NOT_LAST);

	/* FINGERPRINT then MESSAGE-INTEGRITY. */
	r = raw_new(0x0001, tid_a);
	raw_fp(&r);
	raw_mi(&r, "pw", 2);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_FP_NOT_LAST);

	/* A FINGERPRINT computed without the XOR constant is wrong. */
	r = raw_new(0x0001, tid_a);
	raw_attr(&r, STUN_A_USERNAME, "user", 4);
	raw_setlen(&r, r.n - 20 + 8);
	uint8_t v[4];
	wr32(v, ref_crc32(r.b, r.n));
	raw_attr(&r, STUN_A_FINGERPRINT, v, 4);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_FINGERPRINT);
}
END_TEST

START_TEST(bad_family)
{
	static const uint16_t types[] = {
		STUN_A_XOR_MAPPED_ADDRESS, STUN_A_MAPPED_ADDRESS, STUN_A_XOR_PEER_ADDRESS,
		STUN_A_XOR_RELAYED_ADDRESS, STUN_A_ALTERNATE_SERVER,
		STUN_A_RESPONSE_ORIGIN, STUN_A_OTHER_ADDRESS,
	};
	static const uint8_t fams[] = { 0x00, 0x03, 0xff };
	for (size_t t = 0; t < ARRAY_LEN(types); t++)
		for (size_t f = 0; f < ARRAY_LEN(fams); f++)
			for (size_t len = 8; len <= 20; len += 12) {
				uint8_t v[20] = { 0, fams[f], 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43 };
				struct raw r = raw_new(0x0101, tid_a);
				raw_attr(&r, types[t], v, len);
				ck_assert_msg(parse_then_read(r.b, r.n, types[t], RD_ADDR) == STUN_E_FAMILY,
					      "type 0x%04x family 0x%02x len %zu", types[t], fams[f], len);
			}
}
END_TEST

static void expect_size_error(uint16_t type, size_t len, enum reader rd)
{
	uint8_t v[1024];
	memset(v, 'a', sizeof v);
	if (rd == RD_ADDR) {
		v[0] = 0;
		v[1] = len >= 20 ? 0x01 : 0x02; /* IPv4 with 20 bytes, IPv6 with 8 */
	}
	if (rd == RD_ERROR) {
		v[0] = v[1] = 0;
		v[2] = 4;
		v[3] = 0;
	}
	struct raw r = raw_new(0x0001, tid_a);
	raw_attr(&r, type, v, len);
	int rc = parse_then_read(r.b, r.n, type, rd);
	ck_assert_msg(rc == STUN_E_ATTR_SIZE, "type 0x%04x len %zu: got %d",
		      type, len, rc);
}

START_TEST(bad_attr_size)
{
	struct stun_msg m;
	/* Strings one byte past their limits are refused by the parser; at
	 * the limit they are fine (see rt_strings). USERNAME must be "fewer
	 * than 509 bytes" (RFC 8489 §14.3): 509 is already too long. */
	static const struct { uint16_t type; size_t max; } lims[] = {
		{ STUN_A_USERNAME, 508 }, { STUN_A_REALM, 763 },
		{ STUN_A_NONCE, 763 }, { STUN_A_SOFTWARE, 763 },
	};
	for (size_t i = 0; i < ARRAY_LEN(lims); i++) {
		uint8_t v[800];
		memset(v, 'y', sizeof v);
		struct raw r = raw_new(0x0001, tid_a);
		raw_attr(&r, lims[i].type, v, lims[i].max);
		ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
		r = raw_new(0x0001, tid_a);
		raw_attr(&r, lims[i].type, v, lims[i].max + 1);
		ck_assert_msg(parse_copy(&m, r.b, r.n) == STUN_E_ATTR_SIZE,
			      "0x%04x of %zu bytes", lims[i].type, lims[i].max + 1);
	}

	/* Fixed sizes, refused by the parser or by the typed reader. */
	for (size_t i = 0; i < n_u32_attrs; i++) {
		expect_size_error(u32_attrs[i].type, 3, RD_U32);
		expect_size_error(u32_attrs[i].type, 5, RD_U32);
		expect_size_error(u32_attrs[i].type, 0, RD_U32);
	}
	expect_size_error(STUN_A_CHANNEL_NUMBER, 2, RD_U32);
	for (size_t i = 0; i < n_u64_attrs; i++) {
		expect_size_error(u64_attrs[i].type, 4, RD_U64);
		expect_size_error(u64_attrs[i].type, 12, RD_U64);
	}
	expect_size_error(STUN_A_XOR_MAPPED_ADDRESS, 20, RD_ADDR); /* IPv4 */
	expect_size_error(STUN_A_XOR_MAPPED_ADDRESS, 8, RD_ADDR);  /* IPv6 */
	expect_size_error(STUN_A_MAPPED_ADDRESS, 20, RD_ADDR);
	expect_size_error(STUN_A_XOR_PEER_ADDRESS, 3, RD_ADDR);
	expect_size_error(STUN_A_XOR_RELAYED_ADDRESS, 0, RD_ADDR);
	expect_size_error(STUN_A_ERROR_CODE, 3, RD_ERROR);
	expect_size_error(STUN_A_ERROR_CODE, 4 + 764, RD_ERROR); /* reason > 763 */

	/* The typed readers on hand-made attributes. */
	static const uint8_t z[16] = { 0 };
	struct stun_attr a = { .type = STUN_A_LIFETIME, .len = 3, .off = 20, .val = z };
	uint32_t u32;
	uint64_t u64;
	int code;
	const char *reason;
	size_t rl;
	ck_assert_int_eq(stun_attr_u32(&a, &u32), STUN_E_ATTR_SIZE);
	a.len = 8;
	ck_assert_int_eq(stun_attr_u32(&a, &u32), STUN_E_ATTR_SIZE);
	a.len = 7;
	ck_assert_int_eq(stun_attr_u64(&a, &u64), STUN_E_ATTR_SIZE);
	a.len = 2;
	ck_assert_int_eq(stun_attr_error(&a, &code, &reason, &rl), STUN_E_ATTR_SIZE);
}
END_TEST

START_TEST(bad_too_many)
{
	struct stun_msg m;
	struct raw r = raw_new(0x0001, tid_a);
	for (int i = 0; i < STUN_MAX_ATTRS; i++)
		raw_attr(&r, 0x8fff, NULL, 0);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
	ck_assert_uint_eq(m.nattrs, STUN_MAX_ATTRS);
	raw_attr(&r, 0x8fff, NULL, 0);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_TOO_MANY);

	/* Same with known attributes and a FINGERPRINT as the 41st. */
	r = raw_new(0x0001, tid_a);
	for (int i = 0; i < STUN_MAX_ATTRS; i++)
		raw_u32(&r, STUN_A_PRIORITY, (uint32_t)i);
	raw_fp(&r);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_TOO_MANY);
	/* And many more. */
	r = raw_new(0x0001, tid_a);
	for (int i = 0; i < 1000; i++)
		raw_attr(&r, 0x8fff, NULL, 0);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_TOO_MANY);
}
END_TEST

START_TEST(bad_oversized_message)
{
	/* A well-formed message of 65552 bytes: the length field allows a
	 * body of 65532, but struct stun_msg's uint16_t len and offsets
	 * cannot describe it, so it must be refused, not truncated. */
	struct raw r = raw_new(TURN_SEND | 0x0010, tid_a);
	size_t dlen = 65532 - 4;
	uint8_t *data = calloc(1, dlen);
	ck_assert_ptr_nonnull(data);
	raw_attr(&r, STUN_A_DATA, data, dlen);
	free(data);
	ck_assert_uint_eq(r.n, 65552);
	struct stun_msg m;
	int rc = parse_copy(&m, r.b, r.n);
	ck_assert_msg(rc < 0, "accepted a 65552-byte message as len %u", m.len);
}
END_TEST

START_TEST(bad_oversized_fingerprint)
{
	/* 65552 bytes ending in a FINGERPRINT at offset 65544, whose value
	 * is the CRC of only the first 8 bytes (what a parser that keeps the
	 * offset in 16 bits would check): a wrong FINGERPRINT. */
	struct raw r = raw_new(TURN_SEND | 0x0010, tid_a);
	struct stun_msg m;
	int rc;
	uint8_t *data = calloc(1, 65532);
	ck_assert_ptr_nonnull(data);
	raw_attr(&r, STUN_A_PADDING, data, 65532 - 8 - 4 - 4);
	raw_attr(&r, STUN_A_DATA, data, 0);
	free(data);
	ck_assert_uint_eq(r.n, 65544);
	uint8_t v[4];
	raw_setlen(&r, 65532);
	wr32(v, ref_crc32(r.b, 8) ^ 0x5354554eu);
	raw_attr(&r, STUN_A_FINGERPRINT, v, 4);
	ck_assert_uint_eq(r.n, 65552);
	rc = parse_copy(&m, r.b, r.n);
	ck_assert_msg(rc < 0, "accepted a 65552-byte message with a wrong FINGERPRINT");
}
END_TEST

/* Every truncation of valid messages fails, and never reads past n. */
static void truncations(const uint8_t *v, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct stun_msg m;
		uint8_t *c = malloc(k ? k : 1);
		ck_assert_ptr_nonnull(c);
		memcpy(c, v, k);
		int rc = stun_msg_parse(&m, c, k);
		(void)stun_peek_len(c, k);
		(void)turn_chdata_frame_len(c, k, 0);
		(void)turn_chdata_frame_len(c, k, 1);
		free(c);
		ck_assert_msg(rc == (k < STUN_HDR_LEN ? STUN_E_SHORT : STUN_E_LEN_MISMATCH),
			      "truncated to %zu of %zu: got %d", k, n, rc);
	}
}

START_TEST(bad_truncations)
{
	truncations(rfc_req, sizeof rfc_req);
	truncations(rfc_resp4, sizeof rfc_resp4);
	truncations(rfc_resp6, sizeof rfc_resp6);
	truncations(rfc_lt, sizeof rfc_lt);

	/* A TURN Allocate request with long-term credentials and a 401. */
	uint8_t buf[512], key[32];
	struct stun_writer w;
	ck_assert_int_eq(stun_longterm_key(STUN_PW_MD5, "alice", "example.org", "pw", key), 16);
	stun_writer_init(&w, buf, sizeof buf, TURN_ALLOCATE, STUN_REQUEST, tid_a);
	stun_put_u32(&w, STUN_A_REQUESTED_TRANSPORT, 0x11000000u);
	stun_put_u32(&w, STUN_A_LIFETIME, 600);
	stun_put_attr(&w, STUN_A_DONT_FRAGMENT, NULL, 0);
	stun_put_attr(&w, STUN_A_EVEN_PORT, evenport_val, 1);
	stun_put_str(&w, STUN_A_USERNAME, "alice");
	stun_put_str(&w, STUN_A_REALM, "example.org");
	stun_put_str(&w, STUN_A_NONCE, "abc");
	stun_put_integrity(&w, key, 16);
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	ck_assert_int_gt(n, 0);
	truncations(buf, (size_t)n);

	stun_writer_init(&w, buf, sizeof buf, TURN_ALLOCATE, STUN_ERROR, tid_b);
	stun_put_error(&w, 401, "Unauthorized");
	stun_put_str(&w, STUN_A_REALM, "example.org");
	stun_put_str(&w, STUN_A_NONCE, "abc");
	stun_put_attr(&w, STUN_A_PASSWORD_ALGORITHMS, pwalgs_val, sizeof pwalgs_val);
	stun_put_fingerprint(&w);
	n = stun_writer_finish(&w);
	ck_assert_int_gt(n, 0);
	truncations(buf, (size_t)n);
}
END_TEST

Suite *test_suite(void)
{
	const TTest *tests[] = {
		bad_short, bad_not_stun, bad_cookie, bad_len_align, bad_len_mismatch,
		bad_attr_overrun, bad_after_integrity, bad_fp_not_last, bad_family,
		bad_attr_size, bad_too_many, bad_oversized_message,
		bad_oversized_fingerprint, bad_truncations
	};

	return stun_test_suite("malformed", tests, ARRAY_LEN(tests));
}
