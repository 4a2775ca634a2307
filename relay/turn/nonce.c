/* nonce.c: stateless nonces (RFC 8489 §9.2).
 *
 * Layout (61 characters, all printable ASCII):
 *
 *   "obMatJos2" "gAAA" HEX16(expiry) HEX32(mac)
 *
 * - "obMatJos2gAAA": the RFC 8489 nonce cookie and the security feature
 *   set with only bit 0, "Password algorithms", set.
 * - expiry: the monotonic clock (ms) after which the nonce is stale,
 *   64-bit big-endian, lowercase hex.
 * - mac: the first 16 bytes of HMAC-SHA256(nonce_key,
 *       "edgelab-nonce-v1" | prefix | expiry(8) | family(1) | address |
 *       len16(realm) | realm | PASSWORD-ALGORITHMS value)
 *   where address is the client's IP: 4 bytes for IPv4 (IPv4-mapped IPv6
 *   clients are folded to IPv4, so a dual-stack socket and an IPv4 socket
 *   agree), 16 for other IPv6, none for anything else. The port is left
 *   out on purpose: a TCP/TLS client reconnects from a new port, and a NAT
 *   may rebind a UDP port, within one nonce's life.
 *
 * So checking a nonce needs no server memory: a nonce is ours, for this
 * client and this realm and algorithm offer, iff the MAC matches, and
 * fresh iff expiry is still ahead. Anything else (expired, forged, another
 * client's, another realm's, issued before a restart that changed the
 * key) is stale: the server answers 438 with a fresh one. */
#include <string.h>
#include <netinet/in.h>

#include <openssl/crypto.h>

#include "auth_int.h"

#define AUTH_NONCE_SKEW_MS 5000

static const char hexdig[] = "0123456789abcdef";
static const char domain_tag[] = "edgelab-nonce-v1";

static size_t client_ip(const struct sockaddr *sa, uint8_t *fam, uint8_t ip[16])
{
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		*fam = 4;
		memcpy(ip, &s4->sin_addr, 4);
		return 4;
	}
	if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			*fam = 4;
			memcpy(ip, s6->sin6_addr.s6_addr + 12, 4);
			return 4;
		}
		*fam = 6;
		memcpy(ip, s6->sin6_addr.s6_addr, 16);
		return 16;
	}
	*fam = 0;
	return 0;
}

static int nonce_mac(const struct auth *a, const struct sockaddr *client,
		     uint64_t expiry, uint8_t out[AUTH_NONCE_MAC_LEN])
{
	uint8_t exp[8], fam, ip[16], rlen[2], mac[32];
	size_t iplen = client_ip(client, &fam, ip);
	struct auth_iov iov[8];

	for (int i = 0; i < 8; i++)
		exp[i] = (uint8_t)(expiry >> (56 - 8 * i));
	rlen[0] = (uint8_t)(a->realmlen >> 8);
	rlen[1] = (uint8_t)a->realmlen;
	iov[0] = (struct auth_iov){domain_tag, sizeof domain_tag - 1};
	iov[1] = (struct auth_iov){AUTH_NONCE_PREFIX, AUTH_NONCE_PREFIX_LEN};
	iov[2] = (struct auth_iov){exp, 8};
	iov[3] = (struct auth_iov){&fam, 1};
	iov[4] = (struct auth_iov){ip, iplen};
	iov[5] = (struct auth_iov){rlen, 2};
	iov[6] = (struct auth_iov){a->realm, a->realmlen};
	iov[7] = (struct auth_iov){auth_pwalgs, AUTH_PWALGS_LEN};
	if (auth_hmac(AUTH_HMAC_SHA256, a->nonce_key, sizeof a->nonce_key, iov, 8,
		      mac) != 32)
		return -1;
	memcpy(out, mac, AUTH_NONCE_MAC_LEN);
	return 0;
}

size_t auth_nonce_make(const struct auth *a, const struct sockaddr *client,
		       uint64_t now_ms, char *out, size_t cap)
{
	uint64_t expiry = now_ms + AUTH_NONCE_LIFETIME_MS;
	uint8_t mac[AUTH_NONCE_MAC_LEN];
	char *p = out;

	if (cap < AUTH_NONCE_LEN + 1 || nonce_mac(a, client, expiry, mac)) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	memcpy(p, AUTH_NONCE_PREFIX, AUTH_NONCE_PREFIX_LEN);
	p += AUTH_NONCE_PREFIX_LEN;
	for (int i = 60; i >= 0; i -= 4)
		*p++ = hexdig[(expiry >> i) & 0xf];
	for (int i = 0; i < AUTH_NONCE_MAC_LEN; i++) {
		*p++ = hexdig[mac[i] >> 4];
		*p++ = hexdig[mac[i] & 0xf];
	}
	*p = '\0';
	return AUTH_NONCE_LEN;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* uppercase is not how we write it: not ours */
}

int auth_nonce_verify(const struct auth *a, const struct sockaddr *client,
		      uint64_t now_ms, const uint8_t *nonce, size_t len)
{
	uint8_t mac[AUTH_NONCE_MAC_LEN], want[AUTH_NONCE_MAC_LEN];
	uint64_t expiry = 0;
	const uint8_t *p = nonce + AUTH_NONCE_PREFIX_LEN;

	if (len != AUTH_NONCE_LEN ||
	    memcmp(nonce, AUTH_NONCE_PREFIX, AUTH_NONCE_PREFIX_LEN))
		return -1;
	for (int i = 0; i < 16; i++) {
		int v = hexval(*p++);
		if (v < 0)
			return -1;
		expiry = expiry << 4 | (uint64_t)v;
	}
	for (int i = 0; i < AUTH_NONCE_MAC_LEN; i++) {
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0)
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	if (nonce_mac(a, client, expiry, want) ||
	    CRYPTO_memcmp(mac, want, sizeof mac))
		return -1;
	/* Ours and untampered; now is it still fresh? An expiry further ahead
	 * than one lifetime did not come from this clock (a restart with the
	 * same key, say); a little skew is allowed because each worker reads
	 * its own cached loop time, so the worker that checks may be a few ms
	 * behind the one that issued. */
	if (expiry <= now_ms ||
	    expiry - now_ms > (uint64_t)AUTH_NONCE_LIFETIME_MS + AUTH_NONCE_SKEW_MS)
		return -1;
	return 0;
}
