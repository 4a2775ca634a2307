/* test_lb_csum.c: hlb's incremental checksum updates (RFC 1624) must give
 * exactly what a full recompute gives, for every rewrite the engine does. */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "csum.h"
#include "pkt.h"
#include "pktbuild.h"

START_TEST(test_rfc1071_example)
{
	/* RFC 1071 §3 example: sum of these words is 0xddf2. */
	const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ck_assert_uint_eq(csum_fold(csum_partial(b, sizeof(b), 0)),
			  (uint16_t)~0xddf2);
}
END_TEST

START_TEST(test_update16_matches_recompute)
{
	uint8_t w[20];

	srand(1);
	for (int round = 0; round < 10000; round++) {
		for (size_t i = 0; i < sizeof(w); i++)
			w[i] = (uint8_t)rand();
		w[6] = w[7] = 0;
		uint16_t c = csum_fold(csum_partial(w, sizeof(w), 0));
		int at = (rand() % 9) * 2 + 2; /* any word but the checksum */
		if (at == 6)
			at = 8;
		uint16_t old = (uint16_t)(w[at] << 8 | w[at + 1]);
		uint16_t nw = (uint16_t)rand();
		if (round % 7 == 0)
			nw = (uint16_t)~old; /* the RFC 1624 corner cases */
		w[at] = (uint8_t)(nw >> 8);
		w[at + 1] = (uint8_t)nw;
		uint16_t want = csum_fold(csum_partial(w, sizeof(w), 0));
		uint16_t got = csum_update16(c, old, nw);
		/* 0x0000 and 0xffff are both zero in one's complement; RFC
		 * 1624's eqn. 3 never yields the -0 that eqn. 2 did. */
		if (want != got)
			ck_assert_uint_eq((uint16_t)(want + got), 0xffff);
	}
}
END_TEST

static void check_rewrites(int family, uint8_t proto, size_t payload)
{
	uint8_t buf[2048], ref[2048];
	struct pkt_spec s = {
		.family = family, .proto = proto,
		.src = family == 4 ? "198.51.100.10" : "2001:db8:5::10",
		.dst = family == 4 ? "203.0.113.12" : "2001:db8:3::12",
		.sport = 40000, .dport = 3478, .tcp_flags = 0x18,
		.payload = payload,
	};
	size_t len = pkt_build(buf, sizeof(buf), &s);
	struct pkt p, q;
	uint8_t a[16];

	ck_assert_uint_gt(len, 0);
	for (int round = 0; round < 200; round++) {
		ck_assert_int_eq(pkt_parse(&p, buf, len), 0);
		for (int i = 0; i < 16; i++)
			a[i] = (uint8_t)rand();
		switch (round % 4) {
		case 0: pkt_set_src(&p, a); break;
		case 1: pkt_set_dst(&p, a); break;
		case 2: pkt_set_sport(&p, (uint16_t)rand()); break;
		case 3: pkt_set_dport(&p, (uint16_t)rand()); break;
		}
		memcpy(ref, buf, len);
		ck_assert_int_eq(pkt_parse(&q, ref, len), 0);
		pkt_csum_recompute(&q);
		ck_assert_msg(memcmp(ref, buf, len) == 0,
			      "family %d proto %d payload %zu round %d: "
			      "incremental checksum differs from recompute",
			      family, proto, payload, round);
	}
}

START_TEST(test_rewrite_v4_udp)
{
	srand(2);
	check_rewrites(4, 17, 0);
	check_rewrites(4, 17, 33);
}
END_TEST

START_TEST(test_rewrite_v4_tcp)
{
	srand(3);
	check_rewrites(4, 6, 0);
	check_rewrites(4, 6, 1001);
}
END_TEST

START_TEST(test_rewrite_v6)
{
	srand(4);
	check_rewrites(6, 17, 7);
	check_rewrites(6, 6, 512);
}
END_TEST

START_TEST(test_udp_zero_checksum_left_alone)
{
	uint8_t buf[128];
	struct pkt_spec s = { 4, 17, "192.0.2.1", "192.0.2.2", 1, 2, 0, 4 };
	size_t len = pkt_build(buf, sizeof(buf), &s);
	struct pkt p;
	uint8_t a[4] = { 10, 0, 0, 1 };

	buf[20 + 6] = buf[20 + 7] = 0; /* "no checksum" (IPv4 only) */
	ck_assert_int_eq(pkt_parse(&p, buf, len), 0);
	ck_assert_ptr_null(p.csum);
	pkt_set_dst(&p, a);
	ck_assert_uint_eq(buf[26] | buf[27], 0);
	ck_assert_uint_eq(csum_fold(csum_partial(buf, 20, 0)), 0);
}
END_TEST

START_TEST(test_parse_rejects_garbage)
{
	uint8_t buf[64] = { 0x45, 0, 0, 200 };
	struct pkt p;

	ck_assert_int_lt(pkt_parse(&p, buf, 0), 0);
	ck_assert_int_lt(pkt_parse(&p, buf, sizeof(buf)), 0); /* length > buf */
	buf[0] = 0x41; /* IHL 4 */
	ck_assert_int_lt(pkt_parse(&p, buf, sizeof(buf)), 0);
	buf[0] = 0x60;
	ck_assert_int_lt(pkt_parse(&p, buf, 39), 0);
	buf[0] = 0x20;
	ck_assert_int_lt(pkt_parse(&p, buf, sizeof(buf)), 0);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("lb_csum");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rfc1071_example);
	tcase_add_test(tc, test_update16_matches_recompute);
	tcase_add_test(tc, test_rewrite_v4_udp);
	tcase_add_test(tc, test_rewrite_v4_tcp);
	tcase_add_test(tc, test_rewrite_v6);
	tcase_add_test(tc, test_udp_zero_checksum_left_alone);
	tcase_add_test(tc, test_parse_rejects_garbage);
	suite_add_tcase(s, tc);
	return s;
}
