/* test_turn_txcache.c: the transaction cache (RFC 8489 §6.3.1, RFC 8656 §7.2):
 * a retransmitted request gets the same answer for 40 s, only from the same
 * client on the same connection, and the ring forgets the oldest first.
 * Time is a fake clock passed in as `now`. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "turn/txcache.h"

static int conn_1, conn_2;

static struct sockaddr_storage sa(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		ck_assert(inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		ck_assert(inet_pton(AF_INET, ip, &s4->sin_addr) == 1);
	}
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static void tid_of(uint8_t tid[12], unsigned n)
{
	memset(tid, 0x11, 12);
	tid[8] = (uint8_t)(n >> 24);
	tid[9] = (uint8_t)(n >> 16);
	tid[10] = (uint8_t)(n >> 8);
	tid[11] = (uint8_t)n;
}

static struct txcache *fresh(void)
{
	struct txcache *c = calloc(1, sizeof *c); /* as the server zeroes it */
	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(hit_and_miss)
{
	struct txcache *c = fresh();
	struct sockaddr_storage cl = sa("198.51.100.10", 40000);
	uint8_t tid[12], other[12];
	const uint8_t answer[] = "an allocate success response";

	tid_of(tid, 1);
	tid_of(other, 2);
	ck_assert_ptr_null(txcache_find(c, SA(cl), NULL, tid, 0));
	txcache_put(c, SA(cl), NULL, tid, answer, sizeof answer, 1000);
	const struct txentry *e = txcache_find(c, SA(cl), NULL, tid, 1000);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->len, sizeof answer);
	ck_assert_mem_eq(e->data, answer, sizeof answer);
	/* Another transaction id: miss. */
	ck_assert_ptr_null(txcache_find(c, SA(cl), NULL, other, 1000));
	/* Ids that differ in the first byte only: miss. */
	uint8_t first[12];
	memcpy(first, tid, 12);
	first[0] ^= 1;
	ck_assert_ptr_null(txcache_find(c, SA(cl), NULL, first, 1000));
	free(c);
}
END_TEST

/* Kept 40 s: a hit at put + 39.999 s, a miss at put + 40 s. */
START_TEST(ttl_40s)
{
	struct txcache *c = fresh();
	struct sockaddr_storage cl = sa("198.51.100.10", 40000);
	uint8_t tid[12];
	const uint8_t answer[] = { 1, 2, 3, 4 };
	const uint64_t t0 = 123456789;

	ck_assert_int_eq(TXCACHE_TTL_MS, 40000);
	tid_of(tid, 7);
	txcache_put(c, SA(cl), NULL, tid, answer, sizeof answer, t0);
	ck_assert_ptr_nonnull(txcache_find(c, SA(cl), NULL, tid, t0 + TXCACHE_TTL_MS - 1));
	ck_assert_ptr_null(txcache_find(c, SA(cl), NULL, tid, t0 + TXCACHE_TTL_MS));
	ck_assert_ptr_null(txcache_find(c, SA(cl), NULL, tid, t0 + 10 * TXCACHE_TTL_MS));
	/* Put again (a new answer, later): good for 40 s from then. */
	txcache_put(c, SA(cl), NULL, tid, answer, sizeof answer, t0 + TXCACHE_TTL_MS);
	ck_assert_ptr_nonnull(txcache_find(c, SA(cl), NULL, tid, 2 * TXCACHE_TTL_MS + t0 - 1));
	free(c);
}
END_TEST

/* Transaction ids are per client: the same id from another address or
 * port, another family, or on another connection is another request. */
START_TEST(other_client_other_conn)
{
	struct txcache *c = fresh();
	struct sockaddr_storage cl = sa("198.51.100.10", 40000);
	struct sockaddr_storage port = sa("198.51.100.10", 40001);
	struct sockaddr_storage ip = sa("198.51.100.11", 40000);
	struct sockaddr_storage mapped = sa("::ffff:198.51.100.10", 40000);
	struct sockaddr_storage v6 = sa("2001:db8::10", 40000);
	uint8_t tid[12];
	const uint8_t a1[] = "answer on conn 1", a6[] = "answer to the v6 client";

	tid_of(tid, 9);
	txcache_put(c, SA(cl), &conn_1, tid, a1, sizeof a1, 0);
	ck_assert_ptr_nonnull(txcache_find(c, SA(cl), &conn_1, tid, 0));
	ck_assert_ptr_null(txcache_find(c, SA(cl), &conn_2, tid, 0));
	ck_assert_ptr_null(txcache_find(c, SA(cl), NULL, tid, 0));
	ck_assert_ptr_null(txcache_find(c, SA(port), &conn_1, tid, 0));
	ck_assert_ptr_null(txcache_find(c, SA(ip), &conn_1, tid, 0));
	ck_assert_ptr_null(txcache_find(c, SA(mapped), &conn_1, tid, 0));

	/* The same tid from an IPv6 client gets its own answer. */
	txcache_put(c, SA(v6), NULL, tid, a6, sizeof a6, 0);
	const struct txentry *e = txcache_find(c, SA(v6), NULL, tid, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_mem_eq(e->data, a6, sizeof a6);
	e = txcache_find(c, SA(cl), &conn_1, tid, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_mem_eq(e->data, a1, sizeof a1);
	free(c);
}
END_TEST

/* A fixed ring: after TXCACHE_SLOTS more answers the oldest is gone and
 * every newer one still there. */
START_TEST(ring_overwrites_oldest)
{
	struct txcache *c = fresh();
	struct sockaddr_storage cl = sa("198.51.100.10", 40000);
	uint8_t tid[12], data[8];

	for (unsigned i = 0; i < TXCACHE_SLOTS + 10; i++) {
		tid_of(tid, i);
		memcpy(data, &i, sizeof i);
		txcache_put(c, SA(cl), NULL, tid, data, sizeof data, i);
	}
	for (unsigned i = 0; i < 10; i++) {
		tid_of(tid, i);
		ck_assert_msg(!txcache_find(c, SA(cl), NULL, tid, 300), "tid %u still cached", i);
	}
	for (unsigned i = 10; i < TXCACHE_SLOTS + 10; i++) {
		tid_of(tid, i);
		const struct txentry *e = txcache_find(c, SA(cl), NULL, tid, 300);
		ck_assert_msg(e != NULL, "tid %u lost", i);
		unsigned got;
		memcpy(&got, e->data, sizeof got);
		ck_assert_uint_eq(got, i);
	}
	free(c);
}
END_TEST

/* An IPv6 entry overwritten by an IPv4 one leaves no trace of the old
 * address (the copy is shorter than the slot). */
START_TEST(ring_v6_then_v4_slot)
{
	struct txcache *c = fresh();
	struct sockaddr_storage v6 = sa("2001:db8::10", 40000), v4 = sa("10.0.0.1", 40000);
	uint8_t tid[12];
	const uint8_t d[] = "x";

	tid_of(tid, 1);
	txcache_put(c, SA(v6), NULL, tid, d, sizeof d, 0);
	for (unsigned i = 1; i < TXCACHE_SLOTS; i++) {
		uint8_t t2[12];
		tid_of(t2, 1000 + i);
		txcache_put(c, SA(v6), NULL, t2, d, sizeof d, 0);
	}
	txcache_put(c, SA(v4), NULL, tid, d, sizeof d, 0); /* slot 0 again */
	ck_assert_ptr_null(txcache_find(c, SA(v6), NULL, tid, 0));
	ck_assert_ptr_nonnull(txcache_find(c, SA(v4), NULL, tid, 0));
	free(c);
}
END_TEST

START_TEST(too_long_not_cached)
{
	struct txcache *c = fresh();
	struct sockaddr_storage cl = sa("198.51.100.10", 40000);
	uint8_t tid[12], big[TXCACHE_MAXLEN + 1];

	memset(big, 0xab, sizeof big);
	tid_of(tid, 1);
	txcache_put(c, SA(cl), NULL, tid, big, TXCACHE_MAXLEN + 1, 0);
	ck_assert_ptr_null(txcache_find(c, SA(cl), NULL, tid, 0));
	txcache_put(c, SA(cl), NULL, tid, big, TXCACHE_MAXLEN, 0);
	const struct txentry *e = txcache_find(c, SA(cl), NULL, tid, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->len, TXCACHE_MAXLEN);
	ck_assert_mem_eq(e->data, big, TXCACHE_MAXLEN);
	free(c);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("turn_txcache");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, hit_and_miss);
	tcase_add_test(tc, ttl_40s);
	tcase_add_test(tc, other_client_other_conn);
	tcase_add_test(tc, ring_overwrites_oldest);
	tcase_add_test(tc, ring_v6_then_v4_slot);
	tcase_add_test(tc, too_long_not_cached);
	suite_add_tcase(s, tc);
	return s;
}
