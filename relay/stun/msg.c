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

int stun_msg_parse(struct stun_msg *m, const uint8_t *buf, size_t len)
{
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
	if ((err = stun_attrs_walk(m, buf, len, 0, 1)))
		return err;
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
