/* test_io_mstcp.c: an [MS-TURN] TCP allocation's sockets (io/mstcp.c) on
 * loopback. A peer's stream comes up as whole RFC 4571 frames whatever
 * the segmenting, with headroom in front; a peer without a permission is
 * not read until one comes; sending to a new peer connects from the
 * relayed address itself; the per-allocation connection cap holds, and
 * unpermitted connections cannot keep the client's peers out of it; an
 * oversized frame ends the connection; a peer that never reads meets the
 * queue cap; one never permitted is reset in time. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "io/mstcp.h"

struct seen {
	int permit;
	unsigned asked, frames;
	size_t bytes, min_room_before;
	uint8_t last[64];
	size_t last_len;
};

static int peer_in(void *arg, void *tag, const struct sockaddr *peer)
{
	struct seen *s = arg;

	(void)tag;
	(void)peer;
	s->asked++;
	return s->permit ? 0 : -1;
}

static void recv_frame(void *arg, void *tag, uint8_t *data, size_t len, size_t room,
		       const struct sockaddr *from)
{
	struct seen *s = arg;

	(void)tag;
	(void)room;
	(void)from;
	/* The headroom is writable: the layer above puts a header there. */
	memset(data - MSTCP_HEADROOM, 0xee, MSTCP_HEADROOM);
	s->frames++;
	s->bytes += len;
	s->last_len = len < sizeof s->last ? len : sizeof s->last;
	memcpy(s->last, data, s->last_len);
}

static const struct ms_tcp_cbs cbs = {peer_in, recv_frame};

struct rig {
	uv_loop_t loop;
	struct port_range ports;
	struct stats st;
	struct ms_tcp_env env;
	struct seen seen;
	struct ms_tcp *t;
	struct sockaddr_in relayed;
};

static void rig_up(struct rig *r, uint32_t max_peers)
{
	struct sockaddr_in *b = (struct sockaddr_in *)&r->ports.bind[0];
	int port = 0;

	memset(r, 0, sizeof *r);
	ck_assert_int_eq(uv_loop_init(&r->loop), 0);
	b->sin_family = AF_INET;
	b->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->ports.has[0] = 1;
	r->ports.lo = 41000;
	r->ports.hi = 41999;
	r->env = (struct ms_tcp_env){&r->loop, &r->ports, &r->st, &cbs, &r->seen, max_peers};
	ck_assert_int_eq(ms_tcp_open(&r->t, &r->env, 0, r, &port), 0);
	r->relayed = *b;
	r->relayed.sin_port = htons((uint16_t)port);
}

static void rig_down(struct rig *r)
{
	ms_tcp_close(r->t);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&r->loop), 0);
}

/* Run the loop until *counter reaches want, or for 2 s. */
static void spin(struct rig *r, const unsigned *counter, unsigned want)
{
	for (int i = 0; i < 400 && *counter < want; i++) {
		struct timespec ts = {0, 5 * 1000 * 1000};
		uv_run(&r->loop, UV_RUN_NOWAIT);
		nanosleep(&ts, NULL);
	}
}

/* ms by the loop's own clock, the one its timers keep: counting sleeps
 * ran long on a busy machine, past the timeouts a test checks just
 * before they fire. */
static void spin_for(struct rig *r, int ms)
{
	uint64_t end;

	uv_update_time(&r->loop);
	end = uv_now(&r->loop) + (uint64_t)ms;
	while (uv_now(&r->loop) < end) {
		struct timespec ts = {0, 5 * 1000 * 1000};
		uv_run(&r->loop, UV_RUN_NOWAIT);
		nanosleep(&ts, NULL);
		uv_update_time(&r->loop);
	}
}

/* A peer's listening socket on loopback, its address in *peer; rcvbuf > 0
 * sets SO_RCVBUF first (a peer that takes little before it blocks). */
static int peer_listen(struct sockaddr_in *peer, int rcvbuf)
{
	socklen_t len = sizeof *peer;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	if (rcvbuf > 0)
		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
	*peer = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(fd, (struct sockaddr *)peer, sizeof *peer), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)peer, &len), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

static int connect_to(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (const struct sockaddr *)a, sizeof *a), 0);
	return fd;
}

static size_t frame(uint8_t *out, const char *text)
{
	size_t n = strlen(text);

	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	memcpy(out + 2, text, n);
	return n + 2;
}

START_TEST(frame_len_cases)
{
	const uint8_t five[] = {0, 3, 'a', 'b', 'c'};
	const uint8_t empty[] = {0, 0};
	const uint8_t big[] = {0x20, 0x01};

	ck_assert_int_eq(ms_tcp_frame_len(five, 0, 100), 0);
	ck_assert_int_eq(ms_tcp_frame_len(five, 1, 100), 0);
	ck_assert_int_eq(ms_tcp_frame_len(five, 4, 100), 0);   /* one byte short */
	ck_assert_int_eq(ms_tcp_frame_len(five, 5, 100), 5);
	ck_assert_int_eq(ms_tcp_frame_len(empty, 2, 100), 2);  /* an empty frame is a frame */
	ck_assert_int_eq(ms_tcp_frame_len(big, 2, 8194), -1);  /* 8193 + 2 over the max */
	ck_assert_int_eq(ms_tcp_frame_len(five, 5, 4), -1);
}
END_TEST

/* Two frames in one write and a third cut in two: three frames up, whole. */
START_TEST(frames_come_up_whole)
{
	struct rig r;
	uint8_t buf[128];
	size_t n;
	int fd;

	rig_up(&r, 4);
	r.seen.permit = 1;
	fd = connect_to(&r.relayed);
	n = frame(buf, "first");
	n += frame(buf + n, "second");
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
	spin(&r, &r.seen.frames, 2);
	ck_assert_uint_eq(r.seen.frames, 2);
	ck_assert_uint_eq(r.seen.bytes, 7 + 8);
	n = frame(buf, "third, in two writes");
	ck_assert_int_eq(write(fd, buf, 5), 5);
	spin_for(&r, 50);
	ck_assert_uint_eq(r.seen.frames, 2); /* nothing half */
	ck_assert_int_eq(write(fd, buf + 5, n - 5), (ssize_t)(n - 5));
	spin(&r, &r.seen.frames, 3);
	ck_assert_uint_eq(r.seen.frames, 3);
	ck_assert_uint_eq(r.seen.last_len, n);
	ck_assert_mem_eq(r.seen.last, buf, n);
	ck_assert_uint_eq(ms_tcp_count(r.t), 1);
	close(fd);
	rig_down(&r);
}
END_TEST

/* Without a permission the peer waits unread; ms_tcp_admit after one lets
 * its bytes up. */
START_TEST(unpermitted_peer_waits)
{
	struct rig r;
	uint8_t buf[64];
	size_t n;
	int fd;

	rig_up(&r, 4);
	fd = connect_to(&r.relayed);
	n = frame(buf, "early");
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
	spin(&r, &r.seen.asked, 1);
	spin_for(&r, 50);
	ck_assert_uint_eq(r.seen.asked, 1);
	ck_assert_uint_eq(r.seen.frames, 0);
	ms_tcp_admit(r.t); /* still not permitted: still waiting */
	spin_for(&r, 20);
	ck_assert_uint_eq(r.seen.frames, 0);
	r.seen.permit = 1;
	ms_tcp_admit(r.t);
	spin(&r, &r.seen.frames, 1);
	ck_assert_uint_eq(r.seen.frames, 1);
	ck_assert_mem_eq(r.seen.last, buf, n);
	close(fd);
	rig_down(&r);
}
END_TEST

/* Sending to a new peer connects to it from the relayed address; the
 * bytes arrive as written; past the cap, -ENOSPC. */
START_TEST(send_connects_from_relayed_address)
{
	struct rig r;
	struct sockaddr_in peer = {0}, from;
	socklen_t len = sizeof peer;
	uint8_t buf[64], got[64];
	size_t n;
	int lfd, cfd;

	rig_up(&r, 1);
	lfd = peer_listen(&peer, 0);
	n = frame(buf, "to the peer");
	ck_assert_int_eq(ms_tcp_send(r.t, (struct sockaddr *)&peer, buf, n), 0);
	ck_assert_uint_eq(ms_tcp_count(r.t), 1);
	spin_for(&r, 50);
	len = sizeof from;
	cfd = accept(lfd, (struct sockaddr *)&from, &len);
	ck_assert_int_ge(cfd, 0);
	ck_assert_int_eq(from.sin_port, r.relayed.sin_port);
	ck_assert_int_eq(read(cfd, got, sizeof got), (ssize_t)n);
	ck_assert_mem_eq(got, buf, n);
	/* The same peer: the same connection. Another: over the cap of 1. */
	ck_assert_int_eq(ms_tcp_send(r.t, (struct sockaddr *)&peer, buf, n), 0);
	peer.sin_port = htons((uint16_t)(ntohs(peer.sin_port) + 1));
	ck_assert_int_eq(ms_tcp_send(r.t, (struct sockaddr *)&peer, buf, n), -ENOSPC);
	ck_assert_uint_eq(r.st.limits[LIMIT_MAX_CONNECTS], 1);
	close(cfd);
	close(lfd);
	rig_down(&r);
}
END_TEST

/* Connections that wait for a permission fill the cap: one more in is
 * refused, counted; but a send toward a new peer takes the oldest waiting
 * one's place (else whoever can reach the relayed address would keep the
 * client from its peers). */
START_TEST(waiting_peers_give_way)
{
	struct rig r;
	struct sockaddr_in peer = {0};
	uint8_t buf[64], got[64];
	size_t n;
	int fd[3], lfd, cfd;

	rig_up(&r, 2);
	for (int i = 0; i < 2; i++) {
		fd[i] = connect_to(&r.relayed);
		spin(&r, &r.seen.asked, (unsigned)i + 1);
	}
	ck_assert_uint_eq(ms_tcp_count(r.t), 2);
	fd[2] = connect_to(&r.relayed);
	spin_for(&r, 100);
	ck_assert_uint_eq(r.st.limits[LIMIT_MAX_CONNECTS], 1);
	ck_assert_uint_eq(ms_tcp_count(r.t), 2);
	lfd = peer_listen(&peer, 0);
	n = frame(buf, "wanted");
	ck_assert_int_eq(ms_tcp_send(r.t, (struct sockaddr *)&peer, buf, n), 0);
	ck_assert_uint_eq(ms_tcp_count(r.t), 2);
	ck_assert_uint_eq(r.st.drops[DROP_NO_PERMISSION], 1);
	spin_for(&r, 50);
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	ck_assert_int_eq(read(cfd, got, sizeof got), (ssize_t)n);
	ck_assert_mem_eq(got, buf, n);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	close(cfd);
	close(lfd);
	rig_down(&r);
}
END_TEST

/* A peer that never reads: past MSTCP_QUEUE_HIGH queued to it, sends
 * are refused whole (-ENOBUFS), not queued without end. */
START_TEST(peer_that_never_reads)
{
	struct rig r;
	struct sockaddr_in peer = {0};
	static uint8_t buf[8194];
	int lfd, cfd, err = 0;
	unsigned sent = 0;

	rig_up(&r, 4);
	lfd = peer_listen(&peer, 4096);
	buf[0] = 0x20;
	/* At most 64 MB: the kernel's buffers and the cap come well before. */
	for (; sent < 8192 && !err; sent++) {
		err = ms_tcp_send(r.t, (struct sockaddr *)&peer, buf, sizeof buf);
		if (sent % 16 == 0)
			spin_for(&r, 5);
	}
	ck_assert_int_eq(err, -ENOBUFS);
	ck_assert_uint_eq(ms_tcp_count(r.t), 1); /* not closed: it may read later */
	cfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(cfd, 0);
	close(cfd);
	close(lfd);
	rig_down(&r);
}
END_TEST

/* A peer never permitted is reset after MSTCP_PERMIT_WAIT_MS, counted,
 * its place free again. */
START_TEST(unpermitted_peer_reset_in_time)
{
	struct rig r;
	uint8_t b;
	int fd;

	rig_up(&r, 4);
	fd = connect_to(&r.relayed);
	spin(&r, &r.seen.asked, 1);
	ck_assert_uint_eq(ms_tcp_count(r.t), 1);
	spin_for(&r, MSTCP_PERMIT_WAIT_MS - 500);
	ck_assert_uint_eq(ms_tcp_count(r.t), 1);
	spin_for(&r, 1000);
	ck_assert_uint_eq(ms_tcp_count(r.t), 0);
	ck_assert_uint_eq(r.st.drops[DROP_NO_PERMISSION], 1);
	ck_assert_int_lt(read(fd, &b, 1), 0); /* reset */
	ck_assert_int_eq(errno, ECONNRESET);
	ck_assert_uint_eq(r.seen.frames, 0);
	close(fd);
	rig_down(&r);
}
END_TEST

/* A length over MSTCP_MAX_FRAME: the connection ends, counted. */
START_TEST(oversized_frame_closes)
{
	struct rig r;
	uint8_t hdr[2] = {0xff, 0xff};
	int fd;

	rig_up(&r, 4);
	r.seen.permit = 1;
	fd = connect_to(&r.relayed);
	ck_assert_int_eq(write(fd, hdr, 2), 2);
	spin_for(&r, 200);
	ck_assert_uint_eq(r.st.drops[DROP_MALFORMED], 1);
	ck_assert_uint_eq(r.seen.frames, 0);
	ck_assert_uint_eq(ms_tcp_count(r.t), 0);
	close(fd);
	rig_down(&r);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("io_mstcp");
	TCase *tc = tcase_create("mstcp");

	tcase_add_test(tc, frame_len_cases);
	tcase_add_test(tc, frames_come_up_whole);
	tcase_add_test(tc, unpermitted_peer_waits);
	tcase_add_test(tc, send_connects_from_relayed_address);
	tcase_add_test(tc, oversized_frame_closes);
	tcase_add_test(tc, waiting_peers_give_way);
	tcase_add_test(tc, peer_that_never_reads);
	tcase_add_test(tc, unpermitted_peer_reset_in_time);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
