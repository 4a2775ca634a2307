/* ctl_cmd.c: the control commands, run against the engine; see
 * ctl_cmd.h. Where the lines come from (the control socket, hlb --check)
 * is the caller's business. */
#include "ctl_cmd.h"
#include "config.h"
#include "ctl_json.h"
#include "scheduler.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct out {
	char *b;
	size_t cap, len;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->b + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

static const char *admin_name(int a)
{
	return a == LB_DISABLED ? "disabled" : a == LB_DRAIN ? "drain" : "enabled";
}

static void cmd_list(struct engine *e, struct out *o)
{
	struct lb_config *cfg = e->cfg;
	char a[64], b[64];

	put(o, "ok\n");
	for (int i = 0; i < cfg->nsvc; i++) {
		struct lb_service *s = &cfg->svc[i];

		put(o, "service %s %s%s%s:%u/%s mode %s scheduler %s",
		    s->name, s->vip.family == 6 ? "[" : "",
		    lb_addr_str(&s->vip, a, sizeof(a)),
		    s->vip.family == 6 ? "]" : "", s->port,
		    lb_config_proto_name(s->proto), lb_config_mode_name(s->mode),
		    s->sched->name);
		if (s->sched == &sched_source)
			put(o, " affinity-timeout %u", s->affinity_timeout);
		put(o, " tcp-timeout %u udp-timeout %u", s->tcp_timeout,
		    s->udp_timeout);
		if (s->mode == LB_SNAT)
			put(o, " snat-source %s", lb_addr_str(&s->snat_src, b, sizeof(b)));
		put(o, " monitor %s", lb_config_monitor_name(s->mon.type));
		if (s->mon.type)
			put(o, " interval %ums rise %u fall %u", s->mon.interval_ms,
			    s->mon.rise, s->mon.fall);
		put(o, " flows %u\n", s->active);
		for (int j = 0; j < s->nreals; j++) {
			struct lb_real *r = &s->reals[j];

			put(o, "  real %s %s port %u weight %u admin %s health %s flows %u\n",
			    r->name, lb_addr_str(&r->addr, a, sizeof(a)), r->port,
			    r->weight, admin_name(r->admin), r->up ? "up" : "down",
			    r->active);
		}
	}
}

static void counters(struct out *o, const struct lb_counters *c)
{
	put(o, " flows_total %llu pkts_in %llu bytes_in %llu pkts_out %llu bytes_out %llu",
	    (unsigned long long)c->flows, (unsigned long long)c->pkts_in,
	    (unsigned long long)c->bytes_in, (unsigned long long)c->pkts_out,
	    (unsigned long long)c->bytes_out);
}

static void cmd_stats(struct engine *e, struct out *o)
{
	struct lb_config *cfg = e->cfg;
	struct nat_stats *st = &e->nat.st;
	struct ct_table *ct = &e->nat.ct;

	put(o, "ok\n");
	put(o, "engine rx %llu tx %llu tx_errors %llu xlate %llu passed %llu dropped %llu bad %llu icmp %llu frags %llu io %s wakeups %llu rounds %llu\n",
	    (unsigned long long)e->rx, (unsigned long long)e->tx,
	    (unsigned long long)e->tx_err, (unsigned long long)st->xlate,
	    (unsigned long long)st->passed, (unsigned long long)st->dropped,
	    (unsigned long long)st->bad, (unsigned long long)st->icmp,
	    (unsigned long long)st->frags, engine_io_name(e),
	    (unsigned long long)e->wakeups, (unsigned long long)e->rounds);
	put(o, "conntrack flows %u size %u sources %u source_flows %u evicted %llu affinity %u\n",
	    ct->count, ct->cap, ct->nsrc, ct->lim.src_max,
	    (unsigned long long)ct->evicted, e->nat.aff.count);
	/* New flows refused, by reason (issue 11). */
	put(o, "refused full %llu source_cap %llu tcp_no_syn %llu no_port %llu clash %llu tls_refused %llu\n",
	    (unsigned long long)ct->full, (unsigned long long)ct->src_capped,
	    (unsigned long long)st->tcp_no_syn, (unsigned long long)st->no_port,
	    (unsigned long long)ct->clash, (unsigned long long)st->tls_refused);
	for (int i = 0; i < cfg->nsvc; i++) {
		struct lb_service *s = &cfg->svc[i];

		put(o, "service %s flows %u", s->name, s->active);
		counters(o, &s->c);
		put(o, " no_real %u\n", s->no_real);
		for (int j = 0; j < s->nreals; j++) {
			struct lb_real *r = &s->reals[j];

			put(o, "  real %s health %s admin %s flows %u", r->name,
			    r->up ? "up" : "down", admin_name(r->admin), r->active);
			counters(o, &r->c);
			if (s->mon.type)
				put(o, " mon_ok %llu mon_fail %llu mon_retx %llu mon_late %llu",
				    (unsigned long long)r->mc.ok,
				    (unsigned long long)r->mc.fail,
				    (unsigned long long)r->mc.retx,
				    (unsigned long long)r->mc.late);
			put(o, "\n");
		}
	}
}

static int real_matches(const struct lb_real *r, const char *name)
{
	struct lb_addr a;

	if (strcmp(r->name, name) == 0)
		return 1;
	return lb_addr_parse(&a, name) == 0 && lb_addr_eq(&a, &r->addr);
}

static int cmd_admin(struct engine *e, struct out *o, int admin,
		     const char *svc, const char *real)
{
	struct lb_config *cfg = e->cfg;
	int hits = 0, svc_found = 0;
	uint32_t flushed = 0;

	for (int i = 0; i < cfg->nsvc; i++) {
		struct lb_service *s = &cfg->svc[i];

		if (strcmp(svc, "*") && strcmp(svc, s->name))
			continue;
		svc_found = 1;
		for (int j = 0; j < s->nreals; j++) {
			if (!real_matches(&s->reals[j], real))
				continue;
			s->reals[j].admin = (uint8_t)admin;
			/* disable takes the real out now; drain lets its
			 * flows run on (R26). */
			if (admin == LB_DISABLED)
				flushed += nat_flush_real(&e->nat, i, j);
			hits++;
		}
	}
	if (!svc_found) {
		put(o, "error: no service '%s'\n", svc);
		return -EINVAL;
	}
	if (!hits) {
		put(o, "error: no real '%s' in service '%s'\n", real, svc);
		return -EINVAL;
	}
	put(o, "ok\n%s %s in %d service(s), %u flow(s) removed\n",
	    admin_name(admin), real, hits, flushed);
	return 0;
}

int ctl_cmd_run(struct engine *e, const char *line, char *outbuf, size_t cap)
{
	struct out o = { outbuf, cap, 0 };
	char buf[512], *tok[4], *save = NULL;
	int n = 0;

	outbuf[0] = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " \t\r\n", &save); t && n < 4;
	     t = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = t;
	if (n == 1 && strcmp(tok[0], "list") == 0) {
		cmd_list(e, &o);
		return 0;
	}
	if (n == 2 && strcmp(tok[0], "list") == 0 && strcmp(tok[1], "--json") == 0) {
		put(&o, "ok\n");
		/* A cut JSON line would be read as a device's bad answer:
		 * say plainly that it did not fit instead. */
		if (ctl_json_list(e->cfg, o.b + o.len, o.cap - o.len) >= o.cap - o.len) {
			o.len = 0;
			put(&o, "error: the list does not fit in %zu bytes\n", cap);
			return -EINVAL;
		}
		return 0;
	}
	if (n == 1 && strcmp(tok[0], "stats") == 0) {
		cmd_stats(e, &o);
		return 0;
	}
	if (n == 3 && strcmp(tok[0], "enable") == 0)
		return cmd_admin(e, &o, LB_ENABLED, tok[1], tok[2]);
	if (n == 3 && strcmp(tok[0], "disable") == 0)
		return cmd_admin(e, &o, LB_DISABLED, tok[1], tok[2]);
	if (n == 3 && strcmp(tok[0], "drain") == 0)
		return cmd_admin(e, &o, LB_DRAIN, tok[1], tok[2]);
	put(&o, "error: usage: list [--json] | stats | enable|disable|drain SERVICE REAL\n");
	return -EINVAL;
}
