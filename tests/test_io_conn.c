/* test_io_conn.c: a TCP listener's admission (io/conn.c, io/admit.c, R18).
 * At --max-conns the next connection is closed and counted, an idle one
 * is closed by the sweep, and a connection being closed no longer holds
 * its slot: a client that connects the moment the server hung up on the
 * only other one is served, not refused. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "io/conn.h"
#include "io/listener.h"

struct rig {
	uv_loop_t loop;
	struct listener l;
	struct conn_limits lim;
	struct conn_admit admit;
	struct stats st;
	struct udp_batch out; /* TCP sends nothing through it: flushed empty */
	uint8_t scratch[65536];
	unsigned msgs, closed;
};

static void on_msg(void *arg, const struct request *req)
{
	struct rig *r = arg;

	(void)req;
	r->msgs++;
}

static void on_conn_closed(void *arg, struct conn *c)
{
	struct rig *r = arg;

	(void)c;
	r->closed++;
}

static void rig_up(struct rig *r, uint32_t max_conns, uint32_t idle_ms)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&r->l.addr;
	socklen_t len = sizeof r->l.addr;
	const char *what;
	uv_os_fd_t fd;

	memset(r, 0, sizeof *r);
	ck_assert_int_eq(uv_loop_init(&r->loop), 0);
	r->lim = (struct conn_limits){.max_conns = max_conns, .max_per_source = max_conns,
				      .handshake_ms = 10000, .idle_ms = idle_ms, .frame_ms = 10000,
				      .out_cap = 65536, .stall_ms = 10000};
	admit_init(&r->admit, &r->lim, &r->st);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->l.tp = TP_TCP;
	r->l.cb = (struct listener_cbs){on_msg, NULL, on_conn_closed, r};
	r->l.out = &r->out;
	r->l.st = &r->st;
	r->l.scratch = r->scratch;
	r->l.scratch_len = sizeof r->scratch;
	r->l.lim = &r->lim;
	r->l.admit = &r->admit;
	ck_assert_int_eq(listener_start(&r->loop, &r->l, &what), 0);
	ck_assert_int_eq(uv_fileno((uv_handle_t *)&r->l.h.tcp, &fd), 0);
	getsockname(fd, (struct sockaddr *)&r->l.addr, &len); /* the port it got */
}

static void rig_down(struct rig *r)
{
	listener_close(&r->l);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	admit_free(&r->admit);
	ck_assert_int_eq(uv_loop_close(&r->loop), 0);
}

/* A blocking connect: complete in the kernel's backlog before any accept. */
static int dial(const struct rig *r)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_eq(connect(fd, (const struct sockaddr *)&r->l.addr, sizeof(struct sockaddr_in)), 0);
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

/* A STUN Binding request: 20 bytes of header, no attributes. */
static void send_binding(int fd)
{
	static const uint8_t b[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4,
				      5, 6, 7, 8, 9, 10, 11, 12};

	ck_assert_int_eq(send(fd, b, sizeof b, 0), (ssize_t)sizeof b);
}

START_TEST(cap_then_idle)
{
	struct rig r;
	int held, extra;

	rig_up(&r, 1, 300);
	held = dial(&r);
	spin_ms(&r, 20);
	extra = dial(&r);
	spin_ms(&r, 20);
	ck_assert_msg(hung_up(extra), "a connection past --max-conns was kept open");
	ck_assert_uint_eq(r.st.limits[LIMIT_MAX_CONNS], 1);
	ck_assert_uint_eq(r.admit.held, 1);
	for (int k = 0; k < 1500 && !hung_up(held); k++)
		spin_ms(&r, 1);
	ck_assert_msg(hung_up(held), "an idle connection outlived --idle-timeout");
	ck_assert_uint_eq(r.st.limits[LIMIT_IDLE], 1);
	spin_ms(&r, 5);
	ck_assert_uint_eq(r.admit.held, 0);
	ck_assert_uint_eq(r.closed, 1);
	close(held);
	close(extra);
	rig_down(&r);
}
END_TEST

/* Connects the client the moment the server has hung up on `held`, from a
 * prepare callback: before the closed connection's close callback has
 * run, whichever order this libuv runs timers and prepare handles in. */
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
	send_binding(x->client);
	uv_prepare_stop(p);
}

START_TEST(closing_frees_the_slot)
{
	struct rig r;
	struct race x;

	rig_up(&r, 1, 100);
	x = (struct race){.r = &r, .held = dial(&r), .client = -1};
	uv_prepare_init(&r.loop, &x.prep);
	x.prep.data = &x;
	uv_prepare_start(&x.prep, connect_after_hangup);
	for (int k = 0; k < 1500 && x.client < 0; k++)
		spin_ms(&r, 1);
	ck_assert_msg(x.client >= 0, "the idle connection was never closed");
	for (int k = 0; k < 500 && !r.msgs && !hung_up(x.client); k++)
		spin_ms(&r, 1);
	ck_assert_msg(r.msgs == 1 && r.st.limits[LIMIT_MAX_CONNS] == 0,
		      "connected as the server hung up on the only other connection, and refused "
		      "(max_conns +%lu)", (unsigned long)r.st.limits[LIMIT_MAX_CONNS]);
	close(x.client);
	close(x.held);
	uv_close((uv_handle_t *)&x.prep, NULL);
	rig_down(&r);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("io_conn");
	TCase *tc = tcase_create("admission");

	tcase_add_test(tc, cap_then_idle);
	tcase_add_test(tc, closing_frees_the_slot);
	suite_add_tcase(s, tc);
	return s;
}
