/* tests/stun_testutil.h: what the STUN codec's test groups share
 * (tests/test_stun_<group>.c, linked with stun_testutil.c): the RFC 5769
 * test vectors, reference encoders and checks written from the RFC text
 * independently of the code under test, exactly sized heap copies, and
 * the suite they all make.
 *
 * Messages are parsed from heap copies of exactly n bytes (exact(),
 * parse_copy()), freed after each test, so that ASan sees any read past
 * what the parser was given. */
#ifndef EDGELAB_STUN_TESTUTIL_H
#define EDGELAB_STUN_TESTUTIL_H

#include <check.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stun/stun.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 5769 §2.1 sample request, §2.2 and §2.3 sample responses (IPv4,
 * IPv6), §2.4 request with long-term authentication. */
extern const uint8_t rfc_req[108];
extern const uint8_t rfc_resp4[80];
extern const uint8_t rfc_resp6[92];
extern const uint8_t rfc_lt[116];

#define RFC_PASSWORD "VOkJxbRl1RmTxUk/WvJxBt"
#define RFC_LT_USER  "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9"
#define RFC_LT_PASS  "TheMatrIX"
#define RFC_LT_REALM "example.org"
#define RFC_LT_NONCE "f//499k954d6OL34oL9FSTvy64sA"

extern const uint8_t tid_a[STUN_TID_LEN];
extern const uint8_t tid_b[STUN_TID_LEN];

/* Integer attributes with a value each, and opaque values, for round
 * trips and for size errors. */
struct u32_attr {
	uint16_t type;
	uint32_t v;
};
struct u64_attr {
	uint16_t type;
	uint64_t v;
};
extern const struct u32_attr u32_attrs[];
extern const size_t n_u32_attrs;
extern const struct u64_attr u64_attrs[];
extern const size_t n_u64_attrs;
extern const uint8_t pwalgs_val[8];
extern const uint8_t evenport_val[1];

/* A heap copy of exactly n bytes of p, freed after the test. */
uint8_t *exact(const void *p, size_t n);
/* Parse an exact heap copy. */
int parse_copy(struct stun_msg *m, const uint8_t *p, size_t n);

uint16_t rd16(const uint8_t *p);
void wr16(uint8_t *p, uint16_t v);
void wr32(uint8_t *p, uint32_t v);

/* Reference CRC-32, HMAC and digest. */
uint32_t ref_crc32(const uint8_t *p, size_t n);
void ref_hmac(const EVP_MD *md, const void *key, size_t keylen, const uint8_t *p, size_t n,
	      uint8_t *out);
void ref_digest(const EVP_MD *md, const void *p, size_t n, uint8_t *out);

/* MESSAGE-INTEGRITY at mioff, FINGERPRINT at fpoff (and last), right. */
void assert_mi_at(const uint8_t *msg, size_t mioff, const void *key, size_t keylen);
void assert_fp_at(const uint8_t *msg, size_t total, size_t fpoff);
/* Every padding byte of every attribute is zero. */
void assert_zero_padding(const uint8_t *msg, size_t total);

/* A hand-rolled reference encoder, for inputs the writer must not be
 * trusted to produce (malformed ones) and for cross-checking it. The
 * buffer is freed after the test. */
struct raw {
	uint8_t *b;
	size_t n;
};
struct raw raw_new(uint16_t type, const uint8_t tid[STUN_TID_LEN]);
void raw_setlen(struct raw *r, size_t body);
void raw_attr(struct raw *r, uint16_t type, const void *val, size_t len);
void raw_u32(struct raw *r, uint16_t type, uint32_t v);
void raw_hmac(struct raw *r, uint16_t type, const EVP_MD *md, const void *key, size_t keylen,
	      size_t len);
void raw_mi(struct raw *r, const void *key, size_t keylen);
void raw_fp(struct raw *r);

struct sockaddr_storage sa_make(const char *ip, uint16_t port);
void assert_sa_eq(const struct sockaddr_storage *got, const struct sockaddr_storage *want);
void put_sa(struct stun_writer *w, uint16_t type, const struct sockaddr_storage *ss);

/* Suite "stun" with tests as its TCase group: a test_stun_<group>.c's
 * test_suite() (check_main.h). */
Suite *stun_test_suite(const char *group, const TTest *const *tests, size_t n);

#endif
