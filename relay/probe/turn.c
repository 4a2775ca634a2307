/* turn.c: `edgeprobe turn HOST:PORT --peer ADDR:PORT [steps]`: one session
 * that allocates and then permits, binds a channel, sends and waits for the
 * echo, in that order, reporting each step. One process, because an
 * allocation belongs to its client 5-tuple (UDP) or connection (TCP).
 * `permit`, `channel` and `send` are this command with that step implied.
 * With --relay-tcp the allocation is RFC 6062's: the steps are Connect, a
 * data connection and ConnectionBind, then raw bytes (tcprelay.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "turnc.h"

static const char usage_fmt[] =
	"usage: edgeprobe %s HOST:PORT --peer ADDR:PORT [options]\n"
	"  --peer ADDR:PORT     the peer (XOR-PEER-ADDRESS)\n"
	"  --permit             CreatePermission for the peer\n"
	"  --channel N          ChannelBind N (0x4000-0x7FFE, decimal or 0x..) to the peer\n"
	"  --send TEXT          send TEXT to the peer: ChannelData if a channel is bound,\n"
	"                       else a Send indication (after a CreatePermission)\n"
	"  --expect-echo        wait for the peer to send TEXT back (a UDP echo peer)\n"
	"  --relay-tcp          RFC 6062 TCP relaying: Allocate with REQUESTED-TRANSPORT TCP\n"
	"                       (needs --tcp or --tls), CreatePermission and Connect to the\n"
	"                       peer, then a second connection to the server (TLS if --tls)\n"
	"                       bound with ConnectionBind carries --send TEXT raw to the peer,\n"
	"                       and --expect-echo wants the same bytes back (echo --tcp)\n"
	"  --connection-id ID   with --relay-tcp: ConnectionBind ID instead of the one the\n"
	"                       Connect gave (to test the server)\n"
	"  --refresh            a Refresh after the Allocate\n"
	"  --keep               no delete (Refresh LIFETIME 0) at exit\n"
	"  --reflect N          after the steps, send every datagram relayed to us back to\n"
	"                       its sender (Send indication; the permission must cover it)\n"
	"                       until N came and 500 ms passed with no more, or 4 timeouts;\n"
	"                       \"reflecting at RELAYED\" goes to stderr first\n"
	"  --bind ADDR[:PORT]   client source address\n"
	"%s";

enum {
	TU_PEER = 1, TU_PERMIT, TU_CHANNEL, TU_SEND, TU_ECHO, TU_REFRESH, TU_KEEP, TU_BIND, TU_HELP,
	TU_RELAY_TCP, TU_CONN_ID, TU_REFLECT,
};

struct steps {
	struct sockaddr_storage peer;
	int have_peer, permit, refresh, keep, echo;
	long channel;
	const char *send;
	const char *bind;
	const char *target;
	int relay_tcp, have_conn_id;
	uint32_t conn_id; /* --connection-id */
	long reflect;     /* --reflect N */
};

/* Report a step: "ok" or its error line; returns 0 if it succeeded. */
static int step(struct out *o, const char *what, struct tc_sess *s, int failed)
{
	probe_out_str(o, what, failed ? s->err : "ok");
	return failed;
}

/* A data session's failure becomes the session's (the one reported). */
static int data_failed(struct out *o, const char *what, struct tc_sess *s,
		       const struct tc_sess *d)
{
	s->code = d->code;
	memcpy(s->err, d->err, sizeof s->err);
	return step(o, what, s, 1);
}

/* Read back exactly what was sent, within the timeout, a chunk at a time
 * (compared as it comes: nothing is kept). */
static int data_echo(struct out *o, struct tc_sess *d, const char *sent)
{
	size_t len = strlen(sent), got = 0;
	double end = probe_now_ms() + d->cfg->timeout_ms;
	uint8_t buf[4096];
	int rc = 0;

	while (!rc && got < len) {
		long n = tc_data_recv(d, buf, sizeof buf, end);

		if (n < 0) {
			rc = -1;
		} else if (n == 0) {
			snprintf(d->err, sizeof d->err, "echo: %zu of %zu bytes came back within %d ms",
				 got, len, d->cfg->timeout_ms);
			rc = -1;
		} else if ((size_t)n > len - got || memcmp(buf, sent + got, (size_t)n)) {
			size_t i = 0;

			while (i < (size_t)n && got + i < len && buf[i] == (uint8_t)sent[got + i])
				i++;
			got += i;
			snprintf(d->err, sizeof d->err, "echo: what came back differs from what was sent "
				 "at byte %zu (of %zu sent)", got, len);
			rc = -1;
		} else {
			got += (size_t)n;
		}
	}
	probe_out_int(o, "echoed", (long long)got);
	if (!rc)
		probe_out_str(o, "echo", "ok");
	return rc;
}

/* RFC 6062 after the permission: Connect, the data connection and its
 * ConnectionBind, then TEXT raw to the peer and maybe its echo. */
static int run_tcp_steps(struct out *o, struct tc_sess *s, struct steps *st)
{
	struct tc_sess d;
	uint32_t id;
	char a[NETADDR_STRLEN];
	int rc = -1;

	if (step(o, "connect", s, tc_connect(s, (const struct sockaddr *)&st->peer, &id)))
		return -1;
	probe_out_int(o, "connection_id", id);
	if (st->have_conn_id) {
		id = st->conn_id;
		probe_out_int(o, "bind_connection_id", id);
	}
	if (tc_data_open(&d, s, st->target)) {
		data_failed(o, "data_connection", s, &d);
		goto out;
	}
	probe_out_str(o, "data_local", netaddr_str((struct sockaddr *)&d.ps->local, a, sizeof a));
	if (tc_connection_bind(&d, id)) {
		data_failed(o, "connection_bind", s, &d);
		goto out;
	}
	probe_out_str(o, "connection_bind", "ok");
	if (st->send) {
		if (tc_data_send(&d, st->send, strlen(st->send))) {
			data_failed(o, "send", s, &d);
			goto out;
		}
		probe_out_int(o, "sent", (long long)strlen(st->send));
	}
	if (st->echo && data_echo(o, &d, st->send)) {
		data_failed(o, "echo", s, &d);
		goto out;
	}
	rc = 0;
out:
	tc_close(&d);
	return rc;
}

static int run_steps(struct out *o, struct tc_sess *s, struct steps *st)
{
	const struct sockaddr *peer = (const struct sockaddr *)&st->peer;
	char a[NETADDR_STRLEN];

	if (st->refresh && step(o, "refresh", s, tc_refresh(s, s->cfg->lifetime >= 0 ? s->cfg->lifetime : 600)))
		return -1;
	if (st->permit && step(o, "permit", s, tc_permit(s, peer)))
		return -1;
	if (st->relay_tcp)
		return st->have_peer ? run_tcp_steps(o, s, st) : 0;
	if (st->channel) {
		if (step(o, "channel", s, tc_channel_bind(s, (uint16_t)st->channel, peer)))
			return -1;
		probe_out_int(o, "channel_number", st->channel);
	}
	if (st->send) {
		size_t len = strlen(st->send);
		int r = st->channel ? tc_send_channel(s, (uint16_t)st->channel, st->send, len)
				    : tc_send_indication(s, peer, st->send, len);
		if (step(o, "send", s, r))
			return -1;
		probe_out_str(o, "send_via", st->channel ? "channel" : "send-indication");
	}
	if (st->echo) {
		struct sockaddr_storage from;
		const uint8_t *data;
		const char *via;
		size_t len;
		int r = tc_recv_data(s, probe_now_ms() + s->cfg->timeout_ms, &from, &data, &len, &via);

		if (r < 0)
			return step(o, "echo", s, 1);
		if (r == 0) {
			snprintf(s->err, sizeof s->err, "echo: nothing came back within %d ms",
				 s->cfg->timeout_ms);
			s->code = 0;
			return step(o, "echo", s, 1);
		}
		probe_out_str(o, "echo_from", netaddr_str((struct sockaddr *)&from, a, sizeof a));
		probe_out_str(o, "echo_via", via);
		if (len != strlen(st->send) || memcmp(data, st->send, len)) {
			snprintf(s->err, sizeof s->err, "echo: %zu bytes came back, not what was sent", len);
			return step(o, "echo", s, 1);
		}
		probe_out_str(o, "echo", "ok");
	}
	return 0;
}

/* --reflect: the relay's far side for a client elsewhere (S20: an MS-TURN
 * client on the other node sends here and wants its data back). The
 * relayed address goes to stderr at once, so that whoever starts the far
 * client knows where to send before this process ends. */
static int reflect(struct out *o, struct tc_sess *s, long want)
{
	double end = probe_now_ms() + 4.0 * s->cfg->timeout_ms, quiet = 0;
	uint8_t buf[2048];
	char a[NETADDR_STRLEN];
	long n = 0;

	fprintf(stderr, "reflecting at %s\n", netaddr_str((struct sockaddr *)&s->relayed[0], a, sizeof a));
	fflush(stderr);
	while (probe_now_ms() < end) {
		struct sockaddr_storage from;
		const uint8_t *data;
		const char *via;
		size_t len;
		int r = tc_recv_data(s, n >= want ? quiet : end, &from, &data, &len, &via);

		if (r < 0)
			return step(o, "reflect", s, 1);
		if (r == 0)
			break;
		if (!n) {
			probe_out_str(o, "reflected_from", netaddr_str((struct sockaddr *)&from, a, sizeof a));
			probe_out_str(o, "reflected_via", via);
		}
		/* Copied: the frame data points into is reused by the next receive. */
		len = len < sizeof buf ? len : sizeof buf;
		memcpy(buf, data, len);
		if (tc_send_indication(s, (struct sockaddr *)&from, buf, len))
			return step(o, "reflect", s, 1);
		quiet = probe_now_ms() + 500;
		n++;
	}
	probe_out_int(o, "reflected", n);
	if (n < want) {
		snprintf(s->err, sizeof s->err, "reflect: %ld of %ld datagrams came through the relay", n, want);
		s->code = 0;
		return step(o, "reflect", s, 1);
	}
	return 0;
}

/* implied: "permit", "channel", "send" or NULL for plain `turn`. */
static int probe_turn_cmd(int argc, char **argv, const char *name, const char *implied)
{
	static const struct option opts[] = {
		TC_COMMON_OPTIONS,
		{"peer", required_argument, NULL, TU_PEER},
		{"permit", no_argument, NULL, TU_PERMIT},
		{"channel", required_argument, NULL, TU_CHANNEL},
		{"send", required_argument, NULL, TU_SEND},
		{"expect-echo", no_argument, NULL, TU_ECHO},
		{"refresh", no_argument, NULL, TU_REFRESH},
		{"keep", no_argument, NULL, TU_KEEP},
		{"bind", required_argument, NULL, TU_BIND},
		{"relay-tcp", no_argument, NULL, TU_RELAY_TCP},
		{"connection-id", required_argument, NULL, TU_CONN_ID},
		{"reflect", required_argument, NULL, TU_REFLECT},
		{"help", no_argument, NULL, TU_HELP},
		{0, 0, 0, 0},
	};
	struct tc_cfg c;
	struct tc_sess s;
	struct steps st = {0};
	struct out o;
	char what[160];
	int ch, rc = 1;

	tc_cfg_init(&c);
	while ((ch = tc_getopt(&c, argc, argv, opts)) != -1) {
		if (ch == TC_OPT_BAD)
			return 2;
		switch (ch) {
		case TU_PEER:
			if (tc_parse_peer("--peer", optarg, &st.peer))
				return 2;
			st.have_peer = 1;
			break;
		case TU_PERMIT: st.permit = 1; break;
		case TU_CHANNEL:
			st.channel = strtol(optarg, NULL, 0);
			if (st.channel < TURN_CHANNEL_MIN || st.channel > 0xFFFF) {
				fprintf(stderr, "edgeprobe: bad --channel '%s': want 0x4000..0x7FFE "
						"(anything else is sent as asked, to test the server)\n", optarg);
				return 2;
			}
			break;
		case TU_SEND: st.send = optarg; break;
		case TU_ECHO: st.echo = 1; break;
		case TU_REFRESH: st.refresh = 1; break;
		case TU_KEEP: st.keep = 1; break;
		case TU_BIND: st.bind = optarg; break;
		case TU_RELAY_TCP: st.relay_tcp = c.relay_tcp = 1; break;
		case TU_CONN_ID: {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || *optarg == '-' || v > 0xffffffffULL) {
				fprintf(stderr, "edgeprobe %s: bad --connection-id '%s': want 0..4294967295\n",
					name, optarg);
				return 2;
			}
			st.conn_id = (uint32_t)v;
			st.have_conn_id = 1;
			break;
		}
		case TU_REFLECT:
			st.reflect = strtol(optarg, NULL, 10);
			if (st.reflect < 1 || st.reflect > 1000) {
				fprintf(stderr, "edgeprobe %s: bad --reflect '%s': want 1..1000\n", name, optarg);
				return 2;
			}
			break;
		case TU_HELP: printf(usage_fmt, name, TC_COMMON_HELP); return 0;
		default:
			fprintf(stderr, "edgeprobe %s: unknown or incomplete option '%s'\n", name,
				argv[optind - 1]);
			return 2;
		}
	}
	if (implied && !strcmp(implied, "permit"))
		st.permit = 1;
	if (implied && !strcmp(implied, "channel") && !st.channel)
		st.channel = TURN_CHANNEL_MIN;
	if (implied && !strcmp(implied, "send") && !st.send)
		st.send = "edgeprobe";
	/* A Send indication needs a permission, or the relay drops it. */
	if (st.send && !st.channel)
		st.permit = 1;
	if (st.echo && !st.send)
		st.send = "edgeprobe";
	if (optind != argc - 1) {
		fprintf(stderr, "edgeprobe %s: want exactly one HOST:PORT (see --help)\n", name);
		return 2;
	}
	if (!st.have_peer && (st.permit || st.channel || st.send)) {
		fprintf(stderr, "edgeprobe %s: --peer ADDR:PORT is needed\n", name);
		return 2;
	}
	if (st.relay_tcp && c.tp == TP_UDP) {
		fprintf(stderr, "edgeprobe %s: --relay-tcp (RFC 6062) needs --tcp or --tls: a TCP "
				"allocation is asked for, and its data connections made, over TCP or TLS\n",
			name);
		return 2;
	}
	if (st.relay_tcp && st.channel) {
		fprintf(stderr, "edgeprobe %s: --channel does not go with --relay-tcp: a TCP allocation's "
				"data takes its own connection, not a channel\n", name);
		return 2;
	}
	if (st.reflect && (st.relay_tcp || !st.permit || st.channel || st.send)) {
		fprintf(stderr, "edgeprobe %s: --reflect wants --permit --peer (the permission covers "
				"the far side's address) and no --channel, --send or --relay-tcp\n", name);
		return 2;
	}
	if (st.have_conn_id && !(st.relay_tcp && st.have_peer)) {
		fprintf(stderr, "edgeprobe %s: --connection-id needs --relay-tcp and --peer\n", name);
		return 2;
	}
	/* RFC 6062: a Connect needs the peer's permission, as data does. */
	if (st.relay_tcp && st.have_peer)
		st.permit = 1;
	st.target = argv[optind];
	snprintf(what, sizeof what, "%s %s/%s", name, argv[optind], transport_name(c.tp));
	probe_out_begin(&o, c.json, name, argv[optind], transport_name(c.tp));
	if (tc_open(&s, &c, argv[optind], st.bind)) {
		probe_out_fail(&o, what, 0, s.err);
		probe_out_end(&o);
		return 1;
	}
	if (st.have_peer) {
		char a[NETADDR_STRLEN];
		probe_out_str(&o, "peer", netaddr_str((struct sockaddr *)&st.peer, a, sizeof a));
	}
	if (st.relay_tcp)
		probe_out_str(&o, "relay_transport", "tcp");
	if (tc_allocate(&s)) {
		probe_out_str(&o, "allocate", s.err);
		probe_out_fail(&o, what, s.code, s.err);
		goto out;
	}
	probe_out_str(&o, "allocate", "ok");
	probe_allocate_report(&o, &s);
	if (run_steps(&o, &s, &st) || (st.reflect && reflect(&o, &s, st.reflect))) {
		probe_out_fail(&o, what, s.code, s.err);
		goto out;
	}
	if (!st.keep && step(&o, "delete", &s, tc_refresh(&s, 0))) {
		probe_out_fail(&o, what, s.code, s.err);
		goto out;
	}
	rc = 0;
out:
	probe_out_end(&o);
	/* A failed step still leaves no allocation behind (errors are
	 * already reported; this one's own outcome does not matter). */
	if (s.allocated && !st.keep)
		tc_refresh(&s, 0);
	tc_close(&s);
	return rc;
}

int probe_turn_main(int argc, char **argv) { return probe_turn_cmd(argc, argv, "turn", NULL); }
int probe_permit_main(int argc, char **argv) { return probe_turn_cmd(argc, argv, "permit", "permit"); }
int probe_channel_main(int argc, char **argv) { return probe_turn_cmd(argc, argv, "channel", "channel"); }
int probe_send_main(int argc, char **argv) { return probe_turn_cmd(argc, argv, "send", "send"); }
