/* test_turn_ratelimit.c: the per-source budget for answers to requests without
 * valid credentials (R15), on a fake clock. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "ratelimit.h"

static struct ratelimit rl;

static struct sockaddr *v4(const char *ip, int port)
{
	static struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return (struct sockaddr *)&sin;
}

static struct sockaddr *v6(const char *ip)
{
	static struct sockaddr_in6 sin6;
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &sin6.sin6_addr);
	return (struct sockaddr *)&sin6;
}

static int drain(const struct sockaddr *sa, uint64_t now, int max)
{
	int n = 0;
	while (n < max && ratelimit_take(&rl, sa, now))
		n++;
	return n;
}

START_TEST(burst_then_refused)
{
	ratelimit_init(&rl, 1);
	ck_assert_int_eq(drain(v4("198.51.100.10", 1), 1000, 10000), RATELIMIT_BURST);
	ck_assert_int_eq(ratelimit_take(&rl, v4("198.51.100.10", 1), 1000), 0);
}
END_TEST

START_TEST(refills_at_the_rate)
{
	ratelimit_init(&rl, 1);
	drain(v4("198.51.100.10", 1), 1000, 10000);
	/* one second later: RATELIMIT_RATE more, no more */
	ck_assert_int_eq(drain(v4("198.51.100.10", 1), 2000, 10000), RATELIMIT_RATE);
	/* 5 ms later: exactly one at 200/s */
	ck_assert_int_eq(drain(v4("198.51.100.10", 1), 2005, 10000), RATELIMIT_RATE / 200);
	/* a long pause refills to the burst, never beyond */
	ck_assert_int_eq(drain(v4("198.51.100.10", 1), 100000, 10000), RATELIMIT_BURST);
}
END_TEST

START_TEST(per_source_not_per_port)
{
	ratelimit_init(&rl, 1);
	drain(v4("198.51.100.10", 1), 1000, 10000);
	/* another port of the same host shares the budget */
	ck_assert_int_eq(ratelimit_take(&rl, v4("198.51.100.10", 2), 1000), 0);
	/* another host has its own (unless it hashes to the same bucket:
	 * with a fixed key these two do not) */
	ck_assert_int_eq(drain(v4("198.51.100.20", 1), 1000, 10000), RATELIMIT_BURST);
}
END_TEST

START_TEST(ipv6_by_slash64)
{
	ratelimit_init(&rl, 1);
	drain(v6("2001:db8:1:2::1"), 1000, 10000);
	ck_assert_int_eq(ratelimit_take(&rl, v6("2001:db8:1:2::ffff"), 1000), 0);
	ck_assert_int_eq(drain(v6("2001:db8:1:3::1"), 1000, 10000), RATELIMIT_BURST);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("turn_ratelimit");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_test(tc, burst_then_refused);
	tcase_add_test(tc, refills_at_the_rate);
	tcase_add_test(tc, per_source_not_per_port);
	tcase_add_test(tc, ipv6_by_slash64);
	suite_add_tcase(s, tc);
	return s;
}
