/* msturn.h: the [MS-TURN] dialect in the one codec (R19): the TURN that
 * Lync and Skype for Business clients and A/V Edge servers speak, after
 * draft-ietf-behave-turn-08 and draft-ietf-behave-rfc3489bis-02, as the
 * spec ([MS-TURN] 2.2) and libnice's OC2007 mode (the open-source client
 * pidgin-sipe uses against real Edges) have it:
 *
 * - a 20-byte header with a 16-byte transaction id and no 0x2112A442
 *   cookie; the Magic Cookie attribute (0x000F, 0x72C64BC6) first;
 * - attributes back to back, not padded to 4 (libnice writes and reads
 *   them so; a message padded to 4 is accepted too);
 * - its own code points (NONCE 0x0014 and REALM 0x0015, swapped against
 *   RFC 5389's; DESTINATION-ADDRESS 0x0011, REMOTE-ADDRESS 0x0012 plain;
 *   XOR-MAPPED-ADDRESS 0x8020 XOR'd with the transaction id's bytes);
 * - MESSAGE-INTEGRITY last, an HMAC over the message before it zero-padded
 *   to a multiple of 64 bytes (20 bytes SHA-1, 32 bytes SHA-256);
 * - no FINGERPRINT.
 *
 * A parsed message is a struct stun_msg with ms != 0: tid points at the
 * 16-byte transaction id; attrs[] keeps the wire types except that REALM
 * and NONCE are stored as STUN_A_REALM and STUN_A_NONCE, and a writer made
 * by msturn_writer_init() maps them back, so credential code reads both
 * dialects alike. stun_msg_attr(), stun_attr_addr(), stun_attr_u32() and
 * stun_msg_check_integrity() work on both dialects.
 *
 * TCP (2.1.4): every message or piece of end-to-end data is preceded by a
 * 4-byte header (type, reserved, length); on 443 a fixed pseudo-TLS
 * handshake comes first. */
#ifndef EDGELAB_MSTURN_H
#define EDGELAB_MSTURN_H

#include <stddef.h>
#include <stdint.h>

#include "stun.h"

#define MSTURN_COOKIE      0x72C64BC6u
#define MSTURN_TID_LEN     16
#define MSTURN_MIN_LEN     28     /* header + Magic Cookie attribute */
#define MSTURN_MAX_VERSION 6
#define MSTURN_CONN_ID_LEN 20     /* MS-Sequence Number: connection id + 32-bit number */

/* Message types ([MS-TURN] 2.2.1), raw: 0x0115 is not RFC 5389's layout.
 * msturn_parse() decodes the others' method and class as RFC 5389 does
 * and a Data Indication as method TURN_DATA, class indication. */
enum msturn_type {
	MSTURN_ALLOCATE          = 0x0003,
	MSTURN_ALLOCATE_OK       = 0x0103,
	MSTURN_ALLOCATE_ERR      = 0x0113,
	MSTURN_SEND              = 0x0004, /* a request never answered */
	MSTURN_DATA_IND          = 0x0115,
	MSTURN_SET_ACTIVE_DEST   = 0x0006,
	MSTURN_SET_ACTIVE_DEST_OK = 0x0106,
	MSTURN_SET_ACTIVE_DEST_ERR = 0x0116,
};

/* Attributes ([MS-TURN] 2.2.2), wire code points. Below 0x8000 the spec's
 * list is complete: any other is answered 420. */
enum msturn_attr {
	MS_A_MAPPED_ADDRESS      = 0x0001,
	MS_A_USERNAME            = 0x0006,
	MS_A_MESSAGE_INTEGRITY   = 0x0008,
	MS_A_ERROR_CODE          = 0x0009,
	MS_A_UNKNOWN_ATTRIBUTES  = 0x000A,
	MS_A_LIFETIME            = 0x000D,
	MS_A_ALTERNATE_SERVER    = 0x000E,
	MS_A_MAGIC_COOKIE        = 0x000F,
	MS_A_BANDWIDTH           = 0x0010,
	MS_A_DESTINATION_ADDRESS = 0x0011,
	MS_A_REMOTE_ADDRESS      = 0x0012,
	MS_A_DATA                = 0x0013,
	MS_A_NONCE               = 0x0014, /* parsed as STUN_A_NONCE */
	MS_A_REALM               = 0x0015, /* parsed as STUN_A_REALM */
	MS_A_REQUESTED_ADDRESS_FAMILY = 0x0017,
	MS_A_VERSION             = 0x8008,
	MS_A_XOR_MAPPED_ADDRESS  = 0x8020,
	MS_A_SEQUENCE_NUMBER     = 0x8050,
	MS_A_SERVICE_QUALITY     = 0x8055,
	MS_A_ALTERNATE_MAPPED_ADDRESS = 0x8090,
	MS_A_MUX_SESSION_ID      = 0x8095, /* Multiplexed TURN Session ID: 8 bytes */
};

/* Demultiplexing: the length the header announces when buf starts like an
 * [MS-TURN] message (type's top bits 00, no IETF cookie, the Magic Cookie
 * attribute at offset 20), else 0. Needs MSTURN_MIN_LEN bytes. */
size_t msturn_peek_len(const uint8_t *buf, size_t len);

/* Parse and validate; 0 or a negative stun_err. Never allocates. */
int msturn_parse(struct stun_msg *m, const uint8_t *buf, size_t len);

const char *msturn_type_name(uint16_t type);
const char *msturn_attr_name(uint16_t wire_type);

/* MS-Version (0 when absent) and MS-Sequence Number (STUN_E_MISSING when
 * absent; conn_id points into the message). */
uint32_t msturn_version(const struct stun_msg *m);
int msturn_seq(const struct stun_msg *m, const uint8_t **conn_id, uint32_t *seq);

/* Builder: the header and the Magic Cookie attribute; then the stun_put_*
 * functions as for IETF messages (no padding, MS code points; stun_put_
 * fingerprint does nothing). */
void msturn_writer_init(struct stun_writer *w, uint8_t *buf, size_t cap, uint16_t type,
			const uint8_t tid[MSTURN_TID_LEN]);
/* MESSAGE-INTEGRITY: SHA-1 (20 bytes) or, sha256, SHA-256 (32 bytes). */
void msturn_put_integrity(struct stun_writer *w, const uint8_t *key, size_t keylen, int sha256);
void msturn_put_seq(struct stun_writer *w, const uint8_t conn_id[MSTURN_CONN_ID_LEN],
		    uint32_t seq);
void msturn_tid_random(uint8_t tid[MSTURN_TID_LEN]);

/* ---- TCP ([MS-TURN] 2.1.4) ---- */
#define MSTURN_FRAME_HDR 4
enum msturn_frame { MSTURN_FRAME_CONTROL = 0x02, MSTURN_FRAME_DATA = 0x03 };
/* With at least 4 bytes: the bytes the frame at buf takes (header
 * included), or 0 when buf does not start with a framing header. */
size_t msturn_frame_len(const uint8_t *buf, size_t len);
void msturn_frame_hdr(uint8_t hdr[MSTURN_FRAME_HDR], enum msturn_frame type, uint16_t len);

/* The pseudo-TLS exchange on 443: the client's fixed TLS 1.0 ClientHello
 * (one suite, TLS_DH_anon_WITH_RC4_128_MD5, no session, no extensions; any
 * random) and the server's fixed ServerHello + ServerHelloDone, after which
 * the stream carries framed [MS-TURN] in the clear. */
#define MSTURN_PTLS_HELLO_LEN 50
#define MSTURN_PTLS_REPLY_LEN 83
/* 1: buf starts with that ClientHello; 0: it does not (a real TLS client,
 * or anything else); -1: too few bytes to tell yet. */
int msturn_ptls_is_hello(const uint8_t *buf, size_t len);
/* The server's answer, MSTURN_PTLS_REPLY_LEN bytes. */
void msturn_ptls_reply(uint8_t out[MSTURN_PTLS_REPLY_LEN]);
/* The client's hello (edgeprobe, tests), with a zero random. */
void msturn_ptls_hello(uint8_t out[MSTURN_PTLS_HELLO_LEN]);

/* ---- Multiplexed TURN (2.2.3; MS-Version 5: over UDP, 6: over TCP) ----
 * Channel_ID 0xFF10, Length (the bytes after the Length field: the id
 * and the data), MTURN_Session_ID (8 bytes), Data. Over UDP a datagram is
 * one such packet; over TCP it is the payload of a type-3 (end-to-end
 * data) frame (3.2.4.6: the active-destination data of 3.2.4.5, wrapped). */
#define MSTURN_MUX_CHANNEL 0xFF10
#define MSTURN_MUX_ID_LEN  8
#define MSTURN_MUX_HDR     12
#define MSTURN_MUX_MAX_DATA (0xffff - MSTURN_MUX_ID_LEN)
#define MSTURN_MUX_VERSION_UDP 5
#define MSTURN_MUX_VERSION_TCP 6
/* 1 when buf starts with the Channel_ID 0xFF10 (needs 2 bytes), else 0. */
int msturn_is_mux(const uint8_t *buf, size_t len);
/* One multiplexed packet that fills buf exactly: 0 with *id (8 bytes) and
 * the data pointing into buf, else STUN_E_CHANNEL (not 0xFF10, shorter
 * than its header, or a Length that disagrees with the bytes). */
int msturn_mux_parse(const uint8_t *buf, size_t len, const uint8_t **id, const uint8_t **data,
		     size_t *dlen);
/* The 12-byte header in front of dlen bytes of data: 0, or STUN_E_TOO_LONG
 * past MSTURN_MUX_MAX_DATA. */
int msturn_mux_hdr(uint8_t hdr[MSTURN_MUX_HDR], const uint8_t id[MSTURN_MUX_ID_LEN], size_t dlen);
/* The Multiplexed TURN Session ID attribute's 8 bytes: 0 with *id into the
 * message, or STUN_E_MISSING. Its size is checked at parse time. */
int msturn_mux_session(const struct stun_msg *m, const uint8_t **id);

#endif
