/* load.c: `edgeprobe load HOST:PORT`: N allocations on one relay, each with
 * a channel bound to a UDP echo peer (built in, or external), ChannelData
 * at a set rate or flat out for S seconds; reports relayed packets per
 * second (full round trips), loss and latency percentiles. Setup and
 * teardown are blocking and sequential; with --ms-turn each allocation is
 * an [MS-TURN] one (msclient.c) with the peer as its active destination,
 * and the packets are raw datagrams instead of ChannelData; the packet loop (loadrun.c) is
 * per-thread, batched and allocation-free. --idle holds the allocations
 * without traffic so that a benchmark can weigh them (RSS per allocation). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "load.h"
#include "out.h"

static const char usage[] =
	"usage: edgeprobe load HOST:PORT --peer ADDR:PORT [options]\n"
	"  --allocations N      allocations, each with channel 0x4000 to the peer (default 10)\n"
	"  --rate PPS           send PPS packets per second in all, open loop\n"
	"  --flat               flat out: each allocation keeps --window packets in flight\n"
	"                       and sends again as each comes back (default)\n"
	"  --window W           packets in flight per allocation with --flat (default 2)\n"
	"  --seconds S          how long to send (default 5; 0: no traffic)\n"
	"  --size BYTES         payload per packet, 16..1400 (default 100)\n"
	"  --peer ADDR:PORT     the echo peer; edgeprobe runs it itself unless --external-peer\n"
	"  --external-peer      the peer is someone else's echo (e.g. edgeprobe echo)\n"
	"  --threads T          split allocations across T threads (default 1)\n"
	"  --bind ADDR          clients' source address\n"
	"  --idle SECONDS       after setup, hold the allocations idle this long (says\n"
	"                       'ready' on stderr first), then run the traffic if any\n"
	"  --drain MS           after sending stops, wait this long for answers (default 500)\n"
	"  --ms-turn[=VERSION]  [MS-TURN] allocations (MS-Version 1..6, default 1), each with\n"
	"                       Set Active Destination to the peer, then raw datagrams\n"
	"  --raw                no TURN: each 'allocation' is a plain socket sending the same\n"
	"                       ChannelData frames (for a bare forwarder, the bench's yardstick)\n"
	"  --cpu-pid PID        also report PID's CPU time (the server's) per allocation over\n"
	"                       the setup and per relayed packet over the traffic\n"
	"setup: --threads T threads make the allocations, each its slice, in parallel\n"
	"latency: round trip, 1 us buckets; 200000 means 200 ms or more\n"
	TC_COMMON_HELP;

enum { LO_ALLOCS = 1, LO_RATE, LO_FLAT, LO_WINDOW, LO_SECONDS, LO_SIZE, LO_PEER, LO_EXTPEER,
       LO_THREADS, LO_BIND, LO_IDLE, LO_DRAIN, LO_RAW, LO_CPUPID, LO_MS, LO_HELP };

struct load_args {
	struct load_cfg lc;
	struct tc_cfg tc;
	struct sockaddr_storage peer;
	const char *target, *bind;
	long allocations, idle, cpu_pid;
	int have_peer, external_peer, raw;
	unsigned ms_version; /* 0: IETF TURN */
};

static int parse_long(const char *flag, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "edgeprobe load: bad %s '%s': want %ld..%ld\n", flag, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse(int argc, char **argv, struct load_args *la)
{
	static const struct option opts[] = {
		TC_COMMON_OPTIONS,
		{"allocations", required_argument, NULL, LO_ALLOCS},
		{"rate", required_argument, NULL, LO_RATE},
		{"flat", no_argument, NULL, LO_FLAT},
		{"window", required_argument, NULL, LO_WINDOW},
		{"seconds", required_argument, NULL, LO_SECONDS},
		{"size", required_argument, NULL, LO_SIZE},
		{"peer", required_argument, NULL, LO_PEER},
		{"external-peer", no_argument, NULL, LO_EXTPEER},
		{"threads", required_argument, NULL, LO_THREADS},
		{"bind", required_argument, NULL, LO_BIND},
		{"idle", required_argument, NULL, LO_IDLE},
		{"drain", required_argument, NULL, LO_DRAIN},
		{"raw", no_argument, NULL, LO_RAW},
		{"cpu-pid", required_argument, NULL, LO_CPUPID},
		{"ms-turn", optional_argument, NULL, LO_MS},
		{"help", no_argument, NULL, LO_HELP},
		{0, 0, 0, 0},
	};
	long v;
	int c;

	/* la->tc was set up by tc_cfg_init (getopt reset included). */
	while ((c = tc_getopt(&la->tc, argc, argv, opts)) != -1) {
		if (c == TC_OPT_BAD)
			return 2;
		switch (c) {
		case LO_ALLOCS: if (parse_long("--allocations", optarg, 1, 60000, &la->allocations)) return 2; break;
		case LO_RATE: if (parse_long("--rate", optarg, 1, 100000000, &v)) return 2; la->lc.rate = (double)v; break;
		case LO_FLAT: la->lc.rate = 0; break;
		case LO_WINDOW: if (parse_long("--window", optarg, 1, LOAD_BATCH * 16, &v)) return 2; la->lc.window = (int)v; break;
		case LO_SECONDS: if (parse_long("--seconds", optarg, 0, 3600, &la->lc.seconds)) return 2; break;
		case LO_SIZE: if (parse_long("--size", optarg, 16, 1400, &v)) return 2; la->lc.size = (size_t)v; break;
		case LO_PEER: if (tc_parse_peer("--peer", optarg, &la->peer)) return 2; la->have_peer = 1; break;
		case LO_EXTPEER: la->external_peer = 1; break;
		case LO_THREADS: if (parse_long("--threads", optarg, 1, 64, &v)) return 2; la->lc.threads = (int)v; break;
		case LO_BIND: la->bind = optarg; break;
		case LO_IDLE: if (parse_long("--idle", optarg, 0, 86400, &la->idle)) return 2; break;
		case LO_DRAIN: if (parse_long("--drain", optarg, 0, 60000, &v)) return 2; la->lc.drain_ms = (int)v; break;
		case LO_RAW: la->raw = 1; break;
		case LO_CPUPID: if (parse_long("--cpu-pid", optarg, 1, 1L << 30, &la->cpu_pid)) return 2; break;
		case LO_MS:
			if (optarg && parse_long("--ms-turn", optarg, 1, MSTURN_MAX_VERSION, &v))
				return 2;
			la->ms_version = optarg ? (unsigned)v : 1;
			break;
		case LO_HELP: fputs(usage, stdout); return 1;
		default:
			fprintf(stderr, "edgeprobe load: unknown or incomplete option '%s'\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1 || !la->have_peer) {
		fprintf(stderr, "edgeprobe load: want HOST:PORT and --peer ADDR:PORT (see --help)\n");
		return 2;
	}
	if (la->tc.tp != TP_UDP) {
		fprintf(stderr, "edgeprobe load: only UDP clients for now\n");
		return 2;
	}
	if (la->raw && la->ms_version) {
		fprintf(stderr, "edgeprobe load: --raw and --ms-turn exclude each other\n");
		return 2;
	}
	la->target = argv[optind];
	if (la->cpu_pid && probe_cpu_ms(la->cpu_pid) < 0) {
		fprintf(stderr, "edgeprobe load: --cpu-pid %ld: no such process to read\n", la->cpu_pid);
		return 2;
	}
	return 0;
}

/* --raw: a socket connected to the target and nothing else. */
static int make_raw(struct load_args *la, struct load_alloc *a, char *err, size_t errlen)
{
	struct probe_opts o = {.target = la->target, .bind = la->bind, .tp = TP_UDP, .timeout_ms = 1000};
	struct probe_sock ps;

	if (probe_open(&ps, &o, err, errlen)) {
		probe_close(&ps);
		return -1;
	}
	a->fd = ps.fd;
	ps.fd = -1;
	probe_close(&ps);
	if (connect(a->fd, (struct sockaddr *)&ps.server, netaddr_len((struct sockaddr *)&ps.server))) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		close(a->fd);
		return -1;
	}
	fcntl(a->fd, F_SETFL, fcntl(a->fd, F_GETFL) | O_NONBLOCK);
	a->s = NULL;
	a->made = 1;
	return 0;
}

/* --ms-turn: Allocate with the digest challenge, then Set Active
 * Destination to the peer, so that raw datagrams flow both ways. The
 * session keeps the socket's fd until the caller takes it. */
static int make_ms(struct load_args *la, struct tc_sess *s, struct ms_client *c)
{
	uint8_t rbuf[4096]; /* setup only: answers are small */
	int code = 0;

	c->fd = s->ps->fd;
	c->server = s->ps->server;
	c->timeout_ms = la->tc.timeout_ms;
	c->version = la->ms_version;
	c->sha256 = la->tc.sha256 && c->version >= 3;
	c->user = s->user;
	c->pass = s->pass;
	c->rbuf = rbuf;
	c->rcap = sizeof rbuf;
	if (msc_start(c, la->tc.lifetime, &code) || msc_set_active(c, &la->peer)) {
		snprintf(s->err, sizeof s->err, "[MS-TURN] %.200s", c->err);
		s->code = code;
		if (c->authed)
			msc_allocate(c, 0, &code);
		c->rbuf = NULL;
		return -1;
	}
	c->rbuf = NULL;
	return 0;
}

/* One allocation with its channel; keeps the socket and the auth state,
 * drops the session's big receive buffers. */
static int make_alloc(struct load_args *la, struct load_alloc *a, int *code, char *err, size_t errlen)
{
	struct tc_sess *s = malloc(sizeof *s);
	struct ms_client *c = NULL;
	struct sockaddr_storage server;

	if (la->raw) {
		free(s);
		return make_raw(la, a, err, errlen);
	}
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (la->ms_version) {
		if (!(c = calloc(1, sizeof *c)) || tc_open(s, &la->tc, la->target, la->bind) ||
		    make_ms(la, s, c)) {
			snprintf(err, errlen, "%s", c ? s->err : "out of memory");
			*code = c ? s->code : 0;
			if (c)
				tc_close(s);
			free(c);
			free(s);
			return -1;
		}
	} else if (tc_open(s, &la->tc, la->target, la->bind) || tc_allocate(s) ||
		   tc_channel_bind(s, LOAD_CHANNEL, (struct sockaddr *)&la->peer)) {
		snprintf(err, errlen, "%s", s->err);
		*code = s->code;
		if (s->allocated)
			tc_refresh(s, 0);
		tc_close(s);
		free(s);
		return -1;
	}
	server = s->ps->server;
	a->fd = s->ps->fd;
	s->ps->fd = -1;
	tc_close(s);
	/* Connected: the kernel then hands us only the server's packets. */
	connect(a->fd, (struct sockaddr *)&server, netaddr_len((struct sockaddr *)&server));
	fcntl(a->fd, F_SETFL, fcntl(a->fd, F_GETFL) | O_NONBLOCK);
	a->s = s;
	a->ms = c;
	a->made = 1;
	return 0;
}

/* One setup thread: its slice of the allocations, one after another.
 * The codec keeps a MAC context per thread: freed when a thread ends. */
struct setup_job {
	pthread_t th;
	struct load_args *la;
	struct load_alloc *a;
	long lo, hi;
	int code;
	char err[300];
};

static void *setup_slice(void *arg)
{
	struct setup_job *j = arg;

	for (long i = j->lo; i < j->hi; i++) {
		char e[256];
		if (make_alloc(j->la, &j->a[i], &j->code, e, sizeof e)) {
			snprintf(j->err, sizeof j->err, "allocation %ld of %ld: %s", i + 1,
				 j->la->allocations, e);
			break;
		}
	}
	return NULL;
}

static void *setup_thread(void *arg)
{
	setup_slice(arg);
	stun_thread_cleanup();
	OPENSSL_thread_stop();
	return NULL;
}

/* All allocations, --threads at a time; 0, or -1 with the first error. */
static int setup_all(struct load_args *la, struct load_alloc *a, int *code, char *err, size_t errlen)
{
	int n = la->lc.threads, started = 0, rc = 0;
	struct setup_job *j = calloc((size_t)n, sizeof *j);

	if (!j) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int t = 0; t < n; t++) {
		j[t] = (struct setup_job){.la = la, .a = a, .lo = la->allocations * t / n,
					  .hi = la->allocations * (t + 1) / n};
		if (t > 0 && pthread_create(&j[t].th, NULL, setup_thread, &j[t]))
			break;
		started = t + 1;
	}
	setup_slice(&j[0]); /* the first slice on this thread (its context stays) */
	for (int t = 1; t < started; t++)
		pthread_join(j[t].th, NULL);
	if (started < n) {
		snprintf(err, errlen, "cannot start a setup thread");
		rc = -1;
	}
	for (int t = 0; t < n && !rc; t++)
		if (j[t].err[0]) {
			snprintf(err, errlen, "%s", j[t].err);
			*code = j[t].code;
			rc = -1;
		}
	free(j);
	return rc;
}

/* Delete every allocation (Refresh 0) through one shared socket struct. */
static void teardown(struct load_args *la, struct load_alloc *a, long n)
{
	struct probe_sock *ps = malloc(sizeof *ps);
	struct probe_opts o = {.target = la->target, .tp = TP_UDP, .timeout_ms = 1000};
	char err[256];

	for (long i = 0; i < n; i++) {
		if (!a[i].made)
			continue;
		if (a[i].ms) { /* [MS-TURN]: released by Allocate with LIFETIME 0 */
			uint8_t rbuf[4096];
			int code;
			fcntl(a[i].fd, F_SETFL, fcntl(a[i].fd, F_GETFL) & ~O_NONBLOCK);
			a[i].ms->rbuf = rbuf;
			a[i].ms->rcap = sizeof rbuf;
			msc_allocate(a[i].ms, 0, &code);
			free(a[i].ms);
		} else if (ps && a[i].s && !probe_open(ps, &o, err, sizeof err)) {
			close(ps->fd);
			ps->fd = a[i].fd;
			fcntl(ps->fd, F_SETFL, fcntl(ps->fd, F_GETFL) & ~O_NONBLOCK);
			netaddr_set_port((struct sockaddr *)&ps->local, 1); /* known: skip the lookup */
			a[i].s->ps = ps;
			tc_refresh(a[i].s, 0);
			a[i].s->ps = NULL;
		}
		close(a[i].fd);
		free(a[i].s);
	}
	free(ps);
}

static double pct(const uint64_t *hist, uint64_t total, double p)
{
	uint64_t want = (uint64_t)(p * (double)total), acc = 0;

	for (long i = 0; i <= LOAD_HIST_N; i++) {
		acc += hist[i];
		if (acc > want || (acc == total && total))
			return (double)i;
	}
	return 0;
}

/* The server's CPU time (--cpu-pid) over the setup and over the traffic. */
struct cpu_use {
	double setup_ms, run_ms;
};

static void report(struct out *o, struct load_args *la, struct load_thread *th, double setup_s,
		   const struct cpu_use *cpu)
{
	uint64_t sent = 0, rcvd = 0, garbled = 0, echoed = 0;
	uint64_t *hist = calloc(LOAD_HIST_N + 1, sizeof *hist);
	double secs = (double)la->lc.seconds;

	for (int t = 0; t < la->lc.threads; t++) {
		sent += th[t].sent;
		rcvd += th[t].rcvd;
		garbled += th[t].garbled;
		echoed += th[t].echoed;
		for (long i = 0; hist && i <= LOAD_HIST_N; i++)
			hist[i] += th[t].hist[i];
	}
	probe_out_int(o, "allocations", la->allocations);
	probe_out_int(o, "threads", la->lc.threads);
	probe_out_str(o, "mode", la->lc.rate ? "rate" : "flat");
	probe_out_str(o, "dialect", la->raw ? "none" : la->ms_version ? "ms-turn" : "ietf");
	if (la->lc.rate)
		probe_out_num(o, "rate_pps", la->lc.rate, 0);
	else
		probe_out_int(o, "window", la->lc.window);
	probe_out_int(o, "size", (long long)la->lc.size);
	probe_out_int(o, "seconds", la->lc.seconds);
	probe_out_num(o, "setup_s", setup_s, 3);
	if (setup_s > 0)
		probe_out_num(o, "allocations_per_s", (double)la->allocations / setup_s, 0);
	if (la->cpu_pid) {
		probe_out_num(o, "server_setup_cpu_ms", cpu->setup_ms, 0);
		probe_out_num(o, "server_cpu_us_per_alloc", 1000.0 * cpu->setup_ms / (double)la->allocations, 1);
	}
	probe_out_int(o, "sent", (long long)sent);
	probe_out_int(o, "received", (long long)rcvd);
	if (!la->external_peer)
		probe_out_int(o, "echoed", (long long)echoed);
	if (garbled)
		probe_out_int(o, "garbled", (long long)garbled);
	probe_out_num(o, "relayed_pps", secs > 0 ? (double)rcvd / secs : 0, 0);
	if (la->cpu_pid && secs > 0) {
		probe_out_num(o, "server_cpu_ms", cpu->run_ms, 0);
		/* Per relayed packet as relayed_pps counts them: one round trip
		 * (two datagrams through the server). */
		probe_out_num(o, "server_cpu_us_per_pkt", rcvd ? 1000.0 * cpu->run_ms / (double)rcvd : 0, 2);
	}
	probe_out_num(o, "loss_pct", sent ? 100.0 * (double)(sent - (rcvd < sent ? rcvd : sent)) / (double)sent : 0, 3);
	if (hist && rcvd) {
		probe_out_num(o, "p50_us", pct(hist, rcvd, 0.50), 0);
		probe_out_num(o, "p90_us", pct(hist, rcvd, 0.90), 0);
		probe_out_num(o, "p99_us", pct(hist, rcvd, 0.99), 0);
		probe_out_num(o, "max_us", pct(hist, rcvd, 1.0), 0);
	}
	free(hist);
}

int probe_load_main(int argc, char **argv)
{
	struct load_args la = {.allocations = 10, .lc = {.window = 2, .seconds = 5, .size = 100,
							 .threads = 1, .drain_ms = 500}};
	struct load_alloc *a = NULL;
	struct load_thread *th = NULL;
	struct out o;
	struct cpu_use cpu = {0, 0};
	char err[300], what[160];
	double t0, c0 = 0;
	int r, rc = 1, code = 0;

	tc_cfg_init(&la.tc);
	r = parse(argc, argv, &la);
	if (r)
		return r == 1 ? 0 : r;
	la.lc.hdr = la.ms_version ? 0 : TURN_CHDATA_HDR;
	if (la.lc.threads > la.allocations)
		la.lc.threads = (int)la.allocations;
	probe_raise_nofile();
	snprintf(what, sizeof what, "load %s/udp", la.target);
	probe_out_begin(&o, la.tc.json, "load", la.target, "udp");
	a = calloc((size_t)la.allocations, sizeof *a);
	th = calloc((size_t)la.lc.threads, sizeof *th);
	if (!a || !th) {
		probe_out_fail(&o, what, 0, "out of memory");
		goto out;
	}
	/* The echo peer first, so the first packets find it. */
	for (int t = 0; t < la.lc.threads; t++) {
		th[t].echo_fd = -1;
		th[t].lc = &la.lc;
		th[t].hist = calloc(LOAD_HIST_N + 1, sizeof *th[t].hist);
		th[t].sbuf = malloc(TURN_CHDATA_HDR + la.lc.size + 4);
		if (!th[t].hist || !th[t].sbuf) {
			probe_out_fail(&o, what, 0, "out of memory");
			goto out;
		}
		if (!la.external_peer &&
		    (th[t].echo_fd = probe_echo_socket((struct sockaddr *)&la.peer, 1, err, sizeof err)) < 0) {
			probe_out_fail(&o, what, 0, err);
			goto out;
		}
	}
	t0 = probe_now_ms();
	if (la.cpu_pid)
		c0 = probe_cpu_ms(la.cpu_pid);
	if (setup_all(&la, a, &code, err, sizeof err)) {
		probe_out_fail(&o, what, code, err);
		goto out;
	}
	t0 = (probe_now_ms() - t0) / 1000.0;
	if (la.cpu_pid)
		cpu.setup_ms = probe_cpu_ms(la.cpu_pid) - c0;
	if (la.idle) {
		fprintf(stderr, "edgeprobe: load: %ld allocations ready, idle for %ld s\n",
			la.allocations, la.idle);
		sleep((unsigned)la.idle);
	}
	/* Allocations split round robin: thread t takes a contiguous slice. */
	for (int t = 0; t < la.lc.threads; t++) {
		long lo = la.allocations * t / la.lc.threads, hi = la.allocations * (t + 1) / la.lc.threads;
		th[t].a = a + lo;
		th[t].n = (int)(hi - lo);
	}
	if (la.lc.seconds > 0) {
		if (la.cpu_pid)
			c0 = probe_cpu_ms(la.cpu_pid);
		for (int t = 0; t < la.lc.threads; t++)
			if (pthread_create(&th[t].th, NULL, probe_load_run, &th[t])) {
				probe_out_fail(&o, what, 0, "cannot start a thread");
				la.lc.threads = t;
				break;
			}
		for (int t = 0; t < la.lc.threads; t++)
			pthread_join(th[t].th, NULL);
		if (la.cpu_pid)
			cpu.run_ms = probe_cpu_ms(la.cpu_pid) - c0;
		for (int t = 0; t < la.lc.threads; t++)
			if (th[t].err[0]) {
				probe_out_fail(&o, what, 0, th[t].err);
				goto out;
			}
	}
	report(&o, &la, th, t0, &cpu);
	rc = 0;
out:
	probe_out_end(&o);
	if (a)
		teardown(&la, a, la.allocations);
	for (int t = 0; th && t < la.lc.threads; t++) {
		if (th[t].echo_fd >= 0)
			close(th[t].echo_fd);
		free(th[t].hist);
		free(th[t].sbuf);
	}
	free(a);
	free(th);
	return rc;
}
