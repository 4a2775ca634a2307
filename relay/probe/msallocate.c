/* msallocate.c: `edgeprobe allocate --ms-turn[=VERSION] HOST:PORT`: one
 * [MS-TURN] allocation (R19) as a Lync client makes it: Allocate, the
 * digest challenge (401 with NONCE and REALM), the signed Allocate, then a
 * release (Allocate with LIFETIME 0) unless --keep. Over UDP, or TCP with
 * the 2.1.4 framing, or TCP after the pseudo-TLS exchange (--pseudo-tls,
 * as on 443). Reports what came back: the relayed address
 * (MAPPED-ADDRESS, and MS-Alternate Mapped Address), the client's own
 * (XOR Mapped Address 0x8020), lifetime, MS-Version, whether the answer's
 * integrity verified. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "stun/msturn.h"
#include "turnc.h"

enum { MO_MS = 0x200, MO_PTLS, MO_BIND, MO_KEEP, MO_HELP };

static const char usage[] =
	"usage: edgeprobe allocate --ms-turn[=VERSION] HOST:PORT [options]\n"
	"  --ms-turn[=VERSION]  speak [MS-TURN] (MS-Version 1..6, default 1)\n"
	"  --pseudo-tls         TCP, opened with the pseudo-TLS exchange (as on 443)\n"
	"  --bind ADDR[:PORT]   client source address\n"
	"  --keep               do not release the allocation at exit\n"
	"  --family 6           REQUESTED-ADDRESS-FAMILY IPv6 (MS-Version 4 and later)\n"
	"  --sha256             sign with HMAC-SHA256 (MS-Version 3 and later)\n"
	TC_COMMON_HELP;

struct ms {
	struct probe_sock *ps;
	int stream, timeout_ms, sha256;
	unsigned version;
	int want_v6;
	const char *user, *pass;
	char realm[256];
	uint8_t nonce[256];
	size_t noncelen;
	uint8_t key[32];
	int authed;
	uint8_t rbuf[70000];
	struct stun_msg m;
	char err[256];
};

static int fail(struct ms *c, const char *fmt, const char *a)
{
	snprintf(c->err, sizeof c->err, fmt, a);
	return -1;
}

static int wait_in(int fd, double deadline)
{
	struct pollfd p = {fd, POLLIN, 0};
	double left = deadline - probe_now_ms();

	return left > 0 ? poll(&p, 1, (int)left + 1) : 0;
}

/* Exactly n bytes from a stream, or -1. */
static int read_n(struct ms *c, uint8_t *buf, size_t n, double deadline)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r;
		if (wait_in(c->ps->fd, deadline) <= 0)
			return -1;
		if ((r = recv(c->ps->fd, buf + got, n - got, 0)) <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int send_msg(struct ms *c, const uint8_t *msg, size_t n)
{
	uint8_t frame[MSTURN_FRAME_HDR + 2048];

	if (!c->stream)
		return sendto(c->ps->fd, msg, n, 0, (struct sockaddr *)&c->ps->server,
			      netaddr_len((struct sockaddr *)&c->ps->server)) == (ssize_t)n ? 0 : -1;
	if (n > sizeof frame - MSTURN_FRAME_HDR)
		return -1;
	msturn_frame_hdr(frame, MSTURN_FRAME_CONTROL, (uint16_t)n);
	memcpy(frame + MSTURN_FRAME_HDR, msg, n);
	return send(c->ps->fd, frame, n + MSTURN_FRAME_HDR, 0) == (ssize_t)(n + MSTURN_FRAME_HDR)
		       ? 0 : -1;
}

/* The answer to req (same 16-byte transaction id) into c->m; UDP
 * retransmits from 250 ms, doubling. */
static int transact(struct ms *c, const uint8_t *req, size_t n)
{
	double end = probe_now_ms() + c->timeout_ms, rto = 250, next;

	if (send_msg(c, req, n))
		return fail(c, "%s", "cannot send");
	next = probe_now_ms() + rto;
	for (;;) {
		double until = c->stream || next > end ? end : next;
		size_t len;

		if (probe_now_ms() >= end)
			return fail(c, "%s", "no answer before the timeout");
		if (c->stream) {
			uint8_t hdr[MSTURN_FRAME_HDR];
			if (read_n(c, hdr, sizeof hdr, end))
				return fail(c, "%s", "no answer (stream closed or timed out)");
			if (!(len = msturn_frame_len(hdr, sizeof hdr)))
				return fail(c, "%s", "not an [MS-TURN] framing header");
			len -= MSTURN_FRAME_HDR;
			if (read_n(c, c->rbuf, len, end))
				return fail(c, "%s", "frame cut short");
			if (hdr[0] != MSTURN_FRAME_CONTROL)
				continue;
		} else {
			ssize_t r;
			if (wait_in(c->ps->fd, until) <= 0) {
				if (probe_now_ms() >= next) {
					rto *= 2;
					next = probe_now_ms() + rto;
					if (send_msg(c, req, n))
						return fail(c, "%s", "cannot send");
				}
				continue;
			}
			if ((r = recv(c->ps->fd, c->rbuf, sizeof c->rbuf, 0)) <= 0)
				return fail(c, "%s", strerror(errno));
			len = (size_t)r;
		}
		if (!msturn_parse(&c->m, c->rbuf, len) && !memcmp(c->m.tid, req + 4, MSTURN_TID_LEN))
			return 0;
	}
}

/* One Allocate; 0 with the answer in c->m, else -1 with c->err. */
static int allocate(struct ms *c, long lifetime, int *code)
{
	uint8_t req[2048], tid[MSTURN_TID_LEN];
	struct stun_writer w;
	const struct stun_attr *a;
	int n;

	*code = 0;
	msturn_tid_random(tid);
	msturn_writer_init(&w, req, sizeof req, MSTURN_ALLOCATE, tid);
	stun_put_u32(&w, MS_A_VERSION, c->version);
	if (lifetime >= 0)
		stun_put_u32(&w, MS_A_LIFETIME, (uint32_t)lifetime);
	if (c->version >= 4 && c->want_v6) /* family IPv6, 3 reserved bytes */
		stun_put_u32(&w, MS_A_REQUESTED_ADDRESS_FAMILY, 0x02000000u);
	if (c->authed) {
		stun_put_str(&w, MS_A_USERNAME, c->user);
		stun_put_attr(&w, STUN_A_NONCE, c->nonce, c->noncelen);
		stun_put_str(&w, STUN_A_REALM, c->realm);
		msturn_put_integrity(&w, c->key, 16, c->sha256);
	}
	if ((n = stun_writer_finish(&w)) < 0)
		return fail(c, "%s", "request does not fit");
	if (transact(c, req, (size_t)n))
		return -1;
	if (c->m.type == MSTURN_ALLOCATE_OK)
		return 0;
	if (c->m.type != MSTURN_ALLOCATE_ERR || !(a = stun_msg_attr(&c->m, MS_A_ERROR_CODE)) ||
	    stun_attr_error(a, code, NULL, NULL))
		return fail(c, "%s", "neither a success nor an error response");
	snprintf(c->err, sizeof c->err, "Allocate: error %d", *code);
	return -1;
}

static int take_challenge(struct ms *c)
{
	const struct stun_attr *r = stun_msg_attr(&c->m, STUN_A_REALM);
	const struct stun_attr *nn = stun_msg_attr(&c->m, STUN_A_NONCE);

	if (!r || !nn || r->len >= sizeof c->realm || nn->len > sizeof c->nonce)
		return fail(c, "%s", "401 without NONCE and REALM");
	memcpy(c->realm, r->val, r->len);
	c->realm[r->len] = '\0';
	memcpy(c->nonce, nn->val, nn->len);
	c->noncelen = nn->len;
	if (stun_longterm_key(STUN_PW_MD5, c->user, c->realm, c->pass, c->key) != 16)
		return fail(c, "%s", "cannot compute the key");
	c->authed = 1;
	return 0;
}

static int pseudo_tls(struct ms *c)
{
	uint8_t hello[MSTURN_PTLS_HELLO_LEN], want[MSTURN_PTLS_REPLY_LEN], got[MSTURN_PTLS_REPLY_LEN];

	msturn_ptls_hello(hello);
	msturn_ptls_reply(want);
	if (send(c->ps->fd, hello, sizeof hello, 0) != (ssize_t)sizeof hello)
		return fail(c, "%s", "cannot send the pseudo-TLS ClientHello");
	if (read_n(c, got, sizeof got, probe_now_ms() + c->timeout_ms))
		return fail(c, "%s", "no pseudo-TLS ServerHello");
	return memcmp(got, want, sizeof want) ? fail(c, "%s", "pseudo-TLS answer is not the fixed one") : 0;
}

int probe_ms_allocate_main(int argc, char **argv)
{
	static const struct option opts[] = {
		TC_COMMON_OPTIONS,
		{"ms-turn", optional_argument, NULL, MO_MS},
		{"pseudo-tls", no_argument, NULL, MO_PTLS},
		{"bind", required_argument, NULL, MO_BIND},
		{"keep", no_argument, NULL, MO_KEEP},
		{"help", no_argument, NULL, MO_HELP},
		{0, 0, 0, 0},
	};
	struct tc_cfg cfg;
	struct tc_sess s;
	struct out o;
	struct ms *c = calloc(1, sizeof *c);
	const char *bind = NULL;
	char what[160], a[NETADDR_STRLEN];
	struct sockaddr_storage ss;
	int ch, ptls = 0, keep = 0, code = 0, rc = 1;
	long v;

	if (!c)
		return 1;
	c->version = 1;
	tc_cfg_init(&cfg);
	while ((ch = tc_getopt(&cfg, argc, argv, opts)) != -1) {
		switch (ch) {
		case TC_OPT_BAD: free(c); return 2;
		case MO_MS:
			v = optarg ? strtol(optarg, NULL, 10) : 1;
			if (v < 1 || v > MSTURN_MAX_VERSION) {
				fprintf(stderr, "edgeprobe: bad --ms-turn version '%s': want 1..6\n", optarg);
				free(c);
				return 2;
			}
			c->version = (unsigned)v;
			break;
		case MO_PTLS: ptls = 1; break;
		case MO_BIND: bind = optarg; break;
		case MO_KEEP: keep = 1; break;
		case MO_HELP: fputs(usage, stdout); free(c); return 0;
		default:
			fprintf(stderr, "edgeprobe allocate: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			free(c);
			return 2;
		}
	}
	if (optind != argc - 1 || cfg.tp == TP_TLS) {
		fprintf(stderr, "edgeprobe allocate --ms-turn: want one HOST:PORT, and --udp, --tcp "
				"or --pseudo-tls (see --help)\n");
		free(c);
		return 2;
	}
	if (ptls)
		cfg.tp = TP_TCP;
	snprintf(what, sizeof what, "allocate --ms-turn %s/%s%s", argv[optind],
		 transport_name(cfg.tp), ptls ? "+pseudo-tls" : "");
	probe_out_begin(&o, cfg.json, "allocate", argv[optind], ptls ? "pseudo-tls" : transport_name(cfg.tp));
	if (tc_open(&s, &cfg, argv[optind], bind)) {
		probe_out_fail(&o, what, 0, s.err);
		probe_out_end(&o);
		free(c);
		return 1;
	}
	c->ps = s.ps;
	c->stream = cfg.tp != TP_UDP;
	c->timeout_ms = cfg.timeout_ms;
	c->sha256 = cfg.sha256 && c->version >= 3;
	c->want_v6 = cfg.family == 6;
	c->user = s.user;
	c->pass = s.pass;
	if (ptls && pseudo_tls(c))
		goto failed;
	if (ptls)
		probe_out_str(&o, "pseudo_tls", "ok");
	if (allocate(c, cfg.lifetime, &code)) {
		if (code != 401 || take_challenge(c) || allocate(c, cfg.lifetime, &code))
			goto failed;
	}
	probe_out_str(&o, "from", netaddr_str((struct sockaddr *)&s.ps->server, a, sizeof a));
	probe_out_str(&o, "local", netaddr_str((struct sockaddr *)&s.ps->local, a, sizeof a));
	probe_out_str(&o, "username", c->user);
	probe_out_str(&o, "realm", c->realm);
	probe_out_int(&o, "ms_version", msturn_version(&c->m));
	probe_out_str(&o, "integrity", stun_msg_check_integrity(&c->m, c->key, 16) ? "bad" : "ok");
	if (!stun_msg_addr(&c->m, MS_A_MAPPED_ADDRESS, &ss))
		probe_out_str(&o, "relayed", netaddr_str((struct sockaddr *)&ss, a, sizeof a));
	if (!stun_msg_addr(&c->m, MS_A_ALTERNATE_MAPPED_ADDRESS, &ss))
		probe_out_str(&o, "relayed2", netaddr_str((struct sockaddr *)&ss, a, sizeof a));
	if (!stun_msg_addr(&c->m, MS_A_XOR_MAPPED_ADDRESS, &ss))
		probe_out_str(&o, "xor_mapped", netaddr_str((struct sockaddr *)&ss, a, sizeof a));
	{
		const struct stun_attr *la = stun_msg_attr(&c->m, MS_A_LIFETIME);
		const uint8_t *id;
		uint32_t u = 0;
		if (la && !stun_attr_u32(la, &u))
			probe_out_int(&o, "lifetime", u);
		probe_out_str(&o, "sequence_number", msturn_seq(&c->m, &id, &u) ? "absent" : "present");
	}
	if (stun_msg_check_integrity(&c->m, c->key, 16)) {
		snprintf(c->err, sizeof c->err, "the answer's MESSAGE-INTEGRITY does not verify");
		goto failed;
	}
	if (!keep) {
		if (allocate(c, 0, &code))
			goto failed;
		probe_out_str(&o, "delete", "ok");
	}
	rc = 0;
	goto out;
failed:
	probe_out_fail(&o, what, code, c->err);
out:
	probe_out_end(&o);
	tc_close(&s);
	free(c);
	return rc;
}
