/* ctl.h: runtime control over a local socket (R26).
 *
 * One request per connection: a line "list", "stats", or
 * "enable|disable|drain SERVICE REAL" (SERVICE may be '*': every service
 * that has REAL; REAL is a name or an address). The answer is text; its
 * first line is "ok" or "error: why". */
#ifndef HLB_CTL_H
#define HLB_CTL_H

#include <stddef.h>
#include <uv.h>

#include "engine.h"

struct ctl_server {
	uv_pipe_t pipe;
	struct engine *e;
	char path[LB_PATH_MAX];
};

/* Run one command against the engine; writes the answer into out.
 * Returns 0, or -EINVAL when the answer is an error. */
int ctl_execute(struct engine *e, const char *line, char *out, size_t cap);

int ctl_listen(struct ctl_server *s, uv_loop_t *loop, const char *path,
	       struct engine *e);
void ctl_close(struct ctl_server *s);

/* `hlb ctl ...`: send argv as one line, print the answer. Exit code. */
int ctl_client_main(int argc, char **argv);

#endif
