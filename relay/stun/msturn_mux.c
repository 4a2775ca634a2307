/* msturn_mux.c: [MS-TURN] 2.2.3 Multiplexed TURN packets (MS-Version 5
 * over UDP, 6 over TCP) and the Multiplexed TURN Session ID attribute
 * (0x8095) that names the stream a packet belongs to. Reading never
 * copies: the id and the data point into the caller's buffer. */
#include <string.h>

#include "msturn.h"

int msturn_is_mux(const uint8_t *buf, size_t len)
{
	return len >= 2 && buf[0] == (MSTURN_MUX_CHANNEL >> 8) && buf[1] == (MSTURN_MUX_CHANNEL & 0xff);
}

int msturn_mux_parse(const uint8_t *buf, size_t len, const uint8_t **id, const uint8_t **data,
		     size_t *dlen)
{
	size_t flen;

	if (len < MSTURN_MUX_HDR || !msturn_is_mux(buf, len))
		return STUN_E_CHANNEL;
	/* Length counts what follows it; a datagram or a data frame holds
	 * exactly one packet, so it must match the bytes there are. */
	flen = (size_t)buf[2] << 8 | buf[3];
	if (flen != len - 4)
		return STUN_E_CHANNEL;
	*id = buf + 4;
	*data = buf + MSTURN_MUX_HDR;
	*dlen = len - MSTURN_MUX_HDR;
	return 0;
}

int msturn_mux_hdr(uint8_t hdr[MSTURN_MUX_HDR], const uint8_t id[MSTURN_MUX_ID_LEN], size_t dlen)
{
	size_t flen = dlen + MSTURN_MUX_ID_LEN;

	if (dlen > MSTURN_MUX_MAX_DATA)
		return STUN_E_TOO_LONG;
	hdr[0] = MSTURN_MUX_CHANNEL >> 8;
	hdr[1] = MSTURN_MUX_CHANNEL & 0xff;
	hdr[2] = (uint8_t)(flen >> 8);
	hdr[3] = (uint8_t)flen;
	memcpy(hdr + 4, id, MSTURN_MUX_ID_LEN);
	return 0;
}

int msturn_mux_session(const struct stun_msg *m, const uint8_t **id)
{
	const struct stun_attr *a = stun_msg_attr(m, MS_A_MUX_SESSION_ID);

	if (!a || a->len != MSTURN_MUX_ID_LEN)
		return STUN_E_MISSING;
	*id = a->val;
	return 0;
}
