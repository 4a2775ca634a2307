/* msturn_tcp.c: [MS-TURN] over TCP: the 4-byte framing header of 2.1.4 and
 * the pseudo-TLS exchange that opens a connection to 443. */
#include "msturn.h"
#include "stun_int.h"

size_t msturn_frame_len(const uint8_t *buf, size_t len)
{
	if (len < MSTURN_FRAME_HDR || (buf[0] != MSTURN_FRAME_CONTROL && buf[0] != MSTURN_FRAME_DATA) ||
	    buf[1] != 0)
		return 0;
	return MSTURN_FRAME_HDR + (size_t)rd16(buf + 2);
}

void msturn_frame_hdr(uint8_t hdr[MSTURN_FRAME_HDR], enum msturn_frame type, uint16_t len)
{
	hdr[0] = (uint8_t)type;
	hdr[1] = 0;
	wr16(hdr + 2, len);
}

/* The TLS 1.0 records, field by field (RFC 2246 §6.2, §7.4). */
#define TLS_HANDSHAKE      0x16
#define TLS_V10            0x0301
#define TLS_CLIENT_HELLO   0x01
#define TLS_SERVER_HELLO   0x02
#define TLS_HELLO_DONE     0x0e
#define TLS_DH_ANON_RC4_MD5 0x0018

/* ClientHello: record header (5), handshake header (4), version (2),
 * random (32), session id length 0 (1), one cipher suite (2 + 2), one
 * compression method, null (1 + 1): 50 bytes. */
int msturn_ptls_is_hello(const uint8_t *b, size_t len)
{
	static const uint8_t head[11] = {
		TLS_HANDSHAKE, TLS_V10 >> 8, TLS_V10 & 0xff, 0x00, 45,
		TLS_CLIENT_HELLO, 0x00, 0x00, 41, TLS_V10 >> 8, TLS_V10 & 0xff};
	static const uint8_t tail[7] = {
		0x00, 0x00, 0x02, TLS_DH_ANON_RC4_MD5 >> 8, TLS_DH_ANON_RC4_MD5 & 0xff, 0x01, 0x00};
	size_t n = len < sizeof head ? len : sizeof head;

	if (memcmp(b, head, n))
		return 0;
	if (len < MSTURN_PTLS_HELLO_LEN)
		return -1;
	return memcmp(b + 11 + 32, tail, sizeof tail) ? 0 : 1;
}

void msturn_ptls_hello(uint8_t out[MSTURN_PTLS_HELLO_LEN])
{
	uint8_t *p = out;

	memset(out, 0, MSTURN_PTLS_HELLO_LEN);
	*p++ = TLS_HANDSHAKE;
	wr16(p, TLS_V10), p += 2;
	wr16(p, 45), p += 2;
	*p++ = TLS_CLIENT_HELLO;
	p += 1, wr16(p, 41), p += 2;
	wr16(p, TLS_V10), p += 2;
	p += 32;              /* random */
	*p++ = 0;             /* no session id */
	wr16(p, 2), p += 2;   /* one cipher suite */
	wr16(p, TLS_DH_ANON_RC4_MD5), p += 2;
	*p++ = 1;             /* one compression method: null */
	*p = 0;
}

/* ServerHello (version, random, a 32-byte session id, the suite, null
 * compression: 70 bytes after its handshake header), then
 * ServerHelloDone, in one record; random and session id all zero, the
 * fixed answer that clients compare byte for byte. */
void msturn_ptls_reply(uint8_t out[MSTURN_PTLS_REPLY_LEN])
{
	uint8_t *p = out;

	memset(out, 0, MSTURN_PTLS_REPLY_LEN);
	*p++ = TLS_HANDSHAKE;
	wr16(p, TLS_V10), p += 2;
	wr16(p, 4 + 70 + 4), p += 2;
	*p++ = TLS_SERVER_HELLO;
	p += 1, wr16(p, 70), p += 2;
	wr16(p, TLS_V10), p += 2;
	p += 32;              /* random */
	*p++ = 32;            /* session id */
	p += 32;
	wr16(p, TLS_DH_ANON_RC4_MD5), p += 2;
	*p++ = 0;             /* null compression */
	*p = TLS_HELLO_DONE;  /* length 0 follows (zeroed) */
}
