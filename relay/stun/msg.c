/* msg.c: parse and validate a whole message into a fixed-size struct of
 * pointers into the caller's buffer. Every length is checked before it is
 * used; nothing is allocated. */
#include "stun.h"
#include "stun_int.h"

static int header_check(const uint8_t *buf, size_t len)
{
	if (len < STUN_HDR_LEN)
		return STUN_E_SHORT;
	/* A 16-bit length allows 65552 bytes, but offsets into the message
	 * are 16-bit too: refuse what they cannot address. */
	if (len > STUN_MAX_MSG)
		return STUN_E_TOO_LONG;
	if (buf[0] & 0xc0)
		return STUN_E_NOT_STUN;
	if (rd32(buf + 4) != STUN_MAGIC)
		return STUN_E_COOKIE;
	if (rd16(buf + 2) % 4)
		return STUN_E_LEN_ALIGN;
	if ((size_t)rd16(buf + 2) + STUN_HDR_LEN != len)
		return STUN_E_LEN_MISMATCH;
	return 0;
}

/* RFC 8489 §14.5: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
 * FINGERPRINT may follow; after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT. */
static int order_check(const struct stun_msg *m, uint16_t type)
{
	if (m->fp >= 0)
		return STUN_E_FP_NOT_LAST;
	if (m->mi256 >= 0 && type != STUN_A_FINGERPRINT)
		return STUN_E_AFTER_INTEGRITY;
	if (m->mi >= 0 && type != STUN_A_FINGERPRINT &&
	    type != STUN_A_MESSAGE_INTEGRITY_SHA256)
		return STUN_E_AFTER_INTEGRITY;
	return 0;
}

static void note_unknown(struct stun_msg *m, uint16_t type)
{
	if (type >= 0x8000 || stun_attr_known(type))
		return;
	if (m->nunknown < STUN_MAX_UNKNOWN)
		m->unknown[m->nunknown++] = type;
}

int stun_msg_parse(struct stun_msg *m, const uint8_t *buf, size_t len)
{
	size_t off = STUN_HDR_LEN;
	int err = header_check(buf, len);

	if (err)
		return err;
	m->buf = buf;
	m->len = (uint16_t)len;
	m->type = rd16(buf);
	m->method = (uint16_t)((m->type & 0x000f) | (m->type & 0x00e0) >> 1 |
			       (m->type & 0x3e00) >> 2);
	m->cls = (uint8_t)((m->type >> 4 & 1) | (m->type >> 7 & 2));
	m->tid = buf + 8;
	m->ms = 0;
	m->nattrs = m->nunknown = 0;
	m->mi = m->mi256 = m->fp = -1;

	while (off < len) {
		struct stun_attr *a;
		uint16_t type, alen;

		if (len - off < 4)
			return STUN_E_ATTR_OVERRUN;
		type = rd16(buf + off);
		alen = rd16(buf + off + 2);
		if (pad4(alen) > len - off - 4)
			return STUN_E_ATTR_OVERRUN;
		if ((err = order_check(m, type)))
			return err;
		if ((err = stun_attr_validate(type, buf + off + 4, alen)))
			return err;
		if (m->nattrs == STUN_MAX_ATTRS)
			return STUN_E_TOO_MANY;
		a = &m->attrs[m->nattrs];
		a->type = type;
		a->len = alen;
		a->off = (uint16_t)off;
		a->val = buf + off + 4;
		if (type == STUN_A_MESSAGE_INTEGRITY && m->mi < 0)
			m->mi = (int8_t)m->nattrs;
		else if (type == STUN_A_MESSAGE_INTEGRITY_SHA256 && m->mi256 < 0)
			m->mi256 = (int8_t)m->nattrs;
		else if (type == STUN_A_FINGERPRINT)
			m->fp = (int8_t)m->nattrs;
		note_unknown(m, type);
		m->nattrs++;
		off += 4 + pad4(alen);
	}

	if (m->fp >= 0) {
		const struct stun_attr *fp = &m->attrs[m->fp];
		if ((stun_crc32(buf, fp->off) ^ 0x5354554eu) != rd32(fp->val))
			return STUN_E_FINGERPRINT;
	}
	return 0;
}

const struct stun_attr *stun_msg_attr(const struct stun_msg *m, uint16_t type)
{
	for (unsigned i = 0; i < m->nattrs; i++)
		if (m->attrs[i].type == type)
			return &m->attrs[i]; /* RFC 8489 §14: the first one counts */
	return NULL;
}

int stun_attr_u32(const struct stun_attr *a, uint32_t *out)
{
	if (a->len != 4)
		return STUN_E_ATTR_SIZE;
	*out = rd32(a->val);
	return 0;
}

int stun_attr_u64(const struct stun_attr *a, uint64_t *out)
{
	if (a->len != 8)
		return STUN_E_ATTR_SIZE;
	*out = (uint64_t)rd32(a->val) << 32 | rd32(a->val + 4);
	return 0;
}

int stun_attr_error(const struct stun_attr *a, int *code, const char **reason,
		    size_t *reason_len)
{
	int cls, num;

	if (a->len < 4)
		return STUN_E_ATTR_SIZE;
	cls = a->val[2] & 0x07;
	num = a->val[3];
	if (cls < 3 || cls > 6 || num > 99)
		return STUN_E_ATTR_SIZE;
	*code = cls * 100 + num;
	if (reason)
		*reason = (const char *)a->val + 4;
	if (reason_len)
		*reason_len = a->len - 4u;
	return 0;
}
