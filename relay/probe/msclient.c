/* msclient.c: the blocking [MS-TURN] client session (msclient.h): the
 * transaction with retransmits, the digest challenge, signed requests and
 * Set Active Destination, over UDP or the 2.1.4 stream framing. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msclient.h"

int msc_fail(struct ms_client *c, const char *fmt, const char *a)
{
	snprintf(c->err, sizeof c->err, fmt, a);
	return -1;
}

static int wait_in(int fd, double deadline)
{
	struct pollfd p = {fd, POLLIN, 0};
	double left = deadline - probe_now_ms();

	return left > 0 ? poll(&p, 1, (int)left + 1) : 0;
}

/* Exactly n bytes from a stream: 0, or -1 at the deadline, -2 when the
 * server closed, -3 on a reset or other error (errno). */
int msc_read_n(struct ms_client *c, uint8_t *buf, size_t n, double deadline)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r;
		if (wait_in(c->fd, deadline) <= 0)
			return -1;
		if ((r = recv(c->fd, buf + got, n - got, 0)) <= 0)
			return r == 0 ? -2 : -3;
		got += (size_t)r;
	}
	return 0;
}

int msc_send(struct ms_client *c, const uint8_t *msg, size_t n)
{
	uint8_t frame[MSTURN_FRAME_HDR + 2048];

	if (!c->stream)
		return sendto(c->fd, msg, n, 0, (struct sockaddr *)&c->server,
			      netaddr_len((struct sockaddr *)&c->server)) == (ssize_t)n ? 0 : -1;
	if (n > sizeof frame - MSTURN_FRAME_HDR)
		return -1;
	msturn_frame_hdr(frame, MSTURN_FRAME_CONTROL, (uint16_t)n);
	memcpy(frame + MSTURN_FRAME_HDR, msg, n);
	return send(c->fd, frame, n + MSTURN_FRAME_HDR, 0) == (ssize_t)(n + MSTURN_FRAME_HDR)
		       ? 0 : -1;
}

/* One datagram into c->rbuf, its sender into c->src. */
static ssize_t recv_dgram(struct ms_client *c)
{
	socklen_t sl = sizeof c->src;

	return recvfrom(c->fd, c->rbuf, c->rcap, 0, (struct sockaddr *)&c->src, &sl);
}

/* The answer to req (same 16-byte transaction id) into c->m; UDP
 * retransmits from 250 ms, doubling. */
int msc_transact(struct ms_client *c, const uint8_t *req, size_t n)
{
	double end = probe_now_ms() + c->timeout_ms, rto = 250, next;

	if (msc_send(c, req, n))
		return msc_fail(c, "%s", "cannot send");
	next = probe_now_ms() + rto;
	for (;;) {
		double until = c->stream || next > end ? end : next;
		size_t len;

		if (probe_now_ms() >= end)
			return msc_fail(c, "%s", "no answer before the timeout");
		if (c->stream) {
			uint8_t hdr[MSTURN_FRAME_HDR];
			if (msc_read_n(c, hdr, sizeof hdr, end))
				return msc_fail(c, "%s", "no answer (stream closed or timed out)");
			if (!(len = msturn_frame_len(hdr, sizeof hdr)))
				return msc_fail(c, "%s", "not an [MS-TURN] framing header");
			len -= MSTURN_FRAME_HDR;
			if (msc_read_n(c, c->rbuf, len, end))
				return msc_fail(c, "%s", "frame cut short");
			if (hdr[0] != MSTURN_FRAME_CONTROL)
				continue;
		} else {
			ssize_t r;
			if (wait_in(c->fd, until) <= 0) {
				if (probe_now_ms() >= next) {
					rto *= 2;
					next = probe_now_ms() + rto;
					if (msc_send(c, req, n))
						return msc_fail(c, "%s", "cannot send");
				}
				continue;
			}
			if ((r = recv_dgram(c)) <= 0)
				return msc_fail(c, "%s", strerror(errno));
			len = (size_t)r;
		}
		if (!msturn_parse(&c->m, c->rbuf, len) && !memcmp(c->m.tid, req + 4, MSTURN_TID_LEN))
			return 0;
	}
}

int msc_allocate(struct ms_client *c, long lifetime, int *code)
{
	uint8_t req[2048], tid[MSTURN_TID_LEN];
	struct stun_writer w;
	const struct stun_attr *a;
	int n;

	*code = 0;
	msturn_tid_random(tid);
	msturn_writer_init(&w, req, sizeof req, MSTURN_ALLOCATE, tid);
	stun_put_u32(&w, MS_A_VERSION, c->version);
	if (lifetime >= 0)
		stun_put_u32(&w, MS_A_LIFETIME, (uint32_t)lifetime);
	if (c->version >= 4 && c->want_v6) /* family IPv6, 3 reserved bytes */
		stun_put_u32(&w, MS_A_REQUESTED_ADDRESS_FAMILY, 0x02000000u);
	if (c->authed) {
		stun_put_str(&w, MS_A_USERNAME, c->user);
		stun_put_attr(&w, STUN_A_NONCE, c->nonce, c->noncelen);
		stun_put_str(&w, STUN_A_REALM, c->realm);
		msturn_put_integrity(&w, c->key, 16, c->sha256);
	}
	if ((n = stun_writer_finish(&w)) < 0)
		return msc_fail(c, "%s", "request does not fit");
	if (msc_transact(c, req, (size_t)n))
		return -1;
	if (c->m.type == MSTURN_ALLOCATE_OK)
		return 0;
	if (c->m.type != MSTURN_ALLOCATE_ERR || !(a = stun_msg_attr(&c->m, MS_A_ERROR_CODE)) ||
	    stun_attr_error(a, code, NULL, NULL))
		return msc_fail(c, "%s", "neither a success nor an error response");
	snprintf(c->err, sizeof c->err, "Allocate: error %d", *code);
	return -1;
}

int msc_challenge(struct ms_client *c)
{
	const struct stun_attr *r = stun_msg_attr(&c->m, STUN_A_REALM);
	const struct stun_attr *nn = stun_msg_attr(&c->m, STUN_A_NONCE);

	if (!r || !nn || r->len >= sizeof c->realm || nn->len > sizeof c->nonce)
		return msc_fail(c, "%s", "401 without NONCE and REALM");
	memcpy(c->realm, r->val, r->len);
	c->realm[r->len] = '\0';
	memcpy(c->nonce, nn->val, nn->len);
	c->noncelen = nn->len;
	if (stun_longterm_key(STUN_PW_MD5, c->user, c->realm, c->pass, c->key) != 16)
		return msc_fail(c, "%s", "cannot compute the key");
	c->authed = 1;
	return 0;
}

int msc_pseudo_tls(struct ms_client *c)
{
	uint8_t hello[MSTURN_PTLS_HELLO_LEN], want[MSTURN_PTLS_REPLY_LEN], got[MSTURN_PTLS_REPLY_LEN];

	msturn_ptls_hello(hello);
	msturn_ptls_reply(want);
	if (send(c->fd, hello, sizeof hello, 0) != (ssize_t)sizeof hello)
		return msc_fail(c, "%s", "cannot send the pseudo-TLS ClientHello");
	switch (msc_read_n(c, got, sizeof got, probe_now_ms() + c->timeout_ms)) {
	case 0: break;
	case -1: return msc_fail(c, "%s", "no pseudo-TLS ServerHello before the timeout");
	case -2: return msc_fail(c, "%s", "connection closed before the pseudo-TLS ServerHello");
	default: return msc_fail(c, "connection %s before the pseudo-TLS ServerHello",
			     errno == ECONNRESET ? "reset" : strerror(errno));
	}
	return memcmp(got, want, sizeof want) ? msc_fail(c, "%s", "pseudo-TLS answer is not the fixed one") : 0;
}

/* A signed request on the allocation (Send, Set Active Destination): the
 * next MS-Sequence Number, USERNAME, REALM, the integrity. */
int msc_signed(struct ms_client *c, uint16_t type, const struct sockaddr *dest, const void *data,
		      size_t len, uint8_t *out, size_t cap)
{
	uint8_t tid[MSTURN_TID_LEN];
	struct stun_writer w;

	msturn_tid_random(tid);
	msturn_writer_init(&w, out, cap, type, tid);
	stun_put_str(&w, MS_A_USERNAME, c->user);
	if (c->have_seq)
		msturn_put_seq(&w, c->conn_id, ++c->seq);
	stun_put_str(&w, STUN_A_REALM, c->realm);
	if (dest)
		stun_put_addr(&w, MS_A_DESTINATION_ADDRESS, dest);
	if (data)
		stun_put_attr(&w, MS_A_DATA, data, len);
	msturn_put_integrity(&w, c->key, 16, c->sha256);
	return stun_writer_finish(&w);
}

int msc_send_data(struct ms_client *c, const uint8_t *data, size_t n, const uint8_t *id)
{
	uint8_t buf[MSTURN_FRAME_HDR + MSTURN_MUX_HDR + 2048];
	size_t h = c->stream ? MSTURN_FRAME_HDR : 0, len = n;
	ssize_t r;

	if (n > 2048)
		return -1;
	if (id) { /* [MS-TURN] 3.2.4.6 */
		msturn_mux_hdr(buf + h, id, n);
		len += MSTURN_MUX_HDR;
	}
	memcpy(buf + h + (len - n), data, n);
	if (c->stream) {
		msturn_frame_hdr(buf, MSTURN_FRAME_DATA, (uint16_t)len);
		r = send(c->fd, buf, h + len, 0);
	} else {
		r = sendto(c->fd, buf, len, 0, (struct sockaddr *)&c->server,
			   netaddr_len((struct sockaddr *)&c->server));
	}
	return r == (ssize_t)(h + len) ? 0 : -1;
}

/* The next thing from the server: an [MS-TURN] message (1, in c->m), raw
 * data (2, n bytes at c->rbuf), or -1 at the deadline. */
int msc_next_in(struct ms_client *c, double end, size_t *n)
{
	if (c->stream) {
		uint8_t hdr[MSTURN_FRAME_HDR];
		if (msc_read_n(c, hdr, sizeof hdr, end) || !(*n = msturn_frame_len(hdr, sizeof hdr)))
			return -1;
		*n -= MSTURN_FRAME_HDR;
		if (msc_read_n(c, c->rbuf, *n, end))
			return -1;
		if (hdr[0] == MSTURN_FRAME_DATA)
			return 2;
	} else {
		ssize_t r;
		if (wait_in(c->fd, end) <= 0 || (r = recv_dgram(c)) <= 0)
			return -1;
		*n = (size_t)r;
	}
	return msturn_parse(&c->m, c->rbuf, *n) ? 2 : 1;
}


int msc_start(struct ms_client *c, long lifetime, int *code)
{
	const uint8_t *id;
	uint32_t u;

	if (msc_allocate(c, lifetime, code) &&
	    (*code != 401 || msc_challenge(c) || msc_allocate(c, lifetime, code)))
		return -1;
	c->mux = !msturn_mux_session(&c->m, &id);
	if (c->mux)
		memcpy(c->mux_id, id, MSTURN_MUX_ID_LEN);
	c->have_seq = !msturn_seq(&c->m, &id, &u);
	if (c->have_seq) {
		memcpy(c->conn_id, id, MSTURN_CONN_ID_LEN);
		c->seq = u;
	}
	return 0;
}

int msc_set_active(struct ms_client *c, const struct sockaddr_storage *peer)
{
	uint8_t req[512];
	int len = msc_signed(c, MSTURN_SET_ACTIVE_DEST, (const struct sockaddr *)peer, NULL, 0, req,
			     sizeof req);

	if (len < 0 || msc_transact(c, req, (size_t)len))
		return -1;
	if (c->m.type != MSTURN_SET_ACTIVE_DEST_OK)
		return msc_fail(c, "%s", "Set Active Destination refused");
	if (stun_msg_check_integrity(&c->m, c->key, 16))
		return msc_fail(c, "%s", "Set Active Destination answer's integrity does not verify");
	return 0;
}
