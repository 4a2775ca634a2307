/* turnc.c: the blocking TURN client session (turnc.h). Every request goes
 * through tc_request(), which does the long-term credential dance once
 * (401 → REALM/NONCE → signed retry) and again on 438 (stale nonce). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "turnc.h"

static int set_err(struct tc_sess *s, int code, const char *fmt, const char *a)
{
	s->code = code;
	snprintf(s->err, sizeof s->err, fmt, a);
	return -1;
}

/* TURN REST API (as coturn's --use-auth-secret): username EXPIRY:NAME,
 * password base64(HMAC-SHA1(secret, username)). */
static void rest_credential(struct tc_sess *s, const struct tc_cfg *c)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	long long expiry = (long long)time(NULL) + c->rest_ttl;

	snprintf(s->user, sizeof s->user, "%lld:%s", expiry, c->user ? c->user : "edgeprobe");
	HMAC(EVP_sha1(), c->secret, (int)strlen(c->secret), (const unsigned char *)s->user,
	     strlen(s->user), mac, &maclen);
	EVP_EncodeBlock((unsigned char *)s->pass, mac, (int)maclen);
}

int tc_open(struct tc_sess *s, const struct tc_cfg *c, const char *target, const char *bind)
{
	struct probe_opts o = {.target = target, .bind = bind, .tp = c->tp,
			       .timeout_ms = c->timeout_ms};

	memset(s, 0, sizeof *s);
	s->cfg = c;
	s->ps = malloc(sizeof *s->ps);
	if (!s->ps)
		return set_err(s, 0, "%s", "out of memory");
	if (c->secret)
		rest_credential(s, c);
	else if (c->user && c->pass) {
		snprintf(s->user, sizeof s->user, "%s", c->user);
		snprintf(s->pass, sizeof s->pass, "%s", c->pass);
	}
	if (probe_open(s->ps, &o, s->err, sizeof s->err)) {
		probe_close(s->ps);
		free(s->ps);
		s->ps = NULL;
		return -1;
	}
	return 0;
}

void tc_close(struct tc_sess *s)
{
	if (s->ps) {
		probe_close(s->ps);
		free(s->ps);
		s->ps = NULL;
	}
}

/* Take REALM, NONCE and PASSWORD-ALGORITHMS from a 401/438 and make the key. */
static int take_challenge(struct tc_sess *s, const struct stun_msg *m)
{
	const struct stun_attr *realm = stun_msg_attr(m, STUN_A_REALM);
	const struct stun_attr *nonce = stun_msg_attr(m, STUN_A_NONCE);
	const struct stun_attr *pas = stun_msg_attr(m, STUN_A_PASSWORD_ALGORITHMS);

	if (!nonce || nonce->len > sizeof s->nonce || (!realm && !s->cfg->realm))
		return set_err(s, 401, "%s", "401 challenge without REALM or NONCE");
	if (s->cfg->realm)
		snprintf(s->realm, sizeof s->realm, "%s", s->cfg->realm);
	else
		snprintf(s->realm, sizeof s->realm, "%.*s", (int)realm->len, (const char *)realm->val);
	memcpy(s->nonce, nonce->val, nonce->len);
	s->noncelen = nonce->len;
	s->pwalgslen = 0;
	if (pas && pas->len <= sizeof s->pwalgs) {
		memcpy(s->pwalgs, pas->val, pas->len);
		s->pwalgslen = pas->len;
	}
	/* SHA-256 only if offered: RFC 8489 §9.2.4 forbids picking one the
	 * server did not list. The offer is pairs of (alg, param length). */
	s->sha256 = 0;
	for (size_t i = 0; s->cfg->sha256 && i + 4 <= s->pwalgslen;) {
		size_t plen = (size_t)(s->pwalgs[i + 2] << 8 | s->pwalgs[i + 3]);
		if ((s->pwalgs[i] << 8 | s->pwalgs[i + 1]) == STUN_PW_SHA256)
			s->sha256 = 1;
		i += 4 + ((plen + 3) & ~(size_t)3);
	}
	s->keylen = stun_longterm_key(s->sha256 ? STUN_PW_SHA256 : STUN_PW_MD5, s->user,
				      s->realm, s->pass, s->key);
	if (s->keylen < 0)
		return set_err(s, 0, "%s", "cannot compute the long-term key");
	s->authed = 1;
	return 0;
}

static void sign(struct tc_sess *s, struct stun_writer *w)
{
	stun_put_str(w, STUN_A_USERNAME, s->user);
	stun_put_str(w, STUN_A_REALM, s->realm);
	stun_put_attr(w, STUN_A_NONCE, s->nonce, s->noncelen);
	if (s->sha256) {
		uint8_t alg[4] = {0, STUN_PW_SHA256, 0, 0};
		stun_put_attr(w, STUN_A_PASSWORD_ALGORITHMS, s->pwalgs, s->pwalgslen);
		stun_put_attr(w, STUN_A_PASSWORD_ALGORITHM, alg, sizeof alg);
		stun_put_integrity_sha256(w, s->key, (size_t)s->keylen);
	} else {
		stun_put_integrity(w, s->key, (size_t)s->keylen);
	}
}

static int error_of(struct tc_sess *s, const struct stun_msg *m, const char *method)
{
	const struct stun_attr *ea = stun_msg_attr(m, STUN_A_ERROR_CODE);
	const char *reason = "";
	size_t rl = 0;
	int code = 0;
	char line[200];

	if (ea)
		stun_attr_error(ea, &code, &reason, &rl);
	snprintf(line, sizeof line, "%s: %d %.*s", method, code, (int)(rl > 120 ? 120 : rl), reason);
	/* The reason is the server's text: keep it printable. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
			*p = ' ';
	return set_err(s, code, "%s", line);
}

int tc_request(struct tc_sess *s, uint16_t method, tc_put_fn put, const void *arg,
	       struct stun_msg *m)
{
	static _Thread_local uint8_t req[4096];
	const char *name = stun_method_name(method);
	double t0 = probe_now_ms();

	s->code = 0;
	s->err[0] = 0;
	if (!s->ps)
		return set_err(s, 0, "%s: no socket", name);
	/* Rounds: maybe a 401, maybe a 438, then the real answer. */
	for (int round = 0; round < 3; round++) {
		struct stun_writer w;
		uint8_t tid[STUN_TID_LEN];
		int n, code = 0;
		const struct stun_attr *ea;

		stun_tid_random(tid);
		stun_writer_init(&w, req, sizeof req, method, STUN_REQUEST, tid);
		if (put)
			put(&w, arg);
		if (s->authed)
			sign(s, &w);
		stun_put_fingerprint(&w);
		n = stun_writer_finish(&w);
		if (n < 0)
			return set_err(s, 0, "cannot build the request: %s", stun_strerror(n));
		if (probe_transact(s->ps, req, (size_t)n, m, &s->from, s->cfg->timeout_ms, s->err,
				   sizeof s->err))
			return -1;
		s->rtt_ms = probe_now_ms() - t0;
		if (m->cls == STUN_SUCCESS) {
			if (s->authed && stun_msg_check_integrity(m, s->key, (size_t)s->keylen))
				return set_err(s, 0, "%s: the answer's MESSAGE-INTEGRITY does not check", name);
			return 0;
		}
		ea = stun_msg_attr(m, STUN_A_ERROR_CODE);
		if (ea) {
			const char *r;
			size_t rl;
			stun_attr_error(ea, &code, &r, &rl);
		}
		/* 401 before we signed, or 438 any time: (re)take the challenge.
		 * A session that signs with another's nonce (an RFC 6062 data
		 * connection) takes one fresh challenge if the server wants it. */
		if ((code == 401 && (!s->authed || s->reused)) || code == 438) {
			if (!s->user[0] || !s->pass[0]) {
				error_of(s, m, name);
				snprintf(s->err + strlen(s->err), sizeof s->err - strlen(s->err),
					 " (no credentials given)");
				return -1;
			}
			if (take_challenge(s, m))
				return -1;
			s->reused = 0;
			continue;
		}
		return error_of(s, m, name);
	}
	return set_err(s, 0, "%s: the server keeps challenging (401/438 loop)", name);
}

/* ---- Allocate ---- */

static void put_family(struct stun_writer *w, uint16_t type, int fam)
{
	uint8_t v[4] = {fam == 6 ? 0x02 : 0x01, 0, 0, 0};
	stun_put_attr(w, type, v, sizeof v);
}

static void put_allocate(struct stun_writer *w, const void *arg)
{
	const struct tc_cfg *c = arg;

	/* UDP, or TCP for an RFC 6062 allocation */
	stun_put_u32(w, STUN_A_REQUESTED_TRANSPORT, (c->relay_tcp ? 6u : 17u) << 24);
	if (c->lifetime >= 0)
		stun_put_u32(w, STUN_A_LIFETIME, (uint32_t)c->lifetime);
	if (c->family)
		put_family(w, STUN_A_REQUESTED_ADDRESS_FAMILY, c->family);
	if (c->dual)
		put_family(w, STUN_A_ADDITIONAL_ADDRESS_FAMILY, 6);
}

static void read_lifetime(struct tc_sess *s, const struct stun_msg *m)
{
	const struct stun_attr *lt = stun_msg_attr(m, STUN_A_LIFETIME);
	uint32_t v;

	s->lifetime = lt && !stun_attr_u32(lt, &v) ? (long)v : -1;
}

int tc_allocate(struct tc_sess *s)
{
	struct stun_msg m;

	if (tc_request(s, TURN_ALLOCATE, put_allocate, s->cfg, &m))
		return -1;
	s->nrelayed = 0;
	s->addr_err = 0;
	for (int i = 0; i < m.nattrs; i++) {
		const struct stun_attr *a = &m.attrs[i];
		if (a->type == STUN_A_XOR_RELAYED_ADDRESS && s->nrelayed < 2 &&
		    !stun_attr_addr(&m, a, &s->relayed[s->nrelayed]))
			s->nrelayed++;
		if (a->type == STUN_A_ADDRESS_ERROR_CODE && a->len >= 4)
			s->addr_err = (a->val[2] & 7) * 100 + a->val[3];
	}
	if (stun_msg_addr(&m, STUN_A_XOR_MAPPED_ADDRESS, &s->mapped))
		memset(&s->mapped, 0, sizeof s->mapped);
	read_lifetime(s, &m);
	if (!s->nrelayed)
		return set_err(s, 0, "%s", "Allocate: success without XOR-RELAYED-ADDRESS");
	s->allocated = 1;
	return 0;
}

/* ---- Refresh ---- */

static void put_lifetime(struct stun_writer *w, const void *arg)
{
	stun_put_u32(w, STUN_A_LIFETIME, *(const uint32_t *)arg);
}

int tc_refresh(struct tc_sess *s, long lifetime)
{
	struct stun_msg m;
	uint32_t lt = (uint32_t)lifetime;

	if (tc_request(s, TURN_REFRESH, put_lifetime, &lt, &m))
		return -1;
	read_lifetime(s, &m);
	if (lifetime == 0)
		s->allocated = 0;
	return 0;
}

/* ---- CreatePermission, ChannelBind ---- */

static void put_peer(struct stun_writer *w, const void *arg)
{
	stun_put_addr(w, STUN_A_XOR_PEER_ADDRESS, arg);
}

int tc_permit(struct tc_sess *s, const struct sockaddr *peer)
{
	struct stun_msg m;

	return tc_request(s, TURN_CREATE_PERMISSION, put_peer, peer, &m);
}

struct chan_arg {
	uint16_t ch;
	const struct sockaddr *peer;
};

static void put_channel(struct stun_writer *w, const void *arg)
{
	const struct chan_arg *a = arg;

	stun_put_u32(w, STUN_A_CHANNEL_NUMBER, (uint32_t)a->ch << 16);
	stun_put_addr(w, STUN_A_XOR_PEER_ADDRESS, a->peer);
}

int tc_channel_bind(struct tc_sess *s, uint16_t ch, const struct sockaddr *peer)
{
	struct chan_arg a = {ch, peer};
	struct stun_msg m;

	if (tc_request(s, TURN_CHANNEL_BIND, put_channel, &a, &m))
		return -1;
	if (s->nch < TC_MAX_CHANNELS) {
		s->ch[s->nch] = ch;
		memcpy(&s->ch_peer[s->nch], peer, netaddr_len(peer));
		s->nch++;
	}
	return 0;
}

/* ---- data ---- */

int tc_send_indication(struct tc_sess *s, const struct sockaddr *peer, const void *data,
		       size_t len)
{
	static _Thread_local uint8_t buf[STUN_HDR_LEN + 65536];
	struct stun_writer w;
	uint8_t tid[STUN_TID_LEN];
	int n;

	stun_tid_random(tid);
	stun_writer_init(&w, buf, sizeof buf, TURN_SEND, STUN_INDICATION, tid);
	stun_put_addr(&w, STUN_A_XOR_PEER_ADDRESS, peer);
	stun_put_attr(&w, STUN_A_DATA, data, len);
	n = stun_writer_finish(&w);
	if (n < 0)
		return set_err(s, 0, "cannot build a Send indication: %s", stun_strerror(n));
	return probe_send(s->ps, buf, (size_t)n, s->err, sizeof s->err);
}

int tc_send_channel(struct tc_sess *s, uint16_t ch, const void *data, size_t len)
{
	static _Thread_local uint8_t buf[4 + 65536 + 4];
	int n;

	if (len > 65535)
		return set_err(s, 0, "%s", "ChannelData longer than 65535 bytes");
	memcpy(buf + 4, data, len);
	n = turn_chdata_wrap(buf, sizeof buf, ch, (uint16_t)len, s->ps->tp != TP_UDP);
	if (n < 0)
		return set_err(s, 0, "%s", "cannot build ChannelData");
	return probe_send(s->ps, buf, (size_t)n, s->err, sizeof s->err);
}

int tc_recv_data(struct tc_sess *s, double deadline, struct sockaddr_storage *peer,
		 const uint8_t **data, size_t *len, const char **via)
{
	static _Thread_local struct probe_frame f;

	for (;;) {
		int r = probe_recv(s->ps, &f, deadline, s->err, sizeof s->err);
		if (r <= 0)
			return r;
		if (f.kind == FRAME_CHDATA) {
			int i;
			for (i = 0; i < s->nch && s->ch[i] != f.channel; i++)
				;
			if (i == s->nch)
				continue; /* not a channel of ours: ignore, as RFC 8656 says */
			*peer = s->ch_peer[i];
			*data = f.data;
			*len = f.data_len;
			*via = "channel";
			return 1;
		}
		if (f.m.method == TURN_DATA && f.m.cls == STUN_INDICATION) {
			const struct stun_attr *d = stun_msg_attr(&f.m, STUN_A_DATA);
			if (!d || stun_msg_addr(&f.m, STUN_A_XOR_PEER_ADDRESS, peer))
				continue; /* malformed: RFC 8656 §11.6 says discard */
			*data = d->val;
			*len = d->len;
			*via = "data-indication";
			return 1;
		}
	}
}
