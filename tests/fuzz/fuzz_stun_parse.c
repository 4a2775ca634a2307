/* tests/fuzz/fuzz_stun_parse.c: libFuzzer target for the STUN/TURN codec.
 *
 * For every input: stun_peek_len; stun_msg_parse; on success every typed
 * reader on every attribute, the address lookups, integrity with fixed
 * keys, a re-encode through the writer (each attribute copied with
 * stun_put_attr, FINGERPRINT recomputed) that must parse back to the same
 * attributes, and a re-signed copy that must verify. Then the ChannelData
 * parser for datagrams and streams, a wrap/parse round trip, and a stream
 * demultiplexer walking the input as back-to-back frames.
 *
 * Any broken invariant aborts, so libFuzzer reports it like a crash.
 * Seeds: tests/fuzz/corpus/stun_parse/. */
#include <string.h>
#include <sys/socket.h>

#include "fuzzutil.h"
#include "stun/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key_short[] = "VOkJxbRl1RmTxUk/WvJxBt";
static uint8_t key_md5[32], key_sha[32];
static int keys_ready;

static void keys_init(void)
{
	if (keys_ready)
		return;
	INVARIANT(stun_longterm_key(STUN_PW_MD5, "user", "realm", "pass", key_md5) == 16);
	INVARIANT(stun_longterm_key(STUN_PW_SHA256, "user", "realm", "pass", key_sha) == 32);
	keys_ready = 1;
}

static void read_all(const struct stun_msg *m, const uint8_t *buf, size_t size)
{
	INVARIANT(m->buf == buf && m->len == size);
	INVARIANT(m->tid == buf + 8);
	INVARIANT(m->nattrs <= STUN_MAX_ATTRS && m->nunknown <= STUN_MAX_UNKNOWN);
	INVARIANT(m->mi < (int)m->nattrs && m->mi256 < (int)m->nattrs &&
		  m->fp < (int)m->nattrs);
	INVARIANT(m->fp < 0 || m->fp == m->nattrs - 1);
	INVARIANT(stun_type(m->method, (enum stun_class)m->cls) == m->type);
	fuzz_sink += (uint32_t)strlen(stun_method_name(m->method));
	fuzz_sink += (uint32_t)strlen(stun_class_name(m->cls));

	fuzz_read_attrs(m, 1, stun_attr_name);

	static const uint16_t addrs[] = {
		STUN_A_MAPPED_ADDRESS, STUN_A_RESPONSE_ADDRESS, STUN_A_XOR_PEER_ADDRESS,
		STUN_A_XOR_RELAYED_ADDRESS, STUN_A_XOR_MAPPED_ADDRESS,
		STUN_A_ALTERNATE_SERVER, STUN_A_RESPONSE_ORIGIN, STUN_A_OTHER_ADDRESS,
	};
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		struct sockaddr_storage ss;
		int rc = stun_msg_addr(m, addrs[i], &ss);
		INVARIANT(rc != STUN_E_MISSING || !stun_msg_attr(m, addrs[i]));
	}

	int r1 = stun_msg_check_integrity(m, key_short, sizeof key_short - 1);
	int r2 = stun_msg_check_integrity(m, key_md5, 16);
	int r3 = stun_msg_check_integrity(m, key_sha, 32);
	if (m->mi < 0 && m->mi256 < 0)
		INVARIANT(r1 == STUN_E_MISSING && r2 == STUN_E_MISSING && r3 == STUN_E_MISSING);
	fuzz_sink += (uint32_t)(r1 + r2 + r3);
}

static uint8_t out[STUN_MAX_MSG + 64];

/* Same attributes through the writer: must parse back to the same ones. */
static void reencode(const struct stun_msg *m)
{
	struct stun_writer w;
	struct stun_msg m2;

	stun_writer_init(&w, out, sizeof out, m->method, (enum stun_class)m->cls, m->tid);
	for (unsigned i = 0; i < m->nattrs; i++) {
		const struct stun_attr *a = &m->attrs[i];
		if (a->type == STUN_A_FINGERPRINT)
			stun_put_fingerprint(&w);
		else
			stun_put_attr(&w, a->type, a->val, a->len);
	}
	int n = stun_writer_finish(&w);
	INVARIANT(n == (int)m->len);
	INVARIANT(stun_peek_len(out, (size_t)n) == (size_t)n);
	INVARIANT(stun_msg_parse(&m2, out, (size_t)n) == STUN_OK);
	INVARIANT(m2.method == m->method && m2.cls == m->cls);
	INVARIANT(memcmp(m2.tid, m->tid, STUN_TID_LEN) == 0);
	INVARIANT(m2.nunknown == m->nunknown);
	INVARIANT(m2.mi == m->mi && m2.mi256 == m->mi256 && m2.fp == m->fp);
	for (unsigned i = 0; i < m->nunknown; i++)
		INVARIANT(m2.unknown[i] == m->unknown[i]);
	fuzz_same_attrs(m, &m2, 1);

	/* Re-signed: every attribute before the first integrity attribute,
	 * then MI, MI-SHA256 and FINGERPRINT; must verify with the key. */
	unsigned body = m->nattrs;
	if (m->mi >= 0)
		body = (unsigned)m->mi;
	if (m->mi256 >= 0 && (unsigned)m->mi256 < body)
		body = (unsigned)m->mi256;
	if (m->fp >= 0 && (unsigned)m->fp < body)
		body = (unsigned)m->fp;
	if (body + 3 > STUN_MAX_ATTRS)
		return;
	stun_writer_init(&w, out, sizeof out, m->method, (enum stun_class)m->cls, m->tid);
	for (unsigned i = 0; i < body; i++)
		stun_put_attr(&w, m->attrs[i].type, m->attrs[i].val, m->attrs[i].len);
	stun_put_integrity(&w, key_md5, 16);
	stun_put_integrity_sha256(&w, key_sha, 32);
	stun_put_fingerprint(&w);
	n = stun_writer_finish(&w);
	if (n == STUN_E_NOSPACE)
		return; /* the three added attributes did not fit in 65535 */
	INVARIANT(n > 0);
	INVARIANT(stun_msg_parse(&m2, out, (size_t)n) == STUN_OK);
	INVARIANT(m2.nattrs == body + 3);
	INVARIANT(stun_msg_check_integrity(&m2, key_sha, 32) == STUN_OK);
	INVARIANT(stun_msg_check_integrity(&m2, key_md5, 16) == STUN_E_INTEGRITY);
}

static void chdata(const uint8_t *data, size_t size)
{
	for (int stream = 0; stream < 2; stream++) {
		uint16_t ch, dl;
		const uint8_t *d;
		size_t flen = turn_chdata_frame_len(data, size, stream);
		int rc = turn_chdata_parse(data, size, stream, &ch, &d, &dl);
		if (rc == STUN_OK) {
			INVARIANT(ch >= TURN_CHANNEL_MIN && ch <= TURN_CHANNEL_MAX);
			INVARIANT(d == data + TURN_CHDATA_HDR);
			INVARIANT(flen >= TURN_CHDATA_HDR + (size_t)dl && flen <= size);
			fuzz_touch(d, dl);
		} else {
			INVARIANT(rc == STUN_E_CHANNEL);
		}
	}

	/* Wrap the input as the payload of a frame and parse it back. */
	if (size < 2)
		return;
	uint16_t ch = (uint16_t)(TURN_CHANNEL_MIN +
				 (data[0] << 8 | data[1]) % (TURN_CHANNEL_MAX - TURN_CHANNEL_MIN + 1));
	size_t plen = size - 2 > 65535 ? 65535 : size - 2;
	int stream = data[0] & 1;
	memcpy(out + TURN_CHDATA_HDR, data + 2, plen);
	int n = turn_chdata_wrap(out, sizeof out, ch, (uint16_t)plen, stream);
	INVARIANT(n == (int)(TURN_CHDATA_HDR + (stream ? ((plen + 3) & ~(size_t)3) : plen)));
	uint16_t ch2, dl2;
	const uint8_t *d2;
	INVARIANT(turn_chdata_frame_len(out, (size_t)n, stream) == (size_t)n);
	INVARIANT(turn_chdata_parse(out, (size_t)n, stream, &ch2, &d2, &dl2) == STUN_OK);
	INVARIANT(ch2 == ch && dl2 == plen && d2 == out + TURN_CHDATA_HDR);
	INVARIANT(memcmp(d2, data + 2, plen) == 0);
}

/* The input as a TCP/TLS stream of back-to-back STUN and ChannelData
 * frames, each parsed from an exactly sized heap copy. */
static void stream_walk(const uint8_t *data, size_t size)
{
	size_t off = 0;
	for (int frames = 0; off < size && frames < 64; frames++) {
		const uint8_t *p = data + off;
		size_t left = size - off, n;
		if ((n = stun_peek_len(p, left)) != 0) {
			if (n > left || n < STUN_HDR_LEN)
				return;
			uint8_t *c = malloc(n);
			struct stun_msg m;
			INVARIANT(c != NULL);
			memcpy(c, p, n);
			if (stun_msg_parse(&m, c, n) == STUN_OK)
				read_all(&m, c, n);
			free(c);
		} else if ((n = turn_chdata_frame_len(p, left, 1)) != 0) {
			uint16_t ch, dl;
			const uint8_t *d;
			if (n > left)
				return;
			uint8_t *c = malloc(n);
			INVARIANT(c != NULL);
			memcpy(c, p, n);
			INVARIANT(turn_chdata_parse(c, n, 1, &ch, &d, &dl) == STUN_OK);
			fuzz_touch(d, dl);
			free(c);
		} else {
			return;
		}
		off += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;

	keys_init();
	size_t peek = stun_peek_len(data, size);
	int rc = stun_msg_parse(&m, data, size);
	if (rc == STUN_OK) {
		INVARIANT(peek == size);
		read_all(&m, data, size);
		reencode(&m);
	} else {
		INVARIANT(rc < 0 && rc >= STUN_E_CHANNEL);
		fuzz_sink += (uint32_t)strlen(stun_strerror(rc));
	}
	chdata(data, size);
	stream_walk(data, size);
	return 0;
}
