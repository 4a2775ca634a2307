/* refuse.c: see refuse.h. One handle per thread: a loop belongs to one
 * thread, and the handle is only ever between uv_accept() and the end of
 * its close, one loop iteration. */
#include "util/refuse.h"

static _Thread_local struct {
	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	struct refuse_wait *head, **tail; /* refused while h was closing */
	int busy;
} sink;

static void sink_closed(uv_handle_t *h)
{
	struct refuse_wait *w = sink.head;

	(void)h;
	sink.head = NULL;
	sink.tail = &sink.head;
	sink.busy = 0;
	/* The first takes the handle again; the rest line up behind it. */
	while (w) {
		struct refuse_wait *next = w->next;
		w->queued = 0;
		w->next = NULL;
		accept_refuse(w->l, w);
		w = next;
	}
}

int accept_refuse(uv_stream_t *l, struct refuse_wait *w)
{
	int err;

	if (sink.busy) {
		if (!w->queued) {
			w->l = l;
			w->next = NULL;
			w->queued = 1;
			*sink.tail = w;
			sink.tail = &w->next;
		}
		return 0;
	}
	if (l->type == UV_NAMED_PIPE)
		uv_pipe_init(l->loop, &sink.h.pipe, 0);
	else
		uv_tcp_init(l->loop, &sink.h.tcp);
	err = uv_accept(l, (uv_stream_t *)&sink.h);
	sink.busy = 1;
	sink.head = NULL;
	sink.tail = &sink.head;
	uv_close((uv_handle_t *)&sink.h, sink_closed);
	return err;
}

void accept_forget(struct refuse_wait *w)
{
	struct refuse_wait **pp;

	if (!w->queued)
		return;
	for (pp = &sink.head; *pp && *pp != w; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = w->next;
		if (sink.tail == &w->next)
			sink.tail = pp;
	}
	w->queued = 0;
	w->next = NULL;
}
