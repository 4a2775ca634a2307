/* ctl.c: the control socket: server side on the loop, the command
 * interpreter, and the `hlb ctl` client. */
#include "ctl.h"
#include "hlb_config.h"
#include "hlb_sched.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_OUT_MAX (64 * 1024)

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

	put(o, "ok\n");
	put(o, "engine rx %llu tx %llu tx_errors %llu xlate %llu passed %llu dropped %llu bad %llu icmp %llu frags %llu io %s wakeups %llu rounds %llu\n",
	    (unsigned long long)e->rx, (unsigned long long)e->tx,
	    (unsigned long long)e->tx_err, (unsigned long long)st->xlate,
	    (unsigned long long)st->passed, (unsigned long long)st->dropped,
	    (unsigned long long)st->bad, (unsigned long long)st->icmp,
	    (unsigned long long)st->frags, engine_io_name(e),
	    (unsigned long long)e->wakeups, (unsigned long long)e->rounds);
	put(o, "conntrack flows %u size %u full %llu affinity %u\n",
	    e->nat.ct.count, e->nat.ct.cap,
	    (unsigned long long)(e->nat.ct.full + st->table_full),
	    e->nat.aff.count);
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

int ctl_execute(struct engine *e, const char *line, char *outbuf, size_t cap)
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
	put(&o, "error: usage: list | stats | enable|disable|drain SERVICE REAL\n");
	return -EINVAL;
}

/* ---- server ---- */

struct ctl_conn {
	uv_pipe_t pipe;
	uv_write_t wr;
	struct ctl_server *srv;
	char in[512];
	size_t inlen;
	char *out;
	int done;
};

static void conn_closed(uv_handle_t *h)
{
	struct ctl_conn *c = h->data;

	free(c->out);
	free(c);
}

static void conn_written(uv_write_t *w, int status)
{
	struct ctl_conn *c = w->data;

	uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void conn_alloc(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
	struct ctl_conn *c = h->data;

	b->base = c->in + c->inlen;
	b->len = sizeof(c->in) - 1 - c->inlen;
}

static void conn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct ctl_conn *c = st->data;
	uv_buf_t ob;

	if (c->done)
		return;
	if (n > 0)
		c->inlen += (size_t)n;
	c->in[c->inlen] = 0;
	if (n >= 0 && !strchr(c->in, '\n') && c->inlen < sizeof(c->in) - 1)
		return;
	c->done = 1;
	uv_read_stop(st);
	if (n < 0 && c->inlen == 0) {
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
		return;
	}
	c->out = malloc(CTL_OUT_MAX);
	if (!c->out) {
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
		return;
	}
	ctl_execute(c->srv->e, c->in, c->out, CTL_OUT_MAX);
	ob = uv_buf_init(c->out, (unsigned)strlen(c->out));
	c->wr.data = c;
	if (uv_write(&c->wr, st, &ob, 1, conn_written) < 0)
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl_server *s = server->data;
	struct ctl_conn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->srv = s;
	uv_pipe_init(server->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
	    uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_read) < 0)
		uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

int ctl_listen(struct ctl_server *s, uv_loop_t *loop, const char *path,
	       struct engine *e)
{
	int rc;

	s->e = e;
	snprintf(s->path, sizeof(s->path), "%s", path);
	unlink(path); /* a stale socket from a killed hlb */
	uv_pipe_init(loop, &s->pipe, 0);
	s->pipe.data = s;
	rc = uv_pipe_bind(&s->pipe, path);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->pipe, 8, on_connection);
	if (rc < 0) {
		uv_close((uv_handle_t *)&s->pipe, NULL);
		return rc;
	}
	return 0;
}

void ctl_close(struct ctl_server *s)
{
	uv_close((uv_handle_t *)&s->pipe, NULL);
	unlink(s->path);
}

/* ---- client ---- */

int ctl_client_main(int argc, char **argv)
{
	const char *path = LB_DEFAULT_SOCKET;
	char line[512] = "", buf[4096];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int i = 0, fd, status = 0, first = 1;
	ssize_t n;

	if (i < argc && strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
		path = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: hlb ctl [--socket PATH] list|stats|enable|disable|drain SERVICE REAL\n");
		return 2;
	}
	for (; i < argc; i++) {
		strncat(line, argv[i], sizeof(line) - strlen(line) - 2);
		strncat(line, i + 1 < argc ? " " : "\n", 2);
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "hlb ctl: socket path too long\n");
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "hlb ctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (write(fd, line, strlen(line)) < 0) {
		close(fd);
		return 1;
	}
	/* The first line is the verdict; the rest is the answer. */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *p = buf;
		size_t len = (size_t)n;

		if (first) {
			char *nl = memchr(buf, '\n', len);

			if (strncmp(buf, "error", 5) == 0)
				status = 1;
			if (nl && !status) {
				p = nl + 1;
				len -= (size_t)(p - buf);
			}
			first = 0;
		}
		fwrite(p, 1, len, status ? stderr : stdout);
	}
	close(fd);
	return status;
}
