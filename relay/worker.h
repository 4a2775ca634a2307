/* worker.h: a worker thread: its own loop, listeners and allocations. */
#ifndef EDGELAB_WORKER_H
#define EDGELAB_WORKER_H

#include <openssl/ssl.h>
#include <uv.h>

#include "conf.h"
#include "io/listener.h"
#include "server.h"

struct worker {
	uv_thread_t thread;
	uv_loop_t loop;
	uv_async_t stop;
	struct server srv;
	struct listener *ls[CONF_MAX_LISTEN];
	int nls;
	int failed;
};

/* Bind this worker's listeners (SO_REUSEPORT) and run its loop in a new
 * thread. 0, or -1 after logging why. */
int worker_start(struct worker *w, struct avedge_conf *c, SSL_CTX *tls, int id);
/* Ask the worker to close everything, then wait for its thread. */
void worker_stop(struct worker *w);

#endif
