/* test_turn_quota.c: R15 allocation quotas: --quota-user (486 Allocation Quota
 * Reached) and --quota-total (508 Insufficient Capacity), released when an
 * allocation ends, changed by a reload, safe across worker threads. */
#include <pthread.h>
#include <stdio.h>

#include "check_main.h"
#include "turn/quota.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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

/* A step of a script run against one quota: take a place for user (its
 * answer must be want: 0, 486 or 508), give one back, or check that want
 * places are in use. */
struct step {
	enum { TAKE, GIVE, IN_USE } op;
	const char *user;
	unsigned want;
};

static void run_script(unsigned per_user, unsigned total, const struct step *s, size_t n)
{
	struct quota q;

	quota_init(&q, per_user, total);
	for (size_t i = 0; i < n; i++) {
		switch (s[i].op) {
		case TAKE:
			ck_assert_msg(quota_take(&q, s[i].user) == (int)s[i].want,
				      "step %zu: %s not answered %u", i, s[i].user, s[i].want);
			break;
		case GIVE:
			quota_give(&q, s[i].user);
			break;
		case IN_USE:
			ck_assert_msg(quota_in_use(&q) == s[i].want, "step %zu: %u in use, not %u",
				      i, quota_in_use(&q), s[i].want);
			break;
		}
	}
	quota_destroy(&q);
}

START_TEST(per_user_486)
{
	static const struct step script[] = {
		{TAKE, "alice", 0}, {TAKE, "alice", 0}, {TAKE, "alice", 486}, {TAKE, "alice", 486},
		/* Another user has a quota of its own. */
		{TAKE, "bob", 0}, {TAKE, "bob", 0}, {TAKE, "bob", 486},
		/* Names are exact: a prefix or a longer name is someone else. */
		{TAKE, "alic", 0}, {TAKE, "alice2", 0},
		/* REST usernames (expiry:name) are whole names too. */
		{TAKE, "1999999999:alice", 0}, {IN_USE, NULL, 7},
		/* Refusals took nothing. Releasing one lets one more in. */
		{GIVE, "alice", 0}, {IN_USE, NULL, 6}, {TAKE, "alice", 0}, {TAKE, "alice", 486},
	};

	run_script(2, 0, script, ARRAY_LEN(script));
}
END_TEST

START_TEST(total_508)
{
	static const struct step script[] = {
		{TAKE, "a", 0}, {TAKE, "b", 0}, {TAKE, "c", 0},
		{TAKE, "d", 508}, {TAKE, "a", 508}, {IN_USE, NULL, 3},
		{GIVE, "b", 0}, {TAKE, "d", 0}, {TAKE, "b", 508},
	};

	run_script(0, 3, script, ARRAY_LEN(script));
}
END_TEST

/* Both limits: a user at its own limit gets 486 while the server has
 * room; any user gets 508 when the server is full. */
START_TEST(both_limits)
{
	static const struct step script[] = {
		{TAKE, "alice", 0}, {TAKE, "alice", 486}, {TAKE, "bob", 0}, {TAKE, "carol", 508},
		{GIVE, "alice", 0}, {TAKE, "carol", 0}, {TAKE, "alice", 508},
	};

	run_script(1, 2, script, ARRAY_LEN(script));
}
END_TEST

/* Giving back what was never taken (an unknown user, or twice) changes
 * nothing: the count never wraps below zero. */
START_TEST(release_unknown)
{
	static const struct step script[] = {
		{GIVE, "nobody", 0}, {IN_USE, NULL, 0},
		{TAKE, "alice", 0}, {GIVE, "alice", 0}, {GIVE, "alice", 0}, {IN_USE, NULL, 0},
		{TAKE, "bob", 0}, {TAKE, "alice", 508},
	};

	run_script(1, 1, script, ARRAY_LEN(script));
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

Suite *test_suite(void)
{
	Suite *s = suite_create("turn_quota");
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
