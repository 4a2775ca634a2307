/* test_quota.c: R15 allocation quotas: --quota-user (486 Allocation Quota
 * Reached) and --quota-total (508 Insufficient Capacity), released when an
 * allocation ends, changed by a reload, safe across worker threads. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>

#include "quota.h"

START_TEST(unlimited)
{
	struct quota q;

	quota_init(&q, 0, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(quota_take(&q, i % 2 ? "alice" : "bob"), 0);
	ck_assert_uint_eq(quota_in_use(&q), 1000);
	for (int i = 0; i < 1000; i++)
		quota_give(&q, i % 2 ? "alice" : "bob");
	ck_assert_uint_eq(quota_in_use(&q), 0);
	quota_destroy(&q);
}
END_TEST

START_TEST(per_user_486)
{
	struct quota q;

	quota_init(&q, 2, 0);
	ck_assert_int_eq(quota_take(&q, "alice"), 0);
	ck_assert_int_eq(quota_take(&q, "alice"), 0);
	ck_assert_int_eq(quota_take(&q, "alice"), 486);
	ck_assert_int_eq(quota_take(&q, "alice"), 486);
	/* Another user has a quota of its own. */
	ck_assert_int_eq(quota_take(&q, "bob"), 0);
	ck_assert_int_eq(quota_take(&q, "bob"), 0);
	ck_assert_int_eq(quota_take(&q, "bob"), 486);
	/* Names are exact: a prefix or a longer name is someone else. */
	ck_assert_int_eq(quota_take(&q, "alic"), 0);
	ck_assert_int_eq(quota_take(&q, "alice2"), 0);
	/* REST usernames (expiry:name) are whole names too. */
	ck_assert_int_eq(quota_take(&q, "1999999999:alice"), 0);
	ck_assert_uint_eq(quota_in_use(&q), 7);
	/* Refusals took nothing. Releasing one lets one more in. */
	quota_give(&q, "alice");
	ck_assert_uint_eq(quota_in_use(&q), 6);
	ck_assert_int_eq(quota_take(&q, "alice"), 0);
	ck_assert_int_eq(quota_take(&q, "alice"), 486);
	quota_destroy(&q);
}
END_TEST

START_TEST(total_508)
{
	struct quota q;

	quota_init(&q, 0, 3);
	ck_assert_int_eq(quota_take(&q, "a"), 0);
	ck_assert_int_eq(quota_take(&q, "b"), 0);
	ck_assert_int_eq(quota_take(&q, "c"), 0);
	ck_assert_int_eq(quota_take(&q, "d"), 508);
	ck_assert_int_eq(quota_take(&q, "a"), 508);
	ck_assert_uint_eq(quota_in_use(&q), 3);
	quota_give(&q, "b");
	ck_assert_int_eq(quota_take(&q, "d"), 0);
	ck_assert_int_eq(quota_take(&q, "b"), 508);
	quota_destroy(&q);
}
END_TEST

/* Both limits: a user at its own limit gets 486 while the server has
 * room; any user gets 508 when the server is full. */
START_TEST(both_limits)
{
	struct quota q;

	quota_init(&q, 1, 2);
	ck_assert_int_eq(quota_take(&q, "alice"), 0);
	ck_assert_int_eq(quota_take(&q, "alice"), 486);
	ck_assert_int_eq(quota_take(&q, "bob"), 0);
	ck_assert_int_eq(quota_take(&q, "carol"), 508);
	quota_give(&q, "alice");
	ck_assert_int_eq(quota_take(&q, "carol"), 0);
	ck_assert_int_eq(quota_take(&q, "alice"), 508);
	quota_destroy(&q);
}
END_TEST

/* Giving back what was never taken (an unknown user, or twice) changes
 * nothing: the count never wraps below zero. */
START_TEST(release_unknown)
{
	struct quota q;

	quota_init(&q, 1, 1);
	quota_give(&q, "nobody");
	ck_assert_uint_eq(quota_in_use(&q), 0);
	ck_assert_int_eq(quota_take(&q, "alice"), 0);
	quota_give(&q, "alice");
	quota_give(&q, "alice");
	ck_assert_uint_eq(quota_in_use(&q), 0);
	ck_assert_int_eq(quota_take(&q, "bob"), 0);
	ck_assert_int_eq(quota_take(&q, "alice"), 508);
	quota_destroy(&q);
}
END_TEST

/* A reload (SIGHUP) changes the limits for new allocations and keeps the
 * ones held: lowering below the count in use refuses the next, raising
 * admits more. */
START_TEST(reload)
{
	struct quota q;

	quota_init(&q, 0, 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(quota_take(&q, "alice"), 0);
	quota_set(&q, 2, 0);
	ck_assert_uint_eq(quota_in_use(&q), 4);
	ck_assert_int_eq(quota_take(&q, "alice"), 486);
	ck_assert_int_eq(quota_take(&q, "bob"), 0);
	quota_set(&q, 0, 5);
	ck_assert_int_eq(quota_take(&q, "bob"), 508);
	quota_set(&q, 0, 6);
	ck_assert_int_eq(quota_take(&q, "bob"), 0);
	quota_set(&q, 0, 0);
	ck_assert_int_eq(quota_take(&q, "alice"), 0);
	ck_assert_uint_eq(quota_in_use(&q), 7);
	quota_destroy(&q);
}
END_TEST

/* Users are forgotten when their last allocation ends: many distinct
 * users coming and going leave the table empty (ASan would see a leak). */
START_TEST(users_forgotten)
{
	struct quota q;
	char name[32];

	quota_init(&q, 1, 0);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof name, "user%d", i);
		ck_assert_int_eq(quota_take(&q, name), 0);
		quota_give(&q, name);
	}
	ck_assert_uint_eq(quota_in_use(&q), 0);
	ck_assert_ptr_null(q.users);
	quota_destroy(&q);
}
END_TEST

/* Workers race for the last places: never more than the total admitted. */
struct racer {
	struct quota *q;
	const char *user;
	unsigned got, refused, over;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < 20000; i++) {
		int rc = quota_take(r->q, r->user);
		if (rc == 0) {
			r->got++;
			if (quota_in_use(r->q) > 8)
				r->over++;
			quota_give(r->q, r->user);
		} else {
			r->refused++;
		}
	}
	return NULL;
}

START_TEST(threads)
{
	struct quota q;
	pthread_t th[4];
	struct racer r[4] = {
		{ &q, "alice", 0, 0, 0 }, { &q, "alice", 0, 0, 0 },
		{ &q, "bob", 0, 0, 0 }, { &q, "carol", 0, 0, 0 },
	};

	quota_init(&q, 2, 8);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, race, &r[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(r[i].got + r[i].refused, 20000);
		ck_assert_uint_eq(r[i].over, 0);
	}
	ck_assert_uint_eq(quota_in_use(&q), 0);
	ck_assert_ptr_null(q.users);
	quota_destroy(&q);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("quota");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, unlimited);
	tcase_add_test(tc, per_user_486);
	tcase_add_test(tc, total_508);
	tcase_add_test(tc, both_limits);
	tcase_add_test(tc, release_unknown);
	tcase_add_test(tc, reload);
	tcase_add_test(tc, users_forgotten);
	tcase_add_test(tc, threads);
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
	return failed != 0;
}
