/* allocate.c: `edgeprobe allocate HOST:PORT`: one TURN allocation and what
 * came back: where the answer came from (the socket's view), the relayed
 * and mapped addresses, the lifetime. Then optionally a Refresh, a hold
 * kept alive by Refreshes, and always (unless --keep) a delete
 * (Refresh LIFETIME 0) so that the test leaves no state behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "turnc.h"

static const char usage[] =
	"usage: edgeprobe allocate HOST:PORT [options]\n"
	"  --bind ADDR[:PORT]   client source address\n"
	"  --refresh            send one Refresh after the Allocate\n"
	"  --hold SECONDS       keep the allocation, refreshing it, this long\n"
	"  --keep               do not delete it at exit (UDP: it lives on, 5-tuple bound)\n"
	"  --ms-turn[=VERSION]  an [MS-TURN] allocation instead (--ms-turn --help)\n"
	TC_COMMON_HELP;

enum { AO_BIND = 1, AO_REFRESH, AO_HOLD, AO_KEEP, AO_HELP };

void probe_allocate_report(struct out *o, const struct tc_sess *s)
{
	char a[NETADDR_STRLEN];

	probe_out_str(o, "from", netaddr_str((const struct sockaddr *)&s->from, a, sizeof a));
	probe_out_str(o, "local", netaddr_str((const struct sockaddr *)&s->ps->local, a, sizeof a));
	probe_out_str(o, "tls", probe_tls_version(s->ps));
	probe_out_str(o, "username", s->user);
	probe_out_str(o, "realm", s->realm);
	for (int i = 0; i < s->nrelayed; i++)
		probe_out_str(o, i ? "relayed2" : "relayed",
			      netaddr_str((const struct sockaddr *)&s->relayed[i], a, sizeof a));
	if (s->addr_err)
		probe_out_int(o, "address_error", s->addr_err);
	if (s->mapped.ss_family)
		probe_out_str(o, "xor_mapped", netaddr_str((const struct sockaddr *)&s->mapped, a, sizeof a));
	probe_out_int(o, "lifetime", s->lifetime);
	probe_out_num(o, "rtt_ms", s->rtt_ms, 3);
}

/* Keep the allocation for secs, refreshing at half its lifetime. */
static int hold(struct tc_sess *s, long secs)
{
	double end = probe_now_ms() + secs * 1000.0;
	double every = (s->lifetime > 2 ? s->lifetime / 2.0 : 1.0) * 1000.0;
	double next = probe_now_ms() + every;

	while (probe_now_ms() < end) {
		double until = next < end ? next : end;
		double left = until - probe_now_ms();
		if (left > 0)
			usleep((useconds_t)(left > 200 ? 200000 : left * 1000));
		if (probe_now_ms() >= next && probe_now_ms() < end) {
			if (tc_refresh(s, s->cfg->lifetime >= 0 ? s->cfg->lifetime : 600))
				return -1;
			next = probe_now_ms() + every;
		}
	}
	return 0;
}

int probe_allocate_main(int argc, char **argv)
{
	static const struct option opts[] = {
		TC_COMMON_OPTIONS,
		{"bind", required_argument, NULL, AO_BIND},
		{"refresh", no_argument, NULL, AO_REFRESH},
		{"hold", required_argument, NULL, AO_HOLD},
		{"keep", no_argument, NULL, AO_KEEP},
		{"help", no_argument, NULL, AO_HELP},
		{0, 0, 0, 0},
	};
	struct tc_cfg c;
	struct tc_sess s;
	struct out o;
	const char *bind = NULL;
	int ch, refresh = 0, keep = 0, rc = 1;
	long hold_s = 0;
	char what[160];

	for (int i = 1; i < argc; i++) /* [MS-TURN]: its own client (msallocate.c) */
		if (!strncmp(argv[i], "--ms-turn", 9) && (!argv[i][9] || argv[i][9] == '='))
			return probe_ms_allocate_main(argc, argv);
	tc_cfg_init(&c);
	while ((ch = tc_getopt(&c, argc, argv, opts)) != -1) {
		if (ch == TC_OPT_BAD)
			return 2;
		switch (ch) {
		case AO_BIND: bind = optarg; break;
		case AO_REFRESH: refresh = 1; break;
		case AO_KEEP: keep = 1; break;
		case AO_HOLD:
			hold_s = strtol(optarg, NULL, 10);
			if (hold_s <= 0 || hold_s > 86400) {
				fprintf(stderr, "edgeprobe: bad --hold '%s': want 1..86400 seconds\n", optarg);
				return 2;
			}
			break;
		case AO_HELP: fputs(usage, stdout); return 0;
		default:
			fprintf(stderr, "edgeprobe allocate: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "edgeprobe allocate: want exactly one HOST:PORT (see --help)\n");
		return 2;
	}
	snprintf(what, sizeof what, "allocate %s/%s", argv[optind], transport_name(c.tp));
	probe_out_begin(&o, c.json, "allocate", argv[optind], transport_name(c.tp));
	if (tc_open(&s, &c, argv[optind], bind)) {
		probe_out_fail(&o, what, 0, s.err);
		probe_out_end(&o);
		return 1;
	}
	if (tc_allocate(&s)) {
		probe_out_str(&o, "username", s.user);
		probe_out_fail(&o, what, s.code, s.err);
		goto out;
	}
	probe_allocate_report(&o, &s);
	if (refresh) {
		if (tc_refresh(&s, c.lifetime >= 0 ? c.lifetime : 600)) {
			probe_out_str(&o, "refresh", s.err);
			probe_out_fail(&o, what, s.code, s.err);
			goto out;
		}
		probe_out_str(&o, "refresh", "ok");
		probe_out_int(&o, "refresh_lifetime", s.lifetime);
	}
	if (hold_s) {
		if (hold(&s, hold_s)) {
			probe_out_fail(&o, what, s.code, s.err);
			goto out;
		}
		probe_out_int(&o, "held_s", hold_s);
	}
	if (!keep) {
		if (tc_refresh(&s, 0)) {
			probe_out_str(&o, "delete", s.err);
			probe_out_fail(&o, what, s.code, s.err);
			goto out;
		}
		probe_out_str(&o, "delete", "ok");
	}
	rc = 0;
out:
	probe_out_end(&o);
	/* A failed step still leaves no allocation behind (errors are
	 * already reported; this one's own outcome does not matter). */
	if (s.allocated && !keep)
		tc_refresh(&s, 0);
	tc_close(&s);
	return rc;
}
