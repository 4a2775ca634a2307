/* test_lb_conntrack.c: hlb's flow table (R24): both directions found,
 * idle timeouts on a fake clock, TCP close tracking, a full table; and
 * its limits (issue 11): the per-source cap (IPv6 by prefix), the short
 * life of flows nothing answered and of TCP handshakes, a mid-stream
 * TCP pickup that is not established, a full table that evicts an
 * unanswered flow for a new one, each refusal counted; a source at its
 * cap whose flows expired gets them back before the sweep comes by. */
#include <errno.h>
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
	ck_assert_uint_eq(ct_timeout(&t, f), CT_TIMEOUT_SYN);
	ct_touch(f, CT_REPLY, 0x12, 1);         /* SYN-ACK */
	ck_assert_int_eq(f->state, CT_TCP_SYN_ACK);
	ck_assert_uint_eq(ct_timeout(&t, f), CT_TIMEOUT_SYN);
	ct_touch(f, CT_ORIG, 0x10, 1);          /* ACK: handshake complete */
	ck_assert_int_eq(f->state, CT_TCP_EST);
	ck_assert_uint_eq(ct_timeout(&t, f), 1800);
	/* Idle 1799 s is still alive (R24: 1800 s, not 660). */
	ck_assert_ptr_nonnull(ct_lookup(&t, &o, 1800, NULL));
	ck_assert_ptr_null(ct_lookup(&t, &o, 1801, NULL));

	f = ct_insert(&t, &o, &r, 0, 2000);
	f->idle = 1800;
	ct_touch(f, CT_ORIG, 0x02, 2000);
	ct_touch(f, CT_REPLY, 0x12, 2000);
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
	ct_touch(f, CT_ORIG, 0x11, 3002);       /* a FIN after it: still closing */
	ck_assert_int_eq(f->state, CT_TCP_CLOSE);
	ck_assert_ptr_null(ct_lookup(&t, &r, 3012, NULL));
	ct_free(&t);
}
END_TEST

/* An answered UDP flow (the tests below leave most unanswered). */
static struct ct_flow *udp_flow(struct ct_table *t, uint8_t src, uint16_t sp,
				uint32_t idle, uint32_t now, int answered)
{
	struct ct_tuple o = tup(src, 2, sp, 3478, 17), r = tup(3, src, 3478, sp, 17);
	struct ct_flow *f = ct_insert(t, &o, &r, 0, now);

	if (f) {
		f->idle = idle;
		ct_touch(f, CT_ORIG, 0, now);
		if (answered)
			ct_touch(f, CT_REPLY, 0, now);
	}
	return f;
}

START_TEST(test_source_cap)
{
	struct ct_table t;
	struct ct_limits lim = { .src_max = 3 };
	struct ct_tuple a = tup(1, 2, 5000, 3478, 17);
	struct ct_flow *f;

	ck_assert_int_eq(ct_init(&t, 64, 5, NULL, NULL), 0);
	ct_set_limits(&t, &lim);
	for (uint16_t p = 0; p < 3; p++)
		ck_assert_ptr_nonnull(udp_flow(&t, 1, (uint16_t)(1000 + p), 300, 0, 1));
	ck_assert_uint_eq(ct_src_count(&t, &a), 3);
	/* The fourth from the same address is refused, whatever its port,
	 * and counted; nothing was inserted. */
	ck_assert_int_eq(ct_admit(&t, &a, 0), -EDQUOT);
	ck_assert_ptr_null(udp_flow(&t, 1, 1003, 300, 0, 1));
	ck_assert_uint_eq(t.src_capped, 2);
	ck_assert_uint_eq(t.count, 3);
	/* Another source is not touched by it. */
	ck_assert_ptr_nonnull(f = udp_flow(&t, 9, 1000, 300, 0, 1));
	ck_assert_uint_eq(t.nsrc, 2);
	ck_assert_uint_eq(t.full + t.clash, 0);
	/* A source's entry goes with its last flow. */
	ct_remove(&t, f);
	ck_assert_uint_eq(t.nsrc, 1);
	/* A flow of the first source goes: it may have one more. */
	struct ct_tuple o = tup(1, 2, 1001, 3478, 17);
	ct_remove(&t, ct_lookup(&t, &o, 1, NULL));
	ck_assert_uint_eq(ct_src_count(&t, &a), 2);
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1003, 300, 1, 1));
	ck_assert_ptr_null(udp_flow(&t, 1, 1004, 300, 1, 1));
	/* Expiry gives the source's share back too (sweep, fake clock). */
	ck_assert_uint_eq(ct_sweep(&t, 301, 64), 3);
	ck_assert_uint_eq(t.nsrc, 0);
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1004, 300, 301, 1));
	ct_free(&t);
}
END_TEST

/* A source at its cap whose flows have expired, before any sweep came by
 * (a large table's sweep takes seconds to come round): its next flow is
 * admitted, its expired ones taken back first, the other sources' left
 * alone. */
START_TEST(test_source_cap_takes_back_expired)
{
	struct ct_table t;
	struct ct_limits lim = { .src_max = 3 };
	struct ct_tuple a = tup(1, 2, 5000, 3478, 17);

	removed = 0;
	ck_assert_int_eq(ct_init(&t, 64, 5, count_remove, NULL), 0);
	ct_set_limits(&t, &lim);
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1000, 30, 0, 1));  /* expires at 30 */
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1001, 300, 0, 1)); /* lives on */
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1002, 30, 0, 1));  /* expires at 30 */
	ck_assert_ptr_nonnull(udp_flow(&t, 9, 1000, 30, 0, 1));  /* another source */
	ck_assert_int_eq(ct_admit(&t, &a, 29), -EDQUOT);
	ck_assert_uint_eq(removed, 0);
	/* At 30 two of its three are expired: the next one is in, and the
	 * third one of its own still fits. */
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1003, 300, 30, 1));
	ck_assert_uint_eq(removed, 2);
	ck_assert_uint_eq(ct_src_count(&t, &a), 2);
	ck_assert_uint_eq(t.count, 3); /* source 9's expired flow waits for the sweep */
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1004, 300, 30, 1));
	ck_assert_ptr_null(udp_flow(&t, 1, 1005, 300, 30, 1));
	ck_assert_uint_eq(t.src_capped, 2); /* the one at 29 and this one */
	/* Its list survived the removals: every flow of it is found and goes. */
	ck_assert_uint_eq(ct_sweep(&t, 400, 64), 4);
	ck_assert_uint_eq(t.nsrc, 0);
	ct_free(&t);
}
END_TEST

/* The walk when a whole source expires: its entry goes with the last
 * flow, and a new one is made for the flow admitted. */
START_TEST(test_source_cap_all_expired)
{
	struct ct_table t;
	struct ct_limits lim = { .src_max = 2 };

	removed = 0;
	ck_assert_int_eq(ct_init(&t, 64, 5, count_remove, NULL), 0);
	ct_set_limits(&t, &lim);
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1000, 30, 0, 1));
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1001, 30, 0, 1));
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1002, 30, 31, 1));
	ck_assert_uint_eq(removed, 2);
	ck_assert_uint_eq(t.nsrc, 1);
	ck_assert_uint_eq(t.count, 1);
	ct_free(&t);
}
END_TEST

/* Once a second at most: flows that expire at once (idle 0) are taken
 * back by the first walk of a second, and the next knock in the same
 * second is refused without one (the source keeps a live flow, so its
 * entry, and its memory of the walk, stays). */
START_TEST(test_source_cap_walk_once_a_second)
{
	struct ct_table t;
	struct ct_limits lim = { .src_max = 2 };
	struct ct_tuple a = tup(1, 2, 5000, 3478, 17);

	removed = 0;
	ck_assert_int_eq(ct_init(&t, 64, 5, count_remove, NULL), 0);
	ct_set_limits(&t, &lim);
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 999, 300, 40, 1));
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1000, 0, 40, 1));
	ck_assert_ptr_nonnull(udp_flow(&t, 1, 1001, 0, 40, 1)); /* the walk at 40 */
	ck_assert_uint_eq(removed, 1);
	ck_assert_int_eq(ct_admit(&t, &a, 40), -EDQUOT);        /* no second walk at 40 */
	ck_assert_uint_eq(removed, 1);
	ck_assert_int_eq(ct_admit(&t, &a, 41), 0);              /* the walk at 41 */
	ck_assert_uint_eq(removed, 2);
	ct_free(&t);
}
END_TEST

static struct ct_tuple tup6(const char *last8, uint16_t sp)
{
	struct ct_tuple t;

	memset(&t, 0, sizeof(t));
	t.family = 6;
	t.proto = 17;
	t.src[0] = 0x20;
	t.src[1] = 0x01;
	memcpy(t.src + 8, last8, 8);
	t.dst[0] = 0x20;
	t.dst[15] = 0x12;
	t.sport = sp;
	t.dport = 3478;
	return t;
}

/* Insert a flow whose reply is k turned round; 1 when it went in. */
static int insert6(struct ct_table *t, const struct ct_tuple *k)
{
	struct ct_tuple r;

	ct_tuple_invert(&r, k);
	return ct_insert(t, k, &r, 0, 0) != NULL;
}

START_TEST(test_source_cap_ipv6_prefix)
{
	struct ct_table t;
	struct ct_limits lim = { .src_max = 2 };
	struct ct_tuple a = tup6("\0\0\0\0\0\0\0\1", 1000);
	struct ct_tuple b = tup6("\xff\xee\0\0\0\0\0\2", 1000);
	struct ct_tuple c = tup6("\x12\x34\x56\x78\0\0\0\3", 1000);

	ck_assert_int_eq(ct_init(&t, 64, 5, NULL, NULL), 0);
	ct_set_limits(&t, &lim);
	/* Three addresses of one /64: they share the cap. */
	ck_assert(insert6(&t, &a) && insert6(&t, &b));
	ck_assert(!insert6(&t, &c));
	ck_assert_uint_eq(t.src_capped, 1);
	ck_assert_uint_eq(t.nsrc, 1);
	/* Another /64 has its own. */
	c.src[7] = 1;
	ck_assert(insert6(&t, &c));
	ck_assert_uint_eq(t.nsrc, 2);
	ct_free(&t);

	/* source-prefix6 128: every address its own. */
	lim.src_prefix6 = 128;
	ck_assert_int_eq(ct_init(&t, 64, 5, NULL, NULL), 0);
	ct_set_limits(&t, &lim);
	c.src[7] = 0;
	ck_assert(insert6(&t, &a) && insert6(&t, &b) && insert6(&t, &c));
	ck_assert_uint_eq(t.nsrc, 3);
	ct_free(&t);
}
END_TEST

START_TEST(test_unreplied_udp_short)
{
	struct ct_table t;
	struct ct_tuple o = tup(1, 2, 1000, 3478, 17), o2 = tup(1, 2, 1001, 3478, 17);
	struct ct_flow *f;

	ck_assert_int_eq(ct_init(&t, 16, 1, NULL, NULL), 0);
	/* Nothing answers: the unreplied timeout (5 s), not udp-timeout,
	 * and a packet from the client only restarts those 5 s. */
	f = udp_flow(&t, 1, 1000, 300, 100, 0);
	ck_assert_uint_eq(ct_timeout(&t, f), CT_TIMEOUT_UNREPLIED);
	ct_touch(f, CT_ORIG, 0, 103);
	ck_assert_ptr_nonnull(ct_lookup(&t, &o, 107, NULL));
	ck_assert_ptr_null(ct_lookup(&t, &o, 108, NULL));
	/* Answered: the service's idle timeout from then on. */
	f = udp_flow(&t, 1, 1001, 300, 200, 0);
	ct_touch(f, CT_REPLY, 0, 204);
	ck_assert_uint_eq(ct_timeout(&t, f), 300);
	ck_assert_ptr_nonnull(ct_lookup(&t, &o2, 503, NULL));
	ck_assert_ptr_null(ct_lookup(&t, &o2, 504, NULL));
	/* DSR (M12): replies are never seen, so no flow is short for it. */
	struct ct_tuple r = tup(3, 1, 3478, 1002, 17), o3 = tup(1, 2, 1002, 3478, 17);
	f = ct_insert(&t, &o3, &r, CT_F_NOREPLY, 600);
	f->idle = 300;
	ck_assert_uint_eq(ct_timeout(&t, f), 300);
	/* The limit is the operator's. */
	struct ct_limits lim = { .unreplied_timeout = 2, .syn_timeout = 7 };
	ct_set_limits(&t, &lim);
	f = udp_flow(&t, 1, 1003, 300, 700, 0);
	ck_assert_uint_eq(ct_timeout(&t, f), 2);
	ct_free(&t);
}
END_TEST

/* The TCP flow 10.0.0.1:1000 -> 10.0.0.2:443 made at now with flags,
 * held 1800 s once established. */
static struct ct_flow *tcp_flow(struct ct_table *t, uint8_t flags, uint32_t now)
{
	struct ct_tuple o = tup(1, 2, 1000, 443, 6), r = tup(3, 1, 443, 1000, 6);
	struct ct_flow *f = ct_insert(t, &o, &r, flags, now);

	ck_assert_ptr_nonnull(f);
	f->idle = 1800;
	return f;
}

START_TEST(test_tcp_handshake_syn_timeout)
{
	struct ct_table t;
	struct ct_tuple o = tup(1, 2, 1000, 443, 6);
	struct ct_limits lim = { .syn_timeout = 20 };
	struct ct_flow *f;

	ck_assert_int_eq(ct_init(&t, 16, 1, NULL, NULL), 0);
	ct_set_limits(&t, &lim);
	/* A SYN nobody answers lives the SYN timeout. */
	f = tcp_flow(&t, 0, 0);
	ct_touch(f, CT_ORIG, 0x02, 0);
	ck_assert_ptr_nonnull(ct_lookup(&t, &o, 19, NULL));
	ck_assert_ptr_null(ct_lookup(&t, &o, 20, NULL));
	/* SYN-ACK back, but the opener never ACKs (a spoofed source): still
	 * the SYN timeout, though answered. */
	f = tcp_flow(&t, 0, 100);
	ct_touch(f, CT_ORIG, 0x02, 100);
	ct_touch(f, CT_REPLY, 0x12, 100);
	ck_assert_int_eq(f->state, CT_TCP_SYN_ACK);
	ct_touch(f, CT_ORIG, 0x02, 101);        /* SYN again: no progress */
	ck_assert_int_eq(f->state, CT_TCP_SYN_ACK);
	ck_assert_ptr_nonnull(ct_lookup(&t, &o, 120, NULL));
	ck_assert_ptr_null(ct_lookup(&t, &o, 121, NULL));
	/* DSR: the opener's ACK completes what hlb can see. */
	f = tcp_flow(&t, CT_F_NOREPLY, 200);
	ct_touch(f, CT_ORIG, 0x02, 200);
	ct_touch(f, CT_ORIG, 0x10, 201);
	ck_assert_int_eq(f->state, CT_TCP_EST);
	ck_assert_uint_eq(ct_timeout(&t, f), 1800);
	ct_free(&t);
}
END_TEST

START_TEST(test_tcp_pickup_not_established)
{
	struct ct_table t;
	struct ct_tuple o = tup(1, 2, 1000, 443, 6);
	struct ct_flow *f;

	ck_assert_int_eq(ct_init(&t, 16, 1, NULL, NULL), 0);
	/* First packet an ACK (a pickup: R25/M3 flows; hlb drops these to a
	 * VIP before they reach the table): not established, and gone in the
	 * unreplied timeout, not 1800 s. */
	f = tcp_flow(&t, CT_F_OUTBOUND, 0);
	ct_touch(f, CT_ORIG, 0x10, 0);
	ck_assert_int_eq(f->state, CT_TCP_NONE);
	ck_assert_uint_eq(ct_timeout(&t, f), CT_TIMEOUT_UNREPLIED);
	ct_touch(f, CT_ORIG, 0x18, 3);
	ck_assert_int_eq(f->state, CT_TCP_NONE);
	ck_assert_ptr_null(ct_lookup(&t, &o, 3 + CT_TIMEOUT_UNREPLIED, NULL));
	/* The other side answers: the connection was alive; established. */
	f = tcp_flow(&t, CT_F_OUTBOUND, 100);
	ct_touch(f, CT_ORIG, 0x10, 100);
	ct_touch(f, CT_REPLY, 0x10, 101);
	ck_assert_int_eq(f->state, CT_TCP_EST);
	ck_assert_uint_eq(ct_timeout(&t, f), 1800);
	ct_free(&t);
}
END_TEST

START_TEST(test_full_table_evicts_unreplied)
{
	struct ct_table t;
	struct ct_flow *f;

	ck_assert_int_eq(ct_init(&t, 8, 3, count_remove, NULL), 0);
	removed = 0;
	/* Seven answered flows and one nobody answered. */
	for (uint16_t p = 0; p < 7; p++)
		ck_assert_ptr_nonnull(udp_flow(&t, (uint8_t)(10 + p), 1000, 300, 0, 1));
	ck_assert_ptr_nonnull(udp_flow(&t, 50, 1000, 300, 1, 0));
	ck_assert_uint_eq(t.count, 8);
	/* Full: a new flow takes the unanswered one's place. */
	ck_assert_ptr_nonnull(f = udp_flow(&t, 60, 1000, 300, 2, 1));
	ck_assert_uint_eq(t.evicted, 1);
	ck_assert_int_eq(removed, 1);
	struct ct_tuple gone = tup(50, 2, 1000, 3478, 17);
	ck_assert_ptr_null(ct_lookup(&t, &gone, 2, NULL));
	/* Every flow answered: nothing to evict, refused and counted. */
	ck_assert_ptr_null(udp_flow(&t, 61, 1000, 300, 3, 1));
	ck_assert_uint_eq(t.full, 1);
	ck_assert_uint_eq(t.evicted, 1);
	ck_assert_uint_eq(t.count, 8);
	/* An expired flow makes room at once, and is not an eviction. */
	struct ct_tuple o = tup(10, 2, 1000, 3478, 17);
	f = ct_lookup(&t, &o, 3, NULL);
	f->idle = 5;
	ck_assert_ptr_nonnull(udp_flow(&t, 62, 1000, 300, 10, 1));
	ck_assert_uint_eq(t.evicted, 1);
	ck_assert_uint_eq(t.full, 1);
	ct_free(&t);
}
END_TEST

/* A flood from one source's many ports against a table as large as the
 * lab's: the cap holds it, the rest of the clients get in, and the flood
 * is gone within the unreplied timeout. */
START_TEST(test_one_source_flood)
{
	struct ct_table t;
	struct ct_limits lim = { .src_max = 4096 };
	uint32_t ok = 0;

	ck_assert_int_eq(ct_init(&t, 65536, 11, NULL, NULL), 0);
	ct_set_limits(&t, &lim);
	for (uint32_t p = 1024; p < 65536; p++)
		ok += udp_flow(&t, 1, (uint16_t)p, 300, 0, 0) != NULL;
	ck_assert_uint_eq(ok, 4096);
	ck_assert_uint_eq(t.src_capped, 65536 - 1024 - 4096);
	for (uint8_t c = 2; c < 200; c++)
		ck_assert_ptr_nonnull(udp_flow(&t, c, 1000, 300, 1, 1));
	ck_assert_uint_eq(ct_sweep(&t, CT_TIMEOUT_UNREPLIED, 65536), 4096);
	ck_assert_uint_eq(t.count, 198);
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
		ct_touch(f, CT_REPLY, 0, 0); /* answered: none to evict */
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
	tcase_add_test(tc, test_source_cap);
	tcase_add_test(tc, test_source_cap_takes_back_expired);
	tcase_add_test(tc, test_source_cap_all_expired);
	tcase_add_test(tc, test_source_cap_walk_once_a_second);
	tcase_add_test(tc, test_source_cap_ipv6_prefix);
	tcase_add_test(tc, test_unreplied_udp_short);
	tcase_add_test(tc, test_tcp_handshake_syn_timeout);
	tcase_add_test(tc, test_tcp_pickup_not_established);
	tcase_add_test(tc, test_full_table_evicts_unreplied);
	tcase_add_test(tc, test_one_source_flood);
	suite_add_tcase(s, tc);
	return s;
}
