/* attr.c: one table of every attribute we know, in both dialects: its name
 * and the sizes its value may take; and the one walk over a message's
 * attributes (stun_msg_parse, msturn_parse). Validation happens here,
 * once, at parse time, so readers can trust the sizes. */
#include "msturn.h"
#include "stun.h"
#include "stun_int.h"

#define ANY SHAPE_ANY
#define FIXED SHAPE_FIXED
#define RANGE SHAPE_RANGE
#define ADDR SHAPE_ADDR
#define ERR SHAPE_ERR
#define MI256 SHAPE_MI256
#define LIST16 SHAPE_LIST16

/* Each attribute's code point in IETF STUN and in [MS-TURN] (0: not in
 * that dialect), where the two agree on its rule. Limits: RFC 8489 §14
 * (USERNAME < 509 bytes, REALM/NONCE/SOFTWARE and the error reason at most
 * 763 bytes), RFC 8656 §18, RFC 5780 §7, RFC 6062; [MS-TURN] 2.2.2 (any
 * other mandatory attribute below 0x8000 is answered 420), USERNAME, NONCE
 * and REALM within RFC 5389's limits (the MRAS user names are long base64
 * strings). */
static const struct stun_rule rules[] = {
	{STUN_A_MAPPED_ADDRESS, MS_A_MAPPED_ADDRESS, ADDR, 0, 0, "MAPPED-ADDRESS"},
	{STUN_A_RESPONSE_ADDRESS, 0, ADDR, 0, 0, "RESPONSE-ADDRESS"},
	{STUN_A_CHANGE_REQUEST, 0, FIXED, 4, 4, "CHANGE-REQUEST"},
	{STUN_A_USERNAME, 0, RANGE, 0, 508, "USERNAME"},
	{0, MS_A_USERNAME, RANGE, 0, 763, "USERNAME"},
	{STUN_A_MESSAGE_INTEGRITY, 0, FIXED, 20, 20, "MESSAGE-INTEGRITY"},
	{0, MS_A_MESSAGE_INTEGRITY, SHAPE_MI_MS, 20, 32, "MESSAGE-INTEGRITY"},
	{STUN_A_ERROR_CODE, MS_A_ERROR_CODE, ERR, 4, 4 + 763, "ERROR-CODE"},
	{STUN_A_UNKNOWN_ATTRIBUTES, MS_A_UNKNOWN_ATTRIBUTES, LIST16, 0, 2 * STUN_MAX_ATTRS,
	 "UNKNOWN-ATTRIBUTES"},
	{STUN_A_CHANNEL_NUMBER, 0, FIXED, 4, 4, "CHANNEL-NUMBER"},
	{STUN_A_LIFETIME, MS_A_LIFETIME, FIXED, 4, 4, "LIFETIME"},
	{STUN_A_XOR_PEER_ADDRESS, 0, ADDR, 0, 0, "XOR-PEER-ADDRESS"},
	{STUN_A_DATA, MS_A_DATA, ANY, 0, 0, "DATA"},
	{STUN_A_REALM, MS_A_REALM, RANGE, 0, 763, "REALM"},
	{STUN_A_NONCE, MS_A_NONCE, RANGE, 0, 763, "NONCE"},
	{STUN_A_XOR_RELAYED_ADDRESS, 0, ADDR, 0, 0, "XOR-RELAYED-ADDRESS"},
	{STUN_A_REQUESTED_ADDRESS_FAMILY, 0, FIXED, 4, 4, "REQUESTED-ADDRESS-FAMILY"},
	{0, MS_A_REQUESTED_ADDRESS_FAMILY, RANGE, 1, 4, "REQUESTED-ADDRESS-FAMILY"},
	{STUN_A_EVEN_PORT, 0, FIXED, 1, 1, "EVEN-PORT"},
	{STUN_A_REQUESTED_TRANSPORT, 0, FIXED, 4, 4, "REQUESTED-TRANSPORT"},
	{STUN_A_DONT_FRAGMENT, 0, FIXED, 0, 0, "DONT-FRAGMENT"},
	{STUN_A_MESSAGE_INTEGRITY_SHA256, 0, MI256, 16, 32, "MESSAGE-INTEGRITY-SHA256"},
	{STUN_A_PASSWORD_ALGORITHM, 0, RANGE, 4, 4 + 256, "PASSWORD-ALGORITHM"},
	{STUN_A_USERHASH, 0, FIXED, 32, 32, "USERHASH"},
	{STUN_A_XOR_MAPPED_ADDRESS, MS_A_XOR_MAPPED_ADDRESS, ADDR, 0, 0, "XOR-MAPPED-ADDRESS"},
	{STUN_A_RESERVATION_TOKEN, 0, FIXED, 8, 8, "RESERVATION-TOKEN"},
	{STUN_A_PRIORITY, 0, FIXED, 4, 4, "PRIORITY"},
	{STUN_A_USE_CANDIDATE, 0, FIXED, 0, 0, "USE-CANDIDATE"},
	{STUN_A_PADDING, 0, ANY, 0, 0, "PADDING"},
	{STUN_A_RESPONSE_PORT, 0, FIXED, 4, 4, "RESPONSE-PORT"},
	{STUN_A_CONNECTION_ID, 0, FIXED, 4, 4, "CONNECTION-ID"},
	{STUN_A_ADDITIONAL_ADDRESS_FAMILY, 0, FIXED, 4, 4, "ADDITIONAL-ADDRESS-FAMILY"},
	{STUN_A_ADDRESS_ERROR_CODE, 0, RANGE, 4, 4 + 763, "ADDRESS-ERROR-CODE"},
	{STUN_A_PASSWORD_ALGORITHMS, 0, RANGE, 0, 763, "PASSWORD-ALGORITHMS"},
	{STUN_A_ALTERNATE_DOMAIN, 0, RANGE, 0, 255, "ALTERNATE-DOMAIN"},
	{STUN_A_ICMP, 0, FIXED, 8, 8, "ICMP"},
	{STUN_A_SOFTWARE, 0, RANGE, 0, 763, "SOFTWARE"},
	{STUN_A_ALTERNATE_SERVER, MS_A_ALTERNATE_SERVER, ADDR, 0, 0, "ALTERNATE-SERVER"},
	{STUN_A_TRANSACTION_TRANSMIT_COUNTER, 0, FIXED, 4, 4, "TRANSACTION-TRANSMIT-COUNTER"},
	{STUN_A_CACHE_TIMEOUT, 0, FIXED, 4, 4, "CACHE-TIMEOUT"},
	{STUN_A_FINGERPRINT, 0, FIXED, 4, 4, "FINGERPRINT"},
	{STUN_A_ICE_CONTROLLED, 0, FIXED, 8, 8, "ICE-CONTROLLED"},
	{STUN_A_ICE_CONTROLLING, 0, FIXED, 8, 8, "ICE-CONTROLLING"},
	{STUN_A_RESPONSE_ORIGIN, 0, ADDR, 0, 0, "RESPONSE-ORIGIN"},
	{STUN_A_OTHER_ADDRESS, 0, ADDR, 0, 0, "OTHER-ADDRESS"},
	{STUN_A_ADDITIONAL_ADDRESS_FAMILY_DRAFT, 0, FIXED, 4, 4, "ADDITIONAL-ADDRESS-FAMILY(draft)"},
	{STUN_A_ADDRESS_ERROR_CODE_DRAFT, 0, RANGE, 4, 4 + 763, "ADDRESS-ERROR-CODE(draft)"},
	/* [MS-TURN]'s own */
	{0, MS_A_MAGIC_COOKIE, FIXED, 4, 4, "MAGIC-COOKIE"},
	{0, MS_A_BANDWIDTH, FIXED, 4, 4, "BANDWIDTH"},
	{0, MS_A_DESTINATION_ADDRESS, ADDR, 0, 0, "DESTINATION-ADDRESS"},
	{0, MS_A_REMOTE_ADDRESS, ADDR, 0, 0, "REMOTE-ADDRESS"},
	{0, MS_A_VERSION, FIXED, 4, 4, "MS-VERSION"},
	{0, MS_A_SEQUENCE_NUMBER, FIXED, 24, 24, "MS-SEQUENCE-NUMBER"},
	{0, MS_A_SERVICE_QUALITY, ANY, 0, 0, "MS-SERVICE-QUALITY"},
	{0, MS_A_ALTERNATE_MAPPED_ADDRESS, ADDR, 0, 0, "MS-ALTERNATE-MAPPED-ADDRESS"},
	{0, MS_A_MUX_SESSION_ID, FIXED, MSTURN_MUX_ID_LEN, MSTURN_MUX_ID_LEN,
	 "MS-MULTIPLEXED-TURN-SESSION-ID"},
};

/* Code point 0 is reserved in both dialects: it matches no rule. */
static const struct stun_rule *rule_find(uint16_t type, int ms)
{
	if (!type)
		return NULL;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if ((ms ? rules[i].ms_type : rules[i].type) == type)
			return &rules[i];
	return NULL;
}

int stun_attr_is_xor(uint16_t type)
{
	return type == STUN_A_XOR_MAPPED_ADDRESS || type == STUN_A_XOR_PEER_ADDRESS ||
	       type == STUN_A_XOR_RELAYED_ADDRESS;
}

const char *stun_attr_name(uint16_t type)
{
	const struct stun_rule *r = rule_find(type, 0);
	return r ? r->name : "unknown-attribute";
}

const char *msturn_attr_name(uint16_t wire_type)
{
	const struct stun_rule *r = rule_find(wire_type, 1);
	return r ? r->name : "unknown-attribute";
}

/* RFC 8489 §14.5: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
 * FINGERPRINT may follow; after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT.
 * [MS-TURN] has neither: MESSAGE-INTEGRITY is last. */
static int order_check(const struct stun_msg *m, uint16_t type, int ms)
{
	if (m->fp >= 0)
		return STUN_E_FP_NOT_LAST;
	if (m->mi256 >= 0 && type != STUN_A_FINGERPRINT)
		return STUN_E_AFTER_INTEGRITY;
	if (m->mi >= 0 && (ms || (type != STUN_A_FINGERPRINT &&
				  type != STUN_A_MESSAGE_INTEGRITY_SHA256)))
		return STUN_E_AFTER_INTEGRITY;
	return 0;
}

int stun_attrs_walk(struct stun_msg *m, const uint8_t *buf, size_t len, int ms, int padded)
{
	size_t off = STUN_HDR_LEN;

	m->nattrs = m->nunknown = 0;
	m->mi = m->mi256 = m->fp = -1;
	while (off < len) {
		const struct stun_rule *r;
		struct stun_attr *a;
		uint16_t type, alen;
		size_t step;
		int err;

		if (len - off < 4)
			return STUN_E_ATTR_OVERRUN;
		type = rd16(buf + off);
		alen = rd16(buf + off + 2);
		step = padded ? pad4(alen) : alen;
		if (step > len - off - 4)
			return STUN_E_ATTR_OVERRUN;
		if ((err = order_check(m, type, ms)))
			return err;
		if ((r = rule_find(type, ms)) && (err = stun_rule_check(r, buf + off + 4, alen)))
			return err;
		if (m->nattrs == STUN_MAX_ATTRS)
			return STUN_E_TOO_MANY;
		a = &m->attrs[m->nattrs];
		a->type = ms ? msturn_wire_type(type) : type; /* REALM, NONCE: the RFC 5389 names */
		a->len = alen;
		a->off = (uint16_t)off;
		a->val = buf + off + 4;
		if (type == STUN_A_MESSAGE_INTEGRITY && m->mi < 0) /* 0x0008 in both */
			m->mi = (int8_t)m->nattrs;
		else if (!ms && type == STUN_A_MESSAGE_INTEGRITY_SHA256 && m->mi256 < 0)
			m->mi256 = (int8_t)m->nattrs;
		else if (!ms && type == STUN_A_FINGERPRINT)
			m->fp = (int8_t)m->nattrs;
		else if (!r && type < 0x8000 && m->nunknown < STUN_MAX_UNKNOWN)
			m->unknown[m->nunknown++] = type; /* comprehension-required, unknown: 420 */
		m->nattrs++;
		off += 4 + step;
	}
	return 0;
}

int stun_rule_check(const struct stun_rule *r, const uint8_t *val, uint16_t len)
{
	switch (r->shape) {
	case ANY:
		return 0;
	case FIXED:
		return len == r->min ? 0 : STUN_E_ATTR_SIZE;
	case RANGE:
	case ERR:
		return len >= r->min && len <= r->max ? 0 : STUN_E_ATTR_SIZE;
	case LIST16:
		return len % 2 == 0 && len <= r->max ? 0 : STUN_E_ATTR_SIZE;
	case MI256: /* RFC 8489 §14.6: 16 to 32 bytes, a multiple of 4 */
		return len >= r->min && len <= r->max && len % 4 == 0 ? 0 : STUN_E_ATTR_SIZE;
	case SHAPE_MI_MS: /* [MS-TURN]: HMAC-SHA1, or HMAC-SHA256 from MS-Version 3 */
		return len == 20 || len == 32 ? 0 : STUN_E_ATTR_SIZE;
	case ADDR:
		if (len < 4)
			return STUN_E_ATTR_SIZE;
		if (val[1] == 0x01)
			return len == 8 ? 0 : STUN_E_ATTR_SIZE;
		if (val[1] == 0x02)
			return len == 20 ? 0 : STUN_E_ATTR_SIZE;
		return STUN_E_FAMILY;
	}
	return 0;
}
