/* mstcp.c: [MS-TURN] TCP allocations' sockets (mstcp.h). Unlike RFC 6062
 * (tcprelayed.c) nothing is spliced: every byte passes through the
 * client's own control connection, in Send requests and Data Indications
 * (or data frames after Set Active Destination), so a peer connection is
 * only a socket, a timer and a frame buffer. Streams run on worker 0 only
 * (worker.c), like everything else a stream client owns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/mstcp.h"
#include "io/stream.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "util/refuse.h"

/* MP_WAITING: a peer connected in before the client permitted its IP
 * (ICE's checks cross: the peer's connection can arrive before the
 * client's first Send toward it). It is not read, so nothing of it reaches
 * the client, until the permission comes (ms_tcp_admit) or
 * MSTCP_PERMIT_WAIT_MS have passed (reset). */
enum mp_state { MP_CONNECTING, MP_WAITING, MP_OPEN, MP_CLOSING };

struct ms_peer {
	uv_tcp_t tcp;
	uv_timer_t timer;            /* connect timeout, then the idle one */
	uv_connect_t creq;
	struct ms_peer *next;
	struct ms_tcp *t;            /* until closed */
	struct sockaddr_storage peer;
	uint8_t state, refs;         /* refs: the two handles */
	size_t off, have;            /* the frames not handed up yet: buf[HEADROOM + off, + have) */
	uint8_t buf[MSTCP_HEADROOM + MSTCP_MAX_FRAME + 2];
};

struct ms_tcp {
	uv_tcp_t listener;
	struct refuse_wait refusing;
	struct ms_tcp_env *env;
	void *tag;
	struct sockaddr_storage addr; /* the bound relayed address */
	struct ms_peer *peers;
	uint32_t npeers;
	int port;
};

long ms_tcp_frame_len(const uint8_t *p, size_t have, size_t max)
{
	size_t n;

	if (have < 2)
		return 0;
	n = 2 + ((size_t)p[0] << 8 | p[1]);
	if (n > max)
		return -1;
	return have < n ? 0 : (long)n;
}

uint32_t ms_tcp_count(const struct ms_tcp *t) { return t->npeers; }

static void mp_handle_closed(uv_handle_t *h)
{
	struct ms_peer *mp = h->data;
	if (--mp->refs == 0)
		free(mp);
}

/* reset: RST instead of FIN (a refused or failed connection). */
static void mp_close(struct ms_peer *mp, int reset)
{
	struct ms_peer **pp;

	if (mp->state == MP_CLOSING)
		return;
	mp->state = MP_CLOSING;
	for (pp = &mp->t->peers; *pp && *pp != mp; pp = &(*pp)->next)
		;
	if (*pp) {
		*pp = mp->next;
		mp->t->npeers--;
	}
	uv_close((uv_handle_t *)&mp->timer, mp_handle_closed);
	if (!reset || uv_tcp_close_reset(&mp->tcp, mp_handle_closed))
		uv_close((uv_handle_t *)&mp->tcp, mp_handle_closed);
}

static struct ms_peer *mp_new(struct ms_tcp *t)
{
	struct ms_peer *mp = calloc(1, sizeof *mp);

	if (!mp)
		return NULL;
	mp->t = t;
	uv_tcp_init(t->env->loop, &mp->tcp);
	uv_timer_init(t->env->loop, &mp->timer);
	mp->tcp.data = mp->timer.data = mp;
	mp->refs = 2;
	mp->next = t->peers;
	t->peers = mp;
	t->npeers++;
	return mp;
}

static struct ms_peer *mp_find(const struct ms_tcp *t, const struct sockaddr *peer)
{
	for (struct ms_peer *mp = t->peers; mp; mp = mp->next)
		if (netaddr_equal((const struct sockaddr *)&mp->peer, peer))
			return mp;
	return NULL;
}

/* At the cap, a connection that waits for a permission gives its place
 * to one the client wants: else anyone who can reach the relayed address
 * could keep the allocation's places filled with connections it will
 * never permit. The oldest goes (the list is newest first). 1 if one went. */
static int mp_evict_waiting(struct ms_tcp *t)
{
	struct ms_peer *old = NULL;

	for (struct ms_peer *mp = t->peers; mp; mp = mp->next)
		if (mp->state == MP_WAITING)
			old = mp;
	if (!old)
		return 0;
	t->env->st->drops[DROP_NO_PERMISSION]++;
	mp_close(old, 1);
	return 1;
}

static void on_idle(uv_timer_t *tm)
{
	struct ms_peer *mp = tm->data;

	log_debug("[MS-TURN] TCP peer connection idle for %d s", MSTCP_IDLE_TIMEOUT_MS / 1000);
	mp->t->env->st->limits[LIMIT_IDLE]++;
	mp_close(mp, 0);
}

static void mp_busy(struct ms_peer *mp)
{
	uv_timer_start(&mp->timer, on_idle, MSTCP_IDLE_TIMEOUT_MS, 0);
}

/* ---- from the peer ---- */

static void mp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct ms_peer *mp = h->data;
	size_t end = MSTCP_HEADROOM + mp->off + mp->have;

	(void)hint;
	if (end == sizeof mp->buf && mp->off) { /* make room: what is left to the front */
		memmove(mp->buf + MSTCP_HEADROOM, mp->buf + MSTCP_HEADROOM + mp->off, mp->have);
		mp->off = 0;
		end = MSTCP_HEADROOM + mp->have;
	}
	b->base = (char *)mp->buf + end;
	b->len = sizeof mp->buf - end;
}

static void mp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct ms_peer *mp = st->data;
	struct ms_tcp *t = mp->t;
	long f;

	(void)b;
	if (n < 0) {
		mp_close(mp, n != UV_EOF);
		return;
	}
	mp_busy(mp);
	mp->have += (size_t)n;
	while (mp->state == MP_OPEN &&
	       (f = ms_tcp_frame_len(mp->buf + MSTCP_HEADROOM + mp->off, mp->have,
				     MSTCP_MAX_FRAME + 2)) != 0) {
		uint8_t *p = mp->buf + MSTCP_HEADROOM + mp->off;
		if (f < 0) {
			log_debug("[MS-TURN] TCP peer sent a frame over %d bytes", MSTCP_MAX_FRAME);
			t->env->st->drops[DROP_MALFORMED]++;
			mp_close(mp, 1);
			return;
		}
		mp->off += (size_t)f;
		mp->have -= (size_t)f;
		/* The headroom, and the frames before this one, are the callee's. */
		t->env->cb->recv(t->env->arg, t->tag, p, (size_t)f,
				 sizeof mp->buf - (size_t)(p - mp->buf), (struct sockaddr *)&mp->peer);
	}
	if (!mp->have)
		mp->off = 0;
}

static int mp_start(struct ms_peer *mp)
{
	uv_tcp_nodelay(&mp->tcp, 1); /* R15a */
	mp->state = MP_OPEN;
	mp_busy(mp);
	return uv_read_start((uv_stream_t *)&mp->tcp, mp_alloc, mp_read);
}

/* ---- toward the peer ---- */

static void on_connected(uv_connect_t *req, int status)
{
	struct ms_peer *mp = req->data;

	if (mp->state == MP_CLOSING)
		return;
	if (status < 0) {
		log_debug("[MS-TURN] TCP connection to a peer failed: %s", uv_strerror(status));
		mp_close(mp, 1);
		return;
	}
	if (mp_start(mp))
		mp_close(mp, 1);
}

static void on_permit_timeout(uv_timer_t *tm)
{
	struct ms_peer *mp = tm->data;

	log_debug("[MS-TURN] TCP peer connection not permitted within %d s",
		  MSTCP_PERMIT_WAIT_MS / 1000);
	mp->t->env->st->drops[DROP_NO_PERMISSION]++;
	mp_close(mp, 1);
}

void ms_tcp_admit(struct ms_tcp *t)
{
	struct ms_peer *mp, *next;

	for (mp = t->peers; mp; mp = next) {
		next = mp->next;
		if (mp->state == MP_WAITING &&
		    !t->env->cb->peer_in(t->env->arg, t->tag, (struct sockaddr *)&mp->peer) &&
		    mp_start(mp))
			mp_close(mp, 1);
	}
}

static void on_connect_timeout(uv_timer_t *tm)
{
	struct ms_peer *mp = tm->data;

	mp->t->env->st->limits[LIMIT_CONNECT_TIMEOUT]++;
	mp_close(mp, 1);
}

/* From the relayed address itself: same IP and port as the listener,
 * which SO_REUSEPORT on both allows. */
static int mp_connect(struct ms_tcp *t, const struct sockaddr *peer, struct ms_peer **out)
{
	struct ms_peer *mp;
	int fd, one = 1, err;

	fd = socket(peer->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&t->addr, netaddr_len((struct sockaddr *)&t->addr))) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!(mp = mp_new(t))) {
		close(fd);
		return -ENOMEM;
	}
	memcpy(&mp->peer, peer, netaddr_len(peer));
	mp->state = MP_CONNECTING;
	if ((err = uv_tcp_open(&mp->tcp, fd))) {
		close(fd);
		mp_close(mp, 0);
		return err;
	}
	mp->creq.data = mp;
	if ((err = uv_tcp_connect(&mp->creq, &mp->tcp, peer, on_connected))) {
		mp_close(mp, 0);
		return err;
	}
	uv_timer_start(&mp->timer, on_connect_timeout, MSTCP_CONNECT_TIMEOUT_MS, 0);
	*out = mp;
	return 0;
}

int ms_tcp_send(struct ms_tcp *t, const struct sockaddr *peer, const uint8_t *data, size_t len)
{
	struct ms_peer *mp = mp_find(t, peer);
	int err;

	if (!mp) {
		if (peer->sa_family != t->addr.ss_family)
			return -EAFNOSUPPORT;
		if (t->npeers >= t->env->max_peers && !mp_evict_waiting(t)) {
			t->env->st->limits[LIMIT_MAX_CONNECTS]++;
			return -ENOSPC;
		}
		if ((err = mp_connect(t, peer, &mp)))
			return err;
	}
	if (mp->state == MP_WAITING)
		return -EACCES; /* the caller admits it first, when it permits */
	/* libuv queues writes on a connecting handle and sends them once
	 * it is up. */
	if (uv_stream_get_write_queue_size((uv_stream_t *)&mp->tcp) > MSTCP_QUEUE_HIGH)
		return -ENOBUFS;
	if ((err = stream_write((uv_stream_t *)&mp->tcp, data, len))) {
		mp_close(mp, 1);
		return err;
	}
	if (mp->state == MP_OPEN)
		mp_busy(mp);
	return 0;
}

/* ---- peers connecting in ---- */

static void on_peer(uv_stream_t *l, int status)
{
	struct ms_tcp *t = l->data;
	struct ms_peer *mp;
	struct sockaddr_storage from;
	int len = sizeof from, permitted;

	if (status < 0)
		return;
	if (!(mp = mp_new(t))) {
		t->env->st->limits[LIMIT_NO_MEMORY]++;
		accept_refuse(l, &t->refusing);
		return;
	}
	if (uv_accept(l, (uv_stream_t *)&mp->tcp) ||
	    uv_tcp_getpeername(&mp->tcp, (struct sockaddr *)&from, &len)) {
		mp_close(mp, 1);
		return;
	}
	mp->peer = from;
	permitted = !t->env->cb->peer_in(t->env->arg, t->tag, (struct sockaddr *)&from);
	if (t->npeers > t->env->max_peers && !(permitted && mp_evict_waiting(t))) {
		t->env->st->limits[LIMIT_MAX_CONNECTS]++;
		mp_close(mp, 1);
		return;
	}
	if (!permitted) {
		mp->state = MP_WAITING;
		uv_timer_start(&mp->timer, on_permit_timeout, MSTCP_PERMIT_WAIT_MS, 0);
		return;
	}
	if (mp_start(mp))
		mp_close(mp, 1);
}

/* ---- the relayed socket ---- */

int ms_tcp_open(struct ms_tcp **out, struct ms_tcp_env *env, int fam, void *tag, int *port)
{
	struct ms_tcp *t = calloc(1, sizeof *t);
	int fd, len, err;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	if ((fd = ports_listen_tcp(env->ports, fam, port)) < 0) {
		free(t);
		return fd;
	}
	t->env = env;
	t->tag = tag;
	t->port = *port;
	uv_tcp_init(env->loop, &t->listener);
	t->listener.data = t;
	if ((err = uv_tcp_open(&t->listener, fd))) {
		close(fd);
		ms_tcp_close(t);
		return err;
	}
	len = sizeof t->addr;
	uv_tcp_getsockname(&t->listener, (struct sockaddr *)&t->addr, &len);
	/* Already listening (the port check needed it): this only watches. */
	if ((err = uv_listen((uv_stream_t *)&t->listener, 16, on_peer))) {
		ms_tcp_close(t);
		return err;
	}
	*out = t;
	return 0;
}

static void t_closed(uv_handle_t *h) { free(h->data); }

void ms_tcp_close(struct ms_tcp *t)
{
	while (t->peers)
		mp_close(t->peers, 0); /* unlinks itself */
	accept_forget(&t->refusing);
	uv_close((uv_handle_t *)&t->listener, t_closed);
	ports_release_tcp(t->port); /* the socket is closed now, not at the callback */
}
