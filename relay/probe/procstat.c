/* procstat.c: a process's CPU time from /proc/PID/stat, so that `edgeprobe
 * load --cpu-pid` can weigh the server's work per packet and per
 * allocation over exactly the phase it drives (all threads: the process
 * line sums them). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

double probe_cpu_ms(long pid)
{
	char path[64], line[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(line, 1, sizeof line - 1, f);
	fclose(f);
	line[n] = 0;
	/* The name (field 2) may hold spaces and parentheses: fields 14 and
	 * 15 (utime, stime) count from the last ')'. */
	if (!(p = strrchr(line, ')')) ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}
