/* txcache.h: recent answers by (client, transaction id), so a retransmitted
 * request gets the same answer again and is not processed twice (RFC 8489
 * §6.3.1, RFC 8656 §7.2 for Allocate). A fixed ring: no allocation. */
#ifndef EDGELAB_TXCACHE_H
#define EDGELAB_TXCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TXCACHE_SLOTS 256
#define TXCACHE_MAXLEN 512
#define TXCACHE_TTL_MS 40000 /* RFC 8489: the client gives up after 39.5 s */

struct txentry {
	uint64_t at;
	const void *conn;
	struct sockaddr_storage client;
	uint8_t tid[12];
	uint16_t len;
	uint8_t data[TXCACHE_MAXLEN];
};

struct txcache {
	unsigned next;
	/* Each entry's tid folded to 4 bytes, scanned before the entries: a
	 * lookup reads 1 KiB, not all 150 KiB of them (it was over a quarter
	 * of avedge's own code's CPU per allocation, under perf). */
	uint32_t tag[TXCACHE_SLOTS];
	struct txentry e[TXCACHE_SLOTS];
};

/* The cached answer for this request, or NULL. */
const struct txentry *txcache_find(const struct txcache *c, const struct sockaddr *client,
				   const void *conn, const uint8_t tid[12], uint64_t now);
/* Remember an answer (too long ones are not cached). */
void txcache_put(struct txcache *c, const struct sockaddr *client, const void *conn,
		 const uint8_t tid[12], const uint8_t *data, size_t len, uint64_t now);

#endif
