/* tests/fuzz/fuzz_mras_xml.c: libFuzzer target for MRAS's XML bodies
 * (relay/mras/xml.c, libxml2 underneath).
 *
 * For every input: the credentialsRequest parse; a request it accepts is
 * answered, and the answer must parse back on the client's side with
 * reasonPhrase OK, the same credentials, duration and relays. A refused
 * one is answered with its reason alone, which must parse back with no
 * credentials. The client's response parse runs on the input too. Any
 * broken invariant aborts. Seeds: tests/fuzz/corpus/mras_xml/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mras/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INVARIANT(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mras_relay relays[2] = {
		{MRAS_LOC_INTERNET, "av.edge.lab", 3478, 443},
		{MRAS_LOC_INTRANET, "10.0.0.1", 0, 443},
	};
	struct mras_cred cred = {"dXNlcg==", "cGFzcw=="};
	struct mras_creq q;
	struct mras_answer a;
	enum mras_reason r;
	const char *why = NULL;
	char *out;
	size_t n;

	mras_xml_init();
	r = mras_xml_parse((const char *)data, size, &q, &why);
	INVARIANT(r == MRAS_R_OK || why);
	if (!mras_xml_response(&q, r, &cred, 60, relays, 2, &out, &n)) {
		INVARIANT(!mras_xml_parse_response(out, n, &a, &why));
		if (r == MRAS_R_OK) {
			INVARIANT(!strcmp(a.reason, "OK") && a.duration == 60 && a.nrelays == 2);
			INVARIANT(!strcmp(a.cred.user, cred.user) && !strcmp(a.cred.pass, cred.pass));
			INVARIANT(!memcmp(&a.relays[1], &relays[1], sizeof relays[1]));
		} else {
			INVARIANT(strcmp(a.reason, "OK") && !a.cred.user[0]);
		}
		free(out);
	}
	(void)mras_xml_parse_response((const char *)data, size, &a, &why);
	return 0;
}
