/* conn.h: one accepted stream (TCP or TLS). It carries STUN messages and
 * ChannelData frames back to back, reassembled in the connection's own
 * buffer and handed to the listener's on_msg; or, once piped (an RFC 6062
 * data connection), raw bytes to whoever it is piped to. */
#ifndef EDGELAB_CONN_H
#define EDGELAB_CONN_H

#include <openssl/ssl.h>
#include <uv.h>

#include "io/listener.h"

/* The largest frame a stream carries: a STUN message with a 16-bit
 * length, or ChannelData of 65535 bytes padded to 4 (RFC 8656 §12.5). An
 * [MS-TURN] frame (4-byte header + 65535) is shorter. */
#define CONN_FRAME_MAX (20 + 65535)

/* A stream's framing, learnt from its first frame. IETF: STUN messages
 * and ChannelData back to back. MS: [MS-TURN] 2.1.4, a 4-byte header
 * (type 2 control, 3 end-to-end data; reserved; length) before each
 * message or piece of data; frames go up with their header, and what is
 * sent must carry one. A connection whose first bytes are [MS-TURN]'s
 * pseudo-TLS ClientHello is answered the fixed ServerHello and is MS. */
enum conn_framing { CONN_FRAMING_UNKNOWN, CONN_FRAMING_IETF, CONN_FRAMING_MS };

/* Where a piped connection's bytes go. eof: the client half-closed (the
 * connection stays open for writing). closed: the connection is gone. */
struct conn_pipe {
	void (*data)(void *arg, const uint8_t *p, size_t n);
	void (*eof)(void *arg);
	void (*closed)(void *arg);
};

struct conn {
	uv_tcp_t tcp;
	uv_write_t fence;      /* over out_cap: says when the queue has drained */
	struct conn *prev, *next;
	struct listener *l;
	struct sockaddr_storage peer, local;
	SSL *ssl;
	BIO *rbio, *wbio;      /* TLS: ciphertext in and out */
	const struct conn_pipe *pipe;
	void *pipe_arg;
	int held;              /* an allocation or a pipe uses it: no idle timeout */
	int admitted;          /* counted in the listener's admission */
	uint8_t framing;       /* enum conn_framing */
	uint8_t sniffing;      /* the first bytes: pseudo-TLS or not? */
	uint64_t born, last_rx, frame_since, full_since; /* loop ms; 0: not so */
	/* A frame split across reads waits here; whole frames are handed up
	 * from the read buffer itself. Grown on demand, up to CONN_FRAME_MAX:
	 * an idle connection holds no buffer. */
	uint8_t *rbuf;
	size_t rlen, rcap;
};

/* Accept a connection on l's socket and start reading it. */
void conn_accept(struct listener *l);

/* Write (TLS-encrypted where the stream is TLS). 0, or a negative errno
 * after which the connection is closing. */
int conn_send(struct conn *c, const uint8_t *data, size_t len);
/* Close; the listener's on_conn_closing runs now, its on_conn_closed (or
 * the pipe's closed) from the close callback. */
void conn_close(struct conn *c);
int conn_closing(const struct conn *c);

/* An allocation lives on c: it no longer times out for idleness. */
void conn_hold(struct conn *c);
/* The stream listener's timer: close what outlived a limit. */
void conn_sweep(struct listener *l, uint64_t now);

/* Raw bytes from now on (NULL: back to nobody, reading stops). */
void conn_set_pipe(struct conn *c, const struct conn_pipe *p, void *arg);
/* Back-pressure for a pipe: stop and start reading; bytes queued to write. */
int conn_pause(struct conn *c);
int conn_resume(struct conn *c);
size_t conn_queued(struct conn *c);
/* cb runs once everything queued so far has been written. */
int conn_fence(struct conn *c, uv_write_t *req, uv_write_cb cb);
/* Half-close: TLS close_notify, then FIN, behind what is queued. */
int conn_shutdown(struct conn *c, uv_shutdown_t *req, uv_shutdown_cb cb);

#endif
