/* tests/stun_testutil.c: what the STUN codec's test groups share; see
 * stun_testutil.h. The references here (HMAC, CRC-32, the attribute
 * encodings) are written independently of the code under test, from the
 * RFC text. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "stun/stun.h"
#include "stun_testutil.h"

/* ---------------------------------------------------------------------
 * RFC 5769 test vectors, typed in from the RFC text.
 */

/* §2.1 Sample Request. Username "evtj:h6vY", password
 * "VOkJxbRl1RmTxUk/WvJxBt", SOFTWARE "STUN test client". The USERNAME
 * padding is three 0x20 bytes, not zeros. */
const uint8_t rfc_req[108] = {
	0x00, 0x01, 0x00, 0x58, /* Request type and message length */
	0x21, 0x12, 0xa4, 0x42, /* Magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, /* } */
	0xbc, 0x34, 0xd6, 0x86, /* }  Transaction ID */
	0xfa, 0x87, 0xdf, 0xae, /* } */
	0x80, 0x22, 0x00, 0x10, /* SOFTWARE attribute header */
	0x53, 0x54, 0x55, 0x4e, /* } */
	0x20, 0x74, 0x65, 0x73, /* }  User-agent... */
	0x74, 0x20, 0x63, 0x6c, /* }  ...name */
	0x69, 0x65, 0x6e, 0x74, /* } */
	0x00, 0x24, 0x00, 0x04, /* PRIORITY attribute header */
	0x6e, 0x00, 0x01, 0xff, /* ICE priority value */
	0x80, 0x29, 0x00, 0x08, /* ICE-CONTROLLED attribute header */
	0x93, 0x2f, 0xf9, 0xb1, /* }  Pseudo-random tie breaker... */
	0x51, 0x26, 0x3b, 0x36, /* }   ...for ICE control */
	0x00, 0x06, 0x00, 0x09, /* USERNAME attribute header */
	0x65, 0x76, 0x74, 0x6a, /* } */
	0x3a, 0x68, 0x36, 0x76, /* }  Username (9 bytes) and padding (3 bytes) */
	0x59, 0x20, 0x20, 0x20, /* } */
	0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY attribute header */
	0x9a, 0xea, 0xa7, 0x0c, /* } */
	0xbf, 0xd8, 0xcb, 0x56, /* } */
	0x78, 0x1e, 0xf2, 0xb5, /* }  HMAC-SHA1 fingerprint */
	0xb2, 0xd3, 0xf2, 0x49, /* } */
	0xc1, 0xb5, 0x71, 0xa2, /* } */
	0x80, 0x28, 0x00, 0x04, /* FINGERPRINT attribute header */
	0xe5, 0x7a, 0x3b, 0xcf, /* CRC32 fingerprint */
};

/* §2.2 Sample IPv4 Response: 192.0.2.1:32853, SOFTWARE "test vector"
 * padded with one 0x20. */
const uint8_t rfc_resp4[80] = {
	0x01, 0x01, 0x00, 0x3c, /* Response type and message length */
	0x21, 0x12, 0xa4, 0x42, /* Magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, /* } */
	0xbc, 0x34, 0xd6, 0x86, /* }  Transaction ID */
	0xfa, 0x87, 0xdf, 0xae, /* } */
	0x80, 0x22, 0x00, 0x0b, /* SOFTWARE attribute header */
	0x74, 0x65, 0x73, 0x74, /* } */
	0x20, 0x76, 0x65, 0x63, /* }  UTF-8 server name */
	0x74, 0x6f, 0x72, 0x20, /* } */
	0x00, 0x20, 0x00, 0x08, /* XOR-MAPPED-ADDRESS attribute header */
	0x00, 0x01, 0xa1, 0x47, /* Address family (IPv4) and xor'd mapped port */
	0xe1, 0x12, 0xa6, 0x43, /* Xor'd mapped IPv4 address */
	0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY attribute header */
	0x2b, 0x91, 0xf5, 0x99, /* } */
	0xfd, 0x9e, 0x90, 0xc3, /* } */
	0x8c, 0x74, 0x89, 0xf9, /* }  HMAC-SHA1 fingerprint */
	0x2a, 0xf9, 0xba, 0x53, /* } */
	0xf0, 0x6b, 0xe7, 0xd7, /* } */
	0x80, 0x28, 0x00, 0x04, /* FINGERPRINT attribute header */
	0xc0, 0x7d, 0x4c, 0x96, /* CRC32 fingerprint */
};

/* §2.3 Sample IPv6 Response: [2001:db8:1234:5678:11:2233:4455:6677]:32853 */
const uint8_t rfc_resp6[92] = {
	0x01, 0x01, 0x00, 0x48, /* Response type and message length */
	0x21, 0x12, 0xa4, 0x42, /* Magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, /* } */
	0xbc, 0x34, 0xd6, 0x86, /* }  Transaction ID */
	0xfa, 0x87, 0xdf, 0xae, /* } */
	0x80, 0x22, 0x00, 0x0b, /* SOFTWARE attribute header */
	0x74, 0x65, 0x73, 0x74, /* } */
	0x20, 0x76, 0x65, 0x63, /* }  UTF-8 server name */
	0x74, 0x6f, 0x72, 0x20, /* } */
	0x00, 0x20, 0x00, 0x14, /* XOR-MAPPED-ADDRESS attribute header */
	0x00, 0x02, 0xa1, 0x47, /* Address family (IPv6) and xor'd mapped port */
	0x01, 0x13, 0xa9, 0xfa, /* } */
	0xa5, 0xd3, 0xf1, 0x79, /* }  Xor'd mapped IPv6 address */
	0xbc, 0x25, 0xf4, 0xb5, /* } */
	0xbe, 0xd2, 0xb9, 0xd9, /* } */
	0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY attribute header */
	0xa3, 0x82, 0x95, 0x4e, /* } */
	0x4b, 0xe6, 0x7b, 0xf1, /* } */
	0x17, 0x84, 0xc9, 0x7c, /* }  HMAC-SHA1 fingerprint */
	0x82, 0x92, 0xc2, 0x75, /* } */
	0xbf, 0xe3, 0xed, 0x41, /* } */
	0x80, 0x28, 0x00, 0x04, /* FINGERPRINT attribute header */
	0xc8, 0xfb, 0x0b, 0x4c, /* CRC32 fingerprint */
};

/* §2.4 Sample Request with Long-Term Authentication. Username U+30DE
 * U+30C8 U+30EA U+30C3 U+30AF U+30B9, password "TheMatrIX" (unchanged
 * by SASLprep), realm "example.org". Padding here is zeros. */
const uint8_t rfc_lt[116] = {
	0x00, 0x01, 0x00, 0x60, /* Request type and message length */
	0x21, 0x12, 0xa4, 0x42, /* Magic cookie */
	0x78, 0xad, 0x34, 0x33, /* } */
	0xc6, 0xad, 0x72, 0xc0, /* }  Transaction ID */
	0x29, 0xda, 0x41, 0x2e, /* } */
	0x00, 0x06, 0x00, 0x12, /* USERNAME attribute header */
	0xe3, 0x83, 0x9e, 0xe3, /* } */
	0x83, 0x88, 0xe3, 0x83, /* } */
	0xaa, 0xe3, 0x83, 0x83, /* }  Username value (18 bytes) and padding (2) */
	0xe3, 0x82, 0xaf, 0xe3, /* } */
	0x82, 0xb9, 0x00, 0x00, /* } */
	0x00, 0x15, 0x00, 0x1c, /* NONCE attribute header */
	0x66, 0x2f, 0x2f, 0x34, /* } */
	0x39, 0x39, 0x6b, 0x39, /* } */
	0x35, 0x34, 0x64, 0x36, /* } */
	0x4f, 0x4c, 0x33, 0x34, /* }  Nonce value */
	0x6f, 0x4c, 0x39, 0x46, /* } */
	0x53, 0x54, 0x76, 0x79, /* } */
	0x36, 0x34, 0x73, 0x41, /* } */
	0x00, 0x14, 0x00, 0x0b, /* REALM attribute header */
	0x65, 0x78, 0x61, 0x6d, /* } */
	0x70, 0x6c, 0x65, 0x2e, /* }  Realm value (11 bytes) and padding (1) */
	0x6f, 0x72, 0x67, 0x00, /* } */
	0x00, 0x08, 0x00, 0x14, /* MESSAGE-INTEGRITY attribute header */
	0xf6, 0x70, 0x24, 0x65, /* } */
	0x6d, 0xd6, 0x4a, 0x3e, /* } */
	0x02, 0xb8, 0xe0, 0x71, /* }  HMAC-SHA1 fingerprint */
	0x2e, 0x85, 0xc9, 0xa2, /* } */
	0x8c, 0xa8, 0x96, 0x66, /* } */
};

const uint8_t tid_a[STUN_TID_LEN] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};
const uint8_t tid_b[STUN_TID_LEN] = {
	0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b,
};

const struct u32_attr u32_attrs[] = {
	{ STUN_A_LIFETIME, 600 },
	{ STUN_A_CHANNEL_NUMBER, 0x40010000u },
	{ STUN_A_REQUESTED_TRANSPORT, 0x11000000u },
	{ STUN_A_REQUESTED_ADDRESS_FAMILY, 0x02000000u },
	{ STUN_A_CHANGE_REQUEST, 0x00000006u },
	{ STUN_A_CONNECTION_ID, 0xdeadbeefu },
	{ STUN_A_PRIORITY, 0x6e0001ffu },
	{ STUN_A_RESPONSE_PORT, 0x0d960000u },
	{ STUN_A_ADDITIONAL_ADDRESS_FAMILY, 0x02000000u },
	{ STUN_A_TRANSACTION_TRANSMIT_COUNTER, 0x00000102u },
	{ STUN_A_CACHE_TIMEOUT, 60 },
};
const size_t n_u32_attrs = ARRAY_LEN(u32_attrs);

const struct u64_attr u64_attrs[] = {
	{ STUN_A_RESERVATION_TOKEN, 0x0102030405060708ull },
	{ STUN_A_ICE_CONTROLLED, 0xfedcba9876543210ull },
	{ STUN_A_ICE_CONTROLLING, 0x8000000000000001ull },
};
const size_t n_u64_attrs = ARRAY_LEN(u64_attrs);

const uint8_t pwalgs_val[8] = { 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 };
const uint8_t evenport_val[1] = { 0x80 };

/* ---------------------------------------------------------------------
 * Helpers.
 */

/* Heap copies of exactly n bytes, freed by the teardown fixture, so that
 * ASan catches any read past the end of what the parser was given. */
static void *kept[4096];
static size_t nkept;

uint8_t *exact(const void *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(b);
	if (n)
		memcpy(b, p, n);
	ck_assert_uint_lt(nkept, ARRAY_LEN(kept));
	kept[nkept++] = b;
	return b;
}

static void free_kept(void)
{
	for (size_t i = 0; i < nkept; i++)
		free(kept[i]);
	nkept = 0;
}

uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Reference CRC-32 (IEEE 802.3, reflected 0xEDB88320), bit by bit. */
uint32_t ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (uint32_t)-(int32_t)(c & 1));
	}
	return ~c;
}

void ref_hmac(const EVP_MD *md, const void *key, size_t keylen,
		     const uint8_t *p, size_t n, uint8_t *out)
{
	unsigned int outlen = 0;
	static const uint8_t nokey;
	ck_assert_ptr_nonnull(HMAC(md, keylen ? key : &nokey, (int)keylen, p, n,
				   out, &outlen));
	ck_assert_uint_eq(outlen, (unsigned)EVP_MD_get_size(md));
}

void ref_digest(const EVP_MD *md, const void *p, size_t n, uint8_t *out)
{
	unsigned int outlen = 0;
	ck_assert_int_eq(EVP_Digest(p, n, out, &outlen, md, NULL), 1);
	ck_assert_uint_eq(outlen, (unsigned)EVP_MD_get_size(md));
}

/* MESSAGE-INTEGRITY at mioff in msg is HMAC-SHA1 over msg[0..mioff) with
 * the header length rewritten to end just after the MI (RFC 8489 §14.5). */
void assert_mi_at(const uint8_t *msg, size_t mioff, const void *key,
			 size_t keylen)
{
	uint8_t tmp[2048], mac[20];
	ck_assert_uint_le(mioff, sizeof tmp);
	ck_assert_uint_eq(rd16(msg + mioff), STUN_A_MESSAGE_INTEGRITY);
	ck_assert_uint_eq(rd16(msg + mioff + 2), 20);
	memcpy(tmp, msg, mioff);
	wr16(tmp + 2, (uint16_t)(mioff + 24 - STUN_HDR_LEN));
	ref_hmac(EVP_sha1(), key, keylen, tmp, mioff, mac);
	ck_assert_mem_eq(msg + mioff + 4, mac, 20);
}

/* FINGERPRINT at fpoff is the last attribute and equals CRC-32 of
 * everything before it XOR 0x5354554e (RFC 8489 §14.7). */
void assert_fp_at(const uint8_t *msg, size_t total, size_t fpoff)
{
	uint8_t want[4];
	ck_assert_uint_eq(fpoff + 8, total);
	ck_assert_uint_eq(rd16(msg + 2), total - STUN_HDR_LEN);
	ck_assert_uint_eq(rd16(msg + fpoff), STUN_A_FINGERPRINT);
	ck_assert_uint_eq(rd16(msg + fpoff + 2), 4);
	wr32(want, ref_crc32(msg, fpoff) ^ 0x5354554eu);
	ck_assert_mem_eq(msg + fpoff + 4, want, 4);
}

struct raw raw_new(uint16_t type, const uint8_t tid[STUN_TID_LEN])
{
	struct raw r;
	r.b = calloc(1, 70000);
	ck_assert_ptr_nonnull(r.b);
	ck_assert_uint_lt(nkept, ARRAY_LEN(kept));
	kept[nkept++] = r.b;
	wr16(r.b, type);
	wr32(r.b + 4, STUN_MAGIC);
	memcpy(r.b + 8, tid, STUN_TID_LEN);
	r.n = STUN_HDR_LEN;
	return r;
}

void raw_setlen(struct raw *r, size_t body)
{
	wr16(r->b + 2, (uint16_t)body);
}

static void raw_attr_pad(struct raw *r, uint16_t type, const void *val,
			 size_t len, uint8_t padbyte)
{
	ck_assert_uint_lt(r->n + 4 + len + 3, 70000);
	wr16(r->b + r->n, type);
	wr16(r->b + r->n + 2, (uint16_t)len);
	if (len)
		memcpy(r->b + r->n + 4, val, len);
	r->n += 4 + len;
	while (r->n % 4)
		r->b[r->n++] = padbyte;
	raw_setlen(r, r->n - STUN_HDR_LEN);
}

void raw_attr(struct raw *r, uint16_t type, const void *val, size_t len)
{
	raw_attr_pad(r, type, val, len, 0);
}

void raw_u32(struct raw *r, uint16_t type, uint32_t v)
{
	uint8_t b[4];
	wr32(b, v);
	raw_attr(r, type, b, 4);
}

/* HMAC attribute of the given length (the HMAC truncated, or zero-extended
 * when len exceeds the digest). */
void raw_hmac(struct raw *r, uint16_t type, const EVP_MD *md,
		     const void *key, size_t keylen, size_t len)
{
	uint8_t mac[64] = { 0 };
	raw_setlen(r, r->n - STUN_HDR_LEN + 4 + len);
	ref_hmac(md, key, keylen, r->b, r->n, mac);
	wr16(r->b + r->n, type);
	wr16(r->b + r->n + 2, (uint16_t)len);
	memcpy(r->b + r->n + 4, mac, len);
	r->n += 4 + len;
	while (r->n % 4)
		r->b[r->n++] = 0;
	raw_setlen(r, r->n - STUN_HDR_LEN);
}

void raw_mi(struct raw *r, const void *key, size_t keylen)
{
	raw_hmac(r, STUN_A_MESSAGE_INTEGRITY, EVP_sha1(), key, keylen, 20);
}

void raw_fp(struct raw *r)
{
	uint8_t v[4];
	raw_setlen(r, r->n - STUN_HDR_LEN + 8);
	wr32(v, ref_crc32(r->b, r->n) ^ 0x5354554eu);
	raw_attr(r, STUN_A_FINGERPRINT, v, 4);
}

/* Parse an exact heap copy. */
int parse_copy(struct stun_msg *m, const uint8_t *p, size_t n)
{
	return stun_msg_parse(m, exact(p, n), n);
}

struct sockaddr_storage sa_make(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return ss;
}

void assert_sa_eq(const struct sockaddr_storage *got,
			 const struct sockaddr_storage *want)
{
	ck_assert_int_eq(got->ss_family, want->ss_family);
	if (want->ss_family == AF_INET) {
		const struct sockaddr_in *g = (const void *)got, *w = (const void *)want;
		ck_assert_uint_eq(ntohs(g->sin_port), ntohs(w->sin_port));
		ck_assert_mem_eq(&g->sin_addr, &w->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *g = (const void *)got, *w = (const void *)want;
		ck_assert_uint_eq(ntohs(g->sin6_port), ntohs(w->sin6_port));
		ck_assert_mem_eq(&g->sin6_addr, &w->sin6_addr, 16);
	}
}

void put_sa(struct stun_writer *w, uint16_t type,
		   const struct sockaddr_storage *ss)
{
	stun_put_addr(w, type, (const struct sockaddr *)ss);
}

/* Assert the writer left every padding byte of every attribute zero
 * (RFC 8489 §14: padding MUST be zero on sending). */
void assert_zero_padding(const uint8_t *msg, size_t total)
{
	size_t off = STUN_HDR_LEN;
	while (off < total) {
		size_t len = rd16(msg + off + 2);
		size_t padded = (len + 3) & ~(size_t)3;
		for (size_t i = len; i < padded; i++)
			ck_assert_msg(msg[off + 4 + i] == 0,
				      "nonzero padding byte at %zu (attr 0x%04x)",
				      off + 4 + i, rd16(msg + off));
		off += 4 + padded;
	}
	ck_assert_uint_eq(off, total);
}

Suite *stun_test_suite(const char *group, const TTest *const *tests, size_t n)
{
	Suite *s = suite_create("stun");
	TCase *tc = tcase_create(group);
	tcase_add_checked_fixture(tc, NULL, free_kept);
	tcase_set_timeout(tc, 120);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	return s;
}
