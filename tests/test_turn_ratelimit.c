/* test_turn_ratelimit.c: the per-source budget for answers to requests without
 * valid credentials (R15), on a fake clock. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "turn/ratelimit.h"

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

#define RATE 50
#define BURST 200

/* Answers of len bytes src gets at now, each after a request of req bytes
 * (0: no request, only the answer). */
static int drain(const struct sockaddr *sa, uint64_t now, int max, size_t req, size_t len)
{
	int n = 0;

	for (int i = 0; i < max; i++) {
		if (req)
			ratelimit_earn(&rl, sa, req, now);
		n += ratelimit_take(&rl, sa, len, now);
	}
	return n;
}

static void setup(void) { ck_assert_int_eq(ratelimit_init(&rl, 1, RATE, BURST), 0); }
static void teardown(void) { ratelimit_free(&rl); }

START_TEST(burst_then_refused)
{
	ck_assert_int_eq(drain(v4("198.51.100.10", 1), 1000, 10000, 0, 80), BURST);
	ck_assert_int_eq(ratelimit_take(&rl, v4("198.51.100.10", 1), 80, 1000), 0);
}
END_TEST

START_TEST(refills_at_the_rate)
{
	drain(v4("198.51.100.10", 1), 1000, 10000, 0, 1);
	/* one second later: RATE more, no more (credit is no limit at 1 byte) */
	ck_assert_int_eq(drain(v4("198.51.100.10", 1), 2000, 10000, 0, 1), RATE);
	/* 20 ms later: exactly one at 50/s */
	ck_assert_int_eq(drain(v4("198.51.100.10", 1), 2020, 10000, 0, 1), 1);
	/* a long pause refills to the burst, never beyond */
	ck_assert_int_eq(drain(v4("198.51.100.10", 1), 100000, 10000, 0, 1), BURST);
}
END_TEST

/* Past the burst, a source is answered no more bytes than it sent, at
 * any pace below the rate as above it. */
START_TEST(no_amplification_past_the_burst)
{
	const struct sockaddr *sa = v4("198.51.100.10", 1);
	uint64_t now = 1000, sent = 0, answered = 0;

	ck_assert_int_eq(drain(sa, now, BURST * 10, 20, 80), BURST);
	sent = BURST * 10 * 20;
	answered = BURST * 80;
	for (int s = 0; s < 60; s++) { /* a minute at 40 requests a second */
		for (int i = 0; i < 40; i++) {
			now += 25;
			ratelimit_earn(&rl, sa, 20, now);
			sent += 20;
			answered += ratelimit_take(&rl, sa, 80, now) ? 80 : 0;
		}
	}
	/* the burst's credit, then no more than it sent */
	ck_assert_uint_le(answered, sent + BURST * RATELIMIT_ANSWER);
	ck_assert_uint_ge(answered, sent * 9 / 10); /* and not starved either */
}
END_TEST

START_TEST(quiet_source_gets_its_burst_back)
{
	const struct sockaddr *sa = v4("198.51.100.10", 1);

	drain(sa, 1000, 10000, 20, 80);
	/* burst / rate = 4 s of silence */
	ck_assert_int_eq(drain(sa, 5000, BURST, 0, 80), BURST);
}
END_TEST

START_TEST(per_source_not_per_port)
{
	drain(v4("198.51.100.10", 1), 1000, 10000, 0, 80);
	/* another port of the same host shares the budget */
	ck_assert_int_eq(ratelimit_take(&rl, v4("198.51.100.10", 2), 80, 1000), 0);
	/* another host has its own */
	ck_assert_int_eq(drain(v4("198.51.100.20", 1), 1000, 10000, 0, 80), BURST);
}
END_TEST

START_TEST(ipv6_by_slash64)
{
	drain(v6("2001:db8:1:2::1"), 1000, 10000, 0, 80);
	ck_assert_int_eq(ratelimit_take(&rl, v6("2001:db8:1:2::ffff"), 80, 1000), 0);
	ck_assert_int_eq(drain(v6("2001:db8:1:3::1"), 1000, 10000, 0, 80), BURST);
}
END_TEST

/* A flood of sources (spoofed, say) fills the table and pushes out the
 * longest silent; a source that arrives after it still has a budget of its
 * own, not one shared with the flood. */
START_TEST(flood_evicts_the_silent)
{
	char ip[32];

	for (uint32_t i = 0; i < 4 * RATELIMIT_SLOTS; i++) {
		snprintf(ip, sizeof ip, "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
		drain(v4(ip, 1), 1000 + i / 1024, BURST, 0, 80);
	}
	ck_assert_uint_gt(rl.evicted, 3 * RATELIMIT_SLOTS - RATELIMIT_SLOTS / 8);
	ck_assert_int_eq(drain(v4("198.51.100.10", 1), 2000, 10000, 0, 80), BURST);
}
END_TEST

START_TEST(rate_zero_is_off)
{
	ratelimit_free(&rl);
	ck_assert_int_eq(ratelimit_init(&rl, 1, 0, BURST), 0);
	ck_assert_int_eq(drain(v4("198.51.100.10", 1), 1000, 10000, 0, 80), 10000);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("turn_ratelimit");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, burst_then_refused);
	tcase_add_test(tc, refills_at_the_rate);
	tcase_add_test(tc, no_amplification_past_the_burst);
	tcase_add_test(tc, quiet_source_gets_its_burst_back);
	tcase_add_test(tc, per_source_not_per_port);
	tcase_add_test(tc, ipv6_by_slash64);
	tcase_add_test(tc, flood_evicts_the_silent);
	tcase_add_test(tc, rate_zero_is_off);
	suite_add_tcase(s, tc);
	return s;
}
