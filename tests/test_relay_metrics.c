/* test_relay_metrics.c: the /metrics listener's bounds (metrics.c, R18).
 * A connection past --metrics-max-conns is taken off the backlog and
 * closed, counted; a request that never completes is closed after the
 * timeout, counted; and a connection the listener is closing no longer
 * holds a slot: a client that connects the moment the server hung up on
 * another is served, not refused (the stress suite's A12 met this as a
 * rare failed GET). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "metrics.h"

#define GET "GET /metrics HTTP/1.0\r\n\r\n"

struct rig {
	uv_loop_t loop;
	struct metrics *m;
	struct sockaddr_in addr;
};

/* Listen on a loopback port nobody holds (a few tries: another process
 * may take the one the kernel just handed out). */
static void rig_up(struct rig *r, uint32_t timeout_ms, uint32_t max_conns)
{
	int err = UV_EADDRINUSE;

	memset(r, 0, sizeof *r);
	ck_assert_int_eq(uv_loop_init(&r->loop), 0);
	for (int i = 0; i < 5 && err == UV_EADDRINUSE; i++) {
		socklen_t len = sizeof r->addr;
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		r->addr = (struct sockaddr_in){.sin_family = AF_INET,
					       .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&r->addr, sizeof r->addr), 0);
		getsockname(fd, (struct sockaddr *)&r->addr, &len);
		close(fd);
		err = metrics_start(&r->loop, (struct sockaddr *)&r->addr, NULL, 0, timeout_ms,
				    max_conns, &r->m);
	}
	ck_assert_int_eq(err, 0);
}

static void rig_down(struct rig *r)
{
	metrics_close(r->m);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&r->loop), 0);
}

/* A blocking connect: complete in the kernel's backlog before any accept. */
static int dial(const struct rig *r)
{
	struct timeval tv = {.tv_sec = 2};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_eq(connect(fd, (const struct sockaddr *)&r->addr, sizeof r->addr), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

static int hung_up(int fd)
{
	struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void spin_ms(struct rig *r, int ms)
{
	for (int i = 0; i < ms; i++) {
		uv_run(&r->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

/* What came back on fd, NUL-terminated, until the server closed it. */
static ssize_t answer(struct rig *r, int fd, char *buf, size_t cap)
{
	size_t got = 0;

	for (int i = 0; i < 2000 && got < cap - 1; i++) {
		ssize_t n = recv(fd, buf + got, cap - 1 - got, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;
		if (n > 0)
			got += (size_t)n;
		else
			spin_ms(r, 1);
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

/* The value of a line "avedge_limit_total{limit="NAME"} N". */
static long limit_count(const char *body, const char *name)
{
	char key[96];
	const char *p;

	snprintf(key, sizeof key, "avedge_limit_total{limit=\"%s\"} ", name);
	p = strstr(body, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static void get(struct rig *r, char *buf, size_t cap)
{
	int fd = dial(r);

	ck_assert_int_eq(send(fd, GET, strlen(GET), 0), (ssize_t)strlen(GET));
	answer(r, fd, buf, cap);
	close(fd);
	ck_assert_msg(strncmp(buf, "HTTP/1.0 200", 12) == 0, "GET /metrics: \"%.40s\"", buf);
}

START_TEST(cap_and_timeout_counted)
{
	struct rig r;
	char buf[16384];
	int held[2], extra;

	rig_up(&r, 200, 2);
	for (int i = 0; i < 2; i++) {
		held[i] = dial(&r);
		send(held[i], "GET /me", 7, 0);
	}
	spin_ms(&r, 20);
	extra = dial(&r);
	spin_ms(&r, 20);
	ck_assert_msg(answer(&r, extra, buf, sizeof buf) == 0 && hung_up(extra),
		      "a connection past the cap was kept open");
	close(extra);
	/* The held ones go when their requests miss the 200 ms: the sweep
	 * runs every 500 ms. */
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < 1500 && !hung_up(held[i]); k++)
			spin_ms(&r, 1);
		ck_assert_msg(hung_up(held[i]), "an unfinished request outlived the timeout");
		close(held[i]);
	}
	get(&r, buf, sizeof buf);
	ck_assert_int_eq(limit_count(buf, "metrics_conns"), 1);
	ck_assert_int_eq(limit_count(buf, "metrics_timeout"), 2);
	rig_down(&r);
}
END_TEST

/* Connects the client the moment the server has hung up on `held`, from a
 * prepare callback: in the same loop iteration as that hang-up (libuv
 * runs timers before prepare) or the next one (newer libuv runs them
 * last), always before the closed handle's callback. */
struct race {
	struct rig *r;
	uv_prepare_t prep;
	int held, client;
};

static void connect_after_hangup(uv_prepare_t *p)
{
	struct race *x = p->data;

	if (x->client >= 0 || !hung_up(x->held))
		return;
	x->client = dial(x->r);
	send(x->client, GET, strlen(GET), 0);
	uv_prepare_stop(p);
}

START_TEST(closing_frees_the_slot)
{
	struct rig r;
	struct race x;
	char buf[16384];

	rig_up(&r, 100, 1);
	x = (struct race){.r = &r, .held = dial(&r), .client = -1};
	send(x.held, "GET /me", 7, 0);
	uv_prepare_init(&r.loop, &x.prep);
	x.prep.data = &x;
	uv_prepare_start(&x.prep, connect_after_hangup);
	for (int k = 0; k < 1500 && x.client < 0; k++)
		spin_ms(&r, 1);
	ck_assert_msg(x.client >= 0, "the held connection was never timed out");
	answer(&r, x.client, buf, sizeof buf);
	ck_assert_msg(strncmp(buf, "HTTP/1.0 200", 12) == 0,
		      "connected as the server hung up on the only other connection, "
		      "and refused: \"%.40s\"", buf);
	ck_assert_int_eq(limit_count(buf, "metrics_conns"), 0);
	close(x.client);
	close(x.held);
	uv_close((uv_handle_t *)&x.prep, NULL);
	rig_down(&r);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("relay_metrics");
	TCase *tc = tcase_create("bounds");

	tcase_add_test(tc, cap_and_timeout_counted);
	tcase_add_test(tc, closing_frees_the_slot);
	suite_add_tcase(s, tc);
	return s;
}
