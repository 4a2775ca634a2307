/* stun_int.h: helpers private to the codec. */
#ifndef EDGELAB_STUN_INT_H
#define EDGELAB_STUN_INT_H

#include <stdint.h>
#include <string.h>

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}
static inline size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

/* One attribute's rule (attr.c): the sizes and shape its value may take,
 * and its code point in each dialect (0: not in it). */
enum stun_shape { SHAPE_ANY, SHAPE_FIXED, SHAPE_RANGE, SHAPE_ADDR, SHAPE_ERR, SHAPE_MI256,
		  SHAPE_LIST16, SHAPE_MI_MS };
struct stun_rule {
	uint16_t type, ms_type;
	uint8_t shape;
	uint16_t min, max;
	const char *name;
};
/* 0 when val/len fits the rule. */
int stun_rule_check(const struct stun_rule *r, const uint8_t *val, uint16_t len);

/* The one walk over the attributes after the header (attr.c), into m's
 * attrs, unknown list and integrity/fingerprint indexes; 0 or a negative
 * stun_err. The dialects differ in: ms, [MS-TURN] code points (REALM and
 * NONCE stored under RFC 5389's) with MESSAGE-INTEGRITY last; padded,
 * each attribute padded to 4 (always in IETF STUN, either in [MS-TURN]). */
int stun_attrs_walk(struct stun_msg *m, const uint8_t *buf, size_t len, int ms, int padded);
int stun_attr_is_xor(uint16_t type);

/* HMAC over a message prefix whose header length field is replaced by
 * hdr_len (integrity.c). pad64: the prefix is zero-padded to a multiple
 * of 64 bytes first, as RFC 3489 and [MS-TURN] clients compute it. out
 * must hold 32 bytes. */
int stun_hmac(int sha256, const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len,
	      uint16_t hdr_len, int pad64, uint8_t *out);

/* [MS-TURN] wire code points of REALM and NONCE are swapped against RFC
 * 5389's (msturn.c): the codec maps them both ways. */
uint16_t msturn_wire_type(uint16_t type);

#endif
