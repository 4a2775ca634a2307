/* test_lb_sched.c: rr, leastconn and source affinity (R22), and that a
 * disabled, draining or failed real never gets a new flow (R23, R26). */
#include <check.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "hlb_sched.h"

static void mk(struct lb_service *s, int n)
{
	memset(s, 0, sizeof(*s));
	s->nreals = (uint8_t)n;
	s->affinity_timeout = 300;
	for (int i = 0; i < n; i++) {
		s->reals[i].weight = 1;
		s->reals[i].up = 1;
	}
}

static struct lb_addr client(uint8_t last)
{
	struct lb_addr a = { .family = 4, .a = { 198, 51, 100, last } };
	return a;
}

START_TEST(test_rr_weights_interleave)
{
	struct lb_service s;
	int hits[3] = { 0 }, prev = -1, same_run = 0;

	mk(&s, 3);
	s.reals[0].weight = 3;
	for (int i = 0; i < 500; i++) {
		int r = sched_pick(&s, 0, NULL, NULL, 0);
		ck_assert_int_ge(r, 0);
		hits[r]++;
		same_run = r == prev ? same_run + 1 : 0;
		ck_assert_int_lt(same_run, 3); /* smooth: no long bursts */
		prev = r;
	}
	ck_assert_int_eq(hits[0], 300);
	ck_assert_int_eq(hits[1], 100);
	ck_assert_int_eq(hits[2], 100);
}
END_TEST

START_TEST(test_unusable_reals_skipped)
{
	struct lb_service s;

	mk(&s, 3);
	s.reals[0].admin = LB_DISABLED;
	s.reals[1].admin = LB_DRAIN;
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(sched_pick(&s, 0, NULL, NULL, 0), 2);
	s.reals[2].up = 0;
	ck_assert_int_eq(sched_pick(&s, 0, NULL, NULL, 0), -1);
	s.sched = LB_LEASTCONN;
	ck_assert_int_eq(sched_pick(&s, 0, NULL, NULL, 0), -1);
}
END_TEST

START_TEST(test_leastconn)
{
	struct lb_service s;

	mk(&s, 3);
	s.sched = LB_LEASTCONN;
	s.reals[0].active = 5;
	s.reals[1].active = 2;
	s.reals[2].active = 3;
	ck_assert_int_eq(sched_pick(&s, 0, NULL, NULL, 0), 1);
	s.reals[2].weight = 2; /* 3/2 < 2/1 */
	ck_assert_int_eq(sched_pick(&s, 0, NULL, NULL, 0), 2);
}
END_TEST

START_TEST(test_source_affinity_sticks_and_expires)
{
	struct lb_service s;
	struct aff_table a;
	struct lb_addr c1 = client(10), c2 = client(11);
	int first, second, other;

	mk(&s, 2);
	s.sched = LB_SOURCE;
	ck_assert_int_eq(aff_init(&a, 64, 5), 0);
	first = sched_pick(&s, 0, &a, &c1, 1000);
	other = sched_pick(&s, 0, &a, &c2, 1000);
	ck_assert_int_ne(first, other); /* new clients still spread */
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(sched_pick(&s, 0, &a, &c1, 1000 + (uint32_t)i * 100),
				 first);
	/* Idle past the timeout: the pin is gone, rr decides again. */
	ck_assert_int_eq(aff_get(&a, 0, &c1, 300, 1900 + 300), -1);
	/* Another service keeps its own pins. */
	ck_assert_int_eq(aff_get(&a, 1, &c2, 300, 1000), -1);

	/* A pinned real that goes down loses the pin to a usable one. */
	second = sched_pick(&s, 0, &a, &c2, 3000);
	s.reals[second].up = 0;
	ck_assert_int_eq(sched_pick(&s, 0, &a, &c2, 3001), !second);
	s.reals[second].up = 1;
	ck_assert_int_eq(sched_pick(&s, 0, &a, &c2, 3002), !second);
	aff_free(&a);
}
END_TEST

START_TEST(test_affinity_sweep)
{
	struct aff_table a;
	struct lb_config cfg;
	struct lb_addr c;

	memset(&cfg, 0, sizeof(cfg));
	cfg.nsvc = 1;
	cfg.svc[0].affinity_timeout = 60;
	ck_assert_int_eq(aff_init(&a, 32, 5), 0);
	for (int i = 0; i < 32; i++) {
		c = client((uint8_t)i);
		ck_assert_int_eq(aff_set(&a, 0, &c, 0, (uint32_t)i), 0);
	}
	c = client(200);
	ck_assert_int_eq(aff_set(&a, 0, &c, 0, 0), -ENOSPC);
	ck_assert_uint_eq(aff_sweep(&a, &cfg, 70, 32), 11); /* 0..10 idle 60+ */
	ck_assert_uint_eq(a.count, 21);
	ck_assert_int_eq(aff_set(&a, 0, &c, 1, 70), 0);
	ck_assert_int_eq(aff_get(&a, 0, &c, 60, 71), 1);
	aff_free(&a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("lb_sched");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rr_weights_interleave);
	tcase_add_test(tc, test_unusable_reals_skipped);
	tcase_add_test(tc, test_leastconn);
	tcase_add_test(tc, test_source_affinity_sticks_and_expires);
	tcase_add_test(tc, test_affinity_sweep);
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
