/* test_turn_alloc.c: the allocation table (RFC 8656 §2.2, §5), permissions
 * (§9, 300 s) and channels (§12, 600 s + 5 min quarantine) against a fake
 * clock: every timeout is checked one millisecond before, at, and after its
 * boundary. Time is whatever `now` we pass; nothing here sleeps. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "turn/alloc.h"

/* Listeners and connections are opaque pointers to the table. */
static int listener_a, listener_b, conn_1, conn_2;

static struct sockaddr_storage sa(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		ck_assert_msg(inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1, "bad address %s", ip);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		ck_assert_msg(inet_pton(AF_INET, ip, &s4->sin_addr) == 1, "bad address %s", ip);
	}
	return ss;
}

static struct five_tuple key(const void *listener, const void *conn, const char *ip,
			     uint16_t port)
{
	struct five_tuple k;

	memset(&k, 0, sizeof k);
	k.listener = listener;
	k.conn = conn;
	k.client = sa(ip, port);
	return k;
}

static struct peer peer(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss = sa(ip, port);
	struct peer p;

	peer_from_sockaddr(&p, (const struct sockaddr *)&ss);
	return p;
}

/* An allocation to hang permissions and channels on, outside any table. */
static struct alloc *lone(struct alloc_table *t)
{
	struct five_tuple k = key(&listener_a, NULL, "198.51.100.10", 40000);

	ck_assert_int_eq(alloc_table_init(t, 16), 0);
	struct alloc *a = alloc_table_add(t, &k, UINT64_MAX);
	ck_assert_ptr_nonnull(a);
	return a;
}

/* The permission and channel tests' fixture: lone()'s allocation in a
 * table freed after each test. */
static struct alloc_table lone_table;
static struct alloc *lone_alloc;

static void lone_setup(void)
{
	lone_alloc = lone(&lone_table);
}

static void lone_teardown(void)
{
	alloc_table_free(&lone_table);
}

/* Expiry callback: count and remove, as the server's must. */
struct reaped {
	struct alloc_table *t;
	unsigned n;
};

static void reap(struct alloc *a, void *ctx)
{
	struct reaped *r = ctx;

	r->n++;
	alloc_table_remove(r->t, a);
}

/* ---- the table: keys are 5-tuples ---- */

START_TEST(table_insert_find_remove_v4)
{
	struct alloc_table t;
	struct five_tuple k = key(&listener_a, NULL, "198.51.100.10", 40000);

	/* One bucket: every key in one chain, so only key equality tells
	 * them apart (not the hash). */
	ck_assert_int_eq(alloc_table_init(&t, 1), 0);
	ck_assert_ptr_null(alloc_table_find(&t, &k));
	struct alloc *a = alloc_table_add(&t, &k, 600000);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(t.count, 1);
	ck_assert_ptr_eq(alloc_table_find(&t, &k), a);
	ck_assert_uint_eq(a->nperms, 0);
	ck_assert_uint_eq(a->nchans, 0);
	ck_assert_ptr_null(a->user);

	/* Any other element of the tuple is another allocation. */
	struct five_tuple other_port = key(&listener_a, NULL, "198.51.100.10", 40001);
	struct five_tuple other_ip = key(&listener_a, NULL, "198.51.100.11", 40000);
	struct five_tuple other_listener = key(&listener_b, NULL, "198.51.100.10", 40000);
	struct five_tuple with_conn = key(&listener_a, &conn_1, "198.51.100.10", 40000);
	struct five_tuple v6 = key(&listener_a, NULL, "::ffff:198.51.100.10", 40000);
	ck_assert_ptr_null(alloc_table_find(&t, &other_port));
	ck_assert_ptr_null(alloc_table_find(&t, &other_ip));
	ck_assert_ptr_null(alloc_table_find(&t, &other_listener));
	ck_assert_ptr_null(alloc_table_find(&t, &with_conn));
	ck_assert_ptr_null(alloc_table_find(&t, &v6));

	/* The key is the address and port, not the sockaddr's padding. */
	struct five_tuple dirty = k;
	memset(((struct sockaddr_in *)&dirty.client)->sin_zero, 0xa5,
	       sizeof ((struct sockaddr_in *)&dirty.client)->sin_zero);
	memset((char *)&dirty.client + sizeof(struct sockaddr_in), 0x5a,
	       sizeof dirty.client - sizeof(struct sockaddr_in));
	ck_assert_ptr_eq(alloc_table_find(&t, &dirty), a);

	alloc_table_remove(&t, a);
	ck_assert_uint_eq(t.count, 0);
	ck_assert_ptr_null(alloc_table_find(&t, &k));
	ck_assert_ptr_null(t.all);
	alloc_table_free(&t);
}
END_TEST

START_TEST(table_insert_find_remove_v6)
{
	struct alloc_table t;
	struct five_tuple k = key(&listener_a, NULL, "2001:db8:99::10", 40000);
	struct five_tuple k2 = key(&listener_a, NULL, "2001:db8:99::11", 40000);
	struct five_tuple k3 = key(&listener_a, NULL, "2001:db8:99::10", 40002);

	ck_assert_int_eq(alloc_table_init(&t, 64), 0);
	struct alloc *a = alloc_table_add(&t, &k, 1000);
	struct alloc *b = alloc_table_add(&t, &k2, 1000);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_eq(alloc_table_find(&t, &k), a);
	ck_assert_ptr_eq(alloc_table_find(&t, &k2), b);
	ck_assert_ptr_null(alloc_table_find(&t, &k3));
	alloc_table_remove(&t, a);
	ck_assert_ptr_null(alloc_table_find(&t, &k));
	ck_assert_ptr_eq(alloc_table_find(&t, &k2), b);
	ck_assert_uint_eq(t.count, 1);
	alloc_table_free(&t);
	ck_assert_ptr_null(t.buckets);
}
END_TEST

/* [MS-TURN] multiplexed session ids: found by id (one chain in a 1-bucket
 * table: equality decides), gone with their allocation. */
START_TEST(table_mux_index)
{
	struct alloc_table t;
	struct five_tuple k = key(&listener_a, NULL, "198.51.100.10", 40000);
	struct five_tuple k2 = key(&listener_a, NULL, "198.51.100.11", 40000);
	const uint8_t id1[8] = {1, 2, 3, 4, 5, 6, 7, 8}, id2[8] = {1, 2, 3, 4, 5, 6, 7, 9};

	ck_assert_int_eq(alloc_table_init(&t, 1), 0);
	struct alloc *a = alloc_table_add(&t, &k, 1000);
	struct alloc *b = alloc_table_add(&t, &k2, 1000);
	ck_assert_int_eq(alloc_table_set_ms(&t, a), 0);
	ck_assert_int_eq(alloc_table_set_ms(&t, b), 0);
	ck_assert_ptr_null(alloc_table_find_mux(&t, id1));
	memcpy(a->ms->mux_id, id1, 8);
	alloc_table_set_mux(&t, a);
	memcpy(b->ms->mux_id, id2, 8);
	alloc_table_set_mux(&t, b);
	ck_assert_uint_eq(t.mux_count, 2);
	ck_assert_ptr_eq(alloc_table_find_mux(&t, id1), a);
	ck_assert_ptr_eq(alloc_table_find_mux(&t, id2), b);
	alloc_table_remove(&t, b);
	ck_assert_ptr_null(alloc_table_find_mux(&t, id2));
	ck_assert_ptr_eq(alloc_table_find_mux(&t, id1), a);
	ck_assert_uint_eq(t.mux_count, 1);
	alloc_table_remove(&t, a);
	ck_assert_ptr_null(alloc_table_find_mux(&t, id1));
	ck_assert_uint_eq(t.mux_count, 0);
	alloc_table_free(&t);
	ck_assert_ptr_null(t.mux_buckets);
}
END_TEST

/* R13: one client reaching two listeners (external and internal) holds two
 * allocations, one per 5-tuple. */
START_TEST(table_same_client_two_listeners)
{
	struct alloc_table t;
	struct five_tuple ka = key(&listener_a, NULL, "198.51.100.10", 40000);
	struct five_tuple kb = key(&listener_b, NULL, "198.51.100.10", 40000);

	ck_assert_int_eq(alloc_table_init(&t, 1), 0); /* one chain: equality decides */
	struct alloc *a = alloc_table_add(&t, &ka, 1000);
	struct alloc *b = alloc_table_add(&t, &kb, 1000);
	ck_assert_ptr_ne(a, b);
	ck_assert_uint_eq(t.count, 2);
	ck_assert_ptr_eq(alloc_table_find(&t, &ka), a);
	ck_assert_ptr_eq(alloc_table_find(&t, &kb), b);
	alloc_table_remove(&t, b);
	ck_assert_ptr_eq(alloc_table_find(&t, &ka), a);
	ck_assert_ptr_null(alloc_table_find(&t, &kb));
	alloc_table_free(&t);
}
END_TEST

/* TCP/TLS: the connection is part of the key; two connections from the
 * same address and port (one closed, one new) are two allocations. */
START_TEST(table_tcp_conn_key)
{
	struct alloc_table t;
	struct five_tuple k1 = key(&listener_a, &conn_1, "198.51.100.10", 40000);
	struct five_tuple k2 = key(&listener_a, &conn_2, "198.51.100.10", 40000);
	struct five_tuple udp = key(&listener_a, NULL, "198.51.100.10", 40000);

	ck_assert_int_eq(alloc_table_init(&t, 1), 0); /* one chain: equality decides */
	struct alloc *a = alloc_table_add(&t, &k1, 1000);
	ck_assert_ptr_eq(alloc_table_find(&t, &k1), a);
	ck_assert_ptr_null(alloc_table_find(&t, &k2));
	ck_assert_ptr_null(alloc_table_find(&t, &udp));
	struct alloc *b = alloc_table_add(&t, &k2, 1000);
	ck_assert_ptr_eq(alloc_table_find(&t, &k2), b);
	ck_assert_ptr_eq(alloc_table_find(&t, &k1), a);
	alloc_table_free(&t);
}
END_TEST

/* Many entries in few buckets: chains, removal from the middle of a chain
 * and of the all-list, in every order. */
START_TEST(table_many_collisions)
{
	struct alloc_table t;
	struct alloc *a[200];
	struct five_tuple k;

	ck_assert_int_eq(alloc_table_init(&t, 3), 0); /* rounded up to 4 */
	ck_assert_uint_eq(t.nbuckets, 4);
	for (int i = 0; i < 200; i++) {
		k = key(i % 2 ? &listener_a : &listener_b, NULL, i % 3 ? "10.0.0.1" : "2001:db8::1",
			(uint16_t)(1000 + i));
		a[i] = alloc_table_add(&t, &k, (uint64_t)i);
		ck_assert_ptr_nonnull(a[i]);
	}
	ck_assert_uint_eq(t.count, 200);
	/* Remove every third, then check every one. */
	for (int i = 0; i < 200; i += 3)
		alloc_table_remove(&t, a[i]);
	for (int i = 0; i < 200; i++) {
		k = key(i % 2 ? &listener_a : &listener_b, NULL, i % 3 ? "10.0.0.1" : "2001:db8::1",
			(uint16_t)(1000 + i));
		if (i % 3 == 0)
			ck_assert_ptr_null(alloc_table_find(&t, &k));
		else
			ck_assert_ptr_eq(alloc_table_find(&t, &k), a[i]);
	}
	unsigned n = 0;
	for (struct alloc *p = t.all; p; p = p->next) {
		if (p->next)
			ck_assert_ptr_eq(p->next->prev, p);
		n++;
	}
	ck_assert_uint_eq(n, t.count);
	ck_assert_uint_eq(t.count, 200 - 67);
	alloc_table_free(&t);
	ck_assert_uint_eq(t.count, 0);
}
END_TEST

/* Lifetime: alive at expires - 1, gone at expires exactly. */
START_TEST(table_expire_at_boundary)
{
	struct alloc_table t;
	struct five_tuple k1 = key(&listener_a, NULL, "198.51.100.10", 1);
	struct five_tuple k2 = key(&listener_a, NULL, "198.51.100.10", 2);
	struct five_tuple k3 = key(&listener_a, NULL, "2001:db8::10", 3);
	struct reaped r = { &t, 0 };
	const uint64_t t0 = 1000000, life = TURN_DEFAULT_LIFETIME_S * 1000ull;

	ck_assert_int_eq(alloc_table_init(&t, 8), 0);
	alloc_table_add(&t, &k1, t0 + life);
	alloc_table_add(&t, &k2, t0 + life + 1);
	alloc_table_add(&t, &k3, t0 + 2 * life);

	alloc_table_expire(&t, t0 + life - 1, reap, &r);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_uint_eq(t.count, 3);

	alloc_table_expire(&t, t0 + life, reap, &r);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_ptr_null(alloc_table_find(&t, &k1));
	ck_assert_ptr_nonnull(alloc_table_find(&t, &k2));

	alloc_table_expire(&t, t0 + life + 1, reap, &r);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_ptr_null(alloc_table_find(&t, &k2));
	ck_assert_ptr_nonnull(alloc_table_find(&t, &k3));

	/* A refresh (new expires) keeps it past the old end. */
	struct alloc *a3 = alloc_table_find(&t, &k3);
	a3->expires = t0 + 3 * life;
	alloc_table_expire(&t, t0 + 2 * life, reap, &r);
	ck_assert_uint_eq(r.n, 2);
	/* Refresh with lifetime 0 is expires = now: gone on the next sweep. */
	a3->expires = t0 + 2 * life + 5;
	alloc_table_expire(&t, t0 + 2 * life + 5, reap, &r);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(t.count, 0);
	ck_assert_ptr_null(t.all);
	alloc_table_free(&t);
}
END_TEST

/* The sweep also drops the expired permissions and the channels past their
 * quarantine of the allocations that stay. */
START_TEST(table_expire_prunes_the_living)
{
	struct alloc_table t;
	struct alloc *a = lone(&t);
	struct reaped r = { &t, 0 };
	struct peer p1 = peer("192.0.2.1", 1), p2 = peer("192.0.2.2", 2);

	ck_assert_int_eq(alloc_perm_add(a, &p1, 0), 0);
	ck_assert_int_eq(alloc_perm_add(a, &p2, 100000), 0);
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &p1, 0), 0);
	ck_assert_uint_eq(a->nperms, 2);
	ck_assert_uint_eq(a->nchans, 1);

	alloc_table_expire(&t, TURN_PERM_LIFETIME_MS, reap, &r);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_uint_eq(a->nperms, 1);
	ck_assert(!alloc_perm_has(a, &p1, TURN_PERM_LIFETIME_MS));
	ck_assert(alloc_perm_has(a, &p2, TURN_PERM_LIFETIME_MS));

	/* The channel is kept while quarantined, dropped after. */
	alloc_table_expire(&t, TURN_CHANNEL_LIFETIME_MS + TURN_CHANNEL_QUARANTINE_MS - 1, reap, &r);
	ck_assert_uint_eq(a->nchans, 1);
	alloc_table_expire(&t, TURN_CHANNEL_LIFETIME_MS + TURN_CHANNEL_QUARANTINE_MS, reap, &r);
	ck_assert_uint_eq(a->nchans, 0);
	ck_assert_uint_eq(a->nperms, 0);
	alloc_table_free(&t);
}
END_TEST

START_TEST(peer_conversions)
{
	struct sockaddr_storage in = sa("2001:db8:99::3", 3480), out;
	struct peer p;

	peer_from_sockaddr(&p, (const struct sockaddr *)&in);
	ck_assert_uint_eq(p.family, AF_INET6);
	ck_assert_uint_eq(p.port, 3480);
	peer_to_sockaddr(&p, &out);
	ck_assert(netaddr_equal((const struct sockaddr *)&in, (const struct sockaddr *)&out));

	in = sa("10.99.0.3", 3480);
	peer_from_sockaddr(&p, (const struct sockaddr *)&in);
	ck_assert_uint_eq(p.family, AF_INET);
	ck_assert_uint_eq(p.ip[0], 10);
	ck_assert_uint_eq(p.ip[3], 3);
	peer_to_sockaddr(&p, &out);
	ck_assert(netaddr_equal((const struct sockaddr *)&in, (const struct sockaddr *)&out));

	struct peer a = peer("10.99.0.3", 1), b = peer("10.99.0.3", 2);
	struct peer c = peer("::ffff:10.99.0.3", 1), d = peer("10.99.0.4", 1);
	ck_assert(peer_same_ip(&a, &b));
	ck_assert(!peer_same(&a, &b));
	ck_assert(peer_same(&a, &a));
	ck_assert(!peer_same_ip(&a, &c)); /* families differ */
	ck_assert(!peer_same_ip(&a, &d));
}
END_TEST

/* ---- permissions: 300 s, per IP ---- */

START_TEST(perm_lifetime_and_refresh)
{
	struct alloc *a = lone_alloc;
	struct peer p = peer("192.0.2.7", 5000);
	const uint64_t t0 = 5000;

	ck_assert_int_eq(TURN_PERM_LIFETIME_MS, 300000);
	ck_assert(!alloc_perm_has(a, &p, t0));
	ck_assert_int_eq(alloc_perm_add(a, &p, t0), 0);
	ck_assert(alloc_perm_has(a, &p, t0));
	ck_assert(alloc_perm_has(a, &p, t0 + TURN_PERM_LIFETIME_MS - 1));
	ck_assert(!alloc_perm_has(a, &p, t0 + TURN_PERM_LIFETIME_MS));

	/* Refreshed at t0 + 200 s: good for 300 s from then, one entry. */
	ck_assert_int_eq(alloc_perm_add(a, &p, t0 + 200000), 0);
	ck_assert_uint_eq(a->nperms, 1);
	ck_assert(alloc_perm_has(a, &p, t0 + TURN_PERM_LIFETIME_MS));
	ck_assert(alloc_perm_has(a, &p, t0 + 200000 + TURN_PERM_LIFETIME_MS - 1));
	ck_assert(!alloc_perm_has(a, &p, t0 + 200000 + TURN_PERM_LIFETIME_MS));

	/* Expired, then installed again: works again. */
	ck_assert_int_eq(alloc_perm_add(a, &p, t0 + 10000000), 0);
	ck_assert(alloc_perm_has(a, &p, t0 + 10000000));
	ck_assert_uint_eq(a->nperms, 1);
}
END_TEST

START_TEST(perm_per_ip_not_port)
{
	struct alloc *a = lone_alloc;
	struct peer p = peer("192.0.2.7", 5000), other_port = peer("192.0.2.7", 6001);
	struct peer other_ip = peer("192.0.2.8", 5000);

	ck_assert_int_eq(alloc_perm_add(a, &p, 0), 0);
	ck_assert(alloc_perm_has(a, &other_port, 0));
	ck_assert(!alloc_perm_has(a, &other_ip, 0));
	/* Adding it through another port refreshes the same entry. */
	ck_assert_int_eq(alloc_perm_add(a, &other_port, 100000), 0);
	ck_assert_uint_eq(a->nperms, 1);
	ck_assert(alloc_perm_has(a, &p, TURN_PERM_LIFETIME_MS + 1));
}
END_TEST

START_TEST(perm_v4_v6_distinct)
{
	struct alloc *a = lone_alloc;
	struct peer v4 = peer("10.99.0.3", 1), mapped = peer("::ffff:10.99.0.3", 1);
	struct peer compat = peer("::10.99.0.3", 1), v6 = peer("2001:db8:99::3", 1);
	struct peer v6b = peer("2001:db8:99::4", 1);

	ck_assert_int_eq(alloc_perm_add(a, &v4, 0), 0);
	ck_assert(!alloc_perm_has(a, &mapped, 0));
	ck_assert(!alloc_perm_has(a, &compat, 0));
	ck_assert(!alloc_perm_has(a, &v6, 0));
	ck_assert_int_eq(alloc_perm_add(a, &v6, 0), 0);
	ck_assert(alloc_perm_has(a, &v6, 0));
	ck_assert(!alloc_perm_has(a, &v6b, 0));
	ck_assert(alloc_perm_has(a, &v4, 0));
	ck_assert_uint_eq(a->nperms, 2);
	/* An IPv4 address whose bytes begin an IPv6 one is not that one. */
	struct peer v6_like = peer("a63:3::", 1); /* 0a 63 00 03 ... */
	ck_assert(!alloc_perm_has(a, &v6_like, 0));
}
END_TEST

START_TEST(perm_max)
{
	struct alloc *a = lone_alloc;
	struct peer p;
	char ip[32];

	for (int i = 0; i < ALLOC_MAX_PERMS; i++) {
		snprintf(ip, sizeof ip, "192.0.2.%d", i + 1);
		p = peer(ip, 1);
		ck_assert_int_eq(alloc_perm_add(a, &p, (uint64_t)i), 0);
	}
	ck_assert_uint_eq(a->nperms, ALLOC_MAX_PERMS);
	p = peer("198.51.100.99", 1);
	ck_assert_int_eq(alloc_perm_add(a, &p, 100), -1);
	ck_assert(!alloc_perm_has(a, &p, 100));
	/* Refreshing one already there is fine when full. */
	struct peer first = peer("192.0.2.1", 9);
	ck_assert_int_eq(alloc_perm_add(a, &first, 100), 0);
	/* Once the oldest (installed at 1 ms) expires, there is room. */
	ck_assert_int_eq(alloc_perm_add(a, &p, 1 + TURN_PERM_LIFETIME_MS - 1), -1);
	ck_assert_int_eq(alloc_perm_add(a, &p, 1 + TURN_PERM_LIFETIME_MS), 0);
	ck_assert(alloc_perm_has(a, &p, 1 + TURN_PERM_LIFETIME_MS));
	ck_assert(alloc_perm_has(a, &first, 1 + TURN_PERM_LIFETIME_MS));
}
END_TEST

/* ---- channels: 600 s, RFC 8656 §12 ---- */

START_TEST(chan_bind_lifetime_refresh)
{
	struct alloc *a = lone_alloc;
	struct peer p = peer("192.0.2.7", 5000);
	const uint64_t t0 = 7;

	ck_assert_int_eq(TURN_CHANNEL_LIFETIME_MS, 600000);
	ck_assert_ptr_null(alloc_chan_by_num(a, 0x4000, t0));
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &p, t0), 0);
	const struct channel *c = alloc_chan_by_num(a, 0x4000, t0);
	ck_assert_ptr_nonnull(c);
	ck_assert(peer_same(&c->peer, &p));
	ck_assert_ptr_eq(alloc_chan_by_peer(a, &p, t0), c);
	ck_assert_ptr_nonnull(alloc_chan_by_num(a, 0x4000, t0 + TURN_CHANNEL_LIFETIME_MS - 1));
	ck_assert_ptr_null(alloc_chan_by_num(a, 0x4000, t0 + TURN_CHANNEL_LIFETIME_MS));
	ck_assert_ptr_null(alloc_chan_by_peer(a, &p, t0 + TURN_CHANNEL_LIFETIME_MS));

	/* Rebinding the same pair refreshes it (one entry, new end). */
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &p, t0 + 500000), 0);
	ck_assert_uint_eq(a->nchans, 1);
	ck_assert_ptr_nonnull(alloc_chan_by_num(a, 0x4000, t0 + 500000 + TURN_CHANNEL_LIFETIME_MS - 1));
	ck_assert_ptr_null(alloc_chan_by_num(a, 0x4000, t0 + 500000 + TURN_CHANNEL_LIFETIME_MS));

	/* Channels are per transport address: another port is another peer. */
	struct peer other_port = peer("192.0.2.7", 5001);
	ck_assert_ptr_null(alloc_chan_by_peer(a, &other_port, t0));
	ck_assert_int_eq(alloc_chan_bind(a, 0x4001, &other_port, t0), 0);
	ck_assert_uint_eq(alloc_chan_by_peer(a, &other_port, t0)->num, 0x4001);
	ck_assert_uint_eq(alloc_chan_by_peer(a, &p, t0)->num, 0x4000);
}
END_TEST

START_TEST(chan_conflicts)
{
	struct alloc *a = lone_alloc;
	struct peer p = peer("192.0.2.7", 5000), q = peer("192.0.2.8", 5000);
	struct peer p6 = peer("2001:db8::7", 5000);

	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &p, 0), 0);
	/* Number bound to another peer. */
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &q, 1), -1);
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &p6, 1), -1);
	/* Peer bound to another number. */
	ck_assert_int_eq(alloc_chan_bind(a, 0x4001, &p, 1), -1);
	/* Nothing changed. */
	ck_assert_uint_eq(a->nchans, 1);
	ck_assert(peer_same(&alloc_chan_by_num(a, 0x4000, 1)->peer, &p));
	ck_assert_ptr_null(alloc_chan_by_num(a, 0x4001, 1));
	/* Another number for another peer is fine, IPv6 too. */
	ck_assert_int_eq(alloc_chan_bind(a, 0x4001, &q, 1), 0);
	ck_assert_int_eq(alloc_chan_bind(a, 0x7FFF, &p6, 1), 0);
	ck_assert_uint_eq(alloc_chan_by_peer(a, &p6, 1)->num, 0x7FFF);
	/* Now both directions conflict with an existing binding each. */
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &q, 2), -1);
	ck_assert_int_eq(alloc_chan_bind(a, 0x4001, &p, 2), -1);
}
END_TEST

/* After a binding expires, for 5 minutes its number may not name another
 * peer and its peer may not take another number; the same pair may bind
 * again. After the quarantine, both are free. */
START_TEST(chan_quarantine)
{
	struct alloc *a = lone_alloc;
	struct peer p = peer("192.0.2.7", 5000), q = peer("192.0.2.8", 5000);
	const uint64_t end = TURN_CHANNEL_LIFETIME_MS, qend = end + TURN_CHANNEL_QUARANTINE_MS;

	ck_assert_int_eq(TURN_CHANNEL_QUARANTINE_MS, 300000);
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &p, 0), 0);
	/* Expired: not usable for data, but reserved. */
	ck_assert_ptr_null(alloc_chan_by_num(a, 0x4000, end));
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &q, end), -1);
	ck_assert_int_eq(alloc_chan_bind(a, 0x4001, &p, end), -1);
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &q, qend - 1), -1);
	ck_assert_int_eq(alloc_chan_bind(a, 0x4001, &p, qend - 1), -1);
	/* Quarantine over: the number is free for another peer... */
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &q, qend), 0);
	ck_assert(peer_same(&alloc_chan_by_num(a, 0x4000, qend)->peer, &q));
	/* ...and the old peer may take another number. */
	ck_assert_int_eq(alloc_chan_bind(a, 0x4001, &p, qend), 0);
	ck_assert_uint_eq(a->nchans, 2);
}
END_TEST

START_TEST(chan_same_pair_rebinds_in_quarantine)
{
	struct alloc *a = lone_alloc;
	struct peer p = peer("192.0.2.7", 5000), q = peer("192.0.2.8", 5000);
	const uint64_t end = TURN_CHANNEL_LIFETIME_MS;

	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &p, 0), 0);
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &p, end + 1000), 0);
	ck_assert_uint_eq(a->nchans, 1);
	const struct channel *c = alloc_chan_by_num(a, 0x4000, end + 1000);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_eq(alloc_chan_by_peer(a, &p, end + 1000 + TURN_CHANNEL_LIFETIME_MS - 1), c);
	ck_assert_ptr_null(alloc_chan_by_peer(a, &p, end + 1000 + TURN_CHANNEL_LIFETIME_MS));
	/* Bound again, so the conflicts hold again. */
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &q, end + 2000), -1);
}
END_TEST

START_TEST(chan_max)
{
	struct alloc *a = lone_alloc;
	struct peer p;

	for (int i = 0; i < ALLOC_MAX_CHANNELS; i++) {
		p = peer("192.0.2.1", (uint16_t)(10000 + i));
		ck_assert_int_eq(alloc_chan_bind(a, (uint16_t)(0x4000 + i), &p, 0), 0);
	}
	ck_assert_uint_eq(a->nchans, ALLOC_MAX_CHANNELS);
	p = peer("192.0.2.2", 1);
	ck_assert_int_eq(alloc_chan_bind(a, 0x4FFF, &p, 0), -2);
	ck_assert_ptr_null(alloc_chan_by_num(a, 0x4FFF, 0));
	/* Refreshing one already bound still works when full. */
	struct peer first = peer("192.0.2.1", 10000);
	ck_assert_int_eq(alloc_chan_bind(a, 0x4000, &first, 1), 0);
	/* Expired but quarantined bindings still hold their slots... */
	const uint64_t qend = TURN_CHANNEL_LIFETIME_MS + TURN_CHANNEL_QUARANTINE_MS;
	ck_assert_int_eq(alloc_chan_bind(a, 0x4FFF, &p, qend - 1), -2);
	/* ...and free them after the quarantine (all but the refreshed one). */
	ck_assert_int_eq(alloc_chan_bind(a, 0x4FFF, &p, qend), 0);
	ck_assert_uint_eq(a->nchans, 2);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("turn_alloc");
	TCase *tab = tcase_create("table");
	TCase *perm = tcase_create("permission");
	TCase *chan = tcase_create("channel");

	tcase_add_test(tab, table_insert_find_remove_v4);
	tcase_add_test(tab, table_insert_find_remove_v6);
	tcase_add_test(tab, table_same_client_two_listeners);
	tcase_add_test(tab, table_mux_index);
	tcase_add_test(tab, table_tcp_conn_key);
	tcase_add_test(tab, table_many_collisions);
	tcase_add_test(tab, table_expire_at_boundary);
	tcase_add_test(tab, table_expire_prunes_the_living);
	tcase_add_test(tab, peer_conversions);
	tcase_add_test(perm, perm_lifetime_and_refresh);
	tcase_add_test(perm, perm_per_ip_not_port);
	tcase_add_test(perm, perm_v4_v6_distinct);
	tcase_add_test(perm, perm_max);
	tcase_add_test(chan, chan_bind_lifetime_refresh);
	tcase_add_test(chan, chan_conflicts);
	tcase_add_test(chan, chan_quarantine);
	tcase_add_test(chan, chan_same_pair_rebinds_in_quarantine);
	tcase_add_test(chan, chan_max);
	tcase_add_checked_fixture(perm, lone_setup, lone_teardown);
	tcase_add_checked_fixture(chan, lone_setup, lone_teardown);
	suite_add_tcase(s, tab);
	suite_add_tcase(s, perm);
	suite_add_tcase(s, chan);
	return s;
}
