/* ctl_json.h: `list --json`, the control interface's versioned, machine
 * readable answer (issue 14; the contract is in scenarios/README.md, "The
 * device contract"). One JSON object per service, one per line (JSON
 * Lines), each carrying "edgelab-lb-ctl": CTL_JSON_VERSION. Fields may be
 * added without a new version; a field renamed, removed or given another
 * meaning or unit bumps it, and readers refuse versions they do not know. */
#ifndef HLB_CTL_JSON_H
#define HLB_CTL_JSON_H

#include <stddef.h>

#include "service.h"

#define CTL_JSON_VERSION 1

/* The services of cfg as JSON Lines into b (at most cap bytes,
 * NUL-terminated); the length written, or cap when it was cut. */
size_t ctl_json_list(const struct lb_config *cfg, char *b, size_t cap);

#endif
