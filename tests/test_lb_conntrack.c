/* test_lb_conntrack.c: hlb's flow table (R24): both directions found,
 * idle timeouts on a fake clock, TCP close tracking, a full table. */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "conntrack.h"

static struct ct_tuple tup(uint8_t s, uint8_t d, uint16_t sp, uint16_t dp,
			   uint8_t proto)
{
	struct ct_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = 4;
	t.proto = proto;
	t.src[0] = 10;
	t.src[3] = s;
	t.dst[0] = 10;
	t.dst[3] = d;
	t.sport = sp;
	t.dport = dp;
	return t;
}

static int removed;
static void count_remove(void *ctx, const struct ct_flow *f)
{
	(void)ctx;
	(void)f;
	removed++;
}

START_TEST(test_both_directions)
{
	struct ct_table t;
	struct ct_tuple o = tup(1, 2, 1000, 3478, 17), r = tup(3, 1, 3478, 1000, 17);
	struct ct_flow *f, *g;
	int dir = -1;

	ck_assert_int_eq(ct_init(&t, 64, 42, NULL, NULL), 0);
	f = ct_insert(&t, &o, &r, 0, 100);
	ck_assert_ptr_nonnull(f);
	f->idle = 300;
	g = ct_lookup(&t, &o, 101, &dir);
	ck_assert_ptr_eq(g, f);
	ck_assert_int_eq(dir, CT_ORIG);
	g = ct_lookup(&t, &r, 101, &dir);
	ck_assert_ptr_eq(g, f);
	ck_assert_int_eq(dir, CT_REPLY);
	/* The same tuple twice is refused, in either direction. */
	ck_assert_ptr_null(ct_insert(&t, &o, &o, 0, 100));
	ck_assert_ptr_null(ct_insert(&t, &r, &o, 0, 100));
	ck_assert_uint_eq(t.count, 1);
	ct_free(&t);
}
END_TEST

START_TEST(test_udp_idle_timeout_fake_clock)
{
	struct ct_table t;
	struct ct_tuple o = tup(1, 2, 1000, 3478, 17), r = tup(3, 1, 3478, 1000, 17);
	struct ct_flow *f;

	ck_assert_int_eq(ct_init(&t, 16, 1, count_remove, NULL), 0);
	removed = 0;
	f = ct_insert(&t, &o, &r, 0, 1000);
	f->idle = 30;
	ct_touch(f, CT_REPLY, 0, 1020);        /* traffic refreshes */
	ck_assert_ptr_nonnull(ct_lookup(&t, &o, 1049, NULL));
	ck_assert_ptr_null(ct_lookup(&t, &o, 1050, NULL)); /* 30 s idle */
	ck_assert_int_eq(removed, 1);
	ck_assert_uint_eq(t.count, 0);
	ck_assert_ptr_null(ct_lookup(&t, &r, 1050, NULL));
	ct_free(&t);
}
END_TEST

START_TEST(test_tcp_default_1800_and_close)
{
	struct ct_table t;
	struct ct_tuple o = tup(1, 2, 1000, 443, 6), r = tup(3, 1, 443, 1000, 6);
	struct ct_flow *f;

	ck_assert_int_eq(ct_init(&t, 16, 1, NULL, NULL), 0);
	f = ct_insert(&t, &o, &r, 0, 0);
	f->idle = 1800;
	ct_touch(f, CT_ORIG, 0x02, 0);          /* SYN */
	ck_assert_int_eq(f->state, CT_TCP_SYN);
	ck_assert_uint_eq(ct_timeout(f), CT_TIMEOUT_SYN);
	ct_touch(f, CT_REPLY, 0x12, 1);         /* SYN-ACK */
	ck_assert_int_eq(f->state, CT_TCP_EST);
	ck_assert_uint_eq(ct_timeout(f), 1800);
	/* Idle 1799 s is still alive (R24: 1800 s, not 660). */
	ck_assert_ptr_nonnull(ct_lookup(&t, &o, 1800, NULL));
	ck_assert_ptr_null(ct_lookup(&t, &o, 1801, NULL));

	f = ct_insert(&t, &o, &r, 0, 2000);
	f->idle = 1800;
	ct_touch(f, CT_ORIG, 0x10, 2000);
	ct_touch(f, CT_ORIG, 0x11, 2001);       /* FIN */
	ck_assert_int_eq(f->state, CT_TCP_FIN);
	ct_touch(f, CT_REPLY, 0x11, 2002);      /* FIN back */
	ck_assert_int_eq(f->state, CT_TCP_CLOSE);
	ck_assert_ptr_nonnull(ct_lookup(&t, &o, 2002 + CT_TIMEOUT_CLOSE - 1, NULL));
	ck_assert_ptr_null(ct_lookup(&t, &o, 2002 + CT_TIMEOUT_CLOSE, NULL));

	f = ct_insert(&t, &o, &r, 0, 3000);
	f->idle = 1800;
	ct_touch(f, CT_REPLY, 0x14, 3001);      /* RST */
	ck_assert_int_eq(f->state, CT_TCP_CLOSE);
	ck_assert_ptr_null(ct_lookup(&t, &r, 3011, NULL));
	ct_free(&t);
}
END_TEST

START_TEST(test_full_table_and_reuse)
{
	struct ct_table t;

	ck_assert_int_eq(ct_init(&t, 100, 7, NULL, NULL), 0);
	for (int i = 0; i < 100; i++) {
		struct ct_tuple o = tup(1, 2, (uint16_t)(1000 + i), 80, 17);
		struct ct_tuple r = tup(3, 1, 80, (uint16_t)(1000 + i), 17);
		struct ct_flow *f = ct_insert(&t, &o, &r, 0, 0);

		ck_assert_ptr_nonnull(f);
		f->idle = 10 + (uint32_t)(i % 2) * 100;
	}
	struct ct_tuple o = tup(9, 9, 1, 1, 17), r = tup(8, 8, 1, 1, 17);
	ck_assert_ptr_null(ct_insert(&t, &o, &r, 0, 0));
	ck_assert_uint_eq(t.full, 1);
	/* The sweep frees the idle half, in slices. */
	ck_assert_uint_eq(ct_sweep(&t, 20, 60) + ct_sweep(&t, 20, 60), 50);
	ck_assert_uint_eq(t.count, 50);
	ck_assert_ptr_nonnull(ct_insert(&t, &o, &r, 0, 20));
	/* Every survivor still found both ways after the chain surgery. */
	for (int i = 1; i < 100; i += 2) {
		struct ct_tuple rr = tup(3, 1, 80, (uint16_t)(1000 + i), 17);
		ck_assert_ptr_nonnull(ct_lookup(&t, &rr, 20, NULL));
	}
	ct_free(&t);
}
END_TEST

static int match_even(const struct ct_flow *f, void *arg)
{
	(void)arg;
	return f->t[0].sport % 2 == 0;
}

START_TEST(test_flush_and_noreply)
{
	struct ct_table t;
	struct ct_tuple o = tup(1, 2, 2, 80, 17), r = tup(3, 1, 80, 2, 17);
	struct ct_tuple o2 = tup(1, 2, 3, 80, 17), r2 = tup(3, 1, 80, 3, 17);

	ck_assert_int_eq(ct_init(&t, 8, 7, NULL, NULL), 0);
	ck_assert_ptr_nonnull(ct_insert(&t, &o, &r, 0, 0));
	ck_assert_ptr_nonnull(ct_insert(&t, &o2, &r2, CT_F_NOREPLY, 0));
	/* DSR (M12): the reply is not tracked. */
	ck_assert_ptr_null(ct_lookup(&t, &r2, 0, NULL));
	ck_assert_uint_eq(ct_flush(&t, match_even, NULL), 1);
	ck_assert_ptr_null(ct_lookup(&t, &o, 0, NULL));
	ck_assert_ptr_nonnull(ct_lookup(&t, &o2, 0, NULL));
	ct_free(&t);
}
END_TEST

START_TEST(test_many_flows_hash_spread)
{
	struct ct_table t;
	uint32_t longest = 0;

	ck_assert_int_eq(ct_init(&t, 65536, 99, NULL, NULL), 0);
	for (int i = 0; i < 60000; i++) {
		struct ct_tuple o = tup((uint8_t)(i >> 8), 2, (uint16_t)i, 3478, 17);
		struct ct_tuple r = tup(3, (uint8_t)(i >> 8), 3478, (uint16_t)i, 17);
		ck_assert_ptr_nonnull(ct_insert(&t, &o, &r, 0, 0));
	}
	for (uint32_t b = 0; b <= t.mask; b++) {
		uint32_t n = 0, ref = t.buckets[b];

		while (ref) {
			struct ct_flow *f = &t.flows[(ref - 1) >> 1];
			ref = f->next[(ref - 1) & 1];
			n++;
		}
		if (n > longest)
			longest = n;
	}
	ck_assert_uint_lt(longest, 16);
	ct_free(&t);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("lb_conntrack");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_both_directions);
	tcase_add_test(tc, test_udp_idle_timeout_fake_clock);
	tcase_add_test(tc, test_tcp_default_1800_and_close);
	tcase_add_test(tc, test_full_table_and_reuse);
	tcase_add_test(tc, test_flush_and_noreply);
	tcase_add_test(tc, test_many_flows_hash_spread);
	suite_add_tcase(s, tc);
	return s;
}
