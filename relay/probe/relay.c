/* relay.c: `edgeprobe relay --a S1 --b S2`: the two-client media check
 * (SPEC S5). Client A allocates on S1, client B on S2; each lets the other's
 * relayed address in (ChannelBind, or CreatePermission with
 * --send-indication); A sends N messages to B's relayed address, then B to
 * A's. Reports counts, loss, and the peer each side saw the data come from,
 * which must be the other side's relayed address. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "turnc.h"

static const char usage[] =
	"usage: edgeprobe relay --a HOST:PORT --b HOST:PORT [options]\n"
	"       edgeprobe relay HOST:PORT [--b HOST:PORT] [options]   (A's server first)\n"
	"  --a, --b HOST:PORT   the servers clients A and B allocate on (B defaults to A's)\n"
	"  --a-bind (or --bind), --b-bind ADDR[:PORT]  their source addresses\n"
	"  --a-netns, --b-netns NAME  open that client's socket in network namespace\n"
	"                       NAME (ip netns), so A and B can sit on either side of an edge\n"
	"  --count N            messages each way (default 10)\n"
	"  --size BYTES         message size (default 100, at least 16)\n"
	"  --send-indication    Send/Data indications instead of channels\n"
	"  --max-loss PCT       loss tolerated each way before failing (default 0)\n"
	TC_COMMON_HELP;

enum { RO_A = 1, RO_B, RO_ABIND, RO_BBIND, RO_ANETNS, RO_BNETNS, RO_COUNT, RO_SIZE, RO_SENDIND, RO_MAXLOSS, RO_HELP };

#define CH_A 0x4001
#define CH_B 0x4002

struct dir_result {
	long sent, received, wrong;
	char peer[NETADDR_STRLEN]; /* the first peer the receiver saw */
	const char *via;
	int peer_ok;
};

/* Send count messages from src to dst and count what dst gets. Messages
 * are numbered so that late or duplicated ones are counted once. */
static int one_way(struct tc_sess *src, struct tc_sess *dst, int chan, uint16_t ch,
		   long count, size_t size, const char tag, struct dir_result *r)
{
	const struct sockaddr *to = (const struct sockaddr *)&dst->relayed[0];
	uint8_t *seen = calloc((size_t)count, 1), *msg = malloc(size);
	int per_ms = src->cfg->timeout_ms < 1000 ? src->cfg->timeout_ms : 1000;
	int rc = 0, misses = 0;

	if (!seen || !msg) {
		free(seen);
		free(msg);
		snprintf(src->err, sizeof src->err, "out of memory");
		return -1;
	}
	memset(r, 0, sizeof *r);
	r->peer_ok = 1;
	for (long i = 0; i < count && !rc; i++) {
		double deadline = probe_now_ms() + per_ms;

		memset(msg, 'x', size);
		snprintf((char *)msg, size, "edgeprobe %c %08ld", tag, i);
		if ((chan ? tc_send_channel(src, ch, msg, size)
			  : tc_send_indication(src, to, msg, size))) {
			rc = -1;
			break;
		}
		r->sent++;
		/* Read until this message arrives or its wait is over. */
		while (!seen[i]) {
			struct sockaddr_storage from;
			const uint8_t *data;
			const char *via;
			size_t len;
			char got[NETADDR_STRLEN];
			long seq;
			char t;
			int k = tc_recv_data(dst, deadline, &from, &data, &len, &via);

			if (k < 0) {
				snprintf(src->err, sizeof src->err, "%s", dst->err);
				rc = -1;
				break;
			}
			if (k == 0) {
				/* A dead path: after 3 misses in a row, stop waiting
				 * the full time for each of the rest. */
				if (++misses >= 3)
					per_ms = 50;
				break;
			}
			misses = 0;
			netaddr_str((struct sockaddr *)&from, got, sizeof got);
			if (!r->peer[0]) {
				snprintf(r->peer, sizeof r->peer, "%s", got);
				r->via = via;
			}
			if (!netaddr_equal((struct sockaddr *)&from,
					   (const struct sockaddr *)&src->relayed[0]))
				r->peer_ok = 0;
			if (len != size || sscanf((const char *)data, "edgeprobe %c %8ld", &t, &seq) != 2 ||
			    t != tag || seq < 0 || seq >= count) {
				r->wrong++;
				continue;
			}
			if (!seen[seq]) {
				seen[seq] = 1;
				r->received++;
			}
		}
	}
	free(seen);
	free(msg);
	return rc;
}

static void report_dir(struct out *o, const char *pfx, const struct dir_result *r)
{
	char k[48];

	snprintf(k, sizeof k, "%s_sent", pfx);
	probe_out_int(o, k, r->sent);
	snprintf(k, sizeof k, "%s_received", pfx);
	probe_out_int(o, k, r->received);
	snprintf(k, sizeof k, "%s_loss_pct", pfx);
	probe_out_num(o, k, r->sent ? 100.0 * (double)(r->sent - r->received) / (double)r->sent : 0, 2);
	snprintf(k, sizeof k, "%s_peer", pfx);
	probe_out_str(o, k, r->peer);
	snprintf(k, sizeof k, "%s_via", pfx);
	probe_out_str(o, k, r->via);
	if (r->wrong) {
		snprintf(k, sizeof k, "%s_garbled", pfx);
		probe_out_int(o, k, r->wrong);
	}
}

/* Open the session's socket inside namespace ns (NULL: where we are). A
 * socket keeps the namespace it was made in, so we step in, open, and step
 * straight back; the rest of the run needs no privilege. */
static int open_in(struct tc_sess *s, const struct tc_cfg *c, const char *srv,
		   const char *bind, const char *ns)
{
	char path[300];
	int home, there, rc;

	if (!ns)
		return tc_open(s, c, srv, bind);
	snprintf(path, sizeof path, "/run/netns/%s", ns);
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	there = open(path, O_RDONLY | O_CLOEXEC);
	if (home < 0 || there < 0 || setns(there, CLONE_NEWNET)) {
		snprintf(s->err, sizeof s->err, "cannot enter network namespace %s: %s", ns,
			 strerror(errno));
		rc = -1;
	} else {
		rc = tc_open(s, c, srv, bind);
		if (setns(home, CLONE_NEWNET)) {
			snprintf(s->err, sizeof s->err, "cannot return from network namespace %s: %s",
				 ns, strerror(errno));
			rc = -1;
		}
	}
	if (home >= 0)
		close(home);
	if (there >= 0)
		close(there);
	return rc;
}

static int setup(struct tc_sess *s, const struct tc_cfg *c, const char *srv, const char *bind,
		 const char *ns)
{
	return open_in(s, c, srv, bind, ns) || tc_allocate(s) ? -1 : 0;
}

int probe_relay_main(int argc, char **argv)
{
	static const struct option opts[] = {
		TC_COMMON_OPTIONS,
		{"a", required_argument, NULL, RO_A},
		{"b", required_argument, NULL, RO_B},
		{"a-bind", required_argument, NULL, RO_ABIND},
		{"bind", required_argument, NULL, RO_ABIND},
		{"b-bind", required_argument, NULL, RO_BBIND},
		{"a-netns", required_argument, NULL, RO_ANETNS},
		{"b-netns", required_argument, NULL, RO_BNETNS},
		{"count", required_argument, NULL, RO_COUNT},
		{"size", required_argument, NULL, RO_SIZE},
		{"send-indication", no_argument, NULL, RO_SENDIND},
		{"max-loss", required_argument, NULL, RO_MAXLOSS},
		{"help", no_argument, NULL, RO_HELP},
		{0, 0, 0, 0},
	};
	const char *sa = NULL, *sb = NULL, *abind = NULL, *bbind = NULL, *ans = NULL, *bns = NULL;
	long count = 10, size = 100;
	double max_loss = 0;
	int chan = 1, ch, rc = 1;
	struct tc_cfg c;
	struct tc_sess a = {0}, b = {0};
	struct dir_result ab, ba;
	struct out o;
	char what[300], addr[NETADDR_STRLEN];

	tc_cfg_init(&c);
	while ((ch = tc_getopt(&c, argc, argv, opts)) != -1) {
		if (ch == TC_OPT_BAD)
			return 2;
		switch (ch) {
		case RO_A: sa = optarg; break;
		case RO_B: sb = optarg; break;
		case RO_ABIND: abind = optarg; break;
		case RO_BBIND: bbind = optarg; break;
		case RO_ANETNS: ans = optarg; break;
		case RO_BNETNS: bns = optarg; break;
		case RO_COUNT: count = strtol(optarg, NULL, 10); break;
		case RO_SIZE: size = strtol(optarg, NULL, 10); break;
		case RO_SENDIND: chan = 0; break;
		case RO_MAXLOSS: max_loss = strtod(optarg, NULL); break;
		case RO_HELP: fputs(usage, stdout); return 0;
		default:
			fprintf(stderr, "edgeprobe relay: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			return 2;
		}
	}
	/* A positional server is A's, as the other commands take theirs
	 * (scenario helpers put the target first); B shares it by default. */
	if (!sa && optind == argc - 1)
		sa = argv[optind++];
	if (sa && !sb)
		sb = sa;
	if (!sa || !sb || optind != argc || count < 1 || count > 1000000 || size < 16 ||
	    size > 60000) {
		fprintf(stderr, "edgeprobe relay: want --a (or HOST:PORT), --count 1..1000000, "
				"--size 16..60000 (see --help)\n");
		return 2;
	}
	snprintf(what, sizeof what, "relay %s <-> %s/%s", sa, sb, transport_name(c.tp));
	probe_out_begin(&o, c.json, "relay", NULL, transport_name(c.tp));
	probe_out_str(&o, "a", sa);
	probe_out_str(&o, "b", sb);
	/* The JSON names the client that failed, as the text does. */
	if (setup(&a, &c, sa, abind, ans)) {
		char why[300];
		snprintf(why, sizeof why, "client A: %s", a.err);
		probe_out_str(&o, "failed", "a");
		probe_out_fail(&o, what, a.code, why);
		goto out;
	}
	if (setup(&b, &c, sb, bbind, bns)) {
		char why[300];
		snprintf(why, sizeof why, "client B: %s", b.err);
		probe_out_str(&o, "failed", "b");
		probe_out_fail(&o, what, b.code, why);
		goto out;
	}
	probe_out_str(&o, "a_from", netaddr_str((struct sockaddr *)&a.from, addr, sizeof addr));
	probe_out_str(&o, "a_relayed", netaddr_str((struct sockaddr *)&a.relayed[0], addr, sizeof addr));
	probe_out_str(&o, "a_mapped", netaddr_str((struct sockaddr *)&a.mapped, addr, sizeof addr));
	probe_out_str(&o, "b_from", netaddr_str((struct sockaddr *)&b.from, addr, sizeof addr));
	probe_out_str(&o, "b_relayed", netaddr_str((struct sockaddr *)&b.relayed[0], addr, sizeof addr));
	probe_out_str(&o, "b_mapped", netaddr_str((struct sockaddr *)&b.mapped, addr, sizeof addr));
	probe_out_str(&o, "mode", chan ? "channel" : "send-indication");
	/* Each side lets the other's relayed address in. */
	if (chan ? tc_channel_bind(&a, CH_A, (struct sockaddr *)&b.relayed[0])
		 : tc_permit(&a, (struct sockaddr *)&b.relayed[0])) {
		probe_out_fail(&o, what, a.code, a.err);
		goto out;
	}
	if (chan ? tc_channel_bind(&b, CH_B, (struct sockaddr *)&a.relayed[0])
		 : tc_permit(&b, (struct sockaddr *)&a.relayed[0])) {
		probe_out_fail(&o, what, b.code, b.err);
		goto out;
	}
	if (one_way(&a, &b, chan, CH_A, count, (size_t)size, 'A', &ab)) {
		probe_out_fail(&o, what, a.code, a.err);
		goto out;
	}
	if (one_way(&b, &a, chan, CH_B, count, (size_t)size, 'B', &ba)) {
		probe_out_fail(&o, what, b.code, b.err);
		goto out;
	}
	report_dir(&o, "a_to_b", &ab);
	report_dir(&o, "b_to_a", &ba);
	if (!ab.peer_ok || !ba.peer_ok) {
		char why[300];
		snprintf(why, sizeof why, "data came from %s, expected the other side's relayed address %s",
			 !ab.peer_ok ? ab.peer : ba.peer,
			 netaddr_str((struct sockaddr *)(!ab.peer_ok ? &a.relayed[0] : &b.relayed[0]),
				     addr, sizeof addr));
		probe_out_fail(&o, what, 0, why);
		goto out;
	}
	if (100.0 * (double)(ab.sent - ab.received) > max_loss * (double)ab.sent ||
	    100.0 * (double)(ba.sent - ba.received) > max_loss * (double)ba.sent) {
		char why[160];
		snprintf(why, sizeof why, "lost %ld of %ld A->B and %ld of %ld B->A", ab.sent - ab.received,
			 ab.sent, ba.sent - ba.received, ba.sent);
		probe_out_fail(&o, what, 0, why);
		goto out;
	}
	rc = 0;
out:
	probe_out_end(&o);
	/* Leave nothing behind, whatever happened. */
	if (a.allocated)
		tc_refresh(&a, 0);
	if (b.allocated)
		tc_refresh(&b, 0);
	tc_close(&a);
	tc_close(&b);
	return rc;
}
