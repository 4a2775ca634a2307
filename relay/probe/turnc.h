/* turnc.h: a blocking TURN client session (RFC 8656 over RFC 8489): the
 * 401 dance, Allocate, Refresh, CreatePermission, ChannelBind, Send and
 * data coming back. One session is one client socket, so one 5-tuple and
 * at most one allocation. The options every TURN subcommand shares are
 * here too, so that they are spelled the same everywhere. */
#ifndef EDGELAB_PROBE_TURNC_H
#define EDGELAB_PROBE_TURNC_H

#include <getopt.h>

#include "probe.h"

/* Option values above any character so commands can add their own. */
enum {
	TO_UDP = 0x100, TO_TCP, TO_TLS, TO_USER, TO_PASS, TO_SECRET, TO_REALM,
	TO_SHA256, TO_FAMILY, TO_DUAL, TO_LIFETIME, TO_TIMEOUT, TO_JSON, TO_REST_TTL,
};

#define TC_COMMON_OPTIONS                                                   \
	{"udp", no_argument, NULL, TO_UDP},                                   \
	{"tcp", no_argument, NULL, TO_TCP},                                   \
	{"tls", no_argument, NULL, TO_TLS},                                   \
	{"user", required_argument, NULL, TO_USER},                           \
	{"pass", required_argument, NULL, TO_PASS},                           \
	{"secret", required_argument, NULL, TO_SECRET},                       \
	{"rest-ttl", required_argument, NULL, TO_REST_TTL},                   \
	{"realm", required_argument, NULL, TO_REALM},                         \
	{"sha256", no_argument, NULL, TO_SHA256},                             \
	{"family", required_argument, NULL, TO_FAMILY},                       \
	{"dual", no_argument, NULL, TO_DUAL},                                 \
	{"lifetime", required_argument, NULL, TO_LIFETIME},                   \
	{"timeout", required_argument, NULL, TO_TIMEOUT},                     \
	{"json", no_argument, NULL, TO_JSON}

#define TC_COMMON_HELP                                                      \
	"transport:   --udp (default) | --tcp | --tls (TURN over TLS, no certificate check)\n" \
	"credentials: --user U --pass P          long-term credential\n"      \
	"             --secret S [--user NAME]   TURN REST: username EXPIRY:NAME, password\n" \
	"                                        base64(HMAC-SHA1(S, username)); --rest-ttl SECONDS\n" \
	"                                        (default 3600; negative makes an expired one)\n" \
	"             --realm R                  use R instead of the server's realm\n" \
	"             --sha256                   PASSWORD-ALGORITHM SHA-256 and MESSAGE-INTEGRITY-SHA256\n" \
	"allocation:  --family 4|6 (REQUESTED-ADDRESS-FAMILY)  --dual (also IPv6: ADDITIONAL-ADDRESS-FAMILY)\n" \
	"             --lifetime SECONDS (LIFETIME in the Allocate)\n"    \
	"output:      --json  --timeout MS (per transaction, default 3000)\n"

struct tc_cfg {
	enum transport tp;
	const char *user, *pass, *secret, *realm;
	long rest_ttl;
	int sha256;
	int family; /* 0: do not ask; 4 or 6 */
	int dual;
	long lifetime; /* -1: do not send LIFETIME */
	int relay_tcp; /* REQUESTED-TRANSPORT TCP (RFC 6062) instead of UDP */
	int timeout_ms;
	int json;
};

/* Defaults, and getopt reset for a fresh parse of a command's argv. */
void tc_cfg_init(struct tc_cfg *c);
/* The next option that is the command's own (getopt_long over opts); the
 * shared ones go into c on the way. -1 at the end, TC_OPT_BAD after a
 * shared option with a bad value (the reason is printed). */
#define TC_OPT_BAD (-2)
int tc_getopt(struct tc_cfg *c, int argc, char **argv, const struct option *opts);
/* Handle one of TC_COMMON_OPTIONS: 1 handled, 0 not ours, -1 bad value
 * (reason printed). */
int tc_cfg_opt(struct tc_cfg *c, int opt, const char *arg);

#define TC_MAX_CHANNELS 16

struct tc_sess {
	struct probe_sock *ps;
	const struct tc_cfg *cfg;
	char user[160];
	char pass[160];
	char realm[256];
	uint8_t nonce[256];
	size_t noncelen;
	uint8_t pwalgs[64];
	size_t pwalgslen;
	uint8_t key[32];
	int keylen;
	int authed;
	int reused; /* signs with another session's nonce (tc_data_open) */
	int sha256; /* both asked for and offered */
	int allocated;
	/* What the last Allocate answered. */
	struct sockaddr_storage relayed[2];
	int nrelayed;
	struct sockaddr_storage mapped, from;
	long lifetime;
	int addr_err; /* ADDRESS-ERROR-CODE of a partial dual allocation */
	double rtt_ms; /* last transaction, 401 round included */
	/* Channels we bound, to name the peer of ChannelData. */
	uint16_t ch[TC_MAX_CHANNELS];
	struct sockaddr_storage ch_peer[TC_MAX_CHANNELS];
	int nch;
	/* The last failure: the server's error code (0 if none) and a line. */
	int code;
	char err[256];
};

/* Open the client socket to target. 0, or -1 with s->err. */
int tc_open(struct tc_sess *s, const struct tc_cfg *c, const char *target, const char *bind);
void tc_close(struct tc_sess *s);

/* One request with the attributes put() adds, signed once the session
 * has a challenge; 0 on success with *m the answer (pointing into s->ps,
 * valid until the next receive), -1 with s->code and s->err ("Method:
 * CODE Reason" for an error response). */
typedef void (*tc_put_fn)(struct stun_writer *w, const void *arg);
int tc_request(struct tc_sess *s, uint16_t method, tc_put_fn put, const void *arg,
	       struct stun_msg *m);

/* Each: 0 success, -1 failure with s->code and s->err. */
int tc_allocate(struct tc_sess *s);
int tc_refresh(struct tc_sess *s, long lifetime);
int tc_permit(struct tc_sess *s, const struct sockaddr *peer);
int tc_channel_bind(struct tc_sess *s, uint16_t ch, const struct sockaddr *peer);
int tc_send_indication(struct tc_sess *s, const struct sockaddr *peer, const void *data,
		       size_t len);
int tc_send_channel(struct tc_sess *s, uint16_t ch, const void *data, size_t len);
/* Wait for relayed data (Data indication or ChannelData). 1 got it (peer
 * and data, valid until the next call; via says which way it came), 0
 * deadline passed, -1 error. */
int tc_recv_data(struct tc_sess *s, double deadline, struct sockaddr_storage *peer,
		 const uint8_t **data, size_t *len, const char **via);

/* ---- RFC 6062, TCP relaying (tcprelay.c) ---- */

/* Connect to peer over the control session (a TCP allocation): 0 with
 * *id the CONNECTION-ID, or -1 with s->err naming the step. */
int tc_connect(struct tc_sess *s, const struct sockaddr *peer, uint32_t *id);
/* Open a data connection d to the control session's server, with the same
 * transport, credentials, realm and nonce (RFC 6062 §4.3), from the
 * control connection's address; then ConnectionBind id on it. After 0, d
 * carries the peer's bytes raw (tc_data_send, tc_data_recv). */
int tc_data_open(struct tc_sess *d, const struct tc_sess *ctl, const char *target);
int tc_connection_bind(struct tc_sess *d, uint32_t id);
int tc_data_send(struct tc_sess *d, const void *buf, size_t len);
/* Bytes from the peer: >0 how many, 0 deadline passed, -1 closed/error. */
long tc_data_recv(struct tc_sess *d, void *buf, size_t cap, double deadline);

/* The allocation's fields in a report (allocate.c; turn.c looks the same). */
struct out;
void probe_allocate_report(struct out *o, const struct tc_sess *s);

/* "ADDR:PORT" → sockaddr, or -1 with a line on stderr naming flag. */
int tc_parse_peer(const char *flag, const char *s, struct sockaddr_storage *out);

#endif
