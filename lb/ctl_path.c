/* ctl_path.c: the control socket's default path, one per network
 * namespace; see ctl.h. */
#include "ctl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The name `ip netns` gave the namespace whose nsfs file is me, as
 * `ip netns identify` finds it; 0 when found. */
static int netns_name(const struct stat *me, char *name, size_t cap)
{
	DIR *d = opendir("/run/netns");
	struct dirent *e;
	char p[300];
	struct stat st;
	int rc = -ENOENT;

	if (!d)
		return -ENOENT;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/run/netns/%s", e->d_name);
		if (stat(p, &st) == 0 && st.st_dev == me->st_dev &&
		    st.st_ino == me->st_ino && strlen(e->d_name) < cap) {
			snprintf(name, cap, "%s", e->d_name);
			rc = 0;
			break;
		}
	}
	closedir(d);
	return rc;
}

int ctl_default_path(char *out, size_t cap)
{
	struct stat me;
	char name[64];
	int n;

	if (stat("/proc/self/ns/net", &me) < 0)
		return -errno;
	if (netns_name(&me, name, sizeof(name)) == 0)
		n = snprintf(out, cap, "%s/%s.sock", CTL_DEFAULT_DIR, name);
	else
		n = snprintf(out, cap, "%s/net-%llu.sock", CTL_DEFAULT_DIR,
			     (unsigned long long)me.st_ino);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
