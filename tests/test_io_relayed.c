/* test_io_relayed.c: relayed UDP sockets read through the worker's ring
 * (_i 1) and by recvmmsg (_i 0). A socket closed by a datagram handed up
 * earlier in the same round of reads gets nothing more: its tag (the
 * allocation) is gone by then. A ring that fails during a round of reads
 * still hands up the datagrams it had read. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "uring_here.h"
#include "io/relayed.h"
#include "io/udpbatch.h"

struct pair {
	struct relayed *r[2];
	int closed[2];
	unsigned got[2];
};

static void on_sent(void *arg, void *tag, const struct sockaddr *to, const uint8_t *data, size_t len,
		    int err)
{
	(void)arg, (void)tag, (void)to, (void)data, (void)len, (void)err;
}

/* Whichever socket's datagram comes up first closes the other, as a
 * handler freeing that allocation would. */
static void on_recv(void *arg, void *tag, uint8_t *data, size_t len, size_t room,
		    const struct sockaddr *from)
{
	struct pair *p = arg;
	int me = tag == &p->r[1];

	(void)data, (void)len, (void)room, (void)from;
	ck_assert_msg(!p->closed[me], "a datagram for a closed relayed socket");
	p->got[me]++;
	if (!p->closed[!me]) {
		p->closed[!me] = 1;
		relayed_close(p->r[!me]);
	}
}

START_TEST(closed_in_the_same_round_gets_nothing)
{
	struct udp_batch *b = malloc(sizeof *b);
	struct relayed_rx *rx = malloc(sizeof *rx);
	struct port_range ports;
	struct sockaddr_in *bind4 = (struct sockaddr_in *)&ports.bind[0], to;
	struct relayed_env env;
	struct pair p;
	uv_loop_t loop;
	int fd;

	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(rx);
	memset(&ports, 0, sizeof ports);
	memset(&p, 0, sizeof p);
	memset(rx, 0, sizeof *rx);
	bind4->sin_family = AF_INET;
	bind4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ports.has[0] = 1;
	ports.lo = 42000;
	ports.hi = 42999;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	udp_batch_init(b, &loop, on_sent, NULL, _i);
	ck_assert_int_eq(b->uring_ok, _i && uring_here());
	relayed_rx_init(rx, &loop, b);
	env = (struct relayed_env){&loop, &ports, b, rx};
	for (int i = 0; i < 2; i++) {
		struct relayed_opts o = {.family_mask = 1};
		ck_assert_int_eq(relayed_open(&p.r[i], &env, &o, on_recv, &p, &p.r[i]), 0);
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	to = *bind4;
	for (int i = 0; i < 2; i++) {
		struct sockaddr_storage a;
		socklen_t len = sizeof a;
		ck_assert_int_eq(getsockname(p.r[i]->fd[0], (struct sockaddr *)&a, &len), 0);
		to.sin_port = ((struct sockaddr_in *)&a)->sin_port;
		ck_assert_int_eq(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof to), 1);
	}
	/* Both readable in one poll phase: one round. */
	for (int i = 0; i < 50 && !(p.got[0] + p.got[1]); i++) {
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	ck_assert_uint_eq(p.got[0] + p.got[1], 1);
	ck_assert_int_eq(b->uring_ok, _i && uring_here()); /* the ring did not fail */
	for (int i = 0; i < 2; i++)
		if (!p.closed[i])
			relayed_close(p.r[i]);
	close(fd);
	relayed_rx_close(rx);
	udp_batch_close(b);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	free(rx);
	free(b);
}
END_TEST

static void count_recv(void *arg, void *tag, uint8_t *data, size_t len, size_t room,
		       const struct sockaddr *from)
{
	(void)tag, (void)data, (void)len, (void)room, (void)from;
	(*(unsigned *)arg)++;
}

/* The round's first read is linked behind a poll that never fires, so it
 * cannot complete and the ring is given up; the second read found the
 * datagram, which must go up, not be lost. */
START_TEST(ring_failing_mid_round_loses_nothing)
{
	struct udp_batch *b = malloc(sizeof *b);
	struct relayed_rx *rx = calloc(1, sizeof *rx);
	struct port_range ports;
	struct sockaddr_in *bind4 = (struct sockaddr_in *)&ports.bind[0], to;
	struct sockaddr_storage a;
	socklen_t len = sizeof a;
	struct relayed_env env;
	struct relayed_opts o = {.family_mask = 1};
	struct relayed *r;
	struct io_uring_sqe *sqe;
	unsigned got = 0;
	uv_loop_t loop;
	int fd, never[2];

	if (!uring_here()) { /* no ring to fail */
		free(b);
		free(rx);
		return;
	}
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(rx);
	memset(&ports, 0, sizeof ports);
	bind4->sin_family = AF_INET;
	bind4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ports.has[0] = 1;
	ports.lo = 42000;
	ports.hi = 42999;
	ck_assert_int_eq(pipe(never), 0);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	udp_batch_init(b, &loop, on_sent, NULL, 1);
	ck_assert_int_eq(b->uring_ok, 1);
	relayed_rx_init(rx, &loop, b);
	env = (struct relayed_env){&loop, &ports, b, rx};
	ck_assert_int_eq(relayed_open(&r, &env, &o, count_recv, &got, NULL), 0);
	ck_assert_int_eq(getsockname(r->fd[0], (struct sockaddr *)&a, &len), 0);
	to = *bind4;
	to.sin_port = ((struct sockaddr_in *)&a)->sin_port;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof to), 1);
	ck_assert_ptr_nonnull(sqe = uring_get_sqe(&b->ring));
	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = never[0];
	sqe->poll32_events = POLLIN;
	sqe->flags = IOSQE_IO_LINK;
	for (int i = 0; i < 100 && !got; i++) {
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	ck_assert_int_eq(b->uring_ok, 0); /* given up */
	ck_assert_uint_eq(got, 1);
	/* Without the ring: read by recvmmsg. */
	ck_assert_int_eq(sendto(fd, "y", 1, 0, (struct sockaddr *)&to, sizeof to), 1);
	for (int i = 0; i < 100 && got < 2; i++) {
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	ck_assert_uint_eq(got, 2);
	relayed_close(r);
	close(fd);
	relayed_rx_close(rx);
	udp_batch_close(b);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	close(never[0]);
	close(never[1]);
	free(rx);
	free(b);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("io_relayed");
	TCase *tc = tcase_create("relayed");

	tcase_add_loop_test(tc, closed_in_the_same_round_gets_nothing, 0, 2);
	tcase_add_test(tc, ring_failing_mid_round_loses_nothing);
	suite_add_tcase(s, tc);
	return s;
}
