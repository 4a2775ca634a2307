/* ctl_cmd.h: the control commands (R26), one line each:
 *
 *   list                           services, reals, settings, flows
 *   list --json                    the same as JSON Lines (ctl_json.h)
 *   stats                          the engine's, the flow table's (refusals
 *                                  by reason) and every real's counters
 *   enable|disable|drain SVC REAL  SVC may be '*' (every service that has
 *                                  REAL); REAL is a name or an address
 *
 * The answer is text; its first line is "ok" or "error: why". disable
 * removes the real's flows at once, drain lets them run on, enable undoes
 * both. */
#ifndef HLB_CTL_CMD_H
#define HLB_CTL_CMD_H

#include <stddef.h>

#include "engine.h"

/* Run one command line against the engine; the answer goes into out (cut
 * at cap). 0, or -EINVAL when the answer is an error. */
int ctl_cmd_run(struct engine *e, const char *line, char *out, size_t cap);

#endif
