/* attr.c: one table of every attribute we know: its name and the sizes its
 * value may take. Validation happens here, once, at parse time, so readers
 * can trust the sizes. */
#include "stun.h"
#include "stun_int.h"

#define ANY SHAPE_ANY
#define FIXED SHAPE_FIXED
#define RANGE SHAPE_RANGE
#define ADDR SHAPE_ADDR
#define ERR SHAPE_ERR
#define MI256 SHAPE_MI256
#define LIST16 SHAPE_LIST16

/* Limits: RFC 8489 §14 (USERNAME < 509 bytes, REALM/NONCE/SOFTWARE and the
 * error reason at most 763 bytes), RFC 8656 §18, RFC 5780 §7, RFC 6062. */
static const struct stun_rule rules[] = {
	{STUN_A_MAPPED_ADDRESS, ADDR, 0, 0, "MAPPED-ADDRESS"},
	{STUN_A_RESPONSE_ADDRESS, ADDR, 0, 0, "RESPONSE-ADDRESS"},
	{STUN_A_CHANGE_REQUEST, FIXED, 4, 4, "CHANGE-REQUEST"},
	{STUN_A_USERNAME, RANGE, 0, 508, "USERNAME"},
	{STUN_A_MESSAGE_INTEGRITY, FIXED, 20, 20, "MESSAGE-INTEGRITY"},
	{STUN_A_ERROR_CODE, ERR, 4, 4 + 763, "ERROR-CODE"},
	{STUN_A_UNKNOWN_ATTRIBUTES, LIST16, 0, 2 * STUN_MAX_ATTRS, "UNKNOWN-ATTRIBUTES"},
	{STUN_A_CHANNEL_NUMBER, FIXED, 4, 4, "CHANNEL-NUMBER"},
	{STUN_A_LIFETIME, FIXED, 4, 4, "LIFETIME"},
	{STUN_A_XOR_PEER_ADDRESS, ADDR, 0, 0, "XOR-PEER-ADDRESS"},
	{STUN_A_DATA, ANY, 0, 0, "DATA"},
	{STUN_A_REALM, RANGE, 0, 763, "REALM"},
	{STUN_A_NONCE, RANGE, 0, 763, "NONCE"},
	{STUN_A_XOR_RELAYED_ADDRESS, ADDR, 0, 0, "XOR-RELAYED-ADDRESS"},
	{STUN_A_REQUESTED_ADDRESS_FAMILY, FIXED, 4, 4, "REQUESTED-ADDRESS-FAMILY"},
	{STUN_A_EVEN_PORT, FIXED, 1, 1, "EVEN-PORT"},
	{STUN_A_REQUESTED_TRANSPORT, FIXED, 4, 4, "REQUESTED-TRANSPORT"},
	{STUN_A_DONT_FRAGMENT, FIXED, 0, 0, "DONT-FRAGMENT"},
	{STUN_A_MESSAGE_INTEGRITY_SHA256, MI256, 16, 32, "MESSAGE-INTEGRITY-SHA256"},
	{STUN_A_PASSWORD_ALGORITHM, RANGE, 4, 4 + 256, "PASSWORD-ALGORITHM"},
	{STUN_A_USERHASH, FIXED, 32, 32, "USERHASH"},
	{STUN_A_XOR_MAPPED_ADDRESS, ADDR, 0, 0, "XOR-MAPPED-ADDRESS"},
	{STUN_A_RESERVATION_TOKEN, FIXED, 8, 8, "RESERVATION-TOKEN"},
	{STUN_A_PRIORITY, FIXED, 4, 4, "PRIORITY"},
	{STUN_A_USE_CANDIDATE, FIXED, 0, 0, "USE-CANDIDATE"},
	{STUN_A_PADDING, ANY, 0, 0, "PADDING"},
	{STUN_A_RESPONSE_PORT, FIXED, 4, 4, "RESPONSE-PORT"},
	{STUN_A_CONNECTION_ID, FIXED, 4, 4, "CONNECTION-ID"},
	{STUN_A_ADDITIONAL_ADDRESS_FAMILY, FIXED, 4, 4, "ADDITIONAL-ADDRESS-FAMILY"},
	{STUN_A_ADDRESS_ERROR_CODE, RANGE, 4, 4 + 763, "ADDRESS-ERROR-CODE"},
	{STUN_A_PASSWORD_ALGORITHMS, RANGE, 0, 763, "PASSWORD-ALGORITHMS"},
	{STUN_A_ALTERNATE_DOMAIN, RANGE, 0, 255, "ALTERNATE-DOMAIN"},
	{STUN_A_ICMP, FIXED, 8, 8, "ICMP"},
	{STUN_A_SOFTWARE, RANGE, 0, 763, "SOFTWARE"},
	{STUN_A_ALTERNATE_SERVER, ADDR, 0, 0, "ALTERNATE-SERVER"},
	{STUN_A_TRANSACTION_TRANSMIT_COUNTER, FIXED, 4, 4, "TRANSACTION-TRANSMIT-COUNTER"},
	{STUN_A_CACHE_TIMEOUT, FIXED, 4, 4, "CACHE-TIMEOUT"},
	{STUN_A_FINGERPRINT, FIXED, 4, 4, "FINGERPRINT"},
	{STUN_A_ICE_CONTROLLED, FIXED, 8, 8, "ICE-CONTROLLED"},
	{STUN_A_ICE_CONTROLLING, FIXED, 8, 8, "ICE-CONTROLLING"},
	{STUN_A_RESPONSE_ORIGIN, ADDR, 0, 0, "RESPONSE-ORIGIN"},
	{STUN_A_OTHER_ADDRESS, ADDR, 0, 0, "OTHER-ADDRESS"},
	{STUN_A_ADDITIONAL_ADDRESS_FAMILY_DRAFT, FIXED, 4, 4, "ADDITIONAL-ADDRESS-FAMILY(draft)"},
	{STUN_A_ADDRESS_ERROR_CODE_DRAFT, RANGE, 4, 4 + 763, "ADDRESS-ERROR-CODE(draft)"},
};

static const struct stun_rule *rule_find(uint16_t type)
{
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (rules[i].type == type)
			return &rules[i];
	return NULL;
}

int stun_attr_known(uint16_t type) { return rule_find(type) != NULL; }

int stun_attr_is_xor(uint16_t type)
{
	return type == STUN_A_XOR_MAPPED_ADDRESS || type == STUN_A_XOR_PEER_ADDRESS ||
	       type == STUN_A_XOR_RELAYED_ADDRESS;
}

const char *stun_attr_name(uint16_t type)
{
	const struct stun_rule *r = rule_find(type);
	return r ? r->name : "unknown-attribute";
}

int stun_attr_validate(uint16_t type, const uint8_t *val, uint16_t len)
{
	const struct stun_rule *r = rule_find(type);
	return r ? stun_rule_check(r, val, len) : 0; /* unknown: the caller decides */
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
