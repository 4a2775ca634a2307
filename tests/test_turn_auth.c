/* test_turn_auth.c: long-term credentials, REST credentials, stateless nonces,
 * PASSWORD-ALGORITHMS and USERHASH. Requests are built the way a client
 * builds them: stun_writer, stun_longterm_key, stun_put_integrity. */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "check_main.h"
#include "turn/auth.h"
#include "stun/stun.h"

#define REALM "lab.example"
#define T0 5000000u            /* monotonic ms */
#define NOW_S 1700000000u      /* wall clock s */

static const uint8_t nkey[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t offered[8] = {0, 2, 0, 0, 0, 1, 0, 0};

static struct sockaddr_storage addr(const char *ip, int port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		ck_assert_int_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return ss;
}
#define SA(ss) ((const struct sockaddr *)&(ss))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct auth *mk(void)
{
	char err[256];
	struct auth *a = auth_new(REALM, nkey);

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(auth_add_user(a, "alice:wonderland", err, sizeof err), 0);
	ck_assert_int_eq(auth_add_user(a, "bob:pa:ss:word", err, sizeof err), 0);
	return a;
}

/* What a client gets in a 401: parse our challenge and take the NONCE. */
static void get_nonce(const struct auth *a, const struct sockaddr *client,
		      uint64_t now_ms, char *nonce, size_t cap)
{
	uint8_t buf[512], tid[12] = {0};
	struct stun_writer w;
	struct stun_msg m;
	const struct stun_attr *at;
	int n;

	stun_writer_init(&w, buf, sizeof buf, TURN_ALLOCATE, STUN_ERROR, tid);
	stun_put_error(&w, 401, "Unauthorized");
	auth_put_challenge(a, &w, client, now_ms);
	n = stun_writer_finish(&w);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(stun_msg_parse(&m, buf, (size_t)n), 0);
	at = stun_msg_attr(&m, STUN_A_REALM);
	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(at->len, strlen(auth_realm(a)));
	ck_assert(!memcmp(at->val, auth_realm(a), at->len));
	at = stun_msg_attr(&m, STUN_A_PASSWORD_ALGORITHMS);
	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(at->len, 8);
	ck_assert(!memcmp(at->val, offered, 8));
	at = stun_msg_attr(&m, STUN_A_NONCE);
	ck_assert_ptr_nonnull(at);
	ck_assert_uint_lt(at->len, cap);
	memcpy(nonce, at->val, at->len);
	nonce[at->len] = '\0';
}

enum {
	F_USERNAME = 1, F_REALM = 2, F_NONCE = 4, F_MI = 8, F_MI256 = 16,
	F_PWALG = 32, F_PWALGS = 64, F_USERHASH = 128, F_FP = 256,
};
#define F_STD (F_USERNAME | F_REALM | F_NONCE | F_MI)
#define F_SHA (F_USERNAME | F_REALM | F_NONCE | F_PWALGS | F_PWALG | F_MI256)

struct req {
	uint8_t buf[1500];
	struct stun_msg m;
	uint8_t key[32];
	int keylen;
};

static void build(struct req *r, const char *user, const char *pass, const char *realm,
		  const char *nonce, enum stun_pw_alg alg, unsigned flags)
{
	uint8_t tid[12] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
	struct stun_writer w;
	int n;

	stun_writer_init(&w, r->buf, sizeof r->buf, TURN_ALLOCATE, STUN_REQUEST, tid);
	stun_put_u32(&w, STUN_A_REQUESTED_TRANSPORT, 17u << 24);
	if (flags & F_USERNAME)
		stun_put_str(&w, STUN_A_USERNAME, user);
	if (flags & F_USERHASH) {
		uint8_t h[32];
		stun_userhash(user, realm, h);
		stun_put_attr(&w, STUN_A_USERHASH, h, 32);
	}
	if (flags & F_REALM)
		stun_put_str(&w, STUN_A_REALM, realm);
	if (flags & F_NONCE)
		stun_put_str(&w, STUN_A_NONCE, nonce);
	if (flags & F_PWALGS)
		stun_put_attr(&w, STUN_A_PASSWORD_ALGORITHMS, offered, 8);
	if (flags & F_PWALG) {
		uint8_t v[4] = {0, (uint8_t)alg, 0, 0};
		stun_put_attr(&w, STUN_A_PASSWORD_ALGORITHM, v, 4);
	}
	r->keylen = stun_longterm_key(alg, user, realm, pass, r->key);
	ck_assert_int_gt(r->keylen, 0);
	if (flags & F_MI)
		stun_put_integrity(&w, r->key, (size_t)r->keylen);
	if (flags & F_MI256)
		stun_put_integrity_sha256(&w, r->key, (size_t)r->keylen);
	if (flags & F_FP)
		stun_put_fingerprint(&w);
	n = stun_writer_finish(&w);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(stun_msg_parse(&r->m, r->buf, (size_t)n), 0);
}

/* A client of one server: its address, the nonce the server gave it, its
 * last request and the server's answer to that. */
struct client {
	struct auth *a;
	struct sockaddr_storage addr;
	char nonce[800];
	struct req r;
	struct auth_ok ok;
};

/* A client at ip:port, with the nonce of a 401 it got at T0. */
static void client_init(struct client *c, struct auth *a, const char *ip, int port)
{
	c->a = a;
	c->addr = addr(ip, port);
	get_nonce(a, SA(c->addr), T0, c->nonce, sizeof c->nonce);
}

/* The server's verdict on the client's last request, checked at now_ms;
 * ok is filled with junk first so that a field auth_check forgets shows. */
static enum auth_verdict verdict_at(struct client *c, uint64_t now_ms)
{
	memset(&c->ok, 0xaa, sizeof c->ok);
	return auth_check(c->a, &c->r.m, SA(c->addr), now_ms, NOW_S, &c->ok);
}

/* A request with these credentials and the client's nonce; its verdict at T0. */
static enum auth_verdict attempt(struct client *c, const char *user, const char *pass,
				 enum stun_pw_alg alg, unsigned flags)
{
	build(&c->r, user, pass, REALM, c->nonce, alg, flags);
	return verdict_at(c, T0);
}

/* The usual request: alice, the right password, MD5 and MESSAGE-INTEGRITY. */
static enum auth_verdict alice(struct client *c)
{
	return attempt(c, "alice", "wonderland", STUN_PW_MD5, F_STD);
}

/* alice (MD5 key) sending PASSWORD-ALGORITHMS algs and PASSWORD-ALGORITHM
 * alg as given: build() only ever sends the list we offered. */
static enum auth_verdict attempt_algs(struct client *c, const uint8_t *algs, size_t len,
				      uint8_t alg)
{
	uint8_t tid[12] = {0}, chosen[4] = {0, alg, 0, 0};
	struct stun_writer w;
	uint8_t key[32];
	int klen, n;

	klen = stun_longterm_key(STUN_PW_MD5, "alice", REALM, "wonderland", key);
	stun_writer_init(&w, c->r.buf, sizeof c->r.buf, TURN_ALLOCATE, STUN_REQUEST, tid);
	stun_put_str(&w, STUN_A_USERNAME, "alice");
	stun_put_str(&w, STUN_A_REALM, REALM);
	stun_put_str(&w, STUN_A_NONCE, c->nonce);
	stun_put_attr(&w, STUN_A_PASSWORD_ALGORITHMS, algs, len);
	stun_put_attr(&w, STUN_A_PASSWORD_ALGORITHM, chosen, 4);
	stun_put_integrity(&w, key, (size_t)klen);
	n = stun_writer_finish(&w);
	ck_assert_int_eq(stun_msg_parse(&c->r.m, c->r.buf, (size_t)n), 0);
	return verdict_at(c, T0);
}

/* The client checks our signed answer with its own key. */
static void check_signed_answer(const struct client *c, int want256)
{
	uint8_t buf[512];
	struct stun_writer w;
	struct stun_msg m;
	int n;

	stun_writer_init(&w, buf, sizeof buf, TURN_ALLOCATE, STUN_SUCCESS, c->r.m.tid);
	stun_put_u32(&w, STUN_A_LIFETIME, 600);
	auth_sign(&c->ok, &w);
	stun_put_fingerprint(&w);
	n = stun_writer_finish(&w);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(stun_msg_parse(&m, buf, (size_t)n), 0);
	ck_assert_int_eq(m.mi256 >= 0, want256);
	ck_assert_int_eq(m.mi >= 0, !want256);
	ck_assert_int_eq(stun_msg_check_integrity(&m, c->r.key, (size_t)c->r.keylen), 0);
}

static void rest_pass(const char *secret, const char *user, char out[64])
{
	uint8_t mac[20];
	unsigned int len = 0;

	HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)user,
	     strlen(user), mac, &len);
	ck_assert_uint_eq(len, 20);
	EVP_EncodeBlock((unsigned char *)out, mac, 20);
}

/* A TURN REST username: "EXPIRY:NAME", or coturn's "EXPIRY" with no name. */
static void rest_user(char out[64], uint32_t expiry, const char *name)
{
	if (name)
		snprintf(out, 64, "%u:%s", expiry, name);
	else
		snprintf(out, 64, "%u", expiry);
}

/* A TURN REST client's request (MD5): its password is the secret's HMAC
 * of the username. */
static enum auth_verdict rest_attempt(struct client *c, const char *secret, const char *user)
{
	char pass[64];

	rest_pass(secret, user, pass);
	return attempt(c, user, pass, STUN_PW_MD5, F_STD);
}

START_TEST(static_md5_ok)
{
	struct client c;

	client_init(&c, mk(), "192.0.2.10", 40000);
	ck_assert_int_eq(strncmp(c.nonce, "obMatJos2gAAA", 13), 0);
	build(&c.r, "alice", "wonderland", REALM, c.nonce, STUN_PW_MD5, F_STD);
	ck_assert_int_eq(verdict_at(&c, T0 + 10), AUTH_OK);
	ck_assert_str_eq(c.ok.user, "alice");
	ck_assert_uint_eq(c.ok.keylen, 16);
	ck_assert(!memcmp(c.ok.key, c.r.key, 16));
	ck_assert_int_eq(c.ok.sha256_mi, 0);
	ck_assert_int_eq(c.ok.alg, STUN_PW_MD5);
	ck_assert_int_eq(c.ok.rest, 0);
	check_signed_answer(&c, 0);
	/* a password with colons in it; and a FINGERPRINT after M-I */
	build(&c.r, "bob", "pa:ss:word", REALM, c.nonce, STUN_PW_MD5, F_STD | F_FP);
	ck_assert_int_eq(verdict_at(&c, T0 + 10), AUTH_OK);
	ck_assert_str_eq(c.ok.user, "bob");
	/* stateless: the same nonce serves any number of requests */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(verdict_at(&c, T0 + 1000 * (uint64_t)i), AUTH_OK);
	auth_free(c.a);
}
END_TEST

START_TEST(sha256_password_algorithm)
{
	struct client c;

	client_init(&c, mk(), "2001:db8::7", 5000);
	ck_assert_int_eq(attempt(&c, "alice", "wonderland", STUN_PW_SHA256, F_SHA), AUTH_OK);
	ck_assert_uint_eq(c.ok.keylen, 32);
	ck_assert(!memcmp(c.ok.key, c.r.key, 32));
	ck_assert_int_eq(c.ok.sha256_mi, 1);
	ck_assert_int_eq(c.ok.alg, STUN_PW_SHA256);
	check_signed_answer(&c, 1);

	/* SHA-256 key with the old MESSAGE-INTEGRITY: answered with M-I */
	ck_assert_int_eq(attempt(&c, "alice", "wonderland", STUN_PW_SHA256,
				 (F_SHA & ~F_MI256) | F_MI), AUTH_OK);
	ck_assert_uint_eq(c.ok.keylen, 32);
	check_signed_answer(&c, 0);

	/* MD5 key (no PASSWORD-ALGORITHM) with MESSAGE-INTEGRITY-SHA256 */
	ck_assert_int_eq(attempt(&c, "alice", "wonderland", STUN_PW_MD5,
				 F_USERNAME | F_REALM | F_NONCE | F_MI256), AUTH_OK);
	ck_assert_uint_eq(c.ok.keylen, 16);
	ck_assert_int_eq(c.ok.sha256_mi, 1);
	check_signed_answer(&c, 1);

	/* explicit MD5 through PASSWORD-ALGORITHM */
	ck_assert_int_eq(attempt(&c, "alice", "wonderland", STUN_PW_MD5,
				 F_STD | F_PWALGS | F_PWALG), AUTH_OK);
	ck_assert_int_eq(c.ok.alg, STUN_PW_MD5);

	/* SHA-256 key but no PASSWORD-ALGORITHM: the server assumes MD5 */
	ck_assert_int_eq(attempt(&c, "alice", "wonderland", STUN_PW_SHA256, F_STD), AUTH_WRONG);
	auth_free(c.a);
}
END_TEST

/* RFC 8489 §9.2.4: both attributes, the list we sent, an entry of it. */
START_TEST(password_algorithms_mismatch)
{
	static const uint8_t md5only[4] = {0, 1, 0, 0};
	struct client c;

	client_init(&c, mk(), "192.0.2.10", 40000);
	/* PASSWORD-ALGORITHM without the list, the list without it */
	ck_assert_int_eq(attempt(&c, "alice", "wonderland", STUN_PW_SHA256, F_SHA & ~F_PWALGS),
			 AUTH_BAD_REQUEST);
	ck_assert_int_eq(attempt(&c, "alice", "wonderland", STUN_PW_MD5, F_STD | F_PWALGS),
			 AUTH_BAD_REQUEST);
	/* a list other than ours (a bid-down: MD5 only) */
	ck_assert_int_eq(attempt_algs(&c, md5only, 4, STUN_PW_MD5), AUTH_BAD_REQUEST);
	/* an algorithm that is not in the list */
	ck_assert_int_eq(attempt_algs(&c, offered, 8, 3), AUTH_BAD_REQUEST);
	auth_free(c.a);
}
END_TEST

START_TEST(rest_credentials)
{
	/* Expired, foreign or nameless REST usernames. */
	static const struct {
		const char *secret;
		int64_t expires_in;
		const char *name;
		enum auth_verdict want;
	} cases[] = {
		{"north-secret", -1, "carol", AUTH_WRONG},  /* expired a second ago */
		{"north-secret", 0, "carol", AUTH_WRONG},   /* expires exactly now */
		{"south-secret", 60, "carol", AUTH_WRONG},  /* a secret we do not have */
		{"north-secret", 60, NULL, AUTH_OK},        /* coturn style: no name */
	};
	struct client c;
	char user[64], pass[64], err[128];

	client_init(&c, mk(), "198.51.100.20", 3478);
	ck_assert_int_eq(auth_add_secret(c.a, "north-secret", err, sizeof err), 0);

	/* valid for another hour */
	rest_user(user, NOW_S + 3600, "carol");
	rest_pass("north-secret", user, pass);
	ck_assert_int_eq(attempt(&c, user, pass, STUN_PW_MD5, F_STD), AUTH_OK);
	ck_assert_str_eq(c.ok.user, user);
	ck_assert_int_eq(c.ok.rest, 1);
	ck_assert_str_eq(c.ok.user + c.ok.name_off, "carol");
	ck_assert_uint_eq(c.ok.keylen, 16);
	check_signed_answer(&c, 0);

	/* the same, SHA-256 */
	ck_assert_int_eq(attempt(&c, user, pass, STUN_PW_SHA256, F_SHA), AUTH_OK);
	ck_assert_uint_eq(c.ok.keylen, 32);
	check_signed_answer(&c, 1);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		enum auth_verdict v;

		rest_user(user, (uint32_t)(NOW_S + cases[i].expires_in), cases[i].name);
		v = rest_attempt(&c, cases[i].secret, user);
		ck_assert_msg(v == cases[i].want, "%s signed with %s: verdict %d, want %d",
			      user, cases[i].secret, v, cases[i].want);
	}
	ck_assert_str_eq(c.ok.user + c.ok.name_off, "");

	/* not a REST username at all */
	ck_assert_int_eq(rest_attempt(&c, "north-secret", "x123:carol"), AUTH_WRONG);
	auth_free(c.a);
}
END_TEST

START_TEST(rest_two_secrets)
{
	struct auth *a = auth_new(REALM, nkey);
	struct client c;
	char user[64], err[128];

	ck_assert_int_eq(auth_add_secret(a, "old", err, sizeof err), 0);
	ck_assert_int_eq(auth_add_secret(a, "new", err, sizeof err), 0);
	ck_assert_int_eq(auth_add_secret(a, "new", err, sizeof err), 0); /* dedup */
	ck_assert_uint_eq(auth_secret_count(a), 2);
	client_init(&c, a, "10.10.1.50", 3478);
	rest_user(user, NOW_S + 600, "dave");

	ck_assert_int_eq(rest_attempt(&c, "old", user), AUTH_OK);
	ck_assert_int_eq(rest_attempt(&c, "new", user), AUTH_OK);
	ck_assert_int_eq(rest_attempt(&c, "other", user), AUTH_WRONG);
	/* a static user and REST together: both work */
	ck_assert_int_eq(auth_add_user(a, "alice:wonderland", err, sizeof err), 0);
	ck_assert_int_eq(alice(&c), AUTH_OK);
	ck_assert_int_eq(auth_add_secret(a, "", err, sizeof err), -1);
	ck_assert_str_eq(err, "empty secret");
	auth_free(a);
}
END_TEST

START_TEST(missing_credentials)
{
	/* alice's request with only these attributes. */
	static const struct {
		unsigned flags;
		enum auth_verdict want;
	} cases[] = {
		/* nothing at all: the first Allocate of every client */
		{0, AUTH_CHALLENGE},
		/* credentials but no integrity: RFC 8489 says 401 with a challenge */
		{F_USERNAME | F_REALM | F_NONCE, AUTH_CHALLENGE},
		/* signed, but USERNAME without NONCE, without REALM, or no user */
		{F_USERNAME | F_REALM | F_MI, AUTH_BAD_REQUEST},
		{F_USERNAME | F_NONCE | F_MI, AUTH_BAD_REQUEST},
		{F_REALM | F_NONCE | F_MI, AUTH_BAD_REQUEST},
		{F_USERNAME | F_MI256, AUTH_BAD_REQUEST},
	};
	struct client c;

	client_init(&c, mk(), "192.0.2.10", 40000);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		enum auth_verdict v = attempt(&c, "alice", "wonderland", STUN_PW_MD5,
					      cases[i].flags);
		ck_assert_msg(v == cases[i].want, "flags 0x%x: verdict %d, want %d",
			      cases[i].flags, v, cases[i].want);
	}
	auth_free(c.a);
}
END_TEST

START_TEST(stale_nonce)
{
	struct client c;

	client_init(&c, mk(), "192.0.2.10", 40000);
	build(&c.r, "alice", "wonderland", REALM, c.nonce, STUN_PW_MD5, F_STD);
	ck_assert_int_eq(verdict_at(&c, T0 + AUTH_NONCE_LIFETIME_MS - 1), AUTH_OK);
	ck_assert_int_eq(verdict_at(&c, T0 + AUTH_NONCE_LIFETIME_MS), AUTH_STALE_NONCE);
	ck_assert_int_eq(verdict_at(&c, T0 + 24ull * 3600 * 1000), AUTH_STALE_NONCE);
	/* issued by a worker whose loop time is a little ahead: fine */
	get_nonce(c.a, SA(c.addr), T0 + 3000, c.nonce, sizeof c.nonce);
	ck_assert_int_eq(alice(&c), AUTH_OK);
	/* a clock behind the nonce by more than a lifetime: not from us */
	get_nonce(c.a, SA(c.addr), T0 + 2ull * AUTH_NONCE_LIFETIME_MS, c.nonce, sizeof c.nonce);
	ck_assert_int_eq(alice(&c), AUTH_STALE_NONCE);
	/* stale wins over a wrong password: the client retries, then gets 401 */
	get_nonce(c.a, SA(c.addr), T0, c.nonce, sizeof c.nonce);
	build(&c.r, "alice", "nope", REALM, c.nonce, STUN_PW_MD5, F_STD);
	ck_assert_int_eq(verdict_at(&c, T0 + AUTH_NONCE_LIFETIME_MS), AUTH_STALE_NONCE);
	auth_free(c.a);
}
END_TEST

START_TEST(forged_nonce)
{
	struct client c;
	char nonce[800];
	size_t len;

	client_init(&c, mk(), "192.0.2.10", 40000);
	strcpy(nonce, c.nonce); /* the genuine one; c.nonce is forged from it */
	len = strlen(nonce);
	ck_assert_uint_eq(len, 61);

	/* a flipped MAC digit */
	c.nonce[len - 1] = c.nonce[len - 1] == '0' ? '1' : '0';
	ck_assert_int_eq(alice(&c), AUTH_STALE_NONCE);
	/* a pushed-out expiry (one hex digit of it) */
	strcpy(c.nonce, nonce);
	c.nonce[13 + 10] = c.nonce[13 + 10] == 'f' ? 'e' : 'f';
	ck_assert_int_eq(alice(&c), AUTH_STALE_NONCE);
	/* uppercase hex, truncated, extended, other cookie, junk */
	for (char *p = strcpy(c.nonce, nonce) + 13; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(alice(&c), AUTH_STALE_NONCE);
	strcpy(c.nonce, nonce);
	c.nonce[len - 2] = '\0';
	ck_assert_int_eq(alice(&c), AUTH_STALE_NONCE);
	strcpy(c.nonce, nonce); /* the nonce is short; strcat keeps gcc's truncation check quiet */
	strcat(c.nonce, "00");
	ck_assert_int_eq(alice(&c), AUTH_STALE_NONCE);
	strcpy(c.nonce, nonce);
	c.nonce[12] = 'B'; /* "obMatJos2gAAB": other security features */
	ck_assert_int_eq(alice(&c), AUTH_STALE_NONCE);
	strcpy(c.nonce, "deadbeef");
	ck_assert_int_eq(alice(&c), AUTH_STALE_NONCE);
	c.nonce[0] = '\0';
	ck_assert_int_eq(alice(&c), AUTH_STALE_NONCE);

	/* another server's nonce key (or ours before a restart) */
	{
		uint8_t k2[32];
		struct auth *b;
		memcpy(k2, nkey, 32);
		k2[0] ^= 1;
		b = auth_new(REALM, k2);
		get_nonce(b, SA(c.addr), T0, c.nonce, sizeof c.nonce);
		ck_assert_int_eq(alice(&c), AUTH_STALE_NONCE);
		auth_free(b);
		/* another realm, same key: the nonce is bound to the realm */
		b = auth_new("other.example", nkey);
		get_nonce(b, SA(c.addr), T0, c.nonce, sizeof c.nonce);
		ck_assert_str_ne(c.nonce, nonce);
		auth_free(b);
	}
	auth_free(c.a);
}
END_TEST

START_TEST(nonce_other_client)
{
	/* The nonce the client got, sent from elsewhere. */
	static const struct {
		const char *ip;
		int port;
		enum auth_verdict want;
	} from[] = {
		{"192.0.2.11", 40000, AUTH_STALE_NONCE},
		{"2001:db8::10", 40000, AUTH_STALE_NONCE},
		/* the port is not bound: TCP reconnects, NAT rebinding */
		{"192.0.2.10", 40001, AUTH_OK},
		/* the same IPv4 client seen on a dual-stack socket */
		{"::ffff:192.0.2.10", 40002, AUTH_OK},
	};
	struct client c;

	client_init(&c, mk(), "192.0.2.10", 40000);
	build(&c.r, "alice", "wonderland", REALM, c.nonce, STUN_PW_MD5, F_STD);
	for (size_t i = 0; i < ARRAY_LEN(from); i++) {
		enum auth_verdict v;

		c.addr = addr(from[i].ip, from[i].port);
		v = verdict_at(&c, T0);
		ck_assert_msg(v == from[i].want, "from %s port %d: verdict %d, want %d",
			      from[i].ip, from[i].port, v, from[i].want);
	}
	auth_free(c.a);
}
END_TEST

START_TEST(wrong_credentials)
{
	static const struct {
		const char *user, *pass, *realm;
	} wrong[] = {
		{"alice", "Wonderland", REALM},
		{"mallory", "wonderland", REALM},
		{"alice", "wonderland", "other.example"},
		/* no REST secrets configured: an EXPIRY:NAME name is just unknown */
		{"9999999999:alice", "x", REALM},
	};
	struct client c;

	client_init(&c, mk(), "192.0.2.10", 40000);
	for (size_t i = 0; i < ARRAY_LEN(wrong); i++) {
		build(&c.r, wrong[i].user, wrong[i].pass, wrong[i].realm, c.nonce,
		      STUN_PW_MD5, F_STD);
		ck_assert_msg(verdict_at(&c, T0) == AUTH_WRONG, "%s:%s in %s not refused",
			      wrong[i].user, wrong[i].pass, wrong[i].realm);
	}
	build(&c.r, "alice", "wonderland", REALM, c.nonce, STUN_PW_SHA256, F_SHA);
	c.r.buf[c.r.m.attrs[c.r.m.mi256].off + 4] ^= 1; /* corrupt the MAC */
	ck_assert_int_eq(verdict_at(&c, T0), AUTH_WRONG);
	auth_free(c.a);
}
END_TEST

START_TEST(userhash)
{
	struct client c;

	client_init(&c, mk(), "192.0.2.10", 40000);
	ck_assert_int_eq(attempt(&c, "alice", "wonderland", STUN_PW_SHA256,
				 (F_SHA & ~F_USERNAME) | F_USERHASH), AUTH_OK);
	ck_assert_str_eq(c.ok.user, "alice");
	ck_assert_int_eq(c.ok.alg, STUN_PW_SHA256);
	check_signed_answer(&c, 1);
	ck_assert_int_eq(attempt(&c, "alice", "wrong", STUN_PW_SHA256,
				 (F_SHA & ~F_USERNAME) | F_USERHASH), AUTH_WRONG);
	ck_assert_int_eq(attempt(&c, "nobody", "wonderland", STUN_PW_MD5,
				 (F_STD & ~F_USERNAME) | F_USERHASH), AUTH_WRONG);
	auth_free(c.a);
}
END_TEST

START_TEST(nonce_make_is_pure)
{
	struct auth *a = mk();
	struct sockaddr_storage c = addr("192.0.2.10", 40000);
	struct sockaddr_storage c2 = addr("192.0.2.10", 1); /* port ignored */
	char n1[128], n2[128], n3[128];
	struct mallinfo2 before, after;

	ck_assert_uint_eq(auth_nonce_make(a, SA(c), T0, n1, sizeof n1), 61);
	ck_assert_uint_eq(auth_nonce_make(a, SA(c), T0, n2, sizeof n2), 61);
	ck_assert_str_eq(n1, n2);
	ck_assert_uint_eq(auth_nonce_make(a, SA(c2), T0, n2, sizeof n2), 61);
	ck_assert_str_eq(n1, n2);
	ck_assert_uint_eq(auth_nonce_make(a, SA(c), T0 + 1, n3, sizeof n3), 61);
	ck_assert_str_ne(n1, n3);
	ck_assert_int_eq(strncmp(n1, "obMatJos2gAAA", 13), 0);
	for (const char *p = n1; *p; p++)
		ck_assert(*p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\');
	/* too small a buffer: nothing, and still NUL-terminated */
	ck_assert_uint_eq(auth_nonce_make(a, SA(c), T0, n3, 61), 0);
	ck_assert_str_eq(n3, "");

	/* a flood of challenges leaves the heap as it was */
	before = mallinfo2();
	for (uint64_t i = 0; i < 20000; i++)
		auth_nonce_make(a, SA(c), T0 + i, n2, sizeof n2);
	after = mallinfo2();
	ck_assert_uint_eq(before.uordblks, after.uordblks);
	auth_free(a);
	auth_thread_cleanup();
}
END_TEST

START_TEST(check_does_not_grow_heap)
{
	struct client c;
	struct mallinfo2 before, after;

	client_init(&c, mk(), "192.0.2.10", 40000);
	ck_assert_int_eq(alice(&c), AUTH_OK);
	before = mallinfo2();
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(verdict_at(&c, T0), AUTH_OK);
	after = mallinfo2();
	ck_assert_uint_eq(before.uordblks, after.uordblks);
	auth_free(c.a);
}
END_TEST

START_TEST(add_user_errors)
{
	struct auth *a = auth_new(REALM, nkey);
	char err[256];

	ck_assert_int_eq(auth_add_user(a, "alice", err, sizeof err), -1);
	ck_assert_str_eq(err, "expected NAME:PASSWORD");
	ck_assert_int_eq(auth_add_user(a, ":pw", err, sizeof err), -1);
	ck_assert_str_eq(err, "empty user name");
	ck_assert_int_eq(auth_add_user(a, "bob:", err, sizeof err), -1);
	ck_assert_str_eq(err, "empty password");
	ck_assert_int_eq(auth_add_user(a, "b\tob:x", err, sizeof err), -1);
	ck_assert_uint_eq(auth_user_count(a), 0);
	ck_assert_ptr_null(auth_new("", nkey));
	ck_assert_ptr_null(auth_new(NULL, nkey));
	ck_assert_str_eq(auth_realm(a), REALM);
	auth_free(a);
	auth_free(NULL);
}
END_TEST

START_TEST(duplicate_and_many_users)
{
	/* After 3000 users and a changed password for user7. */
	static const struct {
		const char *user, *pass;
		unsigned flags;
		enum auth_verdict want;
	} cases[] = {
		{"user2999", "pass2999", F_STD, AUTH_OK},
		{"user7", "pass7", F_STD, AUTH_WRONG},
		{"user7", "changed", F_STD, AUTH_OK},
		{"user7", "changed", F_USERHASH | F_REALM | F_NONCE | F_MI, AUTH_OK},
	};
	struct auth *a = auth_new(REALM, nkey);
	struct client c;
	char err[256], up[64];

	for (int i = 0; i < 3000; i++) {
		snprintf(up, sizeof up, "user%d:pass%d", i, i);
		ck_assert_int_eq(auth_add_user(a, up, err, sizeof err), 0);
	}
	ck_assert_int_eq(auth_add_user(a, "user7:changed", err, sizeof err), 0);
	ck_assert_uint_eq(auth_user_count(a), 3000);
	client_init(&c, a, "192.0.2.10", 40000);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		enum auth_verdict v = attempt(&c, cases[i].user, cases[i].pass, STUN_PW_MD5,
					      cases[i].flags);
		ck_assert_msg(v == cases[i].want, "%s:%s flags 0x%x: verdict %d, want %d",
			      cases[i].user, cases[i].pass, cases[i].flags, v, cases[i].want);
	}
	/* USERHASH finds the first of them too */
	ck_assert_int_eq(attempt(&c, "user0", "pass0", STUN_PW_MD5,
				 F_USERHASH | F_REALM | F_NONCE | F_MI), AUTH_OK);
	ck_assert_str_eq(c.ok.user, "user0");
	auth_free(a);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Load a user file holding text: it must fail with "PATH<where>". */
static void expect_userfile_error(struct auth *a, const char *path, const char *text,
				  const char *where)
{
	char err[512], want[256];

	if (text)
		write_file(path, text);
	ck_assert_int_eq(auth_load_userfile(a, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s%s", path, where);
	ck_assert_str_eq(err, want);
}

START_TEST(userfile)
{
	struct auth *a = auth_new(REALM, nkey);
	struct client c;
	char dir[] = "/tmp/test_turn_auth.XXXXXX", path[128], err[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/users", dir);
	write_file(path, "# lab users\n"
			 "\n"
			 "alice:wonderland\n"
			 "   bob:builder  \r\n"
			 "\t# indented comment\n"
			 "carol:c#1:x\n");
	ck_assert_int_eq(auth_load_userfile(a, path, err, sizeof err), 0);
	ck_assert_uint_eq(auth_user_count(a), 3);
	client_init(&c, a, "192.0.2.10", 40000);
	ck_assert_int_eq(attempt(&c, "bob", "builder", STUN_PW_MD5, F_STD), AUTH_OK);
	ck_assert_int_eq(attempt(&c, "carol", "c#1:x", STUN_PW_MD5, F_STD), AUTH_OK);

	expect_userfile_error(a, path, "alice:wonderland\n# fine\nno-colon-here\n",
			      ":3: expected NAME:PASSWORD");
	expect_userfile_error(a, path, "\n\n\n\ndave:\n", ":5: empty password");
	unlink(path);
	expect_userfile_error(a, path, NULL, ": cannot open: No such file or directory");
	rmdir(dir);
	auth_free(a);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("turn_auth");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, static_md5_ok);
	tcase_add_test(tc, sha256_password_algorithm);
	tcase_add_test(tc, password_algorithms_mismatch);
	tcase_add_test(tc, rest_credentials);
	tcase_add_test(tc, rest_two_secrets);
	tcase_add_test(tc, missing_credentials);
	tcase_add_test(tc, stale_nonce);
	tcase_add_test(tc, forged_nonce);
	tcase_add_test(tc, nonce_other_client);
	tcase_add_test(tc, wrong_credentials);
	tcase_add_test(tc, userhash);
	tcase_add_test(tc, nonce_make_is_pure);
	tcase_add_test(tc, check_does_not_grow_heap);
	tcase_add_test(tc, add_user_errors);
	tcase_add_test(tc, duplicate_and_many_users);
	tcase_add_test(tc, userfile);
	tcase_set_timeout(tc, 60);
	/* Once the tests have run, free the thread's cached OpenSSL
	 * contexts, so a leak check sees only real leaks. */
	tcase_add_unchecked_fixture(tc, NULL, auth_thread_cleanup);
	suite_add_tcase(s, tc);
	return s;
}
