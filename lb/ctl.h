/* ctl.h: the control socket (R26): a unix stream socket, one request per
 * connection: the client writes one line, the server answers with text
 * whose first line is "ok" or "error: why", and closes.
 *
 * Who may use it (issue 11): the socket is made mode 0600 whatever the
 * umask, and the server asks the kernel who connected (SO_PEERCRED):
 * only root or hlb's own uid is served, anyone else gets an error line.
 * A client has timeout_ms from connecting to have sent its line and
 * read the answer, and at most CTL_MAX_CONNS are served at once. hlb
 * never takes over a socket that answers: ctl_claim() looks first.
 *
 * The server (ctl_server.c) knows nothing of what the lines mean: it
 * hands each to the handler it was given at ctl_listen() (hlb passes
 * ctl_cmd_run(), ctl_cmd.h), so the socket sits below the commands and
 * calls up only through that callback. The client (ctl_client.c) is
 * `hlb ctl`, in its own process. */
#ifndef HLB_CTL_H
#define HLB_CTL_H

#include <stddef.h>
#include <uv.h>

#include "service.h"
#include "util/refuse.h"

/* Answer line into out (at most cap bytes, NUL-terminated). */
typedef int (*ctl_handler)(void *arg, const char *line, char *out,
			   size_t cap);

#define CTL_MAX_CONNS 16
/* The per-namespace default's directory (ctl_default_path). */
#define CTL_DEFAULT_DIR "/run/hlb"

struct ctl_stats {
	uint64_t conns;        /* connections served */
	uint64_t refused;      /* peer neither root nor hlb's uid */
	uint64_t timeouts;     /* closed: no line, or answer not read, in time */
	uint64_t busy;         /* closed: CTL_MAX_CONNS already open, or no memory for it */
};

struct ctl_server {
	uv_pipe_t pipe;
	struct refuse_wait refusing; /* util/refuse.h */
	ctl_handler handle;
	void *arg;
	char path[LB_PATH_MAX];
	uint32_t timeout_ms;
	unsigned nconns;       /* open now */
	struct ctl_stats st;
};

/* Where the control socket is when neither the config nor a flag names
 * one: one per network namespace, so labs side by side never share it.
 * CTL_DEFAULT_DIR/NAME.sock in a namespace `ip netns` named NAME (found
 * in /run/netns, as `ip netns identify` does), else
 * CTL_DEFAULT_DIR/net-INODE.sock with the inode of /proc/self/ns/net.
 * hlb and `hlb ctl` in the same namespace find the same path. 0, or
 * -errno when the namespace cannot be read. */
int ctl_default_path(char *out, size_t cap);

/* Before hlb changes anything: is path free? 0 when nothing is there, 1
 * when a stale socket (nothing listens) was there and has been removed.
 * Otherwise one line in err and -EADDRINUSE (a socket that answers:
 * another hlb), -EEXIST (not a socket: left alone) or another -errno. */
int ctl_claim(const char *path, char *err, size_t errlen);

/* Listen on path, mode 0600 whatever the umask. Never replaces what is
 * there (bind fails with UV_EADDRINUSE): call ctl_claim() first. A
 * client gets timeout_ms to ask and read. 0 or a libuv error. */
int ctl_listen(struct ctl_server *s, uv_loop_t *loop, const char *path,
	       uint32_t timeout_ms, ctl_handler handle, void *arg);
void ctl_close(struct ctl_server *s);
/* "control conns N refused N timeouts N busy N" and a newline into
 * out; its length. */
size_t ctl_stats_line(const struct ctl_server *s, char *out, size_t cap);

/* `hlb ctl [--socket PATH | --config FILE] WORDS...`: send the words as
 * one line to PATH, the config's socket, or the namespace's default;
 * print the answer (an error on stderr). The exit code. */
int ctl_client_main(int argc, char **argv);

#endif
