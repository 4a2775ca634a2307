/* ctl_server.c: the control socket's server side, on the loop; see
 * ctl.h. A connection reads one line, runs it through the handler and
 * writes the answer back, all within the server's timeout. The answer
 * buffer is allocated per connection: the control socket is not the
 * packet path. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_OUT_MAX (64 * 1024)

struct ctl_conn {
	uv_pipe_t pipe;
	uv_timer_t timer;
	uv_write_t wr;
	struct ctl_server *srv;
	char in[512];
	size_t inlen;
	char *out;
	const char *refusal;   /* answer this instead of running the line */
	int done;
	int open_handles;      /* freed when both handles have closed */
};

static void conn_handle_closed(uv_handle_t *h)
{
	struct ctl_conn *c = h->data;

	if (--c->open_handles)
		return;
	free(c->out);
	free(c);
}

static void conn_close(struct ctl_conn *c)
{
	if (uv_is_closing((uv_handle_t *)&c->pipe))
		return;
	c->srv->nconns--; /* its socket goes now: the slot is free for the next */
	uv_close((uv_handle_t *)&c->pipe, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void conn_written(uv_write_t *w, int status)
{
	(void)status;
	conn_close(w->data);
}

/* Answer text and close once it is written (or the timer fires). */
static void conn_answer(struct ctl_conn *c, const char *text)
{
	uv_buf_t ob = uv_buf_init((char *)text, (unsigned)strlen(text));

	c->done = 1;
	uv_read_stop((uv_stream_t *)&c->pipe);
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->pipe, &ob, 1, conn_written) < 0)
		conn_close(c);
}

static void conn_timeout(uv_timer_t *t)
{
	struct ctl_conn *c = t->data;

	c->srv->st.timeouts++;
	conn_close(c);
}

static void conn_alloc(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
	struct ctl_conn *c = h->data;

	(void)sug;
	b->base = c->in + c->inlen;
	b->len = sizeof(c->in) - 1 - c->inlen;
}

static void conn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct ctl_conn *c = st->data;

	(void)b;
	if (c->done)
		return;
	if (n > 0)
		c->inlen += (size_t)n;
	c->in[c->inlen] = 0;
	if (n >= 0 && !strchr(c->in, '\n') && c->inlen < sizeof(c->in) - 1)
		return;
	if (n < 0 && c->inlen == 0) {
		conn_close(c);
		return;
	}
	/* Refused clients get their answer after their line too: closing
	 * before they wrote would cost them the answer (EPIPE). */
	if (c->refusal) {
		conn_answer(c, c->refusal);
		return;
	}
	c->out = malloc(CTL_OUT_MAX);
	if (!c->out) {
		conn_close(c);
		return;
	}
	c->srv->handle(c->srv->arg, c->in, c->out, CTL_OUT_MAX);
	conn_answer(c, c->out);
}

/* Root or hlb's own uid; anyone else is refused whatever the socket's
 * mode lets through (a chmod, a passed descriptor). */
static int peer_allowed(uv_pipe_t *p, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	uv_os_fd_t fd;

	*uid = (uid_t)-1;
	if (uv_fileno((uv_handle_t *)p, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return 0;
	*uid = cr.uid;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl_server *s = server->data;
	struct ctl_conn *c;
	uid_t uid;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		s->st.busy++;
		accept_refuse(server, &s->refusing);
		return;
	}
	c->srv = s;
	c->open_handles = 2;
	s->nconns++;
	uv_pipe_init(server->loop, &c->pipe, 0);
	uv_timer_init(server->loop, &c->timer);
	c->pipe.data = c;
	c->timer.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, conn_timeout, s->timeout_ms, 0);
	if (!peer_allowed(&c->pipe, &uid)) {
		s->st.refused++;
		c->out = malloc(128);
		if (!c->out) {
			conn_close(c);
			return;
		}
		snprintf(c->out, 128, "error: permission denied: uid %ld is neither root nor hlb's uid %ld\n",
			 (long)uid, (long)geteuid());
		c->refusal = c->out;
	} else if (s->nconns > CTL_MAX_CONNS) {
		s->st.busy++;
		c->refusal = "error: busy: too many control connections\n";
	} else {
		s->st.conns++;
	}
	if (uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_read) < 0)
		conn_close(c);
}

int ctl_claim(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket %s: path longer than %zu bytes",
			 path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		snprintf(err, errlen, "control socket %s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: exists and is not a socket; left alone",
			 path);
		return -EEXIST;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* Non-blocking: a live server with a full backlog says EAGAIN
	 * rather than keep us waiting. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "control socket %s: %s", path, strerror(e));
		return -e;
	}
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		snprintf(err, errlen, "control socket %s is live: another hlb answers there (stop it, or give this one its own with --socket or 'socket')",
			 path);
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(e));
		return -e;
	}
	/* Nothing listens: a socket left by an hlb that was killed. */
	if (unlink(path) < 0 && errno != ENOENT) {
		e = errno;
		snprintf(err, errlen, "control socket %s: stale, cannot remove: %s",
			 path, strerror(e));
		return -e;
	}
	return 1;
}

int ctl_listen(struct ctl_server *s, uv_loop_t *loop, const char *path,
	       uint32_t timeout_ms, ctl_handler handle, void *arg)
{
	mode_t old;
	int rc;

	memset(s, 0, sizeof(*s));
	s->handle = handle;
	s->arg = arg;
	s->timeout_ms = timeout_ms;
	snprintf(s->path, sizeof(s->path), "%s", path);
	uv_pipe_init(loop, &s->pipe, 0);
	s->pipe.data = s;
	/* bind() makes the file with the umask's mode: 0600 from the
	 * start, never a moment with more. hlb has one thread here. */
	old = umask(0177);
	rc = uv_pipe_bind(&s->pipe, path);
	umask(old);
	if (rc < 0) {
		uv_close((uv_handle_t *)&s->pipe, NULL);
		s->path[0] = 0; /* what is there is not ours to remove */
		return rc;
	}
	if (chmod(path, 0600) < 0)
		rc = uv_translate_sys_error(errno);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->pipe, 8, on_connection);
	if (rc < 0)
		ctl_close(s);
	return rc;
}

void ctl_close(struct ctl_server *s)
{
	accept_forget(&s->refusing);
	uv_close((uv_handle_t *)&s->pipe, NULL);
	if (s->path[0])
		unlink(s->path);
}

size_t ctl_stats_line(const struct ctl_server *s, char *out, size_t cap)
{
	int n = snprintf(out, cap, "control conns %llu refused %llu timeouts %llu busy %llu\n",
			 (unsigned long long)s->st.conns,
			 (unsigned long long)s->st.refused,
			 (unsigned long long)s->st.timeouts,
			 (unsigned long long)s->st.busy);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}
