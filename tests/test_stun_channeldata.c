/* tests/test_stun_channeldata.c: the STUN/TURN codec (relay/stun, stun.h):
 * ChannelData framing (RFC 8656 §12.4, §12.5).
 * Helpers and vectors: stun_testutil.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "stun/stun.h"
#include "stun_testutil.h"

START_TEST(chdata_frame_len)
{
	static const uint8_t f[] = { 0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 9), 9, 0), 9);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 12), 12, 0), 9);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 12), 12, 1), 12);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 0), 0, 0), 0);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 3), 3, 1), 0);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f, 3), 3, 0), 0);

	static const uint8_t f4[] = { 0x4f, 0xff, 0x00, 0x04, 1, 2, 3, 4 };
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f4, 8), 8, 1), 8);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f4, 8), 8, 0), 8);
	static const uint8_t f0[] = { 0x40, 0x00, 0x00, 0x00 };
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f0, 4), 4, 0), 4);
	ck_assert_uint_eq(turn_chdata_frame_len(exact(f0, 4), 4, 1), 4);

	/* Not ChannelData: STUN, channels outside TURN_CHANNEL_MIN..MAX
	 * (stun.h accepts the RFC 5766 range 0x4000-0x7ffe), RTP/RTCP. */
	static const uint16_t firsts[] = {
		0x0001, TURN_CHANNEL_MIN - 1, TURN_CHANNEL_MAX + 1, 0x7fff, 0x80c8, 0xffff,
	};
	for (size_t i = 0; i < ARRAY_LEN(firsts); i++) {
		uint8_t b[12];
		memcpy(b, f, sizeof b);
		wr16(b, firsts[i]);
		ck_assert_msg(turn_chdata_frame_len(exact(b, 12), 12, 0) == 0 &&
			      turn_chdata_frame_len(exact(b, 12), 12, 1) == 0,
			      "0x%04x taken for ChannelData", firsts[i]);
	}
}
END_TEST

START_TEST(chdata_parse)
{
	static const uint8_t f[] = { 0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
	uint16_t ch = 0, dl = 0;
	const uint8_t *d = NULL;

	/* Datagram: no padding needed, padding allowed. */
	uint8_t *b = exact(f, 9);
	ck_assert_int_eq(turn_chdata_parse(b, 9, 0, &ch, &d, &dl), STUN_OK);
	ck_assert_uint_eq(ch, 0x4001);
	ck_assert_ptr_eq(d, b + 4);
	ck_assert_uint_eq(dl, 5);
	b = exact(f, 12);
	ck_assert_int_eq(turn_chdata_parse(b, 12, 0, &ch, &d, &dl), STUN_OK);
	ck_assert_uint_eq(dl, 5);
	ck_assert_ptr_eq(d, b + 4);
	/* Datagram whose length field exceeds the bytes. */
	for (size_t n = 0; n < 9; n++)
		ck_assert_int_eq(turn_chdata_parse(exact(f, n), n, 0, &ch, &d, &dl),
				 STUN_E_CHANNEL);

	/* Stream: the frame is padded to four. */
	b = exact(f, 12);
	ck_assert_int_eq(turn_chdata_parse(b, 12, 1, &ch, &d, &dl), STUN_OK);
	ck_assert_uint_eq(ch, 0x4001);
	ck_assert_ptr_eq(d, b + 4);
	ck_assert_uint_eq(dl, 5);
	for (size_t n = 0; n < 12; n++)
		ck_assert_int_eq(turn_chdata_parse(exact(f, n), n, 1, &ch, &d, &dl),
				 STUN_E_CHANNEL);

	/* Empty data. */
	static const uint8_t f0[] = { 0x4f, 0xff, 0x00, 0x00 };
	ck_assert_int_eq(turn_chdata_parse(exact(f0, 4), 4, 0, &ch, &d, &dl), STUN_OK);
	ck_assert_uint_eq(ch, 0x4fff);
	ck_assert_uint_eq(dl, 0);
	ck_assert_int_eq(turn_chdata_parse(exact(f0, 4), 4, 1, &ch, &d, &dl), STUN_OK);

	/* Channel numbers outside TURN_CHANNEL_MIN..TURN_CHANNEL_MAX. */
	static const uint16_t badch[] = { 0x0000, 0x0001, TURN_CHANNEL_MIN - 1,
					  TURN_CHANNEL_MAX + 1, 0x7fff, 0x8000, 0xffff };
	for (size_t i = 0; i < ARRAY_LEN(badch); i++) {
		uint8_t x[12];
		memcpy(x, f, sizeof x);
		wr16(x, badch[i]);
		ck_assert_int_eq(turn_chdata_parse(exact(x, 9), 9, 0, &ch, &d, &dl), STUN_E_CHANNEL);
		ck_assert_int_eq(turn_chdata_parse(exact(x, 12), 12, 1, &ch, &d, &dl), STUN_E_CHANNEL);
	}
	static const uint16_t goodch[] = { TURN_CHANNEL_MIN, 0x4abc, 0x4fff,
					   TURN_CHANNEL_MAX };
	for (size_t i = 0; i < ARRAY_LEN(goodch); i++) {
		uint8_t x[12];
		memcpy(x, f, sizeof x);
		wr16(x, goodch[i]);
		ck_assert_int_eq(turn_chdata_parse(exact(x, 9), 9, 0, &ch, &d, &dl), STUN_OK);
		ck_assert_uint_eq(ch, goodch[i]);
	}
}
END_TEST

/* "hello" at buf + 4, among stale 0xee bytes, wrapped in channel ch: a
 * frame of want bytes with the header and the data in place. */
static void wrap_hello(uint8_t *buf, size_t cap, uint16_t ch, int stream, int want)
{
	memset(buf, 0xee, cap);
	memcpy(buf + 4, "hello", 5);
	ck_assert_int_eq(turn_chdata_wrap(buf, cap, ch, 5, stream), want);
	ck_assert_uint_eq(rd16(buf), ch);
	ck_assert_uint_eq(rd16(buf + 2), 5);
	ck_assert_mem_eq(buf + 4, "hello", 5);
}

START_TEST(chdata_wrap)
{
	uint8_t buf[80];
	uint16_t ch, dl;
	const uint8_t *d;

	wrap_hello(buf, sizeof buf, 0x4001, 0, 9);
	ck_assert_uint_eq(buf[9], 0xee); /* no padding on datagrams */

	wrap_hello(buf, sizeof buf, 0x4abc, 1, 12);
	/* Stream padding is written, as zeros: stale buffer bytes must not
	 * reach the wire. */
	ck_assert_uint_eq(buf[9], 0);
	ck_assert_uint_eq(buf[10], 0);
	ck_assert_uint_eq(buf[11], 0);
	ck_assert_uint_eq(buf[12], 0xee);

	/* Capacity. */
	ck_assert_int_eq(turn_chdata_wrap(buf, 8, 0x4001, 5, 0), STUN_E_NOSPACE);
	ck_assert_int_eq(turn_chdata_wrap(buf, 9, 0x4001, 5, 0), 9);
	ck_assert_int_eq(turn_chdata_wrap(buf, 11, 0x4001, 5, 1), STUN_E_NOSPACE);
	ck_assert_int_eq(turn_chdata_wrap(buf, 12, 0x4001, 5, 1), 12);
	ck_assert_int_eq(turn_chdata_wrap(buf, 3, 0x4001, 0, 0), STUN_E_NOSPACE);
	ck_assert_int_eq(turn_chdata_wrap(buf, 4, 0x4001, 0, 1), 4);
	/* No frame for a number outside the channel range (0x0001 would be
	 * read back as a STUN header). */
	ck_assert_int_lt(turn_chdata_wrap(buf, sizeof buf, 0x0001, 5, 0), 0);
	ck_assert_int_lt(turn_chdata_wrap(buf, sizeof buf, TURN_CHANNEL_MAX + 1, 5, 1), 0);

	/* Round trips. */
	for (int stream = 0; stream < 2; stream++)
		for (uint16_t len = 0; len < 40; len++) {
			uint8_t fr[64];
			memset(fr, 0xcc, sizeof fr);
			for (uint16_t i = 0; i < len; i++)
				fr[4 + i] = (uint8_t)(i ^ len);
			int n = turn_chdata_wrap(fr, sizeof fr, (uint16_t)(0x4000 + len), len, stream);
			ck_assert_int_eq(n, 4 + (stream ? ((len + 3) & ~3) : len));
			uint8_t *c = exact(fr, (size_t)n);
			ck_assert_uint_eq(turn_chdata_frame_len(c, (size_t)n, stream), (size_t)n);
			ck_assert_int_eq(turn_chdata_parse(c, (size_t)n, stream, &ch, &d, &dl), STUN_OK);
			ck_assert_uint_eq(ch, 0x4000 + len);
			ck_assert_uint_eq(dl, len);
			ck_assert_ptr_eq(d, c + 4);
			for (uint16_t i = 0; i < len; i++)
				ck_assert_uint_eq(d[i], (uint8_t)(i ^ len));
			ck_assert_uint_eq(stun_peek_len(c, (size_t)n), 0);
		}

	/* The largest frame. */
	uint8_t *big = calloc(1, 4 + 65535 + 3);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(turn_chdata_wrap(big, 4 + 65535 + 3, 0x4000, 65535, 1), 4 + 65536);
	ck_assert_int_eq(turn_chdata_parse(big, 4 + 65536, 1, &ch, &d, &dl), STUN_OK);
	ck_assert_uint_eq(dl, 65535);
	ck_assert_int_eq(turn_chdata_wrap(big, 4 + 65535, 0x4000, 65535, 0), 4 + 65535);
	free(big);
}
END_TEST

Suite *test_suite(void)
{
	const TTest *tests[] = {
		chdata_frame_len, chdata_parse, chdata_wrap
	};

	return stun_test_suite("channeldata", tests, ARRAY_LEN(tests));
}
