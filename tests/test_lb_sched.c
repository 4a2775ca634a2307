/* test_lb_sched.c: the scheduler table and the rr and leastconn
 * schedulers (R22), and that a disabled, draining or failed real never
 * gets a new flow (R23, R26). Source affinity: test_lb_affinity.c. */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "scheduler.h"

static void mk(struct lb_service *s, int n, const struct lb_scheduler *sc)
{
	memset(s, 0, sizeof(*s));
	s->sched = sc;
	s->nreals = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		s->reals[i].weight = 1;
		s->reals[i].up = 1;
	}
}

/* rr and leastconn look only at the reals. */
static int pick(struct lb_service *s)
{
	struct sched_req req;

	memset(&req, 0, sizeof(req));
	return s->sched->pick(s, &req);
}

START_TEST(test_table_by_name)
{
	char names[64];

	ck_assert_ptr_eq(sched_find("rr"), &sched_rr);
	ck_assert_ptr_eq(sched_find("leastconn"), &sched_leastconn);
	ck_assert_ptr_eq(sched_find("source"), &sched_source);
	ck_assert_ptr_null(sched_find("wlc"));
	ck_assert_ptr_null(sched_find(""));
	ck_assert_str_eq(sched_names(names, sizeof(names)),
			 "rr, leastconn or source");
	/* Cut short, still a string. */
	ck_assert_str_eq(sched_names(names, 6), "rr, l");
}
END_TEST

START_TEST(test_rr_weights_interleave)
{
	struct lb_service s;
	int hits[3] = { 0 }, prev = -1, same_run = 0;

	mk(&s, 3, &sched_rr);
	s.reals[0].weight = 3;
	for (int i = 0; i < 500; i++) {
		int r = pick(&s);
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

	mk(&s, 3, &sched_rr);
	s.reals[0].admin = LB_DISABLED;
	s.reals[1].admin = LB_DRAIN;
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(pick(&s), 2);
	s.reals[2].up = 0;
	ck_assert_int_eq(pick(&s), -1);
	s.sched = &sched_leastconn;
	ck_assert_int_eq(pick(&s), -1);
}
END_TEST

START_TEST(test_leastconn)
{
	struct lb_service s;

	mk(&s, 3, &sched_leastconn);
	s.reals[0].active = 5;
	s.reals[1].active = 2;
	s.reals[2].active = 3;
	ck_assert_int_eq(pick(&s), 1);
	s.reals[2].weight = 2; /* 3/2 < 2/1 */
	ck_assert_int_eq(pick(&s), 2);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("lb_sched");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_table_by_name);
	tcase_add_test(tc, test_rr_weights_interleave);
	tcase_add_test(tc, test_unusable_reals_skipped);
	tcase_add_test(tc, test_leastconn);
	suite_add_tcase(s, tc);
	return s;
}
