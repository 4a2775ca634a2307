/* refuse.c: see refuse.h. One handle per thread: a loop belongs to one
 * thread, and the handle is only ever between uv_accept() and the end of
 * its close, one loop iteration. */
#include <errno.h>
#include <string.h>

#include "util/refuse.h"

static _Thread_local struct {
	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	uv_stream_t *waiting[REFUSE_WAITING]; /* refused while h was closing */
	unsigned nwaiting;
	int busy;
} sink;

static void sink_closed(uv_handle_t *h)
{
	uv_stream_t *next[REFUSE_WAITING];
	unsigned n = sink.nwaiting;

	(void)h;
	memcpy(next, sink.waiting, n * sizeof *next);
	sink.nwaiting = 0;
	sink.busy = 0;
	/* The first takes the handle again; the rest wait for it again. */
	for (unsigned i = 0; i < n; i++)
		accept_refuse(next[i]);
}

int accept_refuse(uv_stream_t *l)
{
	int err;

	if (sink.busy) {
		for (unsigned i = 0; i < sink.nwaiting; i++)
			if (sink.waiting[i] == l)
				return 0;
		if (sink.nwaiting == REFUSE_WAITING)
			return -ENOSPC;
		sink.waiting[sink.nwaiting++] = l;
		return 0;
	}
	if (l->type == UV_NAMED_PIPE)
		uv_pipe_init(l->loop, &sink.h.pipe, 0);
	else
		uv_tcp_init(l->loop, &sink.h.tcp);
	err = uv_accept(l, (uv_stream_t *)&sink.h);
	sink.busy = 1;
	uv_close((uv_handle_t *)&sink.h, sink_closed);
	return err;
}

void accept_forget(uv_stream_t *l)
{
	for (unsigned i = 0; i < sink.nwaiting; i++)
		if (sink.waiting[i] == l) {
			sink.waiting[i] = sink.waiting[--sink.nwaiting];
			return;
		}
}
