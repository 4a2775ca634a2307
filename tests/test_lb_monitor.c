/* test_lb_monitor.c: monitor_note(), the rise/fall counting behind every
 * monitor (R23): fall bad results in a row take a real down, rise good
 * ones bring it back, a result the other way restarts the count, and
 * the change is reported once. (The probes themselves are checked
 * against live servers in tests/integration/hlb_monitor.sh.) */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"

static struct lb_monitor_cfg mc;
static struct lb_real r;

static void setup(void)
{
	memset(&mc, 0, sizeof(mc));
	mc.type = LB_MON_STUN;
	mc.rise = 2;
	mc.fall = 3;
	memset(&r, 0, sizeof(r));
	r.up = 1; /* reals start up */
}

START_TEST(test_fall_in_a_row_takes_down)
{
	ck_assert_int_eq(monitor_note(&mc, &r, 0), 0);
	ck_assert_int_eq(monitor_note(&mc, &r, 0), 0);
	ck_assert_uint_eq(r.up, 1);
	ck_assert_int_eq(monitor_note(&mc, &r, 0), -1);
	ck_assert_uint_eq(r.up, 0);
	/* Reported once: further failures change nothing. */
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(monitor_note(&mc, &r, 0), 0);
	ck_assert_uint_eq(r.up, 0);
	ck_assert_uint_eq(r.fail_run, 13);
}
END_TEST

START_TEST(test_rise_in_a_row_brings_up)
{
	for (int i = 0; i < 3; i++)
		monitor_note(&mc, &r, 0);
	ck_assert_uint_eq(r.up, 0);
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 0);
	ck_assert_uint_eq(r.up, 0);
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 1);
	ck_assert_uint_eq(r.up, 1);
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 0);
	ck_assert_uint_eq(r.fail_run, 0);
}
END_TEST

START_TEST(test_flapping_never_reaches_a_count)
{
	/* Up: fail, fail, ok, fail, fail, ok... never 3 fails in a row. */
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(monitor_note(&mc, &r, i % 3 == 2), 0);
	ck_assert_uint_eq(r.up, 1);
	/* Down: ok, fail, ok, fail... never 2 oks in a row. */
	for (int i = 0; i < 3; i++)
		monitor_note(&mc, &r, 0);
	ck_assert_uint_eq(r.up, 0);
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(monitor_note(&mc, &r, i % 2 == 0), 0);
	ck_assert_uint_eq(r.up, 0);
	/* One more ok after an ok: up. */
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 0); /* after a fail */
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 1);
}
END_TEST

START_TEST(test_rise_and_fall_of_one)
{
	mc.rise = 1;
	mc.fall = 1;
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 0); /* already up */
	ck_assert_int_eq(monitor_note(&mc, &r, 0), -1);
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 1);
	ck_assert_int_eq(monitor_note(&mc, &r, 0), -1);
}
END_TEST

START_TEST(test_oks_while_up_do_not_pre_count)
{
	/* A long good run while up does not count toward the next rise:
	 * the fall resets it. */
	for (int i = 0; i < 10; i++)
		monitor_note(&mc, &r, 1);
	for (int i = 0; i < 3; i++)
		monitor_note(&mc, &r, 0);
	ck_assert_uint_eq(r.up, 0);
	ck_assert_uint_eq(r.ok_run, 0);
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 0);
	ck_assert_uint_eq(r.up, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("lb_monitor");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_fall_in_a_row_takes_down);
	tcase_add_test(tc, test_rise_in_a_row_brings_up);
	tcase_add_test(tc, test_flapping_never_reaches_a_count);
	tcase_add_test(tc, test_rise_and_fall_of_one);
	tcase_add_test(tc, test_oks_while_up_do_not_pre_count);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
