/* config.c: read the hlb config; see config.h for the format. Every
 * error says file:line and the key, the way wireguard-tools does. */
#include "config.h"
#include "conntrack.h"
#include "fault.h"
#include "scheduler.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 24

struct parser {
	struct lb_config *cfg;
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
	struct lb_service *svc;   /* the service being filled, or NULL */
	struct lb_service defs;   /* global defaults copied into services */
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);

	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *lb_config_proto_name(int proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

const char *lb_config_mode_name(int mode)
{
	return mode == LB_SNAT ? "snat" : "dnat";
}

const char *lb_config_monitor_name(int type)
{
	static const char *n[] = { "none", "tcp", "tls", "stun" };

	return type >= 0 && type <= LB_MON_STUN ? n[type] : "?";
}

void lb_config_defaults(struct lb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->tun, sizeof(cfg->tun), "%s", LB_DEFAULT_TUN);
	cfg->table = LB_DEFAULT_TABLE;
	cfg->pref = LB_DEFAULT_PREF;
	cfg->conntrack_size = LB_DEFAULT_CT_SIZE;
	cfg->affinity_size = LB_DEFAULT_CT_SIZE;
	/* Below the kernel's ephemeral range (32768-60999), so hlb's own
	 * monitor sockets never collide with translated flows. */
	cfg->snat_lo = 20000;
	cfg->snat_hi = 29999;
	cfg->source_flows = LB_DEFAULT_SOURCE_FLOWS;
	cfg->source_prefix6 = CT_SRC_PREFIX6;
	cfg->syn_timeout = CT_TIMEOUT_SYN;
	cfg->unreplied_timeout = CT_TIMEOUT_UNREPLIED;
	cfg->ctl_timeout_ms = LB_DEFAULT_CTL_TIMEOUT_MS;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Seconds, fractions allowed ("0.5"), into milliseconds. */
static int parse_ms(const char *s, uint32_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v <= 0 || v > 86400)
		return -EINVAL;
	*out = (uint32_t)(v * 1000 + 0.5);
	return 0;
}

/* "192.0.2.1:443/tcp" or "[2001:db8::1]:443/tcp". */
static int parse_vip(struct lb_service *s, char *v)
{
	char *slash = strrchr(v, '/'), *colon, *host = v;
	unsigned long port;

	if (!slash)
		return -EINVAL;
	*slash = 0;
	if (strcmp(slash + 1, "tcp") == 0)
		s->proto = IPPROTO_TCP;
	else if (strcmp(slash + 1, "udp") == 0)
		s->proto = IPPROTO_UDP;
	else
		return -EINVAL;
	colon = strrchr(v, ':');
	if (!colon)
		return -EINVAL;
	*colon = 0;
	if (*host == '[') {
		size_t n = strlen(host);

		if (n < 2 || host[n - 1] != ']')
			return -EINVAL;
		host[n - 1] = 0;
		host++;
	}
	if (lb_addr_parse(&s->vip, host) < 0)
		return -EINVAL;
	if (parse_uint(colon + 1, 65535, &port) < 0 || port == 0)
		return -EINVAL;
	s->port = (uint16_t)port;
	return 0;
}

static int key_service(struct parser *p, char **tok, int n)
{
	struct lb_config *cfg = p->cfg;
	struct lb_service *s;
	char vip[128];

	if (n != 3)
		return fail(p, "service: expected 'service NAME VIP:PORT/PROTO'");
	if (cfg->nsvc >= LB_MAX_SERVICES)
		return fail(p, "service: more than %d services", LB_MAX_SERVICES);
	if (strlen(tok[1]) >= LB_NAME_MAX)
		return fail(p, "service: name '%s' longer than %d", tok[1],
			    LB_NAME_MAX - 1);
	for (int i = 0; i < cfg->nsvc; i++)
		if (strcmp(cfg->svc[i].name, tok[1]) == 0)
			return fail(p, "service: '%s' declared twice (first at line %u)",
				    tok[1], cfg->svc[i].line);
	s = &cfg->svc[cfg->nsvc];
	*s = p->defs;
	snprintf(s->name, sizeof(s->name), "%s", tok[1]);
	snprintf(vip, sizeof(vip), "%s", tok[2]);
	if (parse_vip(s, vip) < 0)
		return fail(p, "service %s: bad VIP:PORT/PROTO '%s' (want e.g. 203.0.113.12:3478/udp)",
			    tok[1], tok[2]);
	for (int i = 0; i < cfg->nsvc; i++) {
		struct lb_service *o = &cfg->svc[i];

		if (lb_addr_eq(&o->vip, &s->vip) && o->port == s->port &&
		    o->proto == s->proto)
			return fail(p, "service %s: %s is already service '%s'",
				    tok[1], tok[2], o->name);
	}
	s->snat_src = s->vip;
	s->line = p->line;
	cfg->nsvc++;
	p->svc = s;
	return 0;
}

static int key_real(struct parser *p, char **tok, int n)
{
	struct lb_service *s = p->svc;
	struct lb_real *r;
	unsigned long v;

	if (n < 3 || (n - 3) % 2)
		return fail(p, "real: expected 'real NAME ADDRESS [weight N] [port N]'");
	if (s->nreals >= LB_MAX_REALS)
		return fail(p, "real: more than %d in service %s", LB_MAX_REALS,
			    s->name);
	if (strlen(tok[1]) >= LB_NAME_MAX)
		return fail(p, "real: name '%s' too long", tok[1]);
	for (int i = 0; i < s->nreals; i++)
		if (strcmp(s->reals[i].name, tok[1]) == 0)
			return fail(p, "real: '%s' twice in service %s", tok[1],
				    s->name);
	r = &s->reals[s->nreals];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", tok[1]);
	if (lb_addr_parse(&r->addr, tok[2]) < 0)
		return fail(p, "real %s: bad address '%s'", tok[1], tok[2]);
	if (r->addr.family != s->vip.family)
		return fail(p, "real %s: address family differs from VIP of %s",
			    tok[1], s->name);
	r->port = s->port;
	r->weight = 1;
	r->up = 1;
	for (int i = 3; i < n; i += 2) {
		if (strcmp(tok[i], "weight") == 0) {
			if (parse_uint(tok[i + 1], 1000, &v) < 0)
				return fail(p, "real %s: bad weight '%s' (0-1000)",
					    tok[1], tok[i + 1]);
			r->weight = (uint32_t)v;
		} else if (strcmp(tok[i], "port") == 0) {
			if (parse_uint(tok[i + 1], 65535, &v) < 0 || !v)
				return fail(p, "real %s: bad port '%s'", tok[1],
					    tok[i + 1]);
			r->port = (uint16_t)v;
		} else {
			return fail(p, "real %s: unknown option '%s'", tok[1],
				    tok[i]);
		}
	}
	s->nreals++;
	return 0;
}

static int key_monitor(struct parser *p, char **tok, int n)
{
	struct lb_monitor_cfg *m = &p->svc->mon;
	unsigned long v;

	if (n < 2 || (n - 2) % 2)
		return fail(p, "monitor: expected 'monitor tcp|tls|stun|none [interval S] [timeout S] [rise N] [fall N] [port N]'");
	if (strcmp(tok[1], "tcp") == 0)
		m->type = LB_MON_TCP;
	else if (strcmp(tok[1], "tls") == 0)
		m->type = LB_MON_TLS;
	else if (strcmp(tok[1], "stun") == 0)
		m->type = LB_MON_STUN;
	else if (strcmp(tok[1], "none") == 0)
		m->type = LB_MON_NONE;
	else
		return fail(p, "monitor: unknown type '%s' (tcp, tls, stun, none)",
			    tok[1]);
	for (int i = 2; i < n; i += 2) {
		const char *k = tok[i], *val = tok[i + 1];

		if (strcmp(k, "interval") == 0) {
			if (parse_ms(val, &m->interval_ms) < 0)
				return fail(p, "monitor: bad interval '%s' (seconds)", val);
		} else if (strcmp(k, "timeout") == 0) {
			if (parse_ms(val, &m->timeout_ms) < 0)
				return fail(p, "monitor: bad timeout '%s' (seconds)", val);
		} else if (strcmp(k, "rise") == 0 || strcmp(k, "fall") == 0) {
			if (parse_uint(val, 100, &v) < 0 || !v)
				return fail(p, "monitor: bad %s '%s' (1-100)", k, val);
			*(k[0] == 'r' ? &m->rise : &m->fall) = (uint32_t)v;
		} else if (strcmp(k, "port") == 0) {
			if (parse_uint(val, 65535, &v) < 0 || !v)
				return fail(p, "monitor: bad port '%s'", val);
			m->port = (uint16_t)v;
		} else {
			return fail(p, "monitor: unknown option '%s'", k);
		}
	}
	return 0;
}

static int key_seconds(struct parser *p, const char *key, const char *val,
		       uint32_t *out)
{
	unsigned long v;

	if (parse_uint(val, 7 * 86400, &v) < 0 || !v)
		return fail(p, "%s: bad value '%s' (seconds, 1-604800)", key, val);
	*out = (uint32_t)v;
	return 0;
}

/* Keys that fit both the global section (defaults) and a service. */
static int key_timeouts(struct parser *p, struct lb_service *s, char **tok,
			int n, int *done)
{
	*done = 1;
	if (strcmp(tok[0], "tcp-timeout") == 0)
		return n == 2 ? key_seconds(p, tok[0], tok[1], &s->tcp_timeout)
			      : fail(p, "tcp-timeout: expected one value");
	if (strcmp(tok[0], "udp-timeout") == 0)
		return n == 2 ? key_seconds(p, tok[0], tok[1], &s->udp_timeout)
			      : fail(p, "udp-timeout: expected one value");
	if (strcmp(tok[0], "affinity-timeout") == 0)
		return n == 2 ? key_seconds(p, tok[0], tok[1],
					    &s->affinity_timeout)
			      : fail(p, "affinity-timeout: expected one value");
	*done = 0;
	return 0;
}

static int key_service_option(struct parser *p, char **tok, int n)
{
	struct lb_service *s = p->svc;
	const char *k = tok[0];
	unsigned long v;
	int done, rc;

	rc = key_timeouts(p, s, tok, n, &done);
	if (done)
		return rc;
	if (strcmp(k, "real") == 0)
		return key_real(p, tok, n);
	if (strcmp(k, "monitor") == 0)
		return key_monitor(p, tok, n);
	if (n != 2 && strcmp(k, "outbound") != 0)
		return fail(p, "%s: expected one value", k);
	if (strcmp(k, "mode") == 0) {
		if (strcmp(tok[1], "snat") == 0)
			s->mode = LB_SNAT;
		else if (strcmp(tok[1], "dnat") == 0)
			s->mode = LB_DNAT;
		else
			return fail(p, "mode: '%s' is not snat or dnat", tok[1]);
	} else if (strcmp(k, "scheduler") == 0) {
		const struct lb_scheduler *sched = sched_find(tok[1]);
		char names[64];

		if (!sched)
			return fail(p, "scheduler: '%s' is not %s", tok[1],
				    sched_names(names, sizeof(names)));
		s->sched = sched;
	} else if (strcmp(k, "role") == 0) {
		/* Only "av" changes behaviour: the faults M1 and M12 act on
		 * A/V services. The others document the config. */
		if (strcmp(tok[1], "av") && strcmp(tok[1], "access") &&
		    strcmp(tok[1], "webconf") && strcmp(tok[1], "other"))
			return fail(p, "role: '%s' is not av, access, webconf or other",
				    tok[1]);
		s->av = strcmp(tok[1], "av") == 0;
	} else if (strcmp(k, "snat-source") == 0) {
		if (lb_addr_parse(&s->snat_src, tok[1]) < 0 ||
		    s->snat_src.family != s->vip.family)
			return fail(p, "snat-source: bad address '%s' (same family as the VIP)",
				    tok[1]);
	} else if (strcmp(k, "outbound") == 0) {
		if (n < 2)
			return fail(p, "outbound: expected one or more ports");
		for (int i = 1; i < n; i++) {
			if (s->noutbound >= LB_MAX_OUTBOUND)
				return fail(p, "outbound: more than %d ports",
					    LB_MAX_OUTBOUND);
			if (parse_uint(tok[i], 65535, &v) < 0 || !v)
				return fail(p, "outbound: bad port '%s'", tok[i]);
			s->outbound[s->noutbound++] = (uint16_t)v;
		}
	} else if (strcmp(k, "only-with-fault") == 0) {
		s->only_fault = fault_parse(tok[1]);
		if (!s->only_fault)
			return fail(p, "only-with-fault: unknown fault '%s'", tok[1]);
	} else if (strcmp(k, "intercept-direct") == 0) {
		if (strcmp(tok[1], "yes") && strcmp(tok[1], "no"))
			return fail(p, "intercept-direct: expected yes or no");
		s->intercept = tok[1][0] == 'y';
	} else {
		return fail(p, "unknown key '%s' in service %s", k, s->name);
	}
	return 0;
}

static int key_global(struct parser *p, char **tok, int n)
{
	struct lb_config *cfg = p->cfg;
	const char *k = tok[0];
	unsigned long v, lo, hi;
	int done, rc;

	rc = key_timeouts(p, &p->defs, tok, n, &done);
	if (done)
		return rc;
	if (n != 2)
		return fail(p, "%s: expected one value", k);
	if (strcmp(k, "socket") == 0) {
		if (strlen(tok[1]) >= sizeof(cfg->socket) - 1)
			return fail(p, "socket: path too long");
		snprintf(cfg->socket, sizeof(cfg->socket), "%s", tok[1]);
	} else if (strcmp(k, "tun") == 0) {
		if (strlen(tok[1]) >= sizeof(cfg->tun))
			return fail(p, "tun: name longer than 15");
		snprintf(cfg->tun, sizeof(cfg->tun), "%s", tok[1]);
	} else if (strcmp(k, "table") == 0) {
		if (parse_uint(tok[1], 0xfffffffful, &v) < 0 || !v || v == 253 ||
		    v == 254 || v == 255)
			return fail(p, "table: bad routing table '%s'", tok[1]);
		cfg->table = (uint32_t)v;
	} else if (strcmp(k, "pref") == 0) {
		if (parse_uint(tok[1], 30000, &v) < 0 || !v)
			return fail(p, "pref: bad rule priority '%s' (1-30000)", tok[1]);
		cfg->pref = (uint32_t)v;
	} else if (strcmp(k, "conntrack-size") == 0 ||
		   strcmp(k, "affinity-size") == 0) {
		if (parse_uint(tok[1], 1u << 24, &v) < 0 || v < 16)
			return fail(p, "%s: bad size '%s' (16-16777216)", k, tok[1]);
		*(k[0] == 'c' ? &cfg->conntrack_size : &cfg->affinity_size) =
			(uint32_t)v;
	} else if (strcmp(k, "source-flows") == 0) {
		if (parse_uint(tok[1], 1u << 24, &v) < 0)
			return fail(p, "source-flows: bad count '%s' (0-16777216, 0: no cap)",
				    tok[1]);
		cfg->source_flows = (uint32_t)v;
	} else if (strcmp(k, "source-prefix6") == 0) {
		if (parse_uint(tok[1], 128, &v) < 0 || v < 32)
			return fail(p, "source-prefix6: bad prefix length '%s' (32-128)",
				    tok[1]);
		cfg->source_prefix6 = (uint8_t)v;
	} else if (strcmp(k, "tcp-syn-timeout") == 0 ||
		   strcmp(k, "unreplied-timeout") == 0) {
		if (parse_uint(tok[1], 3600, &v) < 0 || !v)
			return fail(p, "%s: bad value '%s' (seconds, 1-3600)", k,
				    tok[1]);
		*(k[0] == 't' ? &cfg->syn_timeout : &cfg->unreplied_timeout) =
			(uint32_t)v;
	} else if (strcmp(k, "ctl-timeout") == 0) {
		if (parse_ms(tok[1], &cfg->ctl_timeout_ms) < 0 ||
		    cfg->ctl_timeout_ms > 3600000)
			return fail(p, "ctl-timeout: bad value '%s' (seconds, up to 3600)",
				    tok[1]);
	} else if (strcmp(k, "snat-ports") == 0) {
		char buf[32], *dash;

		snprintf(buf, sizeof(buf), "%s", tok[1]);
		dash = strchr(buf, '-');
		if (!dash)
			return fail(p, "snat-ports: expected LOW-HIGH");
		*dash = 0;
		if (parse_uint(buf, 65535, &lo) < 0 ||
		    parse_uint(dash + 1, 65535, &hi) < 0 || lo < 1024 ||
		    hi < lo + 15)
			return fail(p, "snat-ports: bad range '%s' (1024-65535, 16 ports at least)",
				    tok[1]);
		cfg->snat_lo = (uint16_t)lo;
		cfg->snat_hi = (uint16_t)hi;
	} else {
		return fail(p, "unknown key '%s'", k);
	}
	return 0;
}

static int check_service(struct parser *p, struct lb_service *s)
{
	p->line = s->line;
	if (s->nreals == 0)
		return fail(p, "service %s has no real servers", s->name);
	if (s->noutbound && s->mode != LB_SNAT)
		return fail(p, "service %s: outbound needs mode snat (R25)",
			    s->name);
	if (s->mon.type != LB_MON_NONE && s->mon.timeout_ms > s->mon.interval_ms)
		return fail(p, "service %s: monitor timeout longer than interval",
			    s->name);
	if (s->mon.type == LB_MON_STUN && s->proto != IPPROTO_UDP &&
	    !s->mon.port)
		return fail(p, "service %s: stun monitor on a tcp service needs a port",
			    s->name);
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *tok[MAX_TOKENS], *save = NULL, *t;
	int n = 0;
	char *hash = strchr(line, '#');

	if (hash)
		*hash = 0;
	for (t = strtok_r(line, " \t\r", &save); t;
	     t = strtok_r(NULL, " \t\r", &save)) {
		if (n == MAX_TOKENS)
			return fail(p, "too many words");
		tok[n++] = t;
	}
	if (n == 0)
		return 0;
	if (strcmp(tok[0], "service") == 0)
		return key_service(p, tok, n);
	if (p->svc)
		return key_service_option(p, tok, n);
	return key_global(p, tok, n);
}

int lb_config_parse(struct lb_config *cfg, const char *name, const char *text,
		 char *err, size_t errlen)
{
	struct parser p = { .cfg = cfg, .name = name, .err = err,
			    .errlen = errlen };
	const char *s = text;
	char line[1024];
	int rc;

	lb_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	p.defs.sched = &sched_rr;
	p.defs.tcp_timeout = LB_DEFAULT_TCP_IDLE;
	p.defs.udp_timeout = LB_DEFAULT_UDP_IDLE;
	p.defs.affinity_timeout = LB_DEFAULT_AFFINITY;
	p.defs.mon.interval_ms = 2000;
	p.defs.mon.timeout_ms = 1000;
	p.defs.mon.rise = 2;
	p.defs.mon.fall = 3;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		p.line++;
		if (n >= sizeof(line))
			return fail(&p, "line longer than %zu", sizeof(line) - 1);
		memcpy(line, s, n);
		line[n] = 0;
		rc = parse_line(&p, line);
		if (rc < 0)
			return rc;
		s += n + (nl ? 1 : 0);
	}
	if (cfg->nsvc == 0) {
		p.line = p.line ? p.line : 1;
		return fail(&p, "no service defined");
	}
	for (int i = 0; i < cfg->nsvc; i++) {
		rc = check_service(&p, &cfg->svc[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int lb_config_load(struct lb_config *cfg, const char *path, char *err,
		size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || n > 1 << 20 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		snprintf(err, errlen, "%s: cannot read (or larger than 1 MiB)", path);
		return -EINVAL;
	}
	text = malloc((size_t)n + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(text, 1, (size_t)n, f) != (size_t)n) {
		free(text);
		fclose(f);
		snprintf(err, errlen, "%s: read error", path);
		return -EIO;
	}
	text[n] = 0;
	fclose(f);
	rc = lb_config_parse(cfg, path, text, err, errlen);
	free(text);
	return rc;
}
