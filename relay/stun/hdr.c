/* hdr.c: the 20-byte header, the type field's method/class bits, names. */
#include <stdlib.h>

#include <openssl/rand.h>

#include "stun.h"
#include "stun_int.h"

/* RFC 8489 §5: M11..M7 C1 M6..M4 C0 M3..M0 */
uint16_t stun_type(uint16_t method, enum stun_class cls)
{
	return (uint16_t)((method & 0x000f) | (method & 0x0070) << 1 |
			  (method & 0x0f80) << 2 | (cls & 1) << 4 | (cls & 2) << 7);
}

size_t stun_peek_len(const uint8_t *buf, size_t len)
{
	if (len < 8 || (buf[0] & 0xc0) != 0 || rd32(buf + 4) != STUN_MAGIC)
		return 0;
	return STUN_HDR_LEN + (size_t)rd16(buf + 2);
}

void stun_tid_random(uint8_t tid[STUN_TID_LEN])
{
	if (RAND_bytes(tid, STUN_TID_LEN) != 1)
		abort(); /* no randomness: nothing safe to do */
}

const char *stun_method_name(uint16_t method)
{
	switch (method) {
	case STUN_BINDING: return "Binding";
	case TURN_ALLOCATE: return "Allocate";
	case TURN_REFRESH: return "Refresh";
	case TURN_SEND: return "Send";
	case TURN_DATA: return "Data";
	case TURN_CREATE_PERMISSION: return "CreatePermission";
	case TURN_CHANNEL_BIND: return "ChannelBind";
	case TURN_CONNECT: return "Connect";
	case TURN_CONNECTION_BIND: return "ConnectionBind";
	case TURN_CONNECTION_ATTEMPT: return "ConnectionAttempt";
	default: return "unknown-method";
	}
}

const char *stun_class_name(uint8_t cls)
{
	static const char *const names[] = {"request", "indication",
					     "success response", "error response"};
	return names[cls & 3];
}

const char *stun_strerror(int err)
{
	switch (err) {
	case STUN_OK: return "ok";
	case STUN_E_SHORT: return "shorter than a STUN header";
	case STUN_E_NOT_STUN: return "not a STUN message (type's top bits set)";
	case STUN_E_COOKIE: return "bad magic cookie";
	case STUN_E_LEN_ALIGN: return "length not a multiple of 4";
	case STUN_E_LEN_MISMATCH: return "length field disagrees with the message size";
	case STUN_E_ATTR_OVERRUN: return "attribute runs past the end of the message";
	case STUN_E_AFTER_INTEGRITY: return "attribute after MESSAGE-INTEGRITY";
	case STUN_E_FP_NOT_LAST: return "FINGERPRINT is not the last attribute";
	case STUN_E_FAMILY: return "bad address family";
	case STUN_E_ATTR_SIZE: return "attribute value has the wrong size";
	case STUN_E_TOO_MANY: return "too many attributes";
	case STUN_E_FINGERPRINT: return "FINGERPRINT mismatch";
	case STUN_E_NOSPACE: return "message does not fit the buffer";
	case STUN_E_INTEGRITY: return "MESSAGE-INTEGRITY mismatch";
	case STUN_E_MISSING: return "attribute missing";
	case STUN_E_CHANNEL: return "bad ChannelData frame";
	case STUN_E_TOO_LONG: return "message longer than 65535 bytes";
	default: return "unknown error";
	}
}
