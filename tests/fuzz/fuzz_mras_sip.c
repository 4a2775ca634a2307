/* tests/fuzz/fuzz_mras_sip.c: libFuzzer target for MRAS's SIP side
 * (relay/mras/sip.c, libosip2 underneath).
 *
 * For every input: the stream framer (a length within the cap, or 0, or
 * -1), then the request parse; whatever it can answer (a SERVICE, a wrong
 * method, a wrong content type) is answered, and the answer must frame
 * to exactly its own length and parse back as a response with the status
 * given. The client's response parse runs on the input too. Any broken
 * invariant aborts. Seeds: tests/fuzz/corpus/mras_sip/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mras/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INVARIANT(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int status[] = {
		[MRAS_SIP_OK] = 200, [MRAS_SIP_BAD_METHOD] = 405, [MRAS_SIP_BAD_TYPE] = 415,
	};
	struct mras_sip_req r;
	enum mras_sip_verdict v;
	ssize_t f;
	char *out, *body;
	size_t n, blen;
	int code;

	mras_sip_init();
	f = mras_sip_frame_len(data, size);
	INVARIANT(f >= -1 && f <= MRAS_SIP_MAX);
	v = mras_sip_parse(&r, (const char *)data, size);
	if (v == MRAS_SIP_OK || v == MRAS_SIP_BAD_METHOD || v == MRAS_SIP_BAD_TYPE) {
		INVARIANT(v != MRAS_SIP_OK || r.body_len <= size);
		if (!mras_sip_answer(&r, status[v], "Reason", v, v == MRAS_SIP_OK ? "<x/>" : NULL,
				     v == MRAS_SIP_OK ? 4 : 0, &out, &n)) {
			INVARIANT(strlen(out) == n);
			if (n <= MRAS_SIP_MAX)
				INVARIANT(mras_sip_frame_len((const uint8_t *)out, n) == (ssize_t)n);
			INVARIANT(!mras_sip_response(out, n, &code, &body, &blen));
			INVARIANT(code == status[v]);
			free(body);
			free(out);
		}
	}
	mras_sip_free(&r);
	if (!mras_sip_response((const char *)data, size, &code, &body, &blen))
		free(body);
	return 0;
}
