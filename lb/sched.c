/* sched.c: the table of schedulers, looked up by name; see scheduler.h.
 * A new scheduler is a file with its entry, and a line here. */
#include "scheduler.h"

#include <stdio.h>
#include <string.h>

static const struct lb_scheduler *const schedulers[] = {
	&sched_rr,
	&sched_leastconn,
	&sched_source,
};

#define NSCHED (sizeof(schedulers) / sizeof(schedulers[0]))

const struct lb_scheduler *sched_find(const char *name)
{
	for (size_t i = 0; i < NSCHED; i++)
		if (strcmp(schedulers[i]->name, name) == 0)
			return schedulers[i];
	return NULL;
}

const char *sched_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < NSCHED && used < len; i++) {
		const char *sep = i == 0 ? "" : i + 1 == NSCHED ? " or " : ", ";
		int n = snprintf(buf + used, len - used, "%s%s", sep,
				 schedulers[i]->name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}
