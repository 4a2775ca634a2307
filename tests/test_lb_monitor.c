/* test_lb_monitor.c: monitor_note(), the rise/fall counting behind every
 * monitor (R23): fall bad results in a row take a real down, rise good
 * ones bring it back, a result the other way restarts the count, and
 * the change is reported once.
 *
 * Then the STUN probe itself on a real loop, against a fake server on
 * 127.0.0.1 that lives on the same loop (as the answers to hlb's
 * monitors do: they come back through the TUN, which the same loop
 * drains): a lost request is sent again at half the timeout, same
 * transaction; the timeout runs from the send, not from a stale loop
 * clock; an answer that reached the socket while the loop was busy is
 * not a timeout; silence fails at the timeout, not before; a closed
 * port and a server that is not STUN fail at once. (Against a live
 * avedge, IPv4 and IPv6, tls too: tests/integration/hlb_monitor.sh.) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "check_main.h"
#include "config.h"
#include "monitor.h"
#include "stun/stun.h"

static struct lb_monitor_cfg mc;
static struct lb_real r;

static void setup(void)
{
	memset(&mc, 0, sizeof(mc));
	mc.type = LB_MON_STUN;
	mc.rise = 2;
	mc.fall = 3;
	memset(&r, 0, sizeof(r));
	r.up = 1; /* reals start up */
}

START_TEST(test_fall_in_a_row_takes_down)
{
	ck_assert_int_eq(monitor_note(&mc, &r, 0), 0);
	ck_assert_int_eq(monitor_note(&mc, &r, 0), 0);
	ck_assert_uint_eq(r.up, 1);
	ck_assert_int_eq(monitor_note(&mc, &r, 0), -1);
	ck_assert_uint_eq(r.up, 0);
	/* Reported once: further failures change nothing. */
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(monitor_note(&mc, &r, 0), 0);
	ck_assert_uint_eq(r.up, 0);
	ck_assert_uint_eq(r.fail_run, 13);
}
END_TEST

START_TEST(test_rise_in_a_row_brings_up)
{
	for (int i = 0; i < 3; i++)
		monitor_note(&mc, &r, 0);
	ck_assert_uint_eq(r.up, 0);
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 0);
	ck_assert_uint_eq(r.up, 0);
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 1);
	ck_assert_uint_eq(r.up, 1);
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 0);
	ck_assert_uint_eq(r.fail_run, 0);
}
END_TEST

START_TEST(test_flapping_never_reaches_a_count)
{
	/* Up: fail, fail, ok, fail, fail, ok... never 3 fails in a row. */
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(monitor_note(&mc, &r, i % 3 == 2), 0);
	ck_assert_uint_eq(r.up, 1);
	/* Down: ok, fail, ok, fail... never 2 oks in a row. */
	for (int i = 0; i < 3; i++)
		monitor_note(&mc, &r, 0);
	ck_assert_uint_eq(r.up, 0);
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(monitor_note(&mc, &r, i % 2 == 0), 0);
	ck_assert_uint_eq(r.up, 0);
	/* One more ok after an ok: up. */
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 0); /* after a fail */
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 1);
}
END_TEST

START_TEST(test_rise_and_fall_of_one)
{
	mc.rise = 1;
	mc.fall = 1;
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 0); /* already up */
	ck_assert_int_eq(monitor_note(&mc, &r, 0), -1);
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 1);
	ck_assert_int_eq(monitor_note(&mc, &r, 0), -1);
}
END_TEST

START_TEST(test_oks_while_up_do_not_pre_count)
{
	/* A long good run while up does not count toward the next rise:
	 * the fall resets it. */
	for (int i = 0; i < 10; i++)
		monitor_note(&mc, &r, 1);
	for (int i = 0; i < 3; i++)
		monitor_note(&mc, &r, 0);
	ck_assert_uint_eq(r.up, 0);
	ck_assert_uint_eq(r.ok_run, 0);
	ck_assert_int_eq(monitor_note(&mc, &r, 1), 0);
	ck_assert_uint_eq(r.up, 0);
}
END_TEST

/* ---- the STUN probe on a live loop ---- */

#define TIMEOUT_MS 200 /* the probe's; the interval is 1 s: one probe */

enum fake_mode {
	FAKE_ANSWER,      /* a Binding success at once */
	FAKE_DROP_FIRST,  /* the first request lost, then answer */
	FAKE_SILENT,      /* never answers */
	FAKE_ECHO,        /* sends the request back: not STUN's answer */
};

static uv_loop_t loop;
static struct lb_config cfg;
static struct engine eng;
static struct monitor mon;
static uv_timer_t stopper, hog, later;
static struct {
	int fd;
	uv_poll_t poll;
	enum fake_mode mode;
	unsigned busy_ms;  /* after answering, the loop stays busy this long */
	unsigned delay_ms; /* answer this long after the request */
	uint8_t held[1500];
	size_t nheld;
	int requests;
	int same_tid;      /* every request carried the first one's tid */
	uint8_t tid[12];
	uint64_t first_ns, last_ns; /* kernel arrival times, CLOCK_REALTIME */
} fake;
static uint64_t result_ns; /* CLOCK_REALTIME */

static void fake_answer(const uint8_t *req, size_t n)
{
	uint8_t out[64];
	struct stun_msg msg;
	struct stun_writer w;
	int len;

	if (fake.mode == FAKE_ECHO) {
		ck_assert_int_eq(send(fake.fd, req, n, 0), (ssize_t)n);
		return;
	}
	ck_assert_int_eq(stun_msg_parse(&msg, req, n), 0);
	stun_writer_init(&w, out, sizeof(out), STUN_BINDING, STUN_SUCCESS, msg.tid);
	stun_put_fingerprint(&w);
	len = stun_writer_finish(&w);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(send(fake.fd, out, (size_t)len, 0), len);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A request and the moment the kernel took it in (SO_TIMESTAMPNS): over
 * loopback, the moment it was sent, however late this loop reads it. */
static ssize_t fake_recv(uint8_t *buf, size_t cap, struct sockaddr_storage *from,
			 socklen_t *fl)
{
	union {
		char b[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = {
		.msg_name = from, .msg_namelen = *fl, .msg_iov = &iov,
		.msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
	};
	struct cmsghdr *c;
	ssize_t n = recvmsg(fake.fd, &mh, 0);

	if (n <= 0)
		return n;
	*fl = mh.msg_namelen;
	fake.last_ns = realtime_ns();
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			fake.last_ns = (uint64_t)ts.tv_sec * 1000000000u +
				       (uint64_t)ts.tv_nsec;
		}
	return n;
}

static void on_later(uv_timer_t *t)
{
	(void)t;
	fake_answer(fake.held, fake.nheld);
}

static void on_fake(uv_poll_t *h, int status, int events)
{
	uint8_t buf[1500];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	struct stun_msg msg;
	ssize_t n;

	(void)h;
	(void)status;
	(void)events;
	n = fake_recv(buf, sizeof(buf), &from, &fl);
	if (n <= 0)
		return;
	ck_assert_int_eq(connect(fake.fd, (struct sockaddr *)&from, fl), 0);
	ck_assert_int_eq(stun_msg_parse(&msg, buf, (size_t)n), 0);
	if (fake.requests++ == 0) {
		memcpy(fake.tid, msg.tid, 12);
		fake.first_ns = fake.last_ns;
		fake.same_tid = 1;
	} else if (memcmp(fake.tid, msg.tid, 12) != 0) {
		fake.same_tid = 0;
	}
	if (fake.mode == FAKE_SILENT ||
	    (fake.mode == FAKE_DROP_FIRST && fake.requests == 1))
		return;
	if (fake.delay_ms) {
		memcpy(fake.held, buf, (size_t)n);
		fake.nheld = (size_t)n;
		uv_timer_start(&later, on_later, fake.delay_ms, 0);
		return;
	}
	fake_answer(buf, (size_t)n);
	/* Busy: the packet path draining a full TUN, say. The answer is
	 * in the monitor's socket; the loop will not poll it before its
	 * timers run. */
	if (fake.busy_ms)
		usleep(fake.busy_ms * 1000);
}

static struct lb_real *real0(void)
{
	return &cfg.svc[0].reals[0];
}

static void on_stopper(uv_timer_t *t)
{
	const struct lb_real *rl = real0();

	if (rl->mc.ok + rl->mc.fail == 0)
		return;
	result_ns = realtime_ns();
	uv_stop(t->loop);
}

static void on_hog(uv_timer_t *t)
{
	(void)t;
	usleep(2 * TIMEOUT_MS * 1000);
}

static void probe_setup(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	char text[512], err[256];
	int one = 1;

	memset(&fake, 0, sizeof(fake));
	result_ns = 0;
	fake.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(fake.fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fake.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(setsockopt(fake.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
				    sizeof(one)), 0);
	ck_assert_int_eq(getsockname(fake.fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(text, sizeof(text),
		 "socket /tmp/test_lb_monitor.sock\n"
		 "service av 192.0.2.12:%u/udp\n"
		 "\tmode dnat\n"
		 "\treal edge1 127.0.0.1\n"
		 "\tmonitor stun interval 1 timeout %u.%03u rise 1 fall 1\n",
		 ntohs(sin.sin_port), TIMEOUT_MS / 1000, TIMEOUT_MS % 1000);
	ck_assert_msg(lb_config_parse(&cfg, "test", text, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	memset(&eng, 0, sizeof(eng));
	eng.loop = &loop;
	eng.cfg = &cfg;
	ck_assert_int_eq(nat_init(&eng.nat, &cfg, 1), 0);
	uv_poll_init(&loop, &fake.poll, fake.fd);
	uv_poll_start(&fake.poll, UV_READABLE, on_fake);
	uv_timer_init(&loop, &stopper);
	uv_timer_init(&loop, &hog);
	uv_timer_init(&loop, &later);
}

/* Run until the first probe has a result (or 3 s); its seconds. */
static void probe_run(void)
{
	ck_assert_int_eq(monitor_start(&mon, &eng), 0);
	uv_timer_start(&stopper, on_stopper, 1, 1);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_msg(result_ns, "no probe result");
}

static void probe_teardown(void)
{
	monitor_stop(&mon);
	uv_close((uv_handle_t *)&fake.poll, NULL);
	uv_close((uv_handle_t *)&stopper, NULL);
	uv_close((uv_handle_t *)&hog, NULL);
	uv_close((uv_handle_t *)&later, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	nat_free(&eng.nat);
	close(fake.fd);
}

static double ms_since_first_request(void)
{
	return (double)(result_ns - fake.first_ns) / 1e6;
}

START_TEST(test_probe_answered)
{
	fake.mode = FAKE_ANSWER;
	probe_run();
	ck_assert_uint_eq(real0()->mc.ok, 1);
	ck_assert_uint_eq(real0()->mc.fail, 0);
	ck_assert_uint_eq(real0()->mc.retx, 0);
	ck_assert_int_eq(fake.requests, 1);
	ck_assert_uint_eq(real0()->up, 1);
}
END_TEST

START_TEST(test_probe_lost_request_sent_again)
{
	/* One datagram lost is not a failed probe: the same transaction
	 * again at half the timeout, and its answer counts. */
	fake.mode = FAKE_DROP_FIRST;
	probe_run();
	ck_assert_uint_eq(real0()->mc.ok, 1);
	ck_assert_uint_eq(real0()->mc.fail, 0);
	ck_assert_uint_eq(real0()->mc.retx, 1);
	ck_assert_int_eq(fake.requests, 2);
	ck_assert_int_eq(fake.same_tid, 1);
	ck_assert_msg((fake.last_ns - fake.first_ns) / 1000000 >= TIMEOUT_MS / 2 - 5,
		      "sent again %.1f ms after the first",
		      (double)(fake.last_ns - fake.first_ns) / 1e6);
	ck_assert_uint_eq(real0()->up, 1);
}
END_TEST

START_TEST(test_probe_silence_fails_at_timeout)
{
	fake.mode = FAKE_SILENT;
	probe_run();
	ck_assert_uint_eq(real0()->mc.ok, 0);
	ck_assert_uint_eq(real0()->mc.fail, 1);
	ck_assert_uint_eq(real0()->mc.retx, 1);
	ck_assert_int_eq(fake.requests, 2);
	/* Not before the timeout (stopper's 1 ms tick and ms timers: 5 ms). */
	ck_assert_msg(ms_since_first_request() >= TIMEOUT_MS - 5,
		      "failed %.1f ms after the send", ms_since_first_request());
	ck_assert_uint_eq(real0()->up, 0); /* fall 1 */
}
END_TEST

START_TEST(test_probe_answer_while_loop_busy)
{
	/* The answer is in the socket, in time; the loop is busy past the
	 * whole timeout before it polls again. Not a timeout. */
	fake.mode = FAKE_ANSWER;
	fake.busy_ms = TIMEOUT_MS + 100;
	probe_run();
	ck_assert_uint_eq(real0()->mc.ok, 1);
	ck_assert_uint_eq(real0()->mc.fail, 0);
	ck_assert_uint_eq(real0()->mc.late, 1);
	ck_assert_uint_eq(real0()->up, 1);
}
END_TEST

START_TEST(test_probe_timeout_runs_from_the_send)
{
	/* A callback just before the probe's timer keeps the loop (and its
	 * clock) still for twice the timeout: the probe's timeout must
	 * start when its request leaves, or it has expired before the
	 * server (on this loop too, answering within a quarter of the
	 * timeout) has had a chance to answer. */
	fake.mode = FAKE_ANSWER;
	fake.delay_ms = TIMEOUT_MS / 4;
	uv_timer_start(&hog, on_hog, 10, 0); /* the first probe's moment */
	probe_run();
	ck_assert_uint_eq(real0()->mc.ok, 1);
	ck_assert_uint_eq(real0()->mc.fail, 0);
}
END_TEST

START_TEST(test_probe_refused_fails_at_once)
{
	/* Nothing on the port: ICMP port unreachable, no waiting. */
	close(fake.fd);
	fake.fd = socket(AF_INET, SOCK_DGRAM, 0); /* for teardown */
	probe_run();
	ck_assert_uint_eq(real0()->mc.fail, 1);
	ck_assert_uint_eq(real0()->mc.retx, 0);
}
END_TEST

START_TEST(test_probe_echo_is_not_stun)
{
	fake.mode = FAKE_ECHO;
	probe_run();
	ck_assert_uint_eq(real0()->mc.fail, 1);
	ck_assert_uint_eq(real0()->mc.retx, 0);
	ck_assert_msg(ms_since_first_request() < TIMEOUT_MS / 2,
		      "echo failed only after %.1f ms", ms_since_first_request());
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("lb_monitor");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_fall_in_a_row_takes_down);
	tcase_add_test(tc, test_rise_in_a_row_brings_up);
	tcase_add_test(tc, test_flapping_never_reaches_a_count);
	tcase_add_test(tc, test_rise_and_fall_of_one);
	tcase_add_test(tc, test_oks_while_up_do_not_pre_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("probe");
	tcase_add_checked_fixture(tc, probe_setup, probe_teardown);
	tcase_add_test(tc, test_probe_answered);
	tcase_add_test(tc, test_probe_lost_request_sent_again);
	tcase_add_test(tc, test_probe_silence_fails_at_timeout);
	tcase_add_test(tc, test_probe_answer_while_loop_busy);
	tcase_add_test(tc, test_probe_timeout_runs_from_the_send);
	tcase_add_test(tc, test_probe_refused_fails_at_once);
	tcase_add_test(tc, test_probe_echo_is_not_stun);
	suite_add_tcase(s, tc);
	return s;
}
