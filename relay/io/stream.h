/* stream.h: write to a libuv stream without a copy when the socket takes
 * the bytes at once, with one copy of the rest when it does not; and a
 * fence that says when what is queued has gone. */
#ifndef EDGELAB_STREAM_H
#define EDGELAB_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* 0, or a negative errno after which the caller closes the stream. */
int stream_write(uv_stream_t *s, const uint8_t *data, size_t len);
/* An empty write behind everything queued on s: libuv completes writes in
 * order, so cb runs once the queue has drained. 0 or a negative errno. */
int stream_fence(uv_stream_t *s, uv_write_t *req, uv_write_cb cb);

#endif
