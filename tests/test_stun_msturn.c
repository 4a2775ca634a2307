/* tests/test_stun_msturn.c: the STUN/TURN codec's [MS-TURN] dialect
 * (relay/stun/msturn.h, R19). Vectors are written here from the spec's
 * text ([MS-TURN] 2.1.4, 2.2.1, 2.2.2) and from what libnice's OC2007 mode
 * sends and checks (stun/stunagent.c, stunhmac.c, usages/turn.c,
 * socket/udp-turn.c, pseudossl.c): attributes back to back, NONCE 0x0014
 * and REALM 0x0015, an HMAC over the message zero-padded to 64 bytes, the
 * XOR Mapped Address XOR'd with the transaction id's bytes, the Data
 * Indication at 0x0115. The fixed MESSAGE-INTEGRITY below was computed
 * outside the code under test (Python's hmac over the same bytes). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "stun/msturn.h"
#include "stun/stun.h"
#include "stun_testutil.h"

static const uint8_t tid16[MSTURN_TID_LEN] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};

/* libnice's second Allocate (OC2007: Magic Cookie, MS-Version 1, then the
 * REALM and NONCE of the 401, USERNAME, MESSAGE-INTEGRITY), user alice,
 * password secret, realm edge.lab, nonce "nonce-xyz": 9 and 5-byte values
 * written without padding. */
static const uint8_t signed_alloc[94] = {
	0x00, 0x03, 0x00, 0x4a, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	0xac, 0xad, 0xae, 0xaf,
	0x00, 0x0f, 0x00, 0x04, 0x72, 0xc6, 0x4b, 0xc6,                       /* Magic Cookie */
	0x80, 0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,                       /* MS-Version 1 */
	0x00, 0x15, 0x00, 0x08, 'e', 'd', 'g', 'e', '.', 'l', 'a', 'b',       /* REALM */
	0x00, 0x14, 0x00, 0x09, 'n', 'o', 'n', 'c', 'e', '-', 'x', 'y', 'z',  /* NONCE */
	0x00, 0x06, 0x00, 0x05, 'a', 'l', 'i', 'c', 'e',                      /* USERNAME */
	0x00, 0x08, 0x00, 0x14,                                               /* M-I */
	0xa1, 0xef, 0x12, 0x09, 0xfd, 0x45, 0x22, 0x73, 0x2f, 0x5a, 0x39, 0x00, 0xe6, 0x66, 0x94, 0x2f,
	0xac, 0x52, 0xf0, 0x8c,
};
#define MI_OFF 70
/* The same HMAC over the unpadded input. */
static const uint8_t mi_unpadded[20] = {
	0x24, 0x53, 0xae, 0x8e, 0xe3, 0xd1, 0xb1, 0xbe, 0x98, 0xc5, 0x9f, 0xd2, 0x9a, 0xb4, 0x38, 0x84,
	0x46, 0x13, 0xf9, 0xa9,
};

static void lt_key(uint8_t key[16])
{
	ref_digest(EVP_md5(), "alice:edge.lab:secret", 21, key);
}

/* Reference [MS-TURN] integrity: HMAC over the message up to the
 * attribute (length field as is: the attribute is last), zero-padded to
 * a multiple of 64. */
static void ref_ms_mac(const EVP_MD *md, const uint8_t *key, size_t keylen, const uint8_t *msg,
		       size_t off, uint8_t *out)
{
	uint8_t buf[4096] = {0};
	size_t n = (off + 63) / 64 * 64;

	memcpy(buf, msg, off);
	ref_hmac(md, key, keylen, buf, n, out);
}

START_TEST(ms_parse_libnice_allocate)
{
	struct stun_msg m;
	const struct stun_attr *a;
	uint8_t key[16];

	ck_assert_uint_eq(msturn_peek_len(signed_alloc, sizeof signed_alloc), sizeof signed_alloc);
	ck_assert_int_eq(msturn_parse(&m, exact(signed_alloc, sizeof signed_alloc), sizeof signed_alloc),
			 STUN_OK);
	ck_assert_uint_eq(m.ms, 1); /* back to back */
	ck_assert_uint_eq(m.type, MSTURN_ALLOCATE);
	ck_assert_uint_eq(m.method, TURN_ALLOCATE);
	ck_assert_uint_eq(m.cls, STUN_REQUEST);
	ck_assert_mem_eq(m.tid, tid16, MSTURN_TID_LEN);
	ck_assert_uint_eq(m.nattrs, 6);
	ck_assert_uint_eq(m.nunknown, 0);
	ck_assert_int_eq(m.mi, 5);
	ck_assert_uint_eq(m.attrs[0].type, MS_A_MAGIC_COOKIE);
	ck_assert_uint_eq(msturn_version(&m), 1);
	/* REALM (0x0015) and NONCE (0x0014) under their RFC 5389 names. */
	ck_assert_ptr_nonnull(a = stun_msg_attr(&m, STUN_A_REALM));
	ck_assert_uint_eq(a->len, 8);
	ck_assert_mem_eq(a->val, "edge.lab", 8);
	ck_assert_ptr_nonnull(a = stun_msg_attr(&m, STUN_A_NONCE));
	ck_assert_uint_eq(a->len, 9);
	ck_assert_mem_eq(a->val, "nonce-xyz", 9);
	ck_assert_ptr_nonnull(a = stun_msg_attr(&m, MS_A_USERNAME));
	ck_assert_uint_eq(a->off, 61);
	ck_assert_mem_eq(a->val, "alice", 5);
	ck_assert_uint_eq(m.attrs[m.mi].off, MI_OFF);

	lt_key(key);
	ck_assert_int_eq(stun_msg_check_integrity(&m, key, 16), STUN_OK);
	key[0] ^= 1;
	ck_assert_int_eq(stun_msg_check_integrity(&m, key, 16), STUN_E_INTEGRITY);
	/* Not an IETF message. */
	ck_assert_int_eq(parse_copy(&m, signed_alloc, sizeof signed_alloc), STUN_E_COOKIE);
	ck_assert_uint_eq(stun_peek_len(signed_alloc, sizeof signed_alloc), 0);
}
END_TEST

START_TEST(ms_integrity_forms)
{
	uint8_t msg[sizeof signed_alloc], key[16];
	struct stun_msg m;

	lt_key(key);
	/* The unpadded HMAC is accepted too; a flipped byte anywhere is not. */
	memcpy(msg, signed_alloc, sizeof msg);
	memcpy(msg + MI_OFF + 4, mi_unpadded, 20);
	ck_assert_int_eq(msturn_parse(&m, exact(msg, sizeof msg), sizeof msg), STUN_OK);
	ck_assert_int_eq(stun_msg_check_integrity(&m, key, 16), STUN_OK);
	for (size_t i = 28; i < MI_OFF; i++) {
		memcpy(msg, signed_alloc, sizeof msg);
		msg[i] ^= 0x20;
		if (msturn_parse(&m, exact(msg, sizeof msg), sizeof msg) == STUN_OK)
			ck_assert_msg(stun_msg_check_integrity(&m, key, 16) == STUN_E_INTEGRITY,
				      "byte %zu flipped still verifies", i);
	}
	/* The reference computation gives the fixed vector. */
	uint8_t mac[32];
	ref_ms_mac(EVP_sha1(), key, 16, signed_alloc, MI_OFF, mac);
	ck_assert_mem_eq(mac, signed_alloc + MI_OFF + 4, 20);
}
END_TEST

START_TEST(ms_writer_response)
{
	uint8_t buf[512], key[16], mac[32];
	struct sockaddr_storage relayed = sa_make("203.0.113.23", 50123);
	struct sockaddr_storage client = sa_make("198.51.100.10", 40000);
	struct sockaddr_storage got;
	struct stun_writer w;
	struct stun_msg m;
	int n;

	lt_key(key);
	msturn_writer_init(&w, buf, sizeof buf, MSTURN_ALLOCATE_OK, tid16);
	put_sa(&w, MS_A_MAPPED_ADDRESS, &relayed);
	stun_put_u32(&w, MS_A_LIFETIME, 600);
	put_sa(&w, MS_A_XOR_MAPPED_ADDRESS, &client);
	stun_put_attr(&w, STUN_A_REALM, "edge.lab", 8);
	stun_put_attr(&w, STUN_A_NONCE, "abc", 3);
	stun_put_fingerprint(&w); /* no FINGERPRINT in [MS-TURN]: nothing */
	msturn_put_integrity(&w, key, 16, 0);
	n = stun_writer_finish(&w);
	/* 20 + cookie 8 + mapped 12 + lifetime 8 + xor 12 + realm 12 + nonce 7 + MI 24 */
	ck_assert_int_eq(n, 20 + 8 + 12 + 8 + 12 + 12 + 7 + 24);
	ck_assert_uint_eq(rd16(buf), 0x0103);
	ck_assert_uint_eq(rd16(buf + 2), n - 20);
	ck_assert_mem_eq(buf + 4, tid16, 16);
	ck_assert_uint_eq(rd16(buf + 20), 0x000f);
	ck_assert_uint_eq(rd16(buf + 22), 4);
	ck_assert_uint_eq(rd16(buf + 24), 0x72c6);
	ck_assert_uint_eq(rd16(buf + 26), 0x4bc6);
	/* MAPPED-ADDRESS in the clear. */
	ck_assert_uint_eq(rd16(buf + 28), 0x0001);
	ck_assert_uint_eq(buf[33], 0x01);
	ck_assert_uint_eq(rd16(buf + 34), 50123);
	ck_assert_uint_eq(buf[36], 203);
	/* XOR Mapped Address: port ^ the tid's first 16 bits, address ^ its
	 * first 32 (libnice: magic_cookie = the id's first word). */
	ck_assert_uint_eq(rd16(buf + 48), 0x8020);
	ck_assert_uint_eq(rd16(buf + 54), 40000 ^ 0xa0a1);
	ck_assert_uint_eq(buf[56], 198 ^ 0xa0);
	ck_assert_uint_eq(buf[57], 51 ^ 0xa1);
	ck_assert_uint_eq(buf[58], 100 ^ 0xa2);
	ck_assert_uint_eq(buf[59], 10 ^ 0xa3);
	/* REALM at 0x0015, NONCE at 0x0014, unpadded: M-I right after. */
	ck_assert_uint_eq(rd16(buf + 60), 0x0015);
	ck_assert_uint_eq(rd16(buf + 72), 0x0014);
	ck_assert_uint_eq(rd16(buf + 74), 3);
	ck_assert_uint_eq(rd16(buf + 79), 0x0008);
	ck_assert_uint_eq(rd16(buf + 81), 20);
	ref_ms_mac(EVP_sha1(), key, 16, buf, 79, mac);
	ck_assert_mem_eq(buf + 83, mac, 20);

	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_int_eq(stun_msg_check_integrity(&m, key, 16), STUN_OK);
	ck_assert_int_eq(stun_msg_addr(&m, MS_A_XOR_MAPPED_ADDRESS, &got), STUN_OK);
	assert_sa_eq(&got, &client);
	ck_assert_int_eq(stun_msg_addr(&m, MS_A_MAPPED_ADDRESS, &got), STUN_OK);
	assert_sa_eq(&got, &relayed);
}
END_TEST

START_TEST(ms_ipv6_and_sha256)
{
	uint8_t buf[512], key[16], mac[32];
	struct sockaddr_storage c6 = sa_make("2001:db8::10", 4242), got;
	struct stun_writer w;
	struct stun_msg m;
	int n;

	lt_key(key);
	msturn_writer_init(&w, buf, sizeof buf, MSTURN_ALLOCATE_OK, tid16);
	put_sa(&w, MS_A_XOR_MAPPED_ADDRESS, &c6);
	msturn_put_integrity(&w, key, 16, 1);
	ck_assert_int_eq(n = stun_writer_finish(&w), 20 + 8 + 24 + 36);
	/* IPv6: XOR'd with the whole 16-byte transaction id. */
	ck_assert_uint_eq(buf[36], 0x20 ^ 0xa0);
	ck_assert_uint_eq(buf[51], 0x10 ^ 0xaf);
	/* 32-byte MESSAGE-INTEGRITY, still type 0x0008: HMAC-SHA256. */
	ck_assert_uint_eq(rd16(buf + 52), 0x0008);
	ck_assert_uint_eq(rd16(buf + 54), 32);
	ref_ms_mac(EVP_sha256(), key, 16, buf, 52, mac);
	ck_assert_mem_eq(buf + 56, mac, 32);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_int_eq(stun_msg_check_integrity(&m, key, 16), STUN_OK);
	ck_assert_int_eq(stun_msg_addr(&m, MS_A_XOR_MAPPED_ADDRESS, &got), STUN_OK);
	assert_sa_eq(&got, &c6);
}
END_TEST

START_TEST(ms_data_indication_and_send)
{
	uint8_t buf[256];
	struct sockaddr_storage peer = sa_make("192.0.2.7", 5004), got;
	struct stun_writer w;
	struct stun_msg m;
	const struct stun_attr *a;
	int n;

	/* A Data Indication is 0x0115 on the wire (not RFC 5389's layout);
	 * REMOTE-ADDRESS (0x0012) is in the clear, not XOR'd. */
	msturn_writer_init(&w, buf, sizeof buf, MSTURN_DATA_IND, tid16);
	put_sa(&w, MS_A_REMOTE_ADDRESS, &peer);
	stun_put_attr(&w, MS_A_DATA, "hello", 5);
	ck_assert_int_eq(n = stun_writer_finish(&w), 20 + 8 + 12 + 9);
	ck_assert_uint_eq(rd16(buf), 0x0115);
	ck_assert_uint_eq(rd16(buf + 34), 5004);
	ck_assert_uint_eq(buf[36], 192);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_uint_eq(m.method, TURN_DATA);
	ck_assert_uint_eq(m.cls, STUN_INDICATION);
	ck_assert_int_eq(stun_msg_addr(&m, MS_A_REMOTE_ADDRESS, &got), STUN_OK);
	assert_sa_eq(&got, &peer);
	ck_assert_ptr_nonnull(a = stun_msg_attr(&m, MS_A_DATA));
	ck_assert_mem_eq(a->val, "hello", 5);

	/* Send request (0x0004, "never answered") and Set Active
	 * Destination (0x0006) with DESTINATION-ADDRESS (0x0011). */
	msturn_writer_init(&w, buf, sizeof buf, MSTURN_SEND, tid16);
	put_sa(&w, MS_A_DESTINATION_ADDRESS, &peer);
	n = stun_writer_finish(&w);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_uint_eq(m.type, MSTURN_SEND);
	ck_assert_uint_eq(m.cls, STUN_REQUEST);
	ck_assert_int_eq(stun_msg_addr(&m, MS_A_DESTINATION_ADDRESS, &got), STUN_OK);
	assert_sa_eq(&got, &peer);
	wr16(buf, MSTURN_SET_ACTIVE_DEST);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_uint_eq(m.method, 6);
	ck_assert_uint_eq(m.cls, STUN_REQUEST);
	wr16(buf, MSTURN_SET_ACTIVE_DEST_OK);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_uint_eq(m.cls, STUN_SUCCESS);
	wr16(buf, MSTURN_ALLOCATE_ERR);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_uint_eq(m.cls, STUN_ERROR);
	ck_assert_uint_eq(m.method, TURN_ALLOCATE);
}
END_TEST

START_TEST(ms_sequence_number)
{
	uint8_t buf[256], id[MSTURN_CONN_ID_LEN];
	const uint8_t *got_id;
	struct stun_writer w;
	struct stun_msg m;
	uint32_t seq;
	int n;

	for (int i = 0; i < MSTURN_CONN_ID_LEN; i++)
		id[i] = (uint8_t)(i * 7);
	msturn_writer_init(&w, buf, sizeof buf, MSTURN_SET_ACTIVE_DEST, tid16);
	msturn_put_seq(&w, id, 41);
	n = stun_writer_finish(&w);
	/* 0x8050, 24 bytes: connection id (20), sequence number (32 bits). */
	ck_assert_uint_eq(rd16(buf + 28), 0x8050);
	ck_assert_uint_eq(rd16(buf + 30), 24);
	ck_assert_uint_eq(rd16(buf + 52 + 2), 41);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_int_eq(msturn_seq(&m, &got_id, &seq), STUN_OK);
	ck_assert_mem_eq(got_id, id, MSTURN_CONN_ID_LEN);
	ck_assert_uint_eq(seq, 41);
	ck_assert_uint_eq(msturn_version(&m), 0);
	/* 23 bytes is not one. */
	wr16(buf + 30, 23);
	wr16(buf + 2, (uint16_t)(n - 1 - 20));
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n - 1), (size_t)n - 1), STUN_E_ATTR_SIZE);
}
END_TEST

START_TEST(ms_unknown_attributes)
{
	uint8_t buf[256];
	struct stun_writer w;
	struct stun_msg m;
	int n;

	/* [MS-TURN] 2.2.2: a mandatory attribute not in its list is unknown
	 * (420), RFC 5389's included; unknown optional ones are ignored. */
	msturn_writer_init(&w, buf, sizeof buf, MSTURN_ALLOCATE, tid16);
	stun_put_u32(&w, 0x0019, 17u << 24);   /* REQUESTED-TRANSPORT: not [MS-TURN] */
	stun_put_u32(&w, 0x8888, 1);           /* optional, unknown */
	stun_put_u32(&w, MS_A_BANDWIDTH, 100); /* known */
	stun_put_u32(&w, 0x0003, 0);           /* CHANGE-REQUEST: not [MS-TURN] */
	n = stun_writer_finish(&w);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_uint_eq(m.nunknown, 2);
	ck_assert_uint_eq(m.unknown[0], 0x0019);
	ck_assert_uint_eq(m.unknown[1], 0x0003);
}
END_TEST

START_TEST(ms_padded_accepted)
{
	/* The same Allocate with each attribute padded to 4 (as an RFC 5389
	 * writer would): read padded, values intact. */
	uint8_t msg[128];
	size_t o = 20;
	struct stun_msg m;
	const struct stun_attr *a;
	static const struct { uint16_t t; const char *v; } at[] = {
		{0x000f, "\x72\xc6\x4b\xc6"}, {0x0015, "edge.lab"}, {0x0014, "nonce-xyz"},
		{0x0006, "alice"},
	};

	memset(msg, 0, sizeof msg);
	wr16(msg, MSTURN_ALLOCATE);
	memcpy(msg + 4, tid16, 16);
	for (size_t i = 0; i < ARRAY_LEN(at); i++) {
		size_t l = strlen(at[i].v);
		wr16(msg + o, at[i].t);
		wr16(msg + o + 2, (uint16_t)l);
		memcpy(msg + o + 4, at[i].v, l);
		o += 4 + (l + 3) / 4 * 4;
	}
	wr16(msg + 2, (uint16_t)(o - 20));
	ck_assert_int_eq(msturn_parse(&m, exact(msg, o), o), STUN_OK);
	ck_assert_uint_eq(m.ms, 2);
	ck_assert_uint_eq(m.nunknown, 0);
	ck_assert_ptr_nonnull(a = stun_msg_attr(&m, MS_A_USERNAME));
	ck_assert_mem_eq(a->val, "alice", 5);
	ck_assert_ptr_nonnull(a = stun_msg_attr(&m, STUN_A_NONCE));
	ck_assert_uint_eq(a->len, 9);
}
END_TEST

START_TEST(ms_malformed)
{
	uint8_t msg[sizeof signed_alloc];
	struct stun_msg m;

	/* Shorter than header + Magic Cookie; top bits; length field. */
	for (size_t n = 0; n < MSTURN_MIN_LEN; n++)
		ck_assert_int_eq(msturn_parse(&m, exact(signed_alloc, n), n), STUN_E_SHORT);
	memcpy(msg, signed_alloc, sizeof msg);
	msg[0] = 0x80;
	ck_assert_int_eq(msturn_parse(&m, exact(msg, sizeof msg), sizeof msg), STUN_E_NOT_STUN);
	ck_assert_uint_eq(msturn_peek_len(msg, sizeof msg), 0);
	ck_assert_int_eq(msturn_parse(&m, exact(signed_alloc, sizeof msg - 1), sizeof msg - 1),
			 STUN_E_LEN_MISMATCH);
	/* [MS-TURN] 3.1.10: the Magic Cookie attribute first, or ignored. */
	memcpy(msg, signed_alloc, sizeof msg);
	msg[27] ^= 1;
	ck_assert_int_eq(msturn_parse(&m, exact(msg, sizeof msg), sizeof msg), STUN_E_COOKIE);
	ck_assert_uint_eq(msturn_peek_len(msg, sizeof msg), 0);
	memcpy(msg, signed_alloc, sizeof msg);
	msg[21] = 0x0e;
	ck_assert_int_eq(msturn_parse(&m, exact(msg, sizeof msg), sizeof msg), STUN_E_COOKIE);
	/* The IETF cookie where the id begins: not this dialect. */
	memcpy(msg, signed_alloc, sizeof msg);
	wr32(msg + 4, STUN_MAGIC);
	ck_assert_uint_eq(msturn_peek_len(msg, sizeof msg), 0);
	/* An attribute running past the end, either reading. */
	memcpy(msg, signed_alloc, sizeof msg);
	wr16(msg + 63, 200);
	ck_assert_int_eq(msturn_parse(&m, exact(msg, sizeof msg), sizeof msg), STUN_E_ATTR_OVERRUN);
	/* M-I of a size neither 20 nor 32. */
	memcpy(msg, signed_alloc, sizeof msg);
	wr16(msg + MI_OFF + 2, 16);
	wr16(msg + 2, (uint16_t)(MI_OFF + 4 + 16 - 20));
	ck_assert_int_eq(msturn_parse(&m, exact(msg, MI_OFF + 20), MI_OFF + 20), STUN_E_ATTR_SIZE);
	/* Lifetime of 3 bytes; an address with family 3. */
	uint8_t b[64] = {0};
	wr16(b, MSTURN_ALLOCATE);
	wr16(b + 2, 8 + 7);
	memcpy(b + 20, "\x00\x0f\x00\x04\x72\xc6\x4b\xc6\x00\x0d\x00\x03\x00\x00\x01", 15);
	ck_assert_int_eq(msturn_parse(&m, exact(b, 35), 35), STUN_E_ATTR_SIZE);
	wr16(b + 2, 8 + 12);
	memcpy(b + 28, "\x00\x11\x00\x08\x00\x03\x00\x01\x01\x02\x03\x04", 12);
	ck_assert_int_eq(msturn_parse(&m, exact(b, 40), 40), STUN_E_FAMILY);
	/* Anything after MESSAGE-INTEGRITY. */
	uint8_t after[sizeof signed_alloc + 8];
	memcpy(after, signed_alloc, sizeof signed_alloc);
	memcpy(after + sizeof signed_alloc, "\x80\x08\x00\x04\x00\x00\x00\x02", 8);
	wr16(after + 2, (uint16_t)(sizeof after - 20));
	ck_assert_int_eq(msturn_parse(&m, exact(after, sizeof after), sizeof after),
			 STUN_E_AFTER_INTEGRITY);
}
END_TEST

START_TEST(ms_tcp_framing)
{
	uint8_t h[4];

	/* [MS-TURN] 2.1.4: type (2 control, 3 data), reserved, length. */
	msturn_frame_hdr(h, MSTURN_FRAME_CONTROL, 94);
	ck_assert_mem_eq(h, "\x02\x00\x00\x5e", 4);
	ck_assert_uint_eq(msturn_frame_len(h, 4), 98);
	msturn_frame_hdr(h, MSTURN_FRAME_DATA, 0xffff);
	ck_assert_uint_eq(msturn_frame_len(h, 4), 4 + 0xffff);
	ck_assert_uint_eq(msturn_frame_len(h, 3), 0);
	h[1] = 1;
	ck_assert_uint_eq(msturn_frame_len(h, 4), 0);
	for (int t = 0; t < 256; t++) {
		uint8_t x[4] = {(uint8_t)t, 0, 0, 8};
		ck_assert_uint_eq(msturn_frame_len(x, 4), t == 2 || t == 3 ? 12 : 0);
	}
	/* IETF STUN and ChannelData do not look like it. */
	ck_assert_uint_eq(msturn_frame_len(rfc_req, sizeof rfc_req), 0);
	ck_assert_uint_eq(msturn_frame_len((const uint8_t *)"\x40\x00\x00\x04", 4), 0);
}
END_TEST

START_TEST(ms_pseudo_tls)
{
	uint8_t hello[MSTURN_PTLS_HELLO_LEN], reply[MSTURN_PTLS_REPLY_LEN];
	/* The fixed ServerHello + ServerHelloDone, field by field: TLS 1.0
	 * handshake record of 78 bytes; ServerHello (2) of 70: version 3.1,
	 * random 0 x32, session id of 32 zero bytes, suite 0x0018
	 * (TLS_DH_anon_WITH_RC4_128_MD5), null compression; ServerHelloDone
	 * (0x0e) of length 0. */
	uint8_t want[MSTURN_PTLS_REPLY_LEN] = {0x16, 0x03, 0x01, 0x00, 0x4e, 0x02, 0x00, 0x00, 0x46,
					       0x03, 0x01};
	want[11 + 32] = 0x20;
	want[11 + 32 + 1 + 32] = 0x00;
	want[11 + 32 + 1 + 32 + 1] = 0x18;
	want[11 + 32 + 1 + 32 + 2] = 0x00;
	want[11 + 32 + 1 + 32 + 3] = 0x0e;

	msturn_ptls_reply(reply);
	ck_assert_mem_eq(reply, want, sizeof want);

	/* ClientHello: record of 45, hello of 41, version 3.1, random, no
	 * session, one suite 0x0018, one compression method (null). */
	msturn_ptls_hello(hello);
	ck_assert_mem_eq(hello, "\x16\x03\x01\x00\x2d\x01\x00\x00\x29\x03\x01", 11);
	ck_assert_mem_eq(hello + 43, "\x00\x00\x02\x00\x18\x01\x00", 7);
	ck_assert_int_eq(msturn_ptls_is_hello(hello, sizeof hello), 1);
	for (int i = 11; i < 43; i++) /* any random */
		hello[i] = (uint8_t)(i * 37);
	ck_assert_int_eq(msturn_ptls_is_hello(exact(hello, sizeof hello), sizeof hello), 1);
	for (size_t n = 0; n < sizeof hello; n++)
		ck_assert_int_eq(msturn_ptls_is_hello(exact(hello, n), n), -1);
	/* Another suite, or a real client's longer ClientHello: not it. */
	hello[47] = 0x2f;
	ck_assert_int_eq(msturn_ptls_is_hello(hello, sizeof hello), 0);
	static const uint8_t real[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
	ck_assert_int_eq(msturn_ptls_is_hello(real, sizeof real), 0);
	ck_assert_int_eq(msturn_ptls_is_hello(real, 4), 0);
	ck_assert_int_eq(msturn_ptls_is_hello(real, 3), -1);
	ck_assert_int_eq(msturn_ptls_is_hello(rfc_req, sizeof rfc_req), 0);
}
END_TEST

START_TEST(ms_writer_limits)
{
	uint8_t buf[64];
	struct stun_writer w;

	msturn_writer_init(&w, buf, MSTURN_MIN_LEN - 1, MSTURN_ALLOCATE, tid16);
	ck_assert_int_eq(stun_writer_finish(&w), STUN_E_NOSPACE);
	msturn_writer_init(&w, buf, sizeof buf, MSTURN_ALLOCATE, tid16);
	stun_put_attr(&w, MS_A_DATA, buf, 37); /* 28 + 41 > 64 */
	ck_assert_int_eq(stun_writer_finish(&w), STUN_E_NOSPACE);
	ck_assert_str_eq(msturn_type_name(MSTURN_DATA_IND), "Data Indication");
	ck_assert_str_eq(msturn_attr_name(MS_A_REALM), "REALM");
	ck_assert_str_eq(msturn_attr_name(0x7777), "unknown-attribute");
}
END_TEST

/* [MS-TURN] 2.2.3: Channel_ID 0xFF10, Length counting what follows it
 * (the 8-byte MTURN_Session_ID and the data), the session id, the data. */
START_TEST(ms_mux_packet)
{
	static const uint8_t pkt[] = {
		0xff, 0x10, 0x00, 0x0d,                         /* 8 + 5 */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* session id */
		'h', 'e', 'l', 'l', 'o',
	};
	const uint8_t sid[MSTURN_MUX_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
	const uint8_t *id, *data;
	uint8_t hdr[MSTURN_MUX_HDR], buf[64];
	size_t dlen;

	ck_assert_int_eq(msturn_mux_parse(exact(pkt, sizeof pkt), sizeof pkt, &id, &data, &dlen), 0);
	ck_assert_mem_eq(id, sid, sizeof sid);
	ck_assert_uint_eq(dlen, 5);
	ck_assert_mem_eq(data, "hello", 5);
	ck_assert_int_eq(msturn_is_mux(pkt, sizeof pkt), 1);
	ck_assert_int_eq(msturn_is_mux(pkt, 1), 0);

	/* The writer makes the same header. */
	ck_assert_int_eq(msturn_mux_hdr(hdr, sid, 5), 0);
	ck_assert_mem_eq(hdr, pkt, sizeof hdr);
	/* Cut to its header, Length 13 disagrees; with Length 8 it is a
	 * packet without data. */
	ck_assert_int_eq(msturn_mux_parse(exact(pkt, MSTURN_MUX_HDR), MSTURN_MUX_HDR, &id, &data,
					  &dlen), STUN_E_CHANNEL);
	memcpy(buf, pkt, MSTURN_MUX_HDR);
	buf[3] = 8;
	ck_assert_int_eq(msturn_mux_parse(exact(buf, MSTURN_MUX_HDR), MSTURN_MUX_HDR, &id, &data,
					  &dlen), 0);
	ck_assert_uint_eq(dlen, 0);

	/* Cut short, or Length saying more or less than there is; another
	 * channel; too short for the header: none of them is taken. */
	for (size_t n = 0; n < sizeof pkt; n++)
		ck_assert_int_eq(msturn_mux_parse(exact(pkt, n), n, &id, &data, &dlen), STUN_E_CHANNEL);
	memcpy(buf, pkt, sizeof pkt);
	buf[sizeof pkt] = 'x';
	ck_assert_int_eq(msturn_mux_parse(exact(buf, sizeof pkt + 1), sizeof pkt + 1, &id, &data,
					  &dlen), STUN_E_CHANNEL);
	buf[3] = 0x0c;
	ck_assert_int_eq(msturn_mux_parse(exact(buf, sizeof pkt), sizeof pkt, &id, &data, &dlen),
			 STUN_E_CHANNEL);
	memcpy(buf, pkt, sizeof pkt);
	buf[1] = 0x11;
	ck_assert_int_eq(msturn_is_mux(buf, sizeof pkt), 0);
	ck_assert_int_eq(msturn_mux_parse(exact(buf, sizeof pkt), sizeof pkt, &id, &data, &dlen),
			 STUN_E_CHANNEL);

	/* The largest data a 16-bit Length can carry, and one byte more. */
	ck_assert_int_eq(msturn_mux_hdr(hdr, sid, MSTURN_MUX_MAX_DATA), 0);
	ck_assert_uint_eq((size_t)hdr[2] << 8 | hdr[3], 0xffff);
	ck_assert_int_eq(msturn_mux_hdr(hdr, sid, MSTURN_MUX_MAX_DATA + 1), STUN_E_TOO_LONG);
}
END_TEST

/* [MS-TURN] 2.2.2: 0x8095 Multiplexed TURN Session ID, an optional
 * attribute (its value: the 8 bytes a 2.2.3 packet carries). */
START_TEST(ms_mux_session_attr)
{
	const uint8_t sid[MSTURN_MUX_ID_LEN] = {0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3};
	uint8_t buf[128];
	struct stun_writer w;
	struct stun_msg m;
	const uint8_t *id;
	int n;

	msturn_writer_init(&w, buf, sizeof buf, MSTURN_ALLOCATE_OK, tid16);
	stun_put_u32(&w, MS_A_VERSION, 5);
	stun_put_attr(&w, MS_A_MUX_SESSION_ID, sid, sizeof sid);
	n = stun_writer_finish(&w);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_uint_eq(m.nunknown, 0);
	ck_assert_int_eq(msturn_mux_session(&m, &id), 0);
	ck_assert_mem_eq(id, sid, sizeof sid);
	ck_assert_uint_eq(msturn_version(&m), 5);
	ck_assert_str_eq(msturn_attr_name(MS_A_MUX_SESSION_ID), "MS-MULTIPLEXED-TURN-SESSION-ID");

	/* Absent: STUN_E_MISSING. */
	msturn_writer_init(&w, buf, sizeof buf, MSTURN_ALLOCATE_OK, tid16);
	stun_put_u32(&w, MS_A_VERSION, 4);
	n = stun_writer_finish(&w);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_int_eq(msturn_mux_session(&m, &id), STUN_E_MISSING);

	/* Any other size is a malformed message. */
	msturn_writer_init(&w, buf, sizeof buf, MSTURN_ALLOCATE_OK, tid16);
	stun_put_attr(&w, MS_A_MUX_SESSION_ID, sid, 7);
	n = stun_writer_finish(&w);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_E_ATTR_SIZE);

	/* Still: an unknown mandatory attribute beside it is reported (420). */
	msturn_writer_init(&w, buf, sizeof buf, MSTURN_ALLOCATE, tid16);
	stun_put_u32(&w, MS_A_VERSION, 6);
	stun_put_attr(&w, MS_A_MUX_SESSION_ID, sid, sizeof sid);
	stun_put_u32(&w, 0x0019, 17u << 24);
	n = stun_writer_finish(&w);
	ck_assert_int_eq(msturn_parse(&m, exact(buf, (size_t)n), (size_t)n), STUN_OK);
	ck_assert_uint_eq(m.nunknown, 1);
	ck_assert_uint_eq(m.unknown[0], 0x0019);
}
END_TEST

Suite *test_suite(void)
{
	const TTest *tests[] = {
		ms_parse_libnice_allocate, ms_integrity_forms, ms_writer_response,
		ms_ipv6_and_sha256, ms_data_indication_and_send, ms_sequence_number,
		ms_unknown_attributes, ms_padded_accepted, ms_malformed, ms_tcp_framing,
		ms_pseudo_tls, ms_writer_limits, ms_mux_packet, ms_mux_session_attr,
	};

	return stun_test_suite("msturn", tests, ARRAY_LEN(tests));
}
