/* tests/test_stun_roundtrip.c: the STUN/TURN codec (relay/stun, stun.h):
 * a write/parse round trip of every attribute stun.h knows,
 * both integrity attributes, and the writer's limits.
 * Helpers and vectors: stun_testutil.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check_main.h"
#include "stun/stun.h"
#include "stun_testutil.h"

/* Reference encoding of an (XOR-)address value, RFC 8489 §14.1/§14.2. */
static size_t ref_addr_val(uint8_t *out, const struct sockaddr_storage *ss,
			   int xor, const uint8_t tid[STUN_TID_LEN])
{
	uint8_t mask[16];
	const void *ip;
	uint16_t port;
	size_t alen;
	wr32(mask, STUN_MAGIC);
	memcpy(mask + 4, tid, STUN_TID_LEN);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		out[1] = 0x01;
		port = ntohs(s4->sin_port);
		ip = &s4->sin_addr;
		alen = 4;
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		out[1] = 0x02;
		port = ntohs(s6->sin6_port);
		ip = &s6->sin6_addr;
		alen = 16;
	}
	out[0] = 0;
	wr16(out + 2, (uint16_t)(port ^ (xor ? STUN_MAGIC >> 16 : 0)));
	memcpy(out + 4, ip, alen);
	for (size_t i = 0; xor && i < alen; i++)
		out[4 + i] ^= mask[i];
	return 4 + alen;
}

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

/* An integer attribute of size 4 or 8 holding v, big-endian: its own
 * reader gives v back, the other size's refuses it. */
static void assert_int_attr(const struct stun_attr *a, uint16_t type, uint64_t v,
			    size_t size)
{
	uint8_t be[8];
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	ck_assert_uint_eq(a->type, type);
	ck_assert_uint_eq(a->len, size);
	wr32(be, (uint32_t)(v >> 32));
	wr32(be + 4, (uint32_t)v);
	ck_assert_mem_eq(a->val, be + 8 - size, size);
	int r32 = stun_attr_u32(a, &v32), r64 = stun_attr_u64(a, &v64);
	ck_assert_int_eq(r32, size == 4 ? STUN_OK : STUN_E_ATTR_SIZE);
	ck_assert_int_eq(r64, size == 8 ? STUN_OK : STUN_E_ATTR_SIZE);
	ck_assert(size == 4 ? v32 == v : v64 == v);
}

START_TEST(rt_integers)
{
	uint8_t buf[512];
	struct stun_writer w;
	stun_writer_init(&w, buf, sizeof buf, TURN_ALLOCATE, STUN_REQUEST, tid_a);
	for (size_t i = 0; i < n_u32_attrs; i++)
		stun_put_u32(&w, u32_attrs[i].type, u32_attrs[i].v);
	for (size_t i = 0; i < n_u64_attrs; i++)
		stun_put_u64(&w, u64_attrs[i].type, u64_attrs[i].v);
	int n = stun_writer_finish(&w);
	ck_assert_int_eq(n, (int)(20 + 8 * n_u32_attrs + 12 * n_u64_attrs));
	const struct stun_msg *m = parse_built(buf, n);
	ck_assert_uint_eq(m->nattrs, n_u32_attrs + n_u64_attrs);
	for (size_t i = 0; i < n_u32_attrs; i++)
		assert_int_attr(&m->attrs[i], u32_attrs[i].type, u32_attrs[i].v, 4);
	for (size_t i = 0; i < n_u64_attrs; i++)
		assert_int_attr(&m->attrs[n_u32_attrs + i], u64_attrs[i].type, u64_attrs[i].v, 8);
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
static const uint8_t unknown_val[] = { 0x00, 0x30, 0x7f, 0xff, 0x00, 0x31 };
static const uint8_t icmp_val[] = { 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00, 0x00 };
static const uint8_t addrerr_val[] = {
	0x02, 0x00, 0x04, 0x40, 'A', 'd', 'd', 'r', 'e', 's', 's', ' ', 'F', 'a',
	'm', 'i', 'l', 'y', ' ', 'n', 'o', 't', ' ', 'S', 'u', 'p', 'p', 'o',
	'r', 't', 'e', 'd',
};
static const uint8_t data5_val[] = { 0xde, 0xad, 0xbe, 0xef, 0x42 };
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

Suite *test_suite(void)
{
	const TTest *tests[] = {
		rt_addresses, rt_bad_family_write, rt_integers, rt_strings,
		rt_error_code, rt_opaque, rt_integrity_sha256,
		integrity_prefers_sha256, integrity_empty_key,
		integrity_sha256_truncated, rt_every_attribute, rt_large_message,
		writer_nospace
	};

	return stun_test_suite("roundtrip", tests, ARRAY_LEN(tests));
}
