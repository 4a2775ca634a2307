/* tests/test_stun.c: the STUN/TURN codec (relay/stun, stun.h).
 *
 * RFC 5769 test vectors byte for byte, a write/parse round trip of every
 * attribute stun.h knows, long-term keys and USERHASH against OpenSSL,
 * every malformed-input reason code, every truncation of valid messages
 * (each parsed from an exactly sized heap copy so ASan sees any overread),
 * unknown attributes, and ChannelData framing.
 *
 * References computed here (HMAC, CRC-32, the attribute encodings) are
 * written independently of the code under test, from the RFC text. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "stun.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------
 * RFC 5769 test vectors, typed in from the RFC text.
 */

/* §2.1 Sample Request. Username "evtj:h6vY", password
 * "VOkJxbRl1RmTxUk/WvJxBt", SOFTWARE "STUN test client". The USERNAME
 * padding is three 0x20 bytes, not zeros. */
static const uint8_t rfc_req[108] = {
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
static const uint8_t rfc_resp4[80] = {
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
static const uint8_t rfc_resp6[92] = {
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
static const uint8_t rfc_lt[116] = {
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

#define RFC_PASSWORD "VOkJxbRl1RmTxUk/WvJxBt"
#define RFC_LT_USER  "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"
#define RFC_LT_PASS  "TheMatrIX"
#define RFC_LT_REALM "example.org"
#define RFC_LT_NONCE "f//499k954d6OL34oL9FSTvy64sA"

static const uint8_t tid_a[STUN_TID_LEN] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};
static const uint8_t tid_b[STUN_TID_LEN] = {
	0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b,
};

/* ---------------------------------------------------------------------
 * Helpers.
 */

/* Heap copies of exactly n bytes, freed by the teardown fixture, so that
 * ASan catches any read past the end of what the parser was given. */
static void *kept[4096];
static size_t nkept;

static uint8_t *exact(const void *p, size_t n)
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

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Reference CRC-32 (IEEE 802.3, reflected 0xEDB88320), bit by bit. */
static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (uint32_t)-(int32_t)(c & 1));
	}
	return ~c;
}

static void ref_hmac(const EVP_MD *md, const void *key, size_t keylen,
		     const uint8_t *p, size_t n, uint8_t *out)
{
	unsigned int outlen = 0;
	static const uint8_t nokey;
	ck_assert_ptr_nonnull(HMAC(md, keylen ? key : &nokey, (int)keylen, p, n,
				   out, &outlen));
	ck_assert_uint_eq(outlen, (unsigned)EVP_MD_get_size(md));
}

static void ref_digest(const EVP_MD *md, const void *p, size_t n, uint8_t *out)
{
	unsigned int outlen = 0;
	ck_assert_int_eq(EVP_Digest(p, n, out, &outlen, md, NULL), 1);
	ck_assert_uint_eq(outlen, (unsigned)EVP_MD_get_size(md));
}

/* MESSAGE-INTEGRITY at mioff in msg is HMAC-SHA1 over msg[0..mioff) with
 * the header length rewritten to end just after the MI (RFC 8489 §14.5). */
static void assert_mi_at(const uint8_t *msg, size_t mioff, const void *key,
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
static void assert_fp_at(const uint8_t *msg, size_t total, size_t fpoff)
{
	uint8_t want[4];
	ck_assert_uint_eq(fpoff + 8, total);
	ck_assert_uint_eq(rd16(msg + 2), total - STUN_HDR_LEN);
	ck_assert_uint_eq(rd16(msg + fpoff), STUN_A_FINGERPRINT);
	ck_assert_uint_eq(rd16(msg + fpoff + 2), 4);
	wr32(want, ref_crc32(msg, fpoff) ^ 0x5354554eu);
	ck_assert_mem_eq(msg + fpoff + 4, want, 4);
}

/* A hand-rolled reference encoder, for inputs the writer must not be
 * trusted to produce (malformed ones) and for cross-checking it. */
struct raw {
	uint8_t *b;
	size_t n;
};

static struct raw raw_new(uint16_t type, const uint8_t tid[STUN_TID_LEN])
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

static void raw_setlen(struct raw *r, size_t body)
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

static void raw_attr(struct raw *r, uint16_t type, const void *val, size_t len)
{
	raw_attr_pad(r, type, val, len, 0);
}

static void raw_u32(struct raw *r, uint16_t type, uint32_t v)
{
	uint8_t b[4];
	wr32(b, v);
	raw_attr(r, type, b, 4);
}

/* HMAC attribute of the given length (the HMAC truncated, or zero-extended
 * when len exceeds the digest). */
static void raw_hmac(struct raw *r, uint16_t type, const EVP_MD *md,
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

static void raw_mi(struct raw *r, const void *key, size_t keylen)
{
	raw_hmac(r, STUN_A_MESSAGE_INTEGRITY, EVP_sha1(), key, keylen, 20);
}

static void raw_fp(struct raw *r)
{
	uint8_t v[4];
	raw_setlen(r, r->n - STUN_HDR_LEN + 8);
	wr32(v, ref_crc32(r->b, r->n) ^ 0x5354554eu);
	raw_attr(r, STUN_A_FINGERPRINT, v, 4);
}

/* Parse an exact heap copy. */
static int parse_copy(struct stun_msg *m, const uint8_t *p, size_t n)
{
	return stun_msg_parse(m, exact(p, n), n);
}

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

static struct sockaddr_storage sa_make(const char *ip, uint16_t port)
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

static void assert_sa_eq(const struct sockaddr_storage *got,
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

/* Reference encoding of an (XOR-)address value, RFC 8489 §14.1/§14.2. */
static size_t ref_addr_val(uint8_t *out, const struct sockaddr_storage *ss,
			   int xor, const uint8_t tid[STUN_TID_LEN])
{
	uint8_t mask[16];
	wr32(mask, STUN_MAGIC);
	memcpy(mask + 4, tid, STUN_TID_LEN);
	out[0] = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		out[1] = 0x01;
		wr16(out + 2, (uint16_t)(ntohs(s4->sin_port) ^ (xor ? STUN_MAGIC >> 16 : 0)));
		memcpy(out + 4, &s4->sin_addr, 4);
		for (int i = 0; xor && i < 4; i++)
			out[4 + i] ^= mask[i];
		return 8;
	}
	const struct sockaddr_in6 *s6 = (const void *)ss;
	out[1] = 0x02;
	wr16(out + 2, (uint16_t)(ntohs(s6->sin6_port) ^ (xor ? STUN_MAGIC >> 16 : 0)));
	memcpy(out + 4, &s6->sin6_addr, 16);
	for (int i = 0; xor && i < 16; i++)
		out[4 + i] ^= mask[i];
	return 20;
}

static void put_sa(struct stun_writer *w, uint16_t type,
		   const struct sockaddr_storage *ss)
{
	stun_put_addr(w, type, (const struct sockaddr *)ss);
}

/* Assert the writer left every padding byte of every attribute zero
 * (RFC 8489 §14: padding MUST be zero on sending). */
static void assert_zero_padding(const uint8_t *msg, size_t total)
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

/* ---------------------------------------------------------------------
 * RFC 5769 §2.1: sample request.
 */

START_TEST(rfc_request_parse)
{
	struct stun_msg m;
	const uint8_t *b = exact(rfc_req, sizeof rfc_req);
	ck_assert_int_eq(stun_msg_parse(&m, b, sizeof rfc_req), STUN_OK);
	ck_assert_ptr_eq(m.buf, b);
	ck_assert_uint_eq(m.len, 108);
	ck_assert_uint_eq(m.type, 0x0001);
	ck_assert_uint_eq(m.method, STUN_BINDING);
	ck_assert_uint_eq(m.cls, STUN_REQUEST);
	ck_assert_ptr_eq(m.tid, b + 8);
	ck_assert_uint_eq(m.nattrs, 6);
	ck_assert_uint_eq(m.nunknown, 0);
	ck_assert_int_eq(m.mi, 4);
	ck_assert_int_eq(m.mi256, -1);
	ck_assert_int_eq(m.fp, 5);

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
	ck_assert_uint_eq(m.len, n);
	ck_assert_uint_eq(m.type, 0x0101);
	ck_assert_uint_eq(m.method, STUN_BINDING);
	ck_assert_uint_eq(m.cls, STUN_SUCCESS);
	ck_assert_ptr_eq(m.tid, b + 8);
	ck_assert_uint_eq(m.nattrs, 4);
	ck_assert_uint_eq(m.nunknown, 0);
	ck_assert_int_eq(m.mi, 2);
	ck_assert_int_eq(m.mi256, -1);
	ck_assert_int_eq(m.fp, 3);
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

/* ---------------------------------------------------------------------
 * Header helpers, names, peek, CRC.
 */

static uint16_t ref_type(uint16_t m, unsigned c)
{
	return (uint16_t)((m & 0x000f) | ((m & 0x0070) << 1) | ((m & 0x0f80) << 2) |
			  ((c & 1) << 4) | ((c & 2) << 7));
}

START_TEST(type_encoding)
{
	ck_assert_uint_eq(stun_type(STUN_BINDING, STUN_REQUEST), 0x0001);
	ck_assert_uint_eq(stun_type(STUN_BINDING, STUN_INDICATION), 0x0011);
	ck_assert_uint_eq(stun_type(STUN_BINDING, STUN_SUCCESS), 0x0101);
	ck_assert_uint_eq(stun_type(STUN_BINDING, STUN_ERROR), 0x0111);
	ck_assert_uint_eq(stun_type(TURN_ALLOCATE, STUN_REQUEST), 0x0003);
	ck_assert_uint_eq(stun_type(TURN_ALLOCATE, STUN_SUCCESS), 0x0103);
	ck_assert_uint_eq(stun_type(TURN_ALLOCATE, STUN_ERROR), 0x0113);
	ck_assert_uint_eq(stun_type(TURN_REFRESH, STUN_REQUEST), 0x0004);
	ck_assert_uint_eq(stun_type(TURN_SEND, STUN_INDICATION), 0x0016);
	ck_assert_uint_eq(stun_type(TURN_DATA, STUN_INDICATION), 0x0017);
	ck_assert_uint_eq(stun_type(TURN_CREATE_PERMISSION, STUN_REQUEST), 0x0008);
	ck_assert_uint_eq(stun_type(TURN_CHANNEL_BIND, STUN_SUCCESS), 0x0109);
	ck_assert_uint_eq(stun_type(TURN_CONNECT, STUN_REQUEST), 0x000a);
	ck_assert_uint_eq(stun_type(TURN_CONNECTION_BIND, STUN_ERROR), 0x011b);
	ck_assert_uint_eq(stun_type(TURN_CONNECTION_ATTEMPT, STUN_INDICATION), 0x001c);
	ck_assert_uint_eq(stun_type(0x0fff, STUN_ERROR), 0x3fff);

	/* Every method and class: encoding, and the parser's decoding. */
	for (unsigned meth = 0; meth <= 0x0fff; meth++)
		for (unsigned c = 0; c < 4; c++) {
			uint16_t t = stun_type((uint16_t)meth, (enum stun_class)c);
			ck_assert_uint_eq(t, ref_type((uint16_t)meth, c));
			uint8_t hdr[STUN_HDR_LEN] = { 0 };
			struct stun_msg m;
			wr16(hdr, t);
			wr32(hdr + 4, STUN_MAGIC);
			memcpy(hdr + 8, tid_a, 12);
			ck_assert_int_eq(stun_msg_parse(&m, hdr, sizeof hdr), STUN_OK);
			ck_assert_uint_eq(m.type, t);
			ck_assert_uint_eq(m.method, meth);
			ck_assert_uint_eq(m.cls, c);
			ck_assert_uint_eq(m.nattrs, 0);
			ck_assert_int_eq(m.mi, -1);
			ck_assert_int_eq(m.mi256, -1);
			ck_assert_int_eq(m.fp, -1);
		}
}
END_TEST

/* Lower-case alphanumerics only, so "ChannelBind", "CHANNEL-BIND" and
 * "channel_bind" all compare equal. */
static void norm(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; *s && n + 1 < cap; s++) {
		char c = *s;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			out[n++] = c;
	}
	out[n] = 0;
}

static void assert_names(const char *const *got, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char g[128];
		ck_assert_ptr_nonnull(got[i]);
		ck_assert_uint_gt(strlen(got[i]), 0);
		norm(got[i], g, sizeof g);
		if (want[i])
			ck_assert_msg(strstr(g, want[i]), "name \"%s\" lacks \"%s\"",
				      got[i], want[i]);
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(got[i], got[j]) != 0,
				      "two share the name \"%s\"", got[i]);
	}
}

START_TEST(names)
{
	static const uint16_t meths[] = {
		STUN_BINDING, TURN_ALLOCATE, TURN_REFRESH, TURN_SEND, TURN_DATA,
		TURN_CREATE_PERMISSION, TURN_CHANNEL_BIND, TURN_CONNECT,
		TURN_CONNECTION_BIND, TURN_CONNECTION_ATTEMPT,
	};
	static const char *const mwant[] = {
		"binding", "allocate", "refresh", "send", "data", "createpermission",
		"channelbind", "connect", "connectionbind", "connectionattempt",
	};
	const char *got[64];
	for (size_t i = 0; i < ARRAY_LEN(meths); i++)
		got[i] = stun_method_name(meths[i]);
	assert_names(got, mwant, ARRAY_LEN(meths));
	(void)stun_method_name(0x0fff); /* unknown: must not crash */

	static const char *const cwant[] = { "request", "indication", "success", "error" };
	for (unsigned c = 0; c < 4; c++)
		got[c] = stun_class_name((uint8_t)c);
	assert_names(got, cwant, 4);

	static const struct { uint16_t t; const char *n; } attrs[] = {
		{ STUN_A_MAPPED_ADDRESS, "mappedaddress" },
		{ STUN_A_RESPONSE_ADDRESS, "responseaddress" },
		{ STUN_A_CHANGE_REQUEST, "changerequest" },
		{ STUN_A_USERNAME, "username" },
		{ STUN_A_MESSAGE_INTEGRITY, "messageintegrity" },
		{ STUN_A_ERROR_CODE, "errorcode" },
		{ STUN_A_UNKNOWN_ATTRIBUTES, "unknownattributes" },
		{ STUN_A_CHANNEL_NUMBER, "channelnumber" },
		{ STUN_A_LIFETIME, "lifetime" },
		{ STUN_A_XOR_PEER_ADDRESS, "xorpeeraddress" },
		{ STUN_A_DATA, "data" },
		{ STUN_A_REALM, "realm" },
		{ STUN_A_NONCE, "nonce" },
		{ STUN_A_XOR_RELAYED_ADDRESS, "xorrelayedaddress" },
		{ STUN_A_REQUESTED_ADDRESS_FAMILY, "requestedaddressfamily" },
		{ STUN_A_EVEN_PORT, "evenport" },
		{ STUN_A_REQUESTED_TRANSPORT, "requestedtransport" },
		{ STUN_A_DONT_FRAGMENT, "fragment" },
		{ STUN_A_MESSAGE_INTEGRITY_SHA256, "messageintegritysha256" },
		{ STUN_A_PASSWORD_ALGORITHM, "passwordalgorithm" },
		{ STUN_A_USERHASH, "userhash" },
		{ STUN_A_XOR_MAPPED_ADDRESS, "xormappedaddress" },
		{ STUN_A_RESERVATION_TOKEN, "reservationtoken" },
		{ STUN_A_PRIORITY, "priority" },
		{ STUN_A_USE_CANDIDATE, "usecandidate" },
		{ STUN_A_PADDING, "padding" },
		{ STUN_A_RESPONSE_PORT, "responseport" },
		{ STUN_A_CONNECTION_ID, "connectionid" },
		{ STUN_A_ADDITIONAL_ADDRESS_FAMILY, "additionaladdressfamily" },
		{ STUN_A_ADDRESS_ERROR_CODE, "addresserrorcode" },
		{ STUN_A_PASSWORD_ALGORITHMS, "passwordalgorithms" },
		{ STUN_A_ALTERNATE_DOMAIN, "alternatedomain" },
		{ STUN_A_ICMP, "icmp" },
		{ STUN_A_SOFTWARE, "software" },
		{ STUN_A_ALTERNATE_SERVER, "alternateserver" },
		{ STUN_A_TRANSACTION_TRANSMIT_COUNTER, "transactiontransmitcounter" },
		{ STUN_A_CACHE_TIMEOUT, "cachetimeout" },
		{ STUN_A_FINGERPRINT, "fingerprint" },
		{ STUN_A_ICE_CONTROLLED, "icecontrolled" },
		{ STUN_A_ICE_CONTROLLING, "icecontrolling" },
		{ STUN_A_RESPONSE_ORIGIN, "responseorigin" },
		{ STUN_A_OTHER_ADDRESS, "otheraddress" },
	};
	const char *an[ARRAY_LEN(attrs)], *aw[ARRAY_LEN(attrs)];
	for (size_t i = 0; i < ARRAY_LEN(attrs); i++) {
		an[i] = stun_attr_name(attrs[i].t);
		aw[i] = attrs[i].n;
	}
	assert_names(an, aw, ARRAY_LEN(attrs));
	(void)stun_attr_name(0x7f7f);

	/* stun_strerror: every code has its own non-empty text. */
	const char *es[17];
	for (int e = 0; e >= STUN_E_CHANNEL; e--)
		es[-e] = stun_strerror(e);
	assert_names(es, (const char *const[17]){ 0 }, 17);
}
END_TEST

START_TEST(peek_len)
{
	uint8_t *b = exact(rfc_req, sizeof rfc_req);
	ck_assert_uint_eq(stun_peek_len(b, sizeof rfc_req), 108);
	/* A stream demultiplexer sees the header before the body. */
	ck_assert_uint_eq(stun_peek_len(exact(rfc_req, 20), 20), 108);
	ck_assert_uint_eq(stun_peek_len(exact(rfc_lt, 116), 116), 116);
	ck_assert_uint_eq(stun_peek_len(exact(rfc_req, 0), 0), 0);
	ck_assert_uint_eq(stun_peek_len(exact(rfc_req, 3), 3), 0);
	for (size_t n = 0; n <= sizeof rfc_req; n++) /* no overread */
		(void)stun_peek_len(exact(rfc_req, n), n);

	uint8_t *c = exact(rfc_req, sizeof rfc_req);
	c[0] |= 0xc0; /* top bits */
	ck_assert_uint_eq(stun_peek_len(c, sizeof rfc_req), 0);
	c = exact(rfc_req, sizeof rfc_req);
	c[0] |= 0x40; /* a ChannelData-looking first byte */
	ck_assert_uint_eq(stun_peek_len(c, sizeof rfc_req), 0);
	c = exact(rfc_req, sizeof rfc_req);
	c[7] ^= 0x01; /* cookie */
	ck_assert_uint_eq(stun_peek_len(c, sizeof rfc_req), 0);
	static const uint8_t chd[] = { 0x40, 0x01, 0x00, 0x04, 1, 2, 3, 4 };
	ck_assert_uint_eq(stun_peek_len(exact(chd, sizeof chd), sizeof chd), 0);
}
END_TEST

START_TEST(crc32_and_tid)
{
	ck_assert_uint_eq(stun_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
	ck_assert_uint_eq(stun_crc32((const uint8_t *)"", 0), 0);
	ck_assert_uint_eq(stun_crc32(rfc_lt, sizeof rfc_lt), ref_crc32(rfc_lt, sizeof rfc_lt));

	uint8_t t1[STUN_TID_LEN], t2[STUN_TID_LEN], zero[STUN_TID_LEN] = { 0 };
	stun_tid_random(t1);
	stun_tid_random(t2);
	ck_assert(memcmp(t1, t2, STUN_TID_LEN) != 0);
	ck_assert(memcmp(t1, zero, STUN_TID_LEN) != 0);
}
END_TEST

/* ---------------------------------------------------------------------
 * Keys.
 */

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

/* ---------------------------------------------------------------------
 * Round trips through the writer and the parser.
 */

static const struct stun_msg *parse_built(uint8_t *buf, int n)
{
	static struct stun_msg m;
	ck_assert_int_gt(n, 0);
	assert_zero_padding(buf, (size_t)n);
	ck_assert_uint_eq(rd16(buf + 2), (size_t)n - STUN_HDR_LEN);
	ck_assert_int_eq(parse_copy(&m, buf, (size_t)n), STUN_OK);
	ck_assert_uint_eq(m.len, (size_t)n);
	ck_assert_uint_eq(m.nunknown, 0);
	return &m;
}

START_TEST(rt_addresses)
{
	static const uint16_t plain[] = {
		STUN_A_MAPPED_ADDRESS, STUN_A_RESPONSE_ADDRESS, STUN_A_ALTERNATE_SERVER,
		STUN_A_RESPONSE_ORIGIN, STUN_A_OTHER_ADDRESS,
	};
	static const uint16_t xored[] = {
		STUN_A_XOR_MAPPED_ADDRESS, STUN_A_XOR_PEER_ADDRESS,
		STUN_A_XOR_RELAYED_ADDRESS,
	};
	static const struct { const char *ip; uint16_t port; } addrs[] = {
		{ "192.0.2.1", 32853 }, { "203.0.113.254", 1 }, { "0.0.0.0", 0 },
		{ "255.255.255.255", 65535 },
		{ "2001:db8:1234:5678:11:2233:4455:6677", 32853 }, { "::1", 443 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535 },
		{ "::ffff:192.0.2.7", 3478 },
	};
	for (size_t x = 0; x < 2; x++) {
		const uint16_t *types = x ? xored : plain;
		size_t nt = x ? ARRAY_LEN(xored) : ARRAY_LEN(plain);
		for (size_t t = 0; t < nt; t++)
			for (size_t i = 0; i < ARRAY_LEN(addrs); i++) {
				uint8_t buf[128], want[20];
				struct stun_writer w;
				struct sockaddr_storage ss = sa_make(addrs[i].ip, addrs[i].port), got;
				const uint8_t *tid = (i & 1) ? tid_a : tid_b;
				stun_writer_init(&w, buf, sizeof buf, TURN_ALLOCATE, STUN_SUCCESS, tid);
				put_sa(&w, types[t], &ss);
				int n = stun_writer_finish(&w);
				size_t vlen = ref_addr_val(want, &ss, (int)x, tid);
				ck_assert_int_eq(n, (int)(STUN_HDR_LEN + 4 + vlen));
				ck_assert_uint_eq(rd16(buf + 20), types[t]);
				ck_assert_uint_eq(rd16(buf + 22), vlen);
				ck_assert_msg(memcmp(buf + 24, want, vlen) == 0,
					      "encoding of %s for 0x%04x", addrs[i].ip, types[t]);
				const struct stun_msg *m = parse_built(buf, n);
				ck_assert_uint_eq(m->nattrs, 1);
				memset(&got, 0xee, sizeof got);
				ck_assert_int_eq(stun_msg_addr(m, types[t], &got), STUN_OK);
				assert_sa_eq(&got, &ss);
				memset(&got, 0xee, sizeof got);
				ck_assert_int_eq(stun_attr_addr(m, &m->attrs[0], &got), STUN_OK);
				assert_sa_eq(&got, &ss);
			}
	}
}
END_TEST

START_TEST(rt_bad_family_write)
{
	uint8_t buf[128];
	struct stun_writer w;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	stun_writer_init(&w, buf, sizeof buf, STUN_BINDING, STUN_SUCCESS, tid_a);
	put_sa(&w, STUN_A_XOR_MAPPED_ADDRESS, &ss);
	ck_assert_int_eq(stun_writer_finish(&w), STUN_E_FAMILY);
}
END_TEST

static const struct { uint16_t type; uint32_t v; } u32_attrs[] = {
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

static const struct { uint16_t type; uint64_t v; } u64_attrs[] = {
	{ STUN_A_RESERVATION_TOKEN, 0x0102030405060708ull },
	{ STUN_A_ICE_CONTROLLED, 0xfedcba9876543210ull },
	{ STUN_A_ICE_CONTROLLING, 0x8000000000000001ull },
};

START_TEST(rt_integers)
{
	uint8_t buf[512];
	struct stun_writer w;
	stun_writer_init(&w, buf, sizeof buf, TURN_ALLOCATE, STUN_REQUEST, tid_a);
	for (size_t i = 0; i < ARRAY_LEN(u32_attrs); i++)
		stun_put_u32(&w, u32_attrs[i].type, u32_attrs[i].v);
	for (size_t i = 0; i < ARRAY_LEN(u64_attrs); i++)
		stun_put_u64(&w, u64_attrs[i].type, u64_attrs[i].v);
	int n = stun_writer_finish(&w);
	ck_assert_int_eq(n, (int)(20 + 8 * ARRAY_LEN(u32_attrs) + 12 * ARRAY_LEN(u64_attrs)));
	const struct stun_msg *m = parse_built(buf, n);
	ck_assert_uint_eq(m->nattrs, ARRAY_LEN(u32_attrs) + ARRAY_LEN(u64_attrs));
	size_t k = 0;
	for (size_t i = 0; i < ARRAY_LEN(u32_attrs); i++, k++) {
		const struct stun_attr *a = &m->attrs[k];
		uint8_t be[4];
		uint32_t v = 0;
		uint64_t v64;
		ck_assert_uint_eq(a->type, u32_attrs[i].type);
		ck_assert_uint_eq(a->len, 4);
		wr32(be, u32_attrs[i].v);
		ck_assert_mem_eq(a->val, be, 4);
		ck_assert_int_eq(stun_attr_u32(a, &v), STUN_OK);
		ck_assert_uint_eq(v, u32_attrs[i].v);
		ck_assert_int_eq(stun_attr_u64(a, &v64), STUN_E_ATTR_SIZE);
	}
	for (size_t i = 0; i < ARRAY_LEN(u64_attrs); i++, k++) {
		const struct stun_attr *a = &m->attrs[k];
		uint8_t be[8];
		uint64_t v = 0;
		uint32_t v32;
		ck_assert_uint_eq(a->type, u64_attrs[i].type);
		ck_assert_uint_eq(a->len, 8);
		wr32(be, (uint32_t)(u64_attrs[i].v >> 32));
		wr32(be + 4, (uint32_t)u64_attrs[i].v);
		ck_assert_mem_eq(a->val, be, 8);
		ck_assert_int_eq(stun_attr_u64(a, &v), STUN_OK);
		ck_assert(v == u64_attrs[i].v);
		ck_assert_int_eq(stun_attr_u32(a, &v32), STUN_E_ATTR_SIZE);
	}
}
END_TEST

START_TEST(rt_strings)
{
	static const uint16_t types[] = {
		STUN_A_USERNAME, STUN_A_REALM, STUN_A_NONCE, STUN_A_SOFTWARE,
		STUN_A_ALTERNATE_DOMAIN,
	};
	static const char *const vals[] = { "a", "ab", "abc", "abcd", "abcde", "" };
	for (size_t t = 0; t < ARRAY_LEN(types); t++)
		for (size_t i = 0; i < ARRAY_LEN(vals); i++) {
			uint8_t buf[128];
			struct stun_writer w;
			size_t len = strlen(vals[i]);
			stun_writer_init(&w, buf, sizeof buf, STUN_BINDING, STUN_REQUEST, tid_a);
			stun_put_str(&w, types[t], vals[i]);
			int n = stun_writer_finish(&w);
			ck_assert_int_eq(n, (int)(24 + ((len + 3) & ~(size_t)3)));
			const struct stun_msg *m = parse_built(buf, n);
			ck_assert_uint_eq(m->nattrs, 1);
			ck_assert_uint_eq(m->attrs[0].type, types[t]);
			ck_assert_uint_eq(m->attrs[0].len, len);
			ck_assert_mem_eq(m->attrs[0].val, vals[i], len);
		}

	/* The longest legal values: USERNAME "fewer than 509 bytes", so 508
	 * (RFC 8489 §14.3), REALM/NONCE/SOFTWARE 763 bytes when decoding
	 * (§14.9, §14.10, §14.14). */
	static const struct { uint16_t type; size_t max; } lims[] = {
		{ STUN_A_USERNAME, 508 }, { STUN_A_REALM, 763 },
		{ STUN_A_NONCE, 763 }, { STUN_A_SOFTWARE, 763 },
	};
	for (size_t i = 0; i < ARRAY_LEN(lims); i++) {
		char s[800];
		uint8_t buf[1024];
		struct stun_writer w;
		memset(s, 'x', lims[i].max);
		s[lims[i].max] = 0;
		stun_writer_init(&w, buf, sizeof buf, STUN_BINDING, STUN_REQUEST, tid_a);
		stun_put_str(&w, lims[i].type, s);
		const struct stun_msg *m = parse_built(buf, stun_writer_finish(&w));
		ck_assert_uint_eq(m->attrs[0].len, lims[i].max);
	}
}
END_TEST

START_TEST(rt_error_code)
{
	static const struct { int code; const char *reason; } errs[] = {
		{ 300, "Try Alternate" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 420, "Unknown Attribute" },
		{ 437, "Allocation Mismatch" }, { 438, "Stale Nonce" },
		{ 440, "Address Family not Supported" }, { 441, "Wrong Credentials" },
		{ 442, "Unsupported Transport Protocol" }, { 486, "Allocation Quota Reached" },
		{ 500, "Server Error" }, { 508, "Insufficient Capacity" }, { 699, "" },
	};
	for (size_t i = 0; i < ARRAY_LEN(errs); i++) {
		uint8_t buf[256];
		struct stun_writer w;
		size_t rl = strlen(errs[i].reason);
		stun_writer_init(&w, buf, sizeof buf, TURN_ALLOCATE, STUN_ERROR, tid_a);
		stun_put_error(&w, errs[i].code, errs[i].reason);
		int n = stun_writer_finish(&w);
		ck_assert_int_eq(n, (int)(24 + ((4 + rl + 3) & ~(size_t)3)));
		ck_assert_uint_eq(rd16(buf + 20), STUN_A_ERROR_CODE);
		ck_assert_uint_eq(rd16(buf + 22), 4 + rl);
		ck_assert_uint_eq(buf[24], 0);
		ck_assert_uint_eq(buf[25], 0);
		ck_assert_uint_eq(buf[26], errs[i].code / 100);
		ck_assert_uint_eq(buf[27], errs[i].code % 100);
		ck_assert_mem_eq(buf + 28, errs[i].reason, rl);
		const struct stun_msg *m = parse_built(buf, n);
		int code = 0;
		const char *reason = NULL;
		size_t len = 99999;
		ck_assert_int_eq(stun_attr_error(&m->attrs[0], &code, &reason, &len), STUN_OK);
		ck_assert_int_eq(code, errs[i].code);
		ck_assert_uint_eq(len, rl);
		if (rl)
			ck_assert_mem_eq(reason, errs[i].reason, rl);
	}
	/* Parsed from the reference encoding with the reserved bits set. */
	struct raw r = raw_new(0x0113, tid_a);
	static const uint8_t v[] = { 0xff, 0xff, 0xfc | 4, 38, 'S', 't', 'a', 'l', 'e' };
	raw_attr(&r, STUN_A_ERROR_CODE, v, sizeof v);
	struct stun_msg m;
	int code;
	const char *reason;
	size_t len;
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
	ck_assert_int_eq(stun_attr_error(&m.attrs[0], &code, &reason, &len), STUN_OK);
	ck_assert_int_eq(code, 438);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(reason, "Stale", 5);
}
END_TEST

/* Opaque attributes, written with stun_put_attr. */
static const uint8_t userhash_val[32] = {
	0x4a, 0x3c, 0xf3, 0x8f, 0xef, 0x69, 0x92, 0xbd, 0xa9, 0x52, 0xc6,
	0x78, 0x04, 0x17, 0xda, 0x0f, 0x24, 0x81, 0x94, 0x15, 0x56, 0x9e,
	0x60, 0xb2, 0x05, 0xc4, 0x6e, 0x41, 0x40, 0x7f, 0x17, 0x04,
};
static const uint8_t pwalg_val[] = { 0x00, 0x02, 0x00, 0x00 };
static const uint8_t pwalgs_val[] = { 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 };
static const uint8_t unknown_val[] = { 0x00, 0x30, 0x7f, 0xff, 0x00, 0x31 };
static const uint8_t icmp_val[] = { 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x00 };
static const uint8_t addrerr_val[] = {
	0x02, 0x00, 0x04, 0x40, 'A', 'd', 'd', 'r', 'e', 's', 's', ' ', 'F', 'a',
	'm', 'i', 'l', 'y', ' ', 'n', 'o', 't', ' ', 'S', 'u', 'p', 'p', 'o',
	'r', 't', 'e', 'd',
};
static const uint8_t data5_val[] = { 0xde, 0xad, 0xbe, 0xef, 0x42 };
static const uint8_t evenport_val[] = { 0x80 };
static const uint8_t padding_val[12] = {
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
};
static const uint8_t respport_val[] = { 0x0d, 0x96, 0x00, 0x00 };

static const struct { uint16_t type; const uint8_t *v; size_t len; } opaque_attrs[] = {
	{ STUN_A_DATA, data5_val, sizeof data5_val },
	{ STUN_A_DATA, data5_val, 0 },
	{ STUN_A_EVEN_PORT, evenport_val, 1 },
	{ STUN_A_DONT_FRAGMENT, data5_val, 0 },
	{ STUN_A_USE_CANDIDATE, data5_val, 0 },
	{ STUN_A_PADDING, padding_val, sizeof padding_val },
	{ STUN_A_RESPONSE_PORT, respport_val, sizeof respport_val },
	{ STUN_A_USERHASH, userhash_val, sizeof userhash_val },
	{ STUN_A_PASSWORD_ALGORITHM, pwalg_val, sizeof pwalg_val },
	{ STUN_A_PASSWORD_ALGORITHMS, pwalgs_val, sizeof pwalgs_val },
	{ STUN_A_UNKNOWN_ATTRIBUTES, unknown_val, sizeof unknown_val },
	{ STUN_A_ICMP, icmp_val, sizeof icmp_val },
	{ STUN_A_ADDRESS_ERROR_CODE, addrerr_val, sizeof addrerr_val },
};

START_TEST(rt_opaque)
{
	for (size_t i = 0; i < ARRAY_LEN(opaque_attrs); i++) {
		uint8_t buf[128];
		struct stun_writer w;
		size_t len = opaque_attrs[i].len;
		stun_writer_init(&w, buf, sizeof buf, TURN_SEND, STUN_INDICATION, tid_b);
		stun_put_attr(&w, opaque_attrs[i].type, opaque_attrs[i].v, len);
		int n = stun_writer_finish(&w);
		ck_assert_int_eq(n, (int)(24 + ((len + 3) & ~(size_t)3)));
		ck_assert_uint_eq(rd16(buf + 20), opaque_attrs[i].type);
		ck_assert_uint_eq(rd16(buf + 22), len);
		const struct stun_msg *m = parse_built(buf, n);
		ck_assert_uint_eq(m->nattrs, 1);
		ck_assert_uint_eq(m->attrs[0].type, opaque_attrs[i].type);
		ck_assert_uint_eq(m->attrs[0].len, len);
		if (len)
			ck_assert_mem_eq(m->attrs[0].val, opaque_attrs[i].v, len);
	}
}
END_TEST

START_TEST(rt_integrity_sha256)
{
	uint8_t key[32], other[32], buf[256];
	struct stun_writer w;
	ck_assert_int_eq(stun_longterm_key(STUN_PW_SHA256, "alice", "example.org",
					   "pw", key), 32);
	ck_assert_int_eq(stun_longterm_key(STUN_PW_SHA256, "alice", "example.org",
					   "pW", other), 32);
	for (int with_fp = 0; with_fp < 2; with_fp++) {
		stun_writer_init(&w, buf, sizeof buf, TURN_ALLOCATE, STUN_REQUEST, tid_a);
		stun_put_u32(&w, STUN_A_REQUESTED_TRANSPORT, 0x11000000u);
		stun_put_str(&w, STUN_A_USERNAME, "alice");
		stun_put_str(&w, STUN_A_REALM, "example.org");
		stun_put_str(&w, STUN_A_NONCE, "n0nc3");
		stun_put_attr(&w, STUN_A_PASSWORD_ALGORITHM, pwalg_val, 4);
		ck_assert_uint_eq(w.len, 76);
		stun_put_integrity_sha256(&w, key, 32);
		if (with_fp)
			stun_put_fingerprint(&w);
		int n = stun_writer_finish(&w);
		ck_assert_int_eq(n, 76 + 36 + (with_fp ? 8 : 0));
		/* Reference HMAC-SHA256 over the message up to the attribute,
		 * length field covering it (RFC 8489 §14.6). */
		uint8_t tmp[76], mac[32];
		memcpy(tmp, buf, 76);
		wr16(tmp + 2, 76 + 36 - 20);
		ref_hmac(EVP_sha256(), key, 32, tmp, 76, mac);
		ck_assert_uint_eq(rd16(buf + 76), STUN_A_MESSAGE_INTEGRITY_SHA256);
		ck_assert_uint_eq(rd16(buf + 78), 32);
		ck_assert_mem_eq(buf + 80, mac, 32);
		if (with_fp)
			assert_fp_at(buf, (size_t)n, 112);
		const struct stun_msg *m = parse_built(buf, n);
		ck_assert_int_eq(m->mi, -1);
		ck_assert_int_eq(m->mi256, 5);
		ck_assert_int_eq(m->fp, with_fp ? 6 : -1);
		ck_assert_int_eq(stun_msg_check_integrity(m, key, 32), STUN_OK);
		ck_assert_int_eq(stun_msg_check_integrity(m, other, 32), STUN_E_INTEGRITY);
		ck_assert_int_eq(stun_msg_check_integrity(m, key, 16), STUN_E_INTEGRITY);
	}
}
END_TEST

/* With both, MESSAGE-INTEGRITY-SHA256 is the one checked. */
START_TEST(integrity_prefers_sha256)
{
	uint8_t ka[32], kb[32], buf[256];
	struct stun_writer w;
	ck_assert_int_eq(stun_longterm_key(STUN_PW_SHA256, "u", "r", "a", ka), 32);
	ck_assert_int_eq(stun_longterm_key(STUN_PW_MD5, "u", "r", "b", kb), 16);
	stun_writer_init(&w, buf, sizeof buf, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_str(&w, STUN_A_USERNAME, "u");
	stun_put_integrity(&w, kb, 16);
	stun_put_integrity_sha256(&w, ka, 32);
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	ck_assert_int_eq(n, 20 + 8 + 24 + 36 + 8);
	assert_mi_at(buf, 28, kb, 16);
	const struct stun_msg *m = parse_built(buf, n);
	ck_assert_int_eq(m->mi, 1);
	ck_assert_int_eq(m->mi256, 2);
	ck_assert_int_eq(m->fp, 3);
	ck_assert_int_eq(stun_msg_check_integrity(m, ka, 32), STUN_OK);
	ck_assert_int_eq(stun_msg_check_integrity(m, kb, 16), STUN_E_INTEGRITY);

	/* No integrity attribute at all. */
	stun_writer_init(&w, buf, sizeof buf, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_str(&w, STUN_A_USERNAME, "u");
	m = parse_built(buf, stun_writer_finish(&w));
	ck_assert_int_eq(stun_msg_check_integrity(m, ka, 32), STUN_E_MISSING);
}
END_TEST

/* An empty key (NULL, 0) is a key like any other: it must not verify a
 * message signed with another key, whatever was checked before, and the
 * writer must sign with the empty key, not a previous one. */
START_TEST(integrity_empty_key)
{
	static const uint8_t k[] = "secret-key";
	uint8_t buf[256];
	struct stun_writer w;
	for (int sha = 0; sha < 2; sha++) {
		stun_writer_init(&w, buf, sizeof buf, TURN_REFRESH, STUN_REQUEST, tid_a);
		stun_put_str(&w, STUN_A_USERNAME, "alice");
		if (sha)
			stun_put_integrity_sha256(&w, k, 10);
		else
			stun_put_integrity(&w, k, 10);
		const struct stun_msg *m = parse_built(buf, stun_writer_finish(&w));
		ck_assert_int_eq(stun_msg_check_integrity(m, k, 10), STUN_OK);
		ck_assert_msg(stun_msg_check_integrity(m, NULL, 0) == STUN_E_INTEGRITY,
			      "sha256=%d: a NULL key verified a message signed with another key", sha);
		ck_assert_int_eq(stun_msg_check_integrity(m, (const uint8_t *)"", 0),
				 STUN_E_INTEGRITY);
		ck_assert_int_eq(stun_msg_check_integrity(m, k, 10), STUN_OK);
		ck_assert_msg(stun_msg_check_integrity(m, NULL, 0) == STUN_E_INTEGRITY,
			      "sha256=%d: a NULL key verified a message signed with another key", sha);
	}

	/* Signing with (NULL, 0) right after signing with k. */
	stun_writer_init(&w, buf, sizeof buf, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_integrity(&w, k, 10);
	ck_assert_int_eq(stun_writer_finish(&w), 44);
	stun_writer_init(&w, buf, sizeof buf, STUN_BINDING, STUN_REQUEST, tid_b);
	stun_put_integrity(&w, NULL, 0);
	int n = stun_writer_finish(&w);
	ck_assert_int_eq(n, 44);
	assert_mi_at(buf, 20, "", 0);
}
END_TEST

/* RFC 8489 §14.6: MESSAGE-INTEGRITY-SHA256 may be truncated to 16..32
 * bytes in steps of 4; anything else is not a valid HMAC. */
START_TEST(integrity_sha256_truncated)
{
	uint8_t key[32];
	ck_assert_int_eq(stun_longterm_key(STUN_PW_SHA256, "u", "r", "p", key), 32);
	static const size_t ok[] = { 16, 20, 28, 32 };
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		struct raw r = raw_new(0x0001, tid_a);
		struct stun_msg m;
		raw_attr(&r, STUN_A_USERNAME, "u", 1);
		raw_hmac(&r, STUN_A_MESSAGE_INTEGRITY_SHA256, EVP_sha256(), key, 32, ok[i]);
		ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
		ck_assert_msg(stun_msg_check_integrity(&m, key, 32) == STUN_OK,
			      "%zu-byte MESSAGE-INTEGRITY-SHA256 refused", ok[i]);
		key[0] ^= 1;
		ck_assert_int_eq(stun_msg_check_integrity(&m, key, 32), STUN_E_INTEGRITY);
		key[0] ^= 1;
	}
	static const size_t bad[] = { 0, 4, 12, 18, 36 };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct raw r = raw_new(0x0001, tid_a);
		struct stun_msg m;
		raw_attr(&r, STUN_A_USERNAME, "u", 1);
		raw_hmac(&r, STUN_A_MESSAGE_INTEGRITY_SHA256, EVP_sha256(), key, 32, bad[i]);
		int rc = parse_copy(&m, r.b, r.n);
		if (rc == STUN_OK)
			rc = stun_msg_check_integrity(&m, key, 32);
		ck_assert_msg(rc == STUN_E_ATTR_SIZE || rc == STUN_E_INTEGRITY,
			      "%zu-byte MESSAGE-INTEGRITY-SHA256: got %d", bad[i], rc);
	}
	/* MESSAGE-INTEGRITY is exactly 20 bytes: a correct HMAC-SHA1
	 * truncated to 16, or padded out to 24, is not accepted. */
	static const size_t mibad[] = { 16, 24 };
	for (size_t i = 0; i < ARRAY_LEN(mibad); i++) {
		struct raw r = raw_new(0x0001, tid_a);
		struct stun_msg m;
		raw_attr(&r, STUN_A_USERNAME, "u", 1);
		raw_hmac(&r, STUN_A_MESSAGE_INTEGRITY, EVP_sha1(), "pw", 2, mibad[i]);
		int rc = parse_copy(&m, r.b, r.n);
		if (rc == STUN_OK)
			rc = stun_msg_check_integrity(&m, (const uint8_t *)"pw", 2);
		ck_assert_msg(rc == STUN_E_ATTR_SIZE || rc == STUN_E_INTEGRITY,
			      "%zu-byte MESSAGE-INTEGRITY: got %d", mibad[i], rc);
	}
}
END_TEST

/* One message carrying every attribute in the enum. */
enum put_kind { P_ADDR4, P_ADDR6, P_XADDR4, P_XADDR6, P_U32, P_U64, P_STR,
		P_ERR, P_RAW, P_MI, P_MI256, P_FP };

START_TEST(rt_every_attribute)
{
	static const uint16_t all_types[] = {
		STUN_A_MAPPED_ADDRESS, STUN_A_RESPONSE_ADDRESS, STUN_A_CHANGE_REQUEST,
		STUN_A_USERNAME, STUN_A_MESSAGE_INTEGRITY, STUN_A_ERROR_CODE,
		STUN_A_UNKNOWN_ATTRIBUTES, STUN_A_CHANNEL_NUMBER, STUN_A_LIFETIME,
		STUN_A_XOR_PEER_ADDRESS, STUN_A_DATA, STUN_A_REALM, STUN_A_NONCE,
		STUN_A_XOR_RELAYED_ADDRESS, STUN_A_REQUESTED_ADDRESS_FAMILY,
		STUN_A_EVEN_PORT, STUN_A_REQUESTED_TRANSPORT, STUN_A_DONT_FRAGMENT,
		STUN_A_MESSAGE_INTEGRITY_SHA256, STUN_A_PASSWORD_ALGORITHM,
		STUN_A_USERHASH, STUN_A_XOR_MAPPED_ADDRESS, STUN_A_RESERVATION_TOKEN,
		STUN_A_PRIORITY, STUN_A_USE_CANDIDATE, STUN_A_PADDING,
		STUN_A_RESPONSE_PORT, STUN_A_CONNECTION_ID,
		STUN_A_ADDITIONAL_ADDRESS_FAMILY, STUN_A_ADDRESS_ERROR_CODE,
		STUN_A_PASSWORD_ALGORITHMS, STUN_A_ALTERNATE_DOMAIN, STUN_A_ICMP,
		STUN_A_SOFTWARE, STUN_A_ALTERNATE_SERVER,
		STUN_A_TRANSACTION_TRANSMIT_COUNTER, STUN_A_CACHE_TIMEOUT,
		STUN_A_FINGERPRINT, STUN_A_ICE_CONTROLLED, STUN_A_ICE_CONTROLLING,
		STUN_A_RESPONSE_ORIGIN, STUN_A_OTHER_ADDRESS,
	};
	static const struct {
		uint16_t type;
		enum put_kind k;
		uint64_t n;
		const void *p;
		size_t len;
	} plan[] = {
		{ STUN_A_MAPPED_ADDRESS, P_ADDR4, 0, 0, 0 },
		{ STUN_A_RESPONSE_ADDRESS, P_ADDR6, 0, 0, 0 },
		{ STUN_A_CHANGE_REQUEST, P_U32, 6, 0, 0 },
		{ STUN_A_USERNAME, P_STR, 0, "alice", 5 },
		{ STUN_A_ERROR_CODE, P_ERR, 438, "Stale Nonce", 11 },
		{ STUN_A_UNKNOWN_ATTRIBUTES, P_RAW, 0, unknown_val, sizeof unknown_val },
		{ STUN_A_CHANNEL_NUMBER, P_U32, 0x4fff0000u, 0, 0 },
		{ STUN_A_LIFETIME, P_U32, 3600, 0, 0 },
		{ STUN_A_XOR_PEER_ADDRESS, P_XADDR6, 0, 0, 0 },
		{ STUN_A_DATA, P_RAW, 0, data5_val, sizeof data5_val },
		{ STUN_A_REALM, P_STR, 0, "example.org", 11 },
		{ STUN_A_NONCE, P_STR, 0, RFC_LT_NONCE, 28 },
		{ STUN_A_XOR_RELAYED_ADDRESS, P_XADDR4, 0, 0, 0 },
		{ STUN_A_REQUESTED_ADDRESS_FAMILY, P_U32, 0x01000000u, 0, 0 },
		{ STUN_A_EVEN_PORT, P_RAW, 0, evenport_val, 1 },
		{ STUN_A_REQUESTED_TRANSPORT, P_U32, 0x06000000u, 0, 0 },
		{ STUN_A_DONT_FRAGMENT, P_RAW, 0, data5_val, 0 },
		{ STUN_A_PASSWORD_ALGORITHM, P_RAW, 0, pwalg_val, sizeof pwalg_val },
		{ STUN_A_USERHASH, P_RAW, 0, userhash_val, sizeof userhash_val },
		{ STUN_A_XOR_MAPPED_ADDRESS, P_XADDR4, 0, 0, 0 },
		{ STUN_A_RESERVATION_TOKEN, P_U64, 0x1122334455667788ull, 0, 0 },
		{ STUN_A_PRIORITY, P_U32, 0x7e7f00ffu, 0, 0 },
		{ STUN_A_USE_CANDIDATE, P_RAW, 0, data5_val, 0 },
		{ STUN_A_PADDING, P_RAW, 0, padding_val, sizeof padding_val },
		{ STUN_A_RESPONSE_PORT, P_RAW, 0, respport_val, sizeof respport_val },
		{ STUN_A_CONNECTION_ID, P_U32, 0x01020304u, 0, 0 },
		{ STUN_A_ADDITIONAL_ADDRESS_FAMILY, P_U32, 0x02000000u, 0, 0 },
		{ STUN_A_ADDRESS_ERROR_CODE, P_RAW, 0, addrerr_val, sizeof addrerr_val },
		{ STUN_A_PASSWORD_ALGORITHMS, P_RAW, 0, pwalgs_val, sizeof pwalgs_val },
		{ STUN_A_ALTERNATE_DOMAIN, P_STR, 0, "turn.example.org", 16 },
		{ STUN_A_ICMP, P_RAW, 0, icmp_val, sizeof icmp_val },
		{ STUN_A_SOFTWARE, P_STR, 0, "edgelab test", 12 },
		{ STUN_A_ALTERNATE_SERVER, P_ADDR6, 0, 0, 0 },
		{ STUN_A_TRANSACTION_TRANSMIT_COUNTER, P_U32, 0x00000201u, 0, 0 },
		{ STUN_A_CACHE_TIMEOUT, P_U32, 60, 0, 0 },
		{ STUN_A_ICE_CONTROLLED, P_U64, 0x0123456789abcdefull, 0, 0 },
		{ STUN_A_ICE_CONTROLLING, P_U64, 0xfedcba9876543210ull, 0, 0 },
		{ STUN_A_RESPONSE_ORIGIN, P_ADDR4, 0, 0, 0 },
		{ STUN_A_OTHER_ADDRESS, P_ADDR6, 0, 0, 0 },
		{ STUN_A_MESSAGE_INTEGRITY, P_MI, 0, 0, 0 },
		{ STUN_A_MESSAGE_INTEGRITY_SHA256, P_MI256, 0, 0, 0 },
		{ STUN_A_FINGERPRINT, P_FP, 0, 0, 0 },
	};
	/* The plan covers every type in the enum. */
	for (size_t i = 0; i < ARRAY_LEN(all_types); i++) {
		int found = 0;
		for (size_t j = 0; j < ARRAY_LEN(plan); j++)
			found |= plan[j].type == all_types[i];
		ck_assert_msg(found, "0x%04x not covered", all_types[i]);
	}

	/* The plan has more than STUN_MAX_ATTRS entries: two messages, the
	 * first and second halves of it, each ending with MI, MI-SHA256 and
	 * FINGERPRINT (the last three entries). */
	const size_t nbody = ARRAY_LEN(plan) - 3, half = nbody / 2;
	struct sockaddr_storage a4 = sa_make("198.51.100.7", 49152);
	struct sockaddr_storage a6 = sa_make("2001:db8::beef", 50000);
	uint8_t k16[32], k32[32], buf[1024];
	ck_assert_int_eq(stun_longterm_key(STUN_PW_MD5, "alice", "example.org", "pw", k16), 16);
	ck_assert_int_eq(stun_longterm_key(STUN_PW_SHA256, "alice", "example.org", "pw", k32), 32);
	for (int part = 0; part < 2; part++) {
		size_t idx[STUN_MAX_ATTRS], cnt = 0;
		for (size_t i = part ? half : 0; i < (part ? nbody : half); i++)
			idx[cnt++] = i;
		for (size_t i = nbody; i < ARRAY_LEN(plan); i++)
			idx[cnt++] = i;
		ck_assert_uint_le(cnt, STUN_MAX_ATTRS);

		struct stun_writer w;
		stun_writer_init(&w, buf, sizeof buf, TURN_ALLOCATE, STUN_REQUEST, tid_b);
		for (size_t c = 0; c < cnt; c++) {
			size_t i = idx[c];
			switch (plan[i].k) {
			case P_ADDR4: case P_XADDR4: put_sa(&w, plan[i].type, &a4); break;
			case P_ADDR6: case P_XADDR6: put_sa(&w, plan[i].type, &a6); break;
			case P_U32: stun_put_u32(&w, plan[i].type, (uint32_t)plan[i].n); break;
			case P_U64: stun_put_u64(&w, plan[i].type, plan[i].n); break;
			case P_STR: stun_put_str(&w, plan[i].type, plan[i].p); break;
			case P_ERR: stun_put_error(&w, (int)plan[i].n, plan[i].p); break;
			case P_RAW: stun_put_attr(&w, plan[i].type, plan[i].p, plan[i].len); break;
			case P_MI: stun_put_integrity(&w, k16, 16); break;
			case P_MI256: stun_put_integrity_sha256(&w, k32, 32); break;
			case P_FP: stun_put_fingerprint(&w); break;
			}
			ck_assert_msg(w.err == 0, "writer failed at 0x%04x: %d", plan[i].type, w.err);
		}
		int n = stun_writer_finish(&w);
		ck_assert_int_gt(n, 0);
		const struct stun_msg *m = parse_built(buf, n);
		ck_assert_uint_eq(m->nattrs, cnt);
		ck_assert_int_eq(m->mi, (int)cnt - 3);
		ck_assert_int_eq(m->mi256, (int)cnt - 2);
		ck_assert_int_eq(m->fp, (int)cnt - 1);
		ck_assert_int_eq(stun_msg_check_integrity(m, k32, 32), STUN_OK);
		size_t off = STUN_HDR_LEN;
		for (size_t c = 0; c < cnt; c++) {
			size_t i = idx[c];
			const struct stun_attr *a = &m->attrs[c];
			struct sockaddr_storage ss;
			uint32_t u32;
			uint64_t u64;
			int code;
			const char *reason;
			size_t rl;
			ck_assert_uint_eq(a->type, plan[i].type);
			ck_assert_uint_eq(a->off, off);
			ck_assert_ptr_eq(a->val, m->buf + off + 4);
			off += 4 + ((a->len + 3u) & ~3u);
			switch (plan[i].k) {
			case P_ADDR4: case P_XADDR4: case P_ADDR6: case P_XADDR6:
				ck_assert_int_eq(stun_attr_addr(m, a, &ss), STUN_OK);
				assert_sa_eq(&ss, (plan[i].k == P_ADDR4 || plan[i].k == P_XADDR4) ? &a4 : &a6);
				break;
			case P_U32:
				ck_assert_int_eq(stun_attr_u32(a, &u32), STUN_OK);
				ck_assert_uint_eq(u32, plan[i].n);
				break;
			case P_U64:
				ck_assert_int_eq(stun_attr_u64(a, &u64), STUN_OK);
				ck_assert(u64 == plan[i].n);
				break;
			case P_STR: case P_RAW:
				ck_assert_uint_eq(a->len, plan[i].len);
				if (plan[i].len)
					ck_assert_mem_eq(a->val, plan[i].p, plan[i].len);
				break;
			case P_ERR:
				ck_assert_int_eq(stun_attr_error(a, &code, &reason, &rl), STUN_OK);
				ck_assert_int_eq(code, (int)plan[i].n);
				ck_assert_uint_eq(rl, plan[i].len);
				ck_assert_mem_eq(reason, plan[i].p, rl);
				break;
			case P_MI: ck_assert_uint_eq(a->len, 20); break;
			case P_MI256: ck_assert_uint_eq(a->len, 32); break;
			case P_FP: ck_assert_uint_eq(a->len, 4); break;
			}
		}
		ck_assert_uint_eq(off, (size_t)n);
		assert_fp_at(buf, (size_t)n, (size_t)n - 8);
		assert_mi_at(buf, m->attrs[m->mi].off, k16, 16);
	}
}
END_TEST

START_TEST(rt_large_message)
{
	/* The largest aligned message, 65532 bytes: one DATA of 65508. */
	size_t dlen = 65532 - 24;
	uint8_t *data = calloc(1, dlen), *buf = calloc(1, 70000);
	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < dlen; i++)
		data[i] = (uint8_t)(i * 7);
	struct stun_writer w;
	stun_writer_init(&w, buf, 70000, TURN_SEND, STUN_INDICATION, tid_a);
	stun_put_attr(&w, STUN_A_DATA, data, dlen);
	ck_assert_int_eq(stun_writer_finish(&w), 65532);
	struct stun_msg m;
	ck_assert_int_eq(parse_copy(&m, buf, 65532), STUN_OK);
	ck_assert_uint_eq(m.len, 65532);
	ck_assert_uint_eq(m.attrs[0].len, dlen);
	ck_assert_mem_eq(m.attrs[0].val, data, dlen);

	/* A body longer than 65535 bytes cannot be described by the 16-bit
	 * length field: the writer must refuse it even with room to spare. */
	stun_writer_init(&w, buf, 70000, TURN_SEND, STUN_INDICATION, tid_a);
	stun_put_attr(&w, STUN_A_DATA, data, 65508);
	stun_put_u32(&w, STUN_A_LIFETIME, 1); /* body 65520 */
	stun_put_u32(&w, STUN_A_LIFETIME, 2); /* body 65528 */
	stun_put_u32(&w, STUN_A_LIFETIME, 3); /* body 65536: too long */
	ck_assert_int_lt(stun_writer_finish(&w), 0);
	free(data);
	free(buf);
}
END_TEST

START_TEST(writer_nospace)
{
	uint8_t buf[64];
	struct stun_writer w;

	stun_writer_init(&w, buf, 10, STUN_BINDING, STUN_REQUEST, tid_a);
	ck_assert_int_eq(stun_writer_finish(&w), STUN_E_NOSPACE);

	stun_writer_init(&w, buf, 20, STUN_BINDING, STUN_REQUEST, tid_a);
	ck_assert_int_eq(stun_writer_finish(&w), 20);
	struct stun_msg m;
	ck_assert_int_eq(parse_copy(&m, buf, 20), STUN_OK);

	/* Room for 36 bytes: u64 (12) fits, a second does not; after that an
	 * empty attribute that would fit is a no-op, the error sticks. */
	stun_writer_init(&w, buf, 36, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_u64(&w, STUN_A_ICE_CONTROLLING, 1);
	ck_assert_int_eq(w.err, 0);
	ck_assert_uint_eq(w.len, 32);
	stun_put_u64(&w, STUN_A_ICE_CONTROLLING, 2);
	ck_assert_int_eq(w.err, STUN_E_NOSPACE);
	ck_assert_uint_le(w.len, 36);
	size_t len = w.len;
	stun_put_attr(&w, STUN_A_DONT_FRAGMENT, NULL, 0);
	ck_assert_uint_eq(w.len, len);
	ck_assert_int_eq(stun_writer_finish(&w), STUN_E_NOSPACE);

	/* MESSAGE-INTEGRITY (24), -SHA256 (36), FINGERPRINT (8) need room. */
	stun_writer_init(&w, buf, 43, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_integrity(&w, (const uint8_t *)"k", 1);
	ck_assert_int_eq(stun_writer_finish(&w), STUN_E_NOSPACE);
	stun_writer_init(&w, buf, 51, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_integrity(&w, (const uint8_t *)"k", 1);
	ck_assert_int_eq(w.err, 0);
	stun_put_fingerprint(&w);
	ck_assert_int_eq(stun_writer_finish(&w), STUN_E_NOSPACE);
	stun_writer_init(&w, buf, 55, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_integrity_sha256(&w, (const uint8_t *)"k", 1);
	ck_assert_int_eq(stun_writer_finish(&w), STUN_E_NOSPACE);
	stun_writer_init(&w, buf, 27, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_fingerprint(&w);
	ck_assert_int_eq(stun_writer_finish(&w), STUN_E_NOSPACE);
	stun_writer_init(&w, buf, 28, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_fingerprint(&w);
	ck_assert_int_eq(stun_writer_finish(&w), 28);
	/* Padding counts: a 5-byte DATA needs 12 bytes. */
	stun_writer_init(&w, buf, 31, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_attr(&w, STUN_A_DATA, data5_val, 5);
	ck_assert_int_eq(stun_writer_finish(&w), STUN_E_NOSPACE);
	stun_writer_init(&w, buf, 32, STUN_BINDING, STUN_REQUEST, tid_a);
	stun_put_attr(&w, STUN_A_DATA, data5_val, 5);
	ck_assert_int_eq(stun_writer_finish(&w), 32);
}
END_TEST

/* ---------------------------------------------------------------------
 * Malformed input: each case breaks exactly one rule.
 */

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

START_TEST(bad_len_mismatch)
{
	struct raw r = raw_new(0x0001, tid_a);
	struct stun_msg m;
	raw_u32(&r, STUN_A_LIFETIME, 5);
	raw_u32(&r, STUN_A_PRIORITY, 5);
	/* Header says 8, 16 bytes follow. */
	raw_setlen(&r, 8);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_LEN_MISMATCH);
	/* Header says 24, 16 bytes follow. */
	raw_setlen(&r, 24);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_LEN_MISMATCH);
	/* Header says 65532, 16 bytes follow. */
	raw_setlen(&r, 65532);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_LEN_MISMATCH);
	/* Header says 16 (right) but the datagram carries 4 more bytes. */
	raw_setlen(&r, 16);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n + 4), STUN_E_LEN_MISMATCH);
}
END_TEST

START_TEST(bad_attr_overrun)
{
	struct raw r = raw_new(0x0001, tid_a);
	struct stun_msg m;
	raw_u32(&r, STUN_A_LIFETIME, 5);
	raw_u32(&r, STUN_A_PRIORITY, 5);
	/* The second attribute claims 5 bytes (8 with padding) of 4. */
	wr16(r.b + 30, 5);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_ATTR_OVERRUN);
	/* Claims 8. */
	wr16(r.b + 30, 8);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_ATTR_OVERRUN);
	/* Claims 0xffff. */
	wr16(r.b + 30, 0xffff);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_E_ATTR_OVERRUN);
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
	for (size_t i = 0; i < ARRAY_LEN(u32_attrs); i++) {
		expect_size_error(u32_attrs[i].type, 3, RD_U32);
		expect_size_error(u32_attrs[i].type, 5, RD_U32);
		expect_size_error(u32_attrs[i].type, 0, RD_U32);
	}
	expect_size_error(STUN_A_CHANNEL_NUMBER, 2, RD_U32);
	for (size_t i = 0; i < ARRAY_LEN(u64_attrs); i++) {
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

/* ---------------------------------------------------------------------
 * Unknown attributes.
 */

START_TEST(unknown_attrs)
{
	struct stun_msg m;
	struct raw r = raw_new(0x0003, tid_a);
	raw_attr(&r, 0x0030, "abcd", 4);     /* required, unknown */
	raw_attr(&r, STUN_A_USERNAME, "u", 1);
	raw_attr(&r, 0x7fff, "a", 1);        /* required, unknown */
	raw_attr(&r, 0x8fff, "abcdefgh", 8); /* optional, unknown */
	raw_attr(&r, 0xc001, NULL, 0);       /* optional, unknown */
	raw_attr(&r, 0x0031, NULL, 0);       /* required, unknown */
	raw_fp(&r);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
	ck_assert_uint_eq(m.nattrs, 7);
	ck_assert_uint_eq(m.nunknown, 3);
	ck_assert_uint_eq(m.unknown[0], 0x0030);
	ck_assert_uint_eq(m.unknown[1], 0x7fff);
	ck_assert_uint_eq(m.unknown[2], 0x0031);
	ck_assert_uint_eq(m.attrs[3].type, 0x8fff);
	ck_assert_uint_eq(m.attrs[3].len, 8);

	/* Only optional unknowns: none listed. */
	r = raw_new(0x0001, tid_a);
	raw_attr(&r, 0x8fff, "x", 1);
	raw_attr(&r, 0xfffe, "xy", 2);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
	ck_assert_uint_eq(m.nunknown, 0);

	/* More than STUN_MAX_UNKNOWN: the list holds the first eight, and
	 * the message still parses so a 420 can be sent. */
	r = raw_new(0x0001, tid_a);
	for (uint16_t t = 0x0040; t < 0x0040 + STUN_MAX_UNKNOWN + 4; t++)
		raw_attr(&r, t, NULL, 0);
	ck_assert_int_eq(parse_copy(&m, r.b, r.n), STUN_OK);
	ck_assert_uint_eq(m.nunknown, STUN_MAX_UNKNOWN);
	for (int i = 0; i < STUN_MAX_UNKNOWN; i++)
		ck_assert_uint_eq(m.unknown[i], 0x0040 + i);
}
END_TEST

/* ---------------------------------------------------------------------
 * ChannelData (RFC 8656 §12.4, §12.5).
 */

START_TEST(chdata_frame_len)
{
	static const uint8_t f[] = { 0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 9), 9, 0), 9);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 12), 12, 0), 9);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 12), 12, 1), 12);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 0), 0, 0), 0);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 3), 3, 1), 0);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 3), 3, 0), 0);

	static const uint8_t f4[] = { 0x4f, 0xff, 0x00, 0x04, 1, 2, 3, 4 };
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f4, 8), 8, 1), 8);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f4, 8), 8, 0), 8);
	static const uint8_t f0[] = { 0x40, 0x00, 0x00, 0x00 };
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f0, 4), 4, 0), 4);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f0, 4), 4, 1), 4);

	/* Not ChannelData: STUN, channels outside TURN_CHANNEL_MIN..MAX
	 * (stun.h accepts the RFC 5766 range 0x4000-0x7ffe), RTP/RTCP. */
	static const uint16_t firsts[] = {
		0x0001, TURN_CHANNEL_MIN - 1, TURN_CHANNEL_MAX + 1, 0x7fff, 0x80c8, 0xffff,
	};
	for (size_t i = 0; i < ARRAY_LEN(firsts); i++) {
		uint8_t b[12];
		memcpy(b, f, sizeof b);
		wr16(b, firsts[i]);
		ck_assert_msg(turn_chdata_frame_len(exact(b, 12), 12, 0) == 0 &&
			      turn_chdata_frame_len(exact(b, 12), 12, 1) == 0,
			      "0x%04x taken for ChannelData", firsts[i]);
	}
}
END_TEST

START_TEST(chdata_parse)
{
	static const uint8_t f[] = { 0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
	uint16_t ch = 0, dl = 0;
	const uint8_t *d = NULL;

	/* Datagram: no padding needed, padding allowed. */
	uint8_t *b = exact(f, 9);
	ck_assert_int_eq(turn_chdata_parse(b, 9, 0, &ch, &d, &dl), STUN_OK);
	ck_assert_uint_eq(ch, 0x4001);
	ck_assert_ptr_eq(d, b + 4);
	ck_assert_uint_eq(dl, 5);
	b = exact(f, 12);
	ck_assert_int_eq(turn_chdata_parse(b, 12, 0, &ch, &d, &dl), STUN_OK);
	ck_assert_uint_eq(dl, 5);
	ck_assert_ptr_eq(d, b + 4);
	/* Datagram whose length field exceeds the bytes. */
	for (size_t n = 0; n < 9; n++)
		ck_assert_int_eq(turn_chdata_parse(exact(f, n), n, 0, &ch, &d, &dl),
				 STUN_E_CHANNEL);

	/* Stream: the frame is padded to four. */
	b = exact(f, 12);
	ck_assert_int_eq(turn_chdata_parse(b, 12, 1, &ch, &d, &dl), STUN_OK);
	ck_assert_uint_eq(ch, 0x4001);
	ck_assert_ptr_eq(d, b + 4);
	ck_assert_uint_eq(dl, 5);
	for (size_t n = 0; n < 12; n++)
		ck_assert_int_eq(turn_chdata_parse(exact(f, n), n, 1, &ch, &d, &dl),
				 STUN_E_CHANNEL);

	/* Empty data. */
	static const uint8_t f0[] = { 0x4f, 0xff, 0x00, 0x00 };
	ck_assert_int_eq(turn_chdata_parse(exact(f0, 4), 4, 0, &ch, &d, &dl), STUN_OK);
	ck_assert_uint_eq(ch, 0x4fff);
	ck_assert_uint_eq(dl, 0);
	ck_assert_int_eq(turn_chdata_parse(exact(f0, 4), 4, 1, &ch, &d, &dl), STUN_OK);

	/* Channel numbers outside TURN_CHANNEL_MIN..TURN_CHANNEL_MAX. */
	static const uint16_t badch[] = { 0x0000, 0x0001, TURN_CHANNEL_MIN - 1,
					  TURN_CHANNEL_MAX + 1, 0x7fff, 0x8000, 0xffff };
	for (size_t i = 0; i < ARRAY_LEN(badch); i++) {
		uint8_t x[12];
		memcpy(x, f, sizeof x);
		wr16(x, badch[i]);
		ck_assert_int_eq(turn_chdata_parse(exact(x, 9), 9, 0, &ch, &d, &dl), STUN_E_CHANNEL);
		ck_assert_int_eq(turn_chdata_parse(exact(x, 12), 12, 1, &ch, &d, &dl), STUN_E_CHANNEL);
	}
	static const uint16_t goodch[] = { TURN_CHANNEL_MIN, 0x4abc, 0x4fff,
					   TURN_CHANNEL_MAX };
	for (size_t i = 0; i < ARRAY_LEN(goodch); i++) {
		uint8_t x[12];
		memcpy(x, f, sizeof x);
		wr16(x, goodch[i]);
		ck_assert_int_eq(turn_chdata_parse(exact(x, 9), 9, 0, &ch, &d, &dl), STUN_OK);
		ck_assert_uint_eq(ch, goodch[i]);
	}
}
END_TEST

START_TEST(chdata_wrap)
{
	uint8_t buf[80];
	uint16_t ch, dl;
	const uint8_t *d;

	memset(buf, 0xee, sizeof buf);
	memcpy(buf + 4, "hello", 5);
	ck_assert_int_eq(turn_chdata_wrap(buf, sizeof buf, 0x4001, 5, 0), 9);
	ck_assert_uint_eq(rd16(buf), 0x4001);
	ck_assert_uint_eq(rd16(buf + 2), 5);
	ck_assert_mem_eq(buf + 4, "hello", 5);
	ck_assert_uint_eq(buf[9], 0xee); /* no padding on datagrams */

	memset(buf, 0xee, sizeof buf);
	memcpy(buf + 4, "hello", 5);
	ck_assert_int_eq(turn_chdata_wrap(buf, sizeof buf, 0x4abc, 5, 1), 12);
	ck_assert_uint_eq(rd16(buf), 0x4abc);
	ck_assert_uint_eq(rd16(buf + 2), 5);
	ck_assert_mem_eq(buf + 4, "hello", 5);
	/* Stream padding is written, as zeros: stale buffer bytes must not
	 * reach the wire. */
	ck_assert_uint_eq(buf[9], 0);
	ck_assert_uint_eq(buf[10], 0);
	ck_assert_uint_eq(buf[11], 0);
	ck_assert_uint_eq(buf[12], 0xee);

	/* Capacity. */
	ck_assert_int_eq(turn_chdata_wrap(buf, 8, 0x4001, 5, 0), STUN_E_NOSPACE);
	ck_assert_int_eq(turn_chdata_wrap(buf, 9, 0x4001, 5, 0), 9);
	ck_assert_int_eq(turn_chdata_wrap(buf, 11, 0x4001, 5, 1), STUN_E_NOSPACE);
	ck_assert_int_eq(turn_chdata_wrap(buf, 12, 0x4001, 5, 1), 12);
	ck_assert_int_eq(turn_chdata_wrap(buf, 3, 0x4001, 0, 0), STUN_E_NOSPACE);
	ck_assert_int_eq(turn_chdata_wrap(buf, 4, 0x4001, 0, 1), 4);
	/* No frame for a number outside the channel range (0x0001 would be
	 * read back as a STUN header). */
	ck_assert_int_lt(turn_chdata_wrap(buf, sizeof buf, 0x0001, 5, 0), 0);
	ck_assert_int_lt(turn_chdata_wrap(buf, sizeof buf, TURN_CHANNEL_MAX + 1, 5, 1), 0);

	/* Round trips. */
	for (int stream = 0; stream < 2; stream++)
		for (uint16_t len = 0; len < 40; len++) {
			uint8_t fr[64];
			memset(fr, 0xcc, sizeof fr);
			for (uint16_t i = 0; i < len; i++)
				fr[4 + i] = (uint8_t)(i ^ len);
			int n = turn_chdata_wrap(fr, sizeof fr, (uint16_t)(0x4000 + len), len, stream);
			ck_assert_int_eq(n, 4 + (stream ? ((len + 3) & ~3) : len));
			uint8_t *c = exact(fr, (size_t)n);
			ck_assert_uint_eq(turn_chdata_frame_len(c, (size_t)n, stream), (size_t)n);
			ck_assert_int_eq(turn_chdata_parse(c, (size_t)n, stream, &ch, &d, &dl), STUN_OK);
			ck_assert_uint_eq(ch, 0x4000 + len);
			ck_assert_uint_eq(dl, len);
			ck_assert_ptr_eq(d, c + 4);
			for (uint16_t i = 0; i < len; i++)
				ck_assert_uint_eq(d[i], (uint8_t)(i ^ len));
			ck_assert_uint_eq(stun_peek_len(c, (size_t)n), 0);
		}

	/* The largest frame. */
	uint8_t *big = calloc(1, 4 + 65535 + 3);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(turn_chdata_wrap(big, 4 + 65535 + 3, 0x4000, 65535, 1), 4 + 65536);
	ck_assert_int_eq(turn_chdata_parse(big, 4 + 65536, 1, &ch, &d, &dl), STUN_OK);
	ck_assert_uint_eq(dl, 65535);
	ck_assert_int_eq(turn_chdata_wrap(big, 4 + 65535, 0x4000, 65535, 0), 4 + 65535);
	free(big);
}
END_TEST

/* ---------------------------------------------------------------------
 */

static Suite *stun_suite(void)
{
	Suite *s = suite_create("stun");
	struct { const char *name; const TTest *tests[16]; } groups[] = {
		{ "rfc5769", { rfc_request_parse, rfc_request_integrity,
			       rfc_request_fingerprint, rfc_request_rebuild,
			       rfc_ipv4_response, rfc_ipv4_response_rebuild,
			       rfc_ipv6_response, rfc_ipv6_response_rebuild,
			       rfc_longterm_parse, rfc_longterm_rebuild,
			       rfc_all_flips_rejected } },
		{ "header", { type_encoding, names, peek_len, crc32_and_tid } },
		{ "keys", { longterm_keys, userhash } },
		{ "roundtrip", { rt_addresses, rt_bad_family_write, rt_integers,
				 rt_strings, rt_error_code, rt_opaque,
				 rt_integrity_sha256, integrity_prefers_sha256,
				 integrity_empty_key,
				 integrity_sha256_truncated, rt_every_attribute,
				 rt_large_message, writer_nospace } },
		{ "malformed", { bad_short, bad_not_stun, bad_cookie, bad_len_align,
				 bad_len_mismatch, bad_attr_overrun,
				 bad_after_integrity, bad_fp_not_last, bad_family,
				 bad_attr_size, bad_too_many, bad_oversized_message,
				 bad_oversized_fingerprint,
				 bad_truncations } },
		{ "unknown", { unknown_attrs } },
		{ "channeldata", { chdata_frame_len, chdata_parse, chdata_wrap } },
	};
	for (size_t g = 0; g < ARRAY_LEN(groups); g++) {
		TCase *tc = tcase_create(groups[g].name);
		tcase_add_checked_fixture(tc, NULL, free_kept);
		tcase_set_timeout(tc, 120);
		for (size_t i = 0; i < ARRAY_LEN(groups[g].tests) && groups[g].tests[i]; i++)
			tcase_add_test(tc, groups[g].tests[i]);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stun_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
