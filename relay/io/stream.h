/* stream.h: write to a libuv stream without a copy when the socket takes
 * the bytes at once, with one copy of the rest when it does not. */
#ifndef EDGELAB_STREAM_H
#define EDGELAB_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* 0, or a negative libuv error after which the caller closes the stream. */
int stream_write(uv_stream_t *s, const uint8_t *data, size_t len);

#endif
