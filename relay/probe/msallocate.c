/* msallocate.c: `edgeprobe allocate --ms-turn[=VERSION] HOST:PORT`: one
 * [MS-TURN] allocation (R19) as a Lync client makes it: Allocate, the
 * digest challenge (401 with NONCE and REALM), the signed Allocate, then a
 * release (Allocate with LIFETIME 0) unless --keep. Over UDP, or TCP with
 * the 2.1.4 framing, or TCP after the pseudo-TLS exchange (--pseudo-tls,
 * as on 443). Reports what came back: the relayed address
 * (MAPPED-ADDRESS, and MS-Alternate Mapped Address), the client's own
 * (XOR Mapped Address 0x8020), lifetime, MS-Version, whether the answer's
 * integrity verified, and where the answer came from as the socket saw it
 * (behind a balancer: the VIP when the request went to the VIP). With --echo PEER (an `edgeprobe echo` peer), the data
 * path too: a Send request must come back in a Data Indication from PEER,
 * and after Set Active Destination raw data must come back raw. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "stun/msturn.h"
#include "turnc.h"

enum { MO_MS = 0x200, MO_PTLS, MO_BIND, MO_KEEP, MO_ECHO, MO_HELP };

static const char usage[] =
	"usage: edgeprobe allocate --ms-turn[=VERSION] HOST:PORT [options]\n"
	"  --ms-turn[=VERSION]  speak [MS-TURN] (MS-Version 1..6, default 1)\n"
	"  --pseudo-tls         TCP, opened with the pseudo-TLS exchange (as on 443)\n"
	"  --bind ADDR[:PORT]   client source address\n"
	"  --keep               do not release the allocation at exit\n"
	"  --echo ADDR:PORT     then through an echo peer: a Send request back as a Data\n"
	"                       Indication; Set Active Destination; raw data back raw\n"
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
	uint8_t conn_id[MSTURN_CONN_ID_LEN];
	uint32_t seq;
	int have_seq;
	struct sockaddr_storage src; /* sender of the last datagram read */
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

/* Exactly n bytes from a stream: 0, or -1 at the deadline, -2 when the
 * server closed, -3 on a reset or other error (errno). */
static int read_n(struct ms *c, uint8_t *buf, size_t n, double deadline)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r;
		if (wait_in(c->ps->fd, deadline) <= 0)
			return -1;
		if ((r = recv(c->ps->fd, buf + got, n - got, 0)) <= 0)
			return r == 0 ? -2 : -3;
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

/* One datagram into c->rbuf, its sender into c->src. */
static ssize_t recv_dgram(struct ms *c)
{
	socklen_t sl = sizeof c->src;

	return recvfrom(c->ps->fd, c->rbuf, sizeof c->rbuf, 0, (struct sockaddr *)&c->src, &sl);
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
			if ((r = recv_dgram(c)) <= 0)
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
	switch (read_n(c, got, sizeof got, probe_now_ms() + c->timeout_ms)) {
	case 0: break;
	case -1: return fail(c, "%s", "no pseudo-TLS ServerHello before the timeout");
	case -2: return fail(c, "%s", "connection closed before the pseudo-TLS ServerHello");
	default: return fail(c, "connection %s before the pseudo-TLS ServerHello",
			     errno == ECONNRESET ? "reset" : strerror(errno));
	}
	return memcmp(got, want, sizeof want) ? fail(c, "%s", "pseudo-TLS answer is not the fixed one") : 0;
}

/* A signed request on the allocation (Send, Set Active Destination): the
 * next MS-Sequence Number, USERNAME, REALM, the integrity. */
static int signed_msg(struct ms *c, uint16_t type, const struct sockaddr *dest, const void *data,
		      size_t len, uint8_t *out, size_t cap)
{
	uint8_t tid[MSTURN_TID_LEN];
	struct stun_writer w;

	msturn_tid_random(tid);
	msturn_writer_init(&w, out, cap, type, tid);
	stun_put_str(&w, MS_A_USERNAME, c->user);
	if (c->have_seq)
		msturn_put_seq(&w, c->conn_id, ++c->seq);
	stun_put_str(&w, STUN_A_REALM, c->realm);
	if (dest)
		stun_put_addr(&w, MS_A_DESTINATION_ADDRESS, dest);
	if (data)
		stun_put_attr(&w, MS_A_DATA, data, len);
	msturn_put_integrity(&w, c->key, 16, c->sha256);
	return stun_writer_finish(&w);
}

/* The next thing from the server: an [MS-TURN] message (1, in c->m), raw
 * data (2, n bytes at c->rbuf), or -1 at the deadline. */
static int next_in(struct ms *c, double end, size_t *n)
{
	if (c->stream) {
		uint8_t hdr[MSTURN_FRAME_HDR];
		if (read_n(c, hdr, sizeof hdr, end) || !(*n = msturn_frame_len(hdr, sizeof hdr)))
			return -1;
		*n -= MSTURN_FRAME_HDR;
		if (read_n(c, c->rbuf, *n, end))
			return -1;
		if (hdr[0] == MSTURN_FRAME_DATA)
			return 2;
	} else {
		ssize_t r;
		if (wait_in(c->ps->fd, end) <= 0 || (r = recv_dgram(c)) <= 0)
			return -1;
		*n = (size_t)r;
	}
	return msturn_parse(&c->m, c->rbuf, *n) ? 2 : 1;
}

/* Send requests (retried, as they are never answered) until a Data
 * Indication from peer brings the payload back. */
static int echo_send(struct ms *c, const struct sockaddr_storage *peer)
{
	static const char payload[] = "ms-turn send request";
	uint8_t req[512];
	struct sockaddr_storage from;
	const struct stun_attr *d;
	size_t n;

	for (int tries = 0; tries < 5; tries++) {
		double end = probe_now_ms() + c->timeout_ms / 5;
		int len = signed_msg(c, MSTURN_SEND, (const struct sockaddr *)peer, payload,
				     sizeof payload - 1, req, sizeof req);
		if (len < 0 || send_msg(c, req, (size_t)len))
			return fail(c, "%s", "cannot send the Send request");
		for (int k; (k = next_in(c, end, &n)) > 0;)
			if (k == 1 && c->m.type == MSTURN_DATA_IND &&
			    (d = stun_msg_attr(&c->m, MS_A_DATA)) && d->len == sizeof payload - 1 &&
			    !memcmp(d->val, payload, d->len) &&
			    !stun_msg_addr(&c->m, MS_A_REMOTE_ADDRESS, &from) &&
			    netaddr_equal((struct sockaddr *)&from, (const struct sockaddr *)peer))
				return 0;
	}
	return fail(c, "%s", "no Data Indication from the peer with the Send request's data");
}

static int echo_active(struct ms *c, const struct sockaddr_storage *peer)
{
	static const char payload[] = "raw after Set Active Destination";
	uint8_t req[512], frame[64];
	size_t n;
	int len = signed_msg(c, MSTURN_SET_ACTIVE_DEST, (const struct sockaddr *)peer, NULL, 0, req,
			     sizeof req);

	if (len < 0 || transact(c, req, (size_t)len))
		return -1;
	if (c->m.type != MSTURN_SET_ACTIVE_DEST_OK)
		return fail(c, "%s", "Set Active Destination refused");
	if (stun_msg_check_integrity(&c->m, c->key, 16))
		return fail(c, "%s", "Set Active Destination answer's integrity does not verify");
	for (int tries = 0; tries < 5; tries++) {
		double end = probe_now_ms() + c->timeout_ms / 5;
		ssize_t r;
		if (c->stream) {
			msturn_frame_hdr(frame, MSTURN_FRAME_DATA, sizeof payload - 1);
			memcpy(frame + MSTURN_FRAME_HDR, payload, sizeof payload - 1);
			r = send(c->ps->fd, frame, MSTURN_FRAME_HDR + sizeof payload - 1, 0);
		} else {
			r = sendto(c->ps->fd, payload, sizeof payload - 1, 0,
				   (struct sockaddr *)&c->ps->server,
				   netaddr_len((struct sockaddr *)&c->ps->server));
		}
		if (r <= 0)
			return fail(c, "%s", "cannot send raw data");
		for (int k; (k = next_in(c, end, &n)) > 0;)
			if (k == 2 && n == sizeof payload - 1 && !memcmp(c->rbuf, payload, n))
				return 0;
	}
	return fail(c, "%s", "raw data did not come back raw after Set Active Destination");
}

int probe_ms_allocate_main(int argc, char **argv)
{
	static const struct option opts[] = {
		TC_COMMON_OPTIONS,
		{"ms-turn", optional_argument, NULL, MO_MS},
		{"pseudo-tls", no_argument, NULL, MO_PTLS},
		{"bind", required_argument, NULL, MO_BIND},
		{"keep", no_argument, NULL, MO_KEEP},
		{"echo", required_argument, NULL, MO_ECHO},
		{"help", no_argument, NULL, MO_HELP},
		{0, 0, 0, 0},
	};
	struct tc_cfg cfg;
	struct tc_sess s;
	struct out o;
	struct ms *c = calloc(1, sizeof *c);
	const char *bind = NULL, *echo = NULL;
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
		case MO_ECHO: echo = optarg; break;
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
	c->src = s.ps->server; /* a stream's peer; a datagram's sender replaces it */
	if (ptls && pseudo_tls(c))
		goto failed;
	if (ptls)
		probe_out_str(&o, "pseudo_tls", "ok");
	if (allocate(c, cfg.lifetime, &code)) {
		if (code != 401 || take_challenge(c) || allocate(c, cfg.lifetime, &code))
			goto failed;
	}
	probe_out_str(&o, "from", netaddr_str((struct sockaddr *)&c->src, a, sizeof a));
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
		c->have_seq = !msturn_seq(&c->m, &id, &u);
		probe_out_str(&o, "sequence_number", c->have_seq ? "present" : "absent");
		if (c->have_seq) {
			memcpy(c->conn_id, id, MSTURN_CONN_ID_LEN);
			c->seq = u;
		}
	}
	if (stun_msg_check_integrity(&c->m, c->key, 16)) {
		snprintf(c->err, sizeof c->err, "the answer's MESSAGE-INTEGRITY does not verify");
		goto failed;
	}
	if (echo) {
		struct sockaddr_storage peer;
		if (tc_parse_peer("--echo", echo, &peer)) {
			snprintf(c->err, sizeof c->err, "bad --echo");
			goto failed;
		}
		if (echo_send(c, &peer))
			goto failed;
		probe_out_str(&o, "send_echo", "ok");
		probe_out_str(&o, "send_echo_from", netaddr_str((struct sockaddr *)&c->src, a, sizeof a));
		if (echo_active(c, &peer))
			goto failed;
		probe_out_str(&o, "active_echo", "ok");
		probe_out_str(&o, "active_echo_from", netaddr_str((struct sockaddr *)&c->src, a, sizeof a));
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
