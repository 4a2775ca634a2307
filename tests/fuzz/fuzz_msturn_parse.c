/* tests/fuzz/fuzz_msturn_parse.c: libFuzzer target for the codec's
 * [MS-TURN] dialect (stun/msturn.h, R19).
 *
 * For every input: msturn_peek_len and msturn_parse; on success the
 * invariants of the parse (offsets back to back, or padded when it said
 * so; the Magic Cookie first; MESSAGE-INTEGRITY last), every typed reader
 * on every attribute, integrity with fixed keys, a re-encode through the
 * [MS-TURN] writer that must give the same bytes (back to back) or the
 * same attributes (padded), and a re-signed copy that must verify. Then
 * the 2.1.4 framing and the pseudo-TLS hello on the input, and the input
 * as a stream of framed messages, each parsed from an exactly sized heap
 * copy. The IETF parser must refuse what the [MS-TURN] one accepts.
 * The input, and every type-3 frame's payload, as a 2.2.3 multiplexed
 * packet (0xFF10): when taken, its pieces where its header says and the
 * header rebuilt byte for byte; a Multiplexed TURN Session ID attribute
 * read is 8 bytes inside the message.
 *
 * Any broken invariant aborts, so libFuzzer reports it like a crash.
 * Seeds: tests/fuzz/corpus/msturn_parse/. */
#include <string.h>

#include "fuzzutil.h"
#include "stun/msturn.h"
#include "stun/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t key_md5[32];
static int keys_ready;
static uint8_t out[STUN_MAX_MSG + 64];

static void read_all(const struct stun_msg *m, const uint8_t *buf, size_t size)
{
	INVARIANT(m->buf == buf && m->len == size && m->tid == buf + 4);
	INVARIANT(m->ms == 1 || m->ms == 2);
	INVARIANT(m->nattrs >= 1 && m->nattrs <= STUN_MAX_ATTRS);
	INVARIANT(m->nunknown <= STUN_MAX_UNKNOWN);
	INVARIANT(m->attrs[0].type == MS_A_MAGIC_COOKIE && m->attrs[0].off == STUN_HDR_LEN);
	INVARIANT(m->mi < 0 || m->mi == m->nattrs - 1);
	INVARIANT(m->mi256 < 0 && m->fp < 0);
	INVARIANT(msturn_peek_len(buf, size) == size);
	for (unsigned i = 0; i < m->nunknown; i++)
		INVARIANT(m->unknown[i] < 0x8000);
	fuzz_read_attrs(m, m->ms == 2, msturn_attr_name);
	{
		const uint8_t *id;
		if (!msturn_mux_session(m, &id))
			INVARIANT(id > buf && id + MSTURN_MUX_ID_LEN <= buf + size);
	}
	fuzz_sink += msturn_version(m);
	{
		const uint8_t *id;
		uint32_t seq;
		if (msturn_seq(m, &id, &seq) == STUN_OK)
			fuzz_touch(id, MSTURN_CONN_ID_LEN);
	}
	int r = stun_msg_check_integrity(m, key_md5, 16);
	INVARIANT(m->mi >= 0 ? (r == STUN_OK || r == STUN_E_INTEGRITY) : r == STUN_E_MISSING);
	fuzz_sink += (uint32_t)strlen(msturn_type_name(m->type));
}

/* Through the writer: the same bytes when they came back to back. */
static void reencode(const struct stun_msg *m, const uint8_t *buf, size_t size)
{
	struct stun_writer w;
	struct stun_msg m2;
	int n;

	msturn_writer_init(&w, out, sizeof out, m->type, m->tid);
	for (unsigned i = 1; i < m->nattrs; i++)
		stun_put_attr(&w, m->attrs[i].type, m->attrs[i].val, m->attrs[i].len);
	n = stun_writer_finish(&w);
	INVARIANT(n > 0);
	if (m->ms == 1) {
		INVARIANT((size_t)n == size && !memcmp(out, buf, size));
	} else {
		/* Written back to back: read so, unless unknown attributes make
		 * a padded reading the cleaner one (msturn_parse). */
		INVARIANT(msturn_parse(&m2, out, (size_t)n) == STUN_OK);
		if (m2.ms == 2)
			return;
		fuzz_same_attrs(m, &m2, 0);
	}

	/* Re-signed: everything before M-I, then M-I (SHA-1 or SHA-256). */
	unsigned body = m->mi >= 0 ? (unsigned)m->mi : m->nattrs;
	for (int sha = 0; sha < 2; sha++) {
		msturn_writer_init(&w, out, sizeof out, m->type, m->tid);
		for (unsigned i = 1; i < body; i++)
			stun_put_attr(&w, m->attrs[i].type, m->attrs[i].val, m->attrs[i].len);
		msturn_put_integrity(&w, key_md5, 16, sha);
		n = stun_writer_finish(&w);
		if (n == STUN_E_NOSPACE)
			return;
		INVARIANT(n > 0);
		INVARIANT(msturn_parse(&m2, out, (size_t)n) == STUN_OK);
		INVARIANT(m2.mi == (int)body && m2.attrs[m2.mi].len == (sha ? 32 : 20));
		INVARIANT(stun_msg_check_integrity(&m2, key_md5, 16) == STUN_OK);
		INVARIANT(stun_msg_check_integrity(&m2, key_md5, 15) == STUN_E_INTEGRITY);
	}
}

/* One 2.2.3 packet filling buf: checked against its own header. */
static void mux_check(const uint8_t *buf, size_t size)
{
	const uint8_t *id, *d;
	uint8_t hdr[MSTURN_MUX_HDR];
	size_t dlen;

	if (msturn_mux_parse(buf, size, &id, &d, &dlen)) {
		INVARIANT(size < MSTURN_MUX_HDR || !msturn_is_mux(buf, size) ||
			  ((size_t)buf[2] << 8 | buf[3]) != size - 4);
		return;
	}
	INVARIANT(msturn_is_mux(buf, size));
	INVARIANT(id == buf + 4 && d == buf + MSTURN_MUX_HDR && dlen + MSTURN_MUX_HDR == size);
	INVARIANT(msturn_mux_hdr(hdr, id, dlen) == 0);
	INVARIANT(!memcmp(hdr, buf, sizeof hdr));
	if (dlen) /* the last byte is readable: the packet ends at the buffer end */
		fuzz_sink += d[dlen - 1];
}

/* The input as an [MS-TURN] TCP stream: framed messages and data. */
static void stream_walk(const uint8_t *data, size_t size)
{
	size_t off = 0;

	for (int frames = 0; off < size && frames < 64; frames++) {
		size_t n = msturn_frame_len(data + off, size - off);
		struct stun_msg m;

		if (!n || n > size - off)
			return;
		if (data[off] == MSTURN_FRAME_CONTROL) {
			size_t len = n - MSTURN_FRAME_HDR;
			uint8_t *c = malloc(len ? len : 1);
			INVARIANT(c != NULL);
			memcpy(c, data + off + MSTURN_FRAME_HDR, len);
			if (msturn_parse(&m, c, len) == STUN_OK)
				read_all(&m, c, len);
			free(c);
		} else if (data[off] == MSTURN_FRAME_DATA) {
			size_t len = n - MSTURN_FRAME_HDR;
			uint8_t *c = malloc(len ? len : 1);
			INVARIANT(c != NULL);
			memcpy(c, data + off + MSTURN_FRAME_HDR, len);
			mux_check(c, len);
			free(c);
		}
		off += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	int rc;

	if (!keys_ready) {
		INVARIANT(stun_longterm_key(STUN_PW_MD5, "alice", "edge.lab", "secret", key_md5) == 16);
		keys_ready = 1;
	}
	fuzz_sink += (uint32_t)msturn_peek_len(data, size);
	rc = msturn_parse(&m, data, size);
	if (rc == STUN_OK) {
		read_all(&m, data, size);
		reencode(&m, data, size);
		INVARIANT(stun_msg_parse(&m, data, size) != STUN_OK);
	} else {
		INVARIANT(rc < 0 && rc >= STUN_E_TOO_LONG);
		fuzz_sink += (uint32_t)strlen(stun_strerror(rc));
	}
	rc = msturn_ptls_is_hello(data, size);
	INVARIANT(rc >= -1 && rc <= 1);
	INVARIANT(rc != -1 || size < MSTURN_PTLS_HELLO_LEN);
	mux_check(data, size);
	stream_walk(data, size);
	return 0;
}
