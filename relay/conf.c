/* conf.c: avedge's flags and config file. Both go through conf_apply, so a
 * file line and a flag of the same name always mean the same thing. */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "conf.h"
#include "io/localnets.h"
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
	"  --max-connects N           peer TCP connections per allocation: RFC 6062\n"
	"                             Connects, [MS-TURN] TCP ones (default 16)\n"
	"  --unauth-rate N            answers per second to one source without valid\n"
	"                             credentials, past the burst (default 50; 0: no limit)\n"
	"  --unauth-burst N           ... and at once (default 200)\n"
	"Streams (TCP and TLS)\n"
	"  --max-conns N              connections at once (default 16384)\n"
	"  --max-conns-per-source N   ... from one address (default 256)\n"
	"  --tls-handshake-timeout S  a TLS handshake must end within (default 10)\n"
	"  --idle-timeout S           a connection with no allocation, silent (default 30)\n"
	"  --frame-timeout S          a frame begun must end within (default 10)\n"
	"  --conn-out-cap BYTES       queued to a client before it is read no more (default 262144)\n"
	"  --conn-stall-timeout S     ... and closed if it stays so (default 30)\n"
	"A/V authentication service (MRAS, [MS-AVEDGEA]): SIP SERVICE over mutual TLS\n"
	"  --mras ADDR:PORT           MRAS listener (repeatable); needs --cert, --key,\n"
	"                             --mras-ca, --mras-relay and an --auth-secret (the\n"
	"                             first one signs the credentials)\n"
	"  --mras-ca FILE             CA certificates a client's certificate must chain to\n"
	"  --mras-relay LOC=HOST:UDP:TCP  a media relay in the answer (repeatable); LOC is\n"
	"                             internet or intranet; a port of 0 is left out\n"
	"  --mras-duration MINUTES    longest credential lifetime given (default 480)\n"
	"Operation\n"
	"  --metrics ADDR:PORT        Prometheus text at http://ADDR:PORT/metrics\n"
	"  --metrics-timeout S        a request must arrive within (default 5)\n"
	"  --metrics-max-conns N      connections to /metrics at once (default 16)\n"
	"  --threads N                worker threads (default: the number of cores)\n"
	"  --grace SECONDS            SIGTERM: wait this long for allocations (default 30)\n"
	"  --io-uring on|off          batch relayed sockets' reads and sends through io_uring\n"
	"                             (default on; off, or no io_uring: a call per socket)\n"
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
	{"mras", required_argument, NULL, 0},
	{"mras-ca", required_argument, NULL, 0},
	{"mras-relay", required_argument, NULL, 0},
	{"mras-duration", required_argument, NULL, 0},
	{"max-connects", required_argument, NULL, 0},
	{"unauth-rate", required_argument, NULL, 0},
	{"unauth-burst", required_argument, NULL, 0},
	{"max-conns", required_argument, NULL, 0},
	{"max-conns-per-source", required_argument, NULL, 0},
	{"tls-handshake-timeout", required_argument, NULL, 0},
	{"idle-timeout", required_argument, NULL, 0},
	{"frame-timeout", required_argument, NULL, 0},
	{"conn-out-cap", required_argument, NULL, 0},
	{"conn-stall-timeout", required_argument, NULL, 0},
	{"metrics-timeout", required_argument, NULL, 0},
	{"metrics-max-conns", required_argument, NULL, 0},
	{"threads", required_argument, NULL, 0},
	{"grace", required_argument, NULL, 0},
	{"io-uring", required_argument, NULL, 0},
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

/* Plain numeric settings: name, where, range, and a scale (1000 turns
 * the flag's seconds into the milliseconds kept). */
static const struct {
	const char *key;
	size_t off;
	unsigned long min, max, scale;
} numeric[] = {
	{"max-connects", offsetof(struct avedge_conf, max_connects), 1, 65535, 1},
	{"unauth-rate", offsetof(struct avedge_conf, unauth_rate), 0, 1000000, 1},
	{"unauth-burst", offsetof(struct avedge_conf, unauth_burst), 1, 1000000, 1},
	{"max-conns", offsetof(struct avedge_conf, lim.max_conns), 1, 1000000, 1},
	{"max-conns-per-source", offsetof(struct avedge_conf, lim.max_per_source), 1, 1000000, 1},
	{"tls-handshake-timeout", offsetof(struct avedge_conf, lim.handshake_ms), 1, 3600, 1000},
	{"idle-timeout", offsetof(struct avedge_conf, lim.idle_ms), 1, 86400, 1000},
	{"frame-timeout", offsetof(struct avedge_conf, lim.frame_ms), 1, 3600, 1000},
	{"conn-out-cap", offsetof(struct avedge_conf, lim.out_cap), 4096, 1u << 30, 1},
	{"conn-stall-timeout", offsetof(struct avedge_conf, lim.stall_ms), 1, 3600, 1000},
	{"metrics-timeout", offsetof(struct avedge_conf, metrics_timeout_ms), 1, 3600, 1000},
	{"metrics-max-conns", offsetof(struct avedge_conf, metrics_max_conns), 1, 100000, 1},
};

static int numeric_apply(struct avedge_conf *c, const char *key, const char *v, char *err,
			 size_t errlen)
{
	for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
		unsigned long n;
		char *end;

		if (strcmp(key, numeric[i].key))
			continue;
		errno = 0;
		n = strtoul(v, &end, 10);
		if (!*v || *end || errno || *v == '-' || n < numeric[i].min || n > numeric[i].max) {
			snprintf(err, errlen, "'%s' is not a number from %lu to %lu", v,
				 numeric[i].min, numeric[i].max);
			return -1;
		}
		*(uint32_t *)((char *)c + numeric[i].off) = (uint32_t)(n * numeric[i].scale);
		return 0;
	}
	return 1; /* not one of these */
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

/* --mras-relay internet=av.edge.lab:3478:443 */
static int mras_relay(struct avedge_conf *c, const char *v, char *err, size_t errlen)
{
	struct mras_relay *r = &c->mras_relays[c->nmras_relays];
	char buf[MRAS_HOST_MAX + 32], *host, *up, *tp, *end;
	unsigned long udp, tcp;

	if (c->nmras_relays == MRAS_MAX_RELAYS) {
		snprintf(err, errlen, "too many mras-relay (at most %d)", MRAS_MAX_RELAYS);
		return -1;
	}
	snprintf(buf, sizeof buf, "%s", v);
	if (!(host = strchr(buf, '=')) || !(tp = strrchr(host, ':')))
		goto bad;
	*host++ = 0;
	*tp++ = 0;
	if (!(up = strrchr(host, ':')))
		goto bad;
	*up++ = 0;
	if (mras_location_parse(buf, &r->location) || !*host || strlen(host) > MRAS_HOST_MAX)
		goto bad;
	udp = strtoul(up, &end, 10);
	if (!*up || *end || udp > 65535)
		goto bad;
	tcp = strtoul(tp, &end, 10);
	if (!*tp || *end || tcp > 65535 || (!udp && !tcp))
		goto bad;
	snprintf(r->host, sizeof r->host, "%s", host);
	r->udp = (uint16_t)udp;
	r->tcp = (uint16_t)tcp;
	c->nmras_relays++;
	return 0;
bad:
	snprintf(err, errlen, "bad mras-relay '%s': want internet|intranet=HOST:UDPPORT:TCPPORT "
		 "(ports 0-65535, not both 0)", v);
	return -1;
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
	} else if (!strcmp(key, "mras")) {
		enum transport tp;
		if (c->nmras == CONF_MAX_LISTEN) {
			snprintf(err, errlen, "too many mras (at most %d)", CONF_MAX_LISTEN);
			return -1;
		}
		if (netaddr_parse(v, &c->mras[c->nmras], &tp, 0, &why)) {
			snprintf(err, errlen, "bad mras '%s': %s", v, why);
			return -1;
		}
		c->nmras++;
	} else if (!strcmp(key, "mras-ca")) {
		c->mras_ca = keep(v);
	} else if (!strcmp(key, "mras-relay")) {
		return mras_relay(c, v, err, errlen);
	} else if (!strcmp(key, "mras-duration")) {
		if (num(v, 525600, &n, err, errlen) || n == 0) {
			snprintf(err, errlen, "bad mras-duration '%s': from 1 to 525600 minutes", v);
			return -1;
		}
		c->mras_duration_min = (unsigned)n;
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
	} else if (!strcmp(key, "io-uring")) {
		if (strcmp(v, "on") && strcmp(v, "off")) {
			snprintf(err, errlen, "bad io-uring '%s': on or off", v);
			return -1;
		}
		c->io_uring = !strcmp(v, "on");
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
		int rc = numeric_apply(c, key, v, err, errlen);
		if (rc <= 0)
			return rc;
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
	c->io_uring = 1;
	c->max_connects = 16;
	c->unauth_rate = 50;
	c->unauth_burst = 200;
	c->lim = (struct conn_limits){
		.max_conns = 16384, .max_per_source = 256, .handshake_ms = 10000,
		.idle_ms = 30000, .frame_ms = 10000, .out_cap = 262144, .stall_ms = 30000,
	};
	c->metrics_timeout_ms = 5000;
	c->metrics_max_conns = 16;
	c->mras_duration_min = 480; /* [MS-AVEDGEA]'s usual 8 hours */
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
	for (int i = 0; i < c->nlisten; i++) {
		char ip[64];
		netaddr_ip_str((struct sockaddr *)&c->listen[i].addr, ip, sizeof ip);
		/* R18: an answer leaves from the address its request went to. A
		 * wildcard UDP socket answers from whatever source the kernel
		 * picks, which on a host with a VIP is the wrong one. */
		if (c->listen[i].tp == TP_UDP && (!strcmp(ip, "0.0.0.0") || !strcmp(ip, "::"))) {
			fprintf(stderr, "avedge: --listen %s:%d/udp: a wildcard UDP listener would "
					"answer from whichever address the kernel picks, not the one "
					"the client sent to; give each address its own --listen\n",
				c->listen[i].addr.ss_family == AF_INET6 ? "[::]" : ip,
				netaddr_port((struct sockaddr *)&c->listen[i].addr));
			exit(2);
		}
	}
	for (int i = 0; i < c->nlisten; i++)
		if (c->listen[i].tp == TP_TLS && (!c->cert || !c->key)) {
			fprintf(stderr, "avedge: a /tls listener needs --cert and --key\n");
			exit(2);
		}
	/* R20: MRAS signs with the pool's secret and trusts only clients
	 * whose certificate chains to --mras-ca: refuse to run half-set. */
	if (c->nmras) {
		const char *miss = !c->cert || !c->key ? "--cert and --key"
				   : !c->mras_ca ? "--mras-ca (client certificates are required)"
				   : !c->nsecrets && !c->nfile_secrets ? "--auth-secret (it signs the credentials)"
				   : !c->nmras_relays ? "at least one --mras-relay" : NULL;
		if (miss) {
			fprintf(stderr, "avedge: --mras needs %s\n", miss);
			exit(2);
		}
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

static void add_local(void *arg, const struct sockaddr *net, int plen)
{
	peerfilter_add_local(arg, net, plen);
}

/* The peer filter: the rules, and "self": our listeners and relayed
 * addresses, and every local address of the host (R18: a wildcard
 * listener, or any other address of ours, is reachable through them). */
static struct peerfilter *filter_build(const struct avedge_conf *c, char *err, size_t errlen)
{
	struct peerfilter *f = peerfilter_new();
	int e;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < c->nallow; i++)
		if (peerfilter_allow(f, c->allow_peer[i], err, errlen))
			goto fail;
	for (int i = 0; i < c->ndeny; i++)
		if (peerfilter_deny(f, c->deny_peer[i], err, errlen))
			goto fail;
	for (int i = 0; i < c->nlisten; i++) {
		peerfilter_add_self(f, (struct sockaddr *)&c->listen[i].addr);
		peerfilter_add_own_port(f, netaddr_port((struct sockaddr *)&c->listen[i].addr));
	}
	if (c->have_metrics)
		peerfilter_add_own_port(f, netaddr_port((struct sockaddr *)&c->metrics));
	for (int i = 0; i < c->nmras; i++) {
		peerfilter_add_self(f, (struct sockaddr *)&c->mras[i]);
		peerfilter_add_own_port(f, netaddr_port((struct sockaddr *)&c->mras[i]));
	}
	peerfilter_set_relay_ports(f, c->ports.lo, c->ports.hi);
	for (int fam = 0; fam < 2; fam++)
		if (c->ports.has[fam]) {
			peerfilter_add_self(f, (struct sockaddr *)&c->ports.bind[fam]);
			peerfilter_add_self(f, (struct sockaddr *)&c->relay_public[fam]);
		}
	if ((e = localnets_each(add_local, f))) {
		snprintf(err, errlen, "cannot read the local routing table: %s", strerror(-e));
		goto fail;
	}
	return f;
fail:
	peerfilter_free(f);
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
	if (!(c->filter = filter_build(c, err, errlen)))
		return -1;
	return 0;
}

int conf_reload(struct avedge_conf *c, char *err, size_t errlen)
{
	struct avedge_conf *fresh = calloc(1, sizeof *fresh);
	struct owned *mark = owned; /* the strings of this reading go after it */
	struct auth *a, *old;
	struct peerfilter *f, *old_f;

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
	/* The host's addresses may have changed: "self" is read again. */
	if (!(f = filter_build(c, err, errlen))) {
		auth_free(a);
		free(fresh);
		return -1;
	}
	pthread_rwlock_wrlock(&c->reload);
	old = c->auth;
	c->auth = a;
	old_f = c->filter;
	c->filter = f;
	c->quota_user = c->flag_set & LIMIT_QUOTA_USER ? c->flag_quota_user : fresh->quota_user;
	c->quota_total = c->flag_set & LIMIT_QUOTA_TOTAL ? c->flag_quota_total : fresh->quota_total;
	c->max_bps = c->flag_set & LIMIT_MAX_BPS ? c->flag_max_bps : fresh->max_bps;
	quota_set(&c->quota, c->quota_user, c->quota_total);
	pthread_rwlock_unlock(&c->reload);
	auth_free(old);
	peerfilter_free(old_f);
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
