/* conf.c: avedge's flags and config file. Both go through conf_apply, so a
 * file line and a flag of the same name always mean the same thing. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "conf.h"
#include "turn/alloc.h"
#include "util/config.h"
#include "util/log.h"

static const char usage[] =
	"usage: avedge --listen ADDR:PORT/udp|tcp|tls [--listen ...] [options]\n"
	"\n"
	"Listening and relaying\n"
	"  --listen ADDR:PORT/PROTO   client listener (repeatable); IPv6 as [2001:db8::1]:3478/udp\n"
	"  --relay-ip IP              relayed address, one per family (R11: the node's own\n"
	"                             A/V address, never the VIP); default: the listeners'\n"
	"  --external-ip PUB[/PRIV]   advertise PUB for relay sockets bound to PRIV (static NAT)\n"
	"  --ports LO-HI              relay port range (default 50000-59999)\n"
	"  --cert FILE --key FILE     certificate and key for /tls listeners\n"
	"Authentication\n"
	"  --realm REALM              realm (default edge.lab)\n"
	"  --user NAME:PASS           long-term credential (repeatable)\n"
	"  --userfile FILE            NAME:PASS lines\n"
	"  --auth-secret SECRET       TURN REST API shared secret (repeatable)\n"
	"Safety and limits\n"
	"  --allow-peer CIDR          allow peers in CIDR (repeatable)\n"
	"  --deny-peer CIDR           deny peers in CIDR (repeatable)\n"
	"  --quota-user N             allocations per user (486 past it)\n"
	"  --quota-total N            allocations in all (508 past it)\n"
	"  --max-bps N                bits per second per allocation, each way\n"
	"  --max-lifetime SECONDS     longest allocation lifetime (default 3600)\n"
	"Operation\n"
	"  --metrics ADDR:PORT        Prometheus text at http://ADDR:PORT/metrics\n"
	"  --threads N                worker threads (default: the number of cores)\n"
	"  --grace SECONDS            SIGTERM: wait this long for allocations (default 30)\n"
	"  --config FILE              key = value lines, the same names as these flags\n"
	"  --software TEXT            SOFTWARE attribute\n"
	"  --log-level LEVEL          error, warn, info or debug\n"
	"  --help, --version\n";

static const struct option opts[] = {
	{"listen", required_argument, NULL, 0},
	{"relay-ip", required_argument, NULL, 0},
	{"external-ip", required_argument, NULL, 0},
	{"ports", required_argument, NULL, 0},
	{"cert", required_argument, NULL, 0},
	{"key", required_argument, NULL, 0},
	{"realm", required_argument, NULL, 0},
	{"user", required_argument, NULL, 0},
	{"userfile", required_argument, NULL, 0},
	{"auth-secret", required_argument, NULL, 0},
	{"allow-peer", required_argument, NULL, 0},
	{"deny-peer", required_argument, NULL, 0},
	{"quota-user", required_argument, NULL, 0},
	{"quota-total", required_argument, NULL, 0},
	{"max-bps", required_argument, NULL, 0},
	{"max-lifetime", required_argument, NULL, 0},
	{"metrics", required_argument, NULL, 0},
	{"threads", required_argument, NULL, 0},
	{"grace", required_argument, NULL, 0},
	{"config", required_argument, NULL, 0},
	{"software", required_argument, NULL, 0},
	{"log-level", required_argument, NULL, 0},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{0, 0, 0, 0},
};

/* Strings from config files outlive the file's buffer: keep copies. */
struct owned {
	struct owned *next;
	char s[];
};
static struct owned *owned;

/* Free what was kept after mark (a reload's strings, once its auth table,
 * which copies what it needs, is built). */
static void release_since(struct owned *mark)
{
	while (owned && owned != mark) {
		struct owned *o = owned;
		owned = o->next;
		free(o);
	}
}

static const char *keep(const char *s)
{
	size_t n = strlen(s) + 1;
	struct owned *o = malloc(sizeof *o + n);
	if (!o)
		return NULL;
	memcpy(o->s, s, n);
	o->next = owned;
	owned = o;
	return o->s;
}

static int num(const char *v, unsigned long max, unsigned long *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	*out = strtoul(v, &end, 10);
	if (!*v || *end || errno || *out > max || *v == '-') {
		snprintf(err, errlen, "'%s' is not a number from 0 to %lu", v, max);
		return -1;
	}
	return 0;
}

static int add_list(const char **list, int *n, const char *v, const char *what, char *err,
		    size_t errlen)
{
	if (*n == CONF_MAX_LIST) {
		snprintf(err, errlen, "too many %s (at most %d)", what, CONF_MAX_LIST);
		return -1;
	}
	list[(*n)++] = keep(v);
	return 0;
}

static int relay_ip(struct avedge_conf *c, const char *v, int external, char *err, size_t errlen)
{
	struct sockaddr_storage pub, priv;
	char buf[128];
	char *slash;
	int fam;

	snprintf(buf, sizeof buf, "%s", v);
	slash = external ? strchr(buf, '/') : NULL;
	if (slash)
		*slash++ = 0;
	if (netaddr_parse_ip(buf, &pub) || (slash && netaddr_parse_ip(slash, &priv))) {
		snprintf(err, errlen, "'%s' is not an IP address%s", v, external ? " or PUBLIC/PRIVATE" : "");
		return -1;
	}
	if (slash && priv.ss_family != pub.ss_family) {
		snprintf(err, errlen, "'%s': public and private addresses of different families", v);
		return -1;
	}
	fam = pub.ss_family == AF_INET6;
	c->relay_public[fam] = pub;
	if (!external)
		c->ports.bind[fam] = pub;
	else if (slash)
		c->ports.bind[fam] = priv;
	c->ports.has[fam] = 1;
	return 0;
}

int conf_apply(void *ctx, const char *key, const char *v, char *err, size_t errlen)
{
	struct avedge_conf *c = ctx;
	unsigned long n;
	const char *why;

	if (!strcmp(key, "listen")) {
		if (c->nlisten == CONF_MAX_LISTEN) {
			snprintf(err, errlen, "too many listen (at most %d)", CONF_MAX_LISTEN);
			return -1;
		}
		if (netaddr_parse(v, &c->listen[c->nlisten].addr, &c->listen[c->nlisten].tp, 1, &why)) {
			snprintf(err, errlen, "bad listen '%s': %s", v, why);
			return -1;
		}
		c->nlisten++;
	} else if (!strcmp(key, "relay-ip")) {
		return relay_ip(c, v, 0, err, errlen);
	} else if (!strcmp(key, "external-ip")) {
		return relay_ip(c, v, 1, err, errlen);
	} else if (!strcmp(key, "ports")) {
		unsigned lo, hi;
		char extra;
		if (sscanf(v, "%u-%u%c", &lo, &hi, &extra) != 2 || lo < 1024 || hi > 65535 || lo > hi) {
			snprintf(err, errlen, "bad ports '%s': want LO-HI within 1024-65535", v);
			return -1;
		}
		c->ports.lo = (uint16_t)lo;
		c->ports.hi = (uint16_t)hi;
	} else if (!strcmp(key, "cert")) {
		c->cert = keep(v);
	} else if (!strcmp(key, "key")) {
		c->key = keep(v);
	} else if (!strcmp(key, "realm")) {
		c->realm = keep(v);
	} else if (!strcmp(key, "user")) {
		if (!strchr(v, ':')) {
			snprintf(err, errlen, "bad user '%s': want NAME:PASS", v);
			return -1;
		}
		if (c->in_file)
			return add_list(c->file_users, &c->nfile_users, v, "user", err, errlen);
		return add_list(c->users, &c->nusers, v, "user", err, errlen);
	} else if (!strcmp(key, "userfile")) {
		c->userfile = keep(v);
	} else if (!strcmp(key, "auth-secret")) {
		if (c->in_file)
			return add_list(c->file_secrets, &c->nfile_secrets, v, "auth-secret", err,
					errlen);
		return add_list(c->secrets, &c->nsecrets, v, "auth-secret", err, errlen);
	} else if (!strcmp(key, "allow-peer")) {
		return add_list(c->allow_peer, &c->nallow, v, "allow-peer", err, errlen);
	} else if (!strcmp(key, "deny-peer")) {
		return add_list(c->deny_peer, &c->ndeny, v, "deny-peer", err, errlen);
	} else if (!strcmp(key, "quota-user")) {
		if (num(v, 1000000, &n, err, errlen))
			return -1;
		c->quota_user = (unsigned)n;
		if (!c->in_file) {
			c->flag_set |= LIMIT_QUOTA_USER;
			c->flag_quota_user = (unsigned)n;
		}
	} else if (!strcmp(key, "quota-total")) {
		if (num(v, 10000000, &n, err, errlen))
			return -1;
		c->quota_total = (unsigned)n;
		if (!c->in_file) {
			c->flag_set |= LIMIT_QUOTA_TOTAL;
			c->flag_quota_total = (unsigned)n;
		}
	} else if (!strcmp(key, "max-bps")) {
		if (num(v, 100000000000ul, &n, err, errlen))
			return -1;
		c->max_bps = n;
		if (!c->in_file) {
			c->flag_set |= LIMIT_MAX_BPS;
			c->flag_max_bps = n;
		}
	} else if (!strcmp(key, "max-lifetime")) {
		if (num(v, 86400, &n, err, errlen) || n < TURN_DEFAULT_LIFETIME_S) {
			snprintf(err, errlen, "bad max-lifetime '%s': from %d to 86400 seconds", v,
				 TURN_DEFAULT_LIFETIME_S);
			return -1;
		}
		c->max_lifetime_s = (unsigned)n;
	} else if (!strcmp(key, "metrics")) {
		enum transport tp;
		if (netaddr_parse(v, &c->metrics, &tp, 0, &why)) {
			snprintf(err, errlen, "bad metrics '%s': %s", v, why);
			return -1;
		}
		c->have_metrics = 1;
	} else if (!strcmp(key, "threads")) {
		if (num(v, 256, &n, err, errlen) || n == 0) {
			snprintf(err, errlen, "bad threads '%s': from 1 to 256", v);
			return -1;
		}
		c->threads = (unsigned)n;
	} else if (!strcmp(key, "grace")) {
		if (num(v, 86400, &n, err, errlen))
			return -1;
		c->grace_s = (unsigned)n;
	} else if (!strcmp(key, "software")) {
		c->software = keep(v);
	} else if (!strcmp(key, "log-level")) {
		int lvl = log_parse_level(v);
		if (lvl < 0) {
			snprintf(err, errlen, "unknown log level '%s'", v);
			return -1;
		}
		log_threshold = (enum log_level)lvl;
	} else if (!strcmp(key, "config")) {
		if (c->config) {
			snprintf(err, errlen, "config files do not nest");
			return -1;
		}
		int rc;
		c->config = keep(v);
		c->in_file = 1;
		rc = config_load(c->config, conf_apply, c, err, errlen);
		c->in_file = 0;
		return rc;
	} else {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return -1;
	}
	return 0;
}

static void defaults(struct avedge_conf *c)
{
	memset(c, 0, sizeof *c);
	c->ports.lo = 50000;
	c->ports.hi = 59999;
	c->realm = "edge.lab";
	c->software = "avedge/" EDGELAB_VERSION;
	c->max_lifetime_s = 3600;
	c->grace_s = 30;
	c->threads = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (c->threads < 1)
		c->threads = 1;
}

int conf_parse_args(struct avedge_conf *c, int argc, char **argv)
{
	char err[512];
	int ch, idx;

	defaults(c);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (ch == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (ch == 'V') {
			puts("avedge " EDGELAB_VERSION);
			return 1;
		}
		if (ch != 0) {
			fprintf(stderr, "avedge: unknown or incomplete option '%s' (see avedge --help)\n",
				argv[optind - 1]);
			exit(2);
		}
		if (conf_apply(c, opts[idx].name, optarg, err, sizeof err)) {
			/* config errors already say FILE:LINE */
			if (!strcmp(opts[idx].name, "config"))
				fprintf(stderr, "avedge: %s\n", err);
			else
				fprintf(stderr, "avedge: --%s: %s\n", opts[idx].name, err);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "avedge: unexpected argument '%s' (see avedge --help)\n", argv[optind]);
		exit(2);
	}
	if (c->nlisten == 0) {
		fprintf(stderr, "avedge: nothing to do: give at least one --listen (see avedge --help)\n");
		exit(2);
	}
	for (int i = 0; i < c->nlisten; i++)
		if (c->listen[i].tp == TP_TLS && (!c->cert || !c->key)) {
			fprintf(stderr, "avedge: a /tls listener needs --cert and --key\n");
			exit(2);
		}
	/* Default relayed address: the first specific listener of each family. */
	for (int i = 0; i < c->nlisten; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&c->listen[i].addr;
		char ip[64];
		int fam = sa->sa_family == AF_INET6;
		netaddr_ip_str(sa, ip, sizeof ip);
		if (!c->ports.has[fam] && strcmp(ip, "0.0.0.0") && strcmp(ip, "::"))
			relay_ip(c, ip, 0, err, sizeof err);
	}
	if (!c->ports.has[0] && !c->ports.has[1]) {
		fprintf(stderr, "avedge: no relayed address: give --relay-ip (listeners are all wildcards)\n");
		exit(2);
	}
	for (int fam = 0; fam < 2; fam++) /* --external-ip PUB alone: bind where? */
		if (c->ports.has[fam] && !c->ports.bind[fam].ss_family)
			c->ports.bind[fam] = c->relay_public[fam];
	return 0;
}

static struct auth *auth_build(const struct avedge_conf *c, const uint8_t nonce_key[32],
			       char *err, size_t errlen)
{
	struct auth *a = auth_new(c->realm, nonce_key);

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < c->nusers; i++)
		if (auth_add_user(a, c->users[i], err, errlen))
			goto fail;
	for (int i = 0; i < c->nfile_users; i++)
		if (auth_add_user(a, c->file_users[i], err, errlen))
			goto fail;
	if (c->userfile && auth_load_userfile(a, c->userfile, err, errlen))
		goto fail;
	for (int i = 0; i < c->nsecrets; i++)
		if (auth_add_secret(a, c->secrets[i], err, errlen))
			goto fail;
	for (int i = 0; i < c->nfile_secrets; i++)
		if (auth_add_secret(a, c->file_secrets[i], err, errlen))
			goto fail;
	return a;
fail:
	auth_free(a);
	return NULL;
}

static uint8_t nonce_key[32];

int conf_build(struct avedge_conf *c, char *err, size_t errlen)
{
	quota_init(&c->quota, c->quota_user, c->quota_total);
	pthread_rwlock_init(&c->reload, NULL);
	c->built = 1;
	if (RAND_bytes(nonce_key, sizeof nonce_key) != 1) {
		snprintf(err, errlen, "no randomness for the nonce key");
		return -1;
	}
	if (!(c->auth = auth_build(c, nonce_key, err, errlen)))
		return -1;
	if (!c->nusers && !c->nfile_users && !c->userfile && !c->nsecrets && !c->nfile_secrets)
		log_warn("no --user, --userfile or --auth-secret: TURN requests will all be refused");
	if (!(c->filter = peerfilter_new())) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < c->nallow; i++)
		if (peerfilter_allow(c->filter, c->allow_peer[i], err, errlen))
			return -1;
	for (int i = 0; i < c->ndeny; i++)
		if (peerfilter_deny(c->filter, c->deny_peer[i], err, errlen))
			return -1;
	for (int i = 0; i < c->nlisten; i++)
		peerfilter_add_self(c->filter, (struct sockaddr *)&c->listen[i].addr);
	peerfilter_set_relay_ports(c->filter, c->ports.lo, c->ports.hi);
	for (int fam = 0; fam < 2; fam++)
		if (c->ports.has[fam]) {
			peerfilter_add_self(c->filter, (struct sockaddr *)&c->ports.bind[fam]);
			peerfilter_add_self(c->filter, (struct sockaddr *)&c->relay_public[fam]);
		}
	return 0;
}

int conf_reload(struct avedge_conf *c, char *err, size_t errlen)
{
	struct avedge_conf *fresh = calloc(1, sizeof *fresh);
	struct owned *mark = owned; /* the strings of this reading go after it */
	struct auth *a, *old;

	if (!fresh)
		return -1;
	defaults(fresh);
	fresh->in_file = 1;
	if (c->config && config_load(c->config, conf_apply, fresh, err, errlen)) {
		release_since(mark);
		free(fresh);
		return -1;
	}
	/* What the file says now, plus what the flags said at start. */
	memcpy(fresh->users, c->users, sizeof c->users);
	fresh->nusers = c->nusers;
	memcpy(fresh->secrets, c->secrets, sizeof c->secrets);
	fresh->nsecrets = c->nsecrets;
	if (!fresh->userfile)
		fresh->userfile = c->userfile;
	fresh->realm = c->realm; /* the realm is part of every key: not reloadable */
	a = auth_build(fresh, nonce_key, err, errlen);
	release_since(mark); /* fresh is read no more: only numbers go on */
	if (!a) {
		free(fresh);
		return -1;
	}
	pthread_rwlock_wrlock(&c->reload);
	old = c->auth;
	c->auth = a;
	c->quota_user = c->flag_set & LIMIT_QUOTA_USER ? c->flag_quota_user : fresh->quota_user;
	c->quota_total = c->flag_set & LIMIT_QUOTA_TOTAL ? c->flag_quota_total : fresh->quota_total;
	c->max_bps = c->flag_set & LIMIT_MAX_BPS ? c->flag_max_bps : fresh->max_bps;
	quota_set(&c->quota, c->quota_user, c->quota_total);
	pthread_rwlock_unlock(&c->reload);
	auth_free(old);
	free(fresh);
	return 0;
}

void conf_free(struct avedge_conf *c)
{
	if (c->auth)
		auth_free(c->auth);
	if (c->filter)
		peerfilter_free(c->filter);
	if (c->built) {
		quota_destroy(&c->quota);
		pthread_rwlock_destroy(&c->reload);
	}
	release_since(NULL);
}
