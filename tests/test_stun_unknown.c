/* tests/test_stun_unknown.c: the STUN/TURN codec (relay/stun, stun.h):
 * unknown attributes, comprehension-required and optional.
 * Helpers and vectors: stun_testutil.h. */
#include <stdint.h>

#include "check_main.h"
#include "stun/stun.h"
#include "stun_testutil.h"

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

Suite *test_suite(void)
{
	const TTest *tests[] = {
		unknown_attrs
	};

	return stun_test_suite("unknown", tests, ARRAY_LEN(tests));
}
