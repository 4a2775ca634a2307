/* worker.c: one thread per core, each with its own loop. The kernel's
 * SO_REUSEPORT hash sends a client's packets to the same worker every
 * time, so each allocation lives and dies on one thread without locks. */
#include <stdlib.h>

#include "dispatch.h"
#include "handlers/handlers.h"
#include "turn/auth.h"
#include "util/log.h"
#include "worker.h"

static void on_stop(uv_async_t *a)
{
	struct worker *w = a->data;

	for (int i = 0; i < w->nls; i++)
		listener_close(w->ls[i]);
	server_close(&w->srv);
	uv_close((uv_handle_t *)&w->stop, NULL);
}

static void run(void *arg)
{
	struct worker *w = arg;

	uv_run(&w->loop, UV_RUN_DEFAULT);
	auth_thread_cleanup();
	stun_thread_cleanup();
}

static int start_one(struct worker *w, struct listener *l)
{
	char where[NETADDR_STRLEN];
	const char *what;
	int err;

	w->ls[w->nls++] = l;
	if ((err = listener_start(&w->loop, l, &what))) {
		log_error("cannot %s %s/%s: %s", what,
			  netaddr_str((struct sockaddr *)&l->addr, where, sizeof where),
			  transport_name(l->tp), uv_strerror(err));
		w->failed = 1;
		return -1;
	}
	return 0;
}

int worker_start(struct worker *w, struct avedge_conf *c, SSL_CTX *tls, SSL_CTX *mras_tls,
		 int id)
{
	uv_loop_init(&w->loop);
	if (server_init(&w->srv, c, &w->loop, id, &connect_cbs, &ms_tcp_cbs))
		return -1;
	uv_async_init(&w->loop, &w->stop, on_stop);
	w->stop.data = w;
	for (int i = 0; i < c->nlisten; i++) {
		struct listener *l;
		/* Streams on worker 0 only: an RFC 6062 data connection must
		 * meet its allocation on the thread that owns it. UDP spreads
		 * over every worker. */
		if (id > 0 && c->listen[i].tp != TP_UDP)
			continue;
		l = calloc(1, sizeof *l);
		if (!l)
			return -1;
		l->addr = c->listen[i].addr;
		l->tp = c->listen[i].tp;
		l->tls = l->tp == TP_TLS ? tls : NULL;
		l->cb = (struct listener_cbs){dispatch_msg, dispatch_conn_closing,
						      dispatch_conn_closed, &w->srv};
		server_listener_init(&w->srv, l);
		if (start_one(w, l))
			return -1;
	}
	/* MRAS (R20) on worker 0, a stream like the others: the same
	 * admission, timeouts and output cap, its own framing and up-calls. */
	if (id == 0 && c->nmras && mras_service_init(&w->mras, w->srv.mconf, &w->srv.st))
		return -1;
	for (int i = 0; id == 0 && i < c->nmras; i++) {
		struct listener *l = calloc(1, sizeof *l);
		if (!l)
			return -1;
		l->addr = c->mras[i];
		l->tp = TP_TLS;
		l->tls = mras_tls;
		server_listener_init(&w->srv, l);
		mras_service_listener(&w->mras, l);
		if (start_one(w, l))
			return -1;
	}
	if (uv_thread_create(&w->thread, run, w))
		return -1;
	return 0;
}

void worker_stop(struct worker *w)
{
	uv_async_send(&w->stop);
	uv_thread_join(&w->thread);
	uv_loop_close(&w->loop);
	for (int i = 0; i < w->nls; i++)
		free(w->ls[i]);
}
