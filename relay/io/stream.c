/* stream.c: try_write first; queue a copy of the remainder. The copy is
 * the only allocation on a stream's data path, and only when the kernel's
 * socket buffer is full. (libuv's errors are negative errno values.) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/stream.h"

struct wreq {
	uv_write_t req;
	uint8_t data[];
};

static void write_done(uv_write_t *req, int status)
{
	(void)status;
	free(req->data);
}

int stream_write(uv_stream_t *s, const uint8_t *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	int n = uv_try_write(s, &b, 1), err;
	struct wreq *w;

	if (n == (int)len)
		return 0;
	if (n < 0 && n != UV_EAGAIN)
		return n;
	if (n < 0)
		n = 0;
	if (!(w = malloc(sizeof *w + len - (size_t)n)))
		return -ENOMEM;
	memcpy(w->data, data + n, len - (size_t)n);
	w->req.data = w;
	b = uv_buf_init((char *)w->data, (unsigned)(len - (size_t)n));
	if ((err = uv_write(&w->req, s, &b, 1, write_done))) {
		free(w);
		return err;
	}
	return 0;
}

int stream_fence(uv_stream_t *s, uv_write_t *req, uv_write_cb cb)
{
	static char none;
	uv_buf_t b = uv_buf_init(&none, 0);

	return uv_write(req, s, &b, 1, cb);
}
