/* worker.h: a worker thread: its own loop, listeners and allocations. */
#ifndef EDGELAB_WORKER_H
#define EDGELAB_WORKER_H

#include <openssl/ssl.h>
#include <uv.h>

#include "conf.h"
#include "io/listener.h"
#include "mras/service.h"
#include "server.h"

struct worker {
	uv_thread_t thread;
	uv_loop_t loop;
	uv_async_t stop;
	struct server srv;
	struct mras_service mras;
	struct listener *ls[2 * CONF_MAX_LISTEN]; /* TURN's, then MRAS's */
	int nls;
	int failed;
};

/* Bind this worker's listeners (SO_REUSEPORT) and run its loop in a new
 * thread. tls: the /tls listeners' context; mras_tls: MRAS's (mutual
 * TLS). 0, or -1 after logging why. */
int worker_start(struct worker *w, struct avedge_conf *c, SSL_CTX *tls, SSL_CTX *mras_tls,
		 int id);
/* Ask the worker to close everything, then wait for its thread. */
void worker_stop(struct worker *w);

#endif
