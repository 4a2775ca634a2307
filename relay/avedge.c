/* avedge: a STUN/TURN relay that behaves like the Lync/Skype for Business
 * A/V Edge service. This file: start-up, signals and shutdown; the relay
 * itself runs in the worker threads. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>

#include "conf.h"
#include "io/listener.h"
#include "io/ports.h"
#include "io/tls.h"
#include "metrics.h"
#include "turn/auth.h"
#include "util/log.h"
#include "worker.h"

struct avedge {
	struct avedge_conf conf;
	uv_loop_t loop;
	uv_signal_t sigint, sigterm, sighup;
	uv_timer_t drain;
	uint64_t drain_deadline;
	struct worker *ws;
	int nws;
	struct metrics *metrics;
	SSL_CTX *tls;
	SSL_CTX *mras_tls; /* MRAS: the same certificate, client certificates required */
};

static void stop_main(struct avedge *a)
{
	uv_close((uv_handle_t *)&a->sigint, NULL);
	uv_close((uv_handle_t *)&a->sigterm, NULL);
	uv_close((uv_handle_t *)&a->sighup, NULL);
	uv_close((uv_handle_t *)&a->drain, NULL);
	metrics_close(a->metrics);
}

/* SIGTERM (R16): take no new allocations; leave when the last one has
 * ended or the grace period is over. */
static void drain_tick(uv_timer_t *t)
{
	struct avedge *a = t->data;
	unsigned left = quota_in_use(&a->conf.quota);

	if (left && uv_now(&a->loop) < a->drain_deadline)
		return;
	log_info("stopping with %u allocation%s left", left, left == 1 ? "" : "s");
	stop_main(a);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct avedge *a = s->data;
	char err[512];

	if (signum == SIGHUP) {
		if (conf_reload(&a->conf, err, sizeof err))
			log_error("reload failed, keeping the old settings: %s", err);
		else
			log_info("reloaded users, secrets and limits");
		return;
	}
	if (signum == SIGINT || __atomic_load_n(&a->conf.draining, __ATOMIC_RELAXED)) {
		log_info("signal %d: stopping now", signum);
		stop_main(a);
		return;
	}
	__atomic_store_n(&a->conf.draining, 1, __ATOMIC_RELAXED);
	a->drain_deadline = uv_now(&a->loop) + a->conf.grace_s * 1000ull;
	log_info("SIGTERM: draining %u allocations (grace %u s)", quota_in_use(&a->conf.quota),
		 a->conf.grace_s);
	uv_timer_start(&a->drain, drain_tick, 0, 200);
}

static const char *bind_hint(int err)
{
	switch (err) {
	case UV_EADDRINUSE: return " (another process holds this port)";
	case UV_EACCES: return " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
	case UV_EADDRNOTAVAIL: return " (no interface has this address)";
	default: return "";
	}
}

/* R18: as many descriptors as the system lets us have, and a reserve kept
 * from the stream cap so that, with every connection slot taken, relayed
 * sockets and /metrics still open. */
static void raise_nofile(struct avedge_conf *c)
{
	struct rlimit r;
	rlim_t reserve = 1024 + (c->quota_total ? 2 * (rlim_t)c->quota_total : 4096);

	if (getrlimit(RLIMIT_NOFILE, &r))
		return;
	if (r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
		getrlimit(RLIMIT_NOFILE, &r);
	}
	if (r.rlim_cur != RLIM_INFINITY && (rlim_t)c->lim.max_conns + reserve > r.rlim_cur) {
		uint32_t was = c->lim.max_conns;
		c->lim.max_conns = r.rlim_cur > reserve + 16 ? (uint32_t)(r.rlim_cur - reserve) : 16;
		log_warn("--max-conns %u lowered to %u: %lu file descriptors, %lu kept for relayed "
			 "sockets", was, c->lim.max_conns, (unsigned long)r.rlim_cur,
			 (unsigned long)reserve);
	}
	if (c->lim.max_per_source > c->lim.max_conns)
		c->lim.max_per_source = c->lim.max_conns;
}

/* Fail early and clearly, before any thread starts. */
static int preflight(struct avedge *a)
{
	char err[512], where[NETADDR_STRLEN];

	raise_nofile(&a->conf);
	for (int i = 0; i < a->conf.nlisten; i++) {
		int e = listener_probe(&a->conf.listen[i].addr, a->conf.listen[i].tp);
		if (e) {
			log_error("cannot bind %s/%s: %s%s",
				  netaddr_str((struct sockaddr *)&a->conf.listen[i].addr, where,
					      sizeof where),
				  transport_name(a->conf.listen[i].tp), uv_strerror(e), bind_hint(e));
			return -1;
		}
		if (a->conf.listen[i].tp == TP_TLS && !a->tls &&
		    !(a->tls = tls_ctx_new(a->conf.cert, a->conf.key, err, sizeof err))) {
			log_error("%s", err);
			return -1;
		}
	}
	for (int i = 0; i < a->conf.nmras; i++) {
		int e = listener_probe(&a->conf.mras[i], TP_TLS);
		if (e) {
			log_error("cannot bind MRAS %s: %s%s",
				  netaddr_str((struct sockaddr *)&a->conf.mras[i], where, sizeof where),
				  uv_strerror(e), bind_hint(e));
			return -1;
		}
	}
	if (a->conf.nmras &&
	    (!(a->mras_tls = tls_ctx_new(a->conf.cert, a->conf.key, err, sizeof err)) ||
	     tls_ctx_verify_clients(a->mras_tls, a->conf.mras_ca, err, sizeof err))) {
		log_error("MRAS: %s", err);
		return -1;
	}
	if (conf_build(&a->conf, err, sizeof err)) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct avedge *a = calloc(1, sizeof *a);
	int rc = 0, started = 0;

	if (!a)
		return 1;
	log_set_name("avedge");
	if (conf_parse_args(&a->conf, argc, argv)) {
		free(a);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (preflight(a)) {
		rc = 1;
		goto out;
	}
	a->nws = (int)a->conf.threads;
	a->ws = calloc((size_t)a->nws, sizeof *a->ws);
	if (!a->ws) {
		rc = 1;
		goto out;
	}
	for (; started < a->nws; started++)
		if (worker_start(&a->ws[started], &a->conf, a->tls, a->mras_tls, started)) {
			rc = 1;
			break;
		}
	if (rc) { /* the failed worker has no thread: close it by hand */
		struct worker *w = &a->ws[started];
		for (int i = 0; i < w->nls; i++)
			listener_close(w->ls[i]);
		server_close(&w->srv);
		uv_close((uv_handle_t *)&w->stop, NULL);
		uv_run(&w->loop, UV_RUN_DEFAULT);
		uv_loop_close(&w->loop);
		for (int i = 0; i < w->nls; i++)
			free(w->ls[i]);
		goto stop;
	}
	for (int i = 0; i < a->conf.nlisten; i++) {
		char where[NETADDR_STRLEN];
		log_info("listening on %s/%s",
			 netaddr_str((struct sockaddr *)&a->conf.listen[i].addr, where, sizeof where),
			 transport_name(a->conf.listen[i].tp));
	}
	for (int i = 0; i < a->conf.nmras; i++) {
		char where[NETADDR_STRLEN];
		log_info("MRAS on %s (SIP over mutual TLS, %d media relay%s, up to %u min)",
			 netaddr_str((struct sockaddr *)&a->conf.mras[i], where, sizeof where),
			 a->conf.nmras_relays, a->conf.nmras_relays == 1 ? "" : "s",
			 a->conf.mras_duration_min);
	}
	for (int fam = 0; fam < 2; fam++)
		if (a->conf.ports.has[fam]) {
			char pub[64], bind[64];
			netaddr_ip_str((struct sockaddr *)&a->conf.relay_public[fam], pub, sizeof pub);
			netaddr_ip_str((struct sockaddr *)&a->conf.ports.bind[fam], bind, sizeof bind);
			log_info("relaying at %s%s%s, ports %u-%u", pub, strcmp(pub, bind) ? " bound to " : "",
				 strcmp(pub, bind) ? bind : "", a->conf.ports.lo, a->conf.ports.hi);
		}
	log_info("%d worker thread%s, realm %s", a->nws, a->nws == 1 ? "" : "s", a->conf.realm);

	uv_loop_init(&a->loop);
	if (a->conf.have_metrics) {
		char where[NETADDR_STRLEN];
		int e = metrics_start(&a->loop, (struct sockaddr *)&a->conf.metrics, a->ws, a->nws,
				      a->conf.metrics_timeout_ms, a->conf.metrics_max_conns,
				      &a->metrics);
		netaddr_str((struct sockaddr *)&a->conf.metrics, where, sizeof where);
		if (e) {
			log_error("cannot serve metrics on %s: %s%s", where, uv_strerror(e), bind_hint(e));
			rc = 1;
			uv_run(&a->loop, UV_RUN_DEFAULT);
			uv_loop_close(&a->loop);
			goto stop;
		}
		log_info("metrics at http://%s/metrics", where);
	}
	uv_signal_init(&a->loop, &a->sigint);
	uv_signal_init(&a->loop, &a->sigterm);
	uv_signal_init(&a->loop, &a->sighup);
	uv_timer_init(&a->loop, &a->drain);
	a->sigint.data = a->sigterm.data = a->sighup.data = a->drain.data = a;
	uv_signal_start(&a->sigint, on_signal, SIGINT);
	uv_signal_start(&a->sigterm, on_signal, SIGTERM);
	uv_signal_start(&a->sighup, on_signal, SIGHUP);
	uv_run(&a->loop, UV_RUN_DEFAULT);
	uv_loop_close(&a->loop);
stop:
	for (int i = 0; i < started; i++)
		worker_stop(&a->ws[i]);
	ports_reservations_free();
out:
	auth_thread_cleanup();
	stun_thread_cleanup();
	if (a->tls)
		SSL_CTX_free(a->tls);
	if (a->mras_tls)
		SSL_CTX_free(a->mras_tls);
	conf_free(&a->conf);
	free(a->ws);
	free(a);
	return rc;
}
