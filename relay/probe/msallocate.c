/* msallocate.c: `edgeprobe allocate --ms-turn[=VERSION] HOST:PORT`: one
 * [MS-TURN] allocation (R19) as a Lync client makes it: Allocate, the
 * digest challenge (401 with NONCE and REALM), the signed Allocate, then a
 * release (Allocate with LIFETIME 0) unless --keep. Over UDP, or TCP with
 * the 2.1.4 framing, or TCP after the pseudo-TLS exchange (--pseudo-tls,
 * as on 443). Reports what came back: the relayed address
 * (MAPPED-ADDRESS, and MS-Alternate Mapped Address), the client's own
 * (XOR Mapped Address 0x8020), lifetime, MS-Version, whether the answer's
 * integrity verified, and where the answer came from as the socket saw it
 * (behind a balancer: the VIP when the request went to the VIP). With
 * --echo PEER (an `edgeprobe echo` peer), the data path too: a Send
 * request must come back in a Data Indication from PEER, and after Set
 * Active Destination raw data must come back raw (sent in multiplexed
 * packets when the answer gave a session id: MS-Version 5 over UDP, 6 over
 * TCP; then 3 packets naming a wrong id must not). Over TCP the allocation
 * is a TCP one ([MS-TURN] 3.2.5.1): PEER is an `edgeprobe echo --tcp`,
 * and the payloads are RFC 4571 frames, as avedge hands a TCP peer's
 * bytes back one such frame at a time (docs/ARCHITECTURE.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "msclient.h"

enum { MO_MS = 0x200, MO_PTLS, MO_BIND, MO_KEEP, MO_ECHO, MO_HELP };

static const char usage[] =
	"usage: edgeprobe allocate --ms-turn[=VERSION] HOST:PORT [options]\n"
	"  --ms-turn[=VERSION]  speak [MS-TURN] (MS-Version 1..6, default 1)\n"
	"  --pseudo-tls         TCP, opened with the pseudo-TLS exchange (as on 443)\n"
	"  --bind ADDR[:PORT]   client source address\n"
	"  --keep               do not release the allocation at exit\n"
	"  --echo ADDR:PORT     then through an echo peer: a Send request back as a Data\n"
	"                       Indication; Set Active Destination; raw data back raw\n"
	"                       (sent multiplexed when the answer has a session id)\n"
	"                       (over TCP an `edgeprobe echo --tcp` peer: the allocation is\n"
	"                       TCP, the payloads RFC 4571 frames)\n"
	"  --family 6           REQUESTED-ADDRESS-FAMILY IPv6 (MS-Version 4 and later)\n"
	"  --sha256             sign with HMAC-SHA256 (MS-Version 3 and later)\n"
	TC_COMMON_HELP;

/* The payload a check sends: as it is over UDP; over TCP behind its
 * RFC 4571 length. Its length. */
static size_t payload_of(const struct ms_client *c, const char *text, uint8_t *out)
{
	size_t n = strlen(text), h = c->stream ? 2 : 0;

	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	memcpy(out + h, text, n);
	return n + h;
}

/* Send requests (retried, as they are never answered) until a Data
 * Indication from peer brings the payload back. */
static int echo_send(struct ms_client *c, const struct sockaddr_storage *peer)
{
	uint8_t req[512], payload[64];
	struct sockaddr_storage from;
	const struct stun_attr *d;
	size_t n, plen = payload_of(c, "ms-turn send request", payload);

	for (int tries = 0; tries < 5; tries++) {
		double end = probe_now_ms() + c->timeout_ms / 5;
		int len = msc_signed(c, MSTURN_SEND, (const struct sockaddr *)peer, payload, plen,
				     req, sizeof req);
		if (len < 0 || msc_send(c, req, (size_t)len))
			return msc_fail(c, "%s", "cannot send the Send request");
		for (int k; (k = msc_next_in(c, end, &n)) > 0;)
			if (k == 1 && c->m.type == MSTURN_DATA_IND &&
			    (d = stun_msg_attr(&c->m, MS_A_DATA)) && d->len == plen &&
			    !memcmp(d->val, payload, plen) &&
			    !stun_msg_addr(&c->m, MS_A_REMOTE_ADDRESS, &from) &&
			    netaddr_equal((struct sockaddr *)&from, (const struct sockaddr *)peer))
				return 0;
	}
	return msc_fail(c, "%s", "no Data Indication from the peer with the Send request's data");
}

/* After Set Active Destination: raw data back raw. When the allocation
 * has a multiplexed session (MS-Version 5 over UDP, 6 over TCP) the data
 * goes in 2.2.3 packets naming it ([MS-TURN] 3.2.4.6); what comes back is
 * what avedge sends from the active destination (bare: see
 * docs/ARCHITECTURE.md). */
static int echo_active(struct ms_client *c, const struct sockaddr_storage *peer)
{
	uint8_t payload[64];
	size_t n, plen = payload_of(c, "raw after Set Active Destination", payload);

	if (msc_set_active(c, peer))
		return -1;
	for (int tries = 0; tries < 5; tries++) {
		double end = probe_now_ms() + c->timeout_ms / 5;
		if (msc_send_data(c, payload, plen, c->mux ? c->mux_id : NULL))
			return msc_fail(c, "%s", "cannot send raw data");
		for (int k; (k = msc_next_in(c, end, &n)) > 0;)
			if (k == 2 && n == plen && !memcmp(c->rbuf, payload, n))
				return 0;
	}
	return msc_fail(c, "%s", "raw data did not come back raw after Set Active Destination");
}

/* Multiplexed packets naming a session id we were not given (ours with
 * its last bit flipped) must go nowhere: how many came back in 500 ms, or
 * -1 when they could not be sent. */
static int echo_wrong_session(struct ms_client *c, int count)
{
	uint8_t payload[64], wrong[MSTURN_MUX_ID_LEN];
	size_t n, plen = payload_of(c, "wrong multiplexed session id", payload);
	double end;
	int back = 0;

	memcpy(wrong, c->mux_id, sizeof wrong);
	wrong[MSTURN_MUX_ID_LEN - 1] ^= 1;
	for (int i = 0; i < count; i++)
		if (msc_send_data(c, payload, plen, wrong))
			return -1;
	end = probe_now_ms() + 500;
	for (int k; (k = msc_next_in(c, end, &n)) > 0;)
		back += k == 2 && n == plen && !memcmp(c->rbuf, payload, n);
	return back;
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
	struct ms_big {
		struct ms_client c;
		uint8_t rbuf[70000];
	} *big = calloc(1, sizeof *big);
	struct ms_client *c = big ? &big->c : NULL;
	const char *bind = NULL, *echo = NULL;
	char what[160], a[NETADDR_STRLEN];
	struct sockaddr_storage ss;
	int ch, ptls = 0, keep = 0, code = 0, rc = 1;
	long v;

	if (!c)
		return 1;
	c->rbuf = big->rbuf;
	c->rcap = sizeof big->rbuf;
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
	c->fd = s.ps->fd;
	c->server = s.ps->server;
	c->stream = cfg.tp != TP_UDP;
	c->timeout_ms = cfg.timeout_ms;
	c->sha256 = cfg.sha256 && c->version >= 3;
	c->want_v6 = cfg.family == 6;
	c->user = s.user;
	c->pass = s.pass;
	c->src = s.ps->server; /* a stream's peer; a datagram's sender replaces it */
	if (ptls && msc_pseudo_tls(c))
		goto failed;
	if (ptls)
		probe_out_str(&o, "pseudo_tls", "ok");
	if (msc_start(c, cfg.lifetime, &code))
		goto failed;
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
		uint32_t u = 0;
		if (la && !stun_attr_u32(la, &u))
			probe_out_int(&o, "lifetime", u);
		probe_out_str(&o, "sequence_number", c->have_seq ? "present" : "absent");
		if (c->mux) {
			for (int i = 0; i < MSTURN_MUX_ID_LEN; i++)
				snprintf(a + 2 * i, sizeof a - 2 * (size_t)i, "%02x", c->mux_id[i]);
			probe_out_str(&o, "mux_session", a);
		} else {
			probe_out_str(&o, "mux_session", "absent");
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
		probe_out_str(&o, "active_sent_as", c->mux ? "multiplexed" : "bare");
		if (c->mux) {
			int back = echo_wrong_session(c, 3);
			if (back < 0) {
				snprintf(c->err, sizeof c->err, "cannot send the wrong-session packets");
				goto failed;
			}
			probe_out_int(&o, "mux_wrong_sent", 3);
			probe_out_int(&o, "mux_wrong_echoed", back);
		}
	}
	if (!keep) {
		if (msc_allocate(c, 0, &code))
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
