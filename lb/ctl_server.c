/* ctl_server.c: the control socket's server side, on the loop; see
 * ctl.h. A connection reads one line, runs it through the handler and
 * writes the answer back. The answer buffer is allocated per connection:
 * the control socket is not the packet path. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL_OUT_MAX (64 * 1024)

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
	c->srv->handle(c->srv->arg, c->in, c->out, CTL_OUT_MAX);
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
	       ctl_handler handle, void *arg)
{
	int rc;

	s->handle = handle;
	s->arg = arg;
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
