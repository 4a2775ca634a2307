/* log.c: "prog: level: message" on stderr; a whole line per write so that
 * worker threads do not interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

enum log_level log_threshold = LOG_INFO;
static const char *name = "edgelab";
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_name(const char *prog) { name = prog; }

int log_parse_level(const char *s)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[1024];
	int n;
	va_list ap;

	if (lvl > log_threshold)
		return;
	n = snprintf(line, sizeof line, "%s: %s: ", name, level_names[lvl]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to report it */
}
