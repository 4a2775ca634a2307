/* txcache.c: a ring of recent answers. Linear search is fine: it runs only
 * for requests (not data), and 256 entries fit in a few cache lines' worth
 * of tids to compare. */
#include <string.h>

#include "util/netaddr.h"
#include "txcache.h"

/* All 12 bytes folded: random tids and counting ones both spread. */
static uint32_t tid_tag(const uint8_t tid[12])
{
	uint32_t w[3];

	memcpy(w, tid, sizeof w);
	return w[0] ^ w[1] ^ w[2];
}

const struct txentry *txcache_find(const struct txcache *c, const struct sockaddr *client,
				   const void *conn, const uint8_t tid[12], uint64_t now)
{
	uint32_t tag = tid_tag(tid);

	for (unsigned i = 0; i < TXCACHE_SLOTS; i++) {
		const struct txentry *e = &c->e[i];
		if (c->tag[i] != tag)
			continue;
		if (e->len && e->at + TXCACHE_TTL_MS > now && !memcmp(e->tid, tid, 12) &&
		    e->conn == conn && netaddr_equal((const struct sockaddr *)&e->client, client))
			return e;
	}
	return NULL;
}

void txcache_put(struct txcache *c, const struct sockaddr *client, const void *conn,
		 const uint8_t tid[12], const uint8_t *data, size_t len, uint64_t now)
{
	struct txentry *e;

	if (len > TXCACHE_MAXLEN)
		return;
	c->tag[c->next % TXCACHE_SLOTS] = tid_tag(tid);
	e = &c->e[c->next++ % TXCACHE_SLOTS];
	e->at = now;
	e->conn = conn;
	memcpy(&e->client, client, netaddr_len(client));
	memcpy(e->tid, tid, 12);
	memcpy(e->data, data, len);
	e->len = (uint16_t)len;
}
