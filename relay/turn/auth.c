/* auth.c: long-term credentials (RFC 8489 §9.2) for the TURN relay: static
 * users (--user, user file), TURN REST secrets (rest.c), stateless nonces
 * (nonce.c), PASSWORD-ALGORITHMS and USERHASH.
 *
 * Static users' keys (MD5 and SHA-256) and USERHASH are computed once when
 * the user is added; the password itself is not kept. A check for a static
 * user then costs two HMACs (nonce, integrity) and no allocation; a REST
 * user costs, per active secret, an HMAC-SHA1, a digest and an HMAC.
 *
 * Strings are used as bytes: no SASLprep/OpaqueString (RFC 8265) is
 * applied, matching coturn and the clients we test with. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth_int.h"
#include "util/config.h"

const uint8_t auth_pwalgs[AUTH_PWALGS_LEN] = {
	0x00, 0x02, 0x00, 0x00, /* SHA-256, no parameters */
	0x00, 0x01, 0x00, 0x00, /* MD5, no parameters */
};

#define AUTH_MAX_REALM 763 /* RFC 8489 §14.9 */
#define AUTH_MIN_BUCKETS 16

static uint64_t fnv1a(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void errf(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

struct auth *auth_new(const char *realm, const uint8_t nonce_key[32])
{
	struct auth *a;
	size_t rlen;

	if (!realm || !nonce_key)
		return NULL;
	rlen = strlen(realm);
	if (rlen == 0 || rlen > AUTH_MAX_REALM)
		return NULL;
	a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->realm = strdup(realm);
	a->realmlen = rlen;
	a->nbuckets = AUTH_MIN_BUCKETS;
	a->by_name = calloc(a->nbuckets, sizeof *a->by_name);
	a->by_hash = calloc(a->nbuckets, sizeof *a->by_hash);
	if (!a->realm || !a->by_name || !a->by_hash) {
		auth_free(a);
		return NULL;
	}
	memcpy(a->nonce_key, nonce_key, sizeof a->nonce_key);
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; a->by_name && i < a->nbuckets; i++) {
		struct auth_user *u = a->by_name[i], *next;
		for (; u; u = next) {
			next = u->next_name;
			OPENSSL_cleanse(u->md5, sizeof u->md5);
			OPENSSL_cleanse(u->sha256, sizeof u->sha256);
			free(u);
		}
	}
	for (size_t i = 0; i < a->nsecrets; i++) {
		OPENSSL_cleanse(a->secrets[i].s, a->secrets[i].len);
		free(a->secrets[i].s);
	}
	free(a->secrets);
	free(a->by_name);
	free(a->by_hash);
	free(a->realm);
	OPENSSL_cleanse(a->nonce_key, sizeof a->nonce_key);
	free(a);
}

const char *auth_realm(const struct auth *a)
{
	return a->realm;
}

size_t auth_user_count(const struct auth *a)
{
	return a->nusers;
}

size_t auth_secret_count(const struct auth *a)
{
	return a->nsecrets;
}

const char *auth_signing_secret(const struct auth *a)
{
	return a->nsecrets ? a->secrets[0].s : NULL;
}

/* ---- the static user table ---- */

static struct auth_user *find_by_name(const struct auth *a, const void *name,
				      size_t len)
{
	uint64_t h = fnv1a(name, len);
	struct auth_user *u = a->by_name[h & (a->nbuckets - 1)];

	for (; u; u = u->next_name)
		if (u->hname == h && u->namelen == len && !memcmp(u->name, name, len))
			return u;
	return NULL;
}

static struct auth_user *find_by_hash(const struct auth *a, const uint8_t hash[32])
{
	uint64_t h = fnv1a(hash, 32);
	struct auth_user *u = a->by_hash[h & (a->nbuckets - 1)];

	for (; u; u = u->next_hash)
		if (u->hhash == h && !CRYPTO_memcmp(u->userhash, hash, 32))
			return u;
	return NULL;
}

static void unlink_user(struct auth *a, struct auth_user *old)
{
	struct auth_user **pp = &a->by_name[old->hname & (a->nbuckets - 1)];

	while (*pp != old)
		pp = &(*pp)->next_name;
	*pp = old->next_name;
	pp = &a->by_hash[old->hhash & (a->nbuckets - 1)];
	while (*pp != old)
		pp = &(*pp)->next_hash;
	*pp = old->next_hash;
	a->nusers--;
}

static void link_user(struct auth *a, struct auth_user *u)
{
	size_t i = u->hname & (a->nbuckets - 1), j = u->hhash & (a->nbuckets - 1);

	u->next_name = a->by_name[i];
	a->by_name[i] = u;
	u->next_hash = a->by_hash[j];
	a->by_hash[j] = u;
	a->nusers++;
}

static int grow(struct auth *a)
{
	size_t n = a->nbuckets * 2;
	struct auth_user **bn = calloc(n, sizeof *bn), **bh = calloc(n, sizeof *bh);
	struct auth_user **old = a->by_name;
	size_t oldn = a->nbuckets;

	if (!bn || !bh) {
		free(bn);
		free(bh);
		return -1;
	}
	free(a->by_hash);
	a->by_name = bn;
	a->by_hash = bh;
	a->nbuckets = n;
	a->nusers = 0;
	for (size_t i = 0; i < oldn; i++) {
		struct auth_user *u = old[i], *next;
		for (; u; u = next) {
			next = u->next_name;
			link_user(a, u);
		}
	}
	free(old);
	return 0;
}

static int bad_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

int auth_add_user(struct auth *a, const char *name_colon_pass, char *err, size_t errlen)
{
	const char *colon = strchr(name_colon_pass, ':');
	const char *pass;
	size_t nlen, plen;
	struct auth_user *u, *old;

	if (!colon) {
		errf(err, errlen, "expected NAME:PASSWORD");
		return -1;
	}
	nlen = (size_t)(colon - name_colon_pass);
	pass = colon + 1;
	plen = strlen(pass);
	if (nlen == 0) {
		errf(err, errlen, "empty user name");
		return -1;
	}
	if (nlen > AUTH_MAX_NAME) {
		errf(err, errlen, "user name longer than 508 bytes");
		return -1;
	}
	if (plen == 0) {
		errf(err, errlen, "empty password");
		return -1;
	}
	if (bad_chars(name_colon_pass, nlen) || bad_chars(pass, plen)) {
		errf(err, errlen, "control character in user name or password");
		return -1;
	}
	u = calloc(1, sizeof *u + nlen + 1);
	if (!u) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(u->name, name_colon_pass, nlen);
	u->namelen = nlen;
	if (auth_lt_key(STUN_PW_MD5, u->name, nlen, a->realm, a->realmlen, pass, plen,
			u->md5) != 16 ||
	    auth_lt_key(STUN_PW_SHA256, u->name, nlen, a->realm, a->realmlen, pass,
			plen, u->sha256) != 32) {
		free(u);
		errf(err, errlen, "cannot compute the key (OpenSSL)");
		return -1;
	}
	stun_userhash(u->name, a->realm, u->userhash);
	u->hname = fnv1a(u->name, nlen);
	u->hhash = fnv1a(u->userhash, 32);
	/* The same name again (a flag and the file, say): the last one wins. */
	if ((old = find_by_name(a, u->name, nlen))) {
		unlink_user(a, old);
		OPENSSL_cleanse(old, sizeof *old);
		free(old);
	}
	if (a->nusers >= a->nbuckets && grow(a) < 0) {
		free(u);
		errf(err, errlen, "out of memory");
		return -1;
	}
	link_user(a, u);
	return 0;
}

static int user_line(void *ctx, char *line, char *err, size_t errlen)
{
	return auth_add_user(ctx, line, err, errlen);
}

int auth_load_userfile(struct auth *a, const char *path, char *err, size_t errlen)
{
	return config_lines(path, user_line, a, err, errlen);
}

int auth_add_secret(struct auth *a, const char *secret, char *err, size_t errlen)
{
	size_t len = strlen(secret);
	struct auth_secret *v;

	if (len == 0) {
		errf(err, errlen, "empty secret");
		return -1;
	}
	for (size_t i = 0; i < a->nsecrets; i++)
		if (a->secrets[i].len == len && !memcmp(a->secrets[i].s, secret, len))
			return 0; /* already active */
	v = realloc(a->secrets, (a->nsecrets + 1) * sizeof *v);
	if (!v) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	a->secrets = v;
	v[a->nsecrets].s = strdup(secret);
	if (!v[a->nsecrets].s) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	v[a->nsecrets].len = len;
	a->nsecrets++;
	return 0;
}

/* ---- checking a request ---- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 8489 §9.2.4: our nonces always carry the "Password algorithms" bit,
 * so: neither attribute -> MD5; otherwise both must be present,
 * PASSWORD-ALGORITHMS must be exactly what we offered and
 * PASSWORD-ALGORITHM one of its entries. -1 means 400. */
static int pick_alg(const struct stun_msg *m, enum stun_pw_alg *alg)
{
	const struct stun_attr *pa = stun_msg_attr(m, STUN_A_PASSWORD_ALGORITHM);
	const struct stun_attr *pas = stun_msg_attr(m, STUN_A_PASSWORD_ALGORITHMS);
	uint16_t v;

	if (!pa && !pas) {
		*alg = STUN_PW_MD5;
		return 0;
	}
	if (!pa || !pas)
		return -1;
	if (pas->len != AUTH_PWALGS_LEN || memcmp(pas->val, auth_pwalgs, AUTH_PWALGS_LEN))
		return -1;
	/* MD5 and SHA-256 take no parameters: the value is exactly 4 bytes. */
	if (pa->len != 4 || rd16(pa->val + 2) != 0)
		return -1;
	v = rd16(pa->val);
	if (v != STUN_PW_MD5 && v != STUN_PW_SHA256)
		return -1;
	*alg = (enum stun_pw_alg)v;
	return 0;
}

static void fill_ok(struct auth_ok *ok, const struct stun_msg *m, const char *user,
		    size_t ulen, const uint8_t *key, size_t keylen,
		    enum stun_pw_alg alg, int rest, size_t name_off)
{
	if (!ok)
		return;
	memcpy(ok->user, user, ulen);
	ok->user[ulen] = '\0';
	memcpy(ok->key, key, keylen);
	ok->keylen = keylen;
	ok->sha256_mi = m->mi256 >= 0;
	ok->alg = alg;
	ok->rest = rest;
	ok->name_off = name_off;
}

static enum auth_verdict check_static(const struct stun_msg *m, const struct auth_user *u,
				      enum stun_pw_alg alg, struct auth_ok *ok)
{
	const uint8_t *key = alg == STUN_PW_SHA256 ? u->sha256 : u->md5;
	size_t keylen = alg == STUN_PW_SHA256 ? 32 : 16;

	if (stun_msg_check_integrity(m, key, keylen))
		return AUTH_WRONG;
	fill_ok(ok, m, u->name, u->namelen, key, keylen, alg, 0, 0);
	return AUTH_OK;
}

static enum auth_verdict check_rest(const struct auth *a, const struct stun_msg *m,
				    const char *user, size_t ulen, enum stun_pw_alg alg,
				    uint64_t now_s, struct auth_ok *ok)
{
	uint64_t expiry;
	size_t name_off;
	char pw[29];
	uint8_t key[32];

	if (auth_rest_parse(user, ulen, &expiry, &name_off) < 0)
		return AUTH_WRONG;
	if (now_s >= expiry)
		return AUTH_WRONG; /* expired: a fresh nonce would not help */
	for (size_t i = 0; i < a->nsecrets; i++) {
		int plen = auth_rest_password(a->secrets[i].s, a->secrets[i].len, user,
					      ulen, pw);
		int klen;

		if (plen < 0)
			continue;
		klen = auth_lt_key(alg, user, ulen, a->realm, a->realmlen, pw,
				   (size_t)plen, key);
		if (klen < 0)
			continue;
		if (!stun_msg_check_integrity(m, key, (size_t)klen)) {
			fill_ok(ok, m, user, ulen, key, (size_t)klen, alg, 1, name_off);
			OPENSSL_cleanse(pw, sizeof pw);
			OPENSSL_cleanse(key, sizeof key);
			return AUTH_OK;
		}
	}
	OPENSSL_cleanse(pw, sizeof pw);
	OPENSSL_cleanse(key, sizeof key);
	return AUTH_WRONG;
}

/* Order, after RFC 8489 §9.2.4 with one deliberate change: the nonce is
 * checked before the user and the integrity. It is cheap, needs no user
 * table, and means a source must first fetch a nonce from its own address
 * before it can try a single password; an expired nonce with a right
 * password still gets 438, as the RFC wants. */
enum auth_verdict auth_check(const struct auth *a, const struct stun_msg *m,
			     const struct sockaddr *client, uint64_t now_ms,
			     uint64_t now_s, struct auth_ok *ok)
{
	const struct stun_attr *un, *uh, *realm, *nonce;
	enum stun_pw_alg alg;

	/* 1. No MESSAGE-INTEGRITY(-SHA256): 401 with the challenge. */
	if (m->mi < 0 && m->mi256 < 0)
		return AUTH_CHALLENGE;
	/* 2. Signed but missing USERNAME/USERHASH, REALM or NONCE: 400. */
	un = stun_msg_attr(m, STUN_A_USERNAME);
	uh = stun_msg_attr(m, STUN_A_USERHASH);
	realm = stun_msg_attr(m, STUN_A_REALM);
	nonce = stun_msg_attr(m, STUN_A_NONCE);
	if ((!un && !uh) || !realm || !nonce)
		return AUTH_BAD_REQUEST;
	/* 3. Not our nonce for this client, or expired: 438. */
	if (auth_nonce_verify(a, client, now_ms, nonce->val, nonce->len))
		return AUTH_STALE_NONCE;
	/* 4. PASSWORD-ALGORITHM(S) inconsistent with our offer: 400. */
	if (pick_alg(m, &alg) < 0)
		return AUTH_BAD_REQUEST;
	/* 5. Another realm: the key cannot be ours. */
	if (realm->len != a->realmlen || memcmp(realm->val, a->realm, a->realmlen))
		return AUTH_WRONG;
	/* 6. Who, and is the integrity right? USERNAME wins over USERHASH. */
	if (un) {
		const char *user = (const char *)un->val;
		const struct auth_user *u;

		if (un->len == 0 || memchr(user, '\0', un->len))
			return AUTH_WRONG;
		if ((u = find_by_name(a, user, un->len)))
			return check_static(m, u, alg, ok);
		if (a->nsecrets)
			return check_rest(a, m, user, un->len, alg, now_s, ok);
		return AUTH_WRONG;
	} else {
		const struct auth_user *u = find_by_hash(a, uh->val);
		if (!u)
			return AUTH_WRONG;
		return check_static(m, u, alg, ok);
	}
}

void auth_put_challenge(const struct auth *a, struct stun_writer *w,
			const struct sockaddr *client, uint64_t now_ms)
{
	char nonce[AUTH_NONCE_LEN + 1];
	size_t n = auth_nonce_make(a, client, now_ms, nonce, sizeof nonce);

	stun_put_attr(w, STUN_A_REALM, a->realm, a->realmlen);
	stun_put_attr(w, STUN_A_NONCE, nonce, n);
	stun_put_attr(w, STUN_A_PASSWORD_ALGORITHMS, auth_pwalgs, AUTH_PWALGS_LEN);
}

void auth_sign(const struct auth_ok *ok, struct stun_writer *w)
{
	if (ok->sha256_mi)
		stun_put_integrity_sha256(w, ok->key, ok->keylen);
	else
		stun_put_integrity(w, ok->key, ok->keylen);
}
