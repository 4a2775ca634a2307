/* quiet.c: `edgeprobe quiet HOST:PORT --peer ADDR:PORT --gap S@ADDRS...`:
 * what a balancer does to allocations that go quiet. Every client (one per
 * source address) allocates, then sends nothing; after its gap's seconds
 * of silence it Refreshes, permits the peer, binds a channel and sends
 * through it, wanting the echo back. Each request must reach the node that
 * holds the allocation: a 437 or no answer says the balancer sent it
 * elsewhere. All the gaps run in one process, side by side, so the whole
 * takes about the longest gap; one process, because each allocation
 * belongs to its socket's 5-tuple (UDP) or connection (TCP).
 *
 * A gap's clients go one right after another, those relayed at the same
 * address next to each other: a balancer that forgot them picks a node
 * anew for each, and with round robin two picks in a row never both find
 * the node the pair shares, so the loss shows every time, not one time in
 * two. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "turnc.h"

#define QUIET_MAX_GAPS 8
#define QUIET_MAX_PER_GAP 8
#define QUIET_MAX_GAP_S 86400

static const char usage_fmt[] =
	"usage: edgeprobe quiet HOST:PORT --peer ADDR:PORT --gap SECONDS@ADDR[,ADDR...]... [options]\n"
	"  --peer ADDR:PORT     an echo peer (edgeprobe echo): the data must come back\n"
	"  --gap S@ADDRS        clients from each of ADDRS (up to %d, one allocation each)\n"
	"                       keep silent S seconds (0-%d) after their Allocate, then\n"
	"                       Refresh, CreatePermission, ChannelBind and ChannelData;\n"
	"                       up to %d gaps, all at once\n"
	"  output per client N (in the order they spoke again): cN_gap, cN_local,\n"
	"  cN_relayed, cN_silent_ms (measured), cN_step (the step that failed, or done),\n"
	"  cN_result (ok or the failure); exit 1 if any client failed\n"
	"%s";

enum { QO_PEER = 1, QO_GAP, QO_HELP };

struct client {
	struct tc_sess s;
	long gap;            /* seconds of silence asked for */
	const char *bind;    /* its source address */
	double quiet_from;   /* when the last answer before the silence came */
	double silent_ms;    /* how long it was silent, measured */
	const char *step;    /* the step that failed, or "done" */
	int opened, ok;
};

struct gap {
	long secs;
	int first, n; /* its clients: cl[first .. first + n - 1] */
};

static struct client *cl;
static int ncl;
static struct gap gaps[QUIET_MAX_GAPS];
static int ngaps;
static char *gap_args[QUIET_MAX_GAPS]; /* the strings the addresses point into */

/* "S@A,B,C": a gap and its clients' addresses. 0, or -1 (reason printed). */
static int parse_gap(const char *arg)
{
	char *copy, *at, *end, *a, *save = NULL;
	long secs;
	struct gap *g;

	if (ngaps == QUIET_MAX_GAPS) {
		fprintf(stderr, "edgeprobe quiet: at most %d --gap\n", QUIET_MAX_GAPS);
		return -1;
	}
	copy = strdup(arg);
	if (!copy)
		return -1;
	gap_args[ngaps] = copy;
	at = strchr(copy, '@');
	errno = 0;
	secs = strtol(copy, &end, 10);
	if (!at || end != at || errno || secs < 0 || secs > QUIET_MAX_GAP_S || at[1] == 0) {
		fprintf(stderr, "edgeprobe quiet: bad --gap '%s': want SECONDS@ADDR[,ADDR...] "
				"(0-%d seconds)\n", arg, QUIET_MAX_GAP_S);
		return -1;
	}
	g = &gaps[ngaps++];
	g->secs = secs;
	g->first = ncl;
	for (a = strtok_r(at + 1, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		if (g->n == QUIET_MAX_PER_GAP) {
			fprintf(stderr, "edgeprobe quiet: --gap '%s': at most %d addresses\n", arg,
				QUIET_MAX_PER_GAP);
			return -1;
		}
		cl[ncl].gap = secs;
		cl[ncl].bind = a;
		cl[ncl].step = "allocate";
		ncl++;
		g->n++;
	}
	return 0;
}

/* The host part of a relayed address ("203.0.113.23" of ".23:50001"):
 * the node, as far as the client can tell. */
static void relayed_host(const struct client *c, char *buf, size_t len)
{
	char a[NETADDR_STRLEN];
	char *colon;

	buf[0] = 0;
	if (!c->s.nrelayed)
		return;
	netaddr_str((const struct sockaddr *)&c->s.relayed[0], a, sizeof a);
	colon = strrchr(a, ':');
	if (colon)
		*colon = 0;
	snprintf(buf, len, "%s", a);
}

/* A gap's clients reordered so that those on one node are next to each
 * other (insertion sort: a handful at most). */
static void group_by_node(int *order, int n)
{
	char hi[NETADDR_STRLEN], hj[NETADDR_STRLEN];

	for (int i = 1; i < n; i++) {
		int v = order[i], j = i;

		relayed_host(&cl[v], hi, sizeof hi);
		while (j > 0) {
			relayed_host(&cl[order[j - 1]], hj, sizeof hj);
			if (strcmp(hj, hi) <= 0)
				break;
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
}

/* After the silence: the session's requests, stopping at the first that
 * fails. 0 all well, -1 with c->step and c->s.err. */
static int speak_again(struct client *c, int idx, const struct sockaddr *peer)
{
	struct tc_sess *s = &c->s;
	uint16_t ch = (uint16_t)(TURN_CHANNEL_MIN + idx);
	char text[32];
	struct sockaddr_storage from;
	const uint8_t *data;
	const char *via;
	size_t len;
	int r;

	c->silent_ms = probe_now_ms() - c->quiet_from;
	c->step = "refresh";
	if (tc_refresh(s, s->cfg->lifetime >= 0 ? s->cfg->lifetime : 600))
		return -1;
	c->step = "permit";
	if (tc_permit(s, peer))
		return -1;
	c->step = "channel";
	if (tc_channel_bind(s, ch, peer))
		return -1;
	c->step = "send";
	snprintf(text, sizeof text, "quiet-%d-%ld", idx, c->gap);
	if (tc_send_channel(s, ch, text, strlen(text)))
		return -1;
	c->step = "echo";
	r = tc_recv_data(s, probe_now_ms() + s->cfg->timeout_ms, &from, &data, &len, &via);
	if (r < 0)
		return -1;
	if (r == 0) {
		snprintf(s->err, sizeof s->err, "echo: nothing came back within %d ms",
			 s->cfg->timeout_ms);
		return -1;
	}
	if (len != strlen(text) || memcmp(data, text, len)) {
		snprintf(s->err, sizeof s->err, "echo: %zu bytes came back, not what was sent", len);
		return -1;
	}
	c->step = "done";
	return 0;
}

/* Wait (sleeping) until the clock reaches t (probe_now_ms). */
static void sleep_until(double t)
{
	double left;

	while ((left = t - probe_now_ms()) > 0)
		usleep((useconds_t)(left > 200 ? 200000 : left * 1000));
}

static void report(struct out *o, int n, const struct client *c)
{
	char k[32], a[NETADDR_STRLEN];

	snprintf(k, sizeof k, "c%d_gap", n);
	probe_out_int(o, k, c->gap);
	if (c->opened) {
		snprintf(k, sizeof k, "c%d_local", n);
		probe_out_str(o, k, netaddr_str((const struct sockaddr *)&c->s.ps->local, a, sizeof a));
	} else {
		snprintf(k, sizeof k, "c%d_local", n);
		probe_out_str(o, k, c->bind);
	}
	if (c->s.nrelayed) {
		snprintf(k, sizeof k, "c%d_relayed", n);
		probe_out_str(o, k, netaddr_str((const struct sockaddr *)&c->s.relayed[0], a, sizeof a));
	}
	snprintf(k, sizeof k, "c%d_silent_ms", n);
	probe_out_int(o, k, (long long)c->silent_ms);
	snprintf(k, sizeof k, "c%d_step", n);
	probe_out_str(o, k, c->step);
	snprintf(k, sizeof k, "c%d_result", n);
	probe_out_str(o, k, c->ok ? "ok" : c->s.err[0] ? c->s.err : "failed");
}

static int run(struct out *o, struct tc_cfg *c, const char *target, const struct sockaddr *peer)
{
	int done[QUIET_MAX_GAPS] = {0};
	int bad = 0, n = 0;

	/* Every client allocates first; the silences start there. */
	for (int i = 0; i < ncl; i++) {
		if (tc_open(&cl[i].s, c, target, cl[i].bind))
			continue;
		cl[i].opened = 1;
		if (tc_allocate(&cl[i].s) == 0)
			cl[i].step = "allocated";
		cl[i].quiet_from = probe_now_ms();
	}
	/* Then each gap when its last client has been silent long enough,
	 * the earliest first. */
	for (int k = 0; k < ngaps; k++) {
		int g = -1, order[QUIET_MAX_PER_GAP];
		double due = 0, gdue;

		for (int j = 0; j < ngaps; j++) {
			if (done[j])
				continue;
			gdue = 0;
			for (int i = 0; i < gaps[j].n; i++)
				if (cl[gaps[j].first + i].quiet_from > gdue)
					gdue = cl[gaps[j].first + i].quiet_from;
			gdue += gaps[j].secs * 1000.0;
			if (g < 0 || gdue < due) {
				g = j;
				due = gdue;
			}
		}
		done[g] = 1;
		sleep_until(due);
		for (int i = 0; i < gaps[g].n; i++)
			order[i] = gaps[g].first + i;
		group_by_node(order, gaps[g].n);
		for (int i = 0; i < gaps[g].n; i++) {
			struct client *x = &cl[order[i]];

			n++;
			if (x->opened && x->s.allocated && !speak_again(x, n, peer))
				x->ok = 1;
			else
				bad = 1;
			report(o, n, x);
		}
	}
	return bad;
}

int probe_quiet_main(int argc, char **argv)
{
	static const struct option opts[] = {
		TC_COMMON_OPTIONS,
		{"peer", required_argument, NULL, QO_PEER},
		{"gap", required_argument, NULL, QO_GAP},
		{"help", no_argument, NULL, QO_HELP},
		{0, 0, 0, 0},
	};
	struct sockaddr_storage peer;
	struct tc_cfg c;
	struct out o;
	int ch, have_peer = 0, rc = 2;
	char what[160];

	cl = calloc(QUIET_MAX_GAPS * QUIET_MAX_PER_GAP, sizeof *cl);
	if (!cl) {
		fprintf(stderr, "edgeprobe quiet: out of memory\n");
		return 1;
	}
	tc_cfg_init(&c);
	while ((ch = tc_getopt(&c, argc, argv, opts)) != -1) {
		if (ch == TC_OPT_BAD)
			goto out;
		switch (ch) {
		case QO_PEER:
			if (tc_parse_peer("--peer", optarg, &peer))
				goto out;
			have_peer = 1;
			break;
		case QO_GAP:
			if (parse_gap(optarg))
				goto out;
			break;
		case QO_HELP:
			printf(usage_fmt, QUIET_MAX_PER_GAP, QUIET_MAX_GAP_S, QUIET_MAX_GAPS,
			       TC_COMMON_HELP);
			rc = 0;
			goto out;
		default:
			fprintf(stderr, "edgeprobe quiet: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc - 1 || !have_peer || !ngaps) {
		fprintf(stderr, "edgeprobe quiet: want HOST:PORT, --peer and at least one --gap "
				"(see --help)\n");
		goto out;
	}
	snprintf(what, sizeof what, "quiet %s/%s", argv[optind], transport_name(c.tp));
	probe_out_begin(&o, c.json, "quiet", argv[optind], transport_name(c.tp));
	probe_out_int(&o, "clients", ncl);
	rc = run(&o, &c, argv[optind], (const struct sockaddr *)&peer);
	/* What failed first, on stderr (and as "error" in the JSON). */
	for (int i = 0; rc && i < ncl; i++) {
		if (cl[i].ok)
			continue;
		probe_out_fail(&o, what, cl[i].s.code, cl[i].s.err[0] ? cl[i].s.err : "failed");
		break;
	}
	probe_out_end(&o);
	/* No allocation left behind; this delete's own outcome does not matter. */
	for (int i = 0; i < ncl; i++) {
		if (cl[i].s.allocated)
			tc_refresh(&cl[i].s, 0);
		if (cl[i].opened)
			tc_close(&cl[i].s);
	}
out:
	for (int i = 0; i < ngaps; i++)
		free(gap_args[i]);
	free(cl);
	return rc;
}
