/* refuse.h: take a connection off a listener's backlog when there is no
 * memory to serve it. A libuv connection callback that returns without
 * uv_accept() leaves the listener unwatched for good, so "no memory,
 * return" would stop the listener; this accepts into a handle kept per
 * thread (nothing allocated) and closes it at once. */
#ifndef EDGELAB_REFUSE_H
#define EDGELAB_REFUSE_H

#include <uv.h>

/* One per listener, beside it, zeroed: its place in the line of listeners
 * waiting while the thread's handle closes after an earlier refusal. As
 * many can wait as there are listeners, with nothing allocated. */
struct refuse_wait {
	uv_stream_t *l;
	struct refuse_wait *next;
	int queued;
};

/* From the connection callback of l (TCP or pipe), w being l's. 0, or
 * uv_accept()'s error. While the handle is closing, l waits in line: the
 * handle serves one listener per loop iteration (its close completes in
 * the iteration's close phase). */
int accept_refuse(uv_stream_t *l, struct refuse_wait *w);
/* l is closing: it must not be served later. */
void accept_forget(struct refuse_wait *w);

#endif
