/* tests/fuzz/fuzz_server.c: libFuzzer target for avedge's request path.
 *
 * An input is a sequence of records: [flags][len hi][len lo][bytes]. Each
 * record becomes one datagram from one of four clients (flags & 3) to a
 * real UDP listener on 127.0.0.1, through dispatch_msg as the listener
 * would hand it up. When flags & 4, the
 * harness signs the message as alice (USERNAME, REALM, a valid NONCE and
 * MESSAGE-INTEGRITY, FINGERPRINT; [MS-TURN] messages in their dialect),
 * so the fuzzer gets past authentication
 * and drives allocations, permissions and channels through their states;
 * flags & 8 lets the clock run (one loop turn). The allocation quota
 * keeps socket use bounded.
 *
 * The peer filter is avedge's default, so fuzzed peer addresses may be
 * public ones: the harness first moves itself into a network namespace of
 * its own with only loopback up, where such datagrams go nowhere.
 *
 * After every datagram avedge sends, and after every input, the harness
 * checks what must always hold, and aborts (a crash to libFuzzer) if not:
 *   - every datagram to a client parses (STUN, ChannelData or [MS-TURN],
 *     or is raw data to an [MS-TURN] client with an active destination)
 *     and goes to one of the four clients;
 *   - every datagram to a peer goes to a peer the filter permits;
 *   - no more allocations than the quota, in the table and in the quota. */
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "conf.h"
#include "dispatch.h"
#include "handlers/handlers.h"
#include "io/listener.h"
#include "io/ports.h"
#include "server.h"
#include "stun/msturn.h"
#include "turn/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct avedge_conf conf;
static uv_loop_t loop;
static struct server *srv;
static struct listener *lst;
static uint8_t key[32];
static int keylen;
static udp_sent_cb count_sent; /* the server's own report, which we chain to */

#define QUOTA 16

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_server: invariant broken: %s\n", what);
	abort();
}

static int is_client(const struct sockaddr *to)
{
	struct sockaddr_storage c = conf.listen[0].addr;
	int port = netaddr_port(to);

	netaddr_set_port((struct sockaddr *)&c, port);
	return port >= 40000 && port <= 40003 && netaddr_equal(to, (struct sockaddr *)&c);
}

static void check_sent(void *arg, void *tag, const struct sockaddr *to, const uint8_t *data,
		       size_t len, int err)
{
	if (tag) { /* to a peer, for an allocation */
		if (!peerfilter_permits(conf.filter, to))
			fail("a datagram went to a peer the filter refuses");
	} else {
		struct stun_msg m;
		uint16_t ch, dl;
		const uint8_t *d;
		if (!is_client(to))
			fail("an answer went to someone who is not a client");
		struct alloc *a = server_alloc_find(srv, lst, NULL, to);
		if (stun_msg_parse(&m, data, len) &&
		    turn_chdata_parse(data, len, 0, &ch, &d, &dl) &&
		    msturn_parse(&m, data, len) && !(a && a->ms && a->ms->active))
			fail("an answer does not parse");
	}
	count_sent(arg, tag, to, data, len, err);
}

static void check_quota(void)
{
	if (srv->allocs.count > QUOTA || quota_in_use(&conf.quota) > QUOTA)
		fail("more allocations than the quota");
	if (quota_in_use(&conf.quota) < srv->allocs.count)
		fail("an allocation not counted in the quota");
}

/* Reservations outlive their allocations (30 s): end them with the input. */
static void give_back(void *arg, const char *owner) { quota_give(&conf.quota, owner); }

/* A network namespace of our own with loopback up: nothing leaves it. */
static void isolate(void)
{
	struct ifreq ifr = {0};
	int fd;

	if (unshare(CLONE_NEWNET)) {
		perror("fuzz_server: unshare(CLONE_NEWNET) (run as root)");
		abort();
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		abort();
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		abort();
	close(fd);
}

static void setup(void)
{
	char *argv[] = {"avedge", "--listen", "127.0.0.1:0/udp", "--relay-ip", "127.0.0.1",
			"--user", "alice:secret", "--realm", "edge.lab", "--threads", "1",
			"--quota-total", "16", "--log-level", "error", NULL};
	char err[256];
	const char *what;

	isolate();
	if (conf_parse_args(&conf, (int)(sizeof argv / sizeof argv[0]) - 1, argv) ||
	    conf_build(&conf, err, sizeof err))
		abort();
	uv_loop_init(&loop);
	srv = calloc(1, sizeof *srv);
	lst = calloc(1, sizeof *lst);
	if (!srv || !lst || server_init(srv, &conf, &loop, 0, &connect_cbs, &ms_tcp_cbs))
		abort();
	count_sent = srv->out.sent;
	srv->out.sent = check_sent;
	lst->addr = conf.listen[0].addr;
	lst->tp = TP_UDP;
	lst->cb = (struct listener_cbs){dispatch_msg, dispatch_conn_closing, dispatch_conn_closed, srv};
	server_listener_init(srv, lst);
	if (listener_start(&loop, lst, &what))
		abort();
	uv_poll_stop(&lst->h.udp); /* we feed it; nothing else may */
	keylen = stun_longterm_key(STUN_PW_MD5, "alice", "edge.lab", "secret", key);
}

/* Re-encode m as alice would send it: every attribute except credentials
 * and trailers, then USERNAME, REALM, NONCE, MESSAGE-INTEGRITY, FINGERPRINT. */
static size_t sign(const struct stun_msg *m, const struct sockaddr *src, uint8_t *out,
		   size_t cap)
{
	struct stun_writer w;
	char nonce[256];
	int n;

	stun_writer_init(&w, out, cap, m->method, (enum stun_class)m->cls, m->tid);
	for (unsigned i = 0; i < m->nattrs; i++) {
		uint16_t t = m->attrs[i].type;
		if (t == STUN_A_USERNAME || t == STUN_A_REALM || t == STUN_A_NONCE ||
		    t == STUN_A_MESSAGE_INTEGRITY || t == STUN_A_MESSAGE_INTEGRITY_SHA256 ||
		    t == STUN_A_FINGERPRINT)
			continue;
		stun_put_attr(&w, t, m->attrs[i].val, m->attrs[i].len);
	}
	auth_nonce_make(conf.auth, src, uv_now(&loop), nonce, sizeof nonce);
	stun_put_str(&w, STUN_A_USERNAME, "alice");
	stun_put_str(&w, STUN_A_REALM, "edge.lab");
	stun_put_str(&w, STUN_A_NONCE, nonce);
	stun_put_integrity(&w, key, (size_t)keylen);
	stun_put_fingerprint(&w);
	n = stun_writer_finish(&w);
	return n > 0 ? (size_t)n : 0;
}

/* The same for an [MS-TURN] message: its attributes but the credentials
 * and the Magic Cookie (the writer puts it first), then USERNAME, REALM,
 * NONCE and MESSAGE-INTEGRITY in the dialect. */
static size_t ms_sign(const struct stun_msg *m, const struct sockaddr *src, uint8_t *out,
		      size_t cap)
{
	struct stun_writer w;
	char nonce[256];
	int n;

	msturn_writer_init(&w, out, cap, m->type, m->tid);
	for (unsigned i = 1; i < m->nattrs; i++) {
		uint16_t t = m->attrs[i].type;
		if (t == STUN_A_USERNAME || t == STUN_A_REALM || t == STUN_A_NONCE ||
		    t == STUN_A_MESSAGE_INTEGRITY)
			continue;
		stun_put_attr(&w, t, m->attrs[i].val, m->attrs[i].len);
	}
	auth_nonce_make(conf.auth, src, uv_now(&loop), nonce, sizeof nonce);
	stun_put_str(&w, STUN_A_USERNAME, "alice");
	stun_put_str(&w, STUN_A_REALM, "edge.lab");
	stun_put_str(&w, STUN_A_NONCE, nonce);
	msturn_put_integrity(&w, key, (size_t)keylen, 0);
	n = stun_writer_finish(&w);
	return n > 0 ? (size_t)n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[65536 + 1024];
	struct sockaddr_storage src;

	if (!srv)
		setup();
	while (size >= 3) {
		uint8_t flags = data[0];
		size_t len = (size_t)data[1] << 8 | data[2];
		struct request req;
		struct stun_msg m;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		memcpy(msg, data, len);
		data += len;
		size -= len;
		if (len == 0)
			continue;

		src = conf.listen[0].addr;
		netaddr_set_port((struct sockaddr *)&src, 40000 + (flags & 3));
		if ((flags & 4) && stun_msg_parse(&m, msg, len) == 0) {
			uint8_t tmp[sizeof msg];
			size_t n = sign(&m, (struct sockaddr *)&src, tmp, sizeof tmp);
			if (n) {
				memcpy(msg, tmp, n);
				len = n;
			}
		} else if ((flags & 4) && msturn_parse(&m, msg, len) == 0) {
			uint8_t tmp[sizeof msg];
			size_t n = ms_sign(&m, (struct sockaddr *)&src, tmp, sizeof tmp);
			if (n) {
				memcpy(msg, tmp, n);
				len = n;
			}
		}
		req.tp = TP_UDP;
		req.l = lst;
		req.conn = NULL;
		req.src = (struct sockaddr *)&src;
		req.local = (struct sockaddr *)&lst->addr;
		req.buf = msg;
		req.len = len;
		dispatch_msg(srv, &req);
		check_quota();
		if (flags & 8)
			uv_run(&loop, UV_RUN_NOWAIT);
	}
	/* Each input starts from a clean table: free what it allocated. */
	udp_batch_flush(&srv->out); /* what it queued is checked too */
	while (srv->allocs.all)
		server_alloc_free(srv, srv->allocs.all);
	uv_run(&loop, UV_RUN_NOWAIT);
	ports_reservations_expire(UINT64_MAX, give_back, NULL);
	if (quota_in_use(&conf.quota))
		fail("quota held after every allocation was freed");
	return 0;
}
