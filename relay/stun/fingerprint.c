/* fingerprint.c: CRC-32 (ISO 3309, as in RFC 8489 §14.7). */
#include <pthread.h>

#include "stun.h"

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
}

uint32_t stun_crc32(const uint8_t *buf, size_t len)
{
	uint32_t c = 0xffffffffu;

	pthread_once(&table_once, table_init);
	for (size_t i = 0; i < len; i++)
		c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}
