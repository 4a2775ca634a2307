/* test_relay_httpreq.c: /metrics' request head on libhttp-parser
 * (relay/httpreq.c): complete, incomplete, malformed, byte by byte, and
 * the path and method /metrics answers by. */
#include <string.h>

#include "check_main.h"
#include "httpreq.h"

static struct httpreq r;

static int feed(const char *s) { return httpreq_feed(&r, s, strlen(s)); }

/* Complete heads, and what /metrics answers by: the method, the path. */
static const struct {
	const char *req, *path;
	int get, is_path;
} heads[] = {
	{"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n", "/metrics", 1, 1},
	{"GET /metrics HTTP/1.0\r\n\r\n", "/metric", 1, 0},
	{"GET /metrics HTTP/1.0\r\n\r\n", "/", 1, 0},
	{"GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", "/metrics", 1, 1}, /* the query aside */
	{"GET / HTTP/1.0\n\n", "/", 1, 1},                                   /* bare newlines */
	{"POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\n", "/metrics", 0, 0},
};

START_TEST(complete_heads)
{
	httpreq_init(&r);
	ck_assert_int_eq(feed(heads[_i].req), 1);
	ck_assert_int_eq(httpreq_method_get(&r), heads[_i].get);
	ck_assert_int_eq(httpreq_is_get(&r, heads[_i].path), heads[_i].is_path);
}
END_TEST

/* A slow client: every byte alone; done only at the blank line. */
START_TEST(byte_by_byte)
{
	const char *req = "GET /metrics HTTP/1.1\r\nHost: avedge\r\nAccept: */*\r\n\r\n";
	size_t n = strlen(req);

	httpreq_init(&r);
	for (size_t i = 0; i + 1 < n; i++)
		ck_assert_int_eq(httpreq_feed(&r, req + i, 1), 0);
	ck_assert_int_eq(httpreq_feed(&r, req + n - 1, 1), 1);
	ck_assert(httpreq_is_get(&r, "/metrics"));
}
END_TEST

START_TEST(incomplete_waits)
{
	httpreq_init(&r);
	ck_assert_int_eq(feed("GET /metr"), 0);
	ck_assert_int_eq(feed("ics HTTP/1.0\r\n"), 0);
	ck_assert(!httpreq_method_get(&r)); /* not complete: no verdict */
	ck_assert_int_eq(feed("\r\n"), 1);
}
END_TEST

/* What follows the head (a body, a second request) is not read. */
START_TEST(stops_after_the_head)
{
	httpreq_init(&r);
	ck_assert_int_eq(feed("GET /metrics HTTP/1.1\r\n\r\nGARBAGE \x01\x02"), 1);
	ck_assert_int_eq(feed("more garbage"), 1);
	ck_assert(httpreq_is_get(&r, "/metrics"));
}
END_TEST

START_TEST(malformed)
{
	static const char *const bad[] = {
		"GARBAGE\r\n\r\n",
		"GET /metrics HTTP/9\r\n\r\n",
		"GET /metrics HTTP/1.0\r\nHost x\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01", /* a TLS ClientHello */
		"GET /metrics\x01 HTTP/1.0\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		httpreq_init(&r);
		ck_assert_msg(feed(bad[i]) == -1, "bad request %zu accepted", i);
		ck_assert_ptr_nonnull(httpreq_strerror(&r));
	}
}
END_TEST

START_TEST(url_too_long)
{
	char req[HTTPREQ_URL_MAX + 64];

	httpreq_init(&r);
	memset(req, 'a', sizeof req);
	memcpy(req, "GET /", 5);
	ck_assert_int_eq(httpreq_feed(&r, req, sizeof req), -1);
	ck_assert_str_eq(httpreq_strerror(&r), "URL too long");
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("relay_httpreq");
	TCase *tc = tcase_create("httpreq");

	tcase_add_loop_test(tc, complete_heads, 0, sizeof heads / sizeof heads[0]);
	tcase_add_test(tc, byte_by_byte);
	tcase_add_test(tc, incomplete_waits);
	tcase_add_test(tc, stops_after_the_head);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, url_too_long);
	suite_add_tcase(s, tc);
	return s;
}
