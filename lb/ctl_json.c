/* ctl_json.c: `list --json`; see ctl_json.h. Written by hand rather than
 * with a JSON library: the values are numbers and names the config parser
 * already restricted, and the escaper below covers what a name may hold. */
#include "ctl_json.h"
#include "config.h"
#include "scheduler.h"

#include <stdarg.h>
#include <stdio.h>

struct jbuf {
	char *b;
	size_t cap, len;
};

__attribute__((format(printf, 2, 3)))
static void jput(struct jbuf *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->len + 1 >= j->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->b + j->len, j->cap - j->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	j->len = (size_t)n < j->cap - j->len ? j->len + (size_t)n : j->cap;
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void jstr(struct jbuf *j, const char *s)
{
	jput(j, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			jput(j, "\\%c", c);
		else if (c < 0x20)
			jput(j, "\\u%04x", c);
		else
			jput(j, "%c", c);
	}
	jput(j, "\"");
}

/* One word for admin and health together: what a person draining a real
 * wants to see. */
static const char *real_state(const struct lb_real *r)
{
	if (r->admin == LB_DISABLED)
		return "disabled";
	if (r->admin == LB_DRAIN)
		return "draining";
	return r->up ? "up" : "down";
}

static void service(struct jbuf *j, const struct lb_service *s)
{
	char a[64];

	jput(j, "{\"edgelab-lb-ctl\":%d,\"service\":", CTL_JSON_VERSION);
	jstr(j, s->name);
	jput(j, ",\"vip\":\"%s\",\"port\":%u,\"proto\":\"%s\",\"mode\":\"%s\",\"scheduler\":",
	     lb_addr_str(&s->vip, a, sizeof(a)), s->port,
	     lb_config_proto_name(s->proto),
	     s->dsr ? "dsr" : lb_config_mode_name(s->mode));
	jstr(j, s->sched->name);
	/* Affinity exists only with the source scheduler: null, not 0, so a
	 * reader cannot take "none" for "forgets at once". */
	if (s->sched == &sched_source)
		jput(j, ",\"affinity_timeout\":%u", s->affinity_timeout);
	else
		jput(j, ",\"affinity_timeout\":null");
	jput(j, ",\"tcp_idle\":%u,\"udp_idle\":%u", s->tcp_timeout, s->udp_timeout);
	if (s->mode == LB_SNAT)
		jput(j, ",\"snat_source\":\"%s\"", lb_addr_str(&s->snat_src, a, sizeof(a)));
	jput(j, ",\"monitor\":{\"kind\":\"%s\"", lb_config_monitor_name(s->mon.type));
	if (s->mon.type)
		jput(j, ",\"interval_ms\":%u,\"timeout_ms\":%u,\"rise\":%u,\"fall\":%u",
		     s->mon.interval_ms, s->mon.timeout_ms, s->mon.rise, s->mon.fall);
	jput(j, "},\"flows\":%u,\"reals\":[", s->active);
	for (int i = 0; i < s->nreals; i++) {
		const struct lb_real *r = &s->reals[i];

		jput(j, "%s{\"name\":", i ? "," : "");
		jstr(j, r->name);
		jput(j, ",\"addr\":\"%s\",\"port\":%u,\"state\":\"%s\",\"weight\":%u,\"flows\":%u}",
		     lb_addr_str(&r->addr, a, sizeof(a)), r->port, real_state(r),
		     r->weight, r->active);
	}
	jput(j, "]}\n");
}

size_t ctl_json_list(const struct lb_config *cfg, char *b, size_t cap)
{
	struct jbuf j = { b, cap, 0 };

	if (!cap)
		return 0;
	b[0] = 0;
	for (int i = 0; i < cfg->nsvc; i++)
		service(&j, &cfg->svc[i]);
	return j.len;
}
