/* test_lb_affinity.c: source affinity (R22): the source scheduler pins a
 * client to a real and moves the pin off a real that cannot take flows,
 * pins expire and are swept, and a client's packets keep its pin alive
 * (at most one refresh per AFF_REFRESH_SECONDS). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "affinity.h"

static void mk(struct lb_service *s, int n)
{
	memset(s, 0, sizeof(*s));
	s->sched = &sched_source;
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

static int pick(struct lb_service *s, struct aff_table *a,
		const struct lb_addr *c, uint32_t now)
{
	struct sched_req req = { .svc = 0, .client = c, .now = now, .aff = a };

	return s->sched->pick(s, &req);
}

START_TEST(test_source_sticks_and_expires)
{
	struct lb_service s;
	struct aff_table a;
	struct lb_addr c1 = client(10), c2 = client(11);
	int first, second, other;

	mk(&s, 2);
	ck_assert_int_eq(aff_init(&a, 64, 5), 0);
	first = pick(&s, &a, &c1, 1000);
	other = pick(&s, &a, &c2, 1000);
	ck_assert_int_ne(first, other); /* new clients still spread */
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(pick(&s, &a, &c1, 1000 + (uint32_t)i * 100), first);
	/* Idle past the timeout: the pin is gone, rr decides again. */
	ck_assert_int_eq(aff_get(&a, 0, &c1, 300, 1900 + 300), -1);
	/* Another service keeps its own pins. */
	ck_assert_int_eq(aff_get(&a, 1, &c2, 300, 1000), -1);

	/* A pinned real that goes down loses the pin to a usable one. */
	second = pick(&s, &a, &c2, 3000);
	s.reals[second].up = 0;
	ck_assert_int_eq(pick(&s, &a, &c2, 3001), !second);
	s.reals[second].up = 1;
	ck_assert_int_eq(pick(&s, &a, &c2, 3002), !second);
	/* No usable real at all: no pick, and the pin stays where it was. */
	s.reals[0].admin = LB_DISABLED;
	s.reals[1].admin = LB_DRAIN;
	ck_assert_int_eq(pick(&s, &a, &c2, 3003), -1);
	ck_assert_int_eq(aff_get(&a, 0, &c2, 300, 3003), !second);
	aff_free(&a);
}
END_TEST

START_TEST(test_sweep)
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

START_TEST(test_refresh_from_packets)
{
	struct lb_service s;
	struct aff_table a;
	struct ct_flow f;
	struct lb_addr c = client(7);

	mk(&s, 2);
	ck_assert_int_eq(aff_init(&a, 16, 5), 0);
	memset(&f, 0, sizeof(f));
	f.t[CT_ORIG].family = 4;
	memcpy(f.t[CT_ORIG].src, c.a, 4);
	f.real = 1;
	f.aff_last = 100;
	ck_assert_int_eq(aff_set(&a, 0, &c, 1, 100), 0);

	/* Within AFF_REFRESH_SECONDS of the last refresh: nothing written. */
	aff_refresh(&a, &s, &f, 100 + AFF_REFRESH_SECONDS - 1);
	ck_assert_uint_eq(f.aff_last, 100);
	aff_refresh(&a, &s, &f, 100 + AFF_REFRESH_SECONDS);
	ck_assert_uint_eq(f.aff_last, 100 + AFF_REFRESH_SECONDS);
	/* The pin now counts from the refresh, not from the first flow. */
	ck_assert_int_eq(aff_get(&a, 0, &c, 300, 100 + 300), 1);

	/* Another scheduler: the packets pin nothing. */
	s.sched = &sched_rr;
	f.aff_last = 0;
	aff_refresh(&a, &s, &f, 1000);
	ck_assert_uint_eq(f.aff_last, 0);
	ck_assert_uint_eq(a.count, 1);
	aff_free(&a);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("lb_affinity");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_source_sticks_and_expires);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_refresh_from_packets);
	suite_add_tcase(s, tc);
	return s;
}
