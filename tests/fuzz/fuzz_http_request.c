/* tests/fuzz/fuzz_http_request.c: libFuzzer target for /metrics' request
 * head (relay/httpreq.c on libhttp-parser).
 *
 * The input is fed whole, then again in pieces whose sizes its first
 * byte picks: both readings must reach the same verdict (complete,
 * incomplete, malformed) and, when complete, the same method and path;
 * a verdict once given does not change with more bytes; the URL kept never
 * passes its buffer. Seeds: tests/fuzz/corpus/http_request/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INVARIANT(c) do { if (!(c)) abort(); } while (0)

static int feed_all(struct httpreq *r, const uint8_t *data, size_t size, size_t step)
{
	int rc = 0;

	httpreq_init(r);
	for (size_t off = 0; off < size && rc == 0; off += step)
		rc = httpreq_feed(r, (const char *)data + off, size - off < step ? size - off : step);
	INVARIANT(rc >= -1 && rc <= 1);
	INVARIANT(r->url_len <= sizeof r->url);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpreq whole, pieces;
	size_t step = size ? 1 + data[0] % 7 : 1;
	int a = feed_all(&whole, data, size, size ? size : 1);
	int b = feed_all(&pieces, data, size, step);

	INVARIANT(a == b);
	if (a == 1) {
		INVARIANT(httpreq_method_get(&whole) == httpreq_method_get(&pieces));
		INVARIANT(httpreq_is_get(&whole, "/metrics") == httpreq_is_get(&pieces, "/metrics"));
		INVARIANT(whole.url_len == pieces.url_len && !memcmp(whole.url, pieces.url, whole.url_len));
		INVARIANT(httpreq_feed(&whole, "x", 1) == 1); /* done stays done */
	} else if (a == -1) {
		INVARIANT(httpreq_strerror(&whole) != NULL);
	}
	return 0;
}
