/* writer.c: build a message into a caller-owned buffer. The header's
 * length field is kept current after every attribute, so integrity and
 * fingerprint can be computed over the prefix at any point. */
#include "stun.h"
#include "stun_int.h"

void stun_writer_init(struct stun_writer *w, uint8_t *buf, size_t cap,
		      uint16_t method, enum stun_class cls,
		      const uint8_t tid[STUN_TID_LEN])
{
	w->buf = buf;
	w->cap = cap < STUN_MAX_MSG ? cap : STUN_MAX_MSG;
	w->len = 0;
	w->err = 0;
	w->ms = 0;
	if (cap < STUN_HDR_LEN) {
		w->err = STUN_E_NOSPACE;
		return;
	}
	wr16(buf, stun_type(method, cls));
	wr16(buf + 2, 0);
	wr32(buf + 4, STUN_MAGIC);
	memcpy(buf + 8, tid, STUN_TID_LEN);
	w->len = STUN_HDR_LEN;
}

/* [MS-TURN] attributes go back to back, unpadded, as its clients write
 * and read them (libnice's NO_ALIGNED_ATTRIBUTES). */
static uint8_t *reserve(struct stun_writer *w, uint16_t type, size_t len)
{
	uint8_t *p;
	size_t padded = w->ms ? len : pad4(len);

	if (w->err)
		return NULL;
	if (len > 0xffff || w->cap - w->len < 4 + padded) {
		w->err = STUN_E_NOSPACE;
		return NULL;
	}
	p = w->buf + w->len;
	wr16(p, w->ms ? msturn_wire_type(type) : type);
	wr16(p + 2, (uint16_t)len);
	memset(p + 4 + len, 0, padded - len);
	w->len += 4 + padded;
	wr16(w->buf + 2, (uint16_t)(w->len - STUN_HDR_LEN));
	return p + 4;
}

void stun_put_attr(struct stun_writer *w, uint16_t type, const void *val, size_t len)
{
	uint8_t *p = reserve(w, type, len);
	if (p && len)
		memcpy(p, val, len);
}

void stun_put_u32(struct stun_writer *w, uint16_t type, uint32_t v)
{
	uint8_t *p = reserve(w, type, 4);
	if (p)
		wr32(p, v);
}

void stun_put_u64(struct stun_writer *w, uint16_t type, uint64_t v)
{
	uint8_t *p = reserve(w, type, 8);
	if (p) {
		wr32(p, (uint32_t)(v >> 32));
		wr32(p + 4, (uint32_t)v);
	}
}

void stun_put_str(struct stun_writer *w, uint16_t type, const char *s)
{
	stun_put_attr(w, type, s, strlen(s));
}

void stun_put_error(struct stun_writer *w, int code, const char *reason)
{
	size_t rlen = strlen(reason);
	uint8_t *p;

	if (code < 300 || code > 699) {
		if (!w->err)
			w->err = STUN_E_ATTR_SIZE;
		return;
	}
	p = reserve(w, STUN_A_ERROR_CODE, 4 + rlen);
	if (!p)
		return;
	p[0] = p[1] = 0;
	p[2] = (uint8_t)(code / 100);
	p[3] = (uint8_t)(code % 100);
	memcpy(p + 4, reason, rlen);
}

/* [MS-TURN] integrity: the input zero-padded to a multiple of 64 bytes. */
static void put_mac(struct stun_writer *w, int sha256, const uint8_t *key, size_t keylen)
{
	size_t maclen = sha256 ? 32 : 20;
	uint16_t type = sha256 && !w->ms ? STUN_A_MESSAGE_INTEGRITY_SHA256
					 : STUN_A_MESSAGE_INTEGRITY;
	uint8_t mac[32];
	size_t prefix = w->len;

	if (w->err)
		return;
	/* The MAC covers the message up to the attribute, with the header
	 * length counting the attribute itself (RFC 8489 §14.5). */
	if (stun_hmac(sha256, key, keylen, w->buf, prefix,
		      (uint16_t)(prefix + 4 + maclen - STUN_HDR_LEN), w->ms, mac)) {
		w->err = STUN_E_INTEGRITY;
		return;
	}
	stun_put_attr(w, type, mac, maclen);
}

void stun_put_integrity(struct stun_writer *w, const uint8_t *key, size_t keylen)
{
	put_mac(w, 0, key, keylen);
}

void stun_put_integrity_sha256(struct stun_writer *w, const uint8_t *key, size_t keylen)
{
	put_mac(w, 1, key, keylen);
}

void stun_put_unknown(struct stun_writer *w, const struct stun_msg *m)
{
	uint8_t list[2 * STUN_MAX_UNKNOWN];

	for (unsigned i = 0; i < m->nunknown; i++)
		wr16(list + 2 * i, m->unknown[i]);
	stun_put_attr(w, STUN_A_UNKNOWN_ATTRIBUTES, list, 2u * m->nunknown);
}

void stun_put_fingerprint(struct stun_writer *w)
{
	uint8_t *p;
	size_t prefix = w->len;

	if (w->ms)
		return; /* [MS-TURN] has no FINGERPRINT */
	p = reserve(w, STUN_A_FINGERPRINT, 4);
	if (p) /* header length already counts this attribute */
		wr32(p, stun_crc32(w->buf, prefix) ^ 0x5354554eu);
}

int stun_writer_finish(struct stun_writer *w)
{
	return w->err ? w->err : (int)w->len;
}
