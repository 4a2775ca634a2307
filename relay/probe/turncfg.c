/* turncfg.c: the options every TURN subcommand shares (turnc.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "turnc.h"

void tc_cfg_init(struct tc_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->tp = TP_UDP;
	c->rest_ttl = 3600;
	c->lifetime = -1;
	c->timeout_ms = 3000;
	optind = 1;
	opterr = 0; /* each command names a bad option itself */
}

int tc_getopt(struct tc_cfg *c, int argc, char **argv, const struct option *opts)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int r = tc_cfg_opt(c, ch, optarg);
		if (r < 0)
			return TC_OPT_BAD;
		if (r == 0)
			return ch;
	}
	return -1;
}

static int parse_num(const char *flag, const char *arg, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi) {
		fprintf(stderr, "edgeprobe: bad --%s '%s': want a number %ld..%ld\n", flag, arg, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int tc_cfg_opt(struct tc_cfg *c, int opt, const char *arg)
{
	long v = 0;

	switch (opt) {
	case TO_UDP: c->tp = TP_UDP; return 1;
	case TO_TCP: c->tp = TP_TCP; return 1;
	case TO_TLS: c->tp = TP_TLS; return 1;
	case TO_USER: c->user = arg; return 1;
	case TO_PASS: c->pass = arg; return 1;
	case TO_SECRET: c->secret = arg; return 1;
	case TO_REALM: c->realm = arg; return 1;
	case TO_SHA256: c->sha256 = 1; return 1;
	case TO_DUAL: c->dual = 1; return 1;
	case TO_JSON: c->json = 1; return 1;
	case TO_REST_TTL:
		if (parse_num("rest-ttl", arg, -100000000L, 100000000L, &c->rest_ttl))
			return -1;
		return 1;
	case TO_FAMILY:
		if (parse_num("family", arg, 4, 6, &v) || v == 5) {
			if (v == 5)
				fprintf(stderr, "edgeprobe: bad --family '%s': want 4 or 6\n", arg);
			return -1;
		}
		c->family = (int)v;
		return 1;
	case TO_LIFETIME:
		if (parse_num("lifetime", arg, 0, 0xffffffffL, &c->lifetime))
			return -1;
		return 1;
	case TO_TIMEOUT:
		if (parse_num("timeout", arg, 1, 3600000, &v))
			return -1;
		c->timeout_ms = (int)v;
		return 1;
	}
	return 0;
}

int tc_parse_peer(const char *flag, const char *s, struct sockaddr_storage *out)
{
	enum transport tp;
	const char *why;

	if (netaddr_parse(s, out, &tp, 0, &why)) {
		fprintf(stderr, "edgeprobe: bad %s '%s': %s\n", flag, s, why);
		return -1;
	}
	return 0;
}
