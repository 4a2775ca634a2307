/* ms_data.c: [MS-TURN] toward the client: datagrams from peers, or a TCP
 * allocation's peer frames (raw to the client when they come from its
 * active destination, else a Data Indication), and the answers every [MS-TURN] handler shares: errors,
 * the digest challenge, and the framing in front of them on a stream. */
#include <string.h>

#include "handlers/datapath.h"
#include "handlers/handlers.h"
#include "handlers/ms.h"
#include "io/conn.h"

int ms_check_key(const struct stun_msg *m, const struct alloc_ms *ms)
{
	return stun_msg_check_integrity(m, ms->key, ms->keylen);
}

void ms_reply(struct server *s, const struct request *req, const uint8_t *msg, size_t n)
{
	if (n > MS_OBUF_CAP(s))
		return;
	if (msg != MS_OBUF(s))
		memmove(MS_OBUF(s), msg, n);
	if (req->conn) { /* [MS-TURN] 2.1.4: a control message */
		msturn_frame_hdr(s->obuf, MSTURN_FRAME_CONTROL, (uint16_t)n);
		server_send_client(s, req->l, req->conn, req->src, s->obuf, n + MSTURN_FRAME_HDR);
	} else {
		server_send_client(s, req->l, req->conn, req->src, MS_OBUF(s), n);
	}
}

/* 0x0003 -> 0x0113, 0x0006 -> 0x0116: the error class bits. */
static uint16_t error_type(const struct stun_msg *m)
{
	return (uint16_t)(m->type | 0x0110);
}

static size_t finish(struct stun_writer *w)
{
	int n = stun_writer_finish(w);
	return n > 0 ? (size_t)n : 0;
}

/* Errors carry no more than the code and, for 420, the list: to a sender
 * without credentials an answer is not larger than needed (R15). */
size_t ms_error(struct server *s, const struct stun_msg *m, int code, const char *reason,
		const struct auth_ok *who)
{
	struct stun_writer w;

	msturn_writer_init(&w, MS_OBUF(s), MS_OBUF_CAP(s), error_type(m), m->tid);
	stun_put_error(&w, code, reason);
	if (code == 420)
		stun_put_unknown(&w, m);
	if (who)
		msturn_put_integrity(&w, who->key, who->keylen,
				     m->mi >= 0 && m->attrs[m->mi].len == 32);
	return finish(&w);
}

/* [MS-TURN] 3.1.12, the digest challenge: 401 (or 438) with NONCE and
 * REALM at their [MS-TURN] code points. Call with the reload lock held. */
size_t ms_challenge(struct server *s, const struct stun_msg *m, int code, const char *reason,
		    const struct sockaddr *client)
{
	const struct auth *au = s->conf->auth;
	const char *realm = auth_realm(au);
	char nonce[128];
	size_t nlen = auth_nonce_make(au, client, server_now(s), nonce, sizeof nonce);
	struct stun_writer w;

	msturn_writer_init(&w, MS_OBUF(s), MS_OBUF_CAP(s), error_type(m), m->tid);
	stun_put_error(&w, code, reason);
	stun_put_attr(&w, STUN_A_NONCE, nonce, nlen);
	stun_put_attr(&w, STUN_A_REALM, realm, strlen(realm));
	return finish(&w);
}

/* A datagram from a peer to an [MS-TURN] allocation's relayed address:
 * with a permission (a Send or Set Active Destination toward its IP),
 * within the bandwidth cap. From the active destination it goes to the
 * client as it came (over TCP behind a data frame header written into the
 * headroom): nothing is allocated or copied. From other peers it goes in
 * a Data Indication with REMOTE-ADDRESS. */
void ms_peer_data(void *arg, void *tag, uint8_t *data, size_t n, size_t room,
		  const struct sockaddr *from)
{
	struct server *s = arg;
	struct alloc *a = tag;
	uint64_t now = server_now(s);
	struct peer p;

	(void)room;
	peer_from_sockaddr(&p, from);
	if (!datapath_from_peer(s, a, &p, n, now))
		return;
	if (a->ms->active && peer_same(&a->ms->dest, &p) && n <= 0xffff) {
		if (a->key.conn) {
			uint8_t *frame = data - MSTURN_FRAME_HDR;
			msturn_frame_hdr(frame, MSTURN_FRAME_DATA, (uint16_t)n);
			server_send_alloc(s, a, frame, n + MSTURN_FRAME_HDR);
		} else {
			server_send_alloc(s, a, data, n);
		}
	} else {
		struct stun_writer w;
		uint8_t tid[MSTURN_TID_LEN];
		uint8_t *msg = s->ibuf + MSTURN_FRAME_HDR;
		int len;

		msturn_tid_random(tid);
		msturn_writer_init(&w, msg, sizeof s->ibuf - MSTURN_FRAME_HDR, MSTURN_DATA_IND, tid);
		stun_put_addr(&w, MS_A_REMOTE_ADDRESS, from);
		stun_put_attr(&w, MS_A_DATA, data, n);
		if ((len = stun_writer_finish(&w)) <= 0) {
			s->st.drops[DROP_SEND_FAILED]++;
			return;
		}
		if (a->key.conn) {
			msturn_frame_hdr(s->ibuf, MSTURN_FRAME_CONTROL, (uint16_t)len);
			server_send_alloc(s, a, s->ibuf, (size_t)len + MSTURN_FRAME_HDR);
		} else {
			server_send_alloc(s, a, msg, (size_t)len);
		}
	}
	s->st.pkts_to_client++;
	s->st.bytes_to_client += (uint64_t)n;
}
