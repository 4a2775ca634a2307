/* channeldata.c: TURN ChannelData framing (RFC 8656 §12.4). Over streams
 * every frame is padded to a multiple of 4; over datagrams padding is
 * optional and the length field must fit inside the datagram. */
#include "stun.h"
#include "stun_int.h"

size_t turn_chdata_frame_len(const uint8_t *buf, size_t len, int stream)
{
	uint16_t ch;
	size_t n;

	if (len < TURN_CHDATA_HDR)
		return 0;
	ch = rd16(buf);
	if (ch < TURN_CHANNEL_MIN || ch > TURN_CHANNEL_MAX)
		return 0;
	n = TURN_CHDATA_HDR + (size_t)rd16(buf + 2);
	return stream ? pad4(n) : n;
}

int turn_chdata_parse(const uint8_t *buf, size_t len, int stream, uint16_t *channel,
		      const uint8_t **data, uint16_t *data_len)
{
	size_t n = turn_chdata_frame_len(buf, len, stream);

	if (n == 0 || n > len)
		return STUN_E_CHANNEL;
	*channel = rd16(buf);
	*data_len = rd16(buf + 2);
	*data = buf + TURN_CHDATA_HDR;
	return 0;
}

int turn_chdata_wrap(uint8_t *buf, size_t cap, uint16_t channel, uint16_t data_len,
		     int stream)
{
	size_t n = TURN_CHDATA_HDR + (size_t)data_len;
	size_t total = stream ? pad4(n) : n;

	if (channel < TURN_CHANNEL_MIN || channel > TURN_CHANNEL_MAX)
		return STUN_E_CHANNEL;
	if (total > cap)
		return STUN_E_NOSPACE;
	wr16(buf, channel);
	wr16(buf + 2, data_len);
	memset(buf + n, 0, total - n);
	return (int)total;
}
