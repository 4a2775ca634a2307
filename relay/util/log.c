/* log.c: "prog: level: message" on stderr; a whole line per write so that
 * worker threads do not interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

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

static void vlog(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof line, "%s: %s: ", name, level_names[lvl]);
	n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to report it */
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_threshold)
		return;
	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

/* Per thread: a window of one second, LOG_BURST lines in it. */
#define LOG_BURST 10
static _Thread_local struct { time_t sec; unsigned lines, dropped; } window;

void log_ratelimited(enum log_level lvl, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	if (lvl > log_threshold)
		return;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (ts.tv_sec != window.sec) {
		if (window.dropped)
			log_msg(lvl, "(%u similar lines suppressed)", window.dropped);
		window.sec = ts.tv_sec;
		window.lines = window.dropped = 0;
	}
	if (window.lines++ >= LOG_BURST) {
		window.dropped++;
		return;
	}
	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}
