/* test_io_udpbatch.c: the send batch on loopback sockets. Datagrams queued
 * in one iteration arrive whole, in order, with their own lengths, whether
 * they left alone or as one UDP GSO message (a run to one destination,
 * equal sizes, a shorter last one); each is reported sent once. Each test
 * runs twice: sendmmsg per socket (_i 0) and io_uring (_i 1). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "uring_here.h"
#include "io/udpbatch.h"

struct sent_log {
	unsigned ok, failed;
	size_t bytes;
};

static void on_sent(void *arg, void *tag, const struct sockaddr *to, const uint8_t *data, size_t len,
		    int err)
{
	struct sent_log *l = arg;

	if (err)
		l->failed++;
	else
		l->ok++;
	l->bytes += len;
}

/* A UDP socket on 127.0.0.1, any port; its address in *a. */
static int udp_socket(struct sockaddr_in *a)
{
	socklen_t len = sizeof *a;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)a, sizeof *a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)a, &len), 0);
	return fd;
}

static void queue_n(struct udp_batch *b, int fd, const struct sockaddr_in *to, size_t len, uint8_t mark)
{
	uint8_t buf[1500];

	memset(buf, mark, len);
	udp_batch_queue(b, fd, (const struct sockaddr *)to, buf, len, NULL);
}

/* The next datagram on fd has len bytes, all mark. */
static void expect(int fd, size_t len, uint8_t mark)
{
	uint8_t buf[4096];
	ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

	ck_assert_int_eq(n, (ssize_t)len);
	for (ssize_t i = 0; i < n; i++)
		ck_assert_uint_eq(buf[i], mark);
}

START_TEST(runs_arrive_whole_and_in_order)
{
	uv_loop_t loop;
	struct udp_batch *b = calloc(1, sizeof *b);
	struct sent_log log = {0, 0, 0};
	struct sockaddr_in sa, ra, rb;
	int s, r1, r2;
	uint8_t spare[16];
	int use_uring = _i && uring_here(), s2;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	udp_batch_init(b, &loop, on_sent, &log, use_uring);
	/* Where the kernel has io_uring, the ring path is the one tested. */
	ck_assert_int_eq(b->uring_ok, use_uring);
	s = udp_socket(&sa);
	s2 = udp_socket(&sa);
	r1 = udp_socket(&ra);
	r2 = udp_socket(&rb);
	/* r1: five of 100 bytes and a short one (one GSO run); r2 between;
	 * then two of 200 to r1 (another size: another message). */
	for (uint8_t i = 0; i < 5; i++)
		queue_n(b, s, &ra, 100, (uint8_t)(1 + i));
	queue_n(b, s, &ra, 60, 6);
	queue_n(b, s, &rb, 100, 7);
	/* a second sending socket in the same flush: its own group */
	queue_n(b, s2, &rb, 300, 11);
	queue_n(b, s, &ra, 200, 8);
	queue_n(b, s2, &rb, 300, 12);
	queue_n(b, s, &ra, 200, 9);
	queue_n(b, s, &ra, 1400, 10);
	udp_batch_flush(b);
	ck_assert_uint_eq(log.ok, 12);
	ck_assert_uint_eq(log.failed, 0);
	ck_assert_uint_eq(log.bytes, 5 * 100 + 60 + 100 + 2 * 200 + 1400 + 2 * 300);
	ck_assert_int_eq(b->uring_ok, use_uring); /* the ring did not fail */
	/* Loopback segments in software: GSO must not have been given up. */
	ck_assert_int_eq(b->gso, 1);
	for (uint8_t i = 0; i < 5; i++)
		expect(r1, 100, (uint8_t)(1 + i));
	expect(r1, 60, 6);
	expect(r1, 200, 8);
	expect(r1, 200, 9);
	expect(r1, 1400, 10);
	ck_assert_int_lt(recv(r1, spare, sizeof spare, MSG_DONTWAIT), 0);
	/* r2: s's datagram and s2's two (their order between sockets is
	 * the kernel's) */
	for (int k = 0; k < 3; k++) {
		uint8_t buf[4096];
		ssize_t n = recv(r2, buf, sizeof buf, MSG_DONTWAIT);
		ck_assert(n == 100 ? buf[0] == 7 : n == 300 && (buf[0] == 11 || buf[0] == 12));
	}
	ck_assert_int_lt(recv(r2, spare, sizeof spare, MSG_DONTWAIT), 0);
	udp_batch_close(b);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	close(s);
	close(s2);
	close(r1);
	close(r2);
	free(b);
}
END_TEST

/* A full batch flushes itself: more than UDP_BATCH to one peer all arrive. */
START_TEST(more_than_a_batch)
{
	uv_loop_t loop;
	struct udp_batch *b = calloc(1, sizeof *b);
	struct sent_log log = {0, 0, 0};
	struct sockaddr_in sa, ra;
	int s, r;
	unsigned n = UDP_BATCH + UDP_BATCH / 2;
	int use_uring = _i && uring_here();

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	udp_batch_init(b, &loop, on_sent, &log, use_uring);
	s = udp_socket(&sa);
	r = udp_socket(&ra);
	for (unsigned i = 0; i < n; i++)
		queue_n(b, s, &ra, 50, (uint8_t)i);
	udp_batch_flush(b);
	ck_assert_uint_eq(log.ok, n);
	for (unsigned i = 0; i < n; i++)
		expect(r, 50, (uint8_t)i);
	udp_batch_close(b);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	close(s);
	close(r);
	free(b);
}
END_TEST

/* A ring whose entry does not complete within the run (here: the first
 * message is linked behind a poll that never fires) is given up after
 * the other messages went: those are not sent a second time the old way,
 * and the one the kernel still holds is reported dropped, not resent
 * (it may yet leave). Each datagram reported once. */
START_TEST(ring_failing_mid_run_sends_nothing_twice)
{
	uv_loop_t loop;
	struct udp_batch *b = calloc(1, sizeof *b);
	struct sent_log log = {0, 0, 0};
	struct sockaddr_in sa, ra, rb;
	struct io_uring_sqe *sqe;
	uint8_t spare[16];
	int s, r1, r2, never[2];

	if (!uring_here()) { /* no ring to fail */
		free(b);
		return;
	}
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	udp_batch_init(b, &loop, on_sent, &log, 1);
	ck_assert_int_eq(b->uring_ok, 1);
	ck_assert_int_eq(pipe(never), 0);
	s = udp_socket(&sa);
	r1 = udp_socket(&ra);
	r2 = udp_socket(&rb);
	queue_n(b, s, &ra, 100, 1);
	queue_n(b, s, &rb, 100, 2);
	ck_assert_ptr_nonnull(sqe = uring_get_sqe(&b->ring));
	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = never[0];
	sqe->poll32_events = POLLIN;
	sqe->flags = IOSQE_IO_LINK;
	udp_batch_flush(b);
	ck_assert_int_eq(b->uring_ok, 0); /* given up */
	ck_assert_uint_eq(log.ok + log.failed, 2);
	ck_assert_uint_eq(log.ok, 1);
	expect(r2, 100, 2);
	ck_assert_int_lt(recv(r2, spare, sizeof spare, MSG_DONTWAIT), 0);
	ck_assert_int_lt(recv(r1, spare, sizeof spare, MSG_DONTWAIT), 0);
	/* The batch goes on without the ring. */
	queue_n(b, s, &ra, 100, 3);
	udp_batch_flush(b);
	expect(r1, 100, 3);
	udp_batch_close(b);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	close(s);
	close(r1);
	close(r2);
	close(never[0]);
	close(never[1]);
	free(b);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("io_udpbatch");
	TCase *tc = tcase_create("gso");

	tcase_add_loop_test(tc, runs_arrive_whole_and_in_order, 0, 2);
	tcase_add_loop_test(tc, more_than_a_batch, 0, 2);
	tcase_add_test(tc, ring_failing_mid_run_sends_nothing_twice);
	suite_add_tcase(s, tc);
	return s;
}
