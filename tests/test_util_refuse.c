/* test_util_refuse.c: a listener that refuses connections for want of
 * memory (util/refuse.c) takes each off its backlog, closed, and goes on
 * listening: several at once on one listener, on several listeners in
 * the same loop iteration (more than any fixed line would hold), TCP and
 * pipe; and a listener closed while one of its refusals waits is never
 * touched again (ASan would see it). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_main.h"
#include "util/refuse.h"

#define CLIENTS 3

struct lst {
	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	struct refuse_wait w;
	int refuse, close_after; /* close_after: close it at that refusal */
	unsigned refused, accepted;
	uv_tcp_t conn;
	struct sockaddr_storage addr;
	char path[108];
};

static void freed(uv_handle_t *h) { free(h->data); }

static void on_conn(uv_stream_t *s, int status)
{
	struct lst *l = s->data;

	ck_assert_int_eq(status, 0);
	if (l->refuse) {
		ck_assert_int_eq(accept_refuse(s, &l->w), 0);
		if (++l->refused == (unsigned)l->close_after) {
			accept_forget(&l->w);
			uv_close((uv_handle_t *)s, freed);
		}
		return;
	}
	uv_tcp_init(s->loop, &l->conn);
	ck_assert_int_eq(uv_accept(s, (uv_stream_t *)&l->conn), 0);
	l->accepted++;
	uv_close((uv_handle_t *)&l->conn, NULL);
}

static struct lst *tcp_listener(uv_loop_t *loop)
{
	struct lst *l = calloc(1, sizeof *l);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int len = sizeof l->addr;

	uv_tcp_init(loop, &l->h.tcp);
	l->h.tcp.data = l;
	l->refuse = 1;
	ck_assert_int_eq(uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&sin, 0), 0);
	ck_assert_int_eq(uv_listen((uv_stream_t *)&l->h.tcp, 16, on_conn), 0);
	uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&l->addr, &len);
	return l;
}

static struct lst *pipe_listener(uv_loop_t *loop)
{
	struct lst *l = calloc(1, sizeof *l);

	snprintf(l->path, sizeof l->path, "/tmp/test_util_refuse.%d.sock", (int)getpid());
	unlink(l->path);
	uv_pipe_init(loop, &l->h.pipe, 0);
	l->h.pipe.data = l;
	l->refuse = 1;
	ck_assert_int_eq(uv_pipe_bind(&l->h.pipe, l->path), 0);
	ck_assert_int_eq(uv_listen((uv_stream_t *)&l->h.pipe, 16, on_conn), 0);
	return l;
}

/* A blocking connect: done by the kernel's backlog, before any accept. */
static int dial(const struct lst *l)
{
	struct timeval tv = { .tv_sec = 2 };
	int fd;

	if (l->path[0]) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		strcpy(sun.sun_path, l->path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	} else {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		ck_assert_int_eq(connect(fd, (const struct sockaddr *)&l->addr, sizeof(struct sockaddr_in)), 0);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

/* Closed by the far end: EOF or a reset, not a timeout. */
static void assert_closed(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, 0);

	ck_assert_msg(n == 0 || (n < 0 && errno == ECONNRESET),
		      "a refused connection was left open (recv %zd, %s)", n, strerror(errno));
	close(fd);
}

static void run_until(uv_loop_t *loop, const unsigned *count, unsigned want)
{
	for (int i = 0; i < 500 && *count < want; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	ck_assert_uint_eq(*count, want);
}

START_TEST(refused_then_served)
{
	uv_loop_t loop;
	struct lst *l[3];
	int fds[3][CLIENTS];

	uv_loop_init(&loop);
	l[0] = tcp_listener(&loop);
	l[1] = tcp_listener(&loop);
	l[2] = pipe_listener(&loop);
	/* All queued before the loop runs: one iteration sees every listener
	 * readable with several connections each, so most refusals find the
	 * handle still closing and wait for it. */
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < CLIENTS; k++)
			fds[i][k] = dial(l[i]);
	for (int i = 0; i < 3; i++)
		run_until(&loop, &l[i]->refused, CLIENTS);
	/* The last refusals counted may still wait for the handle: a few
	 * more iterations serve them (close callbacks run once each). */
	for (int i = 0; i < 10; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < CLIENTS; k++)
			assert_closed(fds[i][k]);
	/* Still listening: the next connection is served. */
	for (int i = 0; i < 3; i++) {
		int fd;
		l[i]->refuse = 0;
		fd = dial(l[i]);
		run_until(&loop, &l[i]->accepted, 1);
		close(fd);
	}
	unlink(l[2]->path);
	for (int i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&l[i]->h, freed);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* Many listeners readable at once, a connection each: every one is
 * refused and listens on, however many wait for the handle together. */
START_TEST(many_listeners_at_once)
{
	enum { N = 40 };
	uv_loop_t loop;
	struct lst *l[N];
	int fds[N];

	uv_loop_init(&loop);
	for (int i = 0; i < N; i++)
		l[i] = tcp_listener(&loop);
	for (int i = 0; i < N; i++)
		fds[i] = dial(l[i]);
	for (int i = 0; i < N; i++)
		run_until(&loop, &l[i]->refused, 1);
	/* One waiting listener is served per loop iteration (the handle's
	 * close completes in the iteration's close phase). */
	for (int i = 0; i < N + 10; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	for (int i = 0; i < N; i++)
		assert_closed(fds[i]);
	for (int i = 0; i < N; i++) {
		l[i]->refuse = 0;
		fds[i] = dial(l[i]);
	}
	for (int i = 0; i < N; i++) {
		run_until(&loop, &l[i]->accepted, 1);
		close(fds[i]);
	}
	for (int i = 0; i < N; i++)
		uv_close((uv_handle_t *)&l[i]->h, freed);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(closed_while_waiting)
{
	uv_loop_t loop;
	struct lst *l;
	int fds[CLIENTS];
	unsigned spins = 0;

	uv_loop_init(&loop);
	l = tcp_listener(&loop);
	l->close_after = 2; /* the second refusal waits for the handle */
	for (int k = 0; k < CLIENTS; k++)
		fds[k] = dial(l);
	/* l is freed in its close callback, before the refusing handle's
	 * own: a refusal still waiting would read freed memory. */
	while (uv_run(&loop, UV_RUN_NOWAIT) && ++spins < 100)
		;
	ck_assert_uint_lt(spins, 100);
	for (int k = 0; k < CLIENTS; k++)
		assert_closed(fds[k]);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("util_refuse");
	TCase *tc = tcase_create("refuse");

	tcase_add_test(tc, refused_then_served);
	tcase_add_test(tc, many_listeners_at_once);
	tcase_add_test(tc, closed_while_waiting);
	suite_add_tcase(s, tc);
	return s;
}
