/* msturn.c: parse and build [MS-TURN] messages (msturn.h). Every length is
 * checked before it is used; nothing is allocated. */
#include <stdlib.h>

#include <openssl/rand.h>

#include "msturn.h"
#include "stun_int.h"

const char *msturn_type_name(uint16_t type)
{
	switch (type) {
	case MSTURN_ALLOCATE: return "Allocate request";
	case MSTURN_ALLOCATE_OK: return "Allocate response";
	case MSTURN_ALLOCATE_ERR: return "Allocate error response";
	case MSTURN_SEND: return "Send request";
	case MSTURN_DATA_IND: return "Data Indication";
	case MSTURN_SET_ACTIVE_DEST: return "Set Active Destination request";
	case MSTURN_SET_ACTIVE_DEST_OK: return "Set Active Destination response";
	case MSTURN_SET_ACTIVE_DEST_ERR: return "Set Active Destination error response";
	default: return "unknown-type";
	}
}

uint16_t msturn_wire_type(uint16_t type)
{
	if (type == STUN_A_REALM)
		return MS_A_REALM;
	if (type == STUN_A_NONCE)
		return MS_A_NONCE;
	return type;
}

size_t msturn_peek_len(const uint8_t *buf, size_t len)
{
	if (len < MSTURN_MIN_LEN || (buf[0] & 0xc0) || rd32(buf + 4) == STUN_MAGIC ||
	    rd16(buf + 20) != MS_A_MAGIC_COOKIE || rd16(buf + 22) != 4 ||
	    rd32(buf + 24) != MSTURN_COOKIE)
		return 0;
	return STUN_HDR_LEN + (size_t)rd16(buf + 2);
}

int msturn_parse(struct stun_msg *m, const uint8_t *buf, size_t len)
{
	int err, err2;

	if (len < MSTURN_MIN_LEN)
		return STUN_E_SHORT;
	if (len > STUN_MAX_MSG)
		return STUN_E_TOO_LONG;
	if (buf[0] & 0xc0)
		return STUN_E_NOT_STUN;
	if ((size_t)rd16(buf + 2) + STUN_HDR_LEN != len)
		return STUN_E_LEN_MISMATCH;
	if (rd32(buf + 4) == STUN_MAGIC) /* IETF STUN's, as the demultiplexer sees it */
		return STUN_E_COOKIE;
	/* [MS-TURN] 3.1.10: the Magic Cookie attribute first, or it is not
	 * a TURN message of this dialect. */
	if (rd16(buf + 20) != MS_A_MAGIC_COOKIE || rd16(buf + 22) != 4 ||
	    rd32(buf + 24) != MSTURN_COOKIE)
		return STUN_E_COOKIE;
	m->buf = buf;
	m->len = (uint16_t)len;
	m->type = rd16(buf);
	/* libnice's reading of the Data Indication type, which RFC 5389's
	 * bit layout would take for an error response of method 5. */
	if (m->type == MSTURN_DATA_IND) {
		m->method = TURN_DATA;
		m->cls = STUN_INDICATION;
	} else {
		m->method = (uint16_t)((m->type & 0x000f) | (m->type & 0x00e0) >> 1 |
				       (m->type & 0x3e00) >> 2);
		m->cls = (uint8_t)((m->type >> 4 & 1) | (m->type >> 7 & 2));
	}
	m->tid = buf + 4;
	/* Back to back first, as clients send it; a message padded to 4 is
	 * read padded when that is the only clean reading. */
	err = stun_attrs_walk(m, buf, len, 1, 0);
	if (!err && !m->nunknown) {
		m->ms = 1;
		return 0;
	}
	err2 = stun_attrs_walk(m, buf, len, 1, 1);
	if (!err2 && (err || !m->nunknown)) {
		m->ms = 2;
		return 0;
	}
	if (!err) { /* the first reading stands, unknown attributes and all */
		stun_attrs_walk(m, buf, len, 1, 0);
		m->ms = 1;
	}
	return err;
}

uint32_t msturn_version(const struct stun_msg *m)
{
	const struct stun_attr *a = stun_msg_attr(m, MS_A_VERSION);
	uint32_t v = 0;

	if (a)
		stun_attr_u32(a, &v);
	return v;
}

int msturn_seq(const struct stun_msg *m, const uint8_t **conn_id, uint32_t *seq)
{
	const struct stun_attr *a = stun_msg_attr(m, MS_A_SEQUENCE_NUMBER);

	if (!a || a->len != 24)
		return STUN_E_MISSING;
	*conn_id = a->val;
	*seq = rd32(a->val + MSTURN_CONN_ID_LEN);
	return 0;
}

void msturn_writer_init(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t type,
			const uint8_t tid[MSTURN_TID_LEN])
{
	w->buf = buf;
	w->cap = cap < STUN_MAX_MSG ? cap : STUN_MAX_MSG;
	w->len = 0;
	w->err = 0;
	w->ms = 1;
	if (cap < MSTURN_MIN_LEN) {
		w->err = STUN_E_NOSPACE;
		return;
	}
	wr16(buf, type);
	wr16(buf + 2, 0);
	memcpy(buf + 4, tid, MSTURN_TID_LEN);
	w->len = STUN_HDR_LEN;
	stun_put_u32(w, MS_A_MAGIC_COOKIE, MSTURN_COOKIE);
}

void msturn_put_integrity(struct stun_writer *w, const uint8_t *key, size_t keylen, int sha256)
{
	if (sha256)
		stun_put_integrity_sha256(w, key, keylen); /* type 0x0008, 32 bytes */
	else
		stun_put_integrity(w, key, keylen);
}

void msturn_put_seq(struct stun_writer *w, const uint8_t conn_id[MSTURN_CONN_ID_LEN],
		    uint32_t seq)
{
	uint8_t v[24];

	memcpy(v, conn_id, MSTURN_CONN_ID_LEN);
	wr32(v + MSTURN_CONN_ID_LEN, seq);
	stun_put_attr(w, MS_A_SEQUENCE_NUMBER, v, sizeof v);
}

void msturn_tid_random(uint8_t tid[MSTURN_TID_LEN])
{
	if (RAND_bytes(tid, MSTURN_TID_LEN) != 1)
		abort(); /* no randomness: nothing safe to do */
}
