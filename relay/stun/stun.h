/* stun.h: the one STUN/TURN message codec (RFC 8489, RFC 8656, RFC 6062,
 * RFC 5780). avedge, hlb's monitors and edgeprobe all link this library.
 *
 * Parsing never allocates: stun_msg_parse() fills a fixed-size struct with
 * pointers into the caller's buffer, so the buffer must outlive the struct.
 * Building writes into a caller-owned buffer through a stun_writer. */
#ifndef EDGELAB_STUN_H
#define EDGELAB_STUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_MAGIC      0x2112A442u
#define STUN_HDR_LEN    20
#define STUN_TID_LEN    12
#define STUN_MAX_ATTRS  40   /* more than any sane message carries */
#define STUN_MAX_UNKNOWN 8
#define STUN_MAX_MSG    65535 /* 16-bit length + header, but see below */

/* Classes (RFC 8489 §5): two bits spread through the type field. */
enum stun_class {
	STUN_REQUEST    = 0,
	STUN_INDICATION = 1,
	STUN_SUCCESS    = 2,
	STUN_ERROR      = 3,
};

/* Methods: Binding (RFC 8489), TURN (RFC 8656), TCP relay (RFC 6062). */
enum stun_method {
	STUN_BINDING           = 0x001,
	TURN_ALLOCATE          = 0x003,
	TURN_REFRESH           = 0x004,
	TURN_SEND              = 0x006,
	TURN_DATA              = 0x007,
	TURN_CREATE_PERMISSION = 0x008,
	TURN_CHANNEL_BIND      = 0x009,
	TURN_CONNECT           = 0x00a,
	TURN_CONNECTION_BIND   = 0x00b,
	TURN_CONNECTION_ATTEMPT = 0x00c,
};

/* Attributes. Below 0x8000 is comprehension-required. */
enum stun_attr_type {
	STUN_A_MAPPED_ADDRESS       = 0x0001,
	STUN_A_RESPONSE_ADDRESS     = 0x0002, /* RFC 3489, reserved; parsed only */
	STUN_A_CHANGE_REQUEST       = 0x0003, /* RFC 5780 */
	STUN_A_USERNAME             = 0x0006,
	STUN_A_MESSAGE_INTEGRITY    = 0x0008,
	STUN_A_ERROR_CODE           = 0x0009,
	STUN_A_UNKNOWN_ATTRIBUTES   = 0x000A,
	STUN_A_CHANNEL_NUMBER       = 0x000C,
	STUN_A_LIFETIME             = 0x000D,
	STUN_A_XOR_PEER_ADDRESS     = 0x0012,
	STUN_A_DATA                 = 0x0013,
	STUN_A_REALM                = 0x0014,
	STUN_A_NONCE                = 0x0015,
	STUN_A_XOR_RELAYED_ADDRESS  = 0x0016,
	STUN_A_REQUESTED_ADDRESS_FAMILY = 0x0017,
	STUN_A_EVEN_PORT            = 0x0018,
	STUN_A_REQUESTED_TRANSPORT  = 0x0019,
	STUN_A_DONT_FRAGMENT        = 0x001A,
	STUN_A_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	STUN_A_PASSWORD_ALGORITHM   = 0x001D,
	STUN_A_USERHASH             = 0x001E,
	STUN_A_XOR_MAPPED_ADDRESS   = 0x0020,
	STUN_A_RESERVATION_TOKEN    = 0x0022,
	STUN_A_PRIORITY             = 0x0024, /* RFC 8445 (ICE) */
	STUN_A_USE_CANDIDATE        = 0x0025,
	STUN_A_PADDING              = 0x0026, /* RFC 5780 */
	STUN_A_RESPONSE_PORT        = 0x0027, /* RFC 5780 */
	STUN_A_CONNECTION_ID        = 0x002A, /* RFC 6062 */
	STUN_A_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
	STUN_A_ADDRESS_ERROR_CODE   = 0x8001,
	STUN_A_PASSWORD_ALGORITHMS  = 0x8002,
	STUN_A_ALTERNATE_DOMAIN     = 0x8003,
	STUN_A_ICMP                 = 0x8004,
	STUN_A_SOFTWARE             = 0x8022,
	STUN_A_ALTERNATE_SERVER     = 0x8023,
	STUN_A_TRANSACTION_TRANSMIT_COUNTER = 0x8025,
	STUN_A_CACHE_TIMEOUT        = 0x8027, /* RFC 5780 */
	STUN_A_FINGERPRINT          = 0x8028,
	STUN_A_ICE_CONTROLLED       = 0x8029,
	STUN_A_ICE_CONTROLLING      = 0x802A,
	STUN_A_RESPONSE_ORIGIN      = 0x802B, /* RFC 5780 */
	STUN_A_OTHER_ADDRESS        = 0x802C, /* RFC 5780 */
	/* The code points of draft-ietf-tram-turnbis, before RFC 8656 moved
	 * them; coturn's clients still send and read these. */
	STUN_A_ADDITIONAL_ADDRESS_FAMILY_DRAFT = 0x8032,
	STUN_A_ADDRESS_ERROR_CODE_DRAFT = 0x8033,
};

/* Why a message was rejected. Negative so they travel as return codes. */
enum stun_err {
	STUN_OK = 0,
	STUN_E_SHORT = -1,        /* fewer than 20 bytes */
	STUN_E_NOT_STUN = -2,     /* top two bits of the type are not 00 */
	STUN_E_COOKIE = -3,       /* magic cookie wrong */
	STUN_E_LEN_ALIGN = -4,    /* length not a multiple of 4 */
	STUN_E_LEN_MISMATCH = -5, /* header length disagrees with the bytes */
	STUN_E_ATTR_OVERRUN = -6, /* an attribute runs past the end */
	STUN_E_AFTER_INTEGRITY = -7, /* attribute after M-I other than allowed */
	STUN_E_FP_NOT_LAST = -8,  /* FINGERPRINT followed by something */
	STUN_E_FAMILY = -9,       /* bad address family */
	STUN_E_ATTR_SIZE = -10,   /* attribute value too long or wrong size */
	STUN_E_TOO_MANY = -11,    /* more attributes than STUN_MAX_ATTRS */
	STUN_E_FINGERPRINT = -12, /* FINGERPRINT present but wrong */
	STUN_E_NOSPACE = -13,     /* writer: buffer too small */
	STUN_E_INTEGRITY = -14,   /* MESSAGE-INTEGRITY(-SHA256) mismatch */
	STUN_E_MISSING = -15,     /* looked-up attribute absent */
	STUN_E_CHANNEL = -16,     /* ChannelData framing wrong */
	STUN_E_TOO_LONG = -17,    /* longer than 65535 bytes: offsets are 16-bit */
};
const char *stun_strerror(int err);

struct stun_attr {
	uint16_t type;
	uint16_t len;        /* value length, without padding */
	uint16_t off;        /* offset of the attribute header in the message */
	const uint8_t *val;
};

struct stun_msg {
	const uint8_t *buf;  /* the whole message, header included */
	uint16_t len;        /* header + body */
	uint16_t type;       /* raw 14-bit type */
	uint16_t method;
	uint8_t cls;
	/* The dialect: 0 IETF STUN (stun_msg_parse); [MS-TURN] (msturn_parse,
	 * stun/msturn.h): 1 with attributes back to back as its clients send
	 * them, 2 with each padded to 4. */
	uint8_t ms;
	const uint8_t *tid;  /* inside buf: 12 bytes (IETF), 16 bytes (MS-TURN) */
	uint8_t nattrs;
	uint8_t nunknown;    /* comprehension-required types we do not know */
	int8_t mi;           /* index in attrs[] or -1 */
	int8_t mi256;
	int8_t fp;
	uint16_t unknown[STUN_MAX_UNKNOWN];
	struct stun_attr attrs[STUN_MAX_ATTRS];
};

/* Type field helpers (RFC 8489 §5). */
uint16_t stun_type(uint16_t method, enum stun_class cls);
const char *stun_method_name(uint16_t method);
const char *stun_class_name(uint8_t cls);
const char *stun_attr_name(uint16_t type);

/* Quick test used to demultiplex a datagram or stream: 0 not STUN,
 * otherwise the total message length the header announces. */
size_t stun_peek_len(const uint8_t *buf, size_t len);

/* Parse and validate; 0 or a negative stun_err. A FINGERPRINT, if present,
 * is checked here; integrity needs the key, so it is checked separately. */
int stun_msg_parse(struct stun_msg *m, const uint8_t *buf, size_t len);

const struct stun_attr *stun_msg_attr(const struct stun_msg *m, uint16_t type);

/* Typed readers; each returns 0 or a negative stun_err. An address is
 * XOR'd with the message's bytes 4..19 (the magic cookie and transaction
 * id; the 16-byte transaction id of an [MS-TURN] message) when its type is
 * one of the dialect's XOR-* attributes. */
int stun_attr_addr(const struct stun_msg *m, const struct stun_attr *a,
		   struct sockaddr_storage *out);
int stun_attr_u32(const struct stun_attr *a, uint32_t *out);
int stun_attr_u64(const struct stun_attr *a, uint64_t *out);
int stun_attr_error(const struct stun_attr *a, int *code,
		    const char **reason, size_t *reason_len);
/* Convenience: look up type and decode an address; STUN_E_MISSING if absent. */
int stun_msg_addr(const struct stun_msg *m, uint16_t type,
		  struct sockaddr_storage *out);

/* Integrity (RFC 8489 §14.5, §14.6). key is the short-term password or the
 * long-term key from stun_longterm_key(). Checks whichever of MI-SHA256 and
 * MI the message carries (SHA256 preferred). */
int stun_msg_check_integrity(const struct stun_msg *m, const uint8_t *key,
			     size_t keylen);

enum stun_pw_alg { STUN_PW_MD5 = 1, STUN_PW_SHA256 = 2 };
/* Long-term key: MD5 (16 bytes) or SHA-256 (32 bytes) of
 * "username:realm:password". Returns the key length, or negative. The
 * strings are used as given: SASLprep/OpaqueString is the caller's. */
int stun_longterm_key(enum stun_pw_alg alg, const char *user, const char *realm,
		      const char *pass, uint8_t out[32]);
/* USERHASH = SHA-256("username:realm"). */
void stun_userhash(const char *user, const char *realm, uint8_t out[32]);

uint32_t stun_crc32(const uint8_t *buf, size_t len);

/* Builder. Errors stick: after the first, every put is a no-op and
 * stun_writer_finish() returns that error. */
struct stun_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;
	uint8_t ms;  /* [MS-TURN] (msturn_writer_init): no padding, its code points */
};

void stun_writer_init(struct stun_writer *w, uint8_t *buf, size_t cap,
		      uint16_t method, enum stun_class cls,
		      const uint8_t tid[STUN_TID_LEN]);
void stun_put_attr(struct stun_writer *w, uint16_t type, const void *val,
		   size_t len);
void stun_put_u32(struct stun_writer *w, uint16_t type, uint32_t v);
void stun_put_u64(struct stun_writer *w, uint16_t type, uint64_t v);
void stun_put_str(struct stun_writer *w, uint16_t type, const char *s);
/* XORs the address when type is one of the XOR-* attributes. */
void stun_put_addr(struct stun_writer *w, uint16_t type,
		   const struct sockaddr *sa);
void stun_put_error(struct stun_writer *w, int code, const char *reason);
/* UNKNOWN-ATTRIBUTES listing m's unknown comprehension-required ones (420). */
void stun_put_unknown(struct stun_writer *w, const struct stun_msg *m);
void stun_put_integrity(struct stun_writer *w, const uint8_t *key,
			size_t keylen);
void stun_put_integrity_sha256(struct stun_writer *w, const uint8_t *key,
			       size_t keylen);
void stun_put_fingerprint(struct stun_writer *w);
/* Returns the total message length, or the sticky negative error. */
int stun_writer_finish(struct stun_writer *w);

/* ChannelData (RFC 8656 §12.4). RFC 8656 narrowed channels to
 * 0x4000-0x4FFF, but RFC 5766 clients (coturn's among them) still pick from
 * 0x4000-0x7FFE, and the first two bits (01) are all the demultiplexer
 * needs; so we accept the RFC 5766 range. */
#define TURN_CHANNEL_MIN 0x4000
#define TURN_CHANNEL_MAX 0x7FFE
#define TURN_CHDATA_HDR  4
/* 0 if buf does not start with a ChannelData header, otherwise the bytes
 * one frame occupies: header + data, plus padding to 4 when stream != 0. */
size_t turn_chdata_frame_len(const uint8_t *buf, size_t len, int stream);
/* Parse one frame; sets channel, data and data_len. 0 or STUN_E_CHANNEL. */
int turn_chdata_parse(const uint8_t *buf, size_t len, int stream,
		      uint16_t *channel, const uint8_t **data,
		      uint16_t *data_len);
/* Write header (and stream padding) around data already placed at
 * buf + 4. Returns the frame length or STUN_E_NOSPACE. */
int turn_chdata_wrap(uint8_t *buf, size_t cap, uint16_t channel,
		     uint16_t data_len, int stream);

/* Free the calling thread's cached MAC contexts (at thread exit). */
void stun_thread_cleanup(void);

/* Fill a fresh random transaction id. */
void stun_tid_random(uint8_t tid[STUN_TID_LEN]);

#endif
