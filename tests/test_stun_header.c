/* tests/test_stun_header.c: the STUN/TURN codec (relay/stun, stun.h):
 * the message type encoding of every method and class, the
 * names of methods, classes, attributes and errors, stun_peek_len, CRC-32
 * and transaction IDs.
 * Helpers and vectors: stun_testutil.h. */
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "stun/stun.h"
#include "stun_testutil.h"

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

Suite *test_suite(void)
{
	const TTest *tests[] = {
		type_encoding, names, peek_len, crc32_and_tid
	};

	return stun_test_suite("header", tests, ARRAY_LEN(tests));
}
