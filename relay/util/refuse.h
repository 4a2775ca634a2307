/* refuse.h: take a connection off a listener's backlog when there is no
 * memory to serve it. A libuv connection callback that returns without
 * uv_accept() leaves the listener unwatched for good, so "no memory,
 * return" would stop the listener; this accepts into a handle kept per
 * thread (nothing allocated) and closes it at once. */
#ifndef EDGELAB_REFUSE_H
#define EDGELAB_REFUSE_H

#include <uv.h>

/* From the connection callback of l (TCP or pipe). 0, or uv_accept()'s
 * error. While the handle of an earlier refusal is still closing, l is
 * served as soon as it has closed (up to REFUSE_WAITING listeners; past
 * that l stays unwatched, and -ENOSPC says so). */
int accept_refuse(uv_stream_t *l);
/* l is closing: it must not be served later. */
void accept_forget(uv_stream_t *l);

#define REFUSE_WAITING 16

#endif
