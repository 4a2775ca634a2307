/* stream.c: try_write first; queue a copy of the remainder. The copy is
 * the only allocation on a stream's data path, and only when the kernel's
 * socket buffer is full. */
#include <stdlib.h>
#include <string.h>

#include "stream.h"

struct wreq {
	uv_write_t req;
	uint8_t data[];
};

static void write_done(uv_write_t *req, int status) { free(req->data); }

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
		return UV_ENOMEM;
	memcpy(w->data, data + n, len - (size_t)n);
	w->req.data = w;
	b = uv_buf_init((char *)w->data, (unsigned)(len - (size_t)n));
	if ((err = uv_write(&w->req, s, &b, 1, write_done))) {
		free(w);
		return err;
	}
	return 0;
}
