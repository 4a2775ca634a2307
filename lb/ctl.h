/* ctl.h: the control socket (R26): a unix stream socket, one request per
 * connection: the client writes one line, the server answers with text
 * whose first line is "ok" or "error: why", and closes.
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

/* Answer line into out (at most cap bytes, NUL-terminated). */
typedef int (*ctl_handler)(void *arg, const char *line, char *out,
			   size_t cap);

struct ctl_server {
	uv_pipe_t pipe;
	ctl_handler handle;
	void *arg;
	char path[LB_PATH_MAX];
};

/* Listen on path (a stale socket there is removed first). 0 or a libuv
 * error. */
int ctl_listen(struct ctl_server *s, uv_loop_t *loop, const char *path,
	       ctl_handler handle, void *arg);
void ctl_close(struct ctl_server *s);

/* `hlb ctl [--socket PATH] WORDS...`: send the words as one line, print
 * the answer (an error on stderr). The exit code. */
int ctl_client_main(int argc, char **argv);

#endif
